"""Per-layer parameter counts, in closed form, next to Keras's own count.

:func:`describe` gives one row per layer of a built model: its name, type, output
shape, Keras's ``count_params()``, the same number from the layer's closed form (the
formula is shown with the numbers filled in) and the count without biases. The closed
forms, with ``u`` units, ``i`` inputs per step, ``o`` Jordan outputs, ``k`` kernel size:

=============  ======================================  =====================
layer          parameters                              weights only
=============  ======================================  =====================
Dense          i * u + u                               i * u
Conv1D         k * i * u + u                           k * i * u
SimpleRNN      u * (u + i + 1)                         u * (u + i)
LSTM           4 * u * (u + i + 1)                     4 * u * (u + i)
GRU            3 * u * (u + i + 2)  (reset_after)      3 * u * (u + i)
JordanCell     u * (i + o + 1) + o * (u + 1)           u * (i + o) + o * u
=============  ======================================  =====================

This module imports nothing heavy: it only reads attributes of the model it is given.

Example (the course's arithmetic, weights only, no biases):
    >>> mlp_weights(T=20, D=30, M=16, k=3)
    9648
    >>> elman_weights(D=30, M=16, k=3)
    784
"""

from __future__ import annotations

from math import prod
from typing import Any, Callable

# (n_params, weights_only, formula) of one layer from its sizes.
ClosedForm = tuple[int, int, str]


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


def _dense(layer, i: int) -> ClosedForm:
    u, b = layer.units, int(layer.use_bias)
    bias = f" + {u}" if b else ""
    return i * u + b * u, i * u, f"{i} * {u}{bias} = {i * u + b * u}"


def _conv1d(layer, i: int) -> ClosedForm:
    k, u, b = layer.kernel_size[0], layer.filters, int(layer.use_bias)
    w = k * i * u
    bias = f" + {u}" if b else ""
    return w + b * u, w, f"{k} * {i} * {u}{bias} = {w + b * u}"


def _gated(gates: int, cell, i: int, n_biases: int) -> ClosedForm:
    """``gates * u * (u + i + n_biases)``: SimpleRNN (1 gate), GRU (3), LSTM (4)."""
    u = cell.units
    n = gates * u * (u + i + n_biases)
    lead = f"{gates} * " if gates > 1 else ""
    bias = f" + {n_biases}" if n_biases else ""
    return n, gates * u * (u + i), f"{lead}{u} * ({u} + {i}{bias}) = {n}"


def _simple_rnn(cell, i: int) -> ClosedForm:
    return _gated(1, cell, i, int(cell.use_bias))


def _lstm(cell, i: int) -> ClosedForm:
    return _gated(4, cell, i, int(cell.use_bias))


def _gru(cell, i: int) -> ClosedForm:
    # reset_after=True keeps separate input and recurrent biases: two per gate.
    n_biases = (1 + int(cell.reset_after)) * int(cell.use_bias)
    return _gated(3, cell, i, n_biases)


def _jordan(cell, i: int) -> ClosedForm:
    u, o = cell.units, cell.output_units
    n = u * (i + o + 1) + o * (u + 1)
    return n, u * (i + o) + o * u, f"{u} * ({i} + {o} + 1) + {o} * ({u} + 1) = {n}"


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
    return name


def describe(model) -> list[dict]:
    """One row per layer of a built Keras model, with closed-form parameter counts.

    Args:
        model: A built ``keras.Model`` (e.g. from a model module's ``build``).

    Returns:
        Rows with keys ``name``, ``type`` (class name; ``RNN(<Cell>)`` for the
        generic RNN loop), ``output_shape`` (tuple, ``None`` for the batch),
        ``n_params`` (``layer.count_params()``), ``closed_form`` (the same count from
        the formula, ``None`` for a layer type without one), ``formula`` (e.g.
        ``"4 * 32 * (32 + 1 + 1) = 4352"``) and ``weights_only`` (without biases).

    Example:
        >>> from forecaster.models import lstm  # doctest: +SKIP
        >>> describe(lstm.build(lstm.Config(), lookback=8, n_features=1, horizon=3))[1]
        ... # doctest: +SKIP
        {'name': 'lstm_1', 'type': 'LSTM', 'output_shape': (None, 32),
         'n_params': 4352, 'closed_form': 4352,
         'formula': '4 * 32 * (32 + 1 + 1) = 4352', 'weights_only': 4224}
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
