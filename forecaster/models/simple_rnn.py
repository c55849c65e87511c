"""Elman network: ``keras.layers.SimpleRNN`` and a ``Dense`` output layer.

The hidden state is fed back to itself::

    h_t = f(W_xh x_t + W_hh h_{t-1} + b_h)      f = activation (tanh by default)
    y_t = g(W_hy h_t + b_y)                     g = output_activation (linear)

so ``units * (units + inputs + 1)`` parameters per layer (``units * (units + inputs)``
with ``use_bias=False``), plus the output layer's ``units * horizon + horizon``.

Example (the notes' sigmoid, bias-free variant):
    >>> from forecaster.models import simple_rnn
    >>> config = simple_rnn.Config(units=4, activation="sigmoid", use_bias=False)
    >>> simple_rnn.n_params(config, lookback=8, n_features=1, horizon=3)  # 4*(4+1) + 4*3
    32
"""

from __future__ import annotations

import keras

from forecaster import summary
from forecaster.models._recurrent import ElmanConfig, recurrent_model

#: Settings: those of ``RecurrentConfig`` plus ``activation="tanh"``,
#: ``output_activation="linear"``.
Config = ElmanConfig


def _layer(config: ElmanConfig, top: bool, **kwargs):
    return keras.layers.SimpleRNN(config.units, activation=config.activation, **kwargs)


build, n_params = recurrent_model(
    _layer, "simple_rnn", lambda config, i: summary.gated(1, config.units, i, int(config.use_bias)).n)
