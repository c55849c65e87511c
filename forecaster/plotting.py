"""Matplotlib figures for the ``forecaster compare --out DIR`` report.

Every function writes one PNG and returns the :class:`~matplotlib.figure.Figure` it drew,
so callers (and tests) can inspect or re-save it. matplotlib is imported inside the
functions, so ``import forecaster`` stays light, and figures are built with
:class:`~matplotlib.figure.Figure` on an Agg canvas rather than through pyplot: no global
figure registry to leak into, no GUI backend, safe in worker processes and tests. A figure
nobody holds is garbage-collected like any other object.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from forecaster import plotting
    >>> board = [{"rank": 1, "model": "naive", "n_params": 0, "mase": 1.0}]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     fig = plotting.plot_metric_bars(board, "mase", Path(tmp) / "mase.png")
    ...     fig.savefig(Path(tmp) / "mase.svg")  # the same figure, as a vector file
    ...     sorted(p.name for p in Path(tmp).iterdir())
    ['mase.png', 'mase.svg']
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecaster.errors import DataError
from forecaster.models import REFERENCE  # the registry module: no Keras, no matplotlib

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 110
GRADIENT_FLOOR = 1e-9  # plot_gradients' y axis stops here
_HISTORY_COLUMNS = ("id", "timestamp", "y")
_FORECAST_COLUMNS = ("id", "fold", "model", "timestamp", "forecast")


def _figure(width: float, height: float) -> Figure:
    """A pyplot-free figure on an Agg canvas, with constrained (tight) layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path) -> Figure:
    """Write ``fig`` as a PNG at ``path`` (creating folders) and return it, artists intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png")
    return fig


def _check_columns(frame: pd.DataFrame, required, name: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing and not frame.empty:
        raise DataError(f"Cannot plot {name}: missing column(s) {', '.join(missing)}. "
                        f"Available: {', '.join(map(str, frame.columns))}.")


# ---------------------------------------------------------------- forecasts
def plot_forecasts(history: pd.DataFrame, forecasts: pd.DataFrame, models: list[str], path,
                   *, target: str, level: int | None = 80, max_series: int = 4,
                   context: int | None = None) -> Figure:
    """Actuals and the top models' test-fold forecasts, one subplot per series.

    Args:
        history: The full actual series: columns ``id``, ``timestamp``, ``y``.
        forecasts: Test-fold forecasts: ``id``, ``fold``, ``model``, ``timestamp``,
            ``forecast`` and, when intervals were calibrated, ``lower_L``/``upper_L``.
        models: Models to draw, in rank order (typically the top 3).
        path: Where to write the PNG.
        target: Target column name, used as the y label.
        level: Interval level to shade (None: no bands).
        max_series: Draw at most this many series (the first ids of ``history``).
        context: Actual points shown before the first test timestamp
            (default: 3x the test span).

    Returns:
        The figure (also written to ``path``): one axes per series, titled ``series <id>``.

    Raises:
        DataError: A required column is missing.

    Example:
        >>> import tempfile
        >>> hist = pd.DataFrame({"id": "a", "timestamp": range(10), "y": np.arange(10.0)})
        >>> fc = pd.DataFrame({"id": "a", "fold": 0, "model": "naive", "timestamp": [8, 9],
        ...                    "forecast": [7.0, 7.0]})
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     fig = plot_forecasts(hist, fc, ["naive"], f"{tmp}/f.png", target="y")
        >>> [ax.get_title() for ax in fig.axes]
        ['series a']
        >>> actual, fold_origin, forecast = fig.axes[0].get_lines()
        >>> actual.get_color(), forecast.get_ydata()
        ('black', array([7., 7.]))
    """
    _check_columns(history, _HISTORY_COLUMNS, "the history")
    _check_columns(forecasts, _FORECAST_COLUMNS, "the forecasts")
    ids = list(pd.unique(history["id"]))[:max(max_series, 1)]
    if forecasts.empty:
        forecasts = pd.DataFrame(columns=list(_FORECAST_COLUMNS))
    models = [m for m in models if m in set(forecasts["model"])]
    colours = {m: f"C{i}" for i, m in enumerate(models)}
    bands = level is not None and {f"lower_{level}", f"upper_{level}"} <= set(forecasts.columns)
    ncols = 2 if len(ids) > 2 else 1
    nrows = max(math.ceil(len(ids) / ncols), 1)
    fig = _figure(12 if ncols == 2 else 11, 1.2 + 3.0 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for i, (ax, sid) in enumerate(zip(axes, ids)):
        fc = forecasts[(forecasts["id"] == sid) & forecasts["model"].isin(models)]
        _draw_series(ax, history[history["id"] == sid], fc, colours, level if bands else None, context)
        ax.set_title(f"series {sid}", fontsize=10)
        ax.set_ylabel(target if i % ncols == 0 else "")
        ax.set_xlabel("time" if i >= len(ids) - ncols else "")
    for ax in axes[len(ids):]:
        ax.set_visible(False)
    suffix = f" ({level}% intervals)" if bands else ""
    fig.suptitle(f"Test forecasts of the top models{suffix}", fontsize=13)
    fig.legend(handles=_forecast_handles(colours, level if bands else None),
               loc="outside lower center", ncols=min(len(colours) + 3, 6), frameon=False)
    return _save(fig, path)


def _draw_series(ax, hist: pd.DataFrame, fc: pd.DataFrame, colours: dict, level, context) -> None:
    hist = hist.sort_values("timestamp")
    times = hist["timestamp"].to_numpy()
    if fc.empty:
        ax.plot(times, hist["y"].to_numpy(), color="black", lw=1.3)
        ax.text(0.5, 0.92, "no test forecasts", transform=ax.transAxes, ha="center", color="0.4")
        _format_time_axis(ax, hist["timestamp"])
        return
    test_times = np.sort(pd.unique(fc["timestamp"]))
    span = len(test_times)
    before = int(np.searchsorted(times, test_times[0]))  # actual points before the test span
    start = max(before - (3 * span if context is None else context), 0)
    shown = hist.iloc[start:]
    shown = shown[shown["timestamp"] <= test_times[-1]]
    ax.plot(shown["timestamp"].to_numpy(), shown["y"].to_numpy(), color="black", lw=1.4, zorder=3)
    for _, block in fc.groupby("fold", sort=True):  # one line per fold, never joined
        origin = _origin(times, block["timestamp"].to_numpy().min())  # numpy, like ``times``
        ax.axvline(origin, color="0.45", ls="--", lw=0.9, zorder=1)
        for model, colour in colours.items():
            _draw_model(ax, block[block["model"] == model], colour, level)
    ax.grid(alpha=0.3)
    _format_time_axis(ax, hist["timestamp"])


def _origin(times: np.ndarray, first_test):
    """The last observed timestamp before a fold's test span: where the forecast is made."""
    i = int(np.searchsorted(times, first_test))
    return times[i - 1] if i > 0 else first_test


