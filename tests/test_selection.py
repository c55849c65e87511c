"""The leaderboard's contenders and picks: model groups, --param routing, OWA, the auto row
(chosen without the test), --save-best and median combinations across kinds."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecaster import Forecaster, metrics, models, read_csv
from forecaster.cli import app
from forecaster.compare import compare, model_params, parse_models
from forecaster.ensemble import MedianRun, median
from forecaster.errors import ArtifactError, ConfigError
from forecaster.selection import save_best

FAST = "drift,mean,auto_theta"  # with naive, seasonal_naive and naive2: no Keras, seconds


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    from tests.conftest import seasonal_frame

    path = tmp_path_factory.mktemp("sel") / "monthly.csv"
    seasonal_frame(120).to_csv(path, index=False)
    return read_csv(path)


@pytest.fixture(scope="module")
def result(panel):
    return compare(panel, models=FAST, folds=3)


# ---------------------------------------------------------------- registry and groups
def test_groups_expand_to_registered_models_of_their_kind():
    assert parse_models("stats,lstm") == [*models.STATISTICAL, "lstm", "naive", "seasonal_naive"]
    assert parse_models("baselines") == list(models.BASELINES) + ["naive2"]
    assert parse_models(None) == list(models.MODELS)
    assert {models.kind(n) for n in models.expand("neural")} == {"neural"}
    assert set(models.KINDS) == {models.kind(n) for n in models.MODELS}


def test_models_command_shows_the_kind_of_every_model():
    doc = json.loads(CliRunner().invoke(app, ["models", "--json"]).stdout)
    kinds = {row["model"]: row["kind"] for row in doc["models"]}
    assert kinds["auto_ets"] == kinds["mstl"] == kinds["naive2"] == "statistical"
    assert kinds["lstm"] == "neural" and kinds["drift"] == "baseline"


def test_params_go_to_the_models_that_take_them(panel):
    shape = Forecaster("naive").resolve(panel).model_shape(panel)
    sized = model_params(["mstl", "mlp", "naive"], None, shape, {"seasons": "12,24", "units": "8"})
    assert sized == {"mstl": {"seasons": "12,24"}, "mlp": {"units": "8"}, "naive": None}
    one = model_params(["mlp", "gru"], None, shape, {"gru.units": "5"})
    assert one == {"mlp": None, "gru": {"units": "5"}}
    with pytest.raises(ConfigError, match="no compared model takes 'bogus'"):
        model_params(["mlp"], None, shape, {"bogus": "1"})


# ---------------------------------------------------------------- statistical rows, OWA
def test_statistical_rows_show_their_specification(result):
    rows = {r["model"]: r for r in result.leaderboard}
    assert rows["auto_theta"]["kind"] == "statistical" and rows["auto_theta"]["spec"].startswith("Theta(")
    assert rows["naive2"]["spec"].startswith("Naive2(")
    assert rows["drift"]["spec"] is None
    theta = [r for r in result.records if r["model"] == "auto_theta" and r["fold"] == 0][0]
    assert len(theta["specs"]) == 1  # one fit per series


def test_owa_is_m4s_relative_to_naive2_on_the_same_folds(result):
    rows = {r["model"]: r for r in result.leaderboard}
    assert rows["naive2"]["owa"] == pytest.approx(1.0)
    theta, naive2 = rows["auto_theta"], rows["naive2"]
    expected = 0.5 * (theta["smape"] / naive2["smape"] + theta["mase"] / naive2["mase"])
    assert theta["owa"] == pytest.approx(expected)


def test_metric_owa_ranks_by_owa(panel):
    board = compare(panel, models=FAST, folds=2, metric="owa", auto=False).leaderboard
    owas = [r["owa"] for r in board]
    assert owas == sorted(owas)


def test_a_refused_statistical_model_is_a_one_line_error_row(panel_csv):
    panel = read_csv(panel_csv, id_col="unique_id", season=48)
    result = compare(panel, models="auto_arima", horizon=12, auto=False)
    row = next(r for r in result.leaderboard if r["model"] == "auto_arima")
    assert "auto_arima refuses season 48" in row["error"] and "\n" not in row["error"]
    assert np.isnan(row["mase"]) and row["rank"] == len(result.leaderboard)


# ---------------------------------------------------------------- auto
def test_auto_is_its_pick_on_every_fold(result):
    picks = result.settings["auto"]["picks"]
    assert len(picks) == 3 and all(picks)
    autos = {r["fold"]: r for r in result.records if r["model"] == "auto"}
    for k, pick in enumerate(picks):
        if not pick.startswith("median("):
            chosen = next(r for r in result.records if r["model"] == pick and r["fold"] == k)
            assert autos[k]["series_metrics"] == chosen["series_metrics"]
    row = next(r for r in result.leaderboard if r["model"] == "auto")
    assert row["kind"] == "auto" and row["rank"] >= 1
    assert row["spec"] == "; ".join(f"fold {k}: {p}" for k, p in enumerate(picks))


def test_auto_picks_the_best_on_the_window_before_the_fold(result):
    window = {r["model"]: r for r in result.records if r["fold"] == -1 and r["error"] is None}
    mase = {m: metrics.panel_mean(r["series_metrics"])["mase"] for m, r in window.items()}
    best = min(mase, key=mase.get)
    pick = result.settings["auto"]["picks"][0]
    if pick.startswith("median("):  # the median of the best three beat the best one
        members = pick[len("median("):-1].split(",")
        assert sorted(members, key=mase.get) == sorted(mase, key=mase.get)[:3]
    else:
        assert pick == best


def test_auto_never_sees_the_test_of_its_fold(panel, result):
    # wreck the last fold's test window: the picks of every fold stay, its scores change
    s = panel.series[0]
    values = s.values.copy()
    values[-12:] *= 3.0
    broken = dataclasses.replace(panel, series=(dataclasses.replace(s, values=values),))
    again = compare(broken, models=FAST, folds=3)
    assert again.settings["auto"]["picks"] == result.settings["auto"]["picks"]
    auto = {r["model"]: r for r in again.leaderboard}["auto"]
    assert auto["mase"] != {r["model"]: r for r in result.leaderboard}["auto"]["mase"]


def test_save_best_refits_the_pick_on_all_the_data_for_predict(panel, result, tmp_path):
    saved = save_best(result, panel, tmp_path / "best")
    f = Forecaster.load(tmp_path / "best")
    assert saved["pick"] == result.settings["auto"]["pick"]
    forecast = f.predict(panel)
    assert len(forecast) == 12 and forecast["forecast"].notna().all()
    if saved["model"]:
        assert f.model == saved["model"] and f.splits_[0].test == (120, 120)  # nothing held out


def test_a_median_pick_is_saved_as_a_run_of_its_members(panel, result, tmp_path):
    forced = dataclasses.replace(result, settings={**result.settings, "auto": {
        "pick": "median(drift,naive2,auto_theta)", "model": None,
        "members": ["drift", "naive2", "auto_theta"]}})
    save_best(forced, panel, tmp_path / "combo")
    loaded = MedianRun.load(tmp_path / "combo")
    assert loaded.names == ["drift", "naive2", "auto_theta"]
    with pytest.raises(ArtifactError, match="holds a median of runs"):
        Forecaster.load(tmp_path / "combo")
    members = [Forecaster(n).fit(panel, test_size=0).predict(panel) for n in loaded.names]
    pd.testing.assert_frame_equal(loaded.predict(panel), median(members))
    doc = CliRunner().invoke(app, ["predict", str(tmp_path / "combo"), "--json"])
    assert doc.exit_code == 0, doc.output
    assert len(json.loads(doc.stdout)["forecast"]) == 12
    # a later pick of the other kind replaces it
    single = dataclasses.replace(result, settings={**result.settings, "auto": {
        "pick": "drift", "model": "drift", "members": []}})
    save_best(single, panel, tmp_path / "combo")
    assert Forecaster.load(tmp_path / "combo").model == "drift"
    assert sorted(p.name for p in (tmp_path / "combo").iterdir() if not p.name.startswith(".")) == [
        "data.json", "manifest.json"]


def test_cli_save_best_then_predict(monthly_csv, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["compare", str(monthly_csv), "--models", "drift,auto_theta",
                                 "--folds", "2", "--save-best", str(tmp_path / "run"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["settings"]["saved"]["artifact"] == str(tmp_path / "run")
    assert doc["settings"]["auto"]["pick"] == doc["settings"]["saved"]["pick"]
    predicted = runner.invoke(app, ["predict", str(tmp_path / "run"), "--data", str(monthly_csv)])
    assert predicted.exit_code == 0, predicted.output
    assert predicted.stdout.splitlines()[0].startswith("timestamp,forecast,lower_80")


# ---------------------------------------------------------------- combinations
def test_ensemble_combines_statistical_and_neural_members(monthly_csv):
    panel = read_csv(monthly_csv)
    result = compare(panel, models="auto_theta", ensemble="auto_theta,naive2,mlp", auto=False,
                     params={"units": 3}, epochs=2, batch_size=16, patience=2)
    rows = {r["model"]: r for r in result.leaderboard}
    assert rows["ensemble"]["kind"] == "combination" and rows["ensemble"]["error"] is None
    assert rows["ensemble"]["spec"] == "median(auto_theta,naive2,mlp)"
    assert result.settings["ensemble"] == ["auto_theta", "naive2", "mlp"]
    f = result.forecasts
    members = f[f["model"].isin(["auto_theta", "naive2", "mlp"])].groupby("timestamp")["forecast"].median()
    ours = f[f["model"] == "ensemble"].set_index("timestamp")["forecast"]
    np.testing.assert_allclose(ours.sort_index(), members.sort_index())
