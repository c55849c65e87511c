"""Where compare's jobs run: this process, local worker processes, or a Dask cluster.

Every executor offers the same three calls, used by :mod:`forecaster.jobs`:

- ``run(fn, calls, on_result, on_lost)``: ``fn(*args)`` for each ``args`` in ``calls``,
  calling ``on_result(i, result)`` as each finishes (in any order) and ``on_lost(i,
  message)`` for a call whose worker died and could not be retried;
- ``map(fn, calls)``: the results of ``fn(*args)``, in order (for many small pure calls,
  e.g. one statistical fit per series);
- ``share(obj)``: ``obj`` in a form the calls can take as an argument (sent once to a cluster).

:func:`open_executor` picks one and, whatever happens inside its block (an error, Ctrl-C,
SIGTERM turned into an exception by the CLI), stops what it started: no worker process
outlives it. Worker processes are spawned, never forked (this process may already run
TensorFlow's or JAX's threads, which a fork would copy in an unusable state).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator

from forecaster.errors import ConfigError, WorkerLost

#: Times the unfinished calls run again in parallel after a worker process died (the pool
#: is aborted as a whole); then each runs once more on its own, so that only a call that
#: kills its worker each time is lost.
RETRIES = 2


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Serial:
    """Every call in this process, one after the other."""

    slots = 1
    remote = False  # calls run in this process
    where = "this process"

    def run(self, fn, calls, on_result, on_lost) -> None:
        for i, args in enumerate(calls):
            on_result(i, fn(*args))

    def map(self, fn, calls) -> list:
        return [fn(*args) for args in calls]

    def share(self, obj):
        return obj

    def close(self) -> None:
        pass

    abort = close


class Joblib:
    """``n`` worker processes through joblib, honouring ``joblib.parallel_config``.

    The backend is joblib's active one (loky, spawned processes, unless the caller chose
    another with ``parallel_config``). Thread backends are refused: the jobs of one
    process share Keras's random state, so results would depend on timing. So is a
    forking ``multiprocessing`` backend once TensorFlow or JAX is loaded here.
    """

    def __init__(self, n: int) -> None:
        from joblib.parallel import get_active_backend

        backend, _ = get_active_backend()
        name = type(backend).__name__.replace("Backend", "").lower()
        if getattr(backend, "uses_threads", False):
            raise ConfigError(f"joblib's '{name}' backend runs jobs as threads of one process, "
                              "where Keras's random state is shared and results would vary; "
                              "use processes (joblib's default, loky) or --scheduler.")
        if name == "multiprocessing" and _start_method() == "fork" and _runs_tensors():
            raise ConfigError("joblib's 'multiprocessing' backend would fork this process, which "
                              "already runs TensorFlow/JAX threads (a fork can deadlock); use "
                              "loky (joblib's default) or set JOBLIB_START_METHOD=spawn.")
        self.slots, self.remote, self.where = n, True, f"{n} {name} worker processes"

    def run(self, fn, calls, on_result, on_lost) -> None:
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        pending = dict(enumerate(calls))
        for _ in range(RETRIES):
            try:
                for i, result in self._unordered(fn, pending):
                    del pending[i]
                    on_result(i, result)
                return
            except TerminatedWorkerError:
                pass  # the pool died with it: every unfinished call runs again
        for i in sorted(pending):  # one at a time, so that only the call that kills dies
            try:
                for _, result in self._unordered(fn, {i: pending[i]}):
                    on_result(i, result)
            except TerminatedWorkerError as exc:
                on_lost(i, f"its worker process died {RETRIES + 1} times "
                           f"({type(exc).__name__}: {_first_line(exc)})")

    def _unordered(self, fn, pending: dict) -> Iterator:
        from joblib import Parallel, delayed

        calls = Parallel(n_jobs=self.slots, return_as="generator_unordered")(
            delayed(_indexed)(i, fn, args) for i, args in list(pending.items()))
        try:
            yield from calls
        finally:
            calls.close()  # aborts the pool on an early exit: Ctrl-C, SIGTERM, an error

    def map(self, fn, calls) -> list:
        from joblib import Parallel, delayed
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        try:
            return Parallel(n_jobs=self.slots)(delayed(fn)(*args) for args in calls)
        except TerminatedWorkerError as exc:
            raise WorkerLost(f"A worker process died ({_first_line(exc)}).") from None

    def share(self, obj):
        return obj

    def close(self) -> None:
        pass

    def abort(self) -> None:
        """Kill loky's worker processes (joblib's abort on an early exit does it too)."""
        loky = sys.modules.get("joblib.externals.loky.reusable_executor")
        pool = getattr(loky, "_executor", None)  # None: no pool was started
        if pool is not None:
            pool.shutdown(wait=True, kill_workers=True)


def _indexed(i: int, fn: Callable, args: tuple):
    return i, fn(*args)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


def _start_method() -> str:
    import multiprocessing

    return os.environ.get("JOBLIB_START_METHOD", "").strip() or multiprocessing.get_start_method()


def _runs_tensors() -> bool:
    return "jax" in sys.modules or "tensorflow" in sys.modules


def configured_jobs() -> int | None:
    """``n_jobs`` of the active ``joblib.parallel_config`` (None if it sets none)."""
    from joblib import effective_n_jobs
    from joblib.parallel import get_active_backend

    _, n_jobs = get_active_backend()
    return None if n_jobs is None else effective_n_jobs(n_jobs)


@contextlib.contextmanager
def open_executor(*, jobs: int | None, scheduler: str | None, n_calls: int,
                  backend: str | None = None) -> Iterator:
    """The executor for ``n_calls`` parallel calls; whatever happens inside, its workers stop.

    Args:
        jobs: Local worker processes (None: ``joblib.parallel_config``'s ``n_jobs``, else
            1), capped at ``n_calls`` and the cores; 1 runs everything here.
        scheduler: A Dask scheduler address, or ``"local"`` for a throwaway cluster on
            this machine of ``jobs`` (default: as many as cores) worker processes.
        n_calls: How many calls could run at once (caps the worker count).
        backend: The Keras backend the workers must offer (checked on a Dask cluster).

    >>> with open_executor(jobs=1, scheduler=None, n_calls=4) as ex:
    ...     ex.where, ex.map(divmod, [(7, 2), (9, 4)])
    ('this process', [(3, 1), (2, 1)])
    """
    if scheduler is not None:
        from forecaster import _dask

        executor = _dask.connect(scheduler, jobs=jobs, n_calls=n_calls, backend=backend)
    else:
        n = min(jobs or configured_jobs() or 1, max(n_calls, 1), cores())
        executor = Joblib(n) if n > 1 else Serial()
    try:
        yield executor
    except BaseException:
        executor.abort()
        raise
    executor.close()
