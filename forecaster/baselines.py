"""Baseline forecasters with no weights: naive, seasonal naive, drift and mean.

Each takes the history before the forecast origin (1-D) and returns ``horizon``
values. They never import TensorFlow, so a comparison of baselines alone is fast.

>>> import numpy as np
>>> forecast("seasonal_naive", np.array([1.0, 2.0, 3.0, 4.0]), horizon=3, season=2)
array([3., 4., 3.])
>>> forecast("drift", np.array([1.0, 2.0, 3.0]), horizon=2, season=1)
array([4., 5.])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from forecaster.models import BASELINES, check_name


def naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Repeat the last observed value."""
    return np.full(horizon, history[-1], dtype=float)


def seasonal_naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Repeat the last full season; plain naive when the history is shorter than a season."""
    if season <= 1 or len(history) < season:
        return naive(history, horizon, season)
    last = history[-season:]
    return np.resize(last, horizon).astype(float)


def drift(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Extend the line through the first and last observations."""
    if len(history) < 2:
        return naive(history, horizon, season)
    slope = (history[-1] - history[0]) / (len(history) - 1)
    return history[-1] + slope * np.arange(1, horizon + 1, dtype=float)


def mean(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The mean of the history."""
    return np.full(horizon, float(np.mean(history)))


FUNCTIONS: dict[str, Callable[[np.ndarray, int, int], np.ndarray]] = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "drift": drift,
    "mean": mean,
}
assert tuple(FUNCTIONS) == BASELINES


def forecast(name: str, history: np.ndarray, *, horizon: int, season: int) -> np.ndarray:
    """Forecast ``horizon`` steps after ``history`` with baseline ``name``."""
    return FUNCTIONS[check_name(name)](np.asarray(history, dtype=float), horizon, season)
