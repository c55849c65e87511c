"""WaveNet: a stack of gated, dilated causal convolutions (van den Oord et al., 2016).

A 1x1 convolution first maps the ``n_features`` input columns to ``filters``
channels. Block ``i`` (``i = 1..layers``) then applies, with dilation rate
``d_i = 2**(i-1)`` (1, 2, 4, 8, ...)::

    z = tanh(causal_conv_f(x)) * sigmoid(causal_conv_g(x))   gated activation unit
    skip_i = conv1x1(z)                                      to the output
    x = x + conv1x1(z)                                       residual, to the next block

and the output stage is ``relu(sum_i skip_i) -> conv1x1 -> relu -> last time step ->
Dense(horizon)``. With ``head="sequence"`` the Dense is applied at every step instead,
giving ``(batch, lookback, horizon)`` (step ``t`` predicts the ``horizon`` values after
``t``; the forecast is ``output[:, -1, :]``).

Receptive field: a causal convolution with kernel ``k`` and dilation ``d`` looks
``(k - 1) * d`` steps further back, so ``layers`` blocks see::

    receptive_field = 1 + (k - 1) * (1 + 2 + ... + 2**(layers-1))
                    = 1 + (k - 1) * (2**layers - 1)

time steps. ``layers=None`` picks the smallest ``layers`` whose receptive field covers
the lookback; an explicit ``layers`` that does not is refused by :func:`build`.

Example:
    >>> receptive_field(kernel_size=2, layers=3)
    8
    >>> min_layers(kernel_size=2, lookback=9)
    4
"""

from __future__ import annotations

import dataclasses

import keras

