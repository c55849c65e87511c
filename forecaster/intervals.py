"""Conformal prediction intervals, per horizon step, from residuals at many rolling origins.

Calibration residuals come from forecasts made at every origin of the last :data:`SPAN`
horizons before the end of the validation part (:func:`calibration_origins`), each seeing
only the rows before it, for every step whose actual lies before that end. Origins in the
validation part give *out-of-sample* residuals (the model was not fit on those rows);
earlier origins give more residuals, in-sample for a model fit on those rows. Split-conformal
on the validation origins alone leaves a short series a dozen residuals per step; three
choices (``benchmarks/coverage.py`` compares them with it; ``benchmarks/results/small.md``
gives the coverage they reach) make the intervals cover on real data:

1. **Normalized scores.** Each residual is divided by a local scale measured just before
   its origin (:func:`local_scale`: the mean absolute seasonal difference of the recent
   window), so the intervals widen where a series' swings grow.
2. **Recency weights.** A residual whose origin is ``a`` horizons before the end of
   validation weighs :data:`DECAY` ``** a``, and the interval for step ``k`` at level ``L``
   uses the weighted conformal quantile of step ``k``'s absolute scores (the newest point,
   the forecast itself, weighing 1: Barber et al.'s non-exchangeable conformal
   prediction). With equal weights this is split-conformal's
   ``ceil((n + 1) * L / 100)``-th smallest of ``n`` scores.
3. **Inflation by the recent out-of-sample errors.** The in-sample residuals of a fitted
   model are smaller than its errors on new data, and a series' errors drift. The
   quantiles are multiplied by ``max(1, r)``, ``r`` being the mean absolute score of the
   validation residuals over the weighted mean of the in-sample ones at the same steps.

A step with fewer than ``ceil(100 / (100 - L)) - 1`` residuals for level ``L`` (4 for 80%,
19 for 95%) borrows those of neighbouring steps, nearest first. Each series of a panel
gets its own calibration. The interval is ``forecast +- q_k * scale`` with ``scale`` the
local scale at the forecast's origin.

>>> import numpy as np
>>> r = np.arange(1.0, 11.0)[:, None]          # 10 residuals of a 1-step horizon
>>> calibrate(r, levels=(80,)).quantiles[80]
[9.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from forecaster.errors import ConfigError

DEFAULT_LEVELS: tuple[int, ...] = (80, 95)
#: Calibration origins cover the last SPAN horizons before the end of validation.
SPAN = 10
#: Weight of a residual per horizon of age of its origin (1: all weigh the same).
DECAY = 0.8


@dataclass(frozen=True)
class Calibration:
    """Per-step conformal quantiles of scaled absolute residuals (inflation included)."""

    levels: tuple[int, ...]
    quantiles: dict[int, list[float]]
    n: list[int]
    factor: float = 1.0

    def to_dict(self) -> dict:
        """Plain-JSON state (level keys as strings)."""
        return {"levels": list(self.levels), "n": self.n, "factor": self.factor,
                "quantiles": {str(k): v for k, v in self.quantiles.items()}}

    @classmethod
    def from_dict(cls, state: dict) -> Calibration:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(state["levels"]), {int(k): v for k, v in state["quantiles"].items()},
                   list(state["n"]), float(state.get("factor", 1.0)))

    def bounds(self, forecast: np.ndarray, scale: float) -> dict[str, np.ndarray]:
        """``lower_L`` / ``upper_L`` arrays around a ``(horizon,)`` forecast in data units."""
        out = {}
        for level in self.levels:
            width = np.asarray(self.quantiles[level]) * scale
            out[f"lower_{level}"] = forecast - width
            out[f"upper_{level}"] = forecast + width
        return out


def median_calibration(calibrations: list[Calibration]) -> Calibration:
    """The step-wise median of several series' calibrations: for a series seen in no fit.

    >>> a = Calibration((80,), {80: [1.0, 2.0]}, [9, 9])
    >>> b = Calibration((80,), {80: [3.0, 6.0]}, [5, 5], factor=2.0)
    >>> median_calibration([a, b]).quantiles[80], median_calibration([a, b]).n
    ([2.0, 4.0], [5, 5])
    """
    first = calibrations[0]
    quantiles = {level: np.median([c.quantiles[level] for c in calibrations], axis=0).tolist()
                 for level in first.levels}
    counts = np.min([c.n for c in calibrations], axis=0).astype(int).tolist()
    return Calibration(first.levels, quantiles, counts, float(np.median([c.factor for c in calibrations])))


def local_scale(y: np.ndarray, origins: np.ndarray, *, season: int, window: int,
                fallback: float) -> np.ndarray:
    """Mean absolute lag-``season`` difference over the ``window`` rows before each origin.

    Uses lag 1 when the series is not longer than a season, and ``fallback`` where the
    window holds no difference or only zero ones.

    >>> y = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    >>> local_scale(y, np.array([3, 5]), season=1, window=2, fallback=9.0).tolist()
    [1.5, 3.5]
    """
    y = np.asarray(y, dtype=float)
    m = season if 1 < season < len(y) else 1
    n_diffs = max(len(y) - m, 0)  # diffs[j] = |y[j + m] - y[j]|
    total = np.zeros(n_diffs + 1)  # total[j]: the sum of the first j diffs
    diffs = np.subtract(y[m:], y[:-m], out=total[1:])  # in place: one array of the series' length
    np.cumsum(np.abs(diffs, out=diffs), out=diffs)
    origins = np.asarray(origins, dtype=np.int64)
    start = np.maximum(m, origins - window)  # rows r in [start, t) contribute diffs[r - m]
    count = origins - start
    safe = np.maximum(count, 1)
    mean = (total[np.clip(origins - m, 0, n_diffs)] - total[np.clip(start - m, 0, n_diffs)]) / safe
    return np.where((count > 0) & (mean > 0), mean, fallback)


def calibration_origins(first: int, stop: int, horizon: int, span: int = SPAN) -> np.ndarray:
    """Every origin from ``first`` (or ``span`` horizons before ``stop``) to ``stop - 1``.

    >>> calibration_origins(5, 40, 3).tolist()[:3], calibration_origins(5, 40, 3).tolist()[-1]
    ([10, 11, 12], 39)
    """
    return np.arange(max(first, stop - span * horizon), stop, dtype=np.int64)


def recency_weights(origins: np.ndarray, stop: int, horizon: int, decay: float = DECAY) -> np.ndarray:
    """``decay ** ((stop - origin) / horizon)``: 1 at ``stop``, ``decay`` a horizon earlier.

    >>> recency_weights(np.array([4, 8]), 8, 4, 0.5).tolist()
    [0.5, 1.0]
    """
    return decay ** ((stop - np.asarray(origins, dtype=float)) / horizon)


def check_levels(levels) -> tuple[int, ...]:
    """Validate interval levels (whole percents strictly between 0 and 100).

    >>> check_levels([80, 95])
    (80, 95)
    >>> check_levels([50, 50])
    Traceback (most recent call last):
    ...
    forecaster.errors.ConfigError: --level 50 is given twice; pass each interval level once.
    """
    try:
        values = tuple(levels)
    except TypeError:
        raise ConfigError(f"levels must be a list of percents, got {levels!r}.") from None
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))
           or not math.isfinite(v) or v != int(v) or not 0 < v < 100]
    if bad:
        raise ConfigError(f"--level must be between 0 and 100 (percent), got {bad[0]}.")
    twice = [v for k, v in enumerate(values) if v in values[:k]]
    if twice:
        raise ConfigError(f"--level {twice[0]} is given twice; pass each interval level once.")
    return tuple(int(v) for v in values)


def calibrate(residuals: np.ndarray, *, levels=DEFAULT_LEVELS, weights=None, recent=None,
              history=None) -> Calibration:
    """Conformal quantiles from scaled residuals ``(n_origins, horizon)`` (NaN = not observed).

    Args:
        residuals: Scaled residuals, one row per origin, one column per step.
        levels: Interval levels in percent.
        weights: ``(n_origins,)`` weight of each origin's residuals (default: all 1).
        recent: ``(n_origins, horizon)`` True where a residual is out of sample (an origin
            in the validation part); with ``history``, sets the inflation factor.
        history: ``(n_origins, horizon)`` True where origin and actual lie in the rows the
            model was fit on.

    Returns:
        The :class:`Calibration`, its quantiles multiplied by the inflation factor.
    """
    levels = check_levels(levels)
    scores = np.abs(np.asarray(residuals, float))  # (n_origins, horizon)
    w = np.ones(len(scores)) if weights is None else np.asarray(weights, float)
    per_step = [(col[~np.isnan(col)], w[~np.isnan(col)]) for col in scores.T]
    factor = _inflation(scores, w, recent, history)
    quantiles = {level: [] for level in levels}
    counts = []
    for k in range(len(per_step)):
        values, weights_k = _pool(per_step, k, need=max(_needed(v) for v in levels))
        counts.append(len(values))
        for level in levels:
            quantiles[level].append(factor * _weighted_quantile(values, weights_k, level))
    return Calibration(levels, quantiles, counts, factor)


def _inflation(scores, w, recent, history) -> float:
    """``max(1, r)``: recent out-of-sample scores over the in-sample ones at the same steps."""
    if recent is None or history is None:
        return 1.0
    ok = ~np.isnan(scores)
    recent, history = recent & ok, history & ok
    num = den = 0.0
    for k in range(scores.shape[1]):
        n_recent, past = int(recent[:, k].sum()), history[:, k]
        if n_recent and w[past].sum() > 0:
            num += scores[recent[:, k], k].sum()
            den += n_recent * np.average(scores[past, k], weights=w[past])
    return float(max(1.0, num / den)) if den > 0 else 1.0


def _needed(level: int) -> int:
    return math.ceil(100 / (100 - level)) - 1


def _pool(per_step: list[tuple[np.ndarray, np.ndarray]], k: int, *, need: int):
    (values, weights), radius = per_step[k], 0
    while len(values) < need and radius < len(per_step):
        radius += 1
        near = [per_step[j] for j in (k - radius, k + radius) if 0 <= j < len(per_step)]
        values = np.concatenate([values, *(v for v, _ in near)])
        weights = np.concatenate([weights, *(u for _, u in near)])
    return values, weights


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, level: int) -> float:
    """The smallest value whose weight, with a weight-1 point at infinity added, reaches ``level``.

    >>> _weighted_quantile(np.arange(1.0, 11.0), np.ones(10), 80)
    9.0
    """
    if len(values) == 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    cumulative = np.cumsum(weights) / (weights.sum() + 1.0)
    at = int(np.searchsorted(cumulative, level / 100 - 1e-12))
    return float(values[min(at, len(values) - 1)])


def coverage(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actuals inside ``[lower, upper]``."""
    y = np.asarray(y)
    return float(np.mean((y >= lower) & (y <= upper)))
