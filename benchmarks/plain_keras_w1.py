"""W1 in plain Keras, the reference that forecaster's overhead is measured against.

ETTh1 OT, training rows [0, 8640) standardised with their own mean and population std,
lookback 96, horizon 24, stride-1 windows built with ``sliding_window_view``;
``keras.Input -> LSTM(64) -> Dense(24)``, Adam(1e-3, clipnorm=1.0), MSE, batch 32,
5 epochs, ``shuffle=True``, seed 0. Test: every stride-1 window with targets in
[11520, 14400), MSE/MAE on the standardised scale.

Run one measurement per fresh process (the backend comes from ``KERAS_BACKEND``); the
last stdout line is the JSON result::

    KERAS_BACKEND=jax python benchmarks/plain_keras_w1.py

:func:`w1_arrays`, :class:`EpochTimer`-style timing and :func:`evaluate` are reused by
``engine.py``. Importing this module does not import Keras.
"""

from __future__ import annotations

import json
import os
import statistics
import time

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

import _common

LOOKBACK, HORIZON, UNITS = 96, 24, 64
TRAIN_END, TEST_START, TEST_END = 8640, 11520, 14400
EPOCHS, BATCH, LR, CLIPNORM, SEED = 5, 32, 1e-3, 1.0, 0


def w1_arrays() -> dict:
    """Standardised OT and the W1 training/test windows as float32 arrays."""
    ot = pd.read_csv(_common.data_dir() / "etth1" / "ETTh1.csv", usecols=["OT"])["OT"]
    values = ot.to_numpy(dtype=np.float64)[:TEST_END]
    train = values[:TRAIN_END]
    z = (values - train.mean()) / train.std()  # population std, training rows only
    both = sliding_window_view(z[:TRAIN_END], LOOKBACK + HORIZON)  # (8521, 120)
    test = sliding_window_view(z[TEST_START - LOOKBACK:], LOOKBACK + HORIZON)  # (2857, 120)
    as_x = lambda w: w[:, :LOOKBACK, None].astype(np.float32)  # noqa: E731  (n, lookback, 1)
    as_y = lambda w: w[:, LOOKBACK:].astype(np.float32)  # noqa: E731  (n, horizon)
    return {"x": as_x(both), "y": as_y(both), "x_test": as_x(test), "y_test": as_y(test)}


def epoch_timer():
    """A Keras callback recording the wall seconds of every epoch in ``.seconds``."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        seconds: list[float] = []

        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    return EpochTimer()


def evaluate(model, x: np.ndarray, y: np.ndarray) -> dict:
    """Test MSE and MAE of direct model calls (standardised scale)."""
    import keras

    pred = np.concatenate([keras.ops.convert_to_numpy(model(x[i:i + 4096], training=False))
                           for i in range(0, len(x), 4096)])
    return {"mse": float(np.mean((pred - y) ** 2)), "mae": float(np.mean(np.abs(pred - y)))}


def speed(seconds: list[float], n_windows: int) -> dict:
    """Median seconds of epochs 2..N (the first one traces/compiles) and windows per second."""
    timed = seconds[1:] if len(seconds) > 1 else seconds
    median = statistics.median(timed)
    return {"epoch_seconds": [round(s, 3) for s in seconds], "s_per_epoch": median,
            "spread_pct": 100 * (max(timed) - min(timed)) / median,
            "windows_per_s": n_windows / median, "n_windows": int(n_windows)}


def build_plain(lookback: int = LOOKBACK, horizon: int = HORIZON, units: int = UNITS):
    """``Input -> LSTM(units) -> Dense(horizon)``."""
    import keras

    inputs = keras.Input(shape=(lookback, 1))
    x = keras.layers.LSTM(units)(inputs)  # (batch, units)
    return keras.Model(inputs, keras.layers.Dense(horizon)(x))  # (batch, horizon)


def main() -> None:
    args = _common.parser("plain Keras W1 (one measurement)")
    args.add_argument("--epochs", type=int, default=EPOCHS)
    epochs = args.parse_args().epochs
    import keras

    data = w1_arrays()
    keras.utils.set_random_seed(SEED)
    model = build_plain()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR, clipnorm=CLIPNORM), loss="mse")
    timer = epoch_timer()
    start = time.perf_counter()
    model.fit(data["x"], data["y"], batch_size=BATCH, epochs=epochs, shuffle=True,
              callbacks=[timer], verbose=0)
    fit_s = time.perf_counter() - start
    out = {"impl": "plain keras", "backend": keras.backend.backend(), "fit_s": fit_s,
           **speed(timer.seconds, len(data["x"])), **evaluate(model, data["x_test"], data["y_test"]),
           "n_test_windows": int(len(data["x_test"])), "n_params": int(model.count_params()),
           "peak_rss_mib": _common.peak_rss_mib(),
           "threads_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "XLA_FLAGS")}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
