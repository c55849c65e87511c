"""A NumPy reference for the course notes' recurrent networks: read it, run it, check Keras with it.

Pure NumPy, written to be read next to the notes: no Keras, TensorFlow or JAX is imported
(a test proves it). Two worked examples:

1. **The Elman forward pass**, with ``h_0 = 0``::

       h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)
       y_t = W_hy h_t + b_y                          (the notes' example has no biases)

   :func:`elman_forward` on the notes' weights (:data:`W_XH`, :data:`W_HH`, :data:`W_HY`)
   and inputs (:data:`X_EXAMPLE`). The notes print these numbers rounded; the exact ones are
   ``h_1 = [1, 1, 0.9999999958776927, 0.9999999999897818, 0.9999999999999747]``
   (``tanh`` of 42, 47, 10, 13, 16) and ``y_2 = [2.9999966739..., 2.9999983369...]``.

2. **The sine-wave RNN** trained with hand-written backpropagation through time (BPTT):
   from the current value of a sine wave, predict the next one. See :func:`bptt`.

Shapes: a sequence is ``(steps, features)``; weight matrices are ``(rows = units out,
columns = units in)`` as in the notes, so Keras stores their transposes.

>>> hs, ys = elman_forward(X_EXAMPLE, W_XH, W_HH, W_HY)
>>> hs.round(6).tolist()[0], ys.round(6).tolist()[1]
([1.0, 1.0, 1.0, 1.0, 1.0], [2.999997, 2.999998])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from forecaster.errors import ConfigError

__all__ = ["W_XH", "W_HH", "W_HY", "X_EXAMPLE", "elman_step", "elman_forward", "Weights",
           "sigmoid", "sine_wave", "square_wave", "square_waves", "init_weights", "rnn_forward",
           "rnn_loss", "bptt", "train"]


def _constant(rows: list[list[float]]) -> np.ndarray:
    """A read-only float64 array, so the notes' numbers cannot be changed by accident."""
    array = np.array(rows, dtype=np.float64)
    array.setflags(write=False)
    return array


# The notes' worked Elman example: rows are hidden units (Keras's kernel is W_XH.T).
W_XH = _constant([[2, 5, 0, 3], [0, 3, 8, 2], [3, 0, 1, 1], [0, 1, 2, 0], [1, 1, 2, 1]])  # (5, 4)
W_HH = _constant([[1, 0, 1, 1, 2], [1, 1, 4, 1, 2], [3, 0, 1, 1, 1], [1, 1, 2, 0, 9],
                  [1, 1, 1, 1, 1]])  # (5, 5)
W_HY = _constant([[1, 0, 1, 0, 1], [0, 1, 0, 1, 1]])  # (2, 5)
X_EXAMPLE = _constant([[2, 7, 3, 1], [0, 1, 0, 1]])  # (steps=2, n_in=4): x_1, x_2


# ---------------------------------------------------------------------------------------------
# 1. The Elman network, forward only


def elman_step(x: np.ndarray, h_prev: np.ndarray, w_xh: np.ndarray, w_hh: np.ndarray,
               b_h: np.ndarray | None = None) -> np.ndarray:
    """One Elman step: ``h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)``.

    Args:
        x: the input ``x_t``, shape ``(n_in,)``.
        h_prev: the previous state ``h_{t-1}``, shape ``(units,)``; zeros at ``t = 1``.
        w_xh: input weights, ``(units, n_in)``.
        w_hh: recurrent weights, ``(units, units)``.
        b_h: optional hidden bias, ``(units,)``.

    Returns:
        ``h_t``, shape ``(units,)``.

    >>> elman_step(X_EXAMPLE[0], np.zeros(5), W_XH, W_HH)[2].item()  # tanh(10)
    0.9999999958776927
    """
    a = w_xh @ x + w_hh @ h_prev
    return np.tanh(a if b_h is None else a + b_h)


