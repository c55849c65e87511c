"""Per-series overhead of one global model on many series: where the time of a fit goes.

A panel of ``--series`` synthetic hourly series of ``--length`` points (daily cycle + noise,
different levels) is read from a long DataFrame, then ``Forecaster("mlp", ...)`` is fit with
one epoch and predicts. Each phase is timed by wrapping the library function that does it:

- ``read``: ``forecaster.data.from_frame`` (long frame -> panel)
- ``resolve``: splits and the too-short check (``Forecaster.resolve``)
- ``scalers``: one scaler per series (``scaling.fit``)
- ``layout``: scaling and laying out the series for the windows (``_neural.layout``)
- ``train``: ``training.train`` (one epoch; the model's own work)
- ``calibrate`` and ``score``: conformal calibration and test scoring, each forecasting
  from every origin (``Forecaster._calibrate``, ``Forecaster._score_test``)
- ``predict``: ``Forecaster.predict`` from the end of every series

A warm-up fit on two short series first imports Keras, so that the times are those of
the work. Training is kept short (``--stride``, ``--batch-size``) because the point is the work done
per series outside it, which must stay small next to training at any stride.

    python benchmarks/many_series.py [--quick] [--series 10000] [--length 1000]
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict

import numpy as np
import pandas as pd

import _common


def frame(n_series: int, length: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    level = rng.uniform(10, 100, size=(n_series, 1))
    y = level * (1 + 0.2 * np.sin(2 * np.pi * t / 24)) + rng.normal(0, 1, size=(n_series, length))
    return pd.DataFrame({"id": np.repeat([f"s{i}" for i in range(n_series)], length),
                         "ds": np.tile(pd.date_range("2020-01-01", periods=length, freq="h"), n_series),
                         "y": y.ravel()})


def timed(owner, name: str, spent: dict) -> None:
    """Wrap ``owner.name`` so that the seconds spent in it add up in ``spent[name]``."""
    inner = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - start

    setattr(owner, name, wrapper)


def measure(n_series: int, length: int, stride: int, batch_size: int) -> dict:
    from forecaster import Forecaster, _neural, data, scaling, training
    from forecaster.forecaster import Forecaster as F

    warm = data.from_frame(frame(2, 200), id_col="id")  # import Keras and compile once, outside the timing
    Forecaster("mlp", params={"units": 16, "layers": 1}, epochs=1, batch_size=batch_size).fit(warm)
    spent: dict[str, float] = defaultdict(float)
    for owner, name in [(data, "from_frame"), (F, "resolve"), (scaling, "fit"), (_neural, "layout"),
                        (training, "train"), (F, "_calibrate"), (F, "_score_test"), (F, "predict")]:
        timed(owner, name, spent)
    df = frame(n_series, length)
    panel = data.from_frame(df, id_col="id")
    f = Forecaster("mlp", params={"units": 16, "layers": 1}, stride=stride, epochs=1, patience=0,
                   batch_size=batch_size, seed=0)
    start = time.perf_counter()
    f.fit(panel)
    fit_s = time.perf_counter() - start
    f.predict(panel)
    phases = {"read": spent["from_frame"], "resolve": spent["resolve"], "scalers": spent["fit"],
              "layout": spent["layout"], "train": spent["train"], "calibrate": spent["_calibrate"],
              "score": spent["_score_test"], "predict": spent["predict"]}
    outside = fit_s - spent["train"]
    return {"series": n_series, "length": length, "stride": stride, "batch_size": batch_size,
            "windows": f.n_windows_, "fit_s": fit_s, "fit_outside_training_s": outside,
            "per_series_ms": 1000 * (outside + spent["predict"]) / n_series,
            "phases_s": phases, "peak_rss_mib": _common.peak_rss_mib()}


def main() -> int:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--series", type=int, default=10_000)
    p.add_argument("--length", type=int, default=1_000)
    p.add_argument("--stride", type=int, default=24)
    p.add_argument("--batch-size", type=int, default=1024)
    args = p.parse_args()
    n = 500 if args.quick else args.series
    start = time.perf_counter()
    result = measure(n, args.length, args.stride, args.batch_size)
    print(json.dumps(result, indent=2))
    rows = [{"phase": k, "seconds": v, "ms_per_series": 1000 * v / n} for k, v in result["phases_s"].items()]
    markdown = "\n".join([
        f"{n:,} series x {args.length:,} points, mlp, 1 epoch of {result['windows']:,} windows "
        f"(stride {args.stride}, batch {args.batch_size}): fit {result['fit_s']:.1f} s, of which "
        f"{result['fit_outside_training_s']:.1f} s outside training; "
        f"{result['per_series_ms']:.2f} ms per series outside training (fit and predict).", "",
        _common.table(rows, [("phase", "phase", ""), ("seconds", "seconds", ".2f"),
                             ("ms_per_series", "ms per series", ".3f")])])
    _common.write_report("many_series", quick=args.quick, wall_s=time.perf_counter() - start,
                         settings={**vars(args), "series": n}, results=result, markdown=markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
