"""Split-conformal prediction intervals, per horizon step, from held-out residuals.

Residuals come from forecasts made at origins inside the validation part: data the
model was not fit on (calibrating on training residuals gives over-confident
intervals). Each residual is divided by a local scale measured just before its origin
(:func:`local_scale`: the mean absolute seasonal difference of the recent window), a
normalized conformal score. One panel thus pools its series, and the intervals widen
where a series' swings grow (multiplicative seasonality). The interval for step ``k`` at
level ``L`` is ``forecast +- q_k * scale`` where ``q_k`` is the finite-sample conformal
quantile: the ``ceil((n + 1) * L / 100)``-th smallest of the ``n`` absolute scaled
residuals of step ``k``, and ``scale`` is the local scale at the forecast's origin.

A step needs at least ``ceil(100 / (100 - L)) - 1`` residuals for level ``L`` (4 for 80%,
19 for 95%). When it has fewer, residuals of neighbouring steps are pooled in, nearest
first, until there are enough (or all steps are pooled); the rank is then capped at
``n``. ``Calibration.n`` records how many residuals each step used.

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


@dataclass(frozen=True)
class Calibration:
    """Per-step conformal quantiles of scaled absolute residuals."""

    levels: tuple[int, ...]
    quantiles: dict[int, list[float]]
    n: list[int]

    def to_dict(self) -> dict:
        """Plain-JSON state (level keys as strings)."""
        return {"levels": list(self.levels), "n": self.n,
                "quantiles": {str(k): v for k, v in self.quantiles.items()}}

    @classmethod
    def from_dict(cls, state: dict) -> Calibration:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(state["levels"]), {int(k): v for k, v in state["quantiles"].items()},
                   list(state["n"]))

    def bounds(self, forecast: np.ndarray, scale: float) -> dict[str, np.ndarray]:
        """``lower_L`` / ``upper_L`` arrays around a ``(horizon,)`` forecast in data units."""
        out = {}
        for level in self.levels:
            width = np.asarray(self.quantiles[level]) * scale
            out[f"lower_{level}"] = forecast - width
            out[f"upper_{level}"] = forecast + width
        return out


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
    diffs = np.abs(y[m:] - y[:-m])  # diffs[j] = |y[j + m] - y[j]|
    total = np.concatenate([[0.0], np.cumsum(diffs)])
    origins = np.asarray(origins, dtype=np.int64)
    start = np.maximum(m, origins - window)  # rows r in [start, t) contribute diffs[r - m]
    count = origins - start
    safe = np.maximum(count, 1)
    mean = (total[np.clip(origins - m, 0, len(diffs))] - total[np.clip(start - m, 0, len(diffs))]) / safe
    return np.where((count > 0) & (mean > 0), mean, fallback)


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


def calibrate(residuals: np.ndarray, *, levels=DEFAULT_LEVELS) -> Calibration:
    """Conformal quantiles from scaled residuals ``(n_origins, horizon)`` (NaN = not observed)."""
    levels = check_levels(levels)
    per_step = [np.abs(col[~np.isnan(col)]) for col in np.asarray(residuals, float).T]
    quantiles = {level: [] for level in levels}
    counts = []
    for k in range(len(per_step)):
        pooled = _pool(per_step, k, need=max(_needed(v) for v in levels))
        counts.append(len(pooled))
        for level in levels:
            quantiles[level].append(_conformal_quantile(pooled, level))
    return Calibration(levels, quantiles, counts)


def _needed(level: int) -> int:
    return math.ceil(100 / (100 - level)) - 1


def _pool(per_step: list[np.ndarray], k: int, *, need: int) -> np.ndarray:
    pooled, radius = per_step[k], 0
    while len(pooled) < need and radius < len(per_step):
        radius += 1
        near = [per_step[j] for j in (k - radius, k + radius) if 0 <= j < len(per_step)]
        pooled = np.concatenate([pooled, *near])
    return pooled


def _conformal_quantile(values: np.ndarray, level: int) -> float:
    if len(values) == 0:
        return float("nan")
    rank = min(math.ceil((len(values) + 1) * level / 100), len(values))
    return float(np.sort(values)[rank - 1])


def coverage(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actuals inside ``[lower, upper]``."""
    y = np.asarray(y)
    return float(np.mean((y >= lower) & (y <= upper)))
