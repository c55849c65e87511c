"""Tests for the report figures, read back through the Figure each plot function returns.

Each test checks what its name says on the figure's artists (lines, bars, bands, texts,
axis scales and formatters); one cheap test checks that the PNG on disk is real.
"""

from __future__ import annotations

import gc
import math
import random
import struct
import subprocess
import sys
import weakref

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import same_color
from matplotlib.dates import ConciseDateFormatter
from matplotlib.figure import Figure

from forecaster import plotting
from forecaster.errors import DataError
from forecaster.models import REFERENCE

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MODELS = ["lstm", "gru", "seasonal_naive"]


# ---------------------------------------------------------------- data and figure helpers
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
    """Each model's forecast is the actual plus 0.1 x (model index + 1): distinct per model."""
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


def visible_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


def actual_lines(ax) -> list:
    return [ln for ln in ax.get_lines() if ln.get_color() == "black"]


def origin_lines(ax) -> list:
    return [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]


def forecast_lines(ax) -> list:
    return [ln for ln in ax.get_lines() if ln not in actual_lines(ax) + origin_lines(ax)]


def bands(ax) -> list:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def legend_labels(legend) -> list[str]:
    return [t.get_text() for t in legend.get_texts()]


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def png_size(path) -> tuple[int, int]:
    """(width, height) in pixels from the PNG's IHDR chunk."""
    return struct.unpack(">II", path.read_bytes()[16:24])


def forecasts_figure(tmp_path, *, ids=("a",), n=40, dates=False, folds=2, test_size=7,
                     intervals=False, models=MODELS, **kwargs):
    """plot_forecasts over synthetic data; returns (figure, history, forecasts)."""
    history = make_history(list(ids), n, dates=dates)
    forecasts = make_forecasts(history, folds=folds, test_size=test_size, intervals=intervals)
    kwargs.setdefault("target", "sales")
    fig = plotting.plot_forecasts(history, forecasts, list(models), tmp_path / "f.png", **kwargs)
    return fig, history, forecasts


# ---------------------------------------------------------------- every figure
@pytest.mark.parametrize("kind", ["forecasts", "bars", "loss"])
def test_each_plot_writes_a_valid_png_of_the_returned_figure(tmp_path, kind):
    path = tmp_path / "sub" / f"{kind}.png"  # the folder does not exist yet
    history = make_history(["a", "b"], 30, dates=True)
    draw = {
        "forecasts": lambda: plotting.plot_forecasts(
            history, make_forecasts(history, folds=1, test_size=5, intervals=True), MODELS,
            path, target="y"),
        "bars": lambda: plotting.plot_metric_bars(
            [{"rank": 1, "model": "lstm", "n_params": 10, "mae": 0.5}], "mae", str(path)),
        "loss": lambda: plotting.plot_loss_curves({"lstm": [{"loss": [1.0, 0.5]}]}, path),
    }[kind]
    fig = draw()
    assert isinstance(fig, Figure)
    assert fig.get_axes()  # artists kept after saving: the figure was not cleared
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 5_000  # an empty canvas is ~2 KB; a real plot is more
    assert png_size(path) == tuple(round(v * plotting.DPI) for v in fig.get_size_inches())


def test_figures_are_pyplot_free_and_garbage_collected(tmp_path):
    fig = plotting.plot_loss_curves({"lstm": [{"loss": [1.0, 0.5]}]}, tmp_path / "loss.png")
    assert isinstance(fig.canvas, FigureCanvasAgg)
    assert fig.canvas.manager is None  # pyplot figures have a manager; registry-free ones do not
    ref = weakref.ref(fig)
    del fig
    gc.collect()
    assert ref() is None  # nothing (no pyplot registry, no cache) keeps the figure alive


