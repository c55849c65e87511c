"""Gated recurrent unit: ``keras.layers.GRU``.

Three gates. With Keras's default ``reset_after=True`` the reset gate multiplies the
recurrent product, ``r_t * (U_h h_{t-1} + b_rh)``, which needs a second (recurrent)
bias per gate: ``3 * units * (units + inputs + 2)`` parameters per layer. The notes'
form, ``reset_after=False``, applies the reset gate before the product,
``U_h (r_t * h_{t-1})``, with one bias per gate: ``3 * units * (units + inputs + 1)``.
``use_bias=False``: ``3 * units * (units + inputs)``.

Example:
    >>> from forecaster.models import gru
    >>> shape = dict(lookback=8, n_features=1, horizon=3)
    >>> gru.n_params(gru.Config(units=4), **shape), gru.n_params(gru.Config(units=4, reset_after=False), **shape)
    (99, 87)
"""

from __future__ import annotations

import dataclasses

import keras

from forecaster import summary
from forecaster.models._recurrent import RecurrentConfig, check_bool, recurrent_model


@dataclasses.dataclass(frozen=True)
class Config(RecurrentConfig):
    """The recurrent settings plus ``reset_after`` (Keras's default True; False: the notes' GRU)."""

    reset_after: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_bool("reset_after", self.reset_after)


def _layer(config: Config, top: bool, **kwargs):
    return keras.layers.GRU(config.units, reset_after=config.reset_after, **kwargs)


def _biases(config: Config) -> int:
    return (1 + int(config.reset_after)) * int(config.use_bias)  # per gate and unit


build, n_params = recurrent_model(
    _layer, "gru", lambda config, i: summary.gated(3, config.units, i, _biases(config)).n)
