"""The statistical models as Forecaster models: one fit per series on its training rows, forecasts
from later origins without refitting, honest parameter counts, specs and fits in the saved run."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from forecaster import Forecaster, from_frame, models, read_csv, statistical
from forecaster.errors import DataError

from tests.conftest import seasonal_frame


@pytest.fixture(scope="module")
def panel():
    frames = []
    for i, n in enumerate((96, 84)):
        df = seasonal_frame(n, seed=i, level=100.0 * (i + 1))
        frames.append(df.assign(id=f"s{i}"))
    return from_frame(pd.concat(frames), id_col="id", time_col="date")


@pytest.mark.parametrize("name", models.STATISTICAL)
def test_fit_per_series_on_training_rows_and_round_trip(panel, name, tmp_path):
    f = Forecaster(name).fit(panel)
    assert len(f.fits_) == 2 and [fit.n_train for fit in f.fits_] == [72, 60]  # 96 - 12 - 12, 84 - 24
    assert f.n_params_ == sum(statistical.n_params(fit) for fit in f.fits_) and f.n_params_ >= 0
    assert all(isinstance(s, str) and s for s in f.specs_)
    f.save(tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["state"]["specs"] == f.specs_ and len(manifest["state"]["fits"]) == 2
    assert manifest["model_file"] is None  # plain JSON, no pickle, no Keras
    loaded = Forecaster.load(tmp_path / "run")
    pd.testing.assert_frame_equal(loaded.predict(panel), f.predict(panel))
    assert f.metrics_["mase"] > 0 and f.calibration_ is not None


def test_a_later_origin_runs_the_training_fit_forward(panel):
    f = Forecaster("auto_ets").fit(panel)
    s = panel.series[0]
    expected = f.fits_[0].forecast(s.values[:90, 0], 12)
    np.testing.assert_array_equal(f.forecast_at(panel, [np.array([90]), np.array([])])[0][0], expected)


def test_predict_needs_the_history_from_the_first_training_row(panel):
    f = Forecaster("naive2").fit(panel)
    s = panel.series[0]
    later = dataclasses.replace(s, time=s.time[10:], values=s.values[10:])
    with pytest.raises(DataError, match="does not reach back to 2000-01-01.*Pass data from"):
        f.predict(dataclasses.replace(panel, series=(later,)))
    # data that starts earlier than the training rows is fine: the fit starts at its own row
    g = Forecaster("naive2", max_train_size=40).fit(panel)
    assert g.first_times_[0] == str(s.time[32]) and len(g.predict(panel)) == 24


def test_params_reach_the_model(panel):
    f = Forecaster("mstl", params={"seasons": "6,12"}).fit(panel)
    assert f.fits_[0].state["periods"] == [6, 12] and f.config_ == {"seasons": [6, 12]}


def test_in_sample_forecasts_for_calibration(panel):
    y = panel.series[0].values[:, 0]
    fit = statistical.fit("auto_ets", y[:72], season=12)
    with pytest.raises(DataError, match="fewer than the 72 training rows"):
        fit.forecast(y[:50], 3)
    from statsforecast.ets import forecast_ets, forward_ets
    from statsforecast.models import AutoETS

    model = AutoETS(season_length=12).fit(y[:72])
    expected = forecast_ets(forward_ets(model.model_, y[:50]), h=3)["mean"]
    np.testing.assert_allclose(fit.forecast(y[:50], 3, in_sample=True), expected)


def test_mstl_fast_path_is_predict_at_the_training_origin():
    from statsforecast.models import MSTL

    t = np.arange(150)
    y = 50 + 0.1 * t + 5 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 0.3, 150)
    fit = statistical.fit("mstl", y[:120], season=12)
    exact = MSTL(season_length=12).fit(y[:120]).predict(6)["mean"]
    np.testing.assert_allclose(fit.forecast(y[:120], 6, fast=True), exact, rtol=1e-6)
    # later origins: exact recomputes the decomposition, fast keeps the training one
    assert fit.forecast(y[:130], 6, fast=True).shape == fit.forecast(y[:130], 6).shape == (6,)
    loaded = statistical.Fitted.from_state(json.loads(json.dumps(fit.to_state())))
    with pytest.raises(DataError, match="needs the fit's decomposition"):
        loaded.forecast(y[:100], 6, in_sample=True)


def test_compare_reads_the_season_override_for_mstl(monthly_csv):
    from forecaster.compare import compare

    result = compare(read_csv(monthly_csv), models="mstl", params={"seasons": "6,12"}, auto=False)
    row = next(r for r in result.leaderboard if r["model"] == "mstl")
    assert row["spec"].startswith("MSTL(6,12)+ETS(")
