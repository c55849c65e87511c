"""W1 training speed: forecaster's LSTM against the same network in plain Keras, per backend.

ETTh1 OT, rows [0, 14400). ``Forecaster("lstm", params={"units": 64}, lookback=96,
horizon=24, stride=1, val_size=0, norm="series", patience=0, epochs=5, batch_size=32)``
fitted with
``test_size=5760``, so the training part is exactly rows [0, 8640) (checked on
``splits_``), standardised with their own statistics. Speed is the median of epochs 2-5
of ``history_["epoch_seconds"]``; windows/s = training windows / that median. Peak RSS
is ``ru_maxrss`` of the fresh process that made the measurement. Test MSE/MAE: every
stride-1 window with targets in [11520, 14400), on the standardised scale.

Each measurement runs in its own process (``KERAS_BACKEND`` set), after waiting for
the 1-minute load average to drop below 0.7::

    python benchmarks/w1_speed.py [--quick] [--repeats N]
    python benchmarks/w1_speed.py --measure forecaster --backend jax    # one child
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import _common
import etth1
import plain_keras_w1 as w1

BACKENDS = ("tensorflow", "jax")
IMPLS = {"forecaster": ["benchmarks/w1_speed.py", "--measure", "forecaster"],
         "plain keras": ["benchmarks/plain_keras_w1.py"],
         # Not part of the overhead comparison: the same fit with norm="season", measured once.
         "forecaster, norm=season": ["benchmarks/w1_speed.py", "--measure", "forecaster",
                                     "--norm", "season"]}
ONCE = ("forecaster, norm=season",)
CONTEXT = {"Keras/TF (issue)": 1900, "Keras/JAX (issue)": 4700, "Darts (issue)": 4900,
           "neuralforecast (issue)": "3,600-4,200", "PyTorch loop (issue)": 6700,
           "goal: 1.3x Darts": 6370}


def measure_forecaster(backend: str, epochs: int, norm: str = "series") -> dict:
    """One W1 fit through the public API (runs in a fresh child process)."""
    from forecaster import Forecaster

    panel = etth1.load_panel()  # OT, rows [0, 14400)
    f = Forecaster("lstm", params={"units": w1.UNITS}, lookback=w1.LOOKBACK, horizon=w1.HORIZON,
                   stride=1, val_size=0, scaler="standard", norm=norm, epochs=epochs,
                   batch_size=w1.BATCH, learning_rate=w1.LR, loss="mse", patience=0,
                   clipnorm=w1.CLIPNORM, seed=w1.SEED, backend=backend)
    f.fit(panel, test_size=w1.TEST_END - w1.TRAIN_END)
    assert f.splits_[0].train == (0, w1.TRAIN_END), f.splits_
    n_windows = w1.TRAIN_END - w1.LOOKBACK - w1.HORIZON + 1
    test = etth1.test_scores(f, panel, w1.HORIZON)  # every stride-1 test window, standardised
    impl = "forecaster" if norm == "series" else f"forecaster, norm={norm}"
    return {"impl": impl, "backend": backend, "fit_s": f.fit_seconds_,
            **w1.speed(f.history_["epoch_seconds"], n_windows),
            "mse": test["mse"], "mae": test["mae"],
            "n_test_windows": test["n_windows"], "n_params": f.n_params_,
            "split_train": list(f.splits_[0].train), "peak_rss_mib": _common.peak_rss_mib()}


def run_all(repeats: int, backends, epochs: int, max_wait: float, quick: bool) -> list[dict]:
    """Every (backend, implementation) ``repeats`` times, interleaved, each in a fresh process."""
    runs = []
    suite_load = _common.wait_until_quiet(max_wait)
    for rep in range(repeats):
        for backend in backends:
            for impl, args in IMPLS.items():
                if impl in ONCE and (rep > 0 or quick):
                    continue
                load = {**_common.wait_until_idle(max_wait), "suite_start": suite_load}
                extra = ["--backend", backend] if impl.startswith("forecaster") else []
                res = _common.child_json([*args, *extra, "--epochs", str(epochs)],
                                         env={"KERAS_BACKEND": backend})
                res.update(repeat=rep, load=load)
                print(f"  {backend:10s} {impl:24s} {res['s_per_epoch']:.3f} s/epoch "
                      f"{res['windows_per_s']:,.0f} windows/s, MSE {res['mse']:.4f}, "
                      f"RSS {res['peak_rss_mib']:.0f} MiB, CPU busy {load['cpu_busy']:.2f}", flush=True)
                runs.append(res)
    return runs


def summarise(runs: list[dict], backends) -> list[dict]:
    """Per (backend, impl): the median over repeats, and forecaster's overhead vs plain Keras."""
    rows = []
    for backend in backends:
        plain = None
        for impl in ("plain keras", "forecaster", *ONCE):
            mine = [r for r in runs if r["backend"] == backend and r["impl"] == impl]
            if not mine:
                continue
            def med(k, mine=mine):
                return statistics.median(r[k] for r in mine)
            row = {"backend": backend, "impl": impl, "s_per_epoch": med("s_per_epoch"),
                   "windows_per_s": med("windows_per_s"), "peak_rss_mib": med("peak_rss_mib"),
                   "mse": med("mse"), "mae": med("mae"), "fit_s": med("fit_s"), "runs": len(mine),
                   "spread_pct": med("spread_pct")}
            if impl == "plain keras":
                plain = row
            elif impl == "forecaster":
                row["overhead_pct"] = 100 * (row["s_per_epoch"] / plain["s_per_epoch"] - 1)
            rows.append(row)
    return rows


