"""The NumPy reference (forecaster.reference): the notes' numbers, and Keras agreeing with it.

Runs on the process's Keras backend (``KERAS_BACKEND``, default jax); one test reruns this
file on every other supported backend in a subprocess, so both are checked by one pytest run.

Tolerances: the reference computes in float64, Keras in float32 (its default floatx; JAX
also lacks x64 unless enabled at start-up). Weights and inputs are rounded to float32 first
(`_f32`), so the two start from the same numbers and differ only by Keras's float32
arithmetic (unit roundoff 6e-8 per operation). Hence rtol = atol = 1e-6 for values of order
1 (states, outputs), and 1e-5 for the loss and gradients, which are sums over 16 steps whose
summation order the backends choose (measured worst on both backends: 3e-7 relative, 1.1e-6
absolute on a gradient entry of 7.8). Within NumPy (float64) the notes' numbers are checked
to the digits given (1e-15 for h_1, 1e-9 for y_2), and BPTT against central differences
(eps 1e-6) to 1e-7 (their own truncation and rounding error: measured 5e-10).
"""

from __future__ import annotations

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from forecaster import reference as ref
from forecaster.backend import BACKENDS
from forecaster.errors import ConfigError
from tests.conftest import REPO

F32 = {"rtol": 1e-6, "atol": 1e-6}  # float32 Keras vs float64 NumPy, values of order 1
F32_SUMS = {"rtol": 1e-5, "atol": 1e-5}  # float32 Keras vs float64 NumPy, sums over steps
BACKEND = keras.backend.backend()
OTHERS = [b for b in BACKENDS if b != BACKEND]

H1 = [1.0, 1.0, 0.9999999958776927, 0.9999999999897818, 0.9999999999999747]  # the notes, exact
Y2 = [2.9999966739, 2.9999983369]  # the notes print [3, 3]


# ---------------------------------------------------------------------------------------------
# The reference on its own (float64)


