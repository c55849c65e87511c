"""Contracts of the statistical contenders (forecaster.statistical): fit on training rows only,
forecast from any later origin without refitting, plain-JSON state, cost refusals, Naive2 = M4."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from forecaster import metrics, statistical
from forecaster.errors import ArtifactError, ConfigError, DataError
from forecaster.stats import naive2

from tests.conftest import SHARED

N_TRAIN, LATER, SEASON = 72, 9, 12


def seasonal_series(n: int = N_TRAIN + LATER, *, season: int = SEASON, seed: int = 0) -> np.ndarray:
    """Positive, trending, multiplicatively seasonal: every model finds something to fit."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (100 + 0.5 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / season)) + rng.normal(0, 1, n)


Y = seasonal_series()
TRAIN = Y[:N_TRAIN]


@pytest.fixture(scope="module")
def fits() -> dict[str, statistical.Fitted]:
    """Every model fit once on the same training rows (the slow part, shared)."""
    return {name: statistical.fit(name, TRAIN, season=SEASON) for name in statistical.NAMES}


def roundtrip(fitted: statistical.Fitted) -> statistical.Fitted:
    # plain JSON (no NaN, no objects), and nothing may depend on the order of object keys
    text = json.dumps(fitted.to_state(), allow_nan=False, sort_keys=True)
    return statistical.Fitted.from_state(json.loads(text))


# ---------------------------------------------------------------- registry
def test_names_descriptions_and_params_cover_the_same_models():
    assert statistical.NAMES == ("auto_ets", "auto_arima", "auto_theta", "mstl", "naive2")
    assert set(statistical.DESCRIPTIONS) == set(statistical.PARAMS) == set(statistical.NAMES)
    assert all(d and "\n" not in d for d in statistical.DESCRIPTIONS.values())


