"""Tests for the report figures: each writes a real PNG, and matplotlib stays a lazy import."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from forecaster import plotting
from forecaster.errors import DataError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MODELS = ["lstm", "gru", "seasonal_naive"]


def assert_png(path, min_bytes: int = 5_000) -> None:
    assert path.exists()
    assert path.stat().st_size > min_bytes  # an empty canvas is ~2 KB; a real plot is more
    assert path.read_bytes()[:8] == PNG_MAGIC


def make_history(ids, n: int, *, dates: bool) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = []
    for j, sid in enumerate(ids):
        t = pd.date_range("2021-01-01", periods=n, freq="D") if dates else np.arange(n)
        y = 10 + j + np.sin(np.arange(n) * 2 * np.pi / 7) + rng.normal(0, 0.2, n)
        frames.append(pd.DataFrame({"id": sid, "timestamp": t, "y": y}))
    return pd.concat(frames, ignore_index=True)


def make_forecasts(history: pd.DataFrame, *, folds: int, test_size: int,
                   intervals: bool) -> pd.DataFrame:
    frames = []
    for sid, h in history.groupby("id", sort=False):
        for k in range(folds):
            start = len(h) - (folds - k) * test_size
            block = h.iloc[start:start + test_size]
            for i, model in enumerate(MODELS):
                f = block["y"].to_numpy() + 0.1 * (i + 1)
                d = {"id": sid, "fold": k, "model": model, "timestamp": block["timestamp"].to_numpy(),
                     "step": np.arange(test_size) + 1, "y": block["y"].to_numpy(), "forecast": f}
                if intervals:
                    d.update(lower_80=f - 0.5, upper_80=f + 0.5, lower_95=f - 1.0, upper_95=f + 1.0)
                frames.append(pd.DataFrame(d))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("dates", [True, False], ids=["datetime", "integer"])
@pytest.mark.parametrize("intervals", [True, False], ids=["bands", "no-bands"])
def test_plot_forecasts_writes_png(tmp_path, dates, intervals):
    history = make_history(["a", "b", "c", "d", "e"], 60, dates=dates)
    forecasts = make_forecasts(history, folds=2, test_size=7, intervals=intervals)
    out = plotting.plot_forecasts(history, forecasts, MODELS, tmp_path / "sub" / "f.png",
                                  target="sales")
    assert out == tmp_path / "sub" / "f.png"
    assert_png(out)


def test_plot_forecasts_single_series_and_short_context(tmp_path):
    history = make_history([1], 40, dates=False)
    forecasts = make_forecasts(history, folds=1, test_size=5, intervals=True)
    out = plotting.plot_forecasts(history, forecasts, ["gru", "not_run"], str(tmp_path / "f.png"),
                                  target="y", level=95, max_series=1, context=3)
    assert_png(out)


def test_plot_forecasts_without_any_forecasts(tmp_path):
    history = make_history(["a"], 30, dates=True)
    out = plotting.plot_forecasts(history, pd.DataFrame(), MODELS, tmp_path / "f.png", target="y")
    assert_png(out)


def test_plot_forecasts_names_a_missing_column(tmp_path):
    history = make_history(["a"], 30, dates=False).drop(columns="y")
    with pytest.raises(DataError, match="missing column.*y"):
        plotting.plot_forecasts(history, pd.DataFrame(), MODELS, tmp_path / "f.png", target="y")


def test_plot_metric_bars_with_failed_model(tmp_path):
    board = [
        {"rank": 1, "model": "lstm", "n_params": 1234, "mase": 0.8},
        {"rank": 2, "model": "seasonal_naive", "n_params": 0, "mase": 1.0},
        {"rank": 3, "model": "naive", "n_params": None, "mase": 1.4},
        {"rank": 4, "model": "gru", "n_params": None, "mase": math.nan},
    ]
    assert_png(plotting.plot_metric_bars(board, "mase", tmp_path / "bars.png"))


def test_plot_metric_bars_all_failed_or_empty(tmp_path):
    failed = [{"rank": 1, "model": "lstm", "n_params": None, "mae": math.nan}]
    assert_png(plotting.plot_metric_bars(failed, "mae", tmp_path / "a.png"), min_bytes=2_000)
    assert_png(plotting.plot_metric_bars([], "mae", tmp_path / "b.png"), min_bytes=2_000)


def test_plot_loss_curves_folds_and_log_scale(tmp_path):
    decay = list(10.0 * np.exp(-np.arange(30) / 3) + 1e-3)  # spans > 2 decades -> log axis
    histories = {
        "lstm": [{"loss": decay, "val_loss": [v * 1.2 for v in decay]},
                 {"loss": decay[:20], "val_loss": []}],
        "gru": [{"loss": [1.0, 0.8, 0.7], "val_loss": []}],
        "naive": [{"loss": [], "val_loss": []}],  # a baseline: nothing to draw
    }
    assert_png(plotting.plot_loss_curves(histories, tmp_path / "loss.png"))


def test_plot_loss_curves_empty_still_writes_a_figure(tmp_path):
    assert_png(plotting.plot_loss_curves({}, tmp_path / "loss.png"), min_bytes=2_000)


def test_spans_decades():
    assert plotting._spans_decades([100.0, 0.5], 2)
    assert not plotting._spans_decades([1.0, 0.5], 2)
    assert not plotting._spans_decades([100.0, 0.0], 2)  # zero cannot go on a log axis
    assert not plotting._spans_decades([], 2)


def test_import_does_not_import_matplotlib():
    code = "import sys, forecaster.plotting; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