def test_importing_the_reference_imports_no_deep_learning_framework():
    code = ("import sys, forecaster.reference; "
            "print(','.join(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == ""


def test_elman_example_matches_the_notes_exact_numbers():
    hs, ys = ref.elman_forward(ref.X_EXAMPLE, ref.W_XH, ref.W_HH, ref.W_HY)
    assert hs.dtype == np.float64 and hs.shape == (2, 5) and ys.shape == (2, 2)
    np.testing.assert_allclose(hs[0], H1, rtol=0, atol=1e-15)
    np.testing.assert_allclose(ys[1], Y2, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ys[1], ref.W_HY @ hs[1], rtol=0, atol=0)
    # The notes' printed, rounded values.
    assert hs[0].round().tolist() == [1, 1, 1, 1, 1] and ys[1].round().tolist() == [3, 3]


def test_elman_forward_is_elman_step_repeated_from_a_zero_state_with_biases():
    rng = np.random.default_rng(0)
    b_h, b_y = rng.normal(size=5), rng.normal(size=2)
    hs, ys = ref.elman_forward(ref.X_EXAMPLE, ref.W_XH, ref.W_HH, ref.W_HY, b_h=b_h, b_y=b_y)
    h1 = ref.elman_step(ref.X_EXAMPLE[0], np.zeros(5), ref.W_XH, ref.W_HH, b_h)
    h2 = ref.elman_step(ref.X_EXAMPLE[1], h1, ref.W_XH, ref.W_HH, b_h)
    np.testing.assert_array_equal(hs, [h1, h2])
    np.testing.assert_array_equal(ys, [ref.W_HY @ h1 + b_y, ref.W_HY @ h2 + b_y])


def test_the_notes_numbers_are_read_only():
    with pytest.raises(ValueError):
        ref.W_XH[0, 0] = 99.0


def _numeric_gradient(xs, ys, weights, last_only, eps=1e-6):
    """Central differences of the loss in every weight (float64)."""
    grads = []
    for name, w in weights._asdict().items():
        g = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            losses = []
            for sign in (1, -1):
                bumped = w.copy()
                bumped[idx] += sign * eps
                _, os_ = ref.rnn_forward(xs, weights._replace(**{name: bumped}))
                losses.append(ref.rnn_loss(os_, ys, last_only=last_only))
            g[idx] = (losses[0] - losses[1]) / (2 * eps)
        grads.append(g)
    return ref.Weights(*grads)


@pytest.mark.parametrize("last_only", [False, True])
def test_bptt_gradients_match_finite_differences(last_only):
    xs, ys = ref.sine_wave(10)
    weights = ref.init_weights(3, seed=1)
    loss, grads = ref.bptt(xs, ys, weights, last_only=last_only)
    assert loss == ref.rnn_loss(ref.rnn_forward(xs, weights)[1], ys, last_only=last_only)
    for ours, numeric in zip(grads, _numeric_gradient(xs, ys, weights, last_only)):
        np.testing.assert_allclose(ours, numeric, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("last_only", [False, True])
def test_truncated_bptt_with_k_at_least_the_length_is_full_bptt(last_only):
    xs, ys = ref.sine_wave(12)
    weights = ref.init_weights(4, seed=2)
    loss, full = ref.bptt(xs, ys, weights, last_only=last_only)
    for k in (12, 50):
        loss_k, truncated = ref.bptt(xs, ys, weights, truncate=k, last_only=last_only)
        assert loss_k == loss
        for a, b in zip(truncated, full):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_truncated_bptt_with_k_1_drops_the_paths_through_time():
    xs, ys = ref.sine_wave(12)
    weights = ref.init_weights(4, seed=2)
    _, full = ref.bptt(xs, ys, weights)
    _, one = ref.bptt(xs, ys, weights, truncate=1)
    np.testing.assert_array_equal(one.V, full.V)  # dE/dV has no path through time
    assert not np.allclose(one.W, full.W, rtol=1e-3) and not np.allclose(one.U, full.U, rtol=1e-3)
    # With K = 1, delta_t is the local V^T e_t * h_t (1 - h_t).
    hs, os_ = ref.rnn_forward(xs, weights)
    local = ((os_ - ys) @ weights.V) * hs * (1 - hs)  # (steps, units)
    np.testing.assert_allclose(one.U, local.T @ xs, rtol=1e-12)


@pytest.mark.parametrize("truncate", [0, -1, 1.5, True, "3"])
def test_bptt_rejects_a_truncation_that_is_not_a_positive_integer(truncate):
    xs, ys = ref.sine_wave(4)
    with pytest.raises(ConfigError, match=f"truncate={truncate!r}"):
        ref.bptt(xs, ys, ref.init_weights(2), truncate=truncate)


def test_training_halves_the_loss_reproducibly():
    xs, ys = ref.sine_wave(24)
    weights, losses = ref.train(xs, ys, units=8, epochs=300, seed=0)
    assert losses.shape == (300,) and np.all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0]
    assert np.all(np.diff(losses) <= 0)  # small enough steps: the loss never goes up
    again, losses_again = ref.train(xs, ys, units=8, epochs=300, seed=0)
    np.testing.assert_array_equal(losses_again, losses)
    for a, b in zip(again, weights):
        np.testing.assert_array_equal(a, b)
    _, other = ref.train(xs, ys, units=8, epochs=300, seed=1)
    assert other[0] != losses[0]


# ---------------------------------------------------------------------------------------------
# Keras agrees with the reference (float32)


def _f32(array: np.ndarray) -> np.ndarray:
    """Round to float32 and back, so NumPy and Keras start from the very same numbers."""
    return np.asarray(array, dtype=np.float32).astype(np.float64)


def test_keras_simple_rnn_reproduces_the_elman_example():
    layer = keras.layers.SimpleRNN(5, use_bias=False, return_sequences=True)
    layer.build((1, 2, 4))
    layer.set_weights([ref.W_XH.T, ref.W_HH.T])  # Keras stores the transposes
    hs = keras.ops.convert_to_numpy(layer(ref.X_EXAMPLE[None].astype("float32")))[0]  # (2, 5)
    ys = hs @ ref.W_HY.T  # (steps, n_out)
    np.testing.assert_allclose(hs[0], H1, **F32)
    np.testing.assert_allclose(ys[1], Y2, **F32)
    np.testing.assert_allclose(hs, ref.elman_forward(ref.X_EXAMPLE, ref.W_XH, ref.W_HH,
                                                     ref.W_HY)[0], **F32)


def test_keras_simple_rnn_with_biases_matches_the_reference():
    rng = np.random.default_rng(3)
    xs = _f32(rng.normal(size=(6, 4)))  # (steps, n_in)
    w_xh, w_hh, w_hy = (_f32(rng.normal(0, 0.5, s)) for s in ((5, 4), (5, 5), (2, 5)))
    b_h, b_y = _f32(rng.normal(size=5)), _f32(rng.normal(size=2))
    model = keras.Sequential([keras.Input((6, 4)), keras.layers.SimpleRNN(5, return_sequences=True),
                              keras.layers.Dense(2)])
    model.set_weights([w_xh.T, w_hh.T, b_h, w_hy.T, b_y])
    ys_keras = keras.ops.convert_to_numpy(model(xs[None].astype("float32")))[0]  # (6, 2)
    _, ys = ref.elman_forward(xs, w_xh, w_hh, w_hy, b_h=b_h, b_y=b_y)
    np.testing.assert_allclose(ys_keras, ys, **F32)


def _keras_sine_rnn(weights: ref.Weights, steps: int) -> keras.Model:
    units = weights.W.shape[0]
    model = keras.Sequential([
        keras.Input((steps, weights.U.shape[1])),
        keras.layers.SimpleRNN(units, activation="sigmoid", use_bias=False, return_sequences=True),
        keras.layers.Dense(weights.V.shape[0], use_bias=False),  # o_t = V h_t at every step
    ])
    model.set_weights([weights.U.T, weights.W.T, weights.V.T])
    return model


def _keras_loss(outputs, ys, last_only: bool):
    """E = 1/2 sum_t (o_t - y_t)^2 with Keras ops; outputs (1, steps, n_out)."""
    errors = outputs[0] - keras.ops.convert_to_tensor(ys.astype("float32"))  # (steps, n_out)
    if last_only:
        errors = errors[-1:]  # (1, n_out)
    return 0.5 * keras.ops.sum(keras.ops.square(errors))


def _keras_loss_and_grads(model: keras.Model, xs, ys, last_only: bool):
    """The loss and its gradient in (kernel, recurrent_kernel, dense kernel), by autodiff."""
    x = xs[None].astype("float32")  # (1, steps, n_in)
    if BACKEND == "jax":
        import jax

        def loss_of(trainable):
            fixed = [v.value for v in model.non_trainable_variables]
            outputs, _ = model.stateless_call(trainable, fixed, x)
            return _keras_loss(outputs, ys, last_only)

        loss, grads = jax.value_and_grad(loss_of)([v.value for v in model.trainable_variables])
    elif BACKEND == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = _keras_loss(model(x), ys, last_only)
        grads = tape.gradient(loss, model.trainable_variables)
    else:
        raise AssertionError(f"no autodiff check written for backend {BACKEND!r}")
    return float(loss), [keras.ops.convert_to_numpy(g) for g in grads]


@pytest.mark.parametrize("last_only", [False, True])
def test_hand_written_bptt_matches_keras_autodiff(last_only):
    xs, ys = (_f32(a) for a in ref.sine_wave(16))
    weights = ref.Weights(*(_f32(w) for w in ref.init_weights(6, seed=4)))
    model = _keras_sine_rnn(weights, steps=16)
    assert [tuple(v.shape) for v in model.trainable_variables] == [(1, 6), (6, 6), (6, 1)]
    hs, os_ = ref.rnn_forward(xs, weights)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(xs[None].astype("float32")))[0],
                               os_, **F32)
    keras_loss, keras_grads = _keras_loss_and_grads(model, xs, ys, last_only)
    loss, grads = ref.bptt(xs, ys, weights, last_only=last_only)
    np.testing.assert_allclose(keras_loss, loss, **F32_SUMS)
    for ours, theirs in zip(grads, keras_grads):  # Keras holds U^T, W^T, V^T
        np.testing.assert_allclose(ours, theirs.T, **F32_SUMS)


@pytest.mark.parametrize("backend", OTHERS)
def test_the_same_checks_pass_on_the_other_backends(backend):
    env = {**os.environ, "KERAS_BACKEND": backend}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "-k", "not other_backends", "tests/test_reference.py"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    summary = proc.stdout.strip().splitlines()[-1]
    assert "passed" in summary and "skipped" not in summary, summary
