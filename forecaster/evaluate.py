"""Scoring a saved run on data that arrived after it was fit, without refitting; anomaly flags.

:func:`evaluate` forecasts from rolling origins over the part of a newer file past the run's
training end: the first origin is the first row after each series' last training timestamp,
the next ``stride`` rows later (default: the horizon, so that each new actual is forecast
once), up to the last actual. Nothing is refit and nothing is fit on the actuals being
scored. Each forecast window is scored as ``compare`` scores a fold: the M4 metrics, MASE
scaled by the series' history before the window's origin, averaged over windows; seasonal
naive is scored on the same windows (``skill``, in percent of its MASE). The intervals are
the run's conformal ones exactly as ``predict`` draws them: the calibrated quantile times the
series' local scale at the origin; their coverage is measured per level.

An actual outside its ``level`` interval is an anomaly. Its ``score`` is the residual over
the interval's half-width (beyond +-1 is outside; a zero-width interval gives +-inf) and its
``direction`` is ``"above"`` or ``"below"``.

Series not seen in training are forecast by a global model (baselines, neural models) from
their own history, with a notice; their origins start after the run's latest training
timestamp. A model fit per series refuses them.

Example:
    >>> import numpy as np, pandas as pd
    >>> from forecaster.data import from_frame
    >>> from forecaster.forecaster import Forecaster
    >>> y = 50 + np.random.default_rng(1).normal(0, 1, 260)
    >>> y[210] += 12                                   # a spike after the training end (row 199)
    >>> frame = pd.DataFrame({"ds": np.arange(260), "y": y})
    >>> run = Forecaster("mean", horizon=6, lookback=48, val_size=120, levels=(80, 99))
    >>> run = run.fit(from_frame(frame[:200]), test_size=0)
    >>> result = evaluate(run, from_frame(frame))    # origins 200, 206, ..., 254
    >>> result.summary["n_origins"], result.summary["n_points"], result.summary["level"]
    (10, 60, 99)
    >>> result.anomalies[["cutoff", "timestamp", "step", "direction"]].to_dict("records")
    [{'cutoff': 205, 'timestamp': 210, 'step': 5, 'direction': 'above'}]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecaster import baselines, metrics
from forecaster._json import plain
from forecaster.data import Panel
from forecaster.errors import ConfigError
from forecaster.forecaster import Forecaster
from forecaster.jobs import interval_stats
from forecaster.models import REFERENCE
from forecaster.newdata import check_schema, new_rows, show_time, training_end, unseen_notices
from forecaster.params import check_int

#: The forecast frame's leading columns (then lower_L/upper_L per level, and the flags).
COLUMNS: tuple[str, ...] = ("id", "cutoff", "timestamp", "step", "y", "forecast")
FLAGS: tuple[str, ...] = ("anomaly", "score", "direction")


@dataclass
class Evaluation:
    """What :func:`evaluate` returns: plain data for tables, JSON, files and plots.

    Attributes:
        summary: One leaderboard-like row: ``model, n_params, n_series, n_origins, n_points``,
            the metrics (averaged over forecast windows), ``skill`` (percent MASE reduction
            against seasonal naive on the same windows), ``coverage`` and ``interval_width`` at
            ``level``, ``level``, ``n_anomalies`` and ``coverage_L`` per calibrated level.
        series: Per series: ``id, seen`` (in training), ``n_origins, n_points``, the metrics,
            ``coverage`` (at ``level``) and ``n_anomalies``.
        forecasts: One row per forecast step that has an actual: :data:`COLUMNS` (``cutoff``
            is the last timestamp the forecast saw), ``lower_L``/``upper_L`` per level, then
            :data:`FLAGS`.
        reference: Seasonal naive's metrics on the same windows.
        settings: ``run, source, model, horizon, lookback, season, stride, level, levels,
            training_end, last_timestamp``.
        notices: Sentences for the user (series not seen in training, series left out).
        panel: The data evaluated (plots draw its history).
    """

    summary: dict
    series: list[dict]
    forecasts: pd.DataFrame = field(repr=False)
    reference: dict
    settings: dict
    notices: list[str]
    panel: Panel = field(repr=False)

    @property
    def anomalies(self) -> pd.DataFrame:
        """The rows of :attr:`forecasts` flagged as anomalies."""
        return self.forecasts[self.forecasts["anomaly"]].reset_index(drop=True)

    def to_json(self, *, anomalies_only: bool = False) -> dict:
        """Stable JSON data: ``summary, series, seasonal_naive, anomalies, settings, notices``."""
        anomalies = records(self.anomalies)
        if anomalies_only:
            return {"anomalies": anomalies, "level": self.settings["level"]}
        return plain({"summary": self.summary, "series": self.series,
                      "seasonal_naive": self.reference, "anomalies": anomalies,
                      "settings": self.settings, "notices": self.notices})


def evaluate(forecaster: Forecaster, panel: Panel, *, stride: int | None = None,
             level: int | None = None) -> Evaluation:
    """Score a fitted Forecaster on the rows of ``panel`` past its training end, without refitting.

    Args:
        forecaster: A fitted (or loaded) Forecaster.
        panel: Newer data with the run's schema: each series' history followed by new rows.
        stride: Rows between forecast origins (default: the horizon).
        level: The interval level that flags anomalies (default: the widest calibrated one).

    Returns:
        An :class:`Evaluation`.

    Raises:
        DataError: ``panel`` does not match the run, holds nothing after its training end,
            has too little history before the first origin, or holds a series a per-series
            model was not fit on.
        ConfigError: ``stride`` or ``level`` is invalid.
    """
    f = forecaster
    f._check_fitted()
    check_schema(f, panel)
    stride = f.horizon_ if stride is None else stride
    check_int("stride", stride, 1)
    level = _flag_level(f, level)
    notices = unseen_notices(f, panel)
    panel, starts, more = new_rows(f, panel)
    origins = [np.arange(start, n, stride) for start, n in zip(starts, panel.lengths)]
    preds = f.forecast_at(panel, origins)
    index, frames, windows, series = f._index(), [], [], []
    for s, o, p, b in zip(panel.series, origins, preds, f.bounds_at(panel, origins, preds)):
        frames.append(flag(_frame(s, o, p, b), level))
        windows.append(_windows(f, s, o, p))
        series.append(_series_row(s.id, s.id in index, windows[-1], frames[-1], level))
    forecasts = pd.concat(frames, ignore_index=True)
    windows = [w for per_series in windows for w in per_series]
    if level is None:
        more.append("The run has no calibrated intervals (it was fit with --val-size 0): "
                    "no coverage and no anomaly flags.")
    reference = metrics.panel_mean([w["reference"] for w in windows])
    summary = _summary(f, series, windows, forecasts, reference, level)
    settings = {"run": None, "source": panel.source, "model": f.model, "horizon": f.horizon_,
                "lookback": f.lookback_, "season": f.season_, "stride": stride, "level": level,
                "levels": list(f.levels_) if f.calibration_ else [],
                "training_end": training_end(f),
                "last_timestamp": show_time(forecasts["timestamp"].max())}
    return Evaluation(summary, series, forecasts, reference, settings, notices + more, panel)


def flag(frame: pd.DataFrame, level: int | None) -> pd.DataFrame:
    """``frame`` with :data:`FLAGS` from its ``lower_L``/``upper_L`` columns at ``level``.

    >>> frame = pd.DataFrame({"y": [5.0, 9.0, 0.0], "forecast": [5.0, 5.0, 5.0],
    ...                       "lower_95": [3.0, 3.0, 3.0], "upper_95": [7.0, 7.0, 7.0]})
    >>> flag(frame, 95)[["anomaly", "score", "direction"]].to_dict("list")
    {'anomaly': [False, True, True], 'score': [0.0, 2.0, -2.5], 'direction': [None, 'above', 'below']}
    """
    out = frame.copy()
    if level is None:
        return out.assign(anomaly=False, score=np.nan, direction=None)
    y, lo, hi = (out[c].to_numpy(float) for c in ("y", f"lower_{level}", f"upper_{level}"))
    resid, half = y - out["forecast"].to_numpy(float), (hi - lo) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(half > 0, resid / half, np.sign(resid) * np.inf)  # 0 * inf: nan
    above, below = y > hi, y < lo
    out["anomaly"] = above | below
    out["score"] = np.where(resid == 0, 0.0, score)
    out["direction"] = np.where(above, "above", np.where(below, "below", None))
    return out


# ------------------------------------------------------------------- checks
def _flag_level(f: Forecaster, level: int | None) -> int | None:
    if f.calibration_ is None:
        if level is not None:
            raise ConfigError(f"--level {level}: the run has no calibrated intervals (it was fit "
                              "with --val-size 0); refit with validation rows for intervals.")
        return None
    if level is None:
        return max(f.levels_)
    if level not in f.levels_:
        raise ConfigError(f"--level {level} was not calibrated for this run; its levels are "
                          f"{', '.join(map(str, f.levels_))}. Pass one of them, or refit with "
                          f"--level {level}.")
    return int(level)


# ------------------------------------------------------------------ scoring
def _frame(s, origins: np.ndarray, pred: np.ndarray, bounds: dict) -> pd.DataFrame:
    """One row per forecast step that has an actual, in (origin, step) order."""
    horizon = pred.shape[1]
    steps = origins[:, None] + np.arange(horizon)  # (n_origins, horizon) row numbers
    seen = steps < len(s.time)
    rows = steps[seen]
    step = np.broadcast_to(np.arange(1, horizon + 1), steps.shape)  # (n_origins, horizon)
    block = {"id": s.id, "cutoff": np.repeat(s.time[origins - 1], seen.sum(axis=1)),
             "timestamp": s.time[rows], "step": step[seen], "y": s.values[rows, 0],
             "forecast": pred[seen]}
    block.update({key: value[seen] for key, value in bounds.items()})
    return pd.DataFrame(block)


def _windows(f: Forecaster, s, origins: np.ndarray, pred: np.ndarray) -> list[dict]:
    """The metrics of each forecast window, and seasonal naive's on the same window."""
    out = []
    for o, p in zip(origins, pred):
        history, y = s.values[:o, 0], s.values[o:o + f.horizon_, 0]
        naive = baselines.forecast(REFERENCE, history, horizon=f.horizon_, season=f.season_)
        out.append({"points": len(y),
                    "metrics": metrics.score(y, p[:len(y)], insample=history, season=f.season_),
                    "reference": metrics.score(y, naive[:len(y)], insample=history, season=f.season_)})
    return out


