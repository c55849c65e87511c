"""Leaderboard over models x rolling-origin folds.

Each (model, fold) job (:mod:`forecaster.jobs`) is a pure function of (panel, settings,
seed) returning a plain record, so jobs run in any process and give the same numbers
whatever ``jobs`` is. A job that fails (e.g. a NaN loss) becomes a row with its error
instead of aborting the comparison. This module turns the records into the ranked
leaderboard.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecaster import jobs as jobs_module
from forecaster import metrics
from forecaster.budget import check_size
from forecaster.data import Panel
from forecaster.errors import ConfigError
from forecaster.forecaster import Forecaster
from forecaster.models import MODELS, NEURAL, REFERENCE, check_name, is_neural, make_config
from forecaster.params import WINDOW_PARAMS, check_int
from forecaster.timing import parse_duration
from forecaster.training import resolve_seed

ALWAYS = ("naive", "seasonal_naive")
#: The leaderboard's leading columns, in order (the rest follow: coverage per level, ...).
COLUMNS: tuple[str, ...] = ("rank", "model", "n_params", "fit_seconds", "predict_ms",
                            *metrics.METRICS, "skill", "coverage", "interval_width")


@dataclass
class Comparison:
    """What :func:`compare` returns: the ranked leaderboard plus everything behind it."""

    leaderboard: list[dict]
    settings: dict
    records: list[dict] = field(repr=False)
    forecasts: pd.DataFrame = field(repr=False)
    notices: list[str] = field(default_factory=list)  # from the fits, e.g. series left out

    def to_json(self) -> dict:
        """Stable JSON document: ``{"leaderboard": [...], "settings": {...}}``."""
        return {"leaderboard": self.leaderboard, "settings": self.settings}


def parse_models(text: str | None) -> list[str]:
    """``"a,b"`` or ``"all"``/None -> model names (validated), naive rows always included.

    >>> parse_models(" , ")
    Traceback (most recent call last):
    ...
    forecaster.errors.ConfigError: --models ' , ' names no model; pass names from `forecaster models` (e.g. --models naive,lstm) or 'all'.
    """
    names = list(MODELS) if text is None or text.strip() == "all" else [m.strip() for m in text.split(",") if m.strip()]
    if not names:
        raise ConfigError(f"--models {text!r} names no model; pass names from `forecaster models` "
                          "(e.g. --models naive,lstm) or 'all'.")
    names = [check_name(n) for n in names]
    return list(dict.fromkeys([*names, *[m for m in ALWAYS if m not in names]]))


def compare(panel: Panel, *, models: list[str] | str | None = None, folds: int = 1,
            test_size: int | None = None, metric: str = "mase", jobs: int | None = None,
            scheduler: str | None = None, time_limit: str | float | None = None,
            budget: int | None = None, ensemble: bool = False,
            on_job: Callable[[dict, jobs_module.Progress], None] | None = None,
            **options) -> Comparison:
    """Backtest ``models`` on ``folds`` rolling origins and rank them by ``metric``.

    Args:
        panel: The data.
        models: Names, a comma-separated string, or None/"all" for every model.
        folds: Number of test windows of ``test_size`` rows, stepping back from the end.
        test_size: Rows per fold (default: the horizon).
        metric: Ranking metric (lower is better): mae, rmse, mape, smape or mase.
        jobs: Local worker processes (None: ``joblib.parallel_config``'s ``n_jobs``, else 1;
            at most the number of jobs and cores).
        scheduler: Run the jobs on a Dask cluster: its address (``tcp://host:8786``), or
            ``"local"`` for a throwaway one on this machine (needs ``forecaster-nn[dask]``).
        time_limit: A time budget (``"10m"``, ``"1h30m"``, seconds): cheap jobs first; when
            it runs out, training jobs stop at their best weights so far and jobs not yet
            started become error rows that say so.
        budget: Size each neural model's width so its parameter count is near this.
        ensemble: Add an ``ensemble`` row: the median of the neural models' forecasts.
        on_job: Called as ``on_job(record, progress)`` after each (model, fold) job, with a
            :class:`forecaster.jobs.Progress` (jobs done and total, an estimate of the time left).
        **options: Any :class:`Forecaster` argument (lookback, horizon, epochs, seed, ...).

    Returns:
        A :class:`Comparison`.
    """
    names = parse_models(models if isinstance(models, str) or models is None else ",".join(models))
    if metric not in metrics.METRICS:
        raise ConfigError(f"Unknown --metric '{metric}'. Use one of: {', '.join(metrics.METRICS)}.")
    check_int("folds", folds, 1)
    check_int("jobs", jobs, 1, none_ok=True)
    parse_duration(time_limit)  # a bad --time-limit fails before any work
    options = {**options, "seed": resolve_seed(options.get("seed", 0))}  # -1: drawn once, reported
    probe = Forecaster(REFERENCE, **{k: v for k, v in options.items() if k in WINDOW_PARAMS})
    probe.resolve(panel, test_size)
    test_size = probe.test_size_
    check_int("test_size", test_size, 1)  # a fold without test rows scores nothing
    sizes = budget_params(names, budget, probe, panel.n_features, options.get("params"))
    for name in names:  # every setting of every model, before any work
        Forecaster(name, **{**options, "params": sizes[name]}).check_params()
        if is_neural(name):
            check_size(name, make_config(name, sizes[name]), lookback=probe.lookback_,
                       n_features=panel.n_features, horizon=probe.horizon_)
    tasks = [(name, k) for name in names for k in range(folds)]
    records = jobs_module.run(panel, tasks, folds=folds, test_size=test_size, options=options,
                              sizes=sizes, jobs=jobs, scheduler=scheduler, time_limit=time_limit,
                              on_job=on_job or (lambda record, progress: None))
    if ensemble:
        records += _ensemble_records(records, panel, folds, probe)
        names = [*names, "ensemble"]
    board = _leaderboard(records, names, metric, probe.levels_)
    settings = {"models": names, "folds": folds, "test_size": test_size, "metric": metric,
                "jobs": jobs, "scheduler": scheduler, "time_limit_s": parse_duration(time_limit),
                "cut_short": [f"{r['model']} fold {r['fold']}" for r in records if r.get("time_limited")],
                "budget": budget, "horizon": probe.horizon_,
                "lookback": probe.lookback_, "season": probe.season_,
                "n_series": len(panel.ids), "levels": list(probe.levels_),
                "source": panel.source, "seed": options.get("seed", 0),
                "scored_folds": scored_folds(records)}
    frames = [r.pop("forecasts") for r in records if r.get("forecasts") is not None]
    forecasts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    notices = list(dict.fromkeys(n for r in records for n in r.get("notices") or ()))
    return Comparison(board, settings, records, forecasts, notices)


def _ensemble_records(records: list[dict], panel: Panel, folds: int, probe) -> list[dict]:
    """One ``ensemble`` record per fold: the median of the neural models that completed it."""
    from forecaster import ensemble

    out = []
    for k in range(folds):
        members = [r for r in records if r["fold"] == k and r["error"] is None
                   and is_neural(r["model"])]
        if len(members) < 2:
            out.append({"model": ensemble.NAME, "fold": k, "forecasts": None,
                        "error": f"ConfigError: fewer than 2 neural models completed fold {k}"})
            continue
        record = ensemble.fold_record(members, panel, probe.season_)
        record.update(jobs_module.interval_stats(record["forecasts"], probe.levels_))
        out.append(record)
    return out


def budget_params(names, budget, probe, n_features, params) -> dict[str, dict | None]:
    """Per-model params (baselines take none); with ``budget``, each neural width sized to it."""
    out = {name: (dict(params) if params and name in NEURAL else None) for name in names}
    if budget is None:
        return out
    from forecaster.budget import size_for_budget

    for name in names:
        if name in NEURAL:
            out[name] = size_for_budget(name, budget, lookback=probe.lookback_,
                                        n_features=n_features, horizon=probe.horizon_,
                                        params=out[name])
    return out


def scored_folds(records: list[dict]) -> list[int]:
    """Folds that every model completed (models that failed every fold aside).

    Metrics are averaged over these folds only, so that no model is ranked on easier or
    fewer test windows than another. With no fold in common, every fold counts.
    """
    folds = sorted({r["fold"] for r in records})
    done: dict[str, set[int]] = {}
    for r in records:
        if r["error"] is None:
            done.setdefault(r["model"], set()).add(r["fold"])
    common = set(folds).intersection(*done.values()) if done else set()
    return sorted(common) or folds


def _leaderboard(records: list[dict], names: list[str], metric: str, levels) -> list[dict]:
    scored = set(scored_folds(records))
    rows = [_row(name, [r for r in records if r["model"] == name], levels, scored)
            for name in names]
    reference = next((r[metric] for r in rows if r["model"] == REFERENCE), math.nan)
    for row in rows:
        row["skill"] = 100.0 * (1.0 - row[metric] / reference) if reference else math.nan
    rows.sort(key=lambda r: (math.isnan(r[metric]), r[metric] if not math.isnan(r[metric]) else 0))
    return [{"rank": rank, **{k: row.pop(k) for k in COLUMNS[1:]}, **row}
            for rank, row in enumerate(rows, start=1)]


def _row(name: str, recs: list[dict], levels, scored: set[int]) -> dict:
    failed = [r for r in recs if r["error"] is not None]
    ok = [r for r in recs if r["error"] is None and r["fold"] in scored]
    per_series = [m for r in ok for m in r["series_metrics"]]
    scores = metrics.panel_mean(per_series) if per_series else dict.fromkeys(metrics.METRICS, math.nan)
    row = {"model": name, "n_params": ok[-1]["n_params"] if ok else None,
           "fit_seconds": _mean(r["fit_seconds"] for r in ok),
           "predict_ms": _mean(r["predict_ms"] for r in ok), **scores}
    first = levels[0] if levels else None
    row["coverage"] = _mean(r[f"coverage_{first}"] for r in ok) if first else math.nan
    row["interval_width"] = _mean(r[f"interval_width_{first}"] for r in ok) if first else math.nan
    for level in levels:
        row[f"coverage_{level}"] = _mean(r[f"coverage_{level}"] for r in ok)
    row["epochs_run"] = _mean(r["epochs_run"] for r in ok)
    row["folds_scored"] = sorted(r["fold"] for r in ok)
    row["error"] = _errors(failed)
    return row


def _errors(failed: list[dict]) -> str | None:
    """One line per distinct error, naming the folds it hit."""
    by_message: dict[str, list[int]] = {}
    for r in failed:
        by_message.setdefault(r["error"], []).append(r["fold"])
    return "; ".join(f"fold {', '.join(map(str, folds))}: {message}"
                     for message, folds in by_message.items()) or None


def _mean(values) -> float:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(vals)) if vals else math.nan
