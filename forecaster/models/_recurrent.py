"""The shared builder of the recurrent models: simple_rnn, jordan, lstm and gru.

The four recurrent models differ only in the layer that carries the state from one
time step to the next; everything around it (stacking, dropout, the head) and its
parameter count lives here once. A model file passes a *layer factory* and the closed
form of one layer's parameters, and gets its ``build`` and ``n_params`` back::

    build, n_params = recurrent_model(
        lambda config, top, **kw: keras.layers.LSTM(config.units, **kw), "lstm",
        lambda config, i: summary.gated(4, config.units, i, int(config.use_bias)).n)

For example, with ``lstm``, ``gru`` and ``simple_rnn`` made this way::

    >>> from forecaster.models import gru, lstm, simple_rnn
    >>> shape = dict(lookback=8, n_features=2, horizon=3)
    >>> [(m.build(m.Config(units=4, head="sequence"), **shape).output_shape,
    ...   m.n_params(m.Config(units=4, head="sequence"), **shape))
    ...  for m in (simple_rnn, lstm, gru)]
    [((None, 8, 3), 43), ((None, 8, 3), 127), ((None, 8, 3), 111)]

Heads (``RecurrentConfig.head``):

- ``"last"`` (many-to-one): the last state -> ``Dense(horizon)``; output
  ``(batch, horizon)``.
- ``"max"``: ``GlobalMaxPooling1D`` over every step's state -> ``Dense(horizon)``;
  output ``(batch, horizon)``.
- ``"sequence"`` (many-to-many): ``Dense(horizon)`` on every step's state; output
  ``(batch, lookback, horizon)`` where step ``t`` predicts the ``horizon`` values after
  step ``t``. The forecast is ``output[:, -1, :]``.

The Jordan network has no ``Dense`` head: its top layer's output ``y_t`` *is* the
forecast (see :mod:`forecaster.models.jordan`).

This module also holds the few validation helpers every model ``Config`` uses, so
each error message reads the same: the bad value, then what is valid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from forecaster import summary
from forecaster.errors import ConfigError
from forecaster.models import RECURRENT_HEADS
from forecaster.params import MAX_LAYERS

#: Activations of the notes' variants: hidden ``h_t = f(...)`` and output ``y_t = g(...)``.
ACTIVATIONS: tuple[str, ...] = ("tanh", "sigmoid", "relu", "linear")


def check_int(name: str, value: object, minimum: int = 1, maximum: int | None = None) -> None:
    """Raise ConfigError unless ``value`` is an int (not a bool) >= ``minimum`` (<= ``maximum``).

    >>> check_int("units", 4)
    >>> check_int("units", 0)
    Traceback (most recent call last):
    ...
    forecaster.errors.ConfigError: units=0 is invalid: expected an integer >= 1.
    >>> check_int("layers", 100000, maximum=MAX_LAYERS)
    Traceback (most recent call last):
    ...
    forecaster.errors.ConfigError: layers=100000 is invalid: expected an integer from 1 to 100.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"{name}={value!r} is invalid: expected an integer >= {minimum}."
        )
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name}={value!r} is invalid: expected an integer from {minimum} to {maximum}.")


def check_bool(name: str, value: object) -> None:
    """Raise ConfigError unless ``value`` is True or False.

    >>> check_bool("unroll", "yes")
    Traceback (most recent call last):
    ...
    forecaster.errors.ConfigError: unroll='yes' is invalid: expected true or false.
    """
    if not isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} is invalid: expected true or false.")


def check_dropout(value: object) -> None:
    """Raise ConfigError unless ``value`` is a number in [0, 1)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not 0.0 <= value < 1.0:
        raise ConfigError(
            f"dropout={value!r} is invalid: expected a number in [0, 1), e.g. 0.2."
        )


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    """Raise ConfigError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ConfigError(
            f"{name}={value!r} is invalid. Valid choices: {', '.join(choices)}."
        )


@dataclasses.dataclass(frozen=True)
class RecurrentConfig:
    """Settings shared by simple_rnn, jordan, lstm and gru.

    Args:
        units: Size of each recurrent layer's state (Jordan: its hidden layer).
        layers: Number of stacked recurrent layers; all but the last return every
            step's output so the next layer sees a sequence.
        dropout: Rate of a ``Dropout`` layer after each recurrent layer (0 = none;
            Jordan: before each layer, since its top layer's output is the forecast).
        head: ``"last"``, ``"max"`` or ``"sequence"`` (see the module docstring).
        use_bias: False builds the bias-free net of the notes (no ``b`` anywhere).
        unroll: Unroll the recurrence into ``lookback`` copies of the cell (Keras's
            ``unroll=True``): faster for short windows, more memory, same numbers.
        stateful: Train on consecutive chunks of each series with the state carried
            from one batch to the next (truncated BPTT, :mod:`forecaster.stateful`).
        bptt: Steps per chunk of stateful training: how far back the error is
            propagated (default: the lookback). Needs ``stateful=True``.

    Raises:
        ConfigError: If a value is out of range or ``head`` is unknown.

    Example:
        >>> RecurrentConfig(units=8, head="max")  # doctest: +NORMALIZE_WHITESPACE
        RecurrentConfig(units=8, layers=1, dropout=0.0, head='max', use_bias=True,
                        unroll=False, stateful=False, bptt=None)
    """

    units: int = 32
    layers: int = 1
    dropout: float = 0.0
    head: str = "last"
    use_bias: bool = True
    unroll: bool = False
    stateful: bool = False
    bptt: int | None = None

    def __post_init__(self) -> None:
        check_int("units", self.units)
        check_int("layers", self.layers, maximum=MAX_LAYERS)
        check_dropout(self.dropout)
        check_choice("head", self.head, RECURRENT_HEADS)
        for name in ("use_bias", "unroll", "stateful"):
            check_bool(name, getattr(self, name))
        if self.bptt is not None:
            check_int("bptt", self.bptt)
            if not self.stateful:
                raise ConfigError(f"bptt={self.bptt!r} applies to stateful training only; "
                                  "add --param stateful=true (or leave out bptt).")
        if self.stateful and self.head == "max":
            raise ConfigError("head='max' is invalid with stateful=true: a stateful model "
                              "forecasts from its last state. Valid choices: last, sequence.")


