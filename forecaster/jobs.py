"""Running compare's (model, fold) jobs: here, or in worker processes.

A job fits one model on one fold and scores it: a pure function of (panel, settings,
seed) returning a plain record (metrics, timings, parameter count, forecasts), never a
Keras object, so it runs in any process and gives the same numbers wherever it runs.

Fold ``k`` of ``K`` truncates every series after its test window (the windows of
:func:`forecaster.splits.rolling_origin`), so nothing after a fold's test window is even
visible to it; :meth:`Forecaster.fit` then holds out the last ``test_size`` rows,
validation before them, and fits on the rest.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from forecaster import intervals, splits
from forecaster.data import Panel
from forecaster.errors import ForecasterError
from forecaster.forecaster import Forecaster
from forecaster.models import kind


def run(panel: Panel, tasks: list[tuple[str, int]], *, folds: int, test_size: int, options: dict,
        sizes: dict, jobs: int, on_job) -> list[dict]:
    """The records of ``tasks`` ((model, fold) pairs), in task order.

    Args:
        panel: The whole panel; each job sees its fold's cut.
        tasks: (model, fold) pairs.
        folds: The number of folds.
        test_size: Rows per fold's test window.
        options: Forecaster settings shared by every job.
        sizes: Per-model ``params`` (e.g. widths sized to a budget).
        jobs: Worker processes for the neural and statistical jobs (1: all in this process).
        on_job: Called as ``on_job(record, n_tasks)`` after each job.
    """
    run_tasks = _run_parallel if jobs > 1 else _run_serial
    return run_tasks(panel, tasks, folds, test_size, options, sizes, jobs, on_job)


def fold_panel(panel: Panel, fold: int, folds: int, test_size: int) -> Panel:
    """The panel as fold ``fold`` sees it: every series cut after that fold's test window.

    The test windows are those of :func:`forecaster.splits.rolling_origin`.
    """
    if fold == folds - 1:
        return panel
    ends = [splits.rolling_origin(n, n_splits=folds, test_size=test_size)[fold].test[1]
            for n in panel.lengths]
    series = tuple(dataclasses.replace(s, time=s.time[:end], values=s.values[:end])
                   for s, end in zip(panel.series, ends))
    return dataclasses.replace(panel, series=series)


def run_job(panel: Panel, model: str, fold: int, folds: int, test_size: int,
            options: dict) -> dict:
    """Fit ``model`` on fold ``fold`` and score it: a pure function returning a plain record."""
    return _fold_job(fold_panel(panel, fold, folds, test_size), model, fold, test_size, options)


def _fold_job(panel: Panel, model: str, fold: int, test_size: int, options: dict) -> dict:
    """Fit and score ``model`` on a panel already cut after the fold's test window."""
    record = {"model": model, "fold": fold, "error": None, "forecasts": None}
    try:
        f = Forecaster(model, **options).fit(panel, test_size=test_size)
    except (ForecasterError, ValueError, RuntimeError) as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
        return record
    frame = f.test_forecasts_.assign(model=model, fold=fold)
    record.update(n_params=f.n_params_, fit_seconds=f.fit_seconds_, predict_ms=f.predict_ms_,
                  series_metrics=f.series_metrics_, history=f.history_,
                  epochs_run=f.history_["epochs_run"], forecasts=frame,
                  splits=[s.as_dict() for s in f.splits_],
                  scalers=[s.to_dict() for s in f.scalers_], notices=f.notices_,
                  specs=f.specs_)
    record.update(interval_stats(frame, f.levels_))
    return record


def _run_serial(panel, tasks, folds, test_size, options, sizes, jobs, on_job):
    # One panel object per fold, shared by its models, so their windows are built once.
    fold_panels = [fold_panel(panel, k, folds, test_size) for k in range(folds)]
    records = []
    for name, k in tasks:
        records.append(_fold_job(fold_panels[k], name, k, test_size,
                                 {**options, "params": sizes[name]}))
        on_job(records[-1], len(tasks))
    return records


def _run_parallel(panel, tasks, folds, test_size, options, sizes, jobs, on_job):
    from joblib import Parallel, delayed

    neural = [t for t in tasks if kind(t[0]) != "baseline"]  # neural and per-series statistical fits
    light = [t for t in tasks if kind(t[0]) == "baseline"]
    records = _run_serial(panel, light, folds, test_size, options, sizes, jobs,
                          lambda record, total: on_job(record, len(tasks)))
    results = Parallel(n_jobs=jobs, backend="loky", return_as="generator")(
        delayed(_isolated_job)(panel, name, k, folds, test_size,
                               {**options, "params": sizes[name]})
        for name, k in neural)
    for record in results:
        records.append(record)
        on_job(record, len(tasks))
    order = {t: i for i, t in enumerate(tasks)}  # (model, fold) order, whatever finished first
    return sorted(records, key=lambda r: order[(r["model"], r["fold"])])


def _isolated_job(panel, model, fold, folds, test_size, options):
    """A job in a worker process, the backend limited to one thread so cores are not oversubscribed."""
    from forecaster import training

    training.limit_threads(1, options.get("backend"))
    return run_job(panel, model, fold, folds, test_size, options)


def interval_stats(frame: pd.DataFrame, levels) -> dict:
    """Coverage and mean width of each level's intervals over a frame of forecasts."""
    out = {}
    for level in levels:
        lo, hi = frame.get(f"lower_{level}"), frame.get(f"upper_{level}")
        if lo is None:
            out[f"coverage_{level}"] = out[f"interval_width_{level}"] = math.nan
            continue
        out[f"coverage_{level}"] = intervals.coverage(frame["y"], lo, hi)
        out[f"interval_width_{level}"] = float(np.mean(hi - lo))
    return out