def test_import_is_light():
    code = ("import sys, forecaster.statistical\n"
            "heavy = {'statsforecast', 'numba', 'keras', 'tensorflow', 'matplotlib', 'statsmodels'}\n"
            "assert not heavy & set(sys.modules), heavy & set(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- specs and shapes
SPECS = {
    "auto_ets": r"ETS\([AM],[NAM]d?,[NAM]\)",
    "auto_arima": r"ARIMA\(\d,\d,\d\)(\(\d,\d,\d\)\[12\])?( with drift| with non-zero mean)?",
    "auto_theta": r"Theta\((standard|optimized|dynamic standard|dynamic optimized)\)"
                  r"(\+seasonal\(multiplicative, m=12\))?",
    "mstl": r"MSTL\(12\)\+ETS\([AM],[NAM]d?,N\)",
    "naive2": r"Naive2\(seasonal, m=12\)",
}


@pytest.mark.parametrize("name", statistical.NAMES)
def test_spec_names_the_chosen_model(fits, name):
    assert re.fullmatch(SPECS[name], fits[name].spec), fits[name].spec
    assert (fits[name].name, fits[name].season, fits[name].n_train) == (name, SEASON, N_TRAIN)


@pytest.mark.parametrize("name", statistical.NAMES)
@pytest.mark.parametrize("horizon", [1, 7])
@pytest.mark.parametrize("extra", [0, LATER], ids=["train-origin", "later-origin"])
def test_forecast_shape_and_finite(fits, name, horizon, extra):
    out = fits[name].forecast(Y[:N_TRAIN + extra], horizon)
    assert out.shape == (horizon,) and out.dtype == float
    assert np.isfinite(out).all()
    assert np.all(np.abs(out - Y[N_TRAIN + extra - 1]) < 100)  # sane scale (values ~100-180)


# ---------------------------------------------------------------- no refit
@pytest.mark.parametrize("name", statistical.NAMES)
def test_forecasting_never_changes_the_fitted_state(fits, name):
    before = copy.deepcopy(fits[name].to_state())
    for extra in (0, 3, LATER):
        fits[name].forecast(Y[:N_TRAIN + extra], 5)
    assert fits[name].to_state() == before


def test_ets_later_origin_uses_the_training_parameters(fits):
    from statsforecast.models import AutoETS

    original = AutoETS(season_length=SEASON).fit(TRAIN)
    later = Y[:N_TRAIN + LATER]
    # the same smoothing parameters and initial states, run forward over the longer history ...
    np.testing.assert_array_equal(fits["auto_ets"].forecast(later, 6), original.forward(later, 6)["mean"])
    par = np.array([np.nan if v is None else v for v in fits["auto_ets"].state["par"]])
    np.testing.assert_array_equal(par, original.model_["par"])
    # ... which is not what refitting on it gives
    refit = AutoETS(season_length=SEASON).fit(later).model_["par"]
    assert not np.allclose(np.nan_to_num(refit), np.nan_to_num(par))


@pytest.mark.parametrize("name", ["auto_arima", "mstl"])
def test_arima_and_mstl_later_origin_is_statsforecasts_forward(fits, name):
    from statsforecast.models import MSTL, AutoARIMA

    model = (AutoARIMA(season_length=SEASON, approximation=None) if name == "auto_arima"
             else MSTL(season_length=SEASON)).fit(TRAIN)
    later = Y[:N_TRAIN + LATER]
    np.testing.assert_array_equal(fits[name].forecast(later, 6), model.forward(later, 6)["mean"])
    # at the training origin: predict() itself (forward recomputes a drift term: 1e-16 off)
    np.testing.assert_allclose(fits[name].forecast(TRAIN, 6), model.predict(6)["mean"], rtol=1e-12)


def test_theta_keeps_its_training_seasonal_indices(fits):
    from statsforecast.models import AutoTheta

    fitted = fits["auto_theta"]
    np.testing.assert_allclose(fitted.forecast(TRAIN, 6),
                               AutoTheta(season_length=SEASON).fit(TRAIN).predict(6)["mean"])
    if fitted.state["seasonal"]:  # the later-origin forecast is reseasonalised with them
        later = Y[:N_TRAIN + LATER]
        idx = np.asarray(fitted.state["indices"])
        ahead = idx[(len(later) + np.arange(6)) % SEASON]
        theta_only = statistical.Fitted.from_state({**fitted.to_state(), "state": {
            **fitted.state, "seasonal": None, "indices": []}})
        adjusted = later / idx[np.arange(len(later)) % SEASON]
        np.testing.assert_allclose(fitted.forecast(later, 6), theta_only.forecast(adjusted, 6) * ahead)


def test_naive2_later_origin_uses_the_training_indices(fits):
    fitted, later = fits["naive2"], Y[:N_TRAIN + LATER]
    idx = np.asarray(fitted.state["indices"])
    assert idx.shape == (SEASON,) and idx.mean() == pytest.approx(1.0)
    expected = later[-1] / idx[(len(later) - 1) % SEASON] * idx[(len(later) + np.arange(4)) % SEASON]
    np.testing.assert_allclose(fitted.forecast(later, 4), expected)


# ---------------------------------------------------------------- JSON round trip
@pytest.mark.parametrize("name", statistical.NAMES)
def test_json_round_trip_forecasts_identically(fits, name):
    loaded = roundtrip(fits[name])
    assert loaded == fits[name]
    for extra in (0, LATER):
        history = Y[:N_TRAIN + extra]
        np.testing.assert_array_equal(loaded.forecast(history, 8), fits[name].forecast(history, 8))


def test_from_state_rejects_other_formats(fits):
    state = fits["naive2"].to_state()
    with pytest.raises(ArtifactError, match="format 1"):
        statistical.Fitted.from_state({**state, "format": 99})
    with pytest.raises(ArtifactError):
        statistical.Fitted.from_state({**state, "name": "prophet"})


# ---------------------------------------------------------------- naive2 = M4
def test_naive2_seasonality_test_on_constructed_series():
    rng = np.random.default_rng(1)
    t = np.arange(96)
    seasonal = 50 + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 96)
    assert naive2.seasonality_test(seasonal, 12)
    assert not naive2.seasonality_test(50 + rng.normal(0, 1, 96), 12)  # white noise
    assert not naive2.seasonality_test(seasonal, 1)  # m = 1: never seasonal
    assert not naive2.seasonality_test(seasonal[:35], 12)  # under three cycles, as M4's R code
    assert not naive2.seasonality_test(np.full(96, 3.0), 12)  # constant
    # beyond R's default acf range (10 * log10(n) lags) M4's test says "not seasonal"
    long_period = 50 + 5 * np.sin(2 * np.pi * np.arange(200) / 52)
    assert not naive2.seasonality_test(long_period, 52)


