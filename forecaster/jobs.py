"""Running compare's (model, fold) jobs: here, in local worker processes, or on a Dask cluster.

A job fits one model on one fold and scores it: a pure function of (panel, settings,
seed) returning a plain record (metrics, timings, parameter count, forecasts), never a
Keras object, so it runs in any process and gives the same numbers wherever it runs
(:func:`run_job` says how the seeds make that so). :func:`run` sends the jobs to an
executor (:mod:`forecaster.executors`: sequential, ``--jobs N`` processes or
``--scheduler``), in the order of :mod:`forecaster.timing` and under its ``--time-limit``;
:func:`map` lets a job spread many small calls (one per series) over the same workers.

Fold ``k`` of ``K`` truncates every series after its test window (the windows of
:func:`forecaster.splits.rolling_origin`), so nothing after a fold's test window is even
visible to it; :meth:`Forecaster.fit` then holds out the last ``test_size`` rows,
validation before them, and fits on the rest.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster import executors, intervals, splits, timing
from forecaster.data import Panel
from forecaster.errors import ForecasterError
from forecaster.forecaster import Forecaster
from forecaster.models import REGISTRY, is_neural
from forecaster.params import WINDOW_PARAMS
from forecaster.timing import Progress

#: The comparison's executor while jobs run in this process, for :func:`map`.
_EXECUTOR: contextvars.ContextVar = contextvars.ContextVar("executor", default=None)


@dataclass(frozen=True)
class _Clock:
    """What every job of a comparison shares besides the data and settings."""

    folds: int
    test_size: int
    deadline: float | None = None  # time.time() at which the time limit runs out
    limit: float | None = None  # the time limit in seconds


def run(panel: Panel, tasks: list[tuple[str, int]], *, folds: int, test_size: int, options: dict,
        sizes: dict, jobs: int | None = 1, scheduler: str | None = None,
        time_limit: str | float | None = None,
        on_job: Callable[[dict, Progress], None] = lambda record, progress: None) -> list[dict]:
    """The records of ``tasks`` ((model, fold) pairs), in task order.

    Baselines run in this process; neural networks (and other models, when the panel has
    fewer series than twice the workers) run on the executor, one compute thread each.

    Args:
        panel: The whole panel; each job sees its fold's cut.
        tasks: (model, fold) pairs.
        folds: The number of folds.
        test_size: Rows per fold's test window.
        options: Forecaster settings shared by every job.
        sizes: Per-model ``params`` (e.g. widths sized to a budget).
        jobs: Local worker processes (see :func:`forecaster.executors.open_executor`).
        scheduler: A Dask scheduler address, or ``"local"``.
        time_limit: A duration (``"10m"``, seconds): cheap jobs first; at the limit,
            training stops at the best weights so far and jobs not started become records
            whose error says so.
        on_job: Called as ``on_job(record, progress)`` after each job (see :class:`Progress`).
    """
    start, limit = time.time(), timing.parse_duration(time_limit)
    clock = _Clock(folds, test_size, start + limit if limit else None, limit)
    if any(is_neural(name) for name, _ in tasks):  # every worker on the same backend
        options = {**options, "backend": _backend_name(options.get("backend"))}
    # Cheap first under a time limit (most models scored when it runs out) or when one
    # process runs everything (early rows); else the longest first, so workers end together.
    plan = timing.Plan(_costs(panel, tasks, folds, test_size, options, sizes),
                       cheap_first=limit is not None or (scheduler is None and (jobs or 1) <= 1))
    spread = [t for t in plan.order if REGISTRY[t[0]].kind != "baseline"]
    records: list[dict] = []
    with executors.open_executor(jobs=jobs, scheduler=scheduler, n_calls=len(spread),
                                 backend=options.get("backend")) as ex:
        done = _collector(records, timing.Tracker(plan, slots=ex.slots, start=start,
                                                  deadline=clock.deadline), on_job)
        remote = [t for t in spread if ex.remote and _runs_remotely(t[0], panel, ex.slots)]
        _run_here(ex, panel, [t for t in plan.order if t not in remote], options, sizes, clock, done)
        shared = ex.share(panel)
        ex.run(_remote_job, [(shared, name, k, {**options, "params": sizes[name]}, clock)
                             for name, k in remote],
               on_result=lambda i, record: done(_from_columns(record)),
               on_lost=lambda i, why: done(_failed(*remote[i], f"WorkerLost: {why}")))
    order = {t: i for i, t in enumerate(tasks)}  # (model, fold) order, whatever finished first
    return sorted(records, key=lambda r: order[(r["model"], r["fold"])])


def map(fn: Callable, calls: list[tuple]) -> list:  # jobs.map, like Executor.map
    """``[fn(*args) for args in calls]``, spread over the comparison's workers when there are some.

    For many small pure calls inside a job that runs in the comparison's process (e.g.
    one statistical fit per series): the calls run on the same executor as the
    comparison's jobs (worker processes or a Dask cluster), else here, one by one.
    ``fn`` must be a module-level function; arguments and results travel by pickle.

    >>> map(divmod, [(7, 2), (9, 4)])
    [(3, 1), (2, 1)]
    """
    executor = _EXECUTOR.get()
    return executor.map(fn, calls) if executor is not None else [fn(*args) for args in calls]


def _run_here(ex, panel, tasks, options, sizes, clock: _Clock, done) -> None:
    """Run ``tasks`` in this process, with :func:`map` reaching ``ex``'s workers."""
    # One panel object per fold, shared by its models, so their windows are built once.
    fold_panels = {k: fold_panel(panel, k, clock.folds, clock.test_size) for _, k in tasks}
    token = _EXECUTOR.set(ex if ex.remote else None)
    try:
        for name, k in tasks:
            done(_timed_job(fold_panels[k], name, k, {**options, "params": sizes[name]}, clock))
    finally:
        _EXECUTOR.reset(token)