def test_import_does_not_import_matplotlib():
    code = ("import sys, forecaster, forecaster.plotting, forecaster.report; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- plot_forecasts
@pytest.mark.parametrize(("n_ids", "max_series", "shown", "grid"), [
    (1, 4, 1, 1), (3, 4, 3, 4), (5, 4, 4, 4), (5, 2, 2, 2),
])
def test_forecasts_one_subplot_per_series_at_most_max_series(tmp_path, n_ids, max_series, shown,
                                                               grid):
    ids = list("abcde")[:n_ids]
    fig, _, _ = forecasts_figure(tmp_path, ids=ids, max_series=max_series)
    assert len(fig.axes) == grid  # a 2-column grid leaves unused cells hidden
    assert [ax.get_title() for ax in visible_axes(fig)] == [f"series {s}" for s in ids[:shown]]
    assert visible_axes(fig)[0].get_ylabel() == "sales"


def test_forecasts_actual_line_is_black_with_the_shown_context(tmp_path):
    fig, history, _ = forecasts_figure(tmp_path, n=40, folds=1, test_size=5, context=3)
    (ax,) = visible_axes(fig)
    (actual,) = actual_lines(ax)
    assert actual.get_zorder() > max(ln.get_zorder() for ln in origin_lines(ax))
    # 3 context points before the test span (t = 35..39), up to its last timestamp
    np.testing.assert_array_equal(actual.get_xdata(), np.arange(32, 40))
    np.testing.assert_allclose(actual.get_ydata(), history["y"].to_numpy()[32:40])


def test_forecasts_one_line_per_model_per_fold_never_joined(tmp_path):
    fig, _, forecasts = forecasts_figure(tmp_path, n=40, folds=2, test_size=7)
    (ax,) = visible_axes(fig)
    lines = forecast_lines(ax)
    assert len(lines) == len(MODELS) * 2
    for line in lines:
        assert len(line.get_xdata()) == 7  # one fold's span: folds are separate lines
    for i, model in enumerate(MODELS):
        mine = [ln for ln in lines if ln.get_color() == f"C{i}"]
        assert len(mine) == 2, model
        for fold, line in enumerate(mine):
            expected = forecasts[(forecasts["model"] == model) & (forecasts["fold"] == fold)]
            np.testing.assert_array_equal(line.get_xdata(), expected["timestamp"].to_numpy())
            np.testing.assert_allclose(line.get_ydata(), expected["forecast"].to_numpy())
    assert legend_labels(fig.legends[0]) == ["actual", *MODELS, "fold origin"]


@pytest.mark.parametrize(("intervals", "level", "expected"), [
    (True, 80, 6), (True, 95, 6), (True, None, 0), (True, 50, 0), (False, 80, 0),
], ids=["80", "95", "level-none", "level-missing", "no-columns"])
def test_forecasts_bands_exactly_when_the_level_columns_exist(tmp_path, intervals, level,
                                                               expected):
    fig, _, forecasts = forecasts_figure(tmp_path, folds=2, test_size=7, intervals=intervals,
                                         level=level)
    (ax,) = visible_axes(fig)
    assert len(bands(ax)) == expected  # one band per model per fold
    labels = legend_labels(fig.legends[0])
    assert (f"{level}% interval (model colour)" in labels) == bool(expected)
    assert fig.get_suptitle().endswith(f"({level}% intervals)") == bool(expected)
    if expected:
        first = forecasts[(forecasts["model"] == MODELS[0]) & (forecasts["fold"] == 0)]
        ys = bands(ax)[0].get_paths()[0].vertices[:, 1]
        assert ys.min() == pytest.approx(first[f"lower_{level}"].min())
        assert ys.max() == pytest.approx(first[f"upper_{level}"].max())


def test_forecasts_fold_origins_are_dashed_verticals_at_the_last_observed_time(tmp_path):
    fig, _, _ = forecasts_figure(tmp_path, n=40, folds=2, test_size=7)
    (ax,) = visible_axes(fig)
    origins = origin_lines(ax)
    # fold 0 tests t = 26..32, fold 1 t = 33..39: forecasts are made at t = 25 and t = 32
    assert [ln.get_xdata()[0] for ln in origins] == [25, 32]
    assert all(ln.get_xdata()[0] == ln.get_xdata()[1] for ln in origins)  # vertical


@pytest.mark.parametrize("dates", [True, False], ids=["datetime", "integer"])
def test_forecasts_date_axes_use_concise_date_formatting(tmp_path, dates):
    fig, _, _ = forecasts_figure(tmp_path, ids=("a", "b", "c"), dates=dates)
    for ax in visible_axes(fig):
        formatter = ax.xaxis.get_major_formatter()
        assert isinstance(formatter, ConciseDateFormatter) == dates


def test_forecasts_skip_models_that_did_not_run(tmp_path):
    fig, _, _ = forecasts_figure(tmp_path, folds=1, test_size=5, intervals=True,
                                 models=["gru", "not_run"], level=95, max_series=1)
    (ax,) = visible_axes(fig)
    assert [ln.get_color() for ln in forecast_lines(ax)] == ["C0"]  # gru only, first colour
    assert legend_labels(fig.legends[0]) == ["actual", "gru", "95% interval (model colour)",
                                             "fold origin"]


def test_forecasts_without_any_forecasts_show_the_actuals_and_say_so(tmp_path):
    history = make_history(["a"], 30, dates=True)
    fig = plotting.plot_forecasts(history, pd.DataFrame(), MODELS, tmp_path / "f.png", target="y")
    (ax,) = visible_axes(fig)
    (actual,) = ax.get_lines()
    assert actual.get_color() == "black"
    np.testing.assert_allclose(actual.get_ydata(), history["y"].to_numpy())  # the whole series
    assert texts(ax) == ["no test forecasts"]
    assert legend_labels(fig.legends[0]) == ["actual"]


def test_forecasts_name_a_missing_column(tmp_path):
    history = make_history(["a"], 30, dates=False).drop(columns="y")
    with pytest.raises(DataError, match="missing column.*y"):
        plotting.plot_forecasts(history, pd.DataFrame(), MODELS, tmp_path / "f.png", target="y")


# ---------------------------------------------------------------- plot_metric_bars
BOARD = [
    {"rank": 1, "model": "lstm", "n_params": 1234, "mase": 0.8},
    {"rank": 2, "model": REFERENCE, "n_params": 0, "mase": 1.0},
    {"rank": 3, "model": "naive", "n_params": None, "mase": 1.4},
    {"rank": 4, "model": "gru", "n_params": None, "mase": math.nan},
]


def bars_figure(tmp_path, board=BOARD, metric="mase"):
    """plot_metric_bars over the rows in a shuffled order; returns (figure, its axes)."""
    shuffled = random.Random(0).sample(board, len(board))  # the figure sorts, not the caller
    fig = plotting.plot_metric_bars(shuffled, metric, tmp_path / "bars.png")
    return fig, fig.axes[0]


def test_metric_bars_in_rank_order_with_the_metric_as_widths(tmp_path):
    fig, ax = bars_figure(tmp_path)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "1. lstm", f"2. {REFERENCE}", "3. naive", "4. gru"]
    assert [p.get_width() for p in ax.patches] == pytest.approx([0.8, 1.0, 1.4, 0.0])
    assert [p.get_y() + p.get_height() / 2 for p in ax.patches] == pytest.approx([0, 1, 2, 3])
    assert ax.yaxis_inverted()  # rank 1 at the top
    assert texts(ax)[:3] == ["0.800  ·  1,234 params", "1.000  ·  no weights",
                             "1.400  ·  no weights"]
    assert ax.get_xlabel() == "MASE (lower is better)"