def _draw_model(ax, block: pd.DataFrame, colour: str, level) -> None:
    if block.empty:
        return
    block = block.sort_values("timestamp")
    t = block["timestamp"].to_numpy()
    ax.plot(t, block["forecast"].to_numpy(dtype=float), color=colour, lw=1.6, zorder=4)
    if level is not None:
        lo = block[f"lower_{level}"].to_numpy(dtype=float)
        hi = block[f"upper_{level}"].to_numpy(dtype=float)
        ax.fill_between(t, lo, hi, color=colour, alpha=0.2, lw=0, zorder=2)


def _forecast_handles(colours: dict, level) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], color="black", lw=1.4, label="actual")]
    handles += [Line2D([], [], color=c, lw=1.6, label=m) for m, c in colours.items()]
    if level is not None:
        handles.append(Patch(color="0.5", alpha=0.3, label=f"{level}% interval (model colour)"))
    if colours:
        handles.append(Line2D([], [], color="0.45", ls="--", lw=0.9, label="fold origin"))
    return handles


def _format_time_axis(ax, timestamps: pd.Series) -> None:
    """Concise date ticks for datetimes (the default ones overlap); integers need nothing."""
    if pd.api.types.is_datetime64_any_dtype(timestamps):
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator(maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


# ---------------------------------------------------------------- leaderboard
def plot_metric_bars(leaderboard: list[dict], metric: str, path) -> Figure:
    """Horizontal bars of ``metric`` per model, best at top, seasonal naive as reference.

    Args:
        leaderboard: Rows with ``rank``, ``model``, ``n_params`` and ``metric``; a NaN
            metric marks a failed model, drawn as a grey "failed" label.
        metric: The metric to draw (lower is better), e.g. ``"mase"``.
        path: Where to write the PNG.

    Returns:
        The figure (also written to ``path``): one bar per row, best at the top.

    Example:
        >>> import tempfile
        >>> board = [{"rank": 2, "model": "seasonal_naive", "n_params": 0, "mase": 1.0},
        ...          {"rank": 1, "model": "lstm", "n_params": 1234, "mase": 0.8}]
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     fig = plot_metric_bars(board, "mase", f"{tmp}/mase.png")
        >>> [(tick.get_text(), float(bar.get_width()))
        ...  for tick, bar in zip(fig.axes[0].get_yticklabels(), fig.axes[0].patches)]
        [('1. lstm', 0.8), ('2. seasonal_naive', 1.0)]
    """
    rows = sorted(leaderboard, key=lambda r: (_failed(r, metric), _score(r, metric)))
    values = [_score(r, metric) for r in rows]
    fig = _figure(9, 1.6 + 0.42 * max(len(rows), 1))
    ax = fig.subplots()
    _draw_bars(ax, rows, values, metric)
    ax.set_xlabel(f"{metric.upper()} (lower is better)")
    ax.set_ylabel("model (rank)")
    ax.set_title(f"{metric.upper()} on the test folds, by model")
    ref = next((v for r, v in zip(rows, values) if r["model"] == REFERENCE and v > 0), None)
    if ref is not None:
        ax.axvline(ref, color="C1", ls="--", lw=1.2, zorder=2.5)
    handles = _bar_handles(rows, metric, ref)
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=9,
               frameon=False)  # below the axes: never covers a bar or its annotation
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def _draw_bars(ax, rows: list[dict], values: list[float], metric: str) -> None:
    """Bars (grey when failed, orange for the reference), annotations and rank labels."""
    top = max(values, default=0.0) or 1.0
    y = np.arange(len(rows))
    colours = ["0.6" if _failed(r, metric) else "C1" if r["model"] == REFERENCE else "C0" for r in rows]
    ax.barh(y, values, color=colours, height=0.65)
    for yi, row, value in zip(y, rows, values):
        text = "failed" if _failed(row, metric) else f"{_fmt(value)}  ·  {_params(row.get('n_params'))}"
        colour = "0.4" if _failed(row, metric) else "black"
        ax.text(value + 0.01 * top, yi, text, va="center", fontsize=9, color=colour,
                style="italic" if _failed(row, metric) else "normal",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})  # masks the ref line
    ax.set_yticks(y, [f"{r.get('rank', i + 1)}. {r['model']}" for i, r in enumerate(rows)])
    ax.invert_yaxis()  # best (rank 1) at the top
    ax.set_xlim(0, top * 1.45)  # room for the annotations right of the longest bar


