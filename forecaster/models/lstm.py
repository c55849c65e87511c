"""Long short-term memory: ``keras.layers.LSTM``.

Four gates per unit, so 4 * units * (units + inputs + 1) parameters per layer.

Example:
    >>> from forecaster.models import lstm
    >>> config = lstm.Config(units=4, head="sequence")
    >>> model = lstm.build(config, lookback=8, n_features=2, horizon=3)
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
    """Build the uncompiled lstm model (see :func:`build_recurrent`)."""
    return build_recurrent(
        keras.layers.LSTM, config, model_name="lstm",
        lookback=lookback, n_features=n_features, horizon=horizon,
    )