def render(rows: list[dict], epochs: int) -> str:
    cols = [("backend", "backend", ""), ("impl", "implementation", ""),
            ("s_per_epoch", "s/epoch", ".3f"), ("windows_per_s", "windows/s", ",.0f"),
            ("spread_pct", "epoch spread %", ".0f"),
            ("overhead_pct", "overhead vs plain", "+.1f"), ("peak_rss_mib", "peak RSS MiB", ".0f"),
            ("mse", "test MSE", ".4f"), ("mae", "test MAE", ".4f"), ("runs", "runs", "d")]
    ctx = "\n".join(f"| {k} | {v:,} |" if isinstance(v, int) else f"| {k} | {v} |"
                    for k, v in CONTEXT.items())
    return "\n".join([
        f"W1: ETTh1 OT, LSTM(64) -> Dense(24), lookback 96, batch 32, {epochs} epochs, 8,521 "
        f"training windows. s/epoch = median of epochs 2-{epochs} (then the median over repeats); "
        "overhead = "
        "forecaster s/epoch / plain Keras s/epoch - 1.", "", _common.table(rows, cols), "",
        "Context (numbers quoted in the issue for this kind of machine, not measured here):", "",
        "| reference | windows/s |", "| --- | ---: |", ctx])


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--measure", choices=["forecaster"], help="run one measurement (child mode)")
    p.add_argument("--backend", choices=BACKENDS, default="tensorflow")
    p.add_argument("--norm", default="series", help="forecaster's norm (child mode)")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--epochs", type=int, default=None)
    args = p.parse_args()
    epochs = args.epochs or (2 if args.quick else w1.EPOCHS)
    if args.measure:
        print(json.dumps(measure_forecaster(args.backend, epochs, args.norm)))
        return
    start = time.perf_counter()
    repeats = args.repeats or (1 if args.quick else 2)
    runs = run_all(repeats, BACKENDS, epochs, max_wait=0 if args.quick else 600, quick=args.quick)
    rows = summarise(runs, BACKENDS)
    settings = {"lookback": w1.LOOKBACK, "horizon": w1.HORIZON, "units": w1.UNITS,
                "epochs": epochs, "batch_size": w1.BATCH, "learning_rate": w1.LR,
                "clipnorm": w1.CLIPNORM, "seed": w1.SEED, "repeats": repeats,
                "quiet_load_threshold": _common.QUIET_LOAD}
    _common.write_report("w1_speed", quick=args.quick, wall_s=time.perf_counter() - start,
                         settings=settings, results={"summary": rows, "runs": runs,
                                                     "context": CONTEXT},
                         markdown=render(rows, epochs))


if __name__ == "__main__":
    sys.exit(main())
