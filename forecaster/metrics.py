"""Forecast accuracy metrics, defined exactly as the M4 competition does.

Every function takes the actual values ``y`` and the forecast ``f`` of one series over
the horizon (1-D arrays of equal length) and returns one float. For a panel, compute
per series and average over series (:func:`panel_mean`): that is what M4 reports.

A NaN or infinite value in ``y`` or ``f`` makes every metric NaN: a failed forecast never
scores (before, sMAPE counted a NaN forecast as a perfect one). Values near the float limit
do not overflow: errors are divided by the largest magnitude before they are summed or
squared and scaled back after, so RMSE of values near 1e300 is finite.

Zero denominators get a defined result instead of NaN noise:

- ``smape``: a step where ``|y| + |f| == 0`` (both zero: a perfect forecast) adds 0.
- ``mape``: steps with ``y == 0`` are left out; if every actual is 0 the result is NaN
  (percentage error is undefined there) and :func:`panel_mean` skips it.
- ``mase``: if the in-sample series is constant (scale 0) the result is 0 when the
  forecast is perfect and NaN otherwise; :func:`panel_mean` skips NaNs.

>>> round(smape([100.0, 200.0], [110.0, 180.0]), 4)
10.0251
>>> mase([3.0, 4.0], [3.0, 5.0], insample=[1.0, 2.0, 3.0], season=1)
0.5
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

ArrayLike = Sequence[float] | np.ndarray


def _pair(y: ArrayLike, f: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    f = np.asarray(f, dtype=float)
    if y.shape != f.shape:
        raise ValueError(f"actuals {y.shape} and forecasts {f.shape} differ in shape")
    return y, f


def _defined(*arrays: np.ndarray) -> bool:
    """False when any value is NaN or infinite: then every metric is NaN, never a score."""
    return all(bool(np.isfinite(a).all()) for a in arrays)


def _rescaled(limit: float, *arrays: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """``(m, arrays / m)`` when the largest magnitude ``m`` exceeds ``limit``, else ``(1, arrays)``.

    Differences, sums and squares of numbers near the float limit overflow; divided by their
    largest magnitude first, they stay finite, and the result is scaled back by ``m``.
    """
    m = max((max(float(np.max(a)), -float(np.min(a))) for a in arrays if a.size), default=0.0)  # no |a| copy
    if m <= limit:
        return 1.0, list(arrays)
    return m, [a / m for a in arrays]


def mae(y: ArrayLike, f: ArrayLike) -> float:
    """Mean absolute error.

    >>> mae([1e308, -1e308], [-1e308, 1e308]) == float("inf"), mae([1e300], [-1e300])
    (True, 2e+300)
    """
    y, f = _pair(y, f)
    if not _defined(y, f):
        return float("nan")
    m, (y, f) = _rescaled(1e300, y, f)
    return m * float(np.mean(np.abs(y - f)))


def rmse(y: ArrayLike, f: ArrayLike) -> float:
    """Root mean squared error, without overflow for any finite result.

    >>> rmse([1e300, 3e300], [0.0, 0.0])
    2.23606797749979e+300
    """
    y, f = _pair(y, f)
    if not _defined(y, f):
        return float("nan")
    m, (y, f) = _rescaled(1e150, y, f)  # squares of numbers above 1e154 overflow
    return m * float(np.sqrt(np.mean((y - f) ** 2)))


def mse(y: ArrayLike, f: ArrayLike) -> float:
    """Mean squared error (the ETTh1 literature's headline metric)."""
    y, f = _pair(y, f)
    if not _defined(y, f):
        return float("nan")
    return float(np.mean((y - f) ** 2))


def mape(y: ArrayLike, f: ArrayLike) -> float:
    """Mean absolute percentage error, 100/h * sum |y - f| / |y| over steps with y != 0."""
    y, f = _pair(y, f)
    if not _defined(y, f):
        return float("nan")
    keep = y != 0
    if not keep.any():
        return float("nan")
    _, (y, f) = _rescaled(1e300, y, f)  # a ratio: the scale cancels
    return float(100.0 * np.mean(np.abs(y[keep] - f[keep]) / np.abs(y[keep])))


def smape(y: ArrayLike, f: ArrayLike) -> float:
    """Symmetric MAPE as in M4: 200/h * sum |y - f| / (|y| + |f|).

    >>> smape([1.0, 2.0], [1.0, float("nan")])  # a NaN forecast is no perfect forecast
    nan
    """
    y, f = _pair(y, f)
    if not _defined(y, f):
        return float("nan")
    _, (y, f) = _rescaled(1e300, y, f)  # a ratio: the scale cancels
    denom = np.abs(y) + np.abs(f)
    ratio = np.divide(np.abs(y - f), denom, out=np.zeros_like(y), where=denom > 0)
    return float(200.0 * np.mean(ratio))


def mase_scale(insample: ArrayLike, season: int) -> float:
    """Mean absolute lag-``season`` difference of the in-sample data (MASE's denominator).

    Falls back to lag 1 when the in-sample part is not longer than one season.
    """
    x = np.asarray(insample, dtype=float)
    m = season if len(x) > season else 1
    if len(x) <= m or not _defined(x):
        return float("nan")
    k, (x,) = _rescaled(1e300, x)
    diffs = x[m:] - x[:-m]
    return k * float(np.mean(np.abs(diffs, out=diffs)))  # in place: one temporary, however long


def mase(y: ArrayLike, f: ArrayLike, *, insample: ArrayLike, season: int) -> float:
    """Mean absolute scaled error: MAE over the horizon / :func:`mase_scale` of ``insample``."""
    err = mae(y, f)
    scale = mase_scale(insample, season)
    if scale == 0:
        return 0.0 if err == 0 else float("nan")
    return float(err / scale)


def owa(smape_value: float, mase_value: float, *, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average relative to Naive2, from panel-averaged sMAPE and MASE.

    >>> owa(18.383, 2.395, smape_naive2=18.383, mase_naive2=2.395)
    1.0
    """
    return 0.5 * (smape_value / smape_naive2 + mase_value / mase_naive2)


POINT_METRICS: dict[str, Callable[[ArrayLike, ArrayLike], float]] = {
    "mae": mae,
    "rmse": rmse,
    "mape": mape,
    "smape": smape,
}
METRICS: tuple[str, ...] = ("mae", "rmse", "mape", "smape", "mase")


def score(y: ArrayLike, f: ArrayLike, *, insample: ArrayLike, season: int) -> dict[str, float]:
    """All of :data:`METRICS` for one series as a plain dict."""
    out = {name: fn(y, f) for name, fn in POINT_METRICS.items()}
    out["mase"] = mase(y, f, insample=insample, season=season)
    return out


def panel_mean(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """Average per-series metric dicts over series, skipping undefined (NaN) values.

    >>> panel_mean([{"mae": 1.0}, {"mae": 3.0}])
    {'mae': 2.0}
    """
    if not rows:
        return {}
    out = {}
    for key in rows[0]:
        vals = np.array([r[key] for r in rows], dtype=float)
        vals = vals[~np.isnan(vals)]
        out[key] = float(vals.mean()) if len(vals) else float("nan")
    return out
