"""The figures of predict --plot and evaluate --out, read back through the Figure returned."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import same_color

from forecaster import run_plots
from forecaster.evaluate import flag
from tests.test_plotting import PNG_MAGIC, legend_labels, visible_axes


def history(ids, n: int = 40) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"id": sid, "timestamp": pd.date_range("2021-01-01", periods=n, freq="D"),
                                    "y": 10.0 * (j + 1) + np.sin(np.arange(n))})
                      for j, sid in enumerate(ids)], ignore_index=True)


def prediction(hist: pd.DataFrame, horizon: int = 5, levels=(80, 95)) -> pd.DataFrame:
    frames = []
    for sid, h in hist.groupby("id", sort=False):
        t = pd.date_range(h["timestamp"].iloc[-1], periods=horizon + 1, freq="D")[1:]
        f = np.full(horizon, h["y"].iloc[-1])
        block = {"id": sid, "timestamp": t, "forecast": f}
        for k, level in enumerate(levels):
            block.update({f"lower_{level}": f - (k + 1), f"upper_{level}": f + (k + 1)})
        frames.append(pd.DataFrame(block))
    return pd.concat(frames, ignore_index=True)


def evaluation(hist: pd.DataFrame, start: int = 30, horizon: int = 5, spikes=None) -> pd.DataFrame:
    """Forecasts = the actual, except at ``spikes`` {(id, row): jump}; 95% bounds +-1."""
    frames = []
    for sid, h in hist.groupby("id", sort=False):
        h = h.reset_index(drop=True)
        rows = np.arange(start, len(h))
        y = h["y"].to_numpy()[rows].copy()
        for (spike_id, row), jump in (spikes or {}).items():
            if spike_id == sid:
                y[row - start] += jump
        cutoff = h["timestamp"].to_numpy()[start + (rows - start) // horizon * horizon - 1]
        f = h["y"].to_numpy()[rows]
        frames.append(pd.DataFrame({"id": sid, "cutoff": cutoff, "timestamp": h["timestamp"].to_numpy()[rows],
                                    "step": (rows - start) % horizon + 1, "y": y, "forecast": f,
                                    "lower_95": f - 1, "upper_95": f + 1}))
    return flag(pd.concat(frames, ignore_index=True), 95)


def bands(ax) -> list:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def markers(ax, marker: str) -> list:
    return [ln for ln in ax.get_lines() if ln.get_marker() == marker]


# ---------------------------------------------------------------- predict --plot
def test_prediction_draws_recent_history_forecast_and_a_band_per_level(tmp_path):
    hist = history(["a"])
    fc = prediction(hist)
    fig = run_plots.plot_prediction(hist, fc, tmp_path / "p.png", target="sales")
    assert (tmp_path / "p.png").read_bytes()[:8] == PNG_MAGIC
    (ax,) = visible_axes(fig)
    actual, origin, forecast = ax.get_lines()
    assert same_color(actual.get_color(), "black") and len(actual.get_xdata()) == 20  # 4 x horizon
    assert origin.get_linestyle() == "--" and origin.get_xdata()[0] == hist["timestamp"].iloc[-1]
    np.testing.assert_array_equal(forecast.get_ydata(), fc["forecast"])
    wide, narrow = bands(ax)  # the widest level first, lighter
    assert wide.get_alpha() < narrow.get_alpha()
    assert legend_labels(fig.legends[0]) == ["actual", "forecast", "95% interval", "80% interval",
                                             "last actual"]
    assert ax.get_ylabel() == "sales" and fig._suptitle.get_text() == "Forecast of the next 5 steps"


@pytest.mark.parametrize("levels, n_bands", [((80, 95), 2), ((), 0)])
def test_prediction_bands_exactly_for_the_levels_in_the_frame(tmp_path, levels, n_bands):
    hist = history(["a"])
    fig = run_plots.plot_prediction(hist, prediction(hist, levels=levels), tmp_path / "p.png",
                                    target="y", context=7)
    assert len(bands(fig.axes[0])) == n_bands
    assert len(fig.axes[0].get_lines()[0].get_xdata()) == 7


def test_prediction_one_subplot_per_series_at_most_max_series(tmp_path):
    hist = history(["a", "b", "c", "d", "e", "f"])
    fig = run_plots.plot_prediction(hist, prediction(hist), tmp_path / "p.png", target="y")
    assert [ax.get_title() for ax in visible_axes(fig)] == ["series a", "series b", "series c", "series d"]
    assert fig._suptitle.get_text() == "Forecast of the next 5 steps (first 4 of 6 series)"


# ---------------------------------------------------------------- evaluate --out
def test_evaluation_marks_each_anomaly_by_direction_at_its_actual(tmp_path):
    hist = history(["a"])
    fc = evaluation(hist, spikes={("a", 32): 5.0, ("a", 37): -4.0})
    fig = run_plots.plot_evaluation(hist, fc, tmp_path / "e.png", target="y", level=95)
    ax = fig.axes[0]
    (up,), (down,) = markers(ax, "^"), markers(ax, "v")
    assert same_color(up.get_color(), "red") and same_color(down.get_color(), "red")
    assert up.get_xdata()[0] == hist["timestamp"][32] and up.get_ydata()[0] == fc["y"][2]
    assert down.get_xdata()[0] == hist["timestamp"][37] and down.get_ydata()[0] == fc["y"][7]
    assert ax.get_title() == "series a: 2 anomalies"
    assert fig._suptitle.get_text() == "Forecasts over the new data, 95% intervals: 2 anomalies"


def test_evaluation_one_forecast_line_and_band_per_origin_and_the_training_end(tmp_path):
    hist = history(["a"])
    fc = evaluation(hist)  # origins at rows 30 and 35
    fig = run_plots.plot_evaluation(hist, fc, tmp_path / "e.png", target="y", level=95)
    ax = fig.axes[0]
    forecast_lines = [ln for ln in ax.get_lines() if same_color(ln.get_color(), run_plots.FORECAST)]
    assert [len(ln.get_xdata()) for ln in forecast_lines] == [5, 5] and len(bands(ax)) == 2
    (end,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert end.get_xdata()[0] == hist["timestamp"][29]
    actual = [ln for ln in ax.get_lines() if same_color(ln.get_color(), "black")][0]
    assert len(actual.get_xdata()) == 20  # as many points before the training end as after it
    assert not markers(ax, "^") and not markers(ax, "v")
    no_level = run_plots.plot_evaluation(hist, fc, tmp_path / "n.png", target="y", level=None)
    assert not bands(no_level.axes[0]) and "intervals" not in no_level._suptitle.get_text()


def test_evaluation_shows_the_series_with_most_anomalies_first(tmp_path):
    hist = history(["a", "b", "c"])
    fc = evaluation(hist, spikes={("c", 31): 5.0, ("c", 33): 5.0, ("b", 36): 5.0})
    fig = run_plots.plot_evaluation(hist, fc, tmp_path / "e.png", target="y", level=95, max_series=2)
    assert [ax.get_title() for ax in visible_axes(fig)] == ["series c: 2 anomalies",
                                                            "series b: 1 anomaly"]
