"""compare's jobs on a Dask cluster (``--scheduler``): connect, check the workers, run, clean up.

Dask (``pip install 'forecaster-nn[dask]'``) is imported only here. ``--scheduler local``
starts a throwaway ``LocalCluster`` on 127.0.0.1 (one thread per worker process, spawned,
no dashboard) and closes it afterwards; an address connects to a running cluster.

Before any job, :func:`forecaster._preflight.preflight` checks that the scheduler and
every worker run the same software as this machine, one line per problem.

A worker that dies mid-job has its job started again elsewhere by the scheduler (up to
``distributed.scheduler.allowed-failures`` times); then the job becomes an error row. A
cluster left without workers for :data:`NO_WORKERS_S` turns its unfinished jobs into
error rows, so the comparison always finishes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import signal
import time
import uuid
import warnings

from forecaster import _preflight
from forecaster.errors import ClusterError, ConfigError, WorkerLost

CONNECT_S = 5.0  # seconds to reach the scheduler
LOCAL_START_S = 120.0  # seconds for a LocalCluster's workers to start
NO_WORKERS_S = 60.0  # seconds without any worker before unfinished jobs are given up
CLOSE_S = 10.0  # seconds to close the client and a local cluster
INSTALL = "pip install 'forecaster-nn[dask]'"


def connect(scheduler: str, *, jobs: int | None, n_calls: int, backend: str | None) -> Dask:
    """A :class:`Dask` executor on ``scheduler`` (an address or ``"local"``), checked."""
    if not has_dask():
        raise ConfigError(f"--scheduler needs Dask's distributed scheduler: {INSTALL}.")
    if not isinstance(scheduler, str) or not re.fullmatch(r"local|([a-z]+://)?\S+:\d+", scheduler.strip()):
        raise ConfigError(f"--scheduler expects 'local' or an address like tcp://HOST:8786, "
                          f"got {scheduler!r}.")
    if scheduler != "local" and jobs not in (None, 1):
        raise ConfigError(f"--jobs {jobs} sizes a local run; a cluster's size is its workers' "
                          "(`dask worker ADDRESS --nworkers N --nthreads 1`): leave out --jobs.")
    from forecaster.executors import cores

    n_local = min(jobs or cores(), cores(), max(n_calls, 1))
    executor = Dask(scheduler.strip(), n_local)
    try:
        _preflight.preflight(executor.client, executor.address, backend)
        executor.slots = max(sum(executor.client.nthreads().values()), 1)
    except BaseException:
        executor.abort()
        raise
    return executor


def has_dask() -> bool:
    """Whether Dask's distributed scheduler is installed (without importing it)."""
    return importlib.util.find_spec("distributed") is not None


class Dask:
    """Calls run as Dask tasks; see :mod:`forecaster.executors` for the interface."""

    def __init__(self, address: str, n_local: int) -> None:
        from distributed import Client

        self.cluster = None
        with warnings.catch_warnings():  # version warnings: preflight reports them, one line each
            warnings.simplefilter("ignore")
            if address == "local":
                self.cluster = _local_cluster(n_local)
                self.client = Client(self.cluster, set_as_default=False)
                try:
                    self.client.wait_for_workers(n_local, timeout=LOCAL_START_S)
                except TimeoutError:
                    self.close()
                    raise ClusterError(f"The local Dask cluster's {n_local} workers did not start "
                                       f"within {LOCAL_START_S:g} s.") from None
            else:
                try:
                    self.client = Client(address, timeout=CONNECT_S, set_as_default=False)
                except (OSError, TimeoutError) as exc:
                    raise ClusterError(
                        f"Cannot reach the Dask scheduler at {address} within {CONNECT_S:g} s "
                        f"({type(exc).__name__}); start one there with `dask scheduler`, or use "
                        "--scheduler local.") from None
        self.address = self.cluster.scheduler_address if self.cluster else address
        self.where = f"Dask at {self.address}" + (" (local)" if self.cluster else "")
        self.remote, self.slots = True, 1  # slots: the workers' threads, once they are known
        self.futures: set = set()  # unfinished calls and shared data: cancelled on abort

    def share(self, obj):
        future = self.client.scatter(obj, hash=False)
        self.futures.add(future)
        return future

    def run(self, fn, calls, on_result, on_lost) -> None:
        from distributed import as_completed

        tag = uuid.uuid4().hex[:8]
        index = {}
        for i, args in enumerate(calls):  # earlier calls first (cheap first under a time limit)
            future = self.client.submit(fn, *args, key=f"forecaster-{tag}-{i}", pure=False,
                                        priority=len(calls) - i)
            index[future] = i
        self.futures.update(index)
        self._drain(as_completed(list(index), loop=self.client.loop), index, on_result, on_lost)

    def _drain(self, pending, index: dict, on_result, on_lost) -> None:
        last_worker = time.monotonic()
        while not pending.is_empty():
            batch = pending.next_batch(block=False)
            for future in batch:
                i, lost = index.pop(future), _lost_reason(future)
                result = None if lost else future.result()  # a bug in a job raises here
                self.futures.discard(future)
                future.release()
                if lost:
                    on_lost(i, lost)
                else:
                    on_result(i, result)
            if batch:
                continue
            time.sleep(0.1)
            if self._has_workers():
                last_worker = time.monotonic()
            elif time.monotonic() - last_worker > NO_WORKERS_S:
                for future, i in list(index.items()):
                    future.cancel()
                    self.futures.discard(future)
                    on_lost(i, f"no worker left on {self.address} for {NO_WORKERS_S:g} s")
                return

    def _has_workers(self) -> bool:
        try:
            return bool(self.client.nthreads())
        except OSError:  # the scheduler is gone too
            return False

    def map(self, fn, calls) -> list:
        from distributed.scheduler import KilledWorker

        futures = self.client.map(fn, *zip(*calls), pure=False) if calls else []
        self.futures.update(futures)
        try:
            return self.client.gather(futures)
        except KilledWorker as exc:
            raise WorkerLost(f"A Dask worker died running {fn.__name__} ({exc}).") from None
        finally:
            self.futures.difference_update(futures)

    def close(self) -> None:
        self.client.close(timeout=CLOSE_S)
        if self.cluster is not None:
            self.cluster.close(timeout=CLOSE_S)

    def abort(self) -> None:
        """Cancel every unfinished call, kill a local cluster's workers (a running Python
        call cannot be interrupted; a graceful close waits seconds for it), then close."""
        try:
            if self.futures:
                self.client.cancel(list(self.futures), force=True)
            for nanny in list(getattr(self.cluster, "workers", {}).values()):
                pid = getattr(getattr(getattr(nanny, "process", None), "process", None), "pid", None)
                if pid:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
        finally:
            self.close()


def _lost_reason(future) -> str | None:
    """Why a finished future has no result because of its worker (None: it has one, or a bug)."""
    from distributed.scheduler import KilledWorker

    if future.cancelled():
        return "the cluster dropped it (its scheduler or workers went away)"
    if future.status == "error" and isinstance(future.exception(), KilledWorker):
        return f"its worker died each time it ran ({future.exception()})"
    return None


def _local_cluster(n: int):
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}):
        # No dashboard; the scheduler's HTTP routes (health, metrics) on a free port, not 8787.
        return LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                            host="127.0.0.1", scheduler_port=0, dashboard_address=":0",
                            scheduler_kwargs={"dashboard": False}, silence_logs=logging.ERROR)
