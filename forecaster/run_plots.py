"""Figures of a saved run at work: ``predict --plot`` and ``evaluate --out``.

In the style of :mod:`forecaster.plotting` (whose helpers these share): each function writes
one PNG and returns the pyplot-free :class:`~matplotlib.figure.Figure` it drew on an Agg
canvas; matplotlib is imported only when a figure is drawn. One subplot per series, at
most ``max_series``; actuals in black, forecasts in blue with their interval bands.

Example:
    >>> import tempfile
    >>> import numpy as np
    >>> history = pd.DataFrame({"id": "a", "timestamp": range(10), "y": np.arange(10.0)})
    >>> forecast = pd.DataFrame({"id": "a", "timestamp": [10, 11], "forecast": [10.0, 11.0],
    ...                          "lower_80": [9.0, 9.5], "upper_80": [11.0, 12.5]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     fig = plot_prediction(history, forecast, f"{tmp}/p.png", target="y")
    >>> actual, origin, line = fig.axes[0].get_lines()
    >>> actual.get_color(), line.get_ydata().tolist(), len(fig.axes[0].collections)
    ('black', [10.0, 11.0], 1)
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import pandas as pd

from forecaster.plotting import _check_columns, _figure, _format_time_axis, _save

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORECAST = "C0"
ANOMALY = "red"
_HISTORY = ("id", "timestamp", "y")
_LEVEL = re.compile(r"lower_(\d+)$")


def plot_prediction(history: pd.DataFrame, forecast: pd.DataFrame, path, *, target: str,
                    max_series: int = 4, context: int | None = None) -> Figure:
    """The recent history, the forecast past its end and every interval level found in ``forecast``.

    Args:
        history: The data forecast from: columns ``id``, ``timestamp``, ``y``.
        forecast: ``predict``'s frame: ``id``, ``timestamp``, ``forecast`` and any
            ``lower_L``/``upper_L`` pairs (wider levels drawn lighter).
        path: Where to write the PNG.
        target: The target column's name, the y label.
        max_series: Draw at most this many series (the first ids of ``history``).
        context: History points shown before the forecast (default: 4 x its length).

    Returns:
        The figure (also written to ``path``): per series the actuals (black), a dashed line
        at the last one, the forecast and one band per level.
    """
    _check_columns(history, _HISTORY, "the history")
    _check_columns(forecast, ("id", "timestamp", "forecast"), "the forecast")
    levels = levels_in(forecast)
    ids = list(pd.unique(history["id"]))
    fig, axes = _grid(min(len(ids), max(max_series, 1)), target)
    for ax, sid in zip(axes, ids):
        fc = forecast[forecast["id"] == sid].sort_values("timestamp")
        hist = _recent(history[history["id"] == sid], context or 4 * max(len(fc), 1))
        ax.plot(hist["timestamp"].to_numpy(), hist["y"].to_numpy(), color="black", lw=1.4)
        ax.axvline(hist["timestamp"].iloc[-1], color="0.45", ls="--", lw=0.9)
        _draw_forecast(ax, fc, levels)
        ax.set_title(f"series {sid}", fontsize=10)
        _format_time_axis(ax, history["timestamp"])
    steps = int(forecast.groupby("id").size().max()) if len(forecast) else 0
    shown = f" (first {len(axes)} of {len(ids)} series)" if len(ids) > len(axes) else ""
    fig.suptitle(f"Forecast of the next {steps} steps{shown}", fontsize=13)
    _legend(fig, levels, "last actual")
    return _save(fig, path)


def plot_evaluation(history: pd.DataFrame, forecasts: pd.DataFrame, path, *, target: str,
                    level: int | None, max_series: int = 4, context: int | None = None) -> Figure:
    """A run's forecasts over newer actuals, with its ``level`` intervals and the anomalies marked.

    Args:
        history: The data evaluated: ``id``, ``timestamp``, ``y``.
        forecasts: :attr:`forecaster.evaluate.Evaluation.forecasts` (``id``, ``cutoff``,
            ``timestamp``, ``forecast``, ``lower_L``/``upper_L``, ``anomaly``, ``direction``).
        path: Where to write the PNG.
        target: The target column's name, the y label.
        level: The interval level drawn (None: no bands).
        max_series: Draw at most this many series: those with the most anomalies first.
        context: History points shown before the first forecast (default: as many as it spans).

    Returns:
        The figure (also written to ``path``): per series the actuals (black), a dashed line
        at the training end, one forecast line and band per origin, and each anomaly as a red
        triangle pointing up (above its interval) or down (below).
    """
    _check_columns(history, _HISTORY, "the history")
    _check_columns(forecasts, ("id", "cutoff", "timestamp", "forecast", "anomaly", "direction"),
                   "the forecasts")
    counts = forecasts.groupby("id", sort=False)["anomaly"].sum()
    ids = sorted(pd.unique(forecasts["id"]), key=lambda i: -counts.get(i, 0))  # stable: ties keep order
    fig, axes = _grid(min(len(ids), max(max_series, 1)), target)
    levels = [level] if level is not None and level in levels_in(forecasts) else []
    for ax, sid in zip(axes, ids):
        fc = forecasts[forecasts["id"] == sid]
        hist = history[history["id"] == sid].sort_values("timestamp")
        first = fc["cutoff"].min()
        new = hist[hist["timestamp"] > first]
        shown = pd.concat([_recent(hist[hist["timestamp"] <= first], context or len(new)), new])
        ax.plot(shown["timestamp"].to_numpy(), shown["y"].to_numpy(), color="black", lw=1.4,
                zorder=3)
        ax.axvline(first, color="0.45", ls="--", lw=0.9)
        for _, block in fc.groupby("cutoff", sort=True):  # one line per origin, never joined
            _draw_forecast(ax, block.sort_values("timestamp"), levels)
        _draw_anomalies(ax, fc[fc["anomaly"]])
        ax.set_title(f"series {sid}: {_anomalies(int(counts.get(sid, 0)))}", fontsize=10)
        _format_time_axis(ax, history["timestamp"])
    total = int(forecasts["anomaly"].sum())
    band = f", {levels[0]}% intervals" if levels else ""
    fig.suptitle(f"Forecasts over the new data{band}: {_anomalies(total)}", fontsize=13)
    _legend(fig, levels, "training end", anomalies=True)
    return _save(fig, path)


def history_frame(panel) -> pd.DataFrame:
    """A panel's targets as the ``id, timestamp, y`` frame the plots take."""
    return pd.concat([pd.DataFrame({"id": s.id, "timestamp": s.time, "y": s.values[:, 0]})
                      for s in panel.series], ignore_index=True)


