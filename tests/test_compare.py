"""compare: honest folds, identical results for any --jobs, error rows, calibrated intervals, budgets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecaster import from_frame, read_csv
from forecaster.compare import compare
from forecaster.cli import app

TINY = dict(epochs=2, batch_size=16, patience=2, seed=0, seeds=1)
VOLATILE = ("fit_seconds", "predict_ms")


def stable(board: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in VOLATILE} for row in board]


def test_every_fold_trains_before_it_tests_and_scales_on_training_rows_only(monthly_csv):
    panel = read_csv(monthly_csv)
    result = compare(panel, models="mlp", folds=3, params={"units": 4, "layers": 1}, **TINY)
    records = [r for r in result.records if r["model"] == "mlp"]
    assert [r["fold"] for r in records] == [-1, 0, 1, 2]  # -1: auto's selection window
    tests = [r["splits"][0]["test"] for r in records]
    assert tests == [[48, 60], [60, 72], [72, 84], [84, 96]]
    y = panel.series[0].values[:, 0]
    for r in records:
        split = r["splits"][0]
        assert split["train"][1] <= split["val"][0] <= split["val"][1] <= split["test"][0]
        train = y[split["train"][0]:split["train"][1]]
        assert r["scalers"][0]["loc"][0] == pytest.approx(train.mean())  # fit on train rows only
        assert r["scalers"][0]["scale"][0] == pytest.approx(train.std())


def test_jobs_do_not_change_the_results(monthly_csv):
    panel = read_csv(monthly_csv)
    options = dict(models="naive,mlp,gru", folds=2, params={"units": 3}, **TINY)
    one = compare(panel, jobs=1, **options)
    two = compare(panel, jobs=2, **options)
    assert stable(one.leaderboard) == stable(two.leaderboard)


def test_a_failing_model_is_an_error_row_not_an_abort(monthly_csv):
    panel = read_csv(monthly_csv)
    # lookback 40 fits the last fold (84 rows before its test) but not the first (60 rows)
    result = compare(panel, models="mlp,drift", folds=3, lookback=40, params={"units": 3}, **TINY)
    rows = {r["model"]: r for r in result.leaderboard}
    assert "fold 0: DataError" in rows["mlp"]["error"] and rows["drift"]["error"] is None
    assert np.isfinite(rows["mlp"]["mase"])  # scored on the folds that worked
    assert set(rows) == {"mlp", "drift", "naive", "seasonal_naive", "naive2", "auto"}


def test_a_model_failing_on_every_fold_ranks_last(monthly_csv):
    panel = read_csv(monthly_csv)
    result = compare(panel, models="mlp", folds=1, lookback=80, **TINY)
    last = result.leaderboard[-1]
    assert last["model"] == "mlp" and last["error"] and np.isnan(last["mase"])


def test_conformal_intervals_cover_at_least_nominal_on_iid_noise():
    # recency weights leave fewer effective residuals than there are, so the intervals
    # err on the wide side; on noise they must still be near nominal, not far above it
    rng = np.random.default_rng(1)
    frames = [pd.DataFrame({"id": f"s{i}", "t": np.arange(150), "y": 10 + rng.normal(size=150)})
              for i in range(40)]
    panel = from_frame(pd.concat(frames), id_col="id", time_col="t")
    result = compare(panel, models="mean", folds=2, horizon=12, val_size=48, auto=False)
    row = next(r for r in result.leaderboard if r["model"] == "mean")
    assert 0.78 <= row["coverage_80"] <= 0.90
    assert 0.93 <= row["coverage_95"] <= 0.99


@pytest.mark.parametrize("budget,calendar", [(4000, None), (3000, "month")])
def test_budget_matches_parameter_counts_within_ten_percent(monthly_csv, budget, calendar):
    panel = read_csv(monthly_csv)
    # mlp: count quadratic in units; wavenet: two widths (filters, skip_filters); with a
    # calendar the networks see the horizon's steps ahead and two more columns per feature
    result = compare(panel, models="mlp,wavenet", budget=budget, epochs=1, calendar=calendar)
    for row in result.leaderboard:
        if row["kind"] == "neural":
            assert abs(row["n_params"] - budget) <= 0.1 * budget, row
    assert set(result.settings["params"]) == {"mlp", "wavenet"}  # the widths chosen, for `fit`
    assert result.settings["params"]["mlp"]["units"] > 0


def test_skill_is_relative_to_seasonal_naive(monthly_csv):
    result = compare(read_csv(monthly_csv), models="naive", folds=2)
    rows = {r["model"]: r for r in result.leaderboard}
    assert rows["seasonal_naive"]["skill"] == 0.0
    assert rows["naive"]["skill"] == pytest.approx(100 * (1 - rows["naive"]["mase"] / rows["seasonal_naive"]["mase"]))


def test_cli_json_schema_and_report_files(monthly_csv, tmp_path):
    result = CliRunner().invoke(app, ["compare", str(monthly_csv), "--models", "drift,mlp", "--param",
                                      "units=3", "--epochs", "2", "--folds", "2", "--out",
                                      str(tmp_path / "report"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    keys = ["rank", "model", "kind", "n_params", "fit_seconds", "predict_ms", "mae", "rmse", "mape",
            "smape", "mase", "owa", "skill", "coverage", "interval_width"]
    for row in doc["leaderboard"]:
        assert list(row)[:len(keys)] == keys
        assert {"coverage_80", "coverage_95", "spec", "folds_scored", "error"} <= set(row)
    assert [r["rank"] for r in doc["leaderboard"]] == [1, 2, 3, 4, 5, 6]  # + naive2, auto
    assert doc["settings"]["folds"] == 2 and doc["settings"]["metric"] == "mase"
    files = {p.name for p in (tmp_path / "report").iterdir()}
    assert {"leaderboard.csv", "leaderboard.md", "leaderboard.json", "forecasts.csv",
            "forecasts.png", "mase_by_model.png", "loss_curves.png"} <= files
    forecasts = pd.read_csv(tmp_path / "report" / "forecasts.csv")
    assert {"model", "fold", "timestamp", "y", "forecast", "lower_80", "upper_80"} <= set(forecasts)
    assert len(forecasts) == 6 * 2 * 12  # the test windows only, not auto's selection window


def test_unknown_metric_is_a_config_error(monthly_csv):
    from forecaster.errors import ConfigError

    with pytest.raises(ConfigError, match="Unknown --metric 'r2'"):
        compare(read_csv(monthly_csv), models="naive", metric="r2")


def test_models_are_ranked_on_the_folds_every_model_completed(monthly_csv):
    panel = read_csv(monthly_csv)
    result = compare(panel, models="mlp", folds=3, lookback=40, params={"units": 3}, **TINY)
    assert result.settings["scored_folds"] == [1, 2]
    rows = {r["model"]: r for r in result.leaderboard}
    assert rows["mlp"]["folds_scored"] == rows["naive"]["folds_scored"] == [1, 2]
    naive_folds = [r for r in result.records if r["model"] == "naive" and r["fold"] in (1, 2)]
    expected = np.mean([m["mase"] for r in naive_folds for m in r["series_metrics"]])
    assert rows["naive"]["mase"] == pytest.approx(expected)


def test_ensemble_row_is_the_median_of_its_members_forecasts(monthly_csv):
    panel = read_csv(monthly_csv)
    result = compare(panel, models="mlp,gru", folds=1, ensemble="mlp,gru,wavenet", auto=False, **TINY)
    rows = {r["model"]: r for r in result.leaderboard}
    assert rows["ensemble"]["error"] is None
    assert rows["ensemble"]["n_params"] == sum(rows[m]["n_params"] for m in ("mlp", "gru", "wavenet"))
    f = result.forecasts
    members = f[f["model"].isin(["mlp", "gru", "wavenet"])].groupby("timestamp")["forecast"].median()
    ours = f[f["model"] == "ensemble"].set_index("timestamp")["forecast"]
    np.testing.assert_allclose(ours.sort_index(), members.sort_index())
    assert np.isfinite(rows["ensemble"]["mase"]) and rows["ensemble"]["coverage"] >= 0
    assert rows["ensemble"]["spec"] == "median(mlp,gru,wavenet)" and "wavenet" in result.settings["models"]


def test_budget_widths_for_the_recurrent_models():
    from forecaster.budget import count, size_for_budget

    for name in ("lstm", "jordan"):
        params = size_for_budget(name, 3000, lookback=24, n_features=1, horizon=12)
        assert abs(count(name, params, lookback=24, n_features=1, horizon=12) - 3000) <= 300


@pytest.mark.parametrize("name", ["mlp", "lstm", "jordan", "wavenet"])
def test_budget_sizes_give_the_built_models_count(name):
    """The width chosen for a budget, built for real, has the count the sizing saw."""
    from forecaster import models
    from forecaster.budget import count, size_for_budget

    params = size_for_budget(name, 2500, lookback=24, n_features=1, horizon=12)
    built = models.module(name).build(models.make_config(name, params), lookback=24,
                                      n_features=1, horizon=12)
    assert count(name, params, lookback=24, n_features=1, horizon=12) == built.count_params()
    assert abs(built.count_params() - 2500) <= 250
