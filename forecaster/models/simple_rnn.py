"""Elman network: ``keras.layers.SimpleRNN``.

The hidden state is fed back to itself: h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h), so
units * (units + inputs + 1) parameters per layer.
"""

from __future__ import annotations

import keras

from forecaster import summary
from forecaster.models._recurrent import RecurrentConfig, recurrent_model

#: Settings: ``units=32``, ``layers=1``, ``dropout=0.0``, ``head="last"``.
Config = RecurrentConfig

build, n_params = recurrent_model(keras.layers.SimpleRNN, "simple_rnn",
                                  lambda config, i: summary.gated(1, config.units, i, 1).n)
