"""The settings of a :class:`~forecaster.forecaster.Forecaster`, declared once.

Every setting is a keyword of :meth:`Params.__init__`, with its default there and nowhere
else: :meth:`Params.get_params` reads the names from that signature (as scikit-learn's
``BaseEstimator`` does), the command line reads the defaults from it, training settings
are picked from it by name, and a saved run stores ``get_params()`` as JSON. This module
imports nothing heavy, so ``forecaster --help`` can show the defaults without loading
pandas or Keras.

>>> p = Params("mlp", epochs=5)
>>> p.get_params()["epochs"], Params.defaults()["epochs"]
(5, 100)
>>> p
Params('mlp', epochs=5)
>>> WINDOW_PARAMS
('lookback', 'horizon', 'stride', 'val_size', 'gap', 'max_train_size', 'levels')
"""

from __future__ import annotations

import inspect

from forecaster.errors import ConfigError

#: The settings that shape the windows and splits, shared by every model of a comparison
#: (the reference model is scored on exactly the same rows).
WINDOW_PARAMS: tuple[str, ...] = ("lookback", "horizon", "stride", "val_size", "gap",
                                  "max_train_size", "levels")
#: The longest ``lookback`` and ``horizon`` (steps): beyond, arrays of forecasts outgrow memory.
MAX_HORIZON = 100_000
#: Most stacked layers or blocks a network may have (Keras builds deeper graphs by recursion:
#: ``layers=100000`` ended in a RecursionError).
MAX_LAYERS = 100


def check_int(name: str, value, minimum: int = 0, *, none_ok: bool = False,
              maximum: int | None = None) -> None:
    """Raise ConfigError unless ``value`` is a whole number >= ``minimum`` (and <= ``maximum``), or None if ``none_ok``.

    >>> check_int("horizon", 0, 1)
    Traceback (most recent call last):
    ...
    forecaster.errors.ConfigError: --horizon must be an integer >= 1, got 0.
    >>> check_int("horizon", 10**9, 1, maximum=MAX_HORIZON)
    Traceback (most recent call last):
    ...
    forecaster.errors.ConfigError: --horizon must be an integer between 1 and 100000, got 1000000000.
    """
    if value is None and none_ok:
        return
    whole = isinstance(value, int) or type(value).__name__.startswith(("int", "uint"))  # NumPy ints
    if isinstance(value, bool) or not whole or value < minimum:
        raise ConfigError(f"--{name.replace('_', '-')} must be an integer >= {minimum}, got {value!r}.")
    if maximum is not None and value > maximum:
        raise ConfigError(f"--{name.replace('_', '-')} must be an integer between {minimum} and {maximum}, "
                          f"got {value!r}.")


class Params:
    """Stores a Forecaster's settings; nothing else happens in ``__init__``.

    Args:
        model: A registered model name (see ``forecaster models``).
        params: Model hyperparameters (fields of the model's ``Config``).
        lookback: Input window length (default ``2 * horizon``).
        horizon: Steps forecast at once (default: the seasonal period, at least 1).
        stride: Rows between training windows.
        val_size: Validation rows before the test part (default: ``horizon``); used for
            early stopping and interval calibration, never for fitting weights or scalers.
        gap: Rows between validation and test that nothing is fit on.
        max_train_size: Keep only this many most recent training rows.
        scaler: ``standard``, ``minmax`` or ``none``, fit per series on training rows.
        norm: ``series`` (scaler only), ``window`` (each window relative to its last value)
            or ``season`` (targets relative to the window's seasonal naive forecast); None:
            the model's own (the registry's ``Spec.norm``: window for mlp, season for the
            recurrent models and wavenet).
        calendar: Calendar features of the timestamps given to neural models as inputs
            known ahead: None (none), ``"auto"`` (the cycles the frequency shows, e.g. hour
            of day and day of week for hourly data) or names such as ``"hour,month"`` (see
            :mod:`forecaster.covariates`).
        levels: Prediction-interval levels in percent.
        epochs: Maximum training epochs (early stopping may end sooner).
        batch_size: Windows per gradient step.
        learning_rate: Adam's learning rate.
        loss: Training loss: ``mse``, ``mae`` or ``huber``.
        patience: Early-stopping patience in epochs (0: train every epoch, keep the last
            weights).
        clipnorm: Gradient clipping by norm (None: no clipping).
        lr_patience: Halve the learning rate after this many epochs without a better
            validation loss, down to a thousandth of it (0: a constant rate).
        seed: Seed for weights, shuffling and dropout: same data + settings + seed = same
            metrics. ``-1`` draws a random seed at fit, kept as ``seed_`` and in the run.
        seeds: Neural models: fit this many times with seeds ``seed``, ``seed + 1``, ...
            and forecast their median (None: 3 when the training data has fewer than
            1,000 windows, else 1; see :mod:`forecaster._members`).
        backend: Keras backend (``jax`` or ``tensorflow``; default: ``$KERAS_BACKEND``,
            else jax).
        progress: Draw a progress bar on stderr while training.
    """

    def __init__(self, model: str = "seasonal_naive", *, params: dict | None = None,
                 lookback: int | None = None, horizon: int | None = None, stride: int = 1,
                 val_size: int | None = None, gap: int = 0, max_train_size: int | None = None,
                 scaler: str = "standard", norm: str | None = None, calendar: str | None = None,
                 levels: tuple[int, ...] = (80, 95), epochs: int = 100, batch_size: int = 32,
                 learning_rate: float = 1e-3, loss: str = "mae", patience: int = 10,
                 clipnorm: float | None = 1.0, lr_patience: int = 0, seed: int = 0,
                 seeds: int | None = None, backend: str | None = None,
                 progress: bool = False) -> None:
        self.model = model
        self.params = params
        self.lookback = lookback
        self.horizon = horizon
        self.stride = stride
        self.val_size = val_size
        self.gap = gap
        self.max_train_size = max_train_size
        self.scaler = scaler
        self.norm = norm
        self.calendar = calendar
        self.levels = levels
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.loss = loss
        self.patience = patience
        self.clipnorm = clipnorm
        self.lr_patience = lr_patience
        self.seed = seed
        self.seeds = seeds
        self.backend = backend
        self.progress = progress

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        """The settings' names, in signature order."""
        return tuple(inspect.signature(cls.__init__).parameters)[1:]

    @classmethod
    def defaults(cls) -> dict:
        """Every setting's default value, read from the signature."""
        signature = inspect.signature(cls.__init__).parameters
        return {name: signature[name].default for name in cls.param_names()}

    def get_params(self) -> dict:
        """The settings as a dict of plain values (``Forecaster(**f.get_params())`` copies ``f``)."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params) -> Params:
        """Change settings by name; an unknown name is a ConfigError. Returns ``self``."""
        unknown = sorted(set(params) - set(self.param_names()))
        if unknown:
            raise ConfigError(f"Unknown setting '{unknown[0]}'. "
                              f"Valid settings: {', '.join(self.param_names())}.")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults, params = self.defaults(), self.get_params()
        changed = [f"{k}={v!r}" for k, v in params.items() if k != "model" and v != defaults[k]]
        return f"{type(self).__name__}({', '.join([repr(self.model), *changed])})"
