"""The statistical half of :class:`~forecaster.forecaster.Forecaster`: one local model per series.

Kept apart as :mod:`forecaster._neural` is. Each series gets its own fit on its training
rows (:func:`fit`), and a forecast from any origin runs that fit forward from the series'
first training row (:func:`forecast_at`), found by its timestamp so that data read again
later (``predict``) lines up with the rows the model was fit on. These functions take and
return plain values; the Forecaster keeps what they return.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from forecaster import statistical
from forecaster.errors import DataError, ForecasterError


def fit(name: str, panel, splits, *, season: int, options: dict) -> list[statistical.Fitted]:
    """Model ``name`` fit on the training rows of each series of ``panel``."""
    calls = [functools.partial(statistical.fit, name, s.values[sp.train[0]:sp.train[1], 0],
                               season=season, params=options)
             for s, sp in zip(panel.series, splits)]
    return fit_all(calls)


def fit_all(calls: list[Callable[[], statistical.Fitted]]) -> list[statistical.Fitted]:
    """Run per-series fits, each a pure call taking no arguments, and return their results in order.

    The one place a panel's local fits run: a scheduler that spreads them over workers
    replaces this function's body, not its callers.

    >>> calls = [functools.partial(statistical.fit, "naive2", np.arange(1.0, 9.0), season=1)] * 2
    >>> [f.spec for f in fit_all(calls)]
    ['Naive2(not seasonal)', 'Naive2(not seasonal)']
    """
    return [call() for call in calls]


def forecast_at(fits: list, first_times: list, index: dict[str, int], panel, origins,
                horizon: int, *, calibration: bool = False) -> list[np.ndarray]:
    """``(len(origins[i]), horizon)`` forecasts per series of ``panel``.

    Args:
        fits: One fit per training series; ``index`` maps a series id to its position.
        first_times: Each training series' first training timestamp (None: row 0).
        panel: The data to forecast from; its series may start before the training rows.
        origins: Per series, the rows each forecast starts at (it sees the rows before).
        horizon: Steps per forecast.
        calibration: Origins may lie inside the training rows (in-sample forecasts), MSTL
            reuses its training decomposition, and an origin the model cannot forecast
            from (too early) gives a row of NaN.
    """
    out = []
    for s, o in zip(panel.series, origins):
        i = index[s.id]
        start, fitted, y = _row_of(s, first_times[i], fits[i].name), fits[i], s.values[:, 0]
        rows = [_forecast(fitted, y[start:t], horizon, calibration) for t in o]
        out.append(np.stack(rows) if rows else np.empty((0, horizon)))
    return out


def _forecast(fitted, history: np.ndarray, horizon: int, calibration: bool) -> np.ndarray:
    if not calibration:
        return fitted.forecast(history, horizon)
    try:
        return fitted.forecast(history, horizon, in_sample=True, fast=True)
    except (ForecasterError, ValueError, ArithmeticError, IndexError, RuntimeError):
        return np.full(horizon, np.nan)  # e.g. statsforecast's theta on a handful of rows


def _row_of(series, timestamp: str | None, model: str) -> int:
    """The row of ``series`` at ``timestamp`` (a series' first training row), 0 when unknown."""
    if timestamp is None or str(series.time[0]) == timestamp:
        return 0
    hits = np.flatnonzero(series.time.map(str) == timestamp)  # as the fit wrote it: str(time)
    if len(hits) == 0:
        raise DataError(f"Series '{series.id}' does not reach back to {timestamp}, the first row "
                        f"{model} was fit on: a statistical model runs forward from that row. "
                        f"Pass data from {timestamp} on.")
    return int(hits[0])
