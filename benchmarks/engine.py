"""Engine levers on W1: what moves LSTM training windows/s on this CPU, and does it stay correct.

Same data, network and optimiser as ``plain_keras_w1.py`` (ETTh1 OT, lookback 96,
horizon 24, LSTM(64) -> Dense(24), Adam 1e-3 with clipnorm 1.0, MSE, 5 epochs, seed 0),
with one lever changed at a time from forecaster's configuration (TensorFlow, op
determinism on, ``jit_compile`` left to Keras, which turns XLA off on CPU-only TF):

- backend: tensorflow / jax;  jit_compile: on / off (TF; JAX always compiles);
- batch size 32 / 64 / 128;  TF op determinism on / off;
- threads: TF intra/inter-op pools 1 vs 2; JAX single-threaded Eigen + ``OMP_NUM_THREADS=1``;
- ``unroll=True`` (TF only: JAX compiles an unrolled loop for minutes);
- ``ScanLSTM``: a hand-written LSTM layer whose input projection for every time step is
  one matmul before a ``keras.ops.scan`` recurrence (only ``h @ U`` inside the loop).
- ``mixed_bfloat16``: Keras's dtype policy, bfloat16 compute with float32 weights (this
  CPU has AVX-512 BF16 but no AMX).

The model is forecaster's own ``lstm`` (``forecaster.models.module("lstm").build``) unless
the lever needs another layer. Each measurement is a fresh process started after the
load average drops below 0.7::

    python benchmarks/engine.py [--quick]
    python benchmarks/engine.py --measure '{"backend": "jax", "layer": "scan"}'   # one child
"""

from __future__ import annotations

import json
import time

import _common
import plain_keras_w1 as w1

BASE = {"backend": "tensorflow", "layer": "keras", "batch_size": 32, "jit_compile": "auto",
        "determinism": True, "threads": None, "single_thread_env": False, "dtype_policy": None}
# (label, changes to BASE); the first row of each backend is its reference.
LEVERS = [
    ("tf: forecaster's configuration", {}),
    ("tf: op determinism off", {"determinism": False}),
    ("tf: jit_compile=True (XLA)", {"jit_compile": True}),
    ("tf: unroll=True", {"layer": "unrolled"}),
    ("tf: unroll=True + XLA", {"layer": "unrolled", "jit_compile": True}),
    ("tf: 1 thread (intra=inter=1)", {"threads": 1}),
    ("tf: 2 threads (intra=inter=2)", {"threads": 2}),
    ("tf: batch 64", {"batch_size": 64}),
    ("tf: batch 128", {"batch_size": 128}),
    ("tf: ScanLSTM (ops.scan)", {"layer": "scan"}),
    ("tf: ScanLSTM (ops.fori_loop)", {"layer": "fori"}),
    ("tf: mixed_bfloat16", {"dtype_policy": "mixed_bfloat16"}),
    ("jax: default (jit)", {"backend": "jax", "determinism": False}),
    ("jax: single-threaded (XLA_FLAGS, OMP=1)", {"backend": "jax", "determinism": False,
                                                  "single_thread_env": True}),
    ("jax: batch 64", {"backend": "jax", "determinism": False, "batch_size": 64}),
    ("jax: batch 128", {"backend": "jax", "determinism": False, "batch_size": 128}),
    ("jax: ScanLSTM (ops.scan)", {"backend": "jax", "determinism": False, "layer": "scan"}),
    ("jax: ScanLSTM (ops.fori_loop)", {"backend": "jax", "determinism": False, "layer": "fori"}),
    ("jax: ScanLSTM (ops.scan, unroll=4)", {"backend": "jax", "determinism": False,
                                            "layer": "scan", "unroll": 4}),
    ("jax: single-threaded, batch 64", {"backend": "jax", "determinism": False,
                                        "batch_size": 64, "single_thread_env": True}),
    # bfloat16 compute, float32 weights (this CPU has AVX-512 BF16, no AMX)
    ("jax: mixed_bfloat16", {"backend": "jax", "determinism": False,
                             "dtype_policy": "mixed_bfloat16"}),
]
QUICK = ["tf: forecaster's configuration", "jax: default (jit)", "jax: ScanLSTM (ops.scan)"]
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1",
                     "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