def test_metric_bars_failed_model_is_grey_and_labelled_failed(tmp_path):
    fig, ax = bars_figure(tmp_path)
    failed = ax.patches[3]
    assert same_color(failed.get_facecolor(), "0.6")
    assert failed.get_width() == 0
    assert texts(ax)[3] == "failed"
    assert ax.texts[3].get_style() == "italic"
    assert "failed (no score)" in legend_labels(fig.legends[0])


def test_metric_bars_reference_coloured_differently_with_a_dashed_line_at_its_value(tmp_path):
    fig, ax = bars_figure(tmp_path)
    colours = [p.get_facecolor() for p in ax.patches]
    assert same_color(colours[1], "C1")  # the reference
    assert same_color(colours[0], "C0") and same_color(colours[2], "C0")
    (line,) = ax.get_lines()
    assert line.get_linestyle() == "--"
    assert same_color(line.get_color(), "C1")
    assert list(line.get_xdata()) == [1.0, 1.0]  # at seasonal naive's MASE
    assert legend_labels(fig.legends[0]) == ["model", f"{REFERENCE} (reference)",
                                             "reference level 1.000", "failed (no score)"]


def test_metric_bars_no_reference_line_when_the_reference_failed(tmp_path):
    board = [{**row, "mase": math.nan} if row["model"] == REFERENCE else row for row in BOARD]
    fig, ax = bars_figure(tmp_path, board)
    assert ax.get_lines() == []
    assert f"{REFERENCE} (reference)" not in legend_labels(fig.legends[0])


FAILED_ONLY = [{"rank": 1, "model": "lstm", "n_params": None, "mae": math.nan}]


@pytest.mark.parametrize("board", [FAILED_ONLY, []], ids=["all-failed", "empty"])
def test_metric_bars_all_failed_or_empty(tmp_path, board):
    fig, ax = bars_figure(tmp_path, board, "mae")
    assert [p.get_width() for p in ax.patches] == [0.0] * len(board)
    assert texts(ax) == ["failed"] * len(board)
    assert ax.get_xlim() == (0.0, 1.45)  # a sensible axis with nothing to scale it by


