"""Rolling windows over one series or a panel: ``lookback`` inputs, ``horizon`` targets.

A window with forecast origin ``t`` takes inputs from rows ``[t - lookback, t)`` (every
feature: target and covariates, aligned) and targets from rows ``[t, t + horizon)`` (the
target column). Windows are NumPy views (``sliding_window_view``): no copy, no
per-window Python loop. A window never crosses a series boundary because series are
windowed one at a time and only then stacked.

For training, nothing per window is materialised: a :class:`WindowSet` holds every
series in one array and each window as the row of its origin, and gathers a batch of
windows on demand (memory: the data plus 4 bytes per window, 8 past ``2**31`` rows).

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
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def origins(n: int, *, lookback: int, horizon: int, stride: int = 1,
            targets: tuple[int, int] | None = None) -> np.ndarray:
    """Forecast origins of the windows whose targets lie inside ``targets`` (default all rows).

    >>> origins(10, lookback=3, horizon=2, stride=2).tolist()
    [4, 6, 8]
    """
    start, stop = _span(n, lookback=lookback, horizon=horizon, stride=stride, targets=targets)
    return np.arange(start, stop, stride, dtype=np.int64)


def _span(n: int, *, lookback: int, horizon: int, stride: int, targets: tuple[int, int] | None) -> tuple[int, int]:
    """The first origin and a stop past the last, as :func:`origins` steps them (empty: ``start >= stop``)."""
    lo, hi = targets if targets is not None else (0, n)
    first, last = max(lo, lookback), min(hi, n) - horizon
    if last < first:
        return 0, 0
    return first + (last - first) % stride, last + 1


def index_dtype(rows: int) -> type:
    """int32 for row numbers below ``2**31`` (half the memory of int64 per window), else int64.

    >>> index_dtype(10_000_000).__name__, index_dtype(2**31).__name__
    ('int32', 'int64')
    """
    return np.int32 if rows < 2**31 else np.int64


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


def positions(starts: Sequence[int], lengths: Sequence[int], ranges: Sequence[tuple[int, int]], *,
              lookback: int, horizon: int, stride: int = 1) -> np.ndarray:
    """Origins of the windows of many series laid one after another, as rows of the whole.

    Series ``i`` occupies rows ``[starts[i], starts[i] + lengths[i])``; its windows are
    those of :func:`origins` with targets inside ``ranges[i]``. The rows are numbered in
    :func:`index_dtype` (4 bytes per window below ``2**31`` rows).

    >>> positions([0, 10], [10, 6], [(0, 10), (0, 6)], lookback=3, horizon=2, stride=2).tolist()
    [4, 6, 8, 14]
    """
    dtype = index_dtype(int(starts[-1]) + lengths[-1] if len(starts) else 0)
    parts = []
    for start, n, r in zip(starts, lengths, ranges):
        a, b = _span(n, lookback=lookback, horizon=horizon, stride=stride, targets=r)
        parts.append(np.arange(start + a, start + b, stride, dtype=dtype))
    if len(parts) == 1:
        return parts[0]  # one series: no copy
    return np.concatenate(parts) if parts else np.empty(0, dtype)


@dataclass(frozen=True)
class WindowSet:
    """Windows of many series as origin rows into one array; batches are gathered on demand.

    ``data`` holds every series one after another (one row per time step, the target in
    column 0). Window ``k`` with origin ``o = origins[k]`` has inputs ``data[o - lookback :
    o + ahead]`` and targets ``data[o : o + horizon, 0]``. With ``ahead > 0`` (inputs known
    in advance, e.g. calendar features) the rows past the origin keep only their known
    columns: the first ``n_observed`` (the target and the past-only covariates) are zeroed
    there and one more column marks those rows with 1.

    Attributes:
        data: ``(rows, n_columns)`` array, usually float32.
        origins: ``(n_windows,)`` rows of ``data`` where each window's targets start (int32
            or int64, see :func:`index_dtype`).
        lookback: Observed input rows per window.
        horizon: Target steps per window.
        ahead: Rows of known inputs past the origin (0 or ``horizon``).
        n_observed: Leading columns not known past the origin.

    >>> data = np.arange(20.0).reshape(10, 2)          # one series: target 0, 2, 4, ...; origins 5, 8
    >>> ws = WindowSet(data, origins(10, lookback=3, horizon=2, stride=3), lookback=3, horizon=2)
    >>> len(ws), ws.inputs([0])[0, :, 0].tolist(), ws.targets([0]).tolist()
    (2, [4.0, 6.0, 8.0], [[10.0, 12.0]])
    >>> known = WindowSet(data, ws.origins, lookback=3, horizon=2, ahead=2)
    >>> known.inputs([0])[0].tolist()                  # target, covariate, "past the origin"
    [[4.0, 5.0, 0.0], [6.0, 7.0, 0.0], [8.0, 9.0, 0.0], [0.0, 11.0, 1.0], [0.0, 13.0, 1.0]]
    """

    data: np.ndarray
    origins: np.ndarray
    lookback: int
    horizon: int
    ahead: int = 0
    n_observed: int = 1

    def __len__(self) -> int:
        return len(self.origins)

    @property
    def n_inputs(self) -> int:
        """Columns of one input row: the data's, plus the past-the-origin marker."""
        return self.data.shape[1] + (1 if self.ahead else 0)

    def inputs(self, index) -> np.ndarray:
        """Input windows ``(len(index), lookback + ahead, n_inputs)``: a new array."""
        o = self.origins[np.asarray(index)]
        rows = o[:, None] + np.arange(-self.lookback, self.ahead)  # (batch, lookback + ahead)
        x = self.data[rows]  # (batch, lookback + ahead, n_columns)
        if not self.ahead:
            return x
        x[:, self.lookback:, :self.n_observed] = 0.0  # unknown past the origin
        marker = np.zeros(x.shape[:2] + (1,), dtype=x.dtype)  # (batch, lookback + ahead, 1)
        marker[:, self.lookback:] = 1.0
        return np.concatenate([x, marker], axis=2)

    def targets(self, index) -> np.ndarray:
        """Targets ``(len(index), horizon)``: a new array."""
        o = self.origins[np.asarray(index)]
        return self.data[o[:, None] + np.arange(self.horizon), 0]  # (batch, horizon)

    def sequence_targets(self, index) -> np.ndarray:
        """Many-to-many targets ``(len(index), lookback, horizon)``, as :func:`sequence_targets`."""
        o = self.origins[np.asarray(index)]
        steps = np.arange(self.lookback)[:, None] + np.arange(self.horizon)  # (lookback, horizon)
        return self.data[o[:, None, None] - self.lookback + 1 + steps, 0]  # (batch, lookback, horizon)
