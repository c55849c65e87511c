"""Benchmark `small`: every model on short real series, next to statsforecast run directly.

Datasets (:data:`DATASETS`): the 12 files of ``small_series`` (see its SOURCE.md; the
season is the one its table gives) and the sample data a new user meets first
(AirPassengers, USAccDeaths and the 5-series M4 Hourly panel). The horizon is the season
(the tool's default) except where that is 1 or longer than two years of data points
(``lynx`` and ``wwwusage``: 6; ``sunspot_month``, season 132: 24).
"""

from __future__ import annotations

import _common

FOLDS = 3
JOBS = 2  # worker processes; the results are the same for any number
SMALL = _common.data_dir() / "small_series"
SAMPLE = _common.REPO / "sample_data"


def _spec(path, season: int, horizon: int | None = None, **read) -> dict:
    return {"path": str(path), "season": season, "horizon": horizon or season, "read": read}


DATASETS: dict[str, dict] = {
    "johnsonjohnson": _spec(SMALL / "johnsonjohnson.csv", 4),
    "ukdriverdeaths": _spec(SMALL / "ukdriverdeaths.csv", 12),
    "austres": _spec(SMALL / "austres.csv", 4),
    "seatbelts_rear": _spec(SMALL / "seatbelts_rear.csv", 12),
    "presidents": _spec(SMALL / "presidents.csv", 4, fill="interpolate"),
    "woolyrnq": _spec(SMALL / "woolyrnq.csv", 4),
    "us_unemployment": _spec(SMALL / "us_unemployment.csv", 4),
    "us_realgdp": _spec(SMALL / "us_realgdp.csv", 4),
    "sunspot_month": _spec(SMALL / "sunspot_month.csv", 132, 24),
    "dax": _spec(SMALL / "dax.csv", 5),
    "wwwusage": _spec(SMALL / "wwwusage.csv", 1, 6),
    "lynx": _spec(SMALL / "lynx.csv", 1, 6),
    "airpassengers": _spec(SAMPLE / "airpassengers.csv", 12),
    "usaccdeaths": _spec(SAMPLE / "usaccdeaths.csv", 12),
    "m4_hourly_panel": _spec(SAMPLE / "m4_hourly_panel.csv", 24, 48, id_col="unique_id"),
}


def load(spec: dict):
    """The dataset as a forecaster panel, read with its season and options."""
    from forecaster.data import read_csv

    return read_csv(spec["path"], season=spec["season"], **spec["read"])


# ---------------------------------------------------------------- the run
QUICK = {"datasets": ("airpassengers", "woolyrnq", "lynx"), "models": "baselines,stats,mlp,gru",
         "options": {"epochs": 5}}


def run_dataset(name: str, spec: dict, *, models: str, options: dict) -> dict:
    """compare with every model on one dataset, and statsforecast on the same folds."""
    import time

    from forecaster import models as registry
    from forecaster.compare import compare

    panel = load(spec)
    neural = [m for m in registry.expand(models) if registry.kind(m) == "neural"]
    start = time.perf_counter()
    result = compare(panel, models=models, folds=FOLDS, horizon=spec["horizon"],  # the ensemble
                     ensemble=",".join(neural), jobs=JOBS, **options)  # row: the neural median
    wall = time.perf_counter() - start
    return {"dataset": name, "season": spec["season"], "horizon": spec["horizon"],
            "n_series": len(panel.ids), "wall_s": round(wall, 1),
            "leaderboard": result.leaderboard, "auto": result.settings["auto"],
            "coverage": pair_coverage(result), "direct": statsforecast_direct(panel, result)}


