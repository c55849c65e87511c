"""compare on a Dask cluster: the same leaderboard as sequential, preflight, dead workers.

One 2-worker LocalCluster (port 0, no dashboard, one thread per worker process) serves the
module; the test that kills workers runs last.
"""

from __future__ import annotations

import logging
import time

import pandas as pd
import pytest
from conftest import dies
from typer.testing import CliRunner

from forecaster import read_csv
from forecaster.cli import app
from forecaster.compare import compare
from forecaster.errors import ClusterError

distributed = pytest.importorskip("distributed")
from forecaster import _dask, _preflight  # after the skip: they need Dask

TINY = dict(models="naive,mlp", folds=2, epochs=2, batch_size=16, patience=2, seed=0, seeds=1,
            params={"units": 3})


@pytest.fixture(scope="module")
def cluster():
    import dask

    settings = {"distributed.scheduler.allowed-failures": 1,  # a job may kill 2 workers
                "distributed.worker.multiprocessing-method": "spawn"}
    with dask.config.set(settings):
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         host="127.0.0.1", scheduler_port=0,
                                         dashboard_address=":0", scheduler_kwargs={"dashboard": False},
                                         silence_logs=logging.ERROR)
    yield local
    local.close(timeout=30)


def stable(board):
    return [{k: v for k, v in row.items() if k not in ("fit_seconds", "predict_ms")} for row in board]


def test_the_dask_leaderboard_equals_the_sequential_one(cluster, monthly_csv):
    panel = read_csv(monthly_csv)
    here = compare(panel, **TINY)
    there = compare(panel, scheduler=cluster.scheduler_address, **TINY)
    assert stable(there.leaderboard) == stable(here.leaderboard)
    pd.testing.assert_frame_equal(there.forecasts, here.forecasts)
    assert there.settings["scheduler"] == cluster.scheduler_address


def test_preflight_gives_one_line_per_mismatch(cluster, monthly_csv, monkeypatch):
    real = _preflight.local_software
    monkeypatch.setattr(_preflight, "local_software", lambda packages: {**real(packages), "keras": "0.0.1"})
    address = cluster.scheduler_address
    workers = sorted(cluster.scheduler_info["workers"])
    start = time.monotonic()
    result = CliRunner().invoke(app, ["compare", str(monthly_csv), "--models", "naive",
                                      "--scheduler", address])
    assert time.monotonic() - start < 10
    assert result.exit_code == 1 and "Traceback" not in result.output
    import keras

    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: The Dask cluster at {address} cannot run these jobs (3 problem(s)):"
    expected = [f"  {where}: keras {keras.__version__}, here 0.0.1"
                for where in ("scheduler", *(f"worker {w}" for w in workers))]
    assert sorted(lines[1:]) == sorted(expected)


def test_an_unreachable_scheduler_is_one_line(monthly_csv, monkeypatch):
    monkeypatch.setattr(_dask, "CONNECT_S", 1.0)
    with pytest.raises(ClusterError, match=r"Cannot reach the Dask scheduler at tcp://127.0.0.1:9 "
                                           r"within 1 s .*dask scheduler"):
        compare(read_csv(monthly_csv), models="naive", scheduler="tcp://127.0.0.1:9")


def test_without_dask_scheduler_says_what_to_install(monthly_csv, monkeypatch):
    monkeypatch.setattr(_dask, "has_dask", lambda: False)
    result = CliRunner().invoke(app, ["compare", str(monthly_csv), "--models", "naive"],
                                env={"FORECASTER_SCHEDULER": "local"})
    assert result.exit_code == 1
    assert result.stderr == ("Error: --scheduler needs Dask's distributed scheduler: "
                             "pip install 'forecaster-nn[dask]'.\n")


def test_scheduler_local_starts_and_stops_a_throwaway_cluster(monthly_csv):
    import psutil

    panel = read_csv(monthly_csv)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    result = compare(panel, models="naive,drift", folds=2, scheduler="local", jobs=1)
    assert stable(result.leaderboard) == stable(compare(panel, models="naive,drift", folds=2).leaderboard)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        left = {p.pid for p in psutil.Process().children(recursive=True)
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE} - before
        if not left:
            break
        time.sleep(0.5)
    assert not left



def test_a_dead_worker_is_replaced_and_a_job_that_kills_every_worker_is_an_error_row(cluster, tmp_path):
    executor = _dask.Dask(cluster.scheduler_address, 1)
    results, lost = {}, {}
    try:  # one at a time: a worker's death also counts against the tasks queued on it
        executor.run(dies, [(str(tmp_path / "once"),)], results.__setitem__, lost.__setitem__)
        assert results == {0: "done"} and lost == {}
        executor.run(dies, [("",)], results.__setitem__, lost.__setitem__)
    finally:
        executor.close()
    assert lost[0].startswith("its worker died each time it ran")
