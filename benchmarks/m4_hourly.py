"""M4 Hourly accuracy: forecaster's baselines and one global neural model per architecture.

The panel is ``Hourly-train.csv`` followed by ``Hourly-test.csv`` for each of the 414
series (long frame: id, integer time 1..n, value; ``season=24``). Fitting with
``test_size=48`` holds out exactly the official test: scalers, weights and early
stopping only ever see the training part. One global model per architecture is trained
on the windows of all 414 series, each series scaled with its own training statistics.
sMAPE and MASE are forecaster's (M4 definitions, averaged over series); OWA uses the
official Naive2 values 18.383 / 2.395. Official rows come from
``m4_official_point_scores.csv``.

Tuning never looks at the official test: ``--tune`` fits on the panel *without* the test
values, with its last 48 training points as a pseudo-test, and appends every trial to
``results/m4_hourly_tuning.jsonl``. The full run then uses, per model, the setting with
the lowest validation OWA in that log. An entry with several ``seeds`` is an ensemble:
the median (``forecaster.ensemble.median``, the function behind ``compare --ensemble``)
of the forecasts of that many fits differing only in their seed; an entry with
``members`` (a list of settings, each may name its own ``model``) is the median of
those members' forecasts. A ``season``
key sets the period the model is given (``seasonal_naive``, ``norm="season"``; e.g. 168
for the weekly cycle); sMAPE/MASE are always scored with MASE's m = 24.

    python benchmarks/m4_hourly.py [--quick] [--backend tensorflow]

``--backend`` runs the same chosen settings on another Keras backend and writes
``results/m4_hourly_<backend>.*`` (the engine comparison); without it the default backend
writes ``results/m4_hourly.*``.
    python benchmarks/m4_hourly.py --tune '{"model": "mlp", "lookback": 168, ...}' ...
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import time

import numpy as np
import pandas as pd

import _common

HORIZON, SEASON = 48, 24
NAIVE2 = {"smape": 18.383, "mase": 2.395}
BASELINES = ("naive", "seasonal_naive", "drift", "mean")
NEURAL = ("mlp", "simple_rnn", "jordan", "lstm", "gru", "wavenet")
OFFICIAL = {"sNaive": "sNaive benchmark", "Naive2": "Naive2 benchmark", "Naive": "Naive benchmark",
            "MLP": "MLP benchmark", "RNN": "RNN benchmark", "Theta": "Theta benchmark",
            "118": "Smyl ES-RNN (M4 winner)"}
TUNING_LOG = _common.BENCH / "results" / "m4_hourly_tuning.jsonl"
# Used when the tuning log has no entry for a model (and, shrunk, by --quick).
QUICK_SERIES = 60  # --quick scores the first 60 series only
DEFAULT = {"lookback": 168, "norm": "season", "stride": 4, "batch_size": 512, "epochs": 100,
           "patience": 8, "loss": "mae", "learning_rate": 1e-3}


def load_panel(*, with_test: bool = True):
    """The 414 hourly series as one panel: training values, then (optionally) the test values."""
    from forecaster.data import from_frame

    folder = _common.data_dir() / "m4_hourly"
    train = pd.read_csv(folder / "Hourly-train.csv", index_col=0)
    test = pd.read_csv(folder / "Hourly-test.csv", index_col=0)
    frames = []
    for sid in train.index:
        v = train.loc[sid].dropna().to_numpy()
        if with_test:
            v = np.concatenate([v, test.loc[sid].to_numpy()])
        frames.append(pd.DataFrame({"id": sid, "t": np.arange(1, len(v) + 1), "value": v}))
    df = pd.concat(frames, ignore_index=True)
    return from_frame(df, id_col="id", time_col="t", target="value", season=SEASON)


def owa(m: dict) -> float:
    from forecaster.metrics import owa as _owa

    return _owa(m["smape"], m["mase"], smape_naive2=NAIVE2["smape"], mase_naive2=NAIVE2["mase"])


def members(config: dict) -> list[dict]:
    """The single fits a config stands for: one per seed of each member (or of itself)."""
    parts = [{"model": config["model"], **m} for m in config["members"]] if "members" in config \
        else [config]
    return [{**p, "seed": seed} for p in parts for seed in p.get("seeds", [0])]


def is_ensemble(config: dict) -> bool:
    return len(members(config)) > 1


_FITTED: dict = {}  # (member settings, panel) -> (Forecaster, forecasts): no fit runs twice


def fit_forecast(fit: dict, panel):
    """Fit one member on ``panel`` and forecast the 48 points after each training part."""
    key = (json.dumps(fit, sort_keys=True), id(panel))
    if key not in _FITTED:
        _FITTED[key] = _fit_forecast(fit, panel)
    return _FITTED[key]


def _fit_forecast(fit: dict, panel):
    from forecaster import Forecaster

    kwargs = {k: v for k, v in fit.items() if k not in ("model", "seeds", "season")}
    # "season" is the period the model sees (seasonal_naive, norm="season"); scoring keeps 24.
    given = dataclasses.replace(panel, season=fit.get("season", SEASON))
    f = Forecaster(fit["model"], horizon=HORIZON, **kwargs).fit(given, test_size=HORIZON)
    origins = [np.array([sp.test[0]]) for sp in f.splits_]
    return f, np.concatenate(f.forecast_at(given, origins))  # (n_series, 48)


def evaluate(config: dict, panel) -> dict:
    """Fit every member of ``config``; score the median of their forecasts on the last 48 points."""
    from forecaster import metrics

    start = time.perf_counter()
    fits, preds = zip(*(fit_forecast(m, panel) for m in members(config)))
    pred = _common.median_forecast(preds)  # (n_series, 48)
    rows = [metrics.score(s.values[sp.test[0]:, 0], p, insample=s.values[:sp.test[0], 0],
                          season=SEASON)
            for s, sp, p in zip(panel.series, fits[0].splits_, pred)]
    m = metrics.panel_mean(rows)
    return {"smape": m["smape"], "mase": m["mase"], "owa": owa(m),
            "n_params": sum(f.n_params_ for f in fits), "n_series": len(panel.ids),
            "backend": getattr(fits[0], "backend_", None),
            "epochs_run": [f.history_["epochs_run"] for f in fits],
            "best_epoch": [f.history_["best_epoch"] for f in fits],
            "fit_s": round(sum(f.fit_seconds_ for f in fits), 1),
            "combine": "median" if len(fits) > 1 else None,
            "wall_s": round(time.perf_counter() - start, 1)}


def tuning_log() -> list[dict]:
    if not TUNING_LOG.exists():
        return []
    return [json.loads(line) for line in TUNING_LOG.read_text().splitlines() if line.strip()]


def tune(configs: list[dict]) -> None:
    """Score each config on the validation split and append it to the tuning log."""
    panel = load_panel(with_test=False)
    seen = {json.dumps(e["config"], sort_keys=True) for e in tuning_log() if counts(e)}
    for config in configs:
        key = json.dumps(config, sort_keys=True)
        if key in seen:
            print(f"  already in the log: {key}")
            continue
        try:
            result = evaluate(config, panel)
        except Exception as exc:  # a failing trial is logged, not fatal
            result = {"error": f"{type(exc).__name__}: {exc}"}
        entry = {"config": config, "validation": result, "load": _common.load_average()}
        print(f"  {json.dumps(entry)}", flush=True)
        with TUNING_LOG.open("a") as fh:
            fh.write(json.dumps(entry) + "\n")


def counts(entry: dict) -> bool:
    """Whether a logged trial stands: ensembles logged before the switch to the median
    (the first log entries averaged their members) are kept as history, not chosen."""
    config, result = entry["config"], entry["validation"]
    return not is_ensemble(config) or result.get("combine") == "median" \
        or ("owa" in result and len(members(config)) == 2)  # the median of two is their mean


def chosen(model: str | None, *, ensemble: bool = False) -> tuple[dict | None, dict | None]:
    """The logged config of ``model`` with the lowest validation OWA.

    ``ensemble`` picks among ensemble entries of any models (``model`` is ignored),
    otherwise among single fits of ``model``. Without a logged single fit the default
    settings are used (validation ``None``).
    """
    entries = [e for e in tuning_log() if "owa" in e["validation"] and counts(e)
               and is_ensemble(e["config"]) == ensemble
               and (ensemble or e["config"]["model"] == model)]
    if not entries:
        return (None, None) if ensemble else ({"model": model, **DEFAULT}, None)
    best = min(entries, key=lambda e: e["validation"]["owa"])
    return best["config"], best["validation"]


def official_rows() -> list[dict]:
    """Hourly sMAPE/MASE/OWA of the official benchmarks, the winner and the best hourly entry."""
    with open(_common.data_dir() / "m4_hourly" / "m4_official_point_scores.csv") as fh:
        table = list(csv.DictReader(fh))
    pick = lambda r, name: {"model": name, "smape": float(r["sMAPE_Hourly"]),  # noqa: E731
                            "mase": float(r["MASE_Hourly"]), "owa": float(r["OWA_Hourly"])}
    rows = [pick(r, f"M4 official: {OFFICIAL[r['id']]}") for r in table if r["id"] in OFFICIAL]
    best = min(table, key=lambda r: float(r["OWA_Hourly"]))
    rows.append(pick(best, f"M4 official: best hourly entry ({best['team']}, id {best['id']})"))
    return sorted(rows, key=lambda r: r["owa"])


def quick_config(config: dict) -> dict:
    """A few epochs over a coarse stride: the pipeline, not the accuracy."""
    first = members(config)[0]
    first.pop("seed")
    return {**first, "stride": 24, "epochs": 2, "patience": 0}


def final_rows(panel, quick: bool) -> list[dict]:
    """Every baseline, every neural model's chosen setting and the best ensemble, on the test."""
    rows = []
    for name in BASELINES:
        rows.append({"model": name, "kind": "baseline", **evaluate({"model": name}, panel)})
    for name in NEURAL:
        config, val = chosen(name)
        rows.append(_final(name, config, val, panel, quick))
    config, val = chosen(None, ensemble=True)
    if config is not None and not quick:
        fits = members(config)
        models = sorted({m["model"] for m in fits})
        rows.append(_final(f"median ensemble of {len(fits)} {'/'.join(models)} fits", config, val,
                           panel, quick))
    return rows


