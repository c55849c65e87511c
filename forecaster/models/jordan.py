"""Jordan network: the output, not the hidden state, is fed back to the hidden layer.

Each recurrent layer is ``keras.layers.RNN(JordanCell(units, output_units))``::

    h_t = tanh(W_xh x_t + W_yh y_{t-1} + b_h)
    y_t = W_hy h_t + b_y          (linear: y is a regression value)

The layer's output at each step is ``y_t``, so stacked layers pass ``y`` (size
``output_units``) upward, and the head is the same ``Dense(horizon)`` as for the other
recurrent models (see :mod:`forecaster.models._recurrent`).

``output_units=None`` (the default) makes ``y`` as wide as the forecast
(``horizon``): as in Jordan (1986), the values fed back are the network's own
predictions. Set an integer to feed back a wider or narrower summary instead.

Example:
    >>> from forecaster.models import jordan
    >>> config = jordan.Config(units=4, output_units=2)
    >>> model = jordan.build(config, lookback=8, n_features=2, horizon=3)
    >>> model.output_shape
    (None, 3)
"""

from __future__ import annotations

import dataclasses

import keras

from forecaster import summary
from forecaster.models._jordan_cell import JordanCell
from forecaster.models._recurrent import (RecurrentConfig, build_recurrent, check_int,
                                          stacked_params)


@dataclasses.dataclass(frozen=True)
class Config(RecurrentConfig):
    """Settings of the Jordan network: the recurrent ones plus ``output_units``.

    Defaults: ``units=32``, ``layers=1``, ``dropout=0.0``, ``head="last"``,
    ``output_units=None``.

    Args:
        output_units: Size of the output ``y`` fed back to the hidden layer;
            ``None`` means ``horizon``. The other fields are those of
            :class:`~forecaster.models._recurrent.RecurrentConfig` (``units`` is
            the hidden layer's size).

    Raises:
        ConfigError: If a value is out of range.
    """

    output_units: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.output_units is not None:
            check_int("output_units", self.output_units)


def build(
    config: Config, *, lookback: int, n_features: int, horizon: int
) -> keras.Model:
    """Build the uncompiled jordan model (see :func:`build_recurrent`)."""
    output_units = config.output_units or horizon

    def jordan_layer(units: int, *, return_sequences: bool, name: str):
        cell = JordanCell(units, output_units, name=f"{name}_cell")
        return keras.layers.RNN(cell, return_sequences=return_sequences, name=name)

    return build_recurrent(
        jordan_layer, config, model_name="jordan",
        lookback=lookback, n_features=n_features, horizon=horizon,
    )


def n_params(config: Config, *, lookback: int, n_features: int, horizon: int) -> int:
    """The jordan model's parameter count, in closed form (each layer passes ``y`` upward)."""
    o = config.output_units or horizon
    return stacked_params(lambda i: summary.jordan(config.units, i, o).n, config,
                          n_features=n_features, horizon=horizon, width=o)
