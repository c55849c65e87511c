"""Why the intervals are calibrated the way they are: coverage of five calibration schemes.

For every dataset of the ``small`` suite, model and fold (3 rolling origins, as ``small.py``),
the model is fit as ``compare`` fits it, then forecasts from every origin of the last 10
horizons before the end of validation and from the test origin. Each scheme turns the
calibration residuals into per-step quantiles with :func:`forecaster.intervals.calibrate`
(the function ``Forecaster`` uses), and its intervals are scored on the test window:

- ``split-conformal``: validation origins only, the panel's series pooled (the scheme before).
- ``rolling``: every origin of the last 10 horizons, per series, equal weights.
- ``rolling + recency``: the same, each origin weighing 0.8 per horizon of age.
- ``rolling + recency + inflation`` (forecaster's): the quantiles widened by the ratio of the
  validation residuals to the in-sample ones, when above 1.
- ``... pooled``: forecaster's scheme with the panel's series pooled.

    python benchmarks/coverage.py [--quick]

Coverage is the share of test points inside the interval, per (dataset, series, model) pair;
the table gives its mean, minimum and the pairs below 0.60 at 80%, and the mean at 95%.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import _common
import small

MODELS = ("naive", "seasonal_naive", "drift", "mean", "naive2", "auto_ets", "auto_arima",
          "auto_theta", "mstl", "mlp", "lstm")
QUICK_MODELS = ("seasonal_naive", "auto_theta", "mlp")
SCHEMES = ("split-conformal", "rolling", "rolling + recency", "rolling + recency + inflation",
           "rolling + recency + inflation, pooled")


def collect(panel, model: str, fold: int, horizon: int, options: dict) -> list[dict]:
    """Per series: scaled residuals at the calibration origins and at the test origin."""
    from forecaster import Forecaster, intervals
    from forecaster.jobs import fold_panel

    cut = fold_panel(panel, fold, small.FOLDS, horizon)
    f = Forecaster(model, horizon=horizon, **options).fit(cut, test_size=horizon)
    first = f.lookback_ if f.model_ is not None else 1
    out = []
    for i, (s, sp) in enumerate(zip(cut.series, f.splits_)):
        o = np.r_[intervals.calibration_origins(max(first, sp.train[0] + 1), sp.val[1], horizon),
                  sp.test[0]]
        one = [o if j == i else np.array([], dtype=np.int64) for j in range(len(cut.series))]
        pred = f._forecast_for_calibration(cut, one)[i]
        if f.fits_ is not None:  # the test origin as compare forecasts it (exact MSTL)
            pred[-1] = f.forecast_at(cut, [o[-1:] if j == i else np.array([], dtype=np.int64)
                                           for j in range(len(cut.series))])[i][0]
        steps = o[:, None] + np.arange(horizon)  # (n_origins, horizon)
        y = s.values[:, 0]
        scale = f._scales(s, i, o)[:, None]  # (n_origins, 1)
        seen = steps < sp.val[1]
        resid = np.where(seen, (y[np.minimum(steps, len(y) - 1)] - pred) / scale, np.nan)
        out.append({"resid": resid[:-1], "origins": o[:-1], "stop": sp.val[1], "val": sp.val,
                    "train_end": sp.train[1], "steps": steps[:-1], "test": y[sp.test[0]:sp.test[1]],
                    "forecast": pred[-1], "scale": float(scale[-1, 0]), "id": s.id})
    return out


def intervals_for(series: list[dict], scheme: str, horizon: int, level: int) -> list[np.ndarray]:
    """Per series: the half-width in data units of each test step under ``scheme``."""
    from forecaster import intervals

    def args(s, weighted, inflated, val_only=False):
        keep = (s["origins"] >= s["val"][0]) if val_only else np.ones(len(s["origins"]), bool)
        r = s["resid"][keep]
        kw = {}
        if weighted:
            kw["weights"] = intervals.recency_weights(s["origins"][keep], s["stop"], horizon)
        if inflated:
            kw["recent"] = ~np.isnan(r) & (s["origins"][keep] >= s["val"][0])[:, None]
            kw["history"] = s["steps"][keep] < s["train_end"]
        return r, kw

    def calibrated(r, kw):
        return np.asarray(intervals.calibrate(r, levels=(level,), **kw).quantiles[level])

    if scheme == "split-conformal":
        pooled = np.concatenate([args(s, False, False, val_only=True)[0] for s in series])
        q = calibrated(pooled, {})
        return [q * s["scale"] for s in series]
    if scheme.endswith("pooled"):
        parts = [args(s, True, True) for s in series]
        kw = {k: np.concatenate([p[1][k] for p in parts]) for k in parts[0][1]}
        q = calibrated(np.concatenate([p[0] for p in parts]), kw)
        return [q * s["scale"] for s in series]
    weighted, inflated = "recency" in scheme, "inflation" in scheme
    return [calibrated(*args(s, weighted, inflated)) * s["scale"] for s in series]


def main() -> int:
    from forecaster.errors import ForecasterError

    args = _common.parser(__doc__.splitlines()[0]).parse_args()
    names = small.QUICK["datasets"] if args.quick else tuple(small.DATASETS)
    models = QUICK_MODELS if args.quick else MODELS
    options = small.QUICK["options"] if args.quick else {}
    start = time.perf_counter()
    pairs: dict[str, dict[tuple, list]] = {f"{s}@{lv}": {} for s in SCHEMES for lv in (80, 95)}
    for name in names:
        spec = small.DATASETS[name]
        panel, h = small.load(spec), spec["horizon"]
        for model in models:
            for fold in range(small.FOLDS):
                try:
                    series = collect(panel, model, fold, h, options)
                except (ForecasterError, ValueError, RuntimeError) as exc:  # refused or failed: no pair
                    print(f"coverage: {name} {model} fold {fold}: {type(exc).__name__}", file=sys.stderr)
                    continue
                for scheme in SCHEMES:
                    for level in (80, 95):
                        widths = intervals_for(series, scheme, h, level)
                        for s, w in zip(series, widths):
                            n = len(s["test"])
                            inside = np.abs(s["test"] - s["forecast"][:n]) <= w[:n]
                            key = (name, s["id"], model)
                            pairs[f"{scheme}@{level}"].setdefault(key, []).extend(inside.tolist())
        print(f"coverage: {name} done", file=sys.stderr, flush=True)
    rows = [_row(scheme, pairs) for scheme in SCHEMES]
    _common.write_report("coverage", quick=args.quick, wall_s=time.perf_counter() - start,
                         settings={"models": list(models), "datasets": list(names),
                                   "folds": small.FOLDS, "options": options},
                         results={"schemes": rows}, markdown=_markdown(rows))
    return 0


def _row(scheme: str, pairs: dict) -> dict:
    c80 = np.array([np.mean(v) for v in pairs[f"{scheme}@80"].values()])
    c95 = np.array([np.mean(v) for v in pairs[f"{scheme}@95"].values()])
    return {"scheme": scheme, "pairs": len(c80), "mean80": float(c80.mean()),
            "min80": float(c80.min()), "below60": int((c80 < 0.6).sum()),
            "mean95": float(c95.mean()), "min95": float(c95.min())}


def _markdown(rows: list[dict]) -> str:
    return "\n".join([
        "Coverage of the test windows per (dataset, series, model) pair, 3 folds.", "",
        _common.table(rows, [("scheme", "calibration", ""), ("pairs", "pairs", "d"),
                             ("mean80", "mean cov80", ".3f"), ("min80", "min cov80", ".2f"),
                             ("below60", "pairs < 0.60", "d"), ("mean95", "mean cov95", ".3f"),
                             ("min95", "min cov95", ".2f")])])


if __name__ == "__main__":
    sys.exit(main())
