"""Conformal calibration from rolling origins: weights, inflation, per-series intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster import Forecaster, from_frame, intervals


def test_equal_weights_are_split_conformal():
    r = np.random.default_rng(0).normal(size=(99, 3))
    cal = intervals.calibrate(r, levels=(80, 95))
    for k in range(3):
        ranked = np.sort(np.abs(r[:, k]))
        assert cal.quantiles[80][k] == ranked[79] and cal.quantiles[95][k] == ranked[94]
    assert cal.n == [99, 99, 99] and cal.factor == 1.0


def test_recent_residuals_weigh_more():
    old, new = np.full(50, 1.0), np.full(50, 3.0)
    r = np.r_[old, new][:, None]
    origins = np.arange(100)
    flat = intervals.calibrate(r, levels=(80,)).quantiles[80][0]
    recent = intervals.calibrate(r, levels=(80,), weights=intervals.recency_weights(origins, 100, 10))
    assert flat == 3.0 and recent.quantiles[80][0] == 3.0
    reverse = intervals.calibrate(r[::-1], levels=(50,), weights=intervals.recency_weights(origins, 100, 10))
    assert reverse.quantiles[50][0] == 1.0  # the big residuals are the old ones now


def test_inflation_by_recent_out_of_sample_errors():
    r = np.ones((40, 2))
    r[30:] = 2.0  # the last 10 origins (validation) err twice as much as the in-sample ones
    recent = np.zeros((40, 2), bool)
    recent[30:] = True
    cal = intervals.calibrate(r, levels=(50,), recent=recent, history=~recent)
    assert cal.factor == pytest.approx(2.0)
    # smaller recent errors never narrow the intervals
    assert intervals.calibrate(r[::-1], levels=(50,), recent=recent, history=~recent).factor == 1.0


def test_each_series_gets_its_own_intervals():
    # the same noise, but the mean is a poor forecast of the trending series: in units of
    # their local scale its errors are far larger, which a pooled calibration would hide
    noise = np.random.default_rng(3).normal(size=120)
    frames = [pd.DataFrame({"id": sid, "t": np.arange(120), "y": 50 + slope * np.arange(120) + noise})
              for sid, slope in (("flat", 0.0), ("trend", 0.5))]
    panel = from_frame(pd.concat(frames), id_col="id", time_col="t")
    f = Forecaster("mean", horizon=6, val_size=12).fit(panel)
    flat, trend = (np.array(c.quantiles[80]) for c in f.calibration_)
    assert np.all(trend > 3 * flat)
    assert len(f.calibration_) == 2 and sum(f.calibration_[0].n) > 6 * 12  # rolling origins


def test_calibration_origins_span_horizons_before_the_end_of_validation():
    assert intervals.calibration_origins(1, 100, 5).tolist() == list(range(50, 100))
    assert intervals.calibration_origins(30, 100, 12).tolist() == list(range(30, 100))
