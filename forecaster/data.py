"""CSV -> validated panel of series: one or many ids, a target, covariates, a regular index.

A :class:`Panel` is what every other module consumes: each :class:`Series` sits on a
regular time index (dates at one pandas frequency, or integer steps) with no gaps and no
NaN, its target in column 0 of ``values`` and its covariates after it. Anything wrong with
a user's file is raised here as a one-line :class:`~forecaster.errors.DataError` naming the
file, the column, the row or timestamp, and the fix.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"date": ["2020-01-01", "2020-02-01", "2020-03-01"], "sales": [1, 2, 3]})
    >>> panel = from_frame(df)
    >>> panel.ids, panel.freq, panel.season, panel.series[0].values.shape
    (('sales',), 'MS', 12, (3, 1))
    >>> panel.future_time(0, 2).strftime("%Y-%m-%d").tolist()
    ['2020-04-01', '2020-05-01']
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster import _csv
from forecaster._csv import label, season_for, where
from forecaster.errors import ConfigError, DataError

__all__ = ["FILL_POLICIES", "Panel", "Series", "check_length", "from_frame", "read_csv", "season_for"]

FILL_POLICIES = ("error", "interpolate", "ffill", "zero")
_FILL_HINT = "Pass --fill interpolate|ffill|zero to fill them"


@dataclass(frozen=True)
class Series:
    """One series on a regular index, with no gaps and no NaN.

    Attributes:
        id: The series id: the id column's value in long files, the target's name in wide ones.
        time: A DatetimeIndex at the panel's ``freq``, or an int64 Index of consecutive steps.
        values: float64 array, shape ``(len(time), 1 + n_covariates)``; column 0 is the target.
    """

    id: str
    time: pd.Index
    values: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Series):
            return NotImplemented
        return self.id == other.id and self.time.equals(other.time) and np.array_equal(self.values, other.values)


@dataclass(frozen=True)
class Panel:
    """Series read from one file: shared target, covariates, frequency and season.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"id": ["a", "a", "b"], "ds": [1, 2, 1], "y": [1.0, 2.0, 3.0]})
        >>> panel = from_frame(df, id_col="id")
        >>> panel.ids, panel.lengths, panel.freq, panel.future_time(1, 2).tolist()
        (('a', 'b'), (2, 1), 'step', [2, 3])
    """

    series: tuple[Series, ...]
    target: str
    covariates: tuple[str, ...]
    time_col: str
    id_col: str | None
    freq: str
    season: int
    source: str
    fill: str = "error"

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.series)

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(len(s.time) for s in self.series)

    @property
    def n_features(self) -> int:
        return 1 + len(self.covariates)

    def future_time(self, i: int, horizon: int) -> pd.Index:
        """The `horizon` timestamps (or steps) right after the last one of series `i`."""
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
            raise ConfigError(f"horizon must be a whole number >= 1, got {horizon!r}. Pass e.g. --horizon 12.")
        time = self.series[i].time
        if self.freq == "step":
            return pd.Index(np.arange(time[-1] + 1, time[-1] + 1 + horizon, dtype=np.int64), name=time.name)
        return pd.date_range(time[-1], periods=horizon + 1, freq=self.freq, unit=time.unit, name=time.name)[1:]

    def schema(self) -> dict:
        """The column roles, frequency and season as plain JSON (for artifacts and --json)."""
        return {"target": self.target, "covariates": list(self.covariates), "time_col": self.time_col,
                "id_col": self.id_col, "freq": self.freq, "season": int(self.season),
                "fill": self.fill}

    def subset(self, ids: Iterable[str] | str) -> Panel:
        """The panel restricted to `ids`, in the order given."""
        wanted = [ids] if isinstance(ids, str) else [str(i) for i in ids]
        by_id = {s.id: s for s in self.series}
        unknown = [i for i in wanted if i not in by_id]
        if unknown:
            raise DataError(f"Series id {unknown[0]!r} not found in {label(self.source)}. "
                            f"Available: {_csv.names(self.ids)}. Pass ids from that list.")
        return dataclasses.replace(self, series=tuple(by_id[i] for i in wanted))


def read_csv(path: str | os.PathLike, *, target: str | None = None, time_col: str | None = None,
             id_col: str | None = None, covariates: Iterable[str] | str | None = None, freq: str | None = None,
             season: int | None = None, fill: str = "error") -> Panel:
    """Reads a wide (time + value columns) or long (id, time, value) CSV into a :class:`Panel`.

    Args:
        path: The CSV file; UTF-8, with or without BOM, LF or CRLF line endings.
        target: The column to forecast; may be left out when there is one numeric column.
        time_col: The time column; detected when one column is named like date/ds/time/... or holds dates.
        id_col: The series-id column of a long file; each id becomes one series, in order of first appearance.
        covariates: Extra numeric columns carried after the target (a list, or "a,b" text).
        freq: A pandas offset alias ("h", "D", "MS", ...); inferred when left out.
        season: The seasonal period; ``season_for(freq)`` when left out.
        fill: What to do with missing timestamps and empty cells: one of :data:`FILL_POLICIES`.

    Returns:
        The validated panel; ``source`` is `path`.

    Raises:
        DataError: The file or its contents cannot be used as given.
        ConfigError: `fill`, `season` or `freq` is not a valid value.

    Example:
        >>> panel = read_csv("sample_data/usaccdeaths.csv")  # doctest: +SKIP
        >>> panel.target, panel.freq, panel.lengths  # doctest: +SKIP
        ('deaths', 'MS', (72,))
    """
    _check_options(fill, season)
    df = _csv.load_csv(path)
    return from_frame(df, target=target, time_col=time_col, id_col=id_col, covariates=covariates,
                      freq=freq, season=season, fill=fill, source=os.fspath(path))


def from_frame(df: pd.DataFrame, *, target: str | None = None, time_col: str | None = None,
               id_col: str | None = None, covariates: Iterable[str] | str | None = None, freq: str | None = None,
               season: int | None = None, fill: str = "error", source: str = "<frame>") -> Panel:
    """Builds a :class:`Panel` from a DataFrame; the arguments are those of :func:`read_csv`.

    `source` names the data in messages and in ``Panel.source``. A named or datetime index
    is treated as a column. `df` is not modified.
    """
    _check_options(fill, season)
    df = _csv.tidy_frame(df, source)
    target, time_col, id_col, covs = _roles(df, source, target, time_col, id_col, covariates)
    time = _csv.parse_time(df, time_col, source)
    values = np.column_stack([_csv.to_float(df, c, source) for c in (target, *covs)])  # (rows, n_features)
    codes, ids = _csv.series_codes(df, id_col, target, source)
    if fill == "error":
        _reject_empty_cells(values, (target, *covs), time, codes, ids, id_col is not None, source)
    groups = _sorted_groups(time, codes, ids, id_col is not None, source)
    times = [time[rows] for rows in groups]
    freq = _csv.resolve_freq(freq, times, ids, time_col, source)
    series = tuple(_regular(ids[k], times[k], values[rows], freq, fill, (target, *covs), source)
                   for k, rows in enumerate(groups))
    return Panel(series, target, covs, time_col, id_col, freq,
                 int(season) if season is not None else season_for(freq), source, fill)


def check_length(panel: Panel, min_length: int, *, reason: str) -> None:
    """Raises DataError unless every series has at least `min_length` points.

    Args:
        panel: The panel to check.
        min_length: The fewest points a series needs.
        reason: What the points are for, e.g. ``"lookback 24 + horizon 12 + test 12"``.

    Example:
        >>> import pandas as pd
        >>> p = from_frame(pd.DataFrame({"ds": [1, 2, 3], "y": [1.0, 2.0, 3.0]}))
        >>> check_length(p, 5, reason="lookback 3 + horizon 2")
        Traceback (most recent call last):
        forecaster.errors.DataError: Series 'y' in <frame> has 3 points, fewer than the 5 needed \