def levels_in(frame: pd.DataFrame) -> list[int]:
    """The interval levels with both bounds among ``frame``'s columns, ascending.

    >>> levels_in(pd.DataFrame(columns=["forecast", "lower_95", "upper_95", "lower_80", "upper_80"]))
    [80, 95]
    """
    found = [int(m.group(1)) for c in frame.columns if (m := _LEVEL.match(str(c)))]
    return sorted(v for v in found if f"upper_{v}" in frame.columns)


def _grid(n: int, target: str):
    """A figure with one axes per series (two columns from three series on); extras hidden."""
    ncols = 2 if n > 2 else 1
    nrows = max(math.ceil(n / ncols), 1)
    fig = _figure(12 if ncols == 2 else 11, 1.2 + 3.0 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.set_visible(i < n)
        ax.set_ylabel(target if i % ncols == 0 else "")
        ax.set_xlabel("time" if i >= n - ncols else "")
        ax.grid(alpha=0.3)
    return fig, list(axes[:max(n, 0)])


def _recent(hist: pd.DataFrame, points: int) -> pd.DataFrame:
    return hist.sort_values("timestamp").iloc[-max(points, 1):]


def _draw_forecast(ax, fc: pd.DataFrame, levels: list[int]) -> None:
    """The forecast line and one band per level, the widest the lightest."""
    t = fc["timestamp"].to_numpy()
    ax.plot(t, fc["forecast"].to_numpy(dtype=float), color=FORECAST, lw=1.6, zorder=4)
    for k, level in enumerate(sorted(levels, reverse=True)):
        ax.fill_between(t, fc[f"lower_{level}"].to_numpy(dtype=float),
                        fc[f"upper_{level}"].to_numpy(dtype=float), color=FORECAST,
                        alpha=_alpha(k, len(levels)), lw=0, zorder=2)


def _alpha(k: int, n: int) -> float:
    """Band opacity: 0.15 for the widest of several levels, up to 0.35 for the narrowest."""
    return 0.25 if n == 1 else 0.15 + 0.2 * k / (n - 1)


def _anomalies(n: int) -> str:
    return f"{n} anomal{'y' if n == 1 else 'ies'}"


def _draw_anomalies(ax, rows: pd.DataFrame) -> None:
    for direction, marker in (("above", "^"), ("below", "v")):
        hit = rows[rows["direction"] == direction]
        if len(hit):
            ax.plot(hit["timestamp"].to_numpy(), hit["y"].to_numpy(dtype=float), ls="none",
                    marker=marker, markersize=9, color=ANOMALY, zorder=5)


def _legend(fig, levels: list[int], origin: str, *, anomalies: bool = False) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], color="black", lw=1.4, label="actual"),
               Line2D([], [], color=FORECAST, lw=1.6, label="forecast")]
    handles += [Patch(color=FORECAST, alpha=_alpha(k, len(levels)), label=f"{level}% interval")
                for k, level in enumerate(sorted(levels, reverse=True))]
    handles.append(Line2D([], [], color="0.45", ls="--", lw=0.9, label=origin))
    if anomalies:
        handles += [Line2D([], [], ls="none", marker=m, color=ANOMALY, label=f"anomaly ({d})")
                    for m, d in (("^", "above"), ("v", "below"))]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6),
               frameon=False)
