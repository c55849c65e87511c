"""Rolling windows over one series or a panel: ``lookback`` inputs, ``horizon`` targets.

A window with forecast origin ``t`` takes inputs from rows ``[t - lookback, t)`` (every
feature: target and covariates, aligned) and targets from rows ``[t, t + horizon)`` (the
target column). Windows are NumPy views (``sliding_window_view``): no copy, no
per-window Python loop. A window never crosses a series boundary because series are
windowed one at a time and only then stacked.

Strides are anchored at the end, so the most recent window is always included.
Example: ``n = 10``, ``lookback = 3``, ``horizon = 2``, ``stride = 2`` and targets allowed
in rows ``[0, 10)``. Origins are 8, 6, 4 (not 2: fewer than 3 rows before it), so::

    window 0: inputs rows 1, 2, 3   targets rows 4, 5
    window 1: inputs rows 3, 4, 5   targets rows 6, 7
    window 2: inputs rows 5, 6, 7   targets rows 8, 9

>>> import numpy as np
>>> x, y = windows(np.arange(10.0)[:, None], lookback=3, horizon=2, stride=2)
>>> x[:, :, 0].tolist(), y.tolist()
([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0], [5.0, 6.0, 7.0]], [[4.0, 5.0], [6.0, 7.0], [8.0, 9.0]])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def origins(n: int, *, lookback: int, horizon: int, stride: int = 1,
            targets: tuple[int, int] | None = None) -> np.ndarray:
    """Forecast origins of the windows whose targets lie inside ``targets`` (default all rows).

    >>> origins(10, lookback=3, horizon=2, stride=2).tolist()
    [4, 6, 8]
    """
    lo, hi = targets if targets is not None else (0, n)
    first, last = max(lo, lookback), min(hi, n) - horizon
    if last < first:
        return np.empty(0, dtype=np.int64)
    start = first + (last - first) % stride
    return np.arange(start, last + 1, stride, dtype=np.int64)


def windows(values: np.ndarray, *, lookback: int, horizon: int, stride: int = 1,
            targets: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Input and target windows of one series, as views of ``values``.

    Args:
        values: ``(n, n_features)`` array; column 0 is the target.
        lookback: Rows of input per window.
        horizon: Target steps per window.
        stride: Rows between consecutive origins (anchored at the last window).
        targets: Half-open row range the targets must fall in (inputs may reach back
            before it, never after it).

    Returns:
        ``x`` of shape ``(n_windows, lookback, n_features)`` and ``y`` of shape
        ``(n_windows, horizon)``.
    """
    t = origins(len(values), lookback=lookback, horizon=horizon, stride=stride, targets=targets)
    n_features = values.shape[1]
    if len(t) == 0:
        return np.empty((0, lookback, n_features)), np.empty((0, horizon))
    view = sliding_window_view(values, lookback + horizon, axis=0)  # (n - L - h + 1, f, L + h)
    picked = view[t[0] - lookback: t[-1] - lookback + 1: stride]  # (n_windows, f, L + h)
    x = picked[:, :, :lookback].transpose(0, 2, 1)  # (n_windows, lookback, n_features)
    y = picked[:, 0, lookback:]  # (n_windows, horizon)
    return x, y


def sequence_targets(target: np.ndarray, *, lookback: int, horizon: int, stride: int = 1,
                     targets: tuple[int, int] | None = None) -> np.ndarray:
    """Many-to-many targets: for every input step ``j`` of a window, the next ``horizon`` values.

    For the window with origin ``t``, row ``j`` holds ``target[t - lookback + j + 1 :
    t - lookback + j + 1 + horizon]``; its last row equals the window's ordinary target.

    Returns:
        ``(n_windows, lookback, horizon)`` view of ``target`` (1-D).
    """
    t = origins(len(target), lookback=lookback, horizon=horizon, stride=stride, targets=targets)
    if len(t) == 0:
        return np.empty((0, lookback, horizon))
    ahead = sliding_window_view(target, horizon)  # (n - h + 1, h): row i = target[i:i+h]
    seq = sliding_window_view(ahead, lookback, axis=0)  # (n - h - L + 2, h, L)
    picked = seq[t[0] - lookback + 1: t[-1] - lookback + 2: stride]  # (n_windows, h, L)
    return picked.transpose(0, 2, 1)  # (n_windows, lookback, horizon)


def last_windows(values: np.ndarray, *, lookback: int, stop: int | None = None) -> np.ndarray:
    """The input window ending just before ``stop`` (default: the end): ``(1, lookback, f)``."""
    stop = len(values) if stop is None else stop
    return values[stop - lookback: stop][None, :, :]  # (1, lookback, n_features)


def stack(parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack per-series ``(x, y)`` windows into one training set.

    Returns:
        ``x``, ``y`` and ``series`` (the index of the series each window came from).
    """
    xs = [x for x, _ in parts]
    ys = [y for _, y in parts]
    series = np.concatenate([np.full(len(x), i, dtype=np.int64) for i, x in enumerate(xs)])
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.float32), series
