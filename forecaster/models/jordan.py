"""Jordan network: the network's output, not its hidden state, is fed back to the hidden layer.

Each recurrent layer is ``keras.layers.RNN(JordanCell(units, output_units))``::

    h_t = f(W_xh x_t + W_yh y_{t-1} + b_h)      f = activation (tanh by default)
    y_t = g(W_hy h_t + b_y)                     g = output_activation (linear)

with ``y_0 = 0``. There is no separate output head: the top layer's ``y_t`` is
``horizon`` values wide and *is* the forecast, so the values fed back at each step are
the network's own predictions, as in Jordan (1986). ``head="last"`` forecasts with
``y_T``; ``head="sequence"`` scores every ``y_t`` against the ``horizon`` values after
step ``t``. (A max over time of ``y`` would not be the fed-back output, so there is no
``"max"`` head.) Stacked layers (``layers >= 2``) are Jordan layers too; each lower
layer feeds back, and passes upward, its own ``y`` of ``output_units`` values (default:
``horizon``). ``dropout`` acts on each layer's inputs.

Parameters per layer: ``units * (inputs + outputs + 1) + outputs * (units + 1)``
(hidden layer, then output layer).

Example:
    >>> from forecaster.models import jordan
    >>> config = jordan.Config(units=4)
    >>> model = jordan.build(config, lookback=8, n_features=2, horizon=3)
    >>> model.output_shape, jordan.n_params(config, lookback=8, n_features=2, horizon=3)
    ((None, 3), 39)
"""

from __future__ import annotations

import dataclasses

import keras

from forecaster import summary
from forecaster.errors import ConfigError
from forecaster.models._jordan_cell import JordanCell
from forecaster.models._recurrent import (
    ElmanConfig,
    build_recurrent,
    check_choice,
    check_int,
)

HEADS: tuple[str, ...] = ("last", "sequence")


@dataclasses.dataclass(frozen=True)
class Config(ElmanConfig):
    """Settings of the Jordan network: those of ``ElmanConfig`` plus ``output_units``.

    Args:
        output_units: Width of the ``y`` that each *lower* layer of a stack feeds back
            and passes upward (``layers >= 2``); ``None`` means ``horizon``. The top
            layer's ``y`` is always the forecast, ``horizon`` wide. The other fields are
            those of :class:`~forecaster.models._recurrent.ElmanConfig` (``units`` is the
            hidden layer's size; ``head`` is ``"last"`` or ``"sequence"``).

    Raises:
        ConfigError: If a value is out of range.
    """

    output_units: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("head", self.head, HEADS)
        if self.output_units is not None:
            check_int("output_units", self.output_units)
            if self.layers == 1:
                raise ConfigError(
                    f"output_units={self.output_units!r} sets the width of the lower layers' "
                    "outputs when layers >= 2; with layers=1 the output fed back is the "
                    "forecast (horizon values): leave out output_units or stack layers.")


def _widths(config: Config, horizon: int) -> list[int]:
    """The width of each layer's ``y``, bottom to top."""
    return [config.output_units or horizon] * (config.layers - 1) + [horizon]


def build(config: Config, *, lookback: int | None, n_features: int, horizon: int,
          every_step: bool = False) -> keras.Model:
    """Build the uncompiled jordan model (see :func:`build_recurrent`)."""
    widths = iter(_widths(config, horizon))

    def jordan_layer(config: Config, top: bool, *, use_bias: bool, name: str, **kwargs):
        cell = JordanCell(config.units, next(widths), activation=config.activation,
                          output_activation=config.output_activation, use_bias=use_bias,
                          name=f"{name}_cell")
        return keras.layers.RNN(cell, name=name, **kwargs)

    return build_recurrent(jordan_layer, config, model_name="jordan", lookback=lookback,
                           n_features=n_features, horizon=horizon, every_step=every_step,
                           dense_head=False)


def n_params(config: Config, *, lookback: int, n_features: int, horizon: int) -> int:
    """The jordan model's parameter count, in closed form (each layer passes ``y`` upward)."""
    total, inputs = 0, n_features
    for width in _widths(config, horizon):
        total += summary.jordan(config.units, inputs, width, config.use_bias).n
        inputs = width
    return total
