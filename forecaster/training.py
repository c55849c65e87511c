"""Compile and fit any registered Keras model, once for every model.

Adam with gradient clipping (on by default: exploding gradients are a known failure of
recurrent nets), early stopping on the validation windows with the best weights
restored, a NaN loss turned into a clear :class:`TrainingError`, seeds for repeatable
runs, and a rich progress bar on stderr.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import random
import secrets
import sys
import time
from dataclasses import dataclass, fields

import numpy as np

from forecaster import backend
from forecaster.errors import ConfigError, TrainingError
from forecaster.params import Params, check_int

LOSSES: tuple[str, ...] = ("mse", "mae", "huber")
#: The largest seed NumPy (and so Keras) accepts; -1 asks for a random one.
MAX_SEED = 2**32 - 1
RANDOM_SEED = -1
#: When set (epoch seconds), :func:`train` stops after the batch that reaches it, keeping
#: the best weights so far: compare's ``--time-limit``, a property of the comparison,
#: not of a model (see :func:`deadline`).
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)
LR_FACTOR = 0.5  # --lr-patience: the learning rate is halved on each plateau ...
MIN_LR_RATIO = 1e-3  # ... down to a thousandth of --learning-rate


@dataclass(frozen=True)
class TrainSettings:
    """Everything training needs besides the model and the data; plain data, JSON-able.

    The fields are :class:`~forecaster.params.Params` settings of the same names, with
    their defaults there: build one with :meth:`from_params`.

    >>> TrainSettings.from_params({"epochs": 5}).epochs, TrainSettings.from_params({}).loss
    (5, 'mae')
    """

    epochs: int
    batch_size: int
    learning_rate: float
    loss: str
    patience: int
    clipnorm: float | None
    seed: int
    lr_patience: int

    @classmethod
    def from_params(cls, params: dict) -> TrainSettings:
        """The training settings among ``params`` (a Forecaster's settings), defaults for the rest."""
        merged = {**Params.defaults(), **params}
        return cls(**{f.name: merged[f.name] for f in fields(cls)})

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ConfigError(f"Unknown loss '{self.loss}'. Use one of: {', '.join(LOSSES)}.")
        for name, minimum in (("epochs", 1), ("batch_size", 1), ("patience", 0), ("lr_patience", 0)):
            check_int(name, getattr(self, name), minimum)
        check_seed(self.seed)
        if not _is_number(self.learning_rate) or not self.learning_rate > 0:
            raise ConfigError(f"--learning-rate must be > 0, got {self.learning_rate}.")
        if self.clipnorm is not None and (not _is_number(self.clipnorm) or not self.clipnorm > 0):
            raise ConfigError(f"clipnorm must be > 0 or None, got {self.clipnorm}.")


def check_seed(seed) -> int:
    """Validate a seed: 0 to :data:`MAX_SEED`, or -1 for a random one.

    >>> check_seed(2**32)
    Traceback (most recent call last):
    ...
    forecaster.errors.ConfigError: --seed must be an integer between 0 and 4294967295, or -1 for a random seed (reported and recorded), got 4294967296.
    """
    whole = isinstance(seed, int) or type(seed).__name__.startswith(("int", "uint"))  # NumPy ints
    if isinstance(seed, bool) or not whole or not (seed == RANDOM_SEED or 0 <= seed <= MAX_SEED):
        raise ConfigError(f"--seed must be an integer between 0 and {MAX_SEED}, or -1 for a random seed "
                          f"(reported and recorded), got {seed!r}.")
    return int(seed)


def resolve_seed(seed: int) -> int:
    """``seed``, or a random one in ``[0, MAX_SEED]`` for -1 (to be reported so the run can be repeated).

    >>> resolve_seed(7), 0 <= resolve_seed(-1) <= MAX_SEED
    (7, True)
    """
    return secrets.randbelow(MAX_SEED + 1) if check_seed(seed) == RANDOM_SEED else int(seed)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend; make TensorFlow ops deterministic."""
    backend.use()
    import keras

    keras.utils.set_random_seed(seed)
    _keras_python_random().seed(seed)  # the generator of :func:`private_seeds`, if one is set
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


@contextlib.contextmanager
def private_seeds():
    """Within this block, Keras draws default seeds from its own generator, not Python's global one.

    Keras gives every layer without an explicit seed (initializers, dropout) one drawn
    from Python's global ``random``, which other threads of the process draw from too: on a
    Dask worker, the event loop sizes data with ``random.sample`` while a job builds its
    model, and the same job's initial weights then differed from run to run. Here Keras
    gets a generator of its own, which :func:`seed_everything` seeds, so that every layer's
    seed is a function of the job's seed alone. In a single thread the draws are the same
    as from the global generator, so results do not change.
    """
    backend.use()
    from keras.src.random import seed_generator

    saved = seed_generator.python_random
    seed_generator.python_random = random.Random()
    try:
        yield
    finally:
        seed_generator.python_random = saved


def _keras_python_random():
    """The Python generator Keras draws default seeds from (``random`` unless :func:`private_seeds`)."""
    from keras.src.random import seed_generator

    return seed_generator.python_random


def compile_model(model, settings: TrainSettings) -> None:
    """Adam + the chosen loss, with gradient clipping."""
    import keras

    losses = {"mse": "mse", "mae": "mae", "huber": keras.losses.Huber()}
    optimizer = keras.optimizers.Adam(learning_rate=settings.learning_rate,
                                      clipnorm=settings.clipnorm)
    model.compile(optimizer=optimizer, loss=losses[settings.loss])


def train(model, data, settings: TrainSettings, *, validation=None, progress: bool = False) -> dict:
    """Fit a compiled-or-not model with early stopping; return its loss history.

    Args:
        model: An uncompiled Keras model from a registry ``build``.
        data: The training batches: a ``keras.utils.PyDataset`` such as
            :class:`forecaster._stream.Batches`, which owns their size and order (Keras
            does not reshuffle them).
        settings: Optimiser, loss, epochs, patience, learning-rate schedule, seed.
        validation: Validation batches (None or empty: the training loss is monitored).
        progress: Show a progress bar on stderr.

    Returns:
        ``{"loss": [...], "val_loss": [...], "epochs_run": int, "best_epoch": int,
        "fit_seconds": float}``, plus ``"stopped_by": "time_limit"`` when a
        :func:`deadline` cut it short.

    Raises:
        TrainingError: The loss became NaN or infinite.
    """
    compile_model(model, settings)
    has_val = validation is not None and len(validation) > 0
    monitor = "val_loss" if has_val else "loss"
    timer = _EpochTimer()
    limit = deadline_callback()
    start = time.perf_counter()
    hist = model.fit(data, validation_data=validation if has_val else None,
                     epochs=settings.epochs, shuffle=False,
                     callbacks=[timer.callback(), *callbacks(settings, monitor, progress),
                                *([limit] if limit is not None else [])], verbose=0)
    return history(hist.history, settings, monitor, time.perf_counter() - start, timer.seconds,
                   stopped=limit is not None and limit.hit)


def callbacks(settings: TrainSettings, monitor: str, progress: bool = False) -> list:
    """Early stopping on ``monitor``, the learning-rate schedule and the progress bar, as set."""
    import keras

    chosen = []
    if settings.patience > 0:  # 0 = train every epoch and keep the last weights
        chosen.append(keras.callbacks.EarlyStopping(
            monitor=monitor, patience=settings.patience, restore_best_weights=True))
    if settings.lr_patience > 0:  # halve the rate when the monitored loss stalls
        chosen.append(keras.callbacks.ReduceLROnPlateau(
            monitor=monitor, factor=LR_FACTOR, patience=settings.lr_patience,
            min_lr=settings.learning_rate * MIN_LR_RATIO))
    if progress:
        chosen.append(_progress_callback(settings.epochs))
    return chosen


def history(logs: dict[str, list], settings: TrainSettings, monitor: str, seconds: float,
            epoch_seconds: list[float], stopped: bool = False) -> dict:
    """The run's history from Keras's per-epoch ``logs``; a NaN loss is a TrainingError.

    ``stopped``: a :func:`deadline` cut training short (``"stopped_by": "time_limit"``).
    """
    losses = [float(v) for v in logs.get("loss", [])]
    if not losses or not all(math.isfinite(v) for v in losses):
        raise TrainingError(
            f"Training loss became NaN at epoch {len(losses)} with learning rate "
            f"{settings.learning_rate}; lower --learning-rate (e.g. {settings.learning_rate / 10:g}) "
            "or use --loss huber."
        )
    watched = [float(v) for v in logs.get(monitor, losses)]
    return {
        "loss": losses,
        "val_loss": [float(v) for v in logs.get("val_loss", [])],
        **({"learning_rates": [float(v) for v in logs["learning_rate"]]}
           if settings.lr_patience > 0 and "learning_rate" in logs else {}),
        "epochs_run": len(losses),
        "best_epoch": int(np.nanargmin(watched)) + 1 if settings.patience > 0 else len(losses),
        "fit_seconds": seconds,
        "epoch_seconds": epoch_seconds,
        **({"stopped_by": "time_limit"} if stopped else {}),
    }


@contextlib.contextmanager
def deadline(at: float | None):
    """Within this block, :func:`train` stops at time ``at`` (``time.time()`` seconds).

    Training stops after the batch that reaches it; the epoch's validation loss is still
    computed, and early stopping restores the best weights so far (``patience`` 0: the
    last ones). The history then says ``"stopped_by": "time_limit"``. None: no limit.
    """
    token = _DEADLINE.set(at)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def deadline_callback():
    """The callback that stops training at the :func:`deadline` in force (None: no deadline)."""
    return _deadline_callback(_DEADLINE.get())


def _deadline_callback(at: float | None):
    """Stops training after the batch that starts at or past ``at``; reads only the clock.

    Checked when a batch begins, in the training thread: Keras calls that hook without
    the batch's logs, so JAX's asynchronous dispatch is not stalled (a hook at the end
    of each batch makes Keras read the loss every step, or run the hook in another thread,
    where setting ``stop_training`` raced the JAX trainer: "Array has been deleted").
    """
    if at is None:
        return None
    import keras

    class Deadline(keras.callbacks.Callback):
        hit = False

        def on_train_batch_begin(self, batch, logs=None):
            if time.time() >= at:
                self.hit = True
                self.model.stop_training = True

    return Deadline()


class _EpochTimer:
    """Wall seconds of every epoch, and a stop at the first epoch whose loss is not finite.

    Checked per epoch, not per batch: reading the loss after every batch (as Keras's
    TerminateOnNaN does) forces a host-device sync each step, which stalls JAX's
    asynchronous dispatch; on W1 that made training 13.6% slower than plain Keras, and
    without it the difference is within noise (benchmarks/results/w1_speed.md).
    """

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def callback(self):
        import keras

        timer = self

        class EpochTimer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                timer.seconds.append(time.perf_counter() - self.start)
                if not math.isfinite(float((logs or {}).get("loss", 0.0))):
                    self.model.stop_training = True

        return EpochTimer()


def _progress_callback(epochs: int):
    """A Keras callback drawing a rich progress bar on stderr: epoch, loss, val_loss, ETA."""
    import keras
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    class RichProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.bar = Progress(TextColumn("epoch {task.completed}/{task.total}"), BarColumn(),
                                TextColumn("{task.fields[info]}"), TimeRemainingColumn(),
                                console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("fit", total=epochs, info="")

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            info = "  ".join(f"{k} {v:.4g}" for k, v in logs.items() if k in ("loss", "val_loss"))
            self.bar.update(self.task, completed=epoch + 1, info=info)

        def on_train_end(self, logs=None):
            self.bar.stop()

    return RichProgress()


def limit_threads(n: int, backend_name: str | None = None) -> None:
    """Limit the CPU threads of the backend ``backend_name`` (default: the default one).

    TensorFlow: intra- and inter-op pools, which must be set before its first op (later
    calls are ignored). JAX: XLA's CPU thread flags, which must be set before JAX is
    imported, so call this first thing in a fresh process.
    """
    name = backend.check(backend_name) or os.environ.get("KERAS_BACKEND") or backend.DEFAULT
    if name == "jax" and n == 1 and "jax" not in sys.modules:
        os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                           "intra_op_parallelism_threads=1")
    backend.use(name)
    import keras

    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    except RuntimeError:
        pass