def _final(label: str, config: dict, val: dict | None, panel, quick: bool) -> dict:
    run = quick_config(config) if quick else config
    res = evaluate(run, panel)
    print(f"  {label}: test OWA {res['owa']:.4f} (validation {val['owa'] if val else 'n/a'}), "
          f"{res['wall_s']} s", flush=True)
    return {"model": label, "kind": "neural", "config": run, **res,
            "validation_owa": val["owa"] if val and not quick else None}


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--tune", nargs="+", metavar="CONFIG_JSON", help="validation trials to log")
    p.add_argument("--backend", choices=("tensorflow", "jax"),
                   help="Keras backend (default: forecaster's); results/m4_hourly_<backend>.*")
    args = p.parse_args()
    if args.backend:  # before forecaster first imports Keras
        os.environ["KERAS_BACKEND"] = args.backend
    if args.tune:
        tune([json.loads(c) for c in args.tune])
        return
    start = time.perf_counter()
    panel = load_panel()
    if args.quick:
        panel = panel.subset(panel.ids[:QUICK_SERIES])
    rows = final_rows(panel, args.quick)
    official = official_rows()
    settings = {"horizon": HORIZON, "season": SEASON, "test_size": HORIZON, "naive2": NAIVE2,
                "n_series": len(panel.ids), "selection": "lowest validation OWA in "
                "m4_hourly_tuning.jsonl (pseudo-test = last 48 training points)"}
    suite = f"m4_hourly_{args.backend}" if args.backend else "m4_hourly"
    _common.write_report(suite, quick=args.quick, wall_s=time.perf_counter() - start,
                         settings=settings, results={"rows": rows, "official": official,
                                                     "tuning": tuning_log()},
                         markdown=render(rows, official, tuning_log()))


