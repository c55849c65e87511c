"""Running compare's jobs: --jobs capped and joblib-configurable, worker deaths, seeds, --time-limit."""

from __future__ import annotations

import os
import random
import threading
import time

import numpy as np
import pytest
from conftest import dies
from joblib import parallel_config

from forecaster import executors, jobs, read_csv, training
from forecaster.compare import compare
from forecaster.errors import ConfigError

TINY = dict(epochs=2, batch_size=16, patience=2, seed=0, params={"units": 3})
two_cores = pytest.mark.skipif(executors.cores() < 2, reason="needs 2 cores")


def test_jobs_are_capped_at_the_number_of_jobs_and_cores():
    with executors.open_executor(jobs=64, scheduler=None, n_calls=2) as ex:
        assert ex.slots == min(2, executors.cores())
    with executors.open_executor(jobs=64, scheduler=None, n_calls=1) as ex:
        assert isinstance(ex, executors.Serial)  # one job: no worker process at all


@two_cores
def test_joblib_parallel_config_is_honoured():
    with parallel_config(n_jobs=2), executors.open_executor(jobs=None, scheduler=None,
                                                             n_calls=4) as ex:
        assert ex.slots == 2
    with parallel_config(backend="threading"), pytest.raises(ConfigError, match="threads"), \
            executors.open_executor(jobs=2, scheduler=None, n_calls=2):
        pass


@two_cores
def test_map_runs_small_calls_on_the_comparisons_workers():
    assert jobs.map(os.getpid, [(), ()]) == [os.getpid()] * 2  # no comparison: here
    ex = executors.Joblib(2)
    token = jobs._EXECUTOR.set(ex)
    try:
        pids = jobs.map(os.getpid, [(), (), ()])
    finally:
        jobs._EXECUTOR.reset(token)
    assert len(pids) == 3 and os.getpid() not in pids



@two_cores
def test_a_dead_worker_process_is_retried_then_an_error_row(tmp_path):
    results, lost = {}, {}
    executors.Joblib(2).run(dies, [(str(tmp_path / "once"),)], results.__setitem__,
                            lost.__setitem__)
    assert results == {0: "done"} and lost == {}
    results.clear()  # a call that always kills its worker, next to one that does not
    executors.Joblib(2).run(dies, [("",), (str(tmp_path / "once"),)], results.__setitem__,
                            lost.__setitem__)
    assert results == {1: "done"} and list(lost) == [0]
    assert lost[0].startswith(f"its worker process died {executors.RETRIES + 1} times")


def test_layer_seeds_do_not_depend_on_other_threads_drawing_from_random():
    """A Dask worker's event loop draws from Python's random while a job builds its model."""
    from forecaster import models

    def initial_weights():
        stop = threading.Event()

        def draw():
            while not stop.is_set():
                random.random()
                time.sleep(1e-4)

        noise = threading.Thread(target=draw)
        with training.private_seeds():
            training.seed_everything(0)
            noise.start()
            try:
                model = models.module("mlp").build(models.make_config("mlp", {"units": 8}),
                                                   lookback=12, n_features=1, horizon=3)
            finally:
                stop.set()
                noise.join()
        return model.get_weights()

    first, second = initial_weights(), initial_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_a_jobs_numbers_do_not_depend_on_what_its_process_ran_before(monthly_csv):
    panel = read_csv(monthly_csv)
    alone = jobs.run_job(panel, "mlp", 1, 2, 12, TINY)
    jobs.run_job(panel, "mlp", 0, 2, 12, {**TINY, "params": {"units": 5}, "seed": 3})
    after = jobs.run_job(panel, "mlp", 1, 2, 12, TINY)
    assert after["series_metrics"] == alone["series_metrics"]


def test_time_limit_stops_training_and_reports_jobs_not_run(monthly_csv):
    panel = read_csv(monthly_csv)
    seen = []
    start = time.monotonic()
    # cheap first: the baselines, then mlp fold 0 (trains until the limit), then fold 1
    result = compare(panel, models="mlp", folds=2, time_limit="3s", epochs=100_000, patience=0, auto=False,
                     params={"units": 3}, on_job=lambda record, progress: seen.append(progress))
    assert time.monotonic() - start < 60
    row = next(r for r in result.leaderboard if r["model"] == "mlp")
    assert row["error"] == "fold 1: not run: the --time-limit of 3s ran out before it started"
    assert row["folds_scored"] == [0] and np.isfinite(row["mase"])
    assert result.settings["cut_short"] == ["mlp fold 0"] and result.settings["time_limit_s"] == 3
    mlp0 = next(r for r in result.records if r["model"] == "mlp" and r["fold"] == 0)
    assert mlp0["history"]["stopped_by"] == "time_limit" and mlp0["epochs_run"] < 100_000
    models = sorted({r["model"] for r in result.records})  # mlp, its reference models
    assert models == ["mlp", "naive", "naive2", "seasonal_naive"] and len(result.records) == 8
    assert [p.done for p in seen] == list(range(1, 9)) and seen[-1].total == 8
    assert seen[-1].time_left_s == 0


def test_a_bad_time_limit_is_one_line_before_any_work(monthly_csv):
    with pytest.raises(ConfigError, match="--time-limit expects a duration like 10m, 90s or "
                                          "1h30m, got 'soon'"):
        compare(read_csv(monthly_csv), models="mlp", time_limit="soon")