def elman_forward(xs: np.ndarray, w_xh: np.ndarray, w_hh: np.ndarray, w_hy: np.ndarray, *,
                  b_h: np.ndarray | None = None,
                  b_y: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run an Elman network over a sequence from ``h_0 = 0``; return every ``h_t`` and ``y_t``.

    ``h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)`` and ``y_t = W_hy h_t + b_y``.

    Args:
        xs: the inputs ``x_1 .. x_T``, shape ``(steps, n_in)``.
        w_xh, w_hh, w_hy: weights, ``(units, n_in)``, ``(units, units)``, ``(n_out, units)``.
        b_h, b_y: optional biases, ``(units,)`` and ``(n_out,)``.

    Returns:
        ``(hs, ys)``: the states ``(steps, units)`` and outputs ``(steps, n_out)``; row
        ``t - 1`` holds step ``t``.

    The notes' example prints ``y_2`` as ``[3, 3]``; it is just below 3:

    >>> hs, ys = elman_forward(X_EXAMPLE, W_XH, W_HH, W_HY)
    >>> [round(v, 10) for v in ys[1].tolist()]
    [2.9999966739, 2.9999983369]
    """
    xs = np.asarray(xs, dtype=np.float64)
    h = np.zeros(w_hh.shape[0])  # (units,): h_0
    hs = np.empty((len(xs), len(h)))  # (steps, units)
    for t, x in enumerate(xs):
        h = hs[t] = elman_step(x, h, w_xh, w_hh, b_h)
    ys = hs @ w_hy.T  # (steps, n_out): row t is W_hy h_t
    return hs, ys if b_y is None else ys + b_y


# ---------------------------------------------------------------------------------------------
# 2. The sine-wave RNN, trained with hand-written BPTT


class Weights(NamedTuple):
    """The sine-wave RNN's weights, named as in the notes (no biases). Gradients use it too.

    >>> [w.shape for w in init_weights(3)]
    [(3, 1), (3, 3), (1, 3)]
    """

    U: np.ndarray  # (units, n_in): input -> hidden
    W: np.ndarray  # (units, units): hidden -> hidden
    V: np.ndarray  # (n_out, units): hidden -> output


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-a))``; its derivative is ``h (1 - h)``.

    >>> sigmoid(np.array([0.0])).tolist()
    [0.5]
    """
    return 1.0 / (1.0 + np.exp(-a))