# ---------------------------------------------------------------- plot_loss_curves
HISTORIES = {
    "lstm": [{"loss": [4.0, 2.0, 1.0], "val_loss": [5.0, 3.0, 2.5]},
             {"loss": [3.0, 1.5], "val_loss": []}],  # a later fold, without validation
    "naive": [{"loss": [], "val_loss": []}],  # a baseline: nothing to draw, takes no colour
    "gru": [{"loss": [1.0, 0.8, 0.7, 0.6], "val_loss": [1.2, 1.1, 1.0, 1.0]}],
}


@pytest.mark.parametrize(("losses", "scale"), [
    ([10.0, 1.0, 0.001], "log"),  # four decades
    ([100.0, 1.0, 0.9], "log"),  # just over two
    ([100.0, 10.0, 1.0], "linear"),  # exactly two
    ([10.0, 0.2], "linear"),
    ([100.0, 0.0], "linear"),  # zero cannot go on a log axis
], ids=["4-decades", "over-2", "exactly-2", "under-2", "zero"])
def test_loss_curves_log_scale_exactly_when_losses_span_over_two_decades(tmp_path, losses, scale):
    fig = plotting.plot_loss_curves({"lstm": [{"loss": losses}]}, tmp_path / "loss.png")
    assert fig.axes[0].get_yscale() == scale


def test_loss_curves_validation_counts_towards_the_span(tmp_path):
    fig = plotting.plot_loss_curves({"lstm": [{"loss": [1.0, 0.5], "val_loss": [500.0, 400.0]}]},
                                    tmp_path / "loss.png")
    assert fig.axes[0].get_yscale() == "log"


def test_loss_curves_solid_training_and_dashed_validation_per_model_and_fold(tmp_path):
    fig = plotting.plot_loss_curves(HISTORIES, tmp_path / "loss.png")
    lines = fig.axes[0].get_lines()
    drawn = [(ln.get_color(), ln.get_linestyle(), list(ln.get_xdata()), list(ln.get_ydata()))
             for ln in lines]
    assert drawn == [
        ("C0", "-", [1, 2, 3], [4.0, 2.0, 1.0]),  # lstm fold 0 training
        ("C0", "--", [1, 2, 3], [5.0, 3.0, 2.5]),  # lstm fold 0 validation
        ("C0", "-", [1, 2], [3.0, 1.5]),  # lstm fold 1: training only
        ("C1", "-", [1, 2, 3, 4], [1.0, 0.8, 0.7, 0.6]),  # gru: the next colour, not naive's
        ("C1", "--", [1, 2, 3, 4], [1.2, 1.1, 1.0, 1.0]),
    ]
    assert fig.axes[0].get_yscale() == "linear"  # 5.0 / 0.6 is under a decade


def test_loss_curves_first_fold_thick_later_folds_thin(tmp_path):
    fig = plotting.plot_loss_curves(HISTORIES, tmp_path / "loss.png")
    first, first_val, later, *_ = fig.axes[0].get_lines()
    assert first.get_linewidth() == first_val.get_linewidth() > later.get_linewidth()
    assert later.get_alpha() < first.get_alpha()
    assert "thick: first fold" in fig.axes[0].get_title()


def test_loss_curves_single_fold_title_does_not_mention_folds(tmp_path):
    fig = plotting.plot_loss_curves({"gru": HISTORIES["gru"]}, tmp_path / "loss.png")
    assert fig.axes[0].get_title() == "Training curves"


def test_loss_curves_legend_names_each_model_then_the_line_styles(tmp_path):
    fig = plotting.plot_loss_curves(HISTORIES, tmp_path / "loss.png")
    legend = fig.axes[0].get_legend()
    assert legend_labels(legend) == ["lstm", "gru", "training", "validation"]
    assert [h.get_linestyle() for h in legend.legend_handles][2:] == ["-", "--"]


@pytest.mark.parametrize("histories", [{}, {"naive": [{"loss": [], "val_loss": []}]}],
                         ids=["empty", "baselines-only"])
def test_loss_curves_nothing_trained_shows_a_message(tmp_path, histories):
    fig = plotting.plot_loss_curves(histories, tmp_path / "loss.png")
    ax = fig.axes[0]
    assert ax.get_lines() == []
    assert texts(ax) == ["no neural models: nothing was trained"]
    assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
    assert ax.get_legend() is None


def test_spans_decades():
    assert plotting._spans_decades([100.0, 0.5], 2)
    assert not plotting._spans_decades([1.0, 0.5], 2)
    assert not plotting._spans_decades([100.0, 0.0], 2)  # zero cannot go on a log axis
    assert not plotting._spans_decades([math.nan, 1.0], 2)  # fewer than two finite values
    assert not plotting._spans_decades([], 2)
