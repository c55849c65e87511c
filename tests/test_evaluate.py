"""evaluate: a saved run scored on newer data without refitting, anomaly flags, unseen series."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from forecaster import Forecaster, from_frame, models
from forecaster.compare import compare
from forecaster.errors import ConfigError, DataError
from forecaster.evaluate import COLUMNS, FLAGS, evaluate
from tests.conftest import seasonal_frame
from tests.test_cli import assert_user_error, run

TINY_MLP = dict(params={"units": 4, "layers": 1}, epochs=2, batch_size=16, patience=2, seed=0)
SPIKES = {207: 12.0, 223: -12.0, 240: 12.0}  # rows of a 260-day series fit on its first 200


def spiky(n: int = 260, seed: int = 3) -> pd.DataFrame:
    """Daily noise around 50 with a spike of +-12 standard deviations at each row of SPIKES."""
    y = 50 + np.random.default_rng(seed).normal(0, 1, n)
    for row, jump in SPIKES.items():
        y[row] += jump
    return pd.DataFrame({"date": pd.date_range("2020-01-01", periods=n, freq="D"), "y": y})


def mean_run(frame: pd.DataFrame) -> Forecaster:
    """The mean baseline with 99% intervals calibrated on 120 validation rows, fit on 200 rows."""
    return Forecaster("mean", horizon=7, lookback=48, val_size=120, levels=(80, 99)).fit(
        from_frame(frame[:200]), test_size=0)


def panel_frame(lengths=(150, 130, 140), ids=("s0", "s1", "s2")) -> pd.DataFrame:
    frames = [seasonal_frame(n, season=24, freq="h", seed=i, level=50.0 * (i + 1))
              .rename(columns={"date": "ds"}).assign(unique_id=sid)
              for i, (sid, n) in enumerate(zip(ids, lengths))]
    return pd.concat(frames, ignore_index=True)[["unique_id", "ds", "y"]]


# ---------------------------------------------------------------- anomalies
@pytest.mark.parametrize("seed", [3, 11])
def test_the_planted_spikes_and_nothing_else_are_flagged(seed):
    frame = spiky(seed=seed)
    result = evaluate(mean_run(frame), from_frame(frame))
    assert result.settings["level"] == 99  # the widest calibrated level by default
    found = result.anomalies
    assert found["timestamp"].tolist() == frame["date"][list(SPIKES)].tolist()
    assert found["direction"].tolist() == ["above", "below", "above"]
    assert (np.sign(found["score"]) == np.sign(list(SPIKES.values()))).all()
    assert (found["score"].abs() > 1).all()
    calm = result.forecasts[~result.forecasts["anomaly"]]
    assert (calm["score"].abs() <= 1).all() and calm["direction"].isna().all()
    assert result.summary["n_anomalies"] == 3 and result.summary["coverage"] == 57 / 60


def test_score_is_the_residual_over_the_half_width_of_the_flagging_interval():
    frame = spiky()
    f = evaluate(mean_run(frame), from_frame(frame), level=80).forecasts
    half = (f["upper_80"] - f["lower_80"]) / 2
    np.testing.assert_allclose(f["score"], (f["y"] - f["forecast"]) / half)
    outside = (f["y"] > f["upper_80"]) | (f["y"] < f["lower_80"])
    assert (f["anomaly"] == outside).all() and outside.sum() > 3  # 80%: more flags than spikes


def test_cli_evaluate_scores_a_saved_run_and_lists_the_planted_anomalies(tmp_path):
    frame = spiky()
    frame[:200].to_csv(tmp_path / "old.csv", index=False)
    frame.to_csv(tmp_path / "newer.csv", index=False)
    fitted = run("fit", tmp_path / "old.csv", "--model", "mean", "--horizon", "7", "--lookback", "48",
                 "--val-size", "120", "--test-size", "0", "--level", "80", "--level", "99",
                 "--out", tmp_path / "run")
    assert fitted.exit_code == 0, fitted.output
    result = run("evaluate", tmp_path / "run", "--data", tmp_path / "newer.csv", "--anomalies-only",
                 "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["level"] == 99
    assert [(a["timestamp"][:10], a["direction"]) for a in doc["anomalies"]] == [
        ("2020-07-26", "above"), ("2020-08-11", "below"), ("2020-08-28", "above")]
    table = run("evaluate", tmp_path / "run", "--data", tmp_path / "newer.csv")
    assert table.exit_code == 0 and "Anomalies: 3 actual(s) outside the 99% interval" in table.stdout
    assert "2020-08-11" in table.stdout and "below" in table.stdout


# ---------------------------------------------------------------- scoring
@pytest.mark.parametrize("model", ["seasonal_naive", "mlp"])
def test_one_origin_scores_exactly_as_fit_scores_its_test_part(model, monthly_csv):
    """A run fit on all but the last horizon, evaluated on the whole file, is fit's test scoring."""
    full = from_frame(pd.read_csv(monthly_csv))
    short = from_frame(pd.read_csv(monthly_csv)[:-12])
    options = TINY_MLP if model == "mlp" else {}
    whole = Forecaster(model, **options).fit(full)  # tests the last 12 rows
    result = evaluate(Forecaster(model, **options).fit(short, test_size=0), full)
    assert result.summary["n_origins"] == 1 and result.summary["n_points"] == 12
    for key, value in whole.metrics_.items():
        assert result.summary[key] == pytest.approx(value, rel=1e-9), key
    expected = whole.test_forecasts_
    assert result.forecasts["timestamp"].tolist() == expected["timestamp"].tolist()
    for column in ("y", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"):
        np.testing.assert_allclose(result.forecasts[column], expected[column], rtol=1e-9,
                                   err_msg=column)
    if model == "seasonal_naive":  # and compare's leaderboard row, coverage included
        row = compare(full, models="seasonal_naive").leaderboard[0]
        for key in ("mae", "rmse", "mape", "smape", "mase", "coverage_80", "coverage_95"):
            assert result.summary[key] == pytest.approx(row[key], rel=1e-9), key
        assert result.summary["skill"] == pytest.approx(0.0)


def test_origins_every_stride_from_the_training_end_with_a_partial_last_window():
    frame = spiky()
    f, panel = mean_run(frame), from_frame(frame)  # 60 new rows, horizon 7
    by_horizon = evaluate(f, panel)
    assert by_horizon.summary["n_origins"] == 9 and by_horizon.summary["n_points"] == 60
    assert by_horizon.forecasts["timestamp"].is_unique  # each new actual forecast once
    assert by_horizon.forecasts.groupby("cutoff").size().tolist() == [7] * 8 + [4]
    assert by_horizon.forecasts["cutoff"].iloc[0] == frame["date"][199]  # the training end
    every_step = evaluate(f, panel, stride=1)
    assert every_step.summary["n_origins"] == 60
    assert every_step.summary["n_points"] == sum(min(7, 60 - k) for k in range(60))
    assert list(every_step.forecasts.columns) == [*COLUMNS, "lower_80", "upper_80", "lower_99",
                                                  "upper_99", *FLAGS]


def test_mase_of_each_window_is_scaled_by_the_history_before_its_origin():
    frame = spiky()
    result = evaluate(mean_run(frame), from_frame(frame))
    y = frame["y"].to_numpy()
    scales = [np.mean(np.abs(y[7:o] - y[:o - 7])) for o in range(200, 260, 7)]  # daily: lag 7
    errors = (result.forecasts["y"] - result.forecasts["forecast"]).abs()
    window_mae = errors.groupby(result.forecasts["cutoff"]).mean().to_numpy()
    assert result.summary["mase"] == pytest.approx(np.mean(window_mae / scales))


def test_json_document_has_stable_keys(tmp_path):
    frame = spiky()
    doc = evaluate(mean_run(frame), from_frame(frame)).to_json()
    assert list(doc) == ["summary", "series", "seasonal_naive", "anomalies", "settings", "notices"]
    assert list(doc["summary"]) == ["model", "n_params", "n_series", "n_origins", "n_points", "mae",
                                    "rmse", "mape", "smape", "mase", "skill", "coverage",
                                    "interval_width", "level", "n_anomalies", "coverage_80",
                                    "coverage_99"]
    assert list(doc["series"][0]) == ["id", "seen", "n_origins", "n_points", "mae", "rmse", "mape",
                                      "smape", "mase", "skill", "coverage", "n_anomalies"]
    json.dumps(doc, allow_nan=False)  # strict JSON


def test_out_writes_tables_forecasts_anomalies_and_a_plot(tmp_path):
    from forecaster.report import write_evaluation

    frame = spiky()
    result = evaluate(mean_run(frame), from_frame(frame))
    paths = write_evaluation(result, tmp_path / "out")
    assert sorted(p.name for p in paths) == ["anomalies.csv", "evaluation.json", "evaluation.md",
                                             "forecasts.csv", "forecasts.png", "series.csv"]
    assert len(pd.read_csv(tmp_path / "out" / "anomalies.csv")) == 3
    assert len(pd.read_csv(tmp_path / "out" / "forecasts.csv")) == 60
    assert json.loads((tmp_path / "out" / "evaluation.json").read_text())["summary"]["n_anomalies"] == 3
    assert "## Anomalies" in (tmp_path / "out" / "evaluation.md").read_text()


def test_a_run_without_intervals_is_scored_without_flags(monthly_csv):
    full = from_frame(pd.read_csv(monthly_csv))
    f = Forecaster("naive", val_size=0).fit(from_frame(pd.read_csv(monthly_csv)[:-24]), test_size=0)
    result = evaluate(f, full)
    assert result.settings["level"] is None and not result.forecasts["anomaly"].any()
    assert result.notices == ["The run has no calibrated intervals (it was fit with --val-size 0): "
                              "no coverage and no anomaly flags."]
    with pytest.raises(ConfigError, match="no calibrated intervals"):
        evaluate(f, full, level=80)


# ---------------------------------------------------------------- series
@pytest.fixture(scope="module")
def mlp_panel_run():
    """A tiny mlp fit on three hourly series, and the newer panel with a fourth, unseen one."""
    old = panel_frame((120, 100, 110))
    newer = pd.concat([panel_frame(), panel_frame((150,), ("s9",)).assign(y=lambda d: d["y"] + 30)])
    f = Forecaster("mlp", horizon=6, lookback=12, **TINY_MLP).fit(from_frame(old, id_col="unique_id"))
    return f, newer


def test_a_global_model_forecasts_an_unseen_series_from_its_own_history(mlp_panel_run):
    f, newer = mlp_panel_run
    result = evaluate(f, from_frame(newer, id_col="unique_id"))
    assert result.notices == ["Series 's9' was not in the training data; mlp forecasts it from its own "
                              "history (its rows before the first forecast origin), scaled with that "
                              "history's statistics."]
    rows = {r["id"]: r for r in result.series}
    assert rows["s9"]["seen"] is False and rows["s0"]["seen"] is True
    # s9 starts after the run's latest training timestamp (s0's), as the others after their own
    first = result.forecasts.groupby("id")["cutoff"].min()
    assert first["s9"] == first["s0"] == pd.Timestamp("2000-01-05 23:00")
    assert rows["s1"]["n_points"] == 30 and rows["s9"]["n_points"] == 30


def test_an_unseen_series_is_scaled_without_the_actuals_it_is_scored_on(mlp_panel_run):
    f, newer = mlp_panel_run
    changed = newer.copy()
    later = (changed["unique_id"] == "s9") & (changed["ds"] > "2000-01-05 23:00")
    changed.loc[later, "y"] *= 10  # wild new actuals change nothing forecast before them
    a = evaluate(f, from_frame(newer, id_col="unique_id")).forecasts
    b = evaluate(f, from_frame(changed, id_col="unique_id")).forecasts
    first = lambda d: d[(d["id"] == "s9") & (d["cutoff"] == d["cutoff"].min())]["forecast"]  # noqa: E731
    np.testing.assert_allclose(first(a), first(b))
    pred = f.predict(from_frame(newer, id_col="unique_id"))
    assert sorted(pred["id"].unique()) == ["s0", "s1", "s2", "s9"]
    s9 = pred[pred["id"] == "s9"]["forecast"].mean()
    assert s9 > pred[pred["id"] == "s0"]["forecast"].mean()  # s9's own level (80 + 30), not s0's


def test_a_per_series_model_refuses_an_unseen_series(monkeypatch):
    f = Forecaster("naive").fit(from_frame(panel_frame((100,)), id_col="unique_id"), test_size=0)
    newer = from_frame(panel_frame((130, 130), ("s0", "z")), id_col="unique_id")
    monkeypatch.setitem(models.REGISTRY, "naive",  # as a model of kind "statistical" is: fit per series
                        dataclasses.replace(models.REGISTRY["naive"], kind="statistical"))
    for call in (lambda: evaluate(f, newer), lambda: f.predict(newer)):
        with pytest.raises(DataError, match="Series 'z' in <frame> was not in the training data, "
                                            "and naive is fit per series: it has no fit for 'z'"):
            call()


def test_series_without_new_rows_and_run_series_absent_are_noted(mlp_panel_run):
    f, newer = mlp_panel_run
    stale = newer[(newer["unique_id"] != "s1") | (newer["ds"] <= "2000-01-05 03:00")]  # s1 as fit
    result = evaluate(f, from_frame(stale[stale["unique_id"] != "s2"], id_col="unique_id"))
    assert [r["id"] for r in result.series] == ["s0", "s9"]
    assert result.notices[1:] == ["Series 's1' has no rows after the run's training end; left out.",
                                  "1 of the run's 3 series are not in <frame> ('s2'); evaluated the others."]


# ---------------------------------------------------------------- errors
def test_bad_new_data_and_flags_are_one_line_errors(tmp_path, monthly_csv):
    frame = pd.read_csv(monthly_csv)
    frame[:-24].to_csv(tmp_path / "old.csv", index=False)
    fitted = run("fit", tmp_path / "old.csv", "--model", "seasonal_naive", "--out", tmp_path / "run")
    assert fitted.exit_code == 0, fitted.output
    frame[-24:].to_csv(tmp_path / "only_new.csv", index=False)
    frame.assign(x=1.0).to_csv(tmp_path / "covariate.csv", index=False)
    cases = [
        ([tmp_path / "old.csv"], "old.csv holds nothing after the run's training end: series 'y' ends "
                                 "at 2005-12-01, the run was fit on data up to 2005-12-01."),
        ([tmp_path / "only_new.csv"], "Series 'y' in only_new.csv has 0 rows up to the run's training "
                                      "end 2005-12-01, fewer than the model needs"),
        ([tmp_path / "covariate.csv", "--covariates", "x"],
         "covariate.csv does not match the run: it has covariates x, the run was fit with none. "
         "Leave out --covariates."),
        ([monthly_csv, "--level", "90"], "--level 90 was not calibrated for this run; its levels are "
                                         "80, 95. Pass one of them, or refit with --level 90."),
        ([monthly_csv, "--stride", "0"], "--stride must be an integer >= 1, got 0."),
        ([monthly_csv, "--target", "nope"], "Column 'nope' not found in monthly.csv"),
        ([monthly_csv, "--out", monthly_csv], f"--out {monthly_csv} is a file, not a folder"),
    ]
    for (data, *flags), expected in cases:
        assert_user_error(run("evaluate", tmp_path / "run", "--data", data, *flags), expected)
    assert_user_error(run("evaluate", tmp_path / "nope", "--data", monthly_csv), "No run directory at")


def test_new_data_at_another_frequency_names_the_flag(tmp_path):
    hourly = seasonal_frame(60, season=24, freq="h")
    daily = seasonal_frame(80, season=7, freq="D")
    f = Forecaster("naive").fit(from_frame(daily[:60]), test_size=0)
    with pytest.raises(DataError, match="its frequency is 'h', the run was fit at 'D'. Pass --freq D"):
        evaluate(f, from_frame(hourly))


def test_m4_hourly_test_part_scored_as_the_official_seasonal_naive(m4_long_csv, tmp_path):
    """A run fit on M4's training part, evaluated on training + test: M4's published numbers."""
    full = pd.read_csv(m4_long_csv)
    full.groupby("id", sort=False).head(-48).to_csv(tmp_path / "train.csv", index=False)
    fitted = run("fit", tmp_path / "train.csv", "--id-col", "id", "--model", "seasonal_naive",
                 "--horizon", "48", "--season", "24", "--test-size", "0", "--out", tmp_path / "run")
    assert fitted.exit_code == 0, fitted.output
    result = run("evaluate", tmp_path / "run", "--data", m4_long_csv, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert (summary["n_series"], summary["n_origins"], summary["n_points"]) == (414, 414, 414 * 48)
    assert (round(summary["smape"], 3), round(summary["mase"], 3)) == (13.912, 1.193)
