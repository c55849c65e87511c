"""Stateful recurrent models, trained with truncated backpropagation through time (TBPTT).

``--param stateful=true --param bptt=K`` (simple_rnn, jordan, lstm, gru) replaces the
windows of :mod:`forecaster._neural` with streams. The training part of each series is cut
into consecutive chunks of ``K`` steps (anchored at its end, as windows are). A batch
holds ``B = min(batch_size, number of series)`` *lanes*, each an independent, contiguous
stream: lane ``l`` of batch ``j + 1`` continues lane ``l`` of batch ``j``, and the state
the recurrent layers reach at the end of a chunk is the initial state of the next one.
Gradients stop at the chunk boundary (the carried state is a constant), so the error of
each step is propagated back at most ``K`` steps, while the state itself carries what
happened long before. Each series is one stream: the series are dealt into groups of
``B`` (longest first); the state is reset to zero at the start of each group, so at each
epoch; the order of the groups is shuffled each epoch (seeded).

Targets: ``head="sequence"`` scores every step of a chunk against the ``horizon`` values
after it; ``head="last"`` scores only the chunk's last step (many-to-one per chunk).
``--norm`` acts on the targets only (each step's last value, or last season, is
subtracted); the inputs are the series scaled by its training-rows scaler, since there is
no window whose last value could be subtracted. ``--stride`` does not apply.

Forecasts: the state is warmed over the whole history. The saved model is the stateless
twin of the trained one (the same weights, any sequence length, one forecast per step),
so one pass over a series gives the forecasts from every origin at once: the output after
row ``t - 1`` is the forecast from origin ``t``, which sees rows ``[0, t)`` only. That is
how validation loss, conformal calibration, test scores and ``predict`` are computed.

Keras's own ``stateful=True`` keeps the state in untracked variables, which its JAX
trainer does not carry from one train step to the next (the state stays zero); here the
state lives in tracked, non-trainable variables of :class:`_Carry`, which every backend
carries.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from forecaster import models, scaling, training
from forecaster.errors import ConfigError, DataError

#: Rows of one forecast pass (series x steps); longer panels are split into several passes.
PASS_ROWS = 1_000_000
#: Forecast passes run on lengths rounded up to a multiple of this (fewer compilations).
BUCKET = 128


def fit(panel, splits, scalers: list, windowing, *, name: str, config,
        settings: training.TrainSettings, progress: bool = False):
    """Train model ``name`` statefully on the training part of every series (see the module doc).

    Same arguments and result as :func:`forecaster._neural.fit`; ``Trained.model`` is the
    stateless forecast model and ``Trained.n_windows`` the number of training chunks.

    Raises:
        ConfigError: Inputs known ahead (``--calendar``, ``--future-covariates``).
        DataError: No series has a whole chunk of training rows.
    """
    from forecaster._neural import Trained

    if windowing.calendar or windowing.n_known:
        raise ConfigError("stateful=true reads each series as one stream of its observed rows and "
                          "does not take inputs known ahead (--calendar, --future-covariates); "
                          "leave them out or use the windowed model (stateful=false).")
    training.seed_everything(settings.seed)
    k = config.bptt or windowing.lookback
    scaled = [sc.transform(s.values).astype(np.float32) for sc, s in zip(scalers, panel.series)]
    offsets = [_offsets(v, windowing) for v in scaled]
    streams = [_chunks(v, off, sp.train, k, windowing.horizon, config.head)
               for v, off, sp in zip(scaled, offsets, splits)]
    n_chunks = sum(len(x) for x, _ in streams)
    if n_chunks == 0:
        raise DataError(f"No training chunks in {panel.source}: stateful training needs bptt "
                        f"({k}) + horizon ({windowing.horizon}) training rows in a series; "
                        "lower --param bptt or --horizon, or --val-size.")
    model = models.module(name).build(config, lookback=None, n_features=panel.n_features,
                                      horizon=windowing.horizon, every_step=True)
    lanes = min(settings.batch_size, sum(len(x) > 0 for x, _ in streams))
    trainer = _training_model(model, config, lanes, k)
    val = _validation_set(scaled, offsets, splits, windowing.horizon)
    history = _train(trainer, model, streams, val, settings, progress)
    return Trained(model, history, n_chunks)


def forecast_at(model, scalers: list, panel, origins: list[np.ndarray], w,
                future: list | None = None) -> list[np.ndarray]:
    """Forecasts from every origin, the state warmed over all rows before it, in data units.

    Same arguments and result as :func:`forecaster._neural.forecast_at` (a stateful model
    has no inputs known ahead, so ``future`` is unused); each origin lies in
    ``[1, len(series)]``.
    """
    scaled = [sc.transform(s.values).astype(np.float32) for sc, s in zip(scalers, panel.series)]
    stops = [int(np.max(o)) if len(o) else 0 for o in origins]
    for s, o in zip(panel.series, origins):
        if len(o) and (np.min(o) < 1 or np.max(o) > len(s.values)):
            raise ValueError(f"origins of series {s.id!r} must lie in [1, {len(s.values)}]")
    outputs = _every_step(model, scaled, stops)
    result = []
    for v, sc, o, out in zip(scaled, scalers, origins, outputs):
        at = np.asarray(o, dtype=np.int64) - 1  # the output after row t - 1 forecasts from t
        result.append(sc.inverse_target(out[at] + _offsets(v, w)[at]) if len(at)
                      else np.empty((0, w.horizon)))
    return result


# --------------------------------------------------------------------------- data


def _offsets(values: np.ndarray, w) -> np.ndarray:
    """The ``--norm`` offset of the forecast after each row, ``(n, horizon)``: every row's window is
    the whole history before it."""
    return scaling.sequence_offsets(values[None], norm=w.norm, horizon=w.horizon,
                                    season=w.season)[0].astype(np.float32)


def _future(values: np.ndarray, horizon: int) -> np.ndarray:
    """Row ``p`` holds the ``horizon`` target values after row ``p``: ``(n - horizon, horizon)``."""
    return sliding_window_view(values[1:, 0], horizon)  # (n - horizon, horizon)


def _chunks(values, offsets, train: tuple[int, int], k: int, horizon: int, head: str):
    """One series' training stream cut into chunks: inputs ``(c, k, f)``, targets per ``head``.

    The steps whose targets lie inside ``train`` are used, the oldest dropped to make
    whole chunks; a sequence head has targets ``(c, k, horizon)``, a last head ``(c, horizon)``.
    """
    first, end = train[0], train[1] - horizon  # the last step's targets end at train[1]
    c = max(end - first, 0) // k
    start = end - c * k
    x = values[start:end].reshape(c, k, values.shape[1])  # (chunks, k, n_features)
    y = _future(values, horizon)[start:end] - offsets[start:end]  # (c * k, horizon)
    y = y.reshape(c, k, horizon)  # (chunks, k, horizon)
    return x, (y if head == "sequence" else y[:, -1])


def _validation_set(scaled, offsets, splits, horizon: int):
    """Per series: its values, the steps whose origin and targets lie in the validation part,
    and their targets ``(n_steps, horizon)``."""
    val = []
    for v, off, sp in zip(scaled, offsets, splits):
        steps = np.arange(max(sp.val[0], 1) - 1, sp.val[1] - horizon)  # origin t = step + 1
        val.append((v, steps, _future(v, horizon)[steps] - off[steps]))
    return val


def _groups(lengths: list[int], lanes: int, rng) -> list[list[int]]:
    """Series (with chunks) dealt longest first into groups of ``lanes``, in a shuffled order."""
    order = [i for i in np.argsort([-n for n in lengths], kind="stable") if lengths[i] > 0]
    groups = [order[i:i + lanes] for i in range(0, len(order), lanes)]
    return [groups[i] for i in rng.permutation(len(groups))]


def _group_set(streams, group: list[int], lanes: int):
    """One group's batches stacked for ``fit(batch_size=lanes, shuffle=False)``.

    Batch ``j`` holds chunk ``j`` of each series of the group, one lane each; lanes past a
    series' end (or past the group) are zeros with weight 0. Weights are scaled so that
    the loss is the mean over the real targets.

    Returns:
        ``x (n_batches * lanes, k, f)``, ``y``, the weights ``(n_batches * lanes[, k])`` and
        the number of real targets.
    """
    first_x, first_y = streams[group[0]]
    n = len(first_x)  # the group's longest series sets its number of batches
    x = np.zeros((n, lanes, *first_x.shape[1:]), np.float32)  # (batches, lanes, k, f)
    y = np.zeros((n, lanes, *first_y.shape[1:]), np.float32)  # (batches, lanes, [k,] horizon)
    mask = np.zeros(y.shape[:-1], np.float32)  # (batches, lanes[, k]): 1 where a target is real
    for lane, i in enumerate(group):
        c = len(streams[i][0])
        x[:c, lane], y[:c, lane], mask[:c, lane] = streams[i][0], streams[i][1], 1.0
    real = float(mask.sum())
    flat = (n * lanes,)  # batch j = rows [j * lanes, (j + 1) * lanes)
    return (x.reshape(flat + x.shape[2:]), y.reshape(flat + y.shape[2:]),
            (mask * (mask.size / real)).reshape(flat + mask.shape[2:]), real)


# ------------------------------------------------------------------------- models


def _carry_class():
    import keras
    from keras import ops

    class _Carry(keras.layers.Layer):
        """Runs ``rnn`` from a state kept in tracked variables, and stores its final state there."""

        def __init__(self, rnn, **kwargs):
            super().__init__(**kwargs)
            self.rnn = rnn

        def build(self, input_shape):
            sizes = self.rnn.cell.state_size
            sizes = list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]
            self.carried = [self.add_weight(shape=(input_shape[0], d), initializer="zeros",
                                            trainable=False, name=f"state_{j}")
                            for j, d in enumerate(sizes)]  # (lanes, state size) each

        def call(self, x, training=False):
            out, *states = self.rnn(x, initial_state=[v.value for v in self.carried],
                                    training=training)
            for variable, state in zip(self.carried, states):
                variable.assign(state)
            return out

        def reset(self):
            for variable in self.carried:
                variable.assign(ops.zeros_like(variable.value))

    return _Carry


def _training_model(model, config, lanes: int, k: int):
    """The training twin of ``model``: the same layers and weights, batches of ``lanes`` chunks
    of ``k`` steps, each recurrent layer starting from the state the previous batch left."""
    import keras

    carry = _carry_class()
    recurrent = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]
    inputs = keras.Input(batch_shape=(lanes, k, model.input_shape[-1]), name="chunk")
    x = inputs  # (lanes, k, n_features)
    for layer in model.layers[1:]:
        if isinstance(layer, keras.layers.RNN):
            top = layer is recurrent[-1]
            rnn = keras.layers.RNN(layer.cell, return_sequences=not top or config.head == "sequence",
                                   return_state=True, unroll=config.unroll,
                                   name=f"{layer.name}_chunk")
            layer = carry(rnn, name=f"{layer.name}_carried")
        x = layer(x)  # (lanes, k, width), or (lanes, width) after a "last" top layer
    return keras.Model(inputs, x, name=f"{model.name}_stateful")


# ----------------------------------------------------------------------- training


def _train(trainer, model, streams, val, settings, progress: bool) -> dict:
    """Epochs of stateful training, with the callbacks (early stopping, schedule) of windowed training."""
    import keras

    training.compile_model(trainer, settings)
    carries = [layer for layer in trainer.layers if hasattr(layer, "carried")]
    has_val = sum(len(steps) for _, steps, _ in val) > 0
    monitor = "val_loss" if has_val else "loss"
    timer = training._EpochTimer()
    hooks = keras.callbacks.CallbackList([timer.callback(), *training.callbacks(
        settings, monitor, progress)], model=trainer)
    rng, logs = np.random.default_rng(settings.seed), {}
    lanes, limit = trainer.input_shape[0], training.deadline_callback()
    trainer.stop_training = False
    start = time.perf_counter()
    hooks.on_train_begin()
    for epoch in range(settings.epochs):
        hooks.on_epoch_begin(epoch)
        epoch_logs = {"loss": _epoch(trainer, carries, streams, lanes, rng, limit)}
        if has_val:
            epoch_logs["val_loss"] = _validation_loss(model, val, settings.loss)
        hooks.on_epoch_end(epoch, epoch_logs)
        for key, value in epoch_logs.items():
            logs.setdefault(key, []).append(value)
        if trainer.stop_training or (limit is not None and limit.hit):
            break
    hooks.on_train_end()
    return training.history(logs, settings, monitor, time.perf_counter() - start, timer.seconds,
                            stopped=limit is not None and limit.hit)


def _epoch(trainer, carries, streams, lanes: int, rng, limit=None) -> float:
    """One pass over every stream, group by group; the mean loss over the real targets.

    ``limit``: :func:`forecaster.training.deadline_callback`'s callback; once it is hit the
    pass ends after the current batch.
    """
    total, count = 0.0, 0.0
    for group in _groups([len(x) for x, _ in streams], lanes, rng):
        for layer in carries:
            layer.reset()  # a new group of streams starts from y_0 = h_0 = 0
        x, y, weights, real = _group_set(streams, group, lanes)
        fitted = trainer.fit(x, y, sample_weight=weights, batch_size=lanes, epochs=1,
                             shuffle=False, verbose=0,  # in order: the state flows batch to batch
                             callbacks=[limit] if limit is not None else None)
        total += fitted.history["loss"][-1] * real
        count += real
        if limit is not None and limit.hit:
            break
    return total / count


def _validation_loss(model, val, loss: str) -> float:
    """The training loss of the forecasts from every validation origin (state warmed over the history)."""
    import keras

    outputs = _every_step(model, [v for v, _, _ in val],
                          [int(steps[-1]) + 1 if len(steps) else 0 for _, steps, _ in val])
    pred = np.concatenate([out[steps] for out, (_, steps, _) in zip(outputs, val)])
    true = np.concatenate([y for _, _, y in val])
    return float(np.mean(keras.ops.convert_to_numpy(keras.losses.get(loss)(true, pred))))


def _every_step(model, scaled: list[np.ndarray], stops: list[int]) -> list[np.ndarray]:
    """The model's output after every row ``[0, stop)`` of each series, ``(stop, horizon)`` each.

    Series are right-padded with zeros to a common length, rounded up to a multiple of
    :data:`BUCKET` so that the passes of one fit (validation each epoch, calibration, test)
    reuse one compiled function, and run as one batch (a few, for long panels). The
    recurrence is causal, so the padding never reaches a real row's output.
    """
    outputs: list = [None] * len(scaled)
    order = [i for i in np.argsort(stops, kind="stable") if stops[i] > 0]
    length = -(-max(stops, default=0) // BUCKET) * BUCKET
    per_pass = max(1, PASS_ROWS // max(length, 1))
    for part in (order[i:i + per_pass] for i in range(0, len(order), per_pass)):
        x = np.zeros((len(part), length, scaled[part[0]].shape[1]), np.float32)  # (series, steps, f)
        for row, i in enumerate(part):
            x[row, :stops[i]] = scaled[i][:stops[i]]
        out = model.predict(x, batch_size=len(part), verbose=0)  # (series, steps, horizon)
        for row, i in enumerate(part):
            outputs[i] = out[row, :stops[i]]
    horizon = model.output_shape[-1]
    return [o if o is not None else np.empty((0, horizon), np.float32) for o in outputs]