@dataclasses.dataclass(frozen=True)
class ElmanConfig(RecurrentConfig):
    """The recurrent settings plus the notes' activations (simple_rnn and jordan).

    Args:
        activation: Hidden activation ``f`` in ``h_t = f(...)``: tanh, sigmoid, relu
            or linear.
        output_activation: Output activation ``g`` in ``y_t = g(W_hy h_t + b_y)``;
            linear by default, since ``y`` is a scaled forecast that a squashing
            function would bound.
    """

    activation: str = "tanh"
    output_activation: str = "linear"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("output_activation", self.output_activation, ACTIVATIONS)


#: ``factory(config, top, *, return_sequences, name, use_bias, unroll) -> layer``;
#: ``top`` is True for the last (highest) layer.
LayerFactory = Callable[..., object]


def build_recurrent(factory: LayerFactory, config: RecurrentConfig, *, model_name: str,
                    lookback: int | None, n_features: int, horizon: int,
                    every_step: bool = False, dense_head: bool = True):
    """Stack ``config.layers`` recurrent layers made by ``factory`` and add the head.

    Args:
        factory: Makes one recurrent layer (see :data:`LayerFactory`).
        config: The model's settings.
        model_name: The Keras model's name; layers are named ``<model_name>_<i>``.
        lookback: Number of past time steps in each input window; None accepts any
            length (``unroll`` is then off: there is nothing fixed to unroll).
        n_features: Number of input columns (feature 0 is the scaled target).
        horizon: Number of future steps to predict.
        every_step: Output every step's forecast whatever the head (the same weights
            as ``head="last"``): how a stateful model forecasts from every origin at once.
        dense_head: False for the Jordan network, whose top layer is the forecast.

    Returns:
        An uncompiled ``keras.Model`` mapping ``(batch, lookback, n_features)`` to
        ``(batch, horizon)``, or to ``(batch, lookback, horizon)`` for
        ``head="sequence"`` or ``every_step``.
    """
    import keras

    inputs = keras.Input(shape=(lookback, n_features), name="window")
    x = inputs  # (batch, lookback, n_features)
    common = {"use_bias": config.use_bias, "unroll": config.unroll and lookback is not None}
    for i in range(1, config.layers + 1):
        top = i == config.layers
        if config.dropout > 0 and not dense_head:  # Jordan: on each layer's inputs
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i}")(x)
        # Only the last layer of a "last" head drops the time axis.
        keep_steps = not top or config.head != "last" or every_step
        x = factory(config, top, return_sequences=keep_steps, name=f"{model_name}_{i}",
                    **common)(x)  # (batch, lookback, width) if keep_steps else (batch, width)
        if config.dropout > 0 and dense_head:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i}")(x)
    if config.head == "max" and not every_step:
        x = keras.layers.GlobalMaxPooling1D(name="max_over_time")(x)  # (batch, units)
    if dense_head:  # Dense acts on the last axis, so on a sequence it acts at every step.
        x = keras.layers.Dense(horizon, activation=getattr(config, "output_activation", None),
                               use_bias=config.use_bias, name="head")(x)
    # (batch, horizon), or (batch, lookback, horizon) for head="sequence" / every_step
    return keras.Model(inputs, x, name=model_name)


def stacked_params(layer_params: Callable[[int], int], config: RecurrentConfig, *,
                   n_features: int, horizon: int) -> int:
    """Closed-form parameter count of :func:`build_recurrent`'s model with a Dense head.

    Args:
        layer_params: One recurrent layer's count from its number of inputs per step.
        config: The model's settings (``layers``, ``units``, ``use_bias``).
        n_features: Inputs per step of the first layer.
        horizon: Outputs of the ``Dense`` head.

    >>> stacked_params(lambda i: summary.gated(4, 8, i, 1).n, RecurrentConfig(units=8),
    ...                n_features=1, horizon=3)  # LSTM(8): 4 * 8 * (8 + 1 + 1) + 8 * 3 + 3
    347
    """
    total, inputs = 0, n_features
    for _ in range(config.layers):
        total += layer_params(inputs)
        inputs = config.units
    return total + summary.dense(inputs, horizon, config.use_bias).n


def recurrent_model(factory: LayerFactory, name: str,
                    layer_params: Callable[[RecurrentConfig, int], int]):
    """The ``build`` and ``n_params`` functions of a recurrent model made of ``factory`` layers.

    Args:
        factory: Makes one recurrent layer (see :data:`LayerFactory`).
        name: The model's registry name.
        layer_params: ``layer_params(config, inputs)``: one layer's parameter count.
    """

    def build(config: RecurrentConfig, *, lookback: int | None, n_features: int, horizon: int,
              every_step: bool = False):
        return build_recurrent(factory, config, model_name=name, lookback=lookback,
                               n_features=n_features, horizon=horizon, every_step=every_step)

    def n_params(config: RecurrentConfig, *, lookback: int, n_features: int,
                 horizon: int) -> int:
        return stacked_params(lambda i: layer_params(config, i), config,
                              n_features=n_features, horizon=horizon)

    build.__doc__ = f"Build the uncompiled {name} model (see :func:`build_recurrent`)."
    n_params.__doc__ = f"The {name} model's parameter count, in closed form."
    return build, n_params