def _collector(records: list, tracker, on_job):
    def done(record: dict) -> None:
        records.append(record)
        on_job(record, tracker.done((record["model"], record["fold"]), record.get("job_seconds")))

    return done


def _runs_remotely(name: str, panel: Panel, slots: int) -> bool:
    """Neural jobs go to the workers; other non-baselines too unless :func:`map` can spread their series."""
    return is_neural(name) or len(panel.series) < 2 * slots


def _backend_name(name: str | None) -> str:
    """The Keras backend every job will use, fixed here so that every worker uses the same."""
    from forecaster import backend

    if "keras" in sys.modules:
        return backend.use(name)
    return backend.check(name) or os.environ.get("KERAS_BACKEND") or backend.DEFAULT


def _costs(panel, tasks, folds, test_size, options, sizes) -> dict:
    """Each job's (tier, work) for :class:`forecaster.timing.Plan`: rows seen, times model size."""
    rows = {k: sum(fold_panel(panel, k, folds, test_size).lengths) for k in range(folds)}
    tiers = {name: {"baseline": 0, "neural": 2}.get(REGISTRY[name].kind, 1) for name, _ in tasks}
    size = {name: _size(name, panel, options, sizes, test_size) if tier == 2 else 1.0
            for name, tier in tiers.items()}
    return {(name, k): (tiers[name], rows[k] * size[name]) for name, k in tasks}


def _size(name: str, panel: Panel, options: dict, sizes: dict, test_size: int) -> float:
    """A neural model's work per row: its parameters, times the lookback if it steps through it."""
    from forecaster import budget

    try:
        f = Forecaster(name, **{k: options[k] for k in WINDOW_PARAMS if k in options})
        f.resolve(panel, test_size)
        n = budget.count(name, sizes[name], lookback=f.lookback_, n_features=panel.n_features,
                         horizon=f.horizon_)
    except ForecasterError:
        return 1.0
    return float(n) * (f.lookback_ if REGISTRY[name].heads else 1)


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
    """Fit ``model`` on fold ``fold`` and score it: a pure function returning a plain record.

    The job's seed is ``options["seed"]`` whatever its fold and wherever it runs: every
    fit re-seeds Python, NumPy and Keras (whose global seed generator restarts too), so
    a job's numbers depend on its model, fold and settings only, not on which process
    ran it or what that process ran before.
    """
    return _fold_job(fold_panel(panel, fold, folds, test_size), model, fold, test_size, options)


def _remote_job(panel: Panel, model: str, fold: int, options: dict, clock: _Clock) -> dict:
    """A job in a worker process, the backend limited to one thread so cores are not oversubscribed."""
    if is_neural(model):
        from forecaster import training

        training.limit_threads(1, options.get("backend"))
    cut = fold_panel(panel, fold, clock.folds, clock.test_size)
    return _to_columns(_timed_job(cut, model, fold, options, clock))


def _to_columns(record: dict) -> dict:
    """The record with its forecasts frame as ``{column: array}``, for the trip back.

    A Dask worker sizes each result on its event-loop thread while the next job trains,
    and sizing a frame with text columns draws from NumPy's global generator, the one
    Keras shuffles training windows with on JAX: the same job then gave different
    numbers from run to run. Arrays are sized without drawing anything.
    """
    frame = record.get("forecasts")
    if frame is None:
        return record
    columns = {c: s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array for c, s in frame.items()}
    return {**record, "forecasts": columns}


def _from_columns(record: dict) -> dict:
    """Undo :func:`_to_columns`."""
    columns = record.get("forecasts")
    return {**record, "forecasts": pd.DataFrame(columns)} if isinstance(columns, dict) else record


def _timed_job(panel: Panel, model: str, fold: int, options: dict, clock: _Clock) -> dict:
    """:func:`_fold_job` under the comparison's deadline; past it, a record saying it did not run."""
    if clock.deadline is not None and time.time() >= clock.deadline:
        return _failed(model, fold, f"not run: the --time-limit of "
                                    f"{timing.format_duration(clock.limit)} ran out before it started")
    from forecaster import training

    start = time.perf_counter()
    seeds = training.private_seeds() if is_neural(model) else contextlib.nullcontext()
    with training.deadline(clock.deadline), seeds:
        record = _fold_job(panel, model, fold, clock.test_size, options)
    record["job_seconds"] = time.perf_counter() - start
    return record


def _failed(model: str, fold: int, error: str) -> dict:
    return {"model": model, "fold": fold, "error": error, "forecasts": None}


def _fold_job(panel: Panel, model: str, fold: int, test_size: int, options: dict) -> dict:
    """Fit and score ``model`` on a panel already cut after the fold's test window."""
    try:
        f = Forecaster(model, **options).fit(panel, test_size=test_size)
    except (ForecasterError, ValueError, RuntimeError) as exc:
        return _failed(model, fold, f"{type(exc).__name__}: {exc}")
    frame = f.test_forecasts_.assign(model=model, fold=fold)
    record = {"model": model, "fold": fold, "error": None, "forecasts": None}
    record.update(n_params=f.n_params_, fit_seconds=f.fit_seconds_, predict_ms=f.predict_ms_,
                  series_metrics=f.series_metrics_, history=f.history_,
                  epochs_run=f.history_["epochs_run"], forecasts=frame,
                  time_limited=f.history_.get("stopped_by") == "time_limit",
                  splits=[s.as_dict() for s in f.splits_],
                  scalers=[s.to_dict() for s in f.scalers_], notices=f.notices_,
                  specs=f.specs_)
    record.update(interval_stats(frame, f.levels_))
    return record


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