def lstm_step(ops, h, c, z_t, recurrent_kernel):
    """One LSTM step given the precomputed input part ``z_t = x_t @ W + b`` of the gates."""
    gates = z_t + ops.matmul(h, recurrent_kernel)  # (batch, 4 * units)
    i, f, g, o = ops.split(gates, 4, axis=-1)
    c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
    return ops.sigmoid(o) * ops.tanh(c), c  # new h, c: (batch, units) each


def scan_lstm_layer(loop: str = "scan", unroll: int = 1):
    """``ScanLSTM(units)``: LSTM with the input projection hoisted out of the time loop.

    ``loop`` is ``"scan"`` (``keras.ops.scan``, unrolled ``unroll`` steps at a time) or
    ``"fori"`` (``keras.ops.fori_loop`` carrying ``(h, c)``: no per-step outputs). Weights
    are laid out as Keras's LSTM (kernel, recurrent_kernel, bias; gates i, f, c, o).
    """
    import keras
    from keras import ops

    class ScanLSTM(keras.layers.Layer):
        def __init__(self, units: int, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            u = self.units
            self.kernel = self.add_weight(shape=(input_shape[-1], 4 * u), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(u, 4 * u), name="recurrent_kernel")
            self.bias = self.add_weight(shape=(4 * u,), name="bias", initializer="zeros")

        def call(self, x):  # x: (batch, lookback, n_features)
            z = ops.einsum("btf,fg->tbg", x, self.kernel) + self.bias  # (lookback, batch, 4u)
            zeros = ops.zeros((ops.shape(x)[0], self.units), dtype=x.dtype)  # (batch, units)
            rk = self.recurrent_kernel
            if loop == "fori":
                h, _ = ops.fori_loop(0, x.shape[1], lambda t, hc: lstm_step(ops, *hc, z[t], rk),
                                     (zeros, zeros))
                return h  # (batch, units)
            step = lambda hc, z_t: (lstm_step(ops, *hc, z_t, rk), None)  # noqa: E731
            (h, _), _ = ops.scan(step, (zeros, zeros), z, unroll=unroll)
            return h  # (batch, units)

    return ScanLSTM


def build(cfg: dict):
    """The W1 network with the configured recurrent layer.

    Every variant starts from the initial weights of forecaster's own ``lstm`` model
    (built first, same seed), so that test MSEs compare implementations, not draws.
    """
    import keras

    from forecaster.models import make_config, module

    reference = module("lstm").build(make_config("lstm", {"units": w1.UNITS}),
                                     lookback=w1.LOOKBACK, n_features=1, horizon=w1.HORIZON)
    if cfg["layer"] == "keras":
        return reference
    inputs = keras.Input(shape=(w1.LOOKBACK, 1))
    if cfg["layer"] == "unrolled":
        x = keras.layers.LSTM(w1.UNITS, unroll=True)(inputs)  # (batch, units)
    else:
        x = scan_lstm_layer(cfg["layer"], cfg.get("unroll", 1))(w1.UNITS)(inputs)  # (batch, units)
    model = keras.Model(inputs, keras.layers.Dense(w1.HORIZON)(x))  # (batch, horizon)
    model.set_weights(reference.get_weights())
    return model


def measure(cfg: dict) -> dict:
    """One W1 fit under ``cfg`` (runs in a fresh child process with its backend set)."""
    data = w1.w1_arrays()
    import keras

    if cfg["backend"] == "tensorflow":
        import tensorflow as tf

        if cfg["threads"]:
            tf.config.threading.set_intra_op_parallelism_threads(cfg["threads"])
            tf.config.threading.set_inter_op_parallelism_threads(cfg["threads"])
        if cfg["determinism"]:
            tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(w1.SEED)
    if cfg.get("dtype_policy"):
        keras.config.set_dtype_policy(cfg["dtype_policy"])
    model = build(cfg)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=w1.LR, clipnorm=w1.CLIPNORM),
                  loss="mse", jit_compile=cfg["jit_compile"])
    timer = w1.epoch_timer()
    start = time.perf_counter()
    model.fit(data["x"], data["y"], batch_size=cfg["batch_size"], epochs=cfg["epochs"],
              shuffle=True, callbacks=[timer], verbose=0)
    return {"fit_s": time.perf_counter() - start, **w1.speed(timer.seconds, len(data["x"])),
            **w1.evaluate(model, data["x_test"], data["y_test"]),
            "n_params": int(model.count_params()), "peak_rss_mib": _common.peak_rss_mib()}