def test_naive2_not_seasonal_is_plain_naive():
    y = np.random.default_rng(2).normal(0, 1, 60).cumsum() + 100
    fitted = statistical.fit("naive2", y, season=12)
    assert fitted.spec == "Naive2(not seasonal)"
    np.testing.assert_array_equal(fitted.forecast(y, 3), np.full(3, y[-1]))


def test_naive2_seasonal_indices_match_rs_decompose():
    # R: decompose(ts(c(1,3,2,6,3,9,4,12), frequency=2), "multiplicative")$figure
    y = np.array([1.0, 3.0, 2.0, 6.0, 3.0, 9.0, 4.0, 12.0])
    trend = np.convolve(y, [0.25, 0.5, 0.25], mode="valid")
    ratios = y[1:-1] / trend
    figure = np.array([ratios[1::2].mean(), ratios[0::2].mean()])
    np.testing.assert_allclose(naive2.seasonal_indices(y, 2), figure / figure.mean())


M4 = SHARED / "m4_hourly"


@pytest.mark.skipif(not (M4 / "Hourly-train.csv").exists(), reason="M4 hourly data not available")
def test_naive2_reproduces_the_official_m4_hourly_scores():
    train = pd.read_csv(M4 / "Hourly-train.csv", index_col=0)
    test = pd.read_csv(M4 / "Hourly-test.csv", index_col=0)
    official = pd.read_csv(M4 / "m4_official_point_scores.csv").set_index("id").loc["Naive2"]
    smapes, mases = [], []
    for sid, row in train.iterrows():
        y, actual = row.dropna().to_numpy(float), test.loc[sid].to_numpy(float)
        forecast = statistical.fit("naive2", y, season=24).forecast(y, 48)
        smapes.append(metrics.smape(actual, forecast))
        mases.append(metrics.mase(actual, forecast, insample=y, season=24))
    assert round(np.mean(smapes), 3) == official["sMAPE_Hourly"] == 18.383
    assert round(np.mean(mases), 3) == official["MASE_Hourly"] == 2.395


# ---------------------------------------------------------------- cost rules and refusals
def test_auto_arima_refuses_long_seasons_with_a_reason():
    with pytest.raises(ConfigError, match=r"auto_arima refuses season 48: .*seasonal=false"):
        statistical.fit("auto_arima", seasonal_series(200, season=48), season=48)
    assert statistical.refusal_reason("auto_arima", 700, 24) is None
    assert statistical.refusal_reason("auto_arima", 700, 168, {"seasonal": "false"}) is None


def test_auto_arima_non_seasonal_on_request():
    fitted = statistical.fit("auto_arima", TRAIN, season=48, params={"seasonal": "false"})
    assert re.fullmatch(r"ARIMA\(\d,\d,\d\)( with drift| with non-zero mean)?", fitted.spec)


def test_long_training_is_fit_on_its_last_rows_and_says_so():
    y = seasonal_series(130)
    fitted = statistical.fit("auto_theta", y[:120], season=SEASON, params={"max_rows": 60})
    assert fitted.start == 60 and fitted.spec.endswith("; fit on the last 60 of 120 rows")
    assert roundtrip(fitted).forecast(y, 4).shape == (4,)
    with pytest.raises(DataError, match="fewer than the 120 training rows"):
        fitted.forecast(y[:100], 4)


