"""Long short-term memory: ``keras.layers.LSTM``.

Four gates per unit, so 4 * units * (units + inputs + 1) parameters per layer.
"""

from __future__ import annotations

import keras

from forecaster import summary
from forecaster.models._recurrent import RecurrentConfig, recurrent_model

#: Settings: ``units=32``, ``layers=1``, ``dropout=0.0``, ``head="last"``.
Config = RecurrentConfig

build, n_params = recurrent_model(keras.layers.LSTM, "lstm",
                                  lambda config, i: summary.gated(4, config.units, i, 1).n)
