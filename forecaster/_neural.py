"""The neural half of :class:`~forecaster.forecaster.Forecaster`: windows in, Keras model out.

Kept apart so that ``forecaster.forecaster`` (and with it baselines) never imports Keras.
One global model is trained on the windows of every series, each series scaled with
the statistics of its own training rows.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from forecaster import backend, models, scaling, training
from forecaster.errors import DataError
from forecaster.windows import sequence_targets, stack, windows


def settings_of(f) -> training.TrainSettings:
    """The training settings of a Forecaster as a frozen dataclass."""
    return training.TrainSettings(epochs=f.epochs, batch_size=f.batch_size,
                                  learning_rate=f.learning_rate, loss=f.loss,
                                  patience=f.patience, clipnorm=f.clipnorm, seed=f.seed,
                                  lr_patience=f.lr_patience)


def fit(f, panel) -> None:
    """Scale per series, window, build and train; set the neural fitted attributes on ``f``."""
    f.backend_ = backend.use(f.backend)
    settings = settings_of(f)
    training.seed_everything(settings.seed)
    config = models.make_config(f.model, f.params)
    f.config_ = dataclasses.asdict(config)
    f.scalers_ = [scaling.fit(f.scaler, s.values[sp.train[0]:sp.train[1]])
                  for s, sp in zip(panel.series, f.splits_)]
    scaled = [sc.transform(s.values) for sc, s in zip(f.scalers_, panel.series)]
    model = models.module(f.model).build(config, lookback=f.lookback_,
                                         n_features=panel.n_features, horizon=f.horizon_)
    sequence = len(model.output_shape) == 3
    (x, y), (x_val, y_val) = _shared_sets(f, panel, scaled, sequence)
    if len(x) == 0:
        raise DataError(f"No training windows in {panel.source}: lower --lookback "
                        f"({f.lookback_}) or --horizon ({f.horizon_}), or --val-size.")
    f.history_ = training.train(model, x, y, x_val, y_val, settings, progress=f.progress)
    f.model_ = model
    f.n_params_ = int(model.count_params())
    f.n_windows_ = int(len(x))


# The last few windowed training sets, so that the models of one compare fold share them.
_SETS: dict[tuple, tuple] = {}
_SETS_KEPT = 2


def _shared_sets(f, panel, scaled, sequence):
    """Training and validation windows, computed once per (panel, window settings)."""
    key = (id(panel), f.lookback_, f.horizon_, f.stride, f.scaler, f.norm, f.season_, sequence,
           tuple((sp.train, sp.val) for sp in f.splits_))
    hit = _SETS.get(key)
    if hit is not None and hit[0] is panel:  # same object, not a new one at a reused id
        return hit[1]
    sets = (_training_set(f, scaled, [sp.train for sp in f.splits_], f.stride, sequence),
            _training_set(f, scaled, [sp.val for sp in f.splits_], 1, sequence))
    while len(_SETS) >= _SETS_KEPT:
        _SETS.pop(next(iter(_SETS)))
    _SETS[key] = (panel, sets)
    return sets


def _training_set(f, scaled, ranges, stride, sequence):
    """Stacked ``(x, y)`` windows with targets inside ``ranges``, normalised as configured."""
    parts = [windows(v, lookback=f.lookback_, horizon=f.horizon_, stride=stride, targets=r)
             for v, r in zip(scaled, ranges)]
    x, y, _ = stack(parts)
    if sequence:
        seq = [sequence_targets(v[:, 0], lookback=f.lookback_, horizon=f.horizon_,
                                stride=stride, targets=r) for v, r in zip(scaled, ranges)]
        y = np.concatenate(seq).astype(np.float32)  # (n_windows, lookback, horizon)
    if f.norm != "series" and len(x):
        inputs, targets = scaling.window_offsets(x, norm=f.norm, horizon=f.horizon_,
                                                 season=f.season_)
        if sequence:
            targets = scaling.sequence_offsets(x, norm=f.norm, horizon=f.horizon_,
                                               season=f.season_)
        x = scaling.normalize_windows(x, inputs)
        y = y - targets
    return x, y


def forecast_at(f, panel, origins: list[np.ndarray]) -> list[np.ndarray]:
    """Batched forecasts from every origin of every series, mapped back to data units."""
    xs = []
    for s, o in zip(panel.series, origins):
        scaled = f.scalers_[_index(f, s.id)].transform(s.values)
        view = sliding_window_view(scaled, f.lookback_, axis=0)  # (n - L + 1, f, L)
        xs.append(view[np.asarray(o, dtype=np.int64) - f.lookback_].transpose(0, 2, 1))
    x = np.concatenate(xs).astype(np.float32)  # (n_origins, lookback, n_features)
    if len(x) == 0:
        return [np.empty((0, f.horizon_)) for _ in origins]
    inputs, targets = scaling.window_offsets(x, norm=f.norm, horizon=f.horizon_,
                                             season=f.season_)
    out = _predict(f.model_, scaling.normalize_windows(x, inputs))
    if out.ndim == 3:
        out = out[:, -1, :]  # (n_origins, horizon): the last step's forecast
    out = out + targets
    result, at = [], 0
    for s, o in zip(panel.series, origins):
        block = out[at:at + len(o)]
        result.append(f.scalers_[_index(f, s.id)].inverse_target(block))
        at += len(o)
    return result


def _predict(model, x: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Direct (eager) model calls in chunks: no tf.function retracing for each new batch size."""
    import keras

    parts = [keras.ops.convert_to_numpy(model(x[i:i + chunk], training=False))
             for i in range(0, len(x), chunk)]
    return np.concatenate(parts).astype(float)


def _index(f, series_id: str) -> int:
    return f.ids_.index(series_id)