def _bar_handles(rows: list[dict], metric: str, ref: float | None) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(color="C0", label="model")]
    if ref is not None:
        handles.append(Patch(color="C1", label=f"{REFERENCE} (reference)"))
        handles.append(Line2D([], [], color="C1", ls="--", label=f"reference level {_fmt(ref)}"))
    if any(_failed(r, metric) for r in rows):
        handles.append(Patch(color="0.6", label="failed (no score)"))
    return handles


def _value(row: dict, metric: str) -> float:
    value = row.get(metric)
    return math.nan if value is None else float(value)


def _failed(row: dict, metric: str) -> bool:
    return not math.isfinite(_value(row, metric))


def _score(row: dict, metric: str) -> float:
    """The bar length: the metric, or 0 for a failed model."""
    return 0.0 if _failed(row, metric) else _value(row, metric)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3f}"


def _params(n_params) -> str:
    return "no weights" if not n_params else f"{int(n_params):,} params"


# ---------------------------------------------------------------- training
def plot_gradients(reports: list[dict], path) -> Figure:
    """Gradient norm at each lag relative to lag 1, before and after training, one line per model.

    Args:
        reports: :func:`forecaster.gradients.analyze` results (``lag``, ``state``,
            ``half_life``, ``model``, and ``label`` when given).
        path: Where to write the PNG.

    Returns:
        The figure (also written to ``path``): two panels with a logarithmic y axis.

    Example:
        >>> import tempfile
        >>> report = {"model": "simple_rnn", "lag": [1, 2, 3], "half_life": {"before": 1.0, "after": None},
        ...           "state": {"before": [1.0, 0.5, 0.25], "after": [2.0, 2.0, 2.0]}}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     fig = plot_gradients([report], f"{tmp}/gradients.png")
        >>> [line.get_ydata().tolist() for ax in fig.axes for line in ax.get_lines()]
        [[1.0, 0.5, 0.25], [1.0, 1.0, 1.0]]
    """
    fig = _figure(10, 4.6)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, when in zip(axes, ("before", "after")):
        for i, report in enumerate(reports):
            norms = np.asarray(report["state"][when], dtype=float)
            relative = norms / norms[0] if norms[0] > 0 else norms
            half = report["half_life"][when]
            name = report.get("label", report["model"])
            label = f"{name} ({f'halves every {half:.3g} steps' if half else 'does not shrink'})"
            ax.plot(report["lag"], np.where(relative > 0, relative, np.nan), color=f"C{i % 10}",
                    lw=1.8, label=label)  # a gradient of exactly 0 (underflow) leaves the log axis
        ax.set_yscale("log")
        ax.set_title(f"{when} training")
        ax.set_xlabel("steps back from the forecast (lag)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=9, loc="best")
    low, high = axes[0].get_ylim()
    axes[0].set_ylim(max(low, GRADIENT_FLOOR), high)  # below it: vanished, whatever the digits
    axes[0].set_ylabel("|dL/d state| relative to lag 1")
    return _save(fig, path)


def plot_loss_curves(histories: dict[str, list[dict]], path) -> Figure:
    """Training (solid) and validation (dashed) loss per epoch, one colour per model.

    Fold 0 is drawn thick; later folds thin in the same colour. The y axis is
    logarithmic when the losses span more than two decades.

    Args:
        histories: Model name -> list over folds of ``{"loss": [...], "val_loss": [...]}``.
        path: Where to write the PNG.

    Returns:
        The figure (also written to ``path``).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     fig = plot_loss_curves({"lstm": [{"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}]},
        ...                            f"{tmp}/loss.png")
        >>> [(line.get_linestyle(), line.get_ydata().tolist()) for line in fig.axes[0].get_lines()]
        [('-', [1.0, 0.5]), ('--', [1.1, 0.7])]
        >>> fig.axes[0].get_yscale()  # max / min = 1.1 / 0.5: far under two decades
        'linear'
    """
    from matplotlib.lines import Line2D

    trained = {m: folds for m, folds in histories.items()
               if any(len(h.get("loss") or []) for h in folds)}
    fig = _figure(9, 5.2)
    ax = fig.subplots()
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (scaled units)")
    if not trained:
        _draw_nothing_trained(ax)
        return _save(fig, path)
    values = []
    for i, (model, folds) in enumerate(trained.items()):
        for k, hist in enumerate(folds):
            values += _draw_history(ax, hist, f"C{i % 10}", model if k == 0 else None, thick=k == 0)
    if _spans_decades(values, 2):
        ax.set_yscale("log")
    many = any(len(folds) > 1 for folds in trained.values())
    ax.set_title("Training curves" + (" (thick: first fold trained, thin: later folds)" if many else ""))
    handles = ax.get_legend_handles_labels()[0]
    handles += [Line2D([], [], color="0.3", label="training"),
                Line2D([], [], color="0.3", ls="--", label="validation")]
    ax.legend(handles=handles, fontsize=9, loc="upper right")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _draw_nothing_trained(ax) -> None:
    ax.set_title("Training curves")
    ax.text(0.5, 0.5, "no neural models: nothing was trained", transform=ax.transAxes,
            ha="center", va="center", fontsize=12, color="0.35")
    ax.set_xticks([])
    ax.set_yticks([])


def _draw_history(ax, hist: dict, colour: str, label: str | None, *, thick: bool) -> list[float]:
    """Draw one fold's curves; returns the values drawn (for the log-scale decision)."""
    lw, alpha = (1.8, 1.0) if thick else (0.8, 0.55)
    drawn = []
    for key, style in (("loss", "-"), ("val_loss", "--")):
        series = np.asarray(hist.get(key) or [], dtype=float)
        if series.size:
            ax.plot(np.arange(1, series.size + 1), series, color=colour, ls=style, lw=lw,
                    alpha=alpha, label=label if key == "loss" else None)
            drawn += series.tolist()
    return drawn


def _spans_decades(values: list[float], decades: float) -> bool:
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size < 2 or (arr <= 0).any():
        return False  # zero or negative losses cannot go on a log axis
    return bool(np.log10(arr.max() / arr.min()) > decades)