def sine_wave(steps: int = 24, *, period: float = 12.0,
              phase: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The notes' task: inputs ``x_t = sin(2 pi t / period + phase)``, targets ``y_t = x_{t+1}``.

    Returns:
        ``(xs, ys)``, each of shape ``(steps, 1)``.

    >>> xs, ys = sine_wave(4, period=4)
    >>> xs.round(6).ravel().tolist(), ys.round(6).ravel().tolist()
    ([0.0, 1.0, 0.0, -1.0], [1.0, 0.0, -1.0, -0.0])
    """
    wave = np.sin(2 * np.pi * np.arange(steps + 1) / period + phase)  # (steps + 1,)
    return wave[:-1, None], wave[1:, None]  # (steps, 1) each: now, next


def square_wave(steps: int, *, plateau: int = 8, phase: int = 0) -> np.ndarray:
    """``+1`` for ``plateau`` steps, then ``-1`` for ``plateau`` steps, and so on: ``(steps,)``.

    Inside a plateau, a window shorter than the plateau sees a constant and cannot tell
    when the next flip comes; the number of steps since the last flip (up to ``plateau``)
    can. A stateful network trained with truncated BPTT over fewer steps than that can
    carry it in its state (``tests/test_stateful.py``, ``benchmarks/course.py``).

    >>> square_wave(6, plateau=2, phase=1).tolist()
    [1.0, -1.0, -1.0, 1.0, 1.0, -1.0]
    """
    t = np.arange(steps) + phase
    return np.where((t // plateau) % 2 == 0, 1.0, -1.0)


def square_waves(n_series: int, steps: int, *, plateau: int = 8, noise: float = 0.05,
                 seed: int = 0) -> np.ndarray:
    """``n_series`` noisy :func:`square_wave` s, each with its own random phase: ``(n_series, steps)``.

    >>> square_waves(3, 10).shape
    (3, 10)
    """
    rng = np.random.default_rng(seed)
    return np.stack([square_wave(steps, plateau=plateau, phase=int(rng.integers(2 * plateau)))
                     + rng.normal(0.0, noise, steps) for _ in range(n_series)])


def init_weights(units: int = 8, *, n_in: int = 1, n_out: int = 1, scale: float = 0.5,
                 seed: int = 0) -> Weights:
    """Small random weights, normal with standard deviation ``scale``, reproducible for ``seed``.

    >>> init_weights(4, seed=0).W.shape
    (4, 4)
    """
    rng = np.random.default_rng(seed)
    return Weights(U=rng.normal(0.0, scale, (units, n_in)),
                   W=rng.normal(0.0, scale, (units, units)),
                   V=rng.normal(0.0, scale, (n_out, units)))


def rnn_forward(xs: np.ndarray, weights: Weights) -> tuple[np.ndarray, np.ndarray]:
    """Forward pass from ``h_0 = 0``: every state ``h_t`` and output ``o_t``.

    ``a_t = W h_{t-1} + U x_t``, ``h_t = sigmoid(a_t)``, ``o_t = V h_t``.

    Args:
        xs: inputs, ``(steps, n_in)``.
        weights: ``U``, ``W``, ``V``.

    Returns:
        ``(hs, os)``: states ``(steps, units)`` and outputs ``(steps, n_out)``.

    >>> hs, os = rnn_forward(np.zeros((3, 1)), init_weights(2))
    >>> hs.shape, os.shape
    ((3, 2), (3, 1))
    >>> hs[0].tolist()  # x_1 = 0 and h_0 = 0 give a_1 = 0, so h_1 = sigmoid(0) = 1/2
    [0.5, 0.5]
    """
    U, W, V = weights
    xs = np.asarray(xs, dtype=np.float64)
    h = np.zeros(W.shape[0])  # (units,): h_0
    hs = np.empty((len(xs), len(h)))  # (steps, units)
    for t, x in enumerate(xs):
        h = hs[t] = sigmoid(W @ h + U @ x)
    return hs, hs @ V.T  # (steps, n_out): row t is V h_t


def rnn_loss(os: np.ndarray, ys: np.ndarray, *, last_only: bool = False) -> float:
    """``E = 1/2 sum_t ||o_t - y_t||^2`` over every step, or only the last if ``last_only``.

    >>> rnn_loss(np.array([[1.0], [2.0]]), np.array([[0.0], [0.0]]))
    2.5
    >>> rnn_loss(np.array([[1.0], [2.0]]), np.array([[0.0], [0.0]]), last_only=True)
    2.0
    """
    errors = np.asarray(os, dtype=np.float64) - ys  # (steps, n_out)
    if last_only:
        errors = errors[-1:]  # (1, n_out)
    return 0.5 * float(np.sum(errors ** 2))


def bptt(xs: np.ndarray, ys: np.ndarray, weights: Weights, *, truncate: int | None = None,
         last_only: bool = False) -> tuple[float, Weights]:
    """The loss and its gradients ``dE/dU``, ``dE/dW``, ``dE/dV``, by the chain rule through time.

    The network is :func:`rnn_forward`'s; the loss is :func:`rnn_loss`'s: by default the
    many-to-many ``E = 1/2 sum_t (o_t - y_t)^2`` summed over **all** steps ``t = 1..T``;
    with ``last_only=True`` only the last step's error counts (many-to-one). With the
    error ``e_t = o_t - y_t`` (zero for ``t < T`` if ``last_only``) and
    ``delta_t = dE/da_t``, going backwards from ``t = T`` with ``delta_{T+1} = 0``::

        dE/dV   = sum_t e_t h_t^T
        delta_t = (V^T e_t + W^T delta_{t+1}) * sigmoid'(a_t),   sigmoid'(a_t) = h_t (1 - h_t)
        dE/dW   = sum_t delta_t h_{t-1}^T
        dE/dU   = sum_t delta_t x_t^T

    Truncated BPTT (``truncate=K``) carries each step's error back at most ``K`` steps,
    through ``a_t, a_{t-1}, .., a_{t-K+1}``; ``K >= T`` is full BPTT, ``K = 1`` drops every
    path through ``W`` into the past (``dE/dW`` keeps only ``delta_t h_{t-1}^T`` terms).

    Args:
        xs: inputs ``(steps, n_in)``; ys: targets ``(steps, n_out)``.
        weights: ``U``, ``W``, ``V``.
        truncate: ``None`` for full BPTT, or ``K >= 1`` steps back.
        last_only: score only the last step.

    Returns:
        ``(loss, grads)``, ``grads`` a :class:`Weights` of ``dE/dU``, ``dE/dW``, ``dE/dV``.

    Raises:
        ConfigError: ``truncate`` is not ``None`` or a positive integer.

    The hand-written gradient agrees with a finite difference:

    >>> xs, ys = sine_wave(12)
    >>> weights = init_weights(4, seed=0)
    >>> loss, grads = bptt(xs, ys, weights)
    >>> bumped = weights.W.copy(); bumped[0, 1] += 1e-6
    >>> numeric = (rnn_loss(rnn_forward(xs, weights._replace(W=bumped))[1], ys) - loss) / 1e-6
    >>> bool(abs(numeric - grads.W[0, 1]) < 1e-5)
    True
    """
    whole = isinstance(truncate, (int, np.integer)) and not isinstance(truncate, bool)
    if truncate is not None and not (whole and truncate >= 1):
        raise ConfigError(f"truncate={truncate!r} is not a number of steps. "
                          "Pass None for full BPTT or an integer K >= 1.")
    hs, os = rnn_forward(xs, weights)
    errors = os - ys  # (steps, n_out): e_t
    if last_only:
        errors[:-1] = 0.0  # only e_T reaches the loss
    xs = np.asarray(xs, dtype=np.float64)
    h_prev = np.vstack([np.zeros((1, hs.shape[1])), hs[:-1]])  # (steps, units): h_{t-1}
    if truncate is None:
        dU, dW = _backward_full(xs, hs, h_prev, errors, weights)
    else:
        dU, dW = _backward_truncated(xs, hs, h_prev, errors, weights, truncate)
    dV = errors.T @ hs  # (n_out, units): sum_t e_t h_t^T
    return rnn_loss(os, ys, last_only=last_only), Weights(U=dU, W=dW, V=dV)


def _backward_full(xs: np.ndarray, hs: np.ndarray, h_prev: np.ndarray, errors: np.ndarray,
                   weights: Weights) -> tuple[np.ndarray, np.ndarray]:
    """dE/dU and dE/dW by the backward recursion for ``delta_t`` (see :func:`bptt`)."""
    _, W, V = weights
    deltas = np.zeros_like(hs)  # (steps, units): delta_t = dE/da_t
    carry = np.zeros(hs.shape[1])  # (units,): W^T delta_{t+1}, zero past the last step
    for t in reversed(range(len(hs))):
        deltas[t] = (errors[t] @ V + carry) * hs[t] * (1.0 - hs[t])  # errors[t] @ V = V^T e_t
        carry = W.T @ deltas[t]
    return deltas.T @ xs, deltas.T @ h_prev  # (units, n_in), (units, units)


def _backward_truncated(xs: np.ndarray, hs: np.ndarray, h_prev: np.ndarray, errors: np.ndarray,
                        weights: Weights, k: int) -> tuple[np.ndarray, np.ndarray]:
    """dE/dU and dE/dW with each error ``e_t`` carried back through at most ``k`` steps."""
    _, W, V = weights
    dU = np.zeros((hs.shape[1], xs.shape[1]))  # (units, n_in)
    dW = np.zeros_like(W)  # (units, units)
    for t in range(len(hs)):
        delta = (errors[t] @ V) * hs[t] * (1.0 - hs[t])  # (units,): dE_t/da_t
        for s in range(t, max(t - k, -1), -1):  # s = t, t-1, .., t-k+1
            dU += np.outer(delta, xs[s])
            dW += np.outer(delta, h_prev[s])
            delta = (W.T @ delta) * h_prev[s] * (1.0 - h_prev[s])  # dE_t/da_{s-1}
    return dU, dW


def train(xs: np.ndarray, ys: np.ndarray, *, units: int = 8, epochs: int = 300,
          learning_rate: float = 0.02, truncate: int | None = None, last_only: bool = False,
          seed: int = 0) -> tuple[Weights, np.ndarray]:
    """Plain gradient descent with :func:`bptt`: ``theta <- theta - learning_rate * dE/dtheta``.

    One epoch is one full-batch step on the whole sequence; the start is
    :func:`init_weights` with ``seed``, so a run is reproducible.

    Returns:
        ``(weights, losses)``: the trained weights and the loss before each step, ``(epochs,)``.

    >>> xs, ys = sine_wave(24)
    >>> weights, losses = train(xs, ys, units=8, epochs=300, seed=0)
    >>> bool(losses[-1] < 0.5 * losses[0])
    True
    """
    weights = init_weights(units, n_in=xs.shape[1], n_out=ys.shape[1], seed=seed)
    losses = np.empty(epochs)  # (epochs,)
    for epoch in range(epochs):
        losses[epoch], grads = bptt(xs, ys, weights, truncate=truncate, last_only=last_only)
        weights = Weights(*(w - learning_rate * g for w, g in zip(weights, grads)))
    return weights, losses
