"""Gated recurrent unit: ``keras.layers.GRU`` (Keras's default ``reset_after=True``).

Three gates with separate input and recurrent biases, so
3 * units * (units + inputs + 2) parameters per layer.

Example:
    >>> from forecaster.models import gru
    >>> config = gru.Config(units=4, head="sequence")
    >>> model = gru.build(config, lookback=8, n_features=2, horizon=3)
    >>> model.output_shape
    (None, 8, 3)
"""

from __future__ import annotations

import keras

from forecaster.models._recurrent import RecurrentConfig, build_recurrent

#: Settings: ``units=32``, ``layers=1``, ``dropout=0.0``, ``head="last"``.
Config = RecurrentConfig


def build(
    config: Config, *, lookback: int, n_features: int, horizon: int
) -> keras.Model:
    """Build the uncompiled gru model (see :func:`build_recurrent`)."""
    return build_recurrent(
        keras.layers.GRU, config, model_name="gru",
        lookback=lookback, n_features=n_features, horizon=horizon,
    )
