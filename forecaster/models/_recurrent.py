"""The shared builder of the recurrent models: simple_rnn, jordan, lstm and gru.

The four recurrent models differ only in the layer that carries the state from one
time step to the next; everything around it (stacking, dropout, the head) and its
parameter count lives here once. A model file passes a *layer factory* and the closed
form of one layer's parameters, and gets its ``build`` and ``n_params`` back::

    build, n_params = recurrent_model(
        keras.layers.LSTM, "lstm", lambda config, i: summary.gated(4, config.units, i, 1).n)

For example, with ``lstm``, ``gru`` and ``simple_rnn`` made this way::

    >>> from forecaster.models import gru, lstm, simple_rnn
    >>> config = RecurrentConfig(units=4, head="sequence")
    >>> shape = dict(lookback=8, n_features=2, horizon=3)
    >>> [(m.build(config, **shape).output_shape, m.n_params(config, **shape))
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

This module also holds the few validation helpers every model ``Config`` uses, so
each error message reads the same: the bad value, then what is valid.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from forecaster import summary
from forecaster.errors import ConfigError
from forecaster.models import RECURRENT_HEADS


def check_int(name: str, value: object, minimum: int = 1) -> None:
    """Raise ConfigError unless ``value`` is an int (not a bool) >= ``minimum``.

    >>> check_int("units", 4)
    >>> check_int("units", 0)
    Traceback (most recent call last):
    ...
    forecaster.errors.ConfigError: units=0 is invalid: expected an integer >= 1.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"{name}={value!r} is invalid: expected an integer >= {minimum}."
        )


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
    """Settings shared by simple_rnn, lstm and gru (jordan adds ``output_units``).

    Args:
        units: Size of each recurrent layer's state.
        layers: Number of stacked recurrent layers; all but the last return every
            step's output so the next layer sees a sequence.
        dropout: Rate of a ``Dropout`` layer after each recurrent layer (0 = none).
        head: ``"last"``, ``"max"`` or ``"sequence"`` (see the module docstring).

    Raises:
        ConfigError: If a value is out of range or ``head`` is unknown.

    Example:
        >>> RecurrentConfig(units=8, head="max")
        RecurrentConfig(units=8, layers=1, dropout=0.0, head='max')
    """

    units: int = 32
    layers: int = 1
    dropout: float = 0.0
    head: str = "last"

    def __post_init__(self) -> None:
        check_int("units", self.units)
        check_int("layers", self.layers)
        check_dropout(self.dropout)
        check_choice("head", self.head, RECURRENT_HEADS)


#: ``factory(units, *, return_sequences, name) -> layer``, e.g. ``keras.layers.GRU``.
LayerFactory = Callable[..., object]


def build_recurrent(
    factory: LayerFactory,
    config: RecurrentConfig,
    *,
    model_name: str,
    lookback: int,
    n_features: int,
    horizon: int,
):
    """Stack ``config.layers`` recurrent layers made by ``factory`` and add the head.

    Args:
        factory: Called as ``factory(config.units, return_sequences=..., name=...)``;
            any Keras recurrent layer class fits, or a function wrapping a custom cell.
        config: The model's settings.
        model_name: The Keras model's name; layers are named ``<model_name>_<i>``.
        lookback: Number of past time steps in each input window.
        n_features: Number of input columns (feature 0 is the scaled target).
        horizon: Number of future steps to predict.

    Returns:
        An uncompiled ``keras.Model`` mapping ``(batch, lookback, n_features)`` to
        ``(batch, horizon)``, or to ``(batch, lookback, horizon)`` for
        ``head="sequence"``.
    """
    import keras

    inputs = keras.Input(shape=(lookback, n_features), name="window")
    x = inputs  # (batch, lookback, n_features)
    for i in range(1, config.layers + 1):
        # Only the last layer of a "last" head drops the time axis.
        keep_steps = i < config.layers or config.head != "last"
        x = factory(
            config.units, return_sequences=keep_steps, name=f"{model_name}_{i}"
        )(x)  # (batch, lookback, width) if keep_steps else (batch, width)
        # width = units (jordan: output_units, the size of y)
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i}")(x)
    if config.head == "max":
        x = keras.layers.GlobalMaxPooling1D(name="max_over_time")(x)  # (batch, units)
    # Dense acts on the last axis, so on a sequence it is applied at every step.
    outputs = keras.layers.Dense(horizon, name="head")(x)
    # (batch, horizon), or (batch, lookback, horizon) for head="sequence"
    return keras.Model(inputs, outputs, name=model_name)


def stacked_params(layer_params: Callable[[int], int], config: RecurrentConfig, *,
                   n_features: int, horizon: int, width: int | None = None) -> int:
    """Closed-form parameter count of :func:`build_recurrent`'s model.

    Args:
        layer_params: One recurrent layer's count from its number of inputs per step.
        config: The model's settings (``layers``, ``units``).
        n_features: Inputs per step of the first layer.
        horizon: Outputs of the ``Dense`` head.
        width: What each layer passes upward (default ``config.units``).

    >>> stacked_params(lambda i: summary.gated(4, 8, i, 1).n, RecurrentConfig(units=8),
    ...                n_features=1, horizon=3)  # LSTM(8): 4 * 8 * (8 + 1 + 1) + 8 * 3 + 3
    347
    """
    total, inputs = 0, n_features
    for _ in range(config.layers):
        total += layer_params(inputs)
        inputs = width or config.units
    return total + summary.dense(inputs, horizon).n


def recurrent_model(factory: LayerFactory, name: str,
                    layer_params: Callable[[RecurrentConfig, int], int]):
    """The ``build`` and ``n_params`` functions of a recurrent model made of ``factory`` layers.

    Args:
        factory: The Keras recurrent layer class (see :func:`build_recurrent`).
        name: The model's registry name.
        layer_params: ``layer_params(config, inputs)``: one layer's parameter count.
    """

    def build(config: RecurrentConfig, *, lookback: int, n_features: int, horizon: int):
        return build_recurrent(factory, config, model_name=name, lookback=lookback,
                               n_features=n_features, horizon=horizon)

    def n_params(config: RecurrentConfig, *, lookback: int, n_features: int,
                 horizon: int) -> int:
        return stacked_params(lambda i: layer_params(config, i), config,
                              n_features=n_features, horizon=horizon)

    build.__doc__ = f"Build the uncompiled {name} model (see :func:`build_recurrent`)."
    n_params.__doc__ = f"The {name} model's parameter count, in closed form."
    return build, n_params
