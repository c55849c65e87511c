"""Inputs known ahead: calendar features of the timestamps and future covariates from `predict --future`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecaster import Forecaster, covariates, from_frame, read_csv, scaling
from forecaster.cli import app
from forecaster.errors import ConfigError, DataError
from forecaster.windows import WindowSet, origins

TINY = dict(params={"units": 3, "layers": 1}, epochs=2, batch_size=32, patience=2, seed=0)


def promo_frame(n: int = 24 * 12, *, ids=("s0",), seed: int = 0) -> pd.DataFrame:
    """Hourly sales with a daily cycle and a promotion (0/1) known in advance."""
    rng = np.random.default_rng(seed)
    frames = []
    for k, sid in enumerate(ids):
        time = pd.date_range("2024-01-01", periods=n - 5 * k, freq="h")
        promo = (rng.random(len(time)) < 0.1).astype(float)
        y = 20 + 10 * k + 5 * np.sin(2 * np.pi * time.hour / 24) + 8 * promo + rng.normal(0, 0.5, len(time))
        frames.append(pd.DataFrame({"id": sid, "date": time, "sales": y, "promo": promo}))
    return pd.concat(frames, ignore_index=True)


def future_frame(panel, horizon: int, value: float = 1.0) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"id": s.id, "date": panel.future_time(i, horizon), "promo": value})
                      for i, s in enumerate(panel.series)], ignore_index=True)


# --- calendar features ------------------------------------------------------------------


def test_calendar_features_are_the_sine_and_cosine_of_pandas_calendar_fields():
    t = pd.date_range("2023-12-30", "2024-03-02", freq="7h")  # across a year end and 29 February
    expected = {"hour": (t.hour + t.minute / 60, 24), "dayofweek": (t.dayofweek, 7),
                "dayofmonth": (t.day - 1, t.days_in_month), "dayofyear": (t.dayofyear - 1, 365 + t.is_leap_year),
                "month": (t.month - 1, 12), "quarter": (t.quarter - 1, 4), "minute": (t.minute, 60)}
    for name, (value, period) in expected.items():
        got = covariates.calendar_features(t.values, (name,))
        angle = 2 * np.pi * np.asarray(value) / np.asarray(period)
        np.testing.assert_allclose(got, np.column_stack([np.sin(angle), np.cos(angle)]), atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("value, freq, message", [
    ("auto", "step", "--calendar needs timestamps"),
    ("hour", "D", "--calendar hour is constant on 'D' data"),
    ("auto", "YS-JAN", "has at most one row a year"),
    ("hours", "h", "Unknown --calendar feature 'hours'"),
    (3, "h", "calendar must be auto, none or feature names, got 3"),
])
def test_calendar_settings_that_cannot_work_are_one_line_errors(value, freq, message):
    with pytest.raises(ConfigError, match=message):
        covariates.resolve_calendar(value, freq)


def test_calendar_inputs_extend_each_window_by_the_horizon(tmp_path):
    panel = from_frame(promo_frame()[["date", "sales"]])
    f = Forecaster("mlp", calendar="auto", horizon=6, lookback=24, **TINY).fit(panel)
    assert f.calendar_ == ("hour", "dayofweek")
    assert f.model_.input_shape == (None, 24 + 6, 1 + 4 + 1)  # target, 2 x (sin, cos), marker
    pred = f.predict(panel)  # no file needed: the calendar of the future is known
    f.save(tmp_path / "run")
    again = Forecaster.load(tmp_path / "run")
    assert again.calendar_ == ("hour", "dayofweek")
    pd.testing.assert_frame_equal(again.predict(panel), pred)
    with pytest.raises(ConfigError, match="head=sequence"):
        Forecaster("gru", calendar="hour", horizon=6, lookback=24, **{**TINY, "params": {
            "units": 3, "head": "sequence"}}).fit(panel)


def test_known_rows_keep_their_values_aligned_with_the_target_steps_and_hide_the_target():
    data = np.column_stack([np.arange(30.0), 100 + np.arange(30.0)])  # target, known covariate
    ws = WindowSet(data, origins(30, lookback=5, horizon=3), lookback=5, horizon=3, ahead=3)
    x, y = ws.inputs(np.arange(len(ws))), ws.targets(np.arange(len(ws)))
    o = ws.origins[:, None]
    np.testing.assert_array_equal(x[:, 5:, 1], 100 + o + np.arange(3))  # covariate at the target steps
    np.testing.assert_array_equal(y, o + np.arange(3))
    assert (x[:, 5:, 0] == 0).all() and (x[:, :5, 2] == 0).all() and (x[:, 5:, 2] == 1).all()
    offsets = scaling.normalize_batch(x, norm="season", horizon=3, season=2, observed=5)
    np.testing.assert_array_equal(offsets, (o - 2) + np.arange(3) % 2)  # from the observed rows
    assert (x[:, 5:, 0] == 0).all() and (x[:, 4, 0] == 0).all()  # the known rows are not shifted


# --- future covariates --------------------------------------------------------------------


def test_future_covariates_are_read_and_carried_after_the_covariates():
    df = promo_frame(ids=("a", "b")).assign(temp=1.5)
    panel = from_frame(df, id_col="id", target="sales", covariates="temp", future_covariates="promo")
    assert panel.future_covariates == ("promo",) and panel.n_features == 3
    np.testing.assert_array_equal(panel.series[0].values[:, 2], df.loc[df.id == "a", "promo"])
    assert panel.schema()["future_covariates"] == ["promo"]
    with pytest.raises(ConfigError, match="'promo' .* is both the covariate and the future covariate"):
        from_frame(df, id_col="id", target="sales", covariates="promo", future_covariates="promo")
    with pytest.raises(DataError, match="Column 'price' not found .* Pass --future-covariates"):
        from_frame(df, id_col="id", target="sales", future_covariates="price")


def test_future_values_are_aligned_per_series_and_gaps_are_named():
    panel = from_frame(promo_frame(ids=("a", "b")), id_col="id", future_covariates="promo")
    frame = future_frame(panel, 4)
    frame["promo"] = np.arange(8.0)
    got = covariates.future_values(frame.iloc[::-1], panel, 4, ["promo"], "f.csv")  # any row order
    assert [g[:, 0].tolist() for g in got] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(DataError, match=r"--future f.csv has no 'promo' for series 'b' at 2024-01-12 "
                                        r"21:00:00 \(1 of the 8 steps needed are missing\)"):
        covariates.future_values(frame.drop(index=6), panel, 4, ["promo"], "f.csv")
    with pytest.raises(DataError, match="has no column 'promo'; it needs date, id, promo"):
        covariates.future_values(frame.drop(columns="promo"), panel, 4, ["promo"], "f.csv")
    with pytest.raises(DataError, match="gives series 'a' at 2024-01-13 00:00:00 twice"):
        covariates.future_values(pd.concat([frame, frame.iloc[:1]]), panel, 4, ["promo"], "f.csv")


def test_predict_uses_the_future_values_and_asks_for_them(tmp_path):
    panel = from_frame(promo_frame(ids=("a", "b")), id_col="id", future_covariates="promo")
    f = Forecaster("mlp", calendar="hour", horizon=6, lookback=24, **TINY).fit(panel)
    assert f.model_.input_shape == (None, 30, 1 + 1 + 2 + 1)
    with pytest.raises(DataError, match="fit with --future-covariates promo: pass predict --future FILE"):
        f.predict(panel)
    on, off = f.predict(panel, future_frame(panel, 6, 1.0)), f.predict(panel, future_frame(panel, 6, 0.0))
    assert not np.allclose(on["forecast"], off["forecast"])  # the promotion reaches the forecast
    path = tmp_path / "future.csv"
    future_frame(panel, 6, 1.0).to_csv(path, index=False)
    pd.testing.assert_frame_equal(f.predict(panel, path), on)
    plain = from_frame(promo_frame(ids=("a", "b"))[["id", "date", "sales"]], id_col="id")
    with pytest.raises(ConfigError, match="fit without --future-covariates"):
        Forecaster("seasonal_naive", horizon=6).fit(plain).predict(plain, path)


def test_fit_and_predict_with_future_covariates_on_the_command_line(tmp_path):
    df = promo_frame(ids=("a", "b"))
    data, future, run = tmp_path / "sales.csv", tmp_path / "future.csv", tmp_path / "run"
    df.to_csv(data, index=False)
    panel = from_frame(df, id_col="id", future_covariates="promo")
    future_frame(panel, 6).to_csv(future, index=False)
    runner = CliRunner()
    fit = runner.invoke(app, ["fit", str(data), "--model", "mlp", "--id-col", "id", "--target", "sales",
                              "--future-covariates", "promo", "--calendar", "auto", "--horizon", "6",
                              "--lookback", "24", "--param", "units=3", "--epochs", "1", "--out", str(run)])
    assert fit.exit_code == 0, fit.output
    missing = runner.invoke(app, ["predict", str(run)])
    assert missing.exit_code == 1 and missing.stderr.startswith(
        "Error: This model was fit with --future-covariates promo: pass predict --future FILE")
    pred = runner.invoke(app, ["predict", str(run), "--future", str(future), "--json"])
    assert pred.exit_code == 0, pred.output
    assert "Traceback" not in missing.output + pred.output
    short = tmp_path / "short.csv"
    pd.read_csv(future).iloc[:-1].to_csv(short, index=False)
    bad = runner.invoke(app, ["predict", str(run), "--future", str(short)])
    assert bad.exit_code == 1 and "Error: --future short.csv has no 'promo' for series 'b'" in bad.stderr
    assert read_csv(data, id_col="id", target="sales", future_covariates="promo").n_features == 2