def pair_coverage(result) -> list[dict]:
    """Coverage of each (registered model, series) pair over the scored folds, per level."""
    from forecaster.models import REGISTRY

    f = result.forecasts
    f = f[f["model"].isin(list(REGISTRY)) & f["fold"].isin(result.settings["scored_folds"])]
    out = []
    for (model, sid), block in f.groupby(["model", "id"], sort=False):
        row = {"model": model, "kind": REGISTRY[model].kind, "id": str(sid)}
        for level in result.settings["levels"]:
            inside = (block["y"] >= block[f"lower_{level}"]) & (block["y"] <= block[f"upper_{level}"])
            row[f"coverage_{level}"] = float(inside.mean())
        out.append(row)
    return out


DIRECT = {"auto_ets": "AutoETS", "auto_arima": "AutoARIMA", "auto_theta": "AutoTheta", "mstl": "MSTL"}


def statsforecast_direct(panel, result) -> dict:
    """statsforecast's own classes on forecaster's folds: fit on the same training rows, then
    ``forward`` over the rows up to the test origin; MASE per model (mean over folds, series)."""
    from forecaster import metrics

    out = {}
    for name in DIRECT:
        recs = [r for r in result.records if r["model"] == name and r["error"] is None
                and r["fold"] in result.settings["scored_folds"]]
        rows = []
        for r in recs:
            for s, split, spec in zip(panel.series, r["splits"], r["specs"]):
                y = s.values[:, 0]
                (a, b), (t0, t1) = split["train"], split["test"]
                pred = _direct_forecast(name, y[a:b], y[a:t0], t1 - t0, panel.season, spec)
                rows.append(metrics.score(y[t0:t1], pred, insample=y[:t0], season=panel.season))
        if rows:
            out[name] = metrics.panel_mean(rows)["mase"]
    return out


def _direct_forecast(name: str, train, history, horizon: int, season: int, spec: str):
    """One statsforecast model, configured as forecaster's spec says it was fit."""
    import warnings

    import numpy as np
    from statsforecast import models as sf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "auto_ets":
            model = sf.AutoETS(season_length=season, model="ZZN" if "ignored" in spec else "ZZZ")
        elif name == "auto_arima":  # R's auto.arima approximation rule, as forecaster uses it
            model = sf.AutoARIMA(season_length=season, approximation=None)
        elif name == "auto_theta":
            model = sf.AutoTheta(season_length=season)
        else:
            model = sf.MSTL(season_length=season)
        cut = len(train) - min(len(train), 2000) if name != "auto_ets" else 0  # the last 2000 rows
        fitted = model.fit(np.asarray(train[cut:], dtype=float))
        return fitted.forward(np.asarray(history[cut:], dtype=float), horizon)["mean"]


def main() -> int:
    import json
    import time

    parser = _common.parser(__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true",
                        help="rewrite small.md from small.json's results (no run)")
    args = parser.parse_args()
    quick = args.quick
    if args.report:
        return _rewrite_report(quick)
    names = QUICK["datasets"] if quick else tuple(DATASETS)
    models = QUICK["models"] if quick else "all"
    options = QUICK["options"] if quick else {}
    start, results = time.perf_counter(), []
    # Each dataset's result is kept as it finishes, so that a run stopped midway resumes
    # where it stopped, on the same forecaster sources and settings only.
    key = {"sources": _common.package_digest(), "models": models, "options": options}
    partial = _common.results_dir(quick) / "small.partial.jsonl"
    done = {}
    if partial.exists():
        for line in partial.read_text().splitlines():
            entry = json.loads(line)
            if entry["key"] == key:
                done[entry["result"]["dataset"]] = entry["result"]
    for name in names:
        if name in done:
            print(f"small: {name} (kept from {partial.name})", flush=True)
            results.append(done[name])
            continue
        print(f"small: {name}", flush=True)
        result = json.loads(json.dumps(run_dataset(name, DATASETS[name], models=models,
                                                   options=options), default=_common._plain))
        with partial.open("a") as fh:
            fh.write(json.dumps({"key": key, "result": result}) + "\n")
        results.append(result)
    summary = summarise(results)
    settings = {"folds": FOLDS, "models": models, "options": options, "datasets": list(names),
                "jobs": JOBS}
    doc = {"datasets": results, "summary": summary}
    _common.write_report("small", quick=quick, wall_s=time.perf_counter() - start,
                         settings=settings, results=json.loads(json.dumps(doc, default=_common._plain)),
                         markdown=markdown(results, summary))
    partial.unlink()
    return 0


