"""Multilayer perceptron on the flattened window.

The window of ``lookback`` steps by ``n_features`` columns is flattened into one
vector of ``lookback * n_features`` inputs, so the network sees every lag of every
feature at once but knows nothing of their order::

    (batch, lookback, n_features) -> Flatten -> [Dense(units, relu) -> Dropout] x layers
                                  -> Dense(horizon)

With one hidden layer of ``M`` units, ``T`` lags, ``D`` features and ``k`` outputs it
has ``T*D*M + M*k`` weights plus ``M + k`` biases
(:func:`forecaster.summary.mlp_weights`).

Example:
    >>> from forecaster.models import mlp
    >>> model = mlp.build(mlp.Config(units=4), lookback=8, n_features=2, horizon=3)
    >>> model.output_shape
    (None, 3)
"""

from __future__ import annotations

import dataclasses

import keras

from forecaster import summary
from forecaster.models._recurrent import check_bool, check_dropout, check_int
from forecaster.params import MAX_LAYERS


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings of the MLP.

    Args:
        units: Width of each hidden layer.
        layers: Number of hidden ``Dense(units, relu)`` layers; 0 gives a linear map
            from the window to the forecast (with ``--norm window``, NLinear).
        dropout: Rate of a ``Dropout`` after each hidden layer (0 = none).
        use_bias: False drops every bias: the weights-only count of the notes'
            MLP-versus-RNN arithmetic.

    Raises:
        ConfigError: If a value is out of range.
    """

    units: int = 64
    layers: int = 2
    dropout: float = 0.0
    use_bias: bool = True

    def __post_init__(self) -> None:
        check_int("units", self.units)
        check_int("layers", self.layers, minimum=0, maximum=MAX_LAYERS)
        check_dropout(self.dropout)
        check_bool("use_bias", self.use_bias)


def build(
    config: Config, *, lookback: int, n_features: int, horizon: int
) -> keras.Model:
    """Build the uncompiled MLP.

    Args:
        config: The model's settings.
        lookback: Number of past time steps in each input window.
        n_features: Number of input columns (feature 0 is the scaled target).
        horizon: Number of future steps to predict.

    Returns:
        A ``keras.Model`` mapping ``(batch, lookback, n_features)`` to
        ``(batch, horizon)``.
    """
    inputs = keras.Input(shape=(lookback, n_features), name="window")
    x = keras.layers.Flatten(name="flatten")(inputs)  # (batch, lookback * n_features)
    for i in range(1, config.layers + 1):
        x = keras.layers.Dense(config.units, activation="relu", use_bias=config.use_bias,
                               name=f"dense_{i}")(x)
        if config.dropout > 0:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i}")(x)
    outputs = keras.layers.Dense(horizon, use_bias=config.use_bias, name="head")(x)  # (batch, horizon)
    return keras.Model(inputs, outputs, name="mlp")


def n_params(config: Config, *, lookback: int, n_features: int, horizon: int) -> int:
    """The MLP's parameter count, in closed form.

    >>> n_params(Config(units=16, layers=1), lookback=20, n_features=30, horizon=3)
    9667
    >>> n_params(Config(units=16, layers=1, use_bias=False), lookback=20, n_features=30, horizon=3)
    9648
    """
    total, width = 0, lookback * n_features
    for _ in range(config.layers):
        total += summary.dense(width, config.units, config.use_bias).n
        width = config.units
    return total + summary.dense(width, horizon, config.use_bias).n
