"""Per-layer parameter counts, in closed form, next to Keras's own count.

:func:`describe` gives one row per layer of a built model: its name, type, output
shape, Keras's ``count_params()``, the same number from the layer's closed form (the
formula is shown with the numbers filled in) and the count without biases. The closed
forms, with ``u`` units, ``i`` inputs per step, ``o`` Jordan outputs, ``k`` kernel size:

==================  ======================================  =====================
layer               parameters                              weights only
==================  ======================================  =====================
Dense               i * u + u                               i * u
Conv1D              k * i * u + u                           k * i * u
SimpleRNN           u * (u + i + 1)                         u * (u + i)
LSTM                4 * u * (u + i + 1)                     4 * u * (u + i)
GRU (reset_after)   3 * u * (u + i + 2)                     3 * u * (u + i)
GRU (reset before)  3 * u * (u + i + 1)                     3 * u * (u + i)
JordanCell          u * (i + o + 1) + o * (u + 1)           u * (i + o) + o * u
==================  ======================================  =====================

A layer built with ``use_bias=False`` has the weights-only count as its parameters (the
formula then shows no bias terms). The Jordan cell's count is its hidden layer's,
``u * (i + o + 1)``, plus its output layer's, ``o * (u + 1)``: the output layer is part
of the cell, since its output is what is fed back.

The same closed forms, from sizes alone, give every model's ``n_params`` (what ``--budget``
sizes), so counting needs no Keras. This module imports nothing heavy: :func:`describe`
only reads attributes of the model it is given.

Example (the course's arithmetic, weights only, no biases):
    >>> mlp_weights(T=20, D=30, M=16, k=3)
    9648
    >>> elman_weights(D=30, M=16, k=3)
    784
"""

from __future__ import annotations

from math import prod
from typing import Any, Callable, NamedTuple


class ClosedForm(NamedTuple):
    """One layer's parameter count from its sizes, without and with biases, and the formula."""

    n: int
    weights_only: int
    formula: str


def mlp_weights(T: int, D: int, M: int, k: int) -> int:
    """Weights (no biases) of Flatten -> Dense(M) -> Dense(k) on T lags of D features.

    >>> mlp_weights(T=20, D=30, M=16, k=3)  # 20*30*16 + 16*3
    9648
    """
    return T * D * M + M * k


def elman_weights(D: int, M: int, k: int) -> int:
    """Weights (no biases) of an Elman network: D inputs, M hidden units, k outputs.

    >>> elman_weights(D=30, M=16, k=3)  # 30*16 + 16*16 + 16*3
    784
    """
    return D * M + M * M + M * k


def dense(i: int, u: int, bias: bool = True) -> ClosedForm:
    """``Dense(u)`` on ``i`` inputs: ``i * u + u``.

    >>> dense(16, 3)
    ClosedForm(n=51, weights_only=48, formula='16 * 3 + 3 = 51')
    """
    n = i * u + int(bias) * u
    return ClosedForm(n, i * u, f"{i} * {u}{f' + {u}' if bias else ''} = {n}")


def conv1d(k: int, i: int, u: int, bias: bool = True) -> ClosedForm:
    """``Conv1D(u, k)`` on ``i`` channels: ``k * i * u + u``."""
    w = k * i * u
    n = w + int(bias) * u
    return ClosedForm(n, w, f"{k} * {i} * {u}{f' + {u}' if bias else ''} = {n}")


def gated(gates: int, u: int, i: int, n_biases: int) -> ClosedForm:
    """``gates * u * (u + i + n_biases)``: SimpleRNN (1 gate), GRU (3), LSTM (4).

    >>> gated(4, 32, 1, 1).n  # LSTM(32) on one input
    4352
    >>> gated(3, 4, 1, 0).formula  # a GRU without biases
    '3 * 4 * (4 + 1) = 60'
    """
    n = gates * u * (u + i + n_biases)
    lead = f"{gates} * " if gates > 1 else ""
    bias = f" + {n_biases}" if n_biases else ""
    return ClosedForm(n, gates * u * (u + i), f"{lead}{u} * ({u} + {i}{bias}) = {n}")


def jordan(u: int, i: int, o: int, bias: bool = True) -> ClosedForm:
    """A Jordan cell with ``u`` hidden units, ``i`` inputs and ``o`` outputs fed back.

    >>> jordan(4, 1, 3).formula  # hidden layer + output layer
    'hidden 4 * (1 + 3 + 1) + output 3 * (4 + 1) = 35'
    >>> jordan(4, 1, 3, bias=False).formula
    'hidden 4 * (1 + 3) + output 3 * 4 = 28'
    """
    b = int(bias)
    n = u * (i + o + b) + o * (u + b)
    text = (f"hidden {u} * ({i} + {o} + 1) + output {o} * ({u} + 1)" if bias
            else f"hidden {u} * ({i} + {o}) + output {o} * {u}")
    return ClosedForm(n, u * (i + o) + o * u, f"{text} = {n}")


