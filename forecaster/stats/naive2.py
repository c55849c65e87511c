"""Naive2, exactly as the M4 competition defines it (``Benchmarks and Evaluation.R``).

1. Seasonality test at 90%: the series is seasonal when ``|r_m|`` exceeds
   ``1.645 * sqrt((1 + 2 * sum_{k<m} r_k**2) / n)``, ``r_k`` being the lag-k autocorrelation.
   As in M4's R code it is only run when ``m > 1`` and ``n >= 3m``, and only when lag ``m``
   lies within R's default ``acf`` range, ``floor(10 * log10(n))`` lags; outside it R's
   ``xacf[ppy]`` is NA and the series counts as not seasonal. (That is why M4's weekly and
   hourly-168 Naive2 is plain Naive: m = 52 needs n >= 10**5.2 observations.)
2. When seasonal, a classical multiplicative decomposition (R's ``decompose``): a centred
   moving average of order m (2 x m when m is even) as trend, the mean ratio to it per
   position in the cycle as seasonal index, normalised to average 1.
3. The naive forecast of the seasonally adjusted series, reseasonalised.

The indices are estimated once, on the training rows; a forecast from a later origin
divides the last observed value by its index and multiplies by the indices ahead. Series
with a value <= 0 cannot be divided by a multiplicative index, so for them the
decomposition is additive (a forecaster choice, named in the spec; M4's data are positive).

>>> import numpy as np
>>> y = np.tile([10.0, 20.0, 30.0, 20.0], 6)  # level 20, indices 0.5, 1, 1.5, 1
>>> state = fit_state(y, 4)
>>> state
{'m': 4, 'seasonal': 'multiplicative', 'indices': [0.5, 1.0, 1.5, 1.0]}
>>> forecast(state, np.append(y, 50.0), 3)  # a later origin: 50 at index 0.5 is level 100
array([100., 150., 100.])
"""

from __future__ import annotations

import math

import numpy as np

Z_90 = 1.645  # one-sided 95% normal quantile: M4's "90%" two-sided test


def acf(y: np.ndarray, nlags: int) -> np.ndarray:
    """Autocorrelations at lags 1..nlags, as R's ``acf`` (biased, mean-centred).

    >>> acf(np.array([1.0, 2.0, 3.0, 4.0]), 2).round(3)
    array([ 0.25, -0.3 ])
    """
    x = np.asarray(y, dtype=float) - np.mean(y)
    denom = float(x @ x)
    if denom == 0.0:
        return np.full(nlags, np.nan)
    return np.array([x[: len(x) - k] @ x[k:] / denom for k in range(1, nlags + 1)])


def seasonality_test(y: np.ndarray, m: int) -> bool:
    """M4's 90% autocorrelation test for seasonality at period ``m``.

    >>> t = np.arange(48)
    >>> seasonality_test(10 + np.sin(2 * np.pi * t / 12), 12), seasonality_test(t * 1.0, 12)
    (True, False)
    """
    n = len(y)
    if m <= 1 or n < 3 * m or m > min(math.floor(10 * math.log10(n)), n - 1):
        return False
    r = acf(y, m)
    if np.isnan(r).any():  # a constant series
        return False
    return bool(abs(r[-1]) > Z_90 * math.sqrt((1 + 2 * np.sum(r[:-1] ** 2)) / n))


def seasonal_indices(y: np.ndarray, m: int, kind: str = "multiplicative") -> np.ndarray:
    """Classical decomposition's seasonal figure (R's ``decompose``), by position from y[0].

    Args:
        y: The series (1-D), at least two cycles long.
        m: The period.
        kind: "multiplicative" (indices average 1) or "additive" (average 0).

    Returns:
        ``m`` indices; index ``t % m`` belongs to observation ``t``.

    >>> seasonal_indices(np.tile([1.0, 3.0], 4), 2)
    array([0.5, 1.5])
    """
    n = len(y)
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    half = len(weights) // 2
    trend = np.full(n, np.nan)
    trend[half:n - half] = np.convolve(y, weights, mode="valid")  # symmetric: no flip needed
    detrended = np.full(-(-n // m) * m, np.nan)  # padded to whole cycles
    detrended[:n] = y / trend if kind == "multiplicative" else y - trend
    figure = np.nanmean(detrended.reshape(-1, m), axis=0)  # (m,)
    return figure / figure.mean() if kind == "multiplicative" else figure - figure.mean()


def fit_state(y: np.ndarray, m: int) -> dict:
    """The test's verdict and, when seasonal, the indices: Naive2's whole state (plain JSON)."""
    if not seasonality_test(y, m):
        return {"m": int(m), "seasonal": None, "indices": []}
    kind = "multiplicative" if np.min(y) > 0 else "additive"
    return {"m": int(m), "seasonal": kind, "indices": seasonal_indices(y, m, kind).tolist()}


def spec(state: dict) -> str:
    """A one-line description, e.g. ``Naive2(seasonal, m=12)`` or ``Naive2(not seasonal)``."""
    if state["seasonal"] is None:
        return "Naive2(not seasonal)"
    extra = "" if state["seasonal"] == "multiplicative" else ", additive: values <= 0"
    return f"Naive2(seasonal, m={state['m']}{extra})"


def forecast(state: dict, history: np.ndarray, horizon: int) -> np.ndarray:
    """The last value, seasonally adjusted with the stored indices, reseasonalised ahead."""
    if state["seasonal"] is None:
        return np.full(horizon, float(history[-1]))
    m, idx = state["m"], np.asarray(state["indices"], dtype=float)
    n = len(history)
    ahead = idx[(n + np.arange(horizon)) % m]  # (horizon,)
    if state["seasonal"] == "multiplicative":
        return history[-1] / idx[(n - 1) % m] * ahead
    return history[-1] - idx[(n - 1) % m] + ahead