def _series_row(sid: str, seen: bool, windows: list[dict], frame: pd.DataFrame, level) -> dict:
    scores = metrics.panel_mean([w["metrics"] for w in windows])
    return {"id": sid, "seen": seen, "n_origins": len(windows),
            "n_points": sum(w["points"] for w in windows), **scores,
            "skill": _skill(scores, metrics.panel_mean([w["reference"] for w in windows])),
            "coverage": _coverage(frame, level), "n_anomalies": int(frame["anomaly"].sum())}


def _skill(scores: dict, reference: dict) -> float:
    """Percent MASE reduction against seasonal naive (compare's ``skill``), NaN when undefined."""
    ref = reference["mase"]
    return 100.0 * (1.0 - scores["mase"] / ref) if ref and math.isfinite(ref) else math.nan


def _summary(f: Forecaster, series, windows, forecasts, reference: dict, level) -> dict:
    scores = metrics.panel_mean([w["metrics"] for w in windows])
    stats = interval_stats(forecasts, [level] if level else [])
    row = {"model": f.model, "n_params": f.n_params_, "n_series": len(series),
           "n_origins": len(windows), "n_points": len(forecasts), **scores,
           "skill": _skill(scores, reference),
           "coverage": stats.get(f"coverage_{level}", math.nan),
           "interval_width": stats.get(f"interval_width_{level}", math.nan),
           "level": level, "n_anomalies": int(forecasts["anomaly"].sum())}
    levels = list(f.levels_) if f.calibration_ else []
    row.update({k: v for k, v in interval_stats(forecasts, levels).items() if k.startswith("coverage_")})
    return row


def _coverage(frame: pd.DataFrame, level) -> float:
    if level is None or frame.empty:
        return math.nan
    return interval_stats(frame, [level])[f"coverage_{level}"]


# ------------------------------------------------------------------ helpers
def records(frame: pd.DataFrame) -> list[dict]:
    """A frame as JSON records: ISO timestamps, null for NaN and infinities."""
    import json

    finite = frame.replace([np.inf, -np.inf], np.nan)
    return json.loads(finite.to_json(orient="records", date_format="iso"))