def _rewrite_report(quick: bool) -> int:
    """small.md's tables again from small.json (its header, the run's own, is kept)."""
    import json

    out = _common.results_dir(quick)
    results = json.loads((out / "small.json").read_text())["results"]["datasets"]
    old = (out / "small.md").read_text()
    header = old[:old.index("MASE per dataset")]
    (out / "small.md").write_text(header + markdown(results, summarise(results)).rstrip() + "\n")
    return 0


def _mase(result: dict) -> dict[str, float]:
    return {r["model"]: r["mase"] for r in result["leaderboard"]}


def _neural_entries(results: list[dict]) -> list[str]:
    from forecaster.models import NEURAL

    return [*NEURAL, "ensemble"]  # the ensemble row is --ensemble neural: a neural median


def summarise(results: list[dict]) -> dict:
    """The targets of issue 10: neural entries against seasonal naive and the best statistical
    model (point 6), and interval coverage over model-series pairs (point 7)."""
    import numpy as np

    from forecaster.models import STATISTICAL

    def mean_of(model):
        vals = [_mase(r).get(model, np.nan) for r in results]
        return float(np.nanmean(vals)) if not np.all(np.isnan(vals)) else np.nan, vals

    neural = {m: mean_of(m) for m in _neural_entries(results)}
    stats = {m: mean_of(m) for m in STATISTICAL}
    best_neural = min(neural, key=lambda m: (np.isnan(neural[m][0]), neural[m][0]))
    best_stat = min(stats, key=lambda m: (np.isnan(stats[m][0]), stats[m][0]))
    seasonal = [i for i, r in enumerate(results) if r["season"] > 1]
    snaive = [_mase(r)["seasonal_naive"] for r in results]
    wins = [results[i]["dataset"] for i in seasonal if neural[best_neural][1][i] < snaive[i]]
    both = [i for i in range(len(results))
            if not np.isnan(neural[best_neural][1][i]) and not np.isnan(stats[best_stat][1][i])]
    ratio = (np.mean([neural[best_neural][1][i] for i in both])
             / np.mean([stats[best_stat][1][i] for i in both])) if both else np.nan
    pairs = [p for r in results for p in r["coverage"]]
    coverage = {}
    for level in (80, 95):
        values = np.array([p[f"coverage_{level}"] for p in pairs])
        coverage[level] = {"mean": float(values.mean()), "min": float(values.min()),
                           "below_0.60": int((values < 0.6).sum()), "pairs": len(values),
                           "by_kind": {k: float(np.mean([p[f"coverage_{level}"] for p in pairs
                                                         if p["kind"] == k]))
                                       for k in sorted({p["kind"] for p in pairs})}}
    return {"best_neural": best_neural, "best_neural_mase": neural[best_neural][0],
            "best_statistical": best_stat, "best_statistical_mase": stats[best_stat][0],
            "neural_over_statistical": float(ratio), "datasets_compared": len(both),
            "seasonal_wins": wins, "seasonal": [results[i]["dataset"] for i in seasonal],
            "mean_mase": {m: v[0] for m, v in {**neural, **stats, "auto": mean_of("auto"),
                                               "seasonal_naive": mean_of("seasonal_naive")}.items()},
            "coverage": coverage,
            "target_6_met": len(wins) == len(seasonal) and ratio <= 1.05,
            "target_7_met": 0.75 <= coverage[80]["mean"] <= 0.85 and coverage[80]["min"] >= 0.6}


