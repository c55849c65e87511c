"""A saved run in daily use: `summary RUN` describes it, `predict --plot` draws its forecast."""

from __future__ import annotations

import json

import pytest

from forecaster.api import model_summary
from tests.test_cli import assert_user_error, run
from tests.test_evaluate import panel_frame
from tests.test_plotting import PNG_MAGIC


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    """A tiny MLP fit through the CLI on three hourly series; its folder and data files."""
    tmp = tmp_path_factory.mktemp("runs")
    panel_frame((120, 100, 110)).to_csv(tmp / "panel.csv", index=False)
    panel_frame((90,), ("new",)).to_csv(tmp / "unseen.csv", index=False)
    result = run("fit", tmp / "panel.csv", "--id-col", "unique_id", "--model", "mlp", "--param", "units=3", "--param", "layers=1",
                 "--epochs", "2", "--horizon", "6", "--lookback", "12", "--out", tmp / "run")
    assert result.exit_code == 0, result.output
    return tmp


def test_summary_of_a_saved_run_gives_settings_data_metrics_and_its_layer_table(mlp_run):
    result = run("summary", mlp_run / "run", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc) == ["run", "model", "kind", "created", "format_version", "libraries", "settings",
                         "config", "data", "training", "metrics", "intervals", "layers", "n_params",
                         "weights_only"]
    assert (doc["model"], doc["kind"], doc["config"]["units"]) == ("mlp", "neural", 3)
    assert {k: doc["settings"][k] for k in ("lookback", "horizon", "epochs", "levels")} == {
        "lookback": 12, "horizon": 6, "epochs": 2, "levels": [80, 95]}
    assert doc["data"]["ids"] == ["s0", "s1", "s2"] and doc["data"]["id_col"] == "unique_id"
    assert doc["data"]["training_end"] == "2000-01-05 23:00:00" and doc["data"]["freq"] == "h"
    assert set(doc["metrics"]) == {"mae", "rmse", "mape", "smape", "mase"}
    # the saved model's layers, the same table as the closed-form summary of the same sizes
    fresh = model_summary("mlp", lookback=12, horizon=6, params={"units": 3, "layers": 1})
    assert [(r["type"], r["n_params"], r["formula"]) for r in doc["layers"]] == [
        (r["type"], r["n_params"], r["formula"]) for r in fresh["layers"]]
    assert doc["n_params"] == doc["training"]["n_params"] == fresh["count_params"]


def test_summary_of_a_run_renders_a_table_and_of_a_baseline_has_no_layers(mlp_run, tmp_path):
    table = run("summary", mlp_run / "run")
    assert table.exit_code == 0, table.output
    titles = {line.strip() for line in table.stdout.splitlines()}
    assert {"Settings", "Data", "Test metrics", "Layers: 63 parameters, 54 without biases"} <= titles
    run("fit", mlp_run / "panel.csv", "--id-col", "unique_id", "--model", "drift", "--out", tmp_path / "b")
    doc = json.loads(run("summary", tmp_path / "b", "--json").stdout)
    assert (doc["kind"], doc["layers"], doc["n_params"]) == ("baseline", [], 0)
    assert run("summary", tmp_path / "b").exit_code == 0


def test_summary_keeps_its_model_form_and_refuses_to_mix_the_two(mlp_run):
    doc = json.loads(run("summary", "--model", "gru", "--param", "units=3", "--json").stdout)
    assert (doc["lookback"], doc["horizon"], doc["n_params"]) == (24, 12, 3 * 3 * (3 + 1 + 2) + 3 * 12 + 12)
    assert_user_error(run("summary", mlp_run / "run", "--model", "lstm", "--lookback", "8"),
                      "describes the saved run; leave out --model, --lookback (they size a model "
                      "that is not saved).")
    assert_user_error(run("summary", mlp_run / "nope"), "No run directory at")


def test_predict_plot_draws_the_forecast_and_accepts_an_unseen_series(mlp_run, tmp_path):
    result = run("predict", mlp_run / "run", "--data", mlp_run / "unseen.csv", "--plot", tmp_path / "p.png")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "id,timestamp,forecast,lower_80,upper_80,lower_95,upper_95"
    assert len(result.stdout.splitlines()) == 1 + 6
    assert result.stderr.startswith("Note: Series 'new' was not in the training data; mlp forecasts it")
    assert (tmp_path / "p.png").read_bytes()[:8] == PNG_MAGIC


def test_predict_plot_to_a_folder_is_refused_before_any_work(mlp_run):
    assert_user_error(run("predict", mlp_run / "run", "--plot", mlp_run),
                      f"--plot {mlp_run} is a folder, not a file; pass another path.")
