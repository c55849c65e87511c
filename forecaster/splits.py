"""Time-ordered splits as index ranges: training before validation before test.

Ranges are half-open ``(start, stop)`` row positions within one series. Nothing is
shuffled; every fold's test part starts after everything that is fit for it.

Layout of one fold (``|`` marks the forecast origin)::

    [ train ............ ][ val ][ gap ]|[ test ]
     fit: weights, scaler   early  unused    scored
                            stop   for fit

The names mirror scikit-learn's ``TimeSeriesSplit``: ``n_splits``, ``test_size``,
``gap``, ``max_train_size``. The gap rows are never used to fit anything; they are
observed history at forecast time (e.g. as the lookback window of the first forecast).

>>> [f.test for f in rolling_origin(100, n_splits=3, test_size=10)]
[(70, 80), (80, 90), (90, 100)]
>>> holdout(100, test_size=10, val_size=20)
Split(train=(0, 70), val=(70, 90), test=(90, 100))
"""

from __future__ import annotations

from dataclasses import dataclass

from forecaster.errors import ConfigError
from forecaster.params import check_int

Range = tuple[int, int]


@dataclass(frozen=True)
class Split:
    """One fold of one series: half-open row ranges in time order."""

    train: Range
    val: Range
    test: Range

    @property
    def origin(self) -> int:
        """First test row: the forecast starts here and sees only rows before it."""
        return self.test[0]

    def as_dict(self) -> dict[str, list[int]]:
        """Plain-JSON form for the artifact's leakage record."""
        return {"train": list(self.train), "val": list(self.val), "test": list(self.test)}


def holdout(
    n: int,
    *,
    test_size: int,
    val_size: int = 0,
    gap: int = 0,
    max_train_size: int | None = None,
) -> Split:
    """The last ``test_size`` rows as test, ``val_size`` rows before them (and ``gap``) as validation.

    Args:
        n: Length of the series.
        test_size: Rows held out at the end (0 for a final fit on everything).
        val_size: Rows before the test (and the gap) used for early stopping and calibration.
        gap: Rows between validation and test that nothing is fit on.
        max_train_size: Keep at most this many most recent training rows (sliding window).

    Returns:
        The :class:`Split`.
    """
    return _fold(n, origin=n - test_size, test_size=test_size, val_size=val_size,
                 gap=gap, max_train_size=max_train_size)


def rolling_origin(
    n: int,
    *,
    n_splits: int,
    test_size: int,
    val_size: int = 0,
    gap: int = 0,
    max_train_size: int | None = None,
) -> list[Split]:
    """``n_splits`` folds whose test windows tile the end of the series, oldest first.

    Fold ``k`` (0-based) tests rows ``[n - (n_splits - k) * test_size, ... + test_size)``;
    its training data ends before that (expanding window, or sliding with
    ``max_train_size``). Test windows never overlap.
    """
    check_int("folds", n_splits, 1)
    return [
        _fold(n, origin=n - (n_splits - k) * test_size, test_size=test_size,
              val_size=val_size, gap=gap, max_train_size=max_train_size)
        for k in range(n_splits)
    ]


def _fold(n: int, *, origin: int, test_size: int, val_size: int, gap: int,
          max_train_size: int | None) -> Split:
    check_int("test_size", test_size, 0)
    check_int("val_size", val_size, 0)
    check_int("gap", gap, 0)
    val_stop = origin - gap
    train_stop = val_stop - val_size
    if train_stop < 1:
        raise ConfigError(
            f"A series of {n} rows leaves no training rows for test {test_size}, "
            f"validation {val_size} and gap {gap}; lower --test-size, --val-size or --folds."
        )
    train_start = 0
    if max_train_size is not None:
        check_int("max_train_size", max_train_size, 1)
        train_start = max(0, train_stop - max_train_size)
    return Split((train_start, train_stop), (train_stop, val_stop), (origin, origin + test_size))