def _dense(layer, i: int) -> ClosedForm:
    return dense(i, layer.units, layer.use_bias)


def _conv1d(layer, i: int) -> ClosedForm:
    return conv1d(layer.kernel_size[0], i, layer.filters, layer.use_bias)


def _simple_rnn(cell, i: int) -> ClosedForm:
    return gated(1, cell.units, i, int(cell.use_bias))


def _lstm(cell, i: int) -> ClosedForm:
    return gated(4, cell.units, i, int(cell.use_bias))


def _gru(cell, i: int) -> ClosedForm:
    # reset_after=True keeps separate input and recurrent biases: two per gate; the
    # notes' form (reset_after=False) one per gate; use_bias=False none.
    return gated(3, cell.units, i, (1 + int(cell.reset_after)) * int(cell.use_bias))


def _jordan(cell, i: int) -> ClosedForm:
    return jordan(cell.units, i, cell.output_units, getattr(cell, "use_bias", True))


_RULES: dict[str, Callable[[Any, int], ClosedForm]] = {
    "Dense": _dense,
    "Conv1D": _conv1d,
    "SimpleRNNCell": _simple_rnn,
    "LSTMCell": _lstm,
    "GRUCell": _gru,
    "JordanCell": _jordan,
}


def _closed_form(layer) -> tuple[int | None, int, str]:
    """(closed-form count or None if unknown, weights only, formula) of ``layer``."""
    if not layer.weights:
        return 0, 0, "0"
    unit = getattr(layer, "cell", layer)  # recurrent layers: the cell holds the weights
    rule = _RULES.get(type(unit).__name__)
    if rule is None:  # unknown layer: no closed form; biases are the 1-D weights
        weights = sum(prod(w.shape) for w in layer.weights if len(w.shape) > 1)
        return None, int(weights), "n/a"
    return rule(unit, int(layer.input.shape[-1]))


def _type_name(layer) -> str:
    name = type(layer).__name__
    cell = getattr(layer, "cell", None)
    if name == "RNN" and cell is not None:  # generic RNN loop: say which cell
        return f"RNN({type(cell).__name__})"
    dilation = getattr(layer, "dilation_rate", (1,))[0]
    if name == "Conv1D" and dilation > 1:  # WaveNet's dilated convolutions
        return f"Conv1D(dilation {dilation})"
    return name


def describe(model) -> list[dict]:
    """One row per layer of a built Keras model, with closed-form parameter counts.

    Args:
        model: A built ``keras.Model`` (e.g. from a model module's ``build``).

    Returns:
        Rows with keys ``name``, ``type`` (class name; ``RNN(<Cell>)`` for the
        generic RNN loop, ``Conv1D(dilation d)`` for a dilated convolution),
        ``output_shape`` (tuple, ``None`` for the batch),
        ``n_params`` (``layer.count_params()``), ``closed_form`` (the same count from
        the formula, ``None`` for a layer type without one), ``formula`` (e.g.
        ``"4 * 32 * (32 + 1 + 1) = 4352"``) and ``weights_only`` (without biases).

    Example:
        >>> from forecaster.models import lstm
        >>> row = describe(lstm.build(lstm.Config(), lookback=8, n_features=1, horizon=3))[1]
        >>> row["type"], row["output_shape"], row["n_params"], row["formula"]
        ('LSTM', (None, 32), 4352, '4 * 32 * (32 + 1 + 1) = 4352')
    """
    rows = []
    for layer in model.layers:
        closed, weights_only, formula = _closed_form(layer)
        rows.append(
            {
                "name": layer.name,
                "type": _type_name(layer),
                "output_shape": tuple(layer.output.shape),
                "n_params": int(layer.count_params()),
                "closed_form": closed,
                "formula": formula,
                "weights_only": weights_only,
            }
        )
    return rows


def totals(rows: list[dict]) -> dict[str, int]:
    """Sum ``n_params`` and ``weights_only`` over the rows of :func:`describe`.

    >>> rows = [{"n_params": 803, "weights_only": 784},
    ...         {"n_params": 0, "weights_only": 0}]
    >>> totals(rows)
    {'n_params': 803, 'weights_only': 784}
    """
    return {
        "n_params": sum(row["n_params"] for row in rows),
        "weights_only": sum(row["weights_only"] for row in rows),
    }
