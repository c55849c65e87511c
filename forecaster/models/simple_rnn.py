"""Elman network: ``keras.layers.SimpleRNN``.

The hidden state is fed back to itself: h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h).

Example:
    >>> from forecaster.models import simple_rnn
    >>> config = simple_rnn.Config(units=4, head="sequence")
    >>> model = simple_rnn.build(config, lookback=8, n_features=2, horizon=3)
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
    """Build the uncompiled simple_rnn model (see :func:`build_recurrent`)."""
    return build_recurrent(
        keras.layers.SimpleRNN, config, model_name="simple_rnn",
        lookback=lookback, n_features=n_features, horizon=horizon,
    )