def render(rows: list[dict], official: list[dict], log: list[dict]) -> str:
    cols = [("model", "model", ""), ("smape", "sMAPE", ".3f"), ("mase", "MASE", ".3f"),
            ("owa", "OWA", ".4f"), ("validation_owa", "validation OWA", ".4f"),
            ("n_params", "params", ","), ("fit_s", "fit s", ".1f")]
    ours = sorted(rows, key=lambda r: r["owa"])
    n = rows[0]["n_series"]
    lines = [f"M4 Hourly, {n} series, h = 48, official test; OWA against Naive2 (18.383 / 2.395). "
             "Neural: one global model per architecture, setting chosen on the validation split.",
             "", "### forecaster", "", _common.table(ours, cols), "",
             "### Official M4 results (m4_official_point_scores.csv)", "",
             _common.table(official, [(k, h, ".3f" if f else "") for k, h, f in cols[:4]]), "",
             "### Settings used", ""]
    for r in rows:
        if r["kind"] == "neural":
            lines.append(f"- {r['model']} (backend {r.get('backend')}): `{json.dumps(r['config'])}`")
    lines += ["", f"### Tuning log (validation split, {len(log)} trials)", "", render_log(log)]
    return "\n".join(lines)


def render_log(log: list[dict]) -> str:
    """One row per trial, in the order they were run."""
    rows = []
    for e in log:
        c, v = dict(e["config"]), e["validation"]
        model = c.pop("model")
        rows.append({"model": model, "settings": ", ".join(f"{k}={json.dumps(val)}"
                                                          for k, val in c.items()),
                     **{k: v.get(k) for k in ("smape", "mase", "owa", "fit_s")},
                     "error": v.get("error")})
    return _common.table(rows, [("model", "model", ""), ("settings", "settings", ""),
                                ("smape", "sMAPE", ".3f"), ("mase", "MASE", ".3f"),
                                ("owa", "OWA", ".4f"), ("fit_s", "fit s", ".0f"),
                                ("error", "error", "")])


if __name__ == "__main__":
    main()