(lookback 3 + horizon 2). Lower --lookback, --horizon or --test-size, or use longer series.
    """
    k = int(np.argmin(panel.lengths))
    if panel.lengths[k] < min_length:
        raise DataError(f"Series {panel.ids[k]!r} in {label(panel.source)} has {panel.lengths[k]} points, fewer than "
                        f"the {min_length} needed ({reason}). Lower --lookback, --horizon or --test-size, "
                        "or use longer series.")


def _check_options(fill: str, season: int | None) -> None:
    if fill not in FILL_POLICIES:
        raise ConfigError(f"Unknown fill policy {fill!r}; expected one of {', '.join(FILL_POLICIES)}. "
                          "Pass --fill with one of them.")
    ok = isinstance(season, (int, np.integer)) and not isinstance(season, bool) and season >= 1
    if season is not None and not ok:
        raise ConfigError(f"season must be a whole number >= 1, got {season!r}. Pass e.g. --season 12 for monthly data.")


def _roles(df, source, target, time_col, id_col, covariates) -> tuple[str, str, str | None, tuple[str, ...]]:
    """Resolves (target, time_col, id_col, covariates), checking each named column exists."""
    if isinstance(covariates, str):
        covariates = [c for c in covariates.split(",") if c.strip()]
    covs = tuple(dict.fromkeys(str(c).strip() for c in covariates or ()))  # ordered, without repeats
    for column, flag in [(id_col, "--id-col"), (time_col, "--time-col"), (target, "--target")]:
        if column is not None:
            _csv.require(df, column, flag, source)
    for column in covs:
        _csv.require(df, column, "--covariates", source)
    if time_col is None:
        try:
            time_col = _csv.detect_time(df, source, exclude={id_col, target, *covs})
        except DataError:  # if the time column was named as a value column, the role clash below says so
            time_col = _csv.detect_time(df, source, exclude={id_col})
    if target is None:
        target = _csv.pick_target(df, source, used={time_col, id_col, *covs} - {None})
    roles = [("time column", time_col), ("id column", id_col), ("target", target)] + [("covariate", c) for c in covs]
    seen: dict[str, str] = {}
    for role, column in roles:
        if column is not None and column in seen:
            raise ConfigError(f"Column {column!r} of {label(source)} is both the {seen[column]} and the {role}; "
                              "give each column one role with --target, --time-col, --id-col and --covariates.")
        seen.setdefault(column, role)
    return target, time_col, id_col, covs


def _reject_empty_cells(values, columns, time, codes, ids, long_form: bool, source: str) -> None:
    """Under fill="error", raises on the first empty target/covariate cell in file order."""
    rows, cols = np.nonzero(np.isnan(values))
    if rows.size:
        r, j = rows[0], cols[0]
        count = int(np.isnan(values[:, j]).sum())
        who = f", series {ids[codes[r]]!r}" if long_form else ""
        raise DataError(f"Column {columns[j]!r} of {label(source)} has {count} missing value(s) (first at "
                        f"{where(source, r)}, {_csv.stamp(time[r])}{who}); expected a number on every row. "
                        f"{_FILL_HINT}, or fix the file.")


def _sorted_groups(time: pd.Index, codes: np.ndarray, ids: list[str], long_form: bool, source: str) -> list:
    """Row positions of each series in time order; raises on a repeated (id, timestamp)."""
    keys = time.asi8 if isinstance(time, pd.DatetimeIndex) else time.to_numpy()
    order = np.lexsort((keys, codes))  # by series code (first appearance), then time
    k, c = keys[order], codes[order]
    same = np.flatnonzero((k[1:] == k[:-1]) & (c[1:] == c[:-1]))
    if same.size:
        a, b = sorted(order[same[0]: same[0] + 2])
        who, per, hint = (f" for series {ids[c[same[0]]]!r}", " per series", "") if long_form else \
            ("", "", ", or pass --id-col if the file holds several series")
        raise DataError(f"Duplicate timestamp {_csv.stamp(time[a])}{who} in {label(source)} ({where(source, a)} and "
                        f"{where(source, b)}); expected one row per timestamp{per}. Remove one of them{hint}.")
    return np.split(order, np.flatnonzero(np.diff(c)) + 1)


def _regular(sid: str, time: pd.Index, values: np.ndarray, freq: str, fill: str, columns, source: str) -> Series:
    """Places one series' sorted rows on its regular index and fills gaps and NaN per `fill`."""
    if freq == "step":
        grid = pd.Index(np.arange(time[0], time[-1] + 1, dtype=np.int64), name=time.name)
    else:
        grid = pd.date_range(time[0], time[-1], freq=freq, unit=time.unit, name=time.name)
    pos = grid.get_indexer(time)
    off = np.flatnonzero(pos < 0)
    if off.size:
        raise DataError(f"Timestamp {_csv.stamp(time[off[0]])} of series {sid!r} in {label(source)} is off the "
                        f"regular {freq!r} index that starts at {_csv.stamp(time[0])}; expected evenly spaced "
                        "timestamps. Fix it, or pass --freq with the data's frequency.")
    block = values
    if len(grid) > len(time):
        if fill == "error":
            gap = np.ones(len(grid), dtype=bool)
            gap[pos] = False
            raise DataError(f"Series {sid!r} in {label(source)} has {len(grid) - len(time)} missing timestamp(s) "
                            f"(first {_csv.stamp(grid[gap][0])}) in its {freq!r} index; expected no gaps. "
                            f"{_FILL_HINT}, or add the rows.")
        block = np.full((len(grid), values.shape[1]), np.nan)  # (len(grid), n_features)
        block[pos] = values
    if fill != "error" and np.isnan(block).any():
        block = _fill(block, fill, sid, grid, columns, source)
    return Series(sid, grid, np.ascontiguousarray(block, dtype=np.float64))


def _fill(block: np.ndarray, fill: str, sid: str, grid: pd.Index, columns, source: str) -> np.ndarray:
    """Fills NaN in a (len(grid), n_features) block: linear in position, forward, or with zeros."""
    if fill == "zero":
        return np.nan_to_num(block, nan=0.0)
    if fill == "ffill":
        lead = np.flatnonzero(np.isnan(block[0]))
        if lead.size:
            raise DataError(f"Column {columns[lead[0]]!r} of series {sid!r} in {label(source)} starts with a missing "
                            f"value at {_csv.stamp(grid[0])}; --fill ffill has nothing to carry forward. "
                            "Pass --fill interpolate or zero, or remove the leading rows.")
        return pd.DataFrame(block).ffill().to_numpy()
    x = np.arange(len(block))
    out = block.copy()
    for j in range(block.shape[1]):
        ok = ~np.isnan(block[:, j])
        if not ok.any():
            raise DataError(f"Column {columns[j]!r} of series {sid!r} in {label(source)} has no values; nothing to "
                            "interpolate from. Remove that series or column, or pass --fill zero.")
        out[:, j] = np.interp(x, x[ok], block[ok, j])  # ends held at the nearest value
    return out