from forecaster import summary
from forecaster.errors import ConfigError
from forecaster.models import REGISTRY
from forecaster.models._recurrent import check_choice, check_dropout, check_int
from forecaster.params import MAX_LAYERS


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings of WaveNet.

    Args:
        filters: Channels of the residual path and the gated convolutions.
        skip_filters: Channels of the skip connections and the output convolution
            (``None`` = ``filters``); the paper sizes them separately.
        kernel_size: Width of the dilated causal convolutions (>= 2).
        layers: Number of gated blocks, dilations 1, 2, 4, ...; ``None`` = the fewest
            whose receptive field covers the lookback.
        dropout: Rate of a ``Dropout`` on each block's gated output (0 = none).
        head: ``"last"`` (forecast from the last step) or ``"sequence"`` (every step).

    Raises:
        ConfigError: If a value is out of range or ``head`` is unknown.
    """

    filters: int = 16
    skip_filters: int | None = None
    kernel_size: int = 2
    layers: int | None = None
    dropout: float = 0.0
    head: str = "last"

    def __post_init__(self) -> None:
        check_int("filters", self.filters)
        if self.skip_filters is not None:
            check_int("skip_filters", self.skip_filters)
        check_int("kernel_size", self.kernel_size, minimum=2)
        if self.layers is not None:
            check_int("layers", self.layers, maximum=MAX_LAYERS)
        check_dropout(self.dropout)
        check_choice("head", self.head, REGISTRY["wavenet"].heads)


def receptive_field(kernel_size: int, layers: int) -> int:
    """Time steps seen by the last output: ``1 + (kernel_size-1) * (2**layers - 1)``."""
    return 1 + (kernel_size - 1) * (2**layers - 1)


def min_layers(kernel_size: int, lookback: int) -> int:
    """The fewest blocks (at least 1) whose receptive field covers ``lookback``."""
    layers = 1
    while receptive_field(kernel_size, layers) < lookback:
        layers += 1
    return layers


def resolve_layers(config: Config, lookback: int) -> int:
    """The number of blocks to build; ConfigError if they miss part of the window."""
    needed = min_layers(config.kernel_size, lookback)
    if config.layers is None:
        return needed
    field = receptive_field(config.kernel_size, config.layers)
    if field < lookback:
        raise ConfigError(
            f"wavenet layers={config.layers} with kernel_size={config.kernel_size} "
            f"has a receptive field of {field} steps, shorter than "
            f"lookback={lookback}. "
            f"Use layers >= {needed} (or leave layers unset)."
        )
    return config.layers


def _block(x, i: int, config: Config, last: bool):
    """Gated block ``i`` with dilation ``2**(i-1)``; returns (residual out, skip)."""
    conv = keras.layers.Conv1D
    gate_args = dict(
        kernel_size=config.kernel_size, dilation_rate=2 ** (i - 1), padding="causal"
    )
    f = conv(config.filters, activation="tanh", name=f"filter_{i}", **gate_args)(x)
    g = conv(config.filters, activation="sigmoid", name=f"gate_{i}", **gate_args)(x)
    z = keras.layers.Multiply(name=f"gated_{i}")([f, g])  # (batch, lookback, filters)
    if config.dropout > 0:
        z = keras.layers.Dropout(config.dropout, name=f"dropout_{i}")(z)
    skip = conv(_skip_width(config), 1, name=f"skip_{i}")(z)  # (batch, lookback, skip_filters)
    if last:  # the last block's residual output would feed nothing
        return None, skip
    residual = conv(config.filters, 1, name=f"residual_{i}")(z)
    return keras.layers.Add(name=f"add_{i}")([x, residual]), skip


def _skip_width(config: Config) -> int:
    return config.filters if config.skip_filters is None else config.skip_filters


def build(
    config: Config, *, lookback: int, n_features: int, horizon: int
) -> keras.Model:
    """Build the uncompiled WaveNet.

    Args:
        config: The model's settings.
        lookback: Number of past time steps in each input window.
        n_features: Number of input columns (feature 0 is the scaled target).
        horizon: Number of future steps to predict.

    Returns:
        A ``keras.Model`` mapping ``(batch, lookback, n_features)`` to
        ``(batch, horizon)``, or ``(batch, lookback, horizon)`` for ``head="sequence"``.

    Raises:
        ConfigError: If ``config.layers`` gives a receptive field shorter than
            ``lookback``.
    """
    n_blocks = resolve_layers(config, lookback)
    inputs = keras.Input(shape=(lookback, n_features), name="window")
    x = keras.layers.Conv1D(config.filters, 1, name="input_conv")(inputs)
    skips = []  # each (batch, lookback, skip_filters)
    for i in range(1, n_blocks + 1):
        x, skip = _block(x, i, config, last=i == n_blocks)
        skips.append(skip)
    s = keras.layers.Add(name="skip_sum")(skips) if len(skips) > 1 else skips[0]
    s = keras.layers.Activation("relu", name="skip_relu")(s)
    width = _skip_width(config)
    s = keras.layers.Conv1D(width, 1, activation="relu", name="post_conv")(s)
    if config.head == "last":
        s = keras.layers.Cropping1D((lookback - 1, 0), name="last_step")(s)
        # (batch, 1, skip_filters)
        s = keras.layers.Reshape((width,), name="squeeze")(s)
        # (batch, skip_filters)
    outputs = keras.layers.Dense(horizon, name="head")(s)
    # (batch, horizon), or (batch, lookback, horizon) for head="sequence"
    return keras.Model(inputs, outputs, name="wavenet")


def n_params(config: Config, *, lookback: int, n_features: int, horizon: int) -> int:
    """WaveNet's parameter count, in closed form.

    >>> n_params(Config(filters=4), lookback=8, n_features=2, horizon=3)
    363
    """
    f, s, k = config.filters, _skip_width(config), config.kernel_size
    n_blocks = resolve_layers(config, lookback)
    total = summary.conv1d(1, n_features, f).n  # input_conv
    for i in range(1, n_blocks + 1):
        total += 2 * summary.conv1d(k, f, f).n + summary.conv1d(1, f, s).n  # filter, gate, skip
        if i < n_blocks:
            total += summary.conv1d(1, f, f).n  # residual
    return total + summary.conv1d(1, s, s).n + summary.dense(s, horizon).n  # post_conv, head