def test_ets_ignores_seasons_above_24_like_r():
    fitted = statistical.fit("auto_ets", seasonal_series(150, season=30), season=30)
    assert re.fullmatch(r"ETS\([AM],[NAM]d?,N\); season 30 > 24 ignored", fitted.spec)


def test_mstl_seasons_from_params_and_too_long_ones_dropped():
    t = np.arange(200)
    y = 100 + 5 * np.sin(2 * np.pi * t / 6) + 3 * np.sin(2 * np.pi * t / 24)
    fitted = statistical.fit("mstl", y, season=6, params={"seasons": "24,6,150"})
    assert re.fullmatch(r"MSTL\(6,24\)\+ETS\(.+\); dropped season\(s\) 150 \(over half of 200 rows\)",
                        fitted.spec)
    assert fitted.state["periods"] == [6, 24]
    np.testing.assert_array_equal(roundtrip(fitted).forecast(y, 5), fitted.forecast(y, 5))


def test_mstl_without_a_usable_season_is_refused():
    with pytest.raises(ConfigError, match="mstl needs a seasonal period > 1"):
        statistical.fit("mstl", TRAIN, season=1)
    assert "season(s) 48" in statistical.refusal_reason("mstl", 72, 48)


@pytest.mark.parametrize(("name", "params", "message"), [
    ("auto_ets", {"alpha": 0.3}, "Unknown parameter 'alpha' for model 'auto_ets'. Valid keys: model,"),
    ("auto_ets", {"model": "XYZ"}, "Invalid value 'XYZ' for parameter 'model'"),
    ("auto_theta", {"model": "best"}, "expected one of STM, OTM, DSTM, DOTM"),
    ("auto_arima", {"seasonal": "maybe"}, "expected true or false"),
    ("mstl", {"seasons": "24,x"}, "comma-separated whole numbers"),
    ("naive2", {"season": 4}, "Valid keys: (none)"),
    ("arima", None, "Unknown statistical model 'arima'"),
])
def test_bad_names_and_params_are_config_errors(name, params, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        statistical.fit(name, TRAIN, season=SEASON, params=params)


def test_an_impossible_ets_model_is_a_config_error():
    with pytest.raises(ConfigError, match="auto_ets cannot fit model=MNN to this series: "
                                          "Inappropriate model for data with negative"):
        statistical.fit("auto_ets", TRAIN - 150, season=SEASON, params={"model": "mnn"})


def test_too_short_or_missing_data_is_refused():
    with pytest.raises(ConfigError, match="auto_ets needs at least 10 training rows, got 6"):
        statistical.fit("auto_ets", TRAIN[:6], season=1)
    with pytest.raises(DataError, match="1 missing or infinite"):
        statistical.fit("naive2", np.r_[TRAIN[:20], np.nan], season=1)
    with pytest.raises(ConfigError, match="horizon must be >= 1"):
        statistical.fit("naive2", TRAIN, season=1).forecast(TRAIN, 0)


def test_without_statsforecast_only_naive2_runs(monkeypatch, fits):
    monkeypatch.setattr(statistical, "_has_statsforecast", lambda: False)
    message = "auto_ets needs the statsforecast package, which is not installed."
    assert statistical.refusal_reason("auto_ets", 100, 12).startswith(message)
    with pytest.raises(ConfigError, match=message):
        statistical.fit("auto_ets", TRAIN, season=SEASON)
    with pytest.raises(ConfigError, match="auto_arima needs the statsforecast package"):
        roundtrip(fits["auto_arima"]).forecast(TRAIN, 3)  # a saved fit, loaded without it
    assert statistical.fit("naive2", TRAIN, season=SEASON).forecast(TRAIN, 3).shape == (3,)
