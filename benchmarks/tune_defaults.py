"""Trials for the neural defaults, on tuning windows that the ``small`` benchmark never scores.

Each dataset of the ``small`` suite (``small.py``: the 12 small_series files and the sample
data) is cut before the benchmark's test windows (the last ``folds x horizon`` rows of
each series), and the remainder is backtested on ``folds`` rolling origins exactly as
``compare`` does. A trial is one model with one set of settings over every dataset; each
line appended to ``results/defaults_tuning.jsonl`` holds the settings, the command, and
per dataset the MASE and sMAPE (mean over folds and series), fit seconds and epochs. A
trial fits once (``seeds: 1``) unless its settings say otherwise (``{"seeds": 3}``: the
median of three seeds, see :mod:`forecaster._members`).

    python benchmarks/tune_defaults.py --model mlp --settings '{"loss": "mae"}' [--name NAME]
    python benchmarks/tune_defaults.py --reference       # baselines and statistical models

``--reference`` logs the baselines and statistical models on the same windows, the bar
the trials are read against (``--report`` prints every trial next to it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

import _common
import small

LOG = _common.BENCH / "results" / "defaults_tuning.jsonl"
REFERENCE = ("seasonal_naive", "naive2", "auto_ets", "auto_arima", "auto_theta", "mstl")
#: A trial's ``--reference`` line replaces an earlier one of the same model in the report.


def tuning_panel(spec: dict):
    """The dataset without the benchmark's test windows: every series cut by folds x horizon."""
    import dataclasses

    panel = small.load(spec)
    cut = small.FOLDS * spec["horizon"]
    series = tuple(dataclasses.replace(s, time=s.time[:-cut], values=s.values[:-cut])
                   for s in panel.series)
    return dataclasses.replace(panel, series=series)


def run_trial(model: str, settings: dict, datasets: list[str]) -> dict:
    from forecaster import metrics
    from forecaster.errors import ForecasterError
    from forecaster.jobs import run_job

    out = {}
    for name in datasets:
        spec = small.DATASETS[name]
        panel = tuning_panel(spec)
        options = {"horizon": spec["horizon"], **settings}
        if "lookback_factor" in options:  # a lookback in horizons, per dataset
            options["lookback"] = options.pop("lookback_factor") * spec["horizon"]
        start, rows, seconds, epochs, errors = time.perf_counter(), [], [], [], []
        for k in range(small.FOLDS):
            try:
                record = run_job(panel, model, k, small.FOLDS, spec["horizon"], options)
            except ForecasterError as exc:  # the series is too short for this fold
                record = {"error": f"{type(exc).__name__}: {exc}"}
            if record["error"]:
                errors.append(record["error"])
                continue
            rows += record["series_metrics"]
            seconds.append(record["fit_seconds"])
            epochs.append(record["epochs_run"])
        mean = metrics.panel_mean(rows) if rows else {}
        out[name] = {"mase": mean.get("mase"), "smape": mean.get("smape"),
                     "fit_seconds": float(np.sum(seconds)), "epochs": epochs,
                     "errors": errors, "wall_s": round(time.perf_counter() - start, 1)}
        print(f"{model} {name}: mase {out[name]['mase']}", file=sys.stderr, flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a neural model name")
    parser.add_argument("--settings", default="{}", help="Forecaster settings as JSON")
    parser.add_argument("--name", help="a label for the trial")
    parser.add_argument("--only", help="comma-separated datasets (default: all)")
    parser.add_argument("--reference", action="store_true", help="log the reference models")
    parser.add_argument("--report", action="store_true", help="print the log as a table")
    args = parser.parse_args()
    if args.report:
        print(report())
        return 0
    datasets = args.only.split(",") if args.only else list(small.DATASETS)
    models = (args.model.split(",") if args.model else list(REFERENCE)) if args.reference else [args.model]
    settings = json.loads(args.settings)
    if not args.reference:  # the seed median is a setting too: one fit unless the trial says
        settings.setdefault("seeds", 1)
    for model in models:
        results = run_trial(model, settings, datasets)
        line = {"name": args.name or model, "model": model, "settings": settings,
                "command": _common.command(), "sources_sha256": _common.package_digest(),
                "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), "results": results}
        with LOG.open("a") as fh:
            fh.write(json.dumps(line) + "\n")
    return 0


def report() -> str:
    """Every trial's MASE per dataset, with the reference models' and the ratios to them."""
    trials = [json.loads(line) for line in LOG.read_text().splitlines() if line.strip()]
    names = list(small.DATASETS)
    ref = {t["model"]: t["results"] for t in trials if t["model"] in REFERENCE}  # the latest
    trials = [t for t in trials if t["model"] not in REFERENCE or t["results"] is ref[t["model"]]]
    lines = ["| trial | " + " | ".join(names) + " | mean | vs snaive | vs best stat |",
             "|---" * (len(names) + 4) + "|"]
    for t in trials:
        mase = [t["results"].get(n, {}).get("mase") for n in names]
        cells = [f"{m:.3f}" if m is not None else "" for m in mase]
        lines.append(f"| {t['name']} | " + " | ".join(cells) + " | " + _summary(mase, names, ref) + " |")
    return "\n".join(lines)


def _summary(mase: list, names: list[str], ref: dict) -> str:
    """Mean MASE, wins against seasonal naive, and the ratio of mean MASEs to the best
    statistical model's, over the datasets both completed."""
    values = np.array([np.nan if m is None else m for m in mase], dtype=float)
    snaive = np.array([ref.get("seasonal_naive", {}).get(n, {}).get("mase") or np.nan for n in names])
    seasonal = np.array([small.DATASETS[n]["season"] > 1 for n in names])
    wins = int(np.sum((values < snaive)[seasonal]))
    ratios = []
    for model in REFERENCE[1:]:
        if model in ref:
            stat = np.array([ref[model].get(n, {}).get("mase") or np.nan for n in names])
            both = ~np.isnan(values) & ~np.isnan(stat)
            if both.any():
                ratios.append((np.mean(stat[both]), np.mean(values[both]) / np.mean(stat[both]), model))
    best = min(ratios)[1:] if ratios else (np.nan, "")
    return (f"{np.nanmean(values):.3f} | {wins}/{int(seasonal.sum())} | "
            f"{best[0]:.3f} ({best[1]})")


if __name__ == "__main__":
    sys.exit(main())
