"""The Jordan cell: recurrence from the network's output back to its hidden layer.

An Elman network (SimpleRNN) feeds the hidden state back; a Jordan network feeds the
*output* back. For one step, with ``x_t`` the input and ``y_{t-1}`` the previous output
(``y_0 = 0``)::

    h_t = f(W_xh x_t + W_yh y_{t-1} + b_h)      hidden layer, f = tanh
    y_t = g(W_hy h_t + b_y)                     output layer, g = linear

The cell's state is ``y_t``, so ``state_size == output_size == output_units``: what the
layer outputs is exactly what it feeds back. The output activation ``g`` defaults to
linear because ``y`` is a regression value (a scaled forecast), which a squashing
function would bound to (-1, 1). ``use_bias=False`` drops ``b_h`` and ``b_y``.

Keras has no such layer, so this is a cell for the generic ``keras.layers.RNN`` loop,
written with ``keras.ops`` only (any backend). It is registered as
``forecaster>JordanCell`` so ``.keras`` files that use it load with
``safe_mode=True``: no Lambda, no pickled code.

Weights, in Keras's (inputs, outputs) layout, i.e. the transposes of the ``W`` above:
``kernel`` (n_inputs, units) = W_xh^T, ``feedback_kernel`` (output_units, units) =
W_yh^T, ``bias`` (units,), ``output_kernel`` (units, output_units) = W_hy^T and
``output_bias`` (output_units,). Parameters:
``units * (n_inputs + output_units + 1) + output_units * (units + 1)`` (without the two
biases: ``units * (n_inputs + output_units) + output_units * units``).

Example:
    >>> import keras
    >>> layer = keras.layers.RNN(JordanCell(units=4, output_units=2))
    >>> x = keras.ops.zeros((1, 5, 3))  # (batch, lookback, n_inputs)
    >>> tuple(layer(x).shape)  # (batch, output_units): y at the last step
    (1, 2)
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="forecaster")
class JordanCell(keras.layers.Layer):
    """One step of a Jordan network, for ``keras.layers.RNN``.

    Args:
        units: Size of the hidden layer ``h``.
        output_units: Size of the output ``y`` that is fed back (the state).
        activation: Hidden activation ``f`` (default ``"tanh"``).
        output_activation: Output activation ``g`` (default ``"linear"``).
        use_bias: Whether the hidden and output layers have biases (cells saved before
            this setting existed have them).
        **kwargs: Passed to ``keras.layers.Layer`` (``name``, ``dtype``, ...).
    """

    def __init__(
        self,
        units: int,
        output_units: int,
        activation: str = "tanh",
        output_activation: str = "linear",
        use_bias: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.output_units = int(output_units)
        self.activation = keras.activations.get(activation)
        self.output_activation = keras.activations.get(output_activation)
        self.use_bias = bool(use_bias)
        self.state_size = self.output_units
        self.output_size = self.output_units

    def build(self, input_shape) -> None:
        """Create the weights (five, three without biases); ``input_shape`` is ``(batch, n_inputs)``."""
        n_inputs = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(n_inputs, self.units), name="kernel", initializer="glorot_uniform"
        )
        self.feedback_kernel = self.add_weight(
            shape=(self.output_units, self.units),
            name="feedback_kernel",
            initializer="orthogonal",
        )
        self.bias = self._bias((self.units,), "bias")
        self.output_kernel = self.add_weight(
            shape=(self.units, self.output_units),
            name="output_kernel",
            initializer="glorot_uniform",
        )
        self.output_bias = self._bias((self.output_units,), "output_bias")

    def _bias(self, shape: tuple[int], name: str):
        if not self.use_bias:
            return None
        return self.add_weight(shape=shape, name=name, initializer="zeros")

    def call(self, inputs, states, training=False):
        """One step: ``inputs`` (batch, n_inputs), ``states[0]`` = y_{t-1}."""
        prev_y = states[0] if isinstance(states, (list, tuple)) else states
        a = ops.matmul(inputs, self.kernel) + ops.matmul(prev_y, self.feedback_kernel)
        h = self.activation(a if self.bias is None else a + self.bias)  # (batch, units)
        b = ops.matmul(h, self.output_kernel)
        y = self.output_activation(  # (batch, output_units)
            b if self.output_bias is None else b + self.output_bias)
        new_states = [y] if isinstance(states, (list, tuple)) else y
        return y, new_states

    def get_initial_state(self, batch_size=None):
        """``y_0 = 0``, shape (batch, output_units)."""
        return [ops.zeros((batch_size, self.output_units), dtype=self.compute_dtype)]

    def get_config(self) -> dict:
        """Plain-data settings; ``JordanCell(**config)`` rebuilds the cell."""
        return {
            **super().get_config(),
            "units": self.units,
            "output_units": self.output_units,
            "activation": keras.activations.serialize(self.activation),
            "output_activation": keras.activations.serialize(self.output_activation),
            "use_bias": self.use_bias,
        }
