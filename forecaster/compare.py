"""Leaderboard over models x rolling-origin folds.

Each (model, fold) job (:mod:`forecaster.jobs`) is a pure function of (panel, settings,
seed) returning a plain record, so jobs run in any process and give the same numbers
whatever ``jobs`` is. A job that fails (e.g. a NaN loss, or a statistical model refusing
the data) becomes a row with its error instead of aborting the comparison. Every option
is checked before any job runs. This module turns the records into the ranked
leaderboard, with an ``owa`` column (M4's overall weighted average against ``naive2``),
the median combination asked for with ``ensemble`` and the ``auto`` row: the model (or
median of the best few) that :mod:`forecaster.selection` picks for each fold using only
the data before that fold's origin.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecaster import jobs as jobs_module
from forecaster import metrics, models, selection
from forecaster.budget import check_size
from forecaster.data import Panel
from forecaster.errors import ConfigError, ForecasterError
from forecaster.forecaster import Forecaster
from forecaster.params import WINDOW_PARAMS, check_int
from forecaster.timing import parse_duration
from forecaster.training import resolve_seed

#: Models every comparison includes: the naive references, and naive2 for OWA.
ALWAYS = ("naive", "seasonal_naive", "naive2")
#: Metrics a leaderboard can be ranked by (lower is better for each).
RANK_METRICS: tuple[str, ...] = (*metrics.METRICS, "owa")
#: The leaderboard's leading columns, in order (the rest follow: coverage per level, ...).
COLUMNS: tuple[str, ...] = ("rank", "model", "kind", "n_params", "fit_seconds", "predict_ms",
                            *RANK_METRICS, "skill", "coverage", "interval_width")


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
    """Names and groups (``all``, ``baselines``, ``stats``, ``neural``) -> model names.

    The naive references and ``naive2`` are always included.

    >>> parse_models("stats,lstm")[-3:]
    ['lstm', 'naive', 'seasonal_naive']
    >>> parse_models(" , ")
    Traceback (most recent call last):
    ...
    forecaster.errors.ConfigError: --models ' , ' names no model; pass names or groups from `forecaster models` (e.g. --models naive,lstm) or 'all'.
    """
    names = models.expand(text)
    return list(dict.fromkeys([*names, *[m for m in ALWAYS if m not in names]]))


def compare(panel: Panel, *, models: list[str] | str | None = None, folds: int = 1,
            test_size: int | None = None, metric: str = "mase", jobs: int | None = None,
            scheduler: str | None = None, time_limit: str | float | None = None,
            budget: int | None = None, ensemble: bool | str | list[str] | None = None,
            auto: bool = True, on_job: Callable[[dict, jobs_module.Progress], None] | None = None,
            **options) -> Comparison:
    """Backtest ``models`` on ``folds`` rolling origins and rank them by ``metric``.

    Args:
        panel: The data.
        models: Names and groups (``all``, ``baselines``, ``stats``, ``neural``), as a list
            or a comma-separated string; None is ``all``.
        folds: Number of test windows of ``test_size`` rows, stepping back from the end.
        test_size: Rows per fold (default: the horizon).
        metric: Ranking metric (lower is better): mae, rmse, mape, smape, mase or owa.
        jobs: Local worker processes (None: ``joblib.parallel_config``'s ``n_jobs``, else 1;
            at most the number of jobs and cores).
        scheduler: Run the jobs on a Dask cluster: its address (``tcp://host:8786``), or
            ``"local"`` for a throwaway one on this machine (needs ``forecaster-nn[dask]``).
        time_limit: A time budget (``"10m"``, ``"1h30m"``, seconds): cheap jobs first; when
            it runs out, training jobs stop at their best weights so far and jobs not yet
            started become error rows that say so.
        budget: Size each neural model's width so its parameter count is near this.
        ensemble: Add an ``ensemble`` row, the median of these models' forecasts: names or
            groups (added to the comparison when missing); True: every statistical and
            neural model compared.
        auto: Add the ``auto`` row (:mod:`forecaster.selection`); it needs one more window
            of ``test_size`` rows before the first fold, fit but not scored.
        on_job: Called as ``on_job(record, progress)`` after each (model, fold) job, with a
            :class:`forecaster.jobs.Progress` (jobs done and total, an estimate of the time left).
        **options: Any :class:`Forecaster` argument (lookback, horizon, epochs, seed, ...);
            ``params`` go to every compared model that takes their keys (``name.key`` to one).

    Returns:
        A :class:`Comparison`.

    Raises:
        ConfigError: An option is invalid (every one is checked before any work).
        ForecasterError: Every model failed on every fold.
    """
    options = {**options, "seed": resolve_seed(options.get("seed", 0))}  # -1: drawn once, reported
    names, members, sizes, probe = _plan(panel, models, folds, test_size, metric, jobs, budget,
                                         ensemble, options, time_limit)
    test_size = probe.test_size_
    shift = 1 if auto and _room_for(panel, folds + 1, test_size) else 0
    report = on_job or (lambda record, progress: None)
    tasks = [(name, k) for name in names for k in range(folds + shift)]
    records = jobs_module.run(panel, tasks, folds=folds + shift, test_size=test_size,
                              options=options, sizes=sizes, jobs=jobs, scheduler=scheduler,
                              time_limit=time_limit,
                              on_job=lambda r, p: report({**r, "fold": r["fold"] - shift}, p))
    for r in records:  # fold -1: the window before the first fold, for auto's choice only
        r["fold"] -= shift
        if r.get("forecasts") is not None:
            r["forecasts"] = r["forecasts"].assign(fold=r["fold"])
    scored = [r for r in records if r["fold"] >= 0]
    if not any(r["error"] is None for r in scored):
        raise ForecasterError("Every model failed on every fold: " + (_errors(scored) or "?"))
    extra, rows = [], list(names)
    if members:
        extra += selection.ensemble_records(scored, members, panel, folds, probe)
        rows.append(selection.ENSEMBLE)
    settings = {"models": names, "folds": folds, "test_size": test_size, "metric": metric,
                "jobs": jobs, "scheduler": scheduler, "time_limit_s": parse_duration(time_limit),
                "cut_short": [f"{r['model']} fold {r['fold']}" for r in scored if r.get("time_limited")],
                "budget": budget, "horizon": probe.horizon_,
                "lookback": probe.lookback_, "season": probe.season_,
                "n_series": len(panel.ids), "levels": list(probe.levels_),
                "source": panel.source, "seed": options.get("seed", 0),
                "scored_folds": scored_folds(scored), "ensemble": members,
                "params": {n: p for n, p in sizes.items() if p}}
    if auto:
        auto_records, settings["auto"] = selection.auto_records(records, panel, folds, probe, metric)
        extra += auto_records
        rows.append(selection.AUTO)
    board = _leaderboard(scored + extra, rows, metric, probe.levels_, settings["scored_folds"])
    for row in board:  # what each model was given (with --budget: its sized width), for `fit`
        row["params"] = sizes.get(row["model"])
    frames = [r.pop("forecasts") for r in records + extra if r.get("forecasts") is not None]
    forecasts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(forecasts):
        forecasts = forecasts[forecasts["fold"] >= 0].reset_index(drop=True)
    notices = list(dict.fromkeys(n for r in records for n in r.get("notices") or ()))
    return Comparison(board, settings, records + extra, forecasts, notices)


def _room_for(panel: Panel, folds: int, test_size: int) -> bool:
    """Whether every series is long enough for ``folds`` test windows (and a training row)."""
    return all(n - folds * test_size >= 1 for n in panel.lengths)


def _plan(panel, names, folds, test_size, metric, jobs, budget, ensemble, options, time_limit):
    """Check every option and model setting before any work; the models, members and params."""
    names = parse_models(names if isinstance(names, str) or names is None else ",".join(names))
    if metric not in RANK_METRICS:
        raise ConfigError(f"Unknown --metric '{metric}'. Use one of: {', '.join(RANK_METRICS)}.")
    check_int("folds", folds, 1)
    check_int("jobs", jobs, 1, none_ok=True)
    check_int("test_size", test_size, 1, none_ok=True)
    check_int("budget", budget, 1, none_ok=True)
    parse_duration(time_limit)  # a bad --time-limit fails before any work
    members = selection.ensemble_members(ensemble, names)
    names += [m for m in members if m not in names]
    probe = Forecaster(models.REFERENCE, **{k: v for k, v in options.items()
                                            if k in WINDOW_PARAMS or k == "calendar"})
    probe.resolve(panel, test_size)
    shape = probe.model_shape(panel)  # a neural model's: known-ahead steps and calendar columns
    sizes = model_params(names, budget, shape, options.get("params"))
    for name in names:  # every setting of every model, before any work
        Forecaster(name, **{**options, "params": sizes[name]}).check_params()
        if models.is_neural(name):
            check_size(name, models.make_config(name, sizes[name]), **shape)
    return names, members, sizes, probe


def model_params(names, budget, shape, params) -> dict[str, dict | None]:
    """Each model's ``params``: a ``key`` goes to every model that takes it, ``name.key`` to one.

    With ``budget``, each neural model's width is then sized to it for a network of
    ``shape`` (:meth:`Forecaster.model_shape`; the chosen widths are in the result, so a
    sized model can be refit with ``fit --param``).

    Raises:
        ConfigError: A key that no compared model takes, or a ``name.key`` for a model
            that is not compared.
    """
    out: dict[str, dict] = {name: {} for name in names}
    for key, value in (params or {}).items():
        model, _, bare = key.rpartition(".")
        if model and model not in out:
            raise ConfigError(f"--param {key}={value}: '{model}' is not among the compared models "
                              f"({', '.join(names)}).")
        takers = [model] if model else [n for n in names if bare in models.param_keys(n)]
        if not takers:
            raise ConfigError(f"--param {key}={value}: no compared model takes '{bare}'. Models and "
                              f"their keys: {_keys(names)}.")
        for name in takers:
            out[name][bare] = value
    if budget is not None:
        from forecaster.budget import size_for_budget

        for name in names:
            if models.REGISTRY[name].width is not None:
                out[name] = size_for_budget(name, budget, **shape, params=out[name])
    return {name: (p or None) for name, p in out.items()}


def _keys(names) -> str:
    taking = [f"{n}: {', '.join(models.param_keys(n))}" for n in names if models.param_keys(n)]
    return "; ".join(taking) or "none takes parameters"


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


def _leaderboard(records: list[dict], names: list[str], metric: str, levels, scored) -> list[dict]:
    rows = [_row(name, [r for r in records if r["model"] == name], levels, set(scored))
            for name in names]
    by_name = {r["model"]: r for r in rows}
    naive2 = by_name.get("naive2", {})
    for row in rows:
        row["owa"] = _owa(row, naive2)
    reference = by_name.get(models.REFERENCE, {}).get(metric, math.nan)
    for row in rows:
        row["skill"] = 100.0 * (1.0 - row[metric] / reference) if reference else math.nan
    rows.sort(key=lambda r: (math.isnan(r[metric]), r[metric] if not math.isnan(r[metric]) else 0))
    return [{"rank": rank, **{k: row.pop(k) for k in COLUMNS[1:]}, **row}
            for rank, row in enumerate(rows, start=1)]


def _owa(row: dict, naive2: dict) -> float:
    """M4's OWA: the mean of sMAPE and MASE, each relative to naive2's on the same folds."""
    if not naive2.get("smape") or not naive2.get("mase"):
        return math.nan
    return metrics.owa(row["smape"], row["mase"], smape_naive2=naive2["smape"],
                       mase_naive2=naive2["mase"])


def _row(name: str, recs: list[dict], levels, scored: set[int]) -> dict:
    failed = [r for r in recs if r["error"] is not None]
    ok = [r for r in recs if r["error"] is None and r["fold"] in scored]
    per_series = [m for r in ok for m in r["series_metrics"]]
    scores = metrics.panel_mean(per_series) if per_series else dict.fromkeys(metrics.METRICS, math.nan)
    kind = models.kind(name) if name in models.REGISTRY else "auto" if name == selection.AUTO \
        else "combination"
    row = {"model": name, "kind": kind, "n_params": ok[-1]["n_params"] if ok else None,
           "fit_seconds": _mean(r["fit_seconds"] for r in ok),
           "predict_ms": _mean(r["predict_ms"] for r in ok), **scores}
    first = levels[0] if levels else None
    row["coverage"] = _mean(r[f"coverage_{first}"] for r in ok) if first else math.nan
    row["interval_width"] = _mean(r[f"interval_width_{first}"] for r in ok) if first else math.nan
    for level in levels:
        row[f"coverage_{level}"] = _mean(r[f"coverage_{level}"] for r in ok)
    row["epochs_run"] = _mean(r["epochs_run"] for r in ok if r.get("epochs_run") is not None)
    row["folds_scored"] = sorted(r["fold"] for r in ok)
    row["spec"] = selection.describe(ok)
    row["error"] = _errors(failed)
    return row


def _errors(failed: list[dict]) -> str | None:
    """One line per distinct error, naming the folds it hit."""
    by_message: dict[str, list[int]] = {}
    for r in failed:
        if r["error"] is not None and r["fold"] not in by_message.get(r["error"], []):
            by_message.setdefault(r["error"], []).append(r["fold"])
    return "; ".join(f"fold {', '.join(map(str, sorted(folds)))}: {message}"
                     for message, folds in by_message.items()) or None


def _mean(values) -> float:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(vals)) if vals else math.nan
