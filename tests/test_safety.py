"""Nothing lost, nothing trusted blindly: portable runs, outputs checked before any work,
numbers that cannot lie, strict JSON, and an answer for every odd value."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecaster import Forecaster, baselines, read_csv, stored
from forecaster.cli import app
from forecaster.errors import ConfigError
from forecaster.models import BASELINES
from tests.conftest import seasonal_frame

runner = CliRunner()
TINY = dict(epochs=2, batch_size=16, patience=2, seed=0)


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def assert_user_error(result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0], result.stderr


def strict_json(text: str):
    """JSON as strict parsers read it: NaN and Infinity are syntax errors."""
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")
    return json.loads(text, parse_constant=refuse)


# ------------------------------------------------------------- portable runs
def test_predict_without_data_ignores_a_file_of_the_same_name_elsewhere(tmp_path, monkeypatch):
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir(), there.mkdir()
    frame = seasonal_frame()
    frame.to_csv(here / "air.csv", index=False)
    frame.assign(y=frame["y"] * 10).to_csv(there / "air.csv", index=False)  # same name, 10x
    monkeypatch.chdir(here)
    assert run("fit", "air.csv", "--model", "seasonal_naive", "--out", tmp_path / "run").exit_code == 0
    expected = run("predict", tmp_path / "run").stdout
    monkeypatch.chdir(there)
    got = run("predict", tmp_path / "run")  # was: read there/air.csv, forecasts 10x, exit 0
    assert got.exit_code == 0 and got.stdout == expected


def covariate_panel(tmp_path):
    frames = []
    for i, n in enumerate((80, 70)):
        df = seasonal_frame(n, season=12, seed=i, level=50.0 * (i + 1))
        frames.append(df.assign(id=f"s{i}", x=np.cos(np.arange(n))))
    pd.concat(frames).to_csv(tmp_path / "cov.csv", index=False)
    return read_csv(tmp_path / "cov.csv", id_col="id", covariates="x")


@pytest.mark.parametrize("model", [*BASELINES, "mlp"])
def test_the_kept_tail_forecasts_exactly_as_the_whole_file(model, tmp_path):
    panel = covariate_panel(tmp_path) if model == "mlp" else read_csv(
        _write(tmp_path, seasonal_frame(90)), covariates=None)
    options = dict(TINY, params={"units": 3, "layers": 1}) if model == "mlp" else {}
    f = Forecaster(model, horizon=6, lookback=10, **options).fit(panel)
    f.save(tmp_path / "run")
    g = Forecaster.load(tmp_path / "run")
    pd.testing.assert_frame_equal(g.predict(g.data_), f.predict(panel))
    whole = model in ("drift", "mean")  # they read the whole history; the others a tail
    assert all((k == n) if whole else (k < n) for k, n in zip(g.data_.lengths, panel.lengths))


def _write(tmp_path, frame):
    frame.to_csv(tmp_path / "data.csv", index=False)
    return tmp_path / "data.csv"


def test_a_run_too_long_to_keep_its_data_asks_for_it_and_says_when_it_changed(monthly_csv, tmp_path,
                                                                              monkeypatch):
    monkeypatch.setattr(stored, "MAX_VALUES", 10)
    assert run("fit", monthly_csv, "--model", "drift", "--out", tmp_path / "run").exit_code == 0
    result = run("predict", tmp_path / "run")
    assert_user_error(result, "keeps no copy of its data")
    assert f"pass --data FILE to forecast past the end of FILE (it was fit on '{monthly_csv}')" in result.stderr
    assert run("predict", tmp_path / "run", "--data", monthly_csv).stderr == ""
    with open(monthly_csv, "a") as file:
        file.write("2008-01-01,130.5\n")  # the training file grows by a month
    result = run("predict", tmp_path / "run", "--data", monthly_csv)
    assert result.exit_code == 0
    assert "Note: monthly.csv changed since the run was fit" in result.stderr
    assert result.stdout.splitlines()[1].startswith("2008-02-01")  # past the end of the new content


def test_predict_errors_name_only_predicts_flags(monthly_csv, tmp_path):
    run("fit", monthly_csv, "--model", "naive", "--out", tmp_path / "run")
    seasonal_frame().rename(columns={"y": "sales"}).to_csv(tmp_path / "other.csv", index=False)
    result = run("predict", tmp_path / "run", "--data", tmp_path / "other.csv")
    assert_user_error(result, "Column 'y' not found in other.csv")
    assert "--target" not in result.stderr and "pass a file like it" in result.stderr


# --------------------------------------------------------- outputs: no loss
def test_predict_never_overwrites_the_training_file_or_the_run(monthly_csv, tmp_path):
    run("fit", monthly_csv, "--model", "naive", "--out", tmp_path / "run")
    before = monthly_csv.read_bytes()
    assert_user_error(run("predict", tmp_path / "run", "--output", monthly_csv),
                      "--output monthly.csv is a file this command reads")
    assert_user_error(run("predict", tmp_path / "run", "--output", tmp_path / "run" / "manifest.json"),
                      "is inside the run directory")
    assert_user_error(run("predict", tmp_path / "run", "--plot", monthly_csv),
                      "--plot monthly.csv is a file this command reads")
    assert_user_error(run("summary", tmp_path / "run", "--plot", tmp_path / "run" / "data.json"),
                      "data.json is inside the run directory")
    assert monthly_csv.read_bytes() == before and Forecaster.load(tmp_path / "run").model == "naive"


def test_fit_refuses_a_folder_with_other_files_before_reading_anything(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    # the data file does not exist: the --out check comes first
    assert_user_error(run("fit", tmp_path / "missing.csv", "--out", tmp_path / "mine"),
                      "holds 'notes.txt', which is not part of a forecaster run")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("command", ["fit", "compare"])
def test_impossible_outputs_are_refused_before_any_work(tmp_path, command):
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "sub"
    assert_user_error(run(command, tmp_path / "missing.csv", "--out", out), "afile is a file")


def test_compare_never_writes_over_its_own_data(tmp_path):
    seasonal_frame().to_csv(tmp_path / "forecasts.csv", index=False)
    assert_user_error(run("compare", tmp_path / "forecasts.csv", "--models", "naive", "--out", tmp_path),
                      "--out forecasts.csv is a file this command reads")


def test_a_write_error_is_one_line(monthly_csv, tmp_path, monkeypatch):
    run("fit", monthly_csv, "--model", "naive", "--out", tmp_path / "run")

    def disk_full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pathlib.Path.write_text", disk_full)
    assert_user_error(run("predict", tmp_path / "run", "--output", tmp_path / "fc.csv"),
                      "Could not write --output")
    assert not (tmp_path / "fc.csv").exists() and not list(tmp_path.glob(".fc.csv.tmp-*"))


# ------------------------------------------------------------ honest numbers
def test_a_non_finite_forecast_fails_the_fit_and_never_ranks_first(monthly_csv, tmp_path, monkeypatch):
    monkeypatch.setitem(baselines.FUNCTIONS, "mean", lambda h, horizon, season: np.full(horizon, np.nan))
    assert_user_error(run("fit", monthly_csv, "--model", "mean", "--out", tmp_path / "run"),
                      "mean forecast 996 non-finite value(s)")  # at the calibration origins
    result = run("compare", monthly_csv, "--models", "mean,drift", "--metric", "smape", "--json")
    board = {r["model"]: r for r in strict_json(result.stdout)["leaderboard"]}
    assert board["mean"]["rank"] == len(board) and board["mean"]["smape"] is None and board["mean"]["skill"] is None
    assert "non-finite" in board["mean"]["error"]


def test_an_mlp_on_values_near_1e158_forecasts_finite_numbers(tmp_path):
    frame = seasonal_frame()
    panel = read_csv(_write(tmp_path, frame.assign(y=frame["y"] * 1e158)))
    f = Forecaster("mlp", params={"units": 3, "layers": 1}, **TINY).fit(panel)
    assert all(np.isfinite(v) for v in f.metrics_.values())  # was: NaN forecasts, sMAPE "0"
    assert np.isfinite(f.predict(panel)["forecast"]).all()


def test_json_is_strict_where_values_are_missing(tmp_path):
    frame = seasonal_frame()
    _write(tmp_path, frame.assign(y=0.0))  # an all-zero series: MAPE undefined
    result = run("fit", tmp_path / "data.csv", "--model", "naive", "--out", tmp_path / "run", "--json")
    report = strict_json(result.stdout)
    assert result.exit_code == 0 and report["metrics"]["mape"] is None
    board = strict_json(run("compare", tmp_path / "data.csv", "--models", "naive", "--json").stdout)
    assert board["leaderboard"][0]["mape"] is None


# --------------------------------------------------- every value answered
def test_seed_minus_one_draws_a_seed_that_is_reported_recorded_and_repeats(monthly_csv, tmp_path):
    flags = ["--model", "mlp", "--param", "units=3", "--param", "layers=1", "--epochs", "2", "--json"]
    first = json.loads(run("fit", monthly_csv, *flags, "--seed", "-1", "--out", tmp_path / "a").stdout)
    assert first["seed_drawn"] and 0 <= first["seed"] < 2**32
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["state"]["seed"] == first["seed"] and manifest["params"]["seed"] == -1
    again = json.loads(run("fit", monthly_csv, *flags, "--seed", first["seed"], "--out", tmp_path / "b").stdout)
    assert again["metrics"] == first["metrics"] and not again["seed_drawn"]


@pytest.mark.parametrize("flags, expected", [
    (["--seed", str(2**32)], "--seed must be an integer between 0 and 4294967295, or -1"),
    (["--level", "50", "--level", "50"], "--level 50 is given twice"),
    (["--horizon", str(10**9), "--test-size", "0", "--val-size", "0"], "--horizon must be an integer between 1"),
])
def test_odd_fit_values_are_one_line(monthly_csv, tmp_path, flags, expected):
    assert_user_error(run("fit", monthly_csv, "--model", "naive", "--out", tmp_path / "run", *flags), expected)


@pytest.mark.parametrize("flags, expected", [
    (["--models", ""], "--models '' names no model"),
    (["--models", "naive", "--test-size", "0"], "--test-size must be an integer >= 1, got 0."),
    (["--models", "naive", "--seed", "-2"], "--seed must be an integer between 0 and 4294967295"),
])
def test_odd_compare_values_are_one_line(monthly_csv, flags, expected):
    assert_user_error(run("compare", monthly_csv, *flags), expected)


@pytest.mark.parametrize("flags, expected", [
    (["--lookback", "-3"], "--lookback must be an integer >= 1, got -3."),
    (["--n-features", "0"], "--n-features must be an integer >= 1, got 0."),
    (["--horizon", "-2"], "--horizon must be an integer >= 1, got -2."),
    (["--param", "units=2000000000"], "mlp would have 4,000,000,076,000,000,012 parameters"),
])
def test_odd_summary_values_are_one_line_and_quick(flags, expected):
    start = time.perf_counter()
    assert_user_error(run("summary", "--model", "mlp", *flags), expected)
    assert time.perf_counter() - start < 30  # was: a process abort after 8.6 GB


@pytest.mark.parametrize("model", ["mlp", "lstm", "wavenet"])
def test_a_huge_layer_count_is_a_config_error_not_a_recursion_error(model):
    # layers=100000 reached Keras's recursive graph build: a RecursionError traceback
    with pytest.raises(ConfigError, match="layers=100000 is invalid: expected an integer from"):
        Forecaster(model, params={"layers": 100000}).check_params()