def run_levers(labels: list[str], epochs: int, max_wait: float) -> list[dict]:
    rows = []
    suite_load = _common.wait_until_quiet(max_wait)
    for label, change in LEVERS:
        if label not in labels:
            continue
        cfg = {**BASE, **change, "epochs": epochs}
        env = {"KERAS_BACKEND": cfg["backend"], **(SINGLE_THREAD_ENV if cfg["single_thread_env"]
                                                    else {})}
        load = {**_common.wait_until_idle(max_wait), "suite_start": suite_load}
        try:
            res = _common.child_json(["benchmarks/engine.py", "--measure", json.dumps(cfg)], env=env)
        except RuntimeError as exc:
            res = {"error": str(exc).splitlines()[-1]}
        rows.append({"lever": label, **cfg, **res, "load": load})
        print(f"  {label:42s} " + (f"{res['s_per_epoch']:.3f} s/epoch {res['windows_per_s']:,.0f} "
                                   f"windows/s MSE {res['mse']:.4f}" if "error" not in res
                                   else res["error"]), flush=True)
    return rows


SAME_RESULT = 0.05  # |test MSE - reference| within 5% of the reference: the same training


def annotate(rows: list[dict]) -> dict | None:
    """Speed-up against forecaster's TF configuration; whether each row trains the same model.

    "Same result" compares the test MSE with that of the same backend's reference row
    (both start from the same weights and batches, so only arithmetic differs). The
    fastest row with the same result is returned.
    """
    ok = [r for r in rows if "error" not in r]
    refs = {r["backend"]: r for r in ok if r["lever"] in ("tf: forecaster's configuration",
                                                          "jax: default (jit)")}
    tf_ref = refs.get("tensorflow") or (ok[0] if ok else None)
    for r in ok:
        ref = refs.get(r["backend"], tf_ref)
        r["speedup"] = r["windows_per_s"] / tf_ref["windows_per_s"]
        r["same_result"] = abs(r["mse"] - ref["mse"]) <= SAME_RESULT * ref["mse"]
    same = [r for r in ok if r["same_result"]]
    return max(same, key=lambda r: r["windows_per_s"]) if same else None


def render(rows: list[dict], epochs: int) -> str:
    best = annotate(rows)
    cols = [("lever", "configuration", ""), ("batch_size", "batch", "d"),
            ("s_per_epoch", "s/epoch", ".3f"), ("windows_per_s", "windows/s", ",.0f"),
            ("speedup", "x TF default", ".2f"), ("spread_pct", "epoch spread %", ".0f"),
            ("mse", "test MSE", ".4f"), ("same_result", "same result", ""),
            ("peak_rss_mib", "RSS MiB", ".0f"), ("error", "error", "")]
    verdict = (f"Fastest configuration with the same result: **{best['lever']}**, "
               f"{best['windows_per_s']:,.0f} windows/s ({best['speedup']:.2f}x forecaster's TF "
               f"configuration), test MSE {best['mse']:.4f}." if best else "")
    return "\n".join([
        f"W1 network, {epochs} epochs; s/epoch = median of epochs 2-{epochs}; each row one fresh "
        "process. 'x TF default' = windows/s relative to forecaster's configuration on TF; "
        "epoch spread = (slowest - fastest) / median of those epochs. Every variant starts from "
        "the same initial weights; 'same result' = test MSE within 5% of its backend's "
        "reference row (a batch-size change trains a different model).", "",
        _common.table(rows, cols), "", verdict])


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--measure", help="one configuration as JSON (child mode)")
    args = p.parse_args()
    if args.measure:
        print(json.dumps(measure({**BASE, "epochs": w1.EPOCHS, **json.loads(args.measure)})))
        return
    start = time.perf_counter()
    labels = QUICK if args.quick else [label for label, _ in LEVERS]
    epochs = 2 if args.quick else w1.EPOCHS
    rows = run_levers(labels, epochs, max_wait=0 if args.quick else 600)
    _common.write_report("engine", quick=args.quick, wall_s=time.perf_counter() - start,
                         settings={"base": BASE, "epochs": epochs, "levers": dict(LEVERS),
                                   "single_thread_env": SINGLE_THREAD_ENV},
                         results={"rows": rows}, markdown=render(rows, epochs))


if __name__ == "__main__":
    main()