def markdown(results: list[dict], s: dict) -> str:
    from forecaster.models import STATISTICAL

    rows = []
    for r in results:
        mase = _mase(r)
        stat = min(STATISTICAL, key=lambda m: _nan_last(mase.get(m)))
        neural = min(_neural_entries(results), key=lambda m: _nan_last(mase.get(m)))
        cov = [p["coverage_80"] for p in r["coverage"]]
        rows.append({"dataset": r["dataset"], "m": r["season"], "h": r["horizon"],
                     "snaive": mase["seasonal_naive"], "stat": f"{mase[stat]:.3f} {stat}",
                     "neural": f"{mase[neural]:.3f} {neural}",
                     "best_neural": mase.get(s["best_neural"]), "auto": mase.get("auto"),
                     "pick": r["auto"]["pick"], "cov80": sum(cov) / len(cov),
                     "min80": min(cov), "wall": r["wall_s"]})
    table = _common.table(rows, [
        ("dataset", "dataset", ""), ("m", "m", "d"), ("h", "h", "d"), ("snaive", "seasonal naive", ".3f"),
        ("stat", "best statistical", ""), ("neural", "best neural", ""),
        ("best_neural", s["best_neural"], ".3f"), ("auto", "auto", ".3f"),
        ("pick", "auto's overall pick", ""), ("cov80", "mean cov80", ".2f"),
        ("min80", "min cov80", ".2f"), ("wall", "compare s", ".0f")])
    c80, c95 = s["coverage"][80], s["coverage"][95]
    means = ", ".join(f"{m} {v:.3f}" for m, v in sorted(s["mean_mase"].items(), key=lambda kv: kv[1])
                      if v == v)  # not NaN: compared
    direct = _direct_table(results)
    return "\n".join([
        "MASE per dataset (mean over 3 folds and the series; lower is better).", "", table, "",
        f"- Mean MASE over the datasets: {means}.",
        f"- Point 6: the best neural entry, {s['best_neural']} (mean MASE {s['best_neural_mase']:.3f}),"
        f" beats seasonal naive on {len(s['seasonal_wins'])} of {len(s['seasonal'])} seasonal datasets;"
        f" its mean MASE is {s['neural_over_statistical']:.3f} x that of the best statistical model,"
        f" {s['best_statistical']} ({s['best_statistical_mase']:.3f}), over {s['datasets_compared']}"
        f" datasets (target: 1.05). Met: {'yes' if s['target_6_met'] else 'no'}.",
        f"- Point 7: 80% intervals cover {c80['mean']:.3f} of test points on average over "
        f"{c80['pairs']} model-series pairs (min {c80['min']:.2f}, {c80['below_0.60']} below 0.60; "
        f"by kind: {_kinds(c80)}); 95%: {c95['mean']:.3f} (min {c95['min']:.2f}). "
        f"Met: {'yes' if s['target_7_met'] else 'no'}.", "",
        "statsforecast run directly on the same folds (same training rows, `forward` to the "
        "origin), mean MASE:", "", direct])


def _kinds(c: dict) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in c["by_kind"].items())


def _nan_last(value) -> float:
    import math

    return math.inf if value is None or math.isnan(value) else value


def _direct_table(results: list[dict]) -> str:
    import numpy as np

    rows = []
    for name in DIRECT:
        ours = [_mase(r).get(name) for r in results if name in r["direct"]]
        theirs = [r["direct"][name] for r in results if name in r["direct"]]
        if ours:
            diff = np.max(np.abs(np.array(ours) - np.array(theirs)))
            rows.append({"model": name, "class": DIRECT[name], "ours": float(np.mean(ours)),
                         "theirs": float(np.mean(theirs)), "diff": float(diff), "n": len(ours)})
    return _common.table(rows, [("model", "forecaster", ""), ("class", "statsforecast", ""),
                                ("ours", "forecaster MASE", ".4f"), ("theirs", "statsforecast MASE", ".4f"),
                                ("diff", "max abs difference", ".2e"), ("n", "datasets", "d")])


if __name__ == "__main__":
    import sys

    sys.exit(main())
