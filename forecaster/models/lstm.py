"""Long short-term memory: ``keras.layers.LSTM``.

Four gates per unit, so ``4 * units * (units + inputs + 1)`` parameters per layer
(``4 * units * (units + inputs)`` with ``use_bias=False``).
"""

from __future__ import annotations

import keras

from forecaster import summary
from forecaster.models._recurrent import RecurrentConfig, recurrent_model

#: Settings: those of ``RecurrentConfig`` (``units=32``, ``layers=1``, ``head="last"``, ...).
Config = RecurrentConfig


def _layer(config: RecurrentConfig, top: bool, **kwargs):
    return keras.layers.LSTM(config.units, **kwargs)


build, n_params = recurrent_model(
    _layer, "lstm", lambda config, i: summary.gated(4, config.units, i, int(config.use_bias)).n)
