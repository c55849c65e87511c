"""Gated recurrent unit: ``keras.layers.GRU`` (Keras's default ``reset_after=True``).

Three gates with separate input and recurrent biases, so
3 * units * (units + inputs + 2) parameters per layer.
"""

from __future__ import annotations

import keras

from forecaster import summary
from forecaster.models._recurrent import RecurrentConfig, recurrent_model

#: Settings: ``units=32``, ``layers=1``, ``dropout=0.0``, ``head="last"``.
Config = RecurrentConfig

build, n_params = recurrent_model(keras.layers.GRU, "gru",
                                  lambda config, i: summary.gated(3, config.units, i, 2).n)
