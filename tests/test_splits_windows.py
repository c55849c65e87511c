"""Splits move forward in time; windows have exact indices, are views and respect boundaries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecaster import scaling, splits, windows
from forecaster.errors import ConfigError


@given(n=st.integers(30, 400), k=st.integers(1, 5), test=st.integers(1, 12),
       val=st.integers(0, 12), gap=st.integers(0, 5), max_train=st.one_of(st.none(), st.integers(1, 50)))
def test_folds_are_time_ordered_and_disjoint(n, k, test, val, gap, max_train):
    try:
        folds = splits.rolling_origin(n, n_splits=k, test_size=test, val_size=val, gap=gap,
                                      max_train_size=max_train)
    except ConfigError:
        assert n - k * test - gap - val < 1
        return
    for f in folds:
        assert f.train[0] < f.train[1] <= f.val[0] <= f.val[1] <= f.test[0] < f.test[1] <= n
        assert f.test[0] - f.val[1] == gap
        if max_train:
            assert f.train[1] - f.train[0] <= max_train
    for a, b in zip(folds, folds[1:]):
        assert a.test[1] == b.test[0]  # consecutive, non-overlapping test windows
    assert folds[-1].test[1] == n


def test_holdout_layout():
    assert splits.holdout(50, test_size=5, val_size=10, gap=2) == splits.Split((0, 33), (33, 43), (45, 50))


def test_split_without_training_rows_is_a_clear_error():
    with pytest.raises(ConfigError, match="no training rows"):
        splits.holdout(10, test_size=5, val_size=5)


def test_window_indices_are_exact():
    values = np.arange(10.0)[:, None]
    x, y = windows.windows(values, lookback=3, horizon=2, stride=1)
    assert x[0, :, 0].tolist() == [0, 1, 2] and y[0].tolist() == [3, 4]
    assert x[-1, :, 0].tolist() == [5, 6, 7] and y[-1].tolist() == [8, 9]
    assert len(x) == 10 - 3 - 2 + 1


def test_windows_are_views_not_copies():
    values = np.random.default_rng(0).normal(size=(50, 3))
    x, y = windows.windows(values, lookback=5, horizon=2, stride=3)
    assert np.shares_memory(x, values) and np.shares_memory(y, values)


def test_targets_stay_inside_their_range_and_inputs_never_after_it():
    values = np.arange(40.0)[:, None]
    x, y = windows.windows(values, lookback=4, horizon=3, targets=(20, 30))
    assert y.min() >= 20 and y.max() < 30
    assert x.max() < 27  # inputs end where targets begin
    assert y[0, 0] == 20 and y[-1, -1] == 29


def test_covariates_stay_aligned_with_the_target():
    values = np.stack([np.arange(20.0), 100 + np.arange(20.0)], axis=1)
    x, _ = windows.windows(values, lookback=3, horizon=1)
    np.testing.assert_array_equal(x[:, :, 1] - x[:, :, 0], 100.0)


def test_panel_windows_never_cross_a_series_boundary():
    a, b = np.arange(10.0)[:, None], 1000 + np.arange(8.0)[:, None]
    parts = [windows.windows(v, lookback=3, horizon=2) for v in (a, b)]
    x, y, series = windows.stack(parts)
    for xi, yi, si in zip(x, y, series):
        block = np.concatenate([xi[:, 0], yi])
        assert np.all(np.diff(block) == 1), "a window mixes two series"
        assert (block >= 1000).all() == (si == 1)


def test_sequence_targets_end_with_the_ordinary_target():
    target = np.arange(30.0)
    _, y = windows.windows(target[:, None], lookback=5, horizon=3, stride=2)
    seq = windows.sequence_targets(target, lookback=5, horizon=3, stride=2)
    np.testing.assert_array_equal(seq[:, -1, :], y)
    assert seq[0, 0].tolist() == [y[0, 0] - 4, y[0, 0] - 3, y[0, 0] - 2]


def test_scaler_is_fit_on_training_rows_and_round_trips():
    train = np.array([[1.0, 10.0], [3.0, 10.0]])
    s = scaling.fit("standard", train)
    assert s.loc == (2.0, 10.0) and s.scale == (1.0, 1.0)  # constant column -> scale 1
    assert scaling.Scaler.from_dict(s.to_dict()) == s
    np.testing.assert_allclose(s.inverse_target(s.transform(train)[:, 0]), train[:, 0])
    m = scaling.fit("minmax", train)
    assert m.transform(np.array([[3.0, 10.0]])).tolist() == [[1.0, 0.0]]
    with pytest.raises(ConfigError, match="Unknown scaler 'robust'"):
        scaling.fit("robust", train)


@pytest.mark.parametrize("norm", ["window", "season"])
def test_sequence_offsets_are_causal_and_end_with_the_forecast_offsets(norm):
    x = np.random.default_rng(0).normal(size=(5, 12, 1))
    seq = scaling.sequence_offsets(x, norm=norm, horizon=3, season=4)
    _, targets = scaling.window_offsets(x, norm=norm, horizon=3, season=4)
    np.testing.assert_array_equal(seq[:, -1, :], targets)
    changed = x.copy()
    changed[:, 7:, :] += 100.0  # the future of step 6 must not move step 6's offsets
    later = scaling.sequence_offsets(changed, norm=norm, horizon=3, season=4)
    np.testing.assert_array_equal(later[:, :7, :], seq[:, :7, :])
