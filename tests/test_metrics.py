"""Metrics: M4 definitions, the official M4 Hourly numbers, defined results at zero denominators."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from forecaster import baselines, metrics
from tests.conftest import SHARED


def test_smape_matches_the_m4_formula_by_hand():
    y, f = np.array([100.0, 50.0, 10.0]), np.array([90.0, 60.0, 10.0])
    expected = 200 / 3 * (10 / 190 + 10 / 110 + 0)
    assert metrics.smape(y, f) == pytest.approx(expected)


def test_mase_uses_seasonal_differences_of_the_insample_part():
    insample = np.array([1.0, 2.0, 4.0, 3.0, 5.0, 7.0])
    scale = np.mean(np.abs(insample[2:] - insample[:-2]))  # lag 2
    assert metrics.mase([2.0], [4.0], insample=insample, season=2) == pytest.approx(2 / scale)


def test_mase_falls_back_to_lag_one_for_short_insample():
    assert metrics.mase_scale([1.0, 3.0, 6.0], season=12) == pytest.approx(2.5)


def test_zero_denominators_are_defined_and_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metrics.smape([0.0, 0.0], [0.0, 0.0]) == 0.0
        assert metrics.smape([0.0, 1.0], [0.0, 1.0]) == 0.0
        assert math.isnan(metrics.mape([0.0, 0.0], [1.0, 2.0]))
        assert metrics.mape([0.0, 2.0], [5.0, 1.0]) == pytest.approx(50.0)
        assert metrics.mase([5.0], [5.0], insample=[5.0, 5.0, 5.0], season=1) == 0.0
        assert math.isnan(metrics.mase([5.0], [6.0], insample=[5.0, 5.0, 5.0], season=1))


def test_panel_mean_skips_undefined_series():
    out = metrics.panel_mean([{"mape": float("nan"), "mae": 1.0}, {"mape": 4.0, "mae": 3.0}])
    assert out == {"mape": 4.0, "mae": 2.0}


def test_owa_of_naive2_is_one():
    assert metrics.owa(18.383, 2.395, smape_naive2=18.383, mase_naive2=2.395) == 1.0


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.mae([1.0, 2.0], [1.0])


@pytest.mark.parametrize("model, smape, mase", [("naive", 43.003, 11.608),
                                                ("seasonal_naive", 13.912, 1.193)])
def test_official_m4_hourly_scores_are_reproduced(model, smape, mase):
    train_file = SHARED / "m4_hourly" / "Hourly-train.csv"
    if not train_file.exists():
        pytest.skip(f"{train_file} is not available")
    train = pd.read_csv(train_file, index_col=0)
    test = pd.read_csv(SHARED / "m4_hourly" / "Hourly-test.csv", index_col=0)
    rows = []
    for sid in train.index:
        history = train.loc[sid].dropna().to_numpy(float)
        f = baselines.forecast(model, history, horizon=48, season=24)
        rows.append(metrics.score(test.loc[sid].to_numpy(float), f, insample=history, season=24))
    scores = metrics.panel_mean(rows)
    assert round(scores["smape"], 3) == smape
    assert round(scores["mase"], 3) == mase


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_every_metric_is_nan_when_a_forecast_is_not_finite(bad):
    y, f = np.array([1.0, 2.0, 3.0]), np.array([1.0, bad, 3.0])
    scores = metrics.score(y, f, insample=np.arange(10.0), season=1)
    assert all(np.isnan(v) for v in scores.values()), scores  # sMAPE once counted NaN as perfect
    assert np.isnan(metrics.mse(y, f))


def test_metrics_stay_finite_across_the_float_range():
    y = np.array([1e300, 2e300, 3e300])
    f = y * 1.1
    assert metrics.rmse(y, f) == pytest.approx(np.sqrt(np.mean((0.1 * y / 1e300) ** 2)) * 1e300)
    assert metrics.mae(y, f) == pytest.approx(0.2e300)
    assert metrics.smape([1e308], [-1e308]) == pytest.approx(200.0)  # |y| + |f| overflows unscaled
    assert metrics.mape([1e308], [-1e308]) == pytest.approx(200.0)
    assert metrics.mase(y, f, insample=[1e308, -1e308, 1e308], season=1) == pytest.approx(0.1e300 * 2 / 2e308)
    for fn in (metrics.mae, metrics.rmse, metrics.smape):
        assert fn([1.0, 2.0], [1.5, 2.5]) == fn(np.array([1.0, 2.0]), np.array([1.5, 2.5]))  # unchanged
