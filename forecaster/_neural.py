"""The neural half of :class:`~forecaster.forecaster.Forecaster`: windows in, Keras model out.

Kept apart so that ``forecaster.forecaster`` (and with it baselines) never imports Keras.
One global model is trained on the windows of every series, each series scaled with
the statistics of its own training rows. These functions take and return plain values;
the Forecaster keeps what they return.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from forecaster import models, scaling, training
from forecaster.errors import DataError
from forecaster.windows import sequence_targets, stack, windows


@dataclass(frozen=True)
class Windowing:
    """How windows are cut and normalised: the resolved window settings of a Forecaster."""

    lookback: int
    horizon: int
    stride: int
    norm: str
    season: int


@dataclass(frozen=True)
class Trained:
    """What :func:`fit` returns."""

    model: object
    scalers: list
    history: dict
    n_windows: int


def fit(panel, splits, windowing: Windowing, *, name: str, config, scaler: str,
        settings: training.TrainSettings, progress: bool = False) -> Trained:
    """Scale each series on its training rows, window, build model ``name`` and train it."""
    training.seed_everything(settings.seed)
    scalers = [scaling.fit(scaler, s.values[sp.train[0]:sp.train[1]])
               for s, sp in zip(panel.series, splits)]
    scaled = [sc.transform(s.values) for sc, s in zip(scalers, panel.series)]
    model = models.module(name).build(config, lookback=windowing.lookback,
                                      n_features=panel.n_features, horizon=windowing.horizon)
    sequence = len(model.output_shape) == 3
    (x, y), (x_val, y_val) = _shared_sets(panel, splits, windowing, scaler, scaled, sequence)
    if len(x) == 0:
        raise DataError(f"No training windows in {panel.source}: lower --lookback "
                        f"({windowing.lookback}) or --horizon ({windowing.horizon}), or --val-size.")
    history = training.train(model, x, y, x_val, y_val, settings, progress=progress)
    return Trained(model, scalers, history, int(len(x)))


# The last few windowed training sets, so that the models of one compare fold share them.
_SETS: dict[tuple, tuple] = {}
_SETS_KEPT = 2


def _shared_sets(panel, splits, windowing, scaler, scaled, sequence):
    """Training and validation windows, computed once per (panel, window settings)."""
    key = (id(panel), windowing, scaler, sequence, tuple((sp.train, sp.val) for sp in splits))
    hit = _SETS.get(key)
    if hit is not None and hit[0] is panel:  # same object, not a new one at a reused id
        return hit[1]
    sets = (_training_set(windowing, scaled, [sp.train for sp in splits], windowing.stride, sequence),
            _training_set(windowing, scaled, [sp.val for sp in splits], 1, sequence))
    while len(_SETS) >= _SETS_KEPT:
        _SETS.pop(next(iter(_SETS)))
    _SETS[key] = (panel, sets)
    return sets


def _training_set(w: Windowing, scaled, ranges, stride, sequence):
    """Stacked ``(x, y)`` windows with targets inside ``ranges``, normalised as configured."""
    parts = [windows(v, lookback=w.lookback, horizon=w.horizon, stride=stride, targets=r)
             for v, r in zip(scaled, ranges)]
    x, y, _ = stack(parts)
    if sequence:
        seq = [sequence_targets(v[:, 0], lookback=w.lookback, horizon=w.horizon,
                                stride=stride, targets=r) for v, r in zip(scaled, ranges)]
        y = np.concatenate(seq).astype(np.float32)  # (n_windows, lookback, horizon)
    if w.norm != "series" and len(x):
        inputs, targets = scaling.window_offsets(x, norm=w.norm, horizon=w.horizon,
                                                 season=w.season)
        if sequence:
            targets = scaling.sequence_offsets(x, norm=w.norm, horizon=w.horizon,
                                               season=w.season)
        x = scaling.normalize_windows(x, inputs)
        y = y - targets
    return x, y


def forecast_at(model, scalers: list, panel, origins: list[np.ndarray],
                w: Windowing) -> list[np.ndarray]:
    """Batched forecasts from every origin of every series, mapped back to data units.

    ``scalers[i]`` is the scaler of ``panel.series[i]``.
    """
    xs = []
    for s, sc, o in zip(panel.series, scalers, origins):
        view = sliding_window_view(sc.transform(s.values), w.lookback, axis=0)  # (n - L + 1, f, L)
        xs.append(view[np.asarray(o, dtype=np.int64) - w.lookback].transpose(0, 2, 1))
    x = np.concatenate(xs).astype(np.float32)  # (n_origins, lookback, n_features)
    if len(x) == 0:
        return [np.empty((0, w.horizon)) for _ in origins]
    inputs, targets = scaling.window_offsets(x, norm=w.norm, horizon=w.horizon, season=w.season)
    out = _predict(model, scaling.normalize_windows(x, inputs))
    if out.ndim == 3:
        out = out[:, -1, :]  # (n_origins, horizon): the last step's forecast
    out = out + targets
    result, at = [], 0
    for sc, o in zip(scalers, origins):
        result.append(sc.inverse_target(out[at:at + len(o)]))
        at += len(o)
    return result


def _predict(model, x: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Direct (eager) model calls in chunks: no tf.function retracing for each new batch size."""
    import keras

    parts = [keras.ops.convert_to_numpy(model(x[i:i + chunk], training=False))
             for i in range(0, len(x), chunk)]
    return np.concatenate(parts).astype(float)
