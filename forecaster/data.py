"""Data file -> validated panel of series: one or many ids, a target, covariates, a regular index.

A :class:`Panel` is what every other module consumes: each :class:`Series` sits on a
regular time index (dates at one pandas frequency, or integer steps) with no gaps and no
NaN, its target in column 0 of ``values`` and its covariates after it. Anything wrong with
a user's file is raised here as a one-line :class:`~forecaster.errors.DataError` naming the
file, the column, the row or timestamp, and the fix. Files are CSV (also compressed, e.g.
``.csv.gz``), Parquet, or ``-`` for either on standard input.

Layouts (``Panel.layout``, and ``"layout"`` in :meth:`Panel.schema`):

- ``"single"``: a time column and one target (plus covariates): one series, id = target name.
- ``"long"``: an ``id_col`` names each row's series: one series per id.
- ``"wide"``: a time column and one numeric column per series, as spreadsheets hold them:
  one series per column (id = column name); ``Panel.target`` is ``"value"`` and there are no
  covariates. Each series spans its first to its last value (empty cells before and after are
  not data); empty cells in between follow `fill`. ``wide=None`` reads a file this way when no
  target, id column or covariates are given and every other column is numeric, two or more of
  them; ``Panel.notices`` then holds a sentence saying so, for the caller to show.

``read_csv(path, **read_options(panel.schema()))`` reads a file the way `panel` was read.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"date": ["2020-01-01", "2020-02-01", "2020-03-01"], "sales": [1, 2, 3]})
    >>> panel = from_frame(df)
    >>> panel.ids, panel.freq, panel.season, panel.series[0].values.shape
    (('sales',), 'MS', 12, (3, 1))
    >>> panel.future_time(0, 2).strftime("%Y-%m-%d").tolist()
    ['2020-04-01', '2020-05-01']
    >>> wide = from_frame(pd.DataFrame({"date": [2001, 2002, 2003], "a": [1, 2, None], "b": [None, 5, 6]}))
    >>> wide.ids, wide.lengths, wide.target, wide.layout
    (('a', 'b'), (2, 2), 'value', 'wide')
    >>> wide.notices
    ('Read 2 series from the columns of <frame> (wide layout); pass --target COL to forecast one of them, e.g. --target a.',)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster import _csv, _time
from forecaster._csv import label, stamp
from forecaster._time import season_for
from forecaster.errors import ConfigError, DataError

__all__ = ["FILL_POLICIES", "Panel", "Series", "check_length", "from_frame", "read_csv", "read_options", "season_for"]

FILL_POLICIES = ("error", "interpolate", "ffill", "zero")
WIDE_TARGET = "value"  # Panel.target of a wide panel, whose series are its columns


@dataclass(frozen=True)
class Series:
    """One series on a regular index, with no gaps and no NaN.

    Attributes:
        id: The series id: the id column's value (long), the column's name (wide), the target's (single).
        time: A DatetimeIndex at the panel's ``freq``, or a RangeIndex of consecutive steps.
        values: float64 array, shape ``(len(time), n_features)``: the target (column 0), the
            covariates, then the future covariates.
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

    ``wide`` marks a panel read one series per column (see :attr:`layout`); ``notices`` holds
    sentences for the user about how the file was read (not errors), for the caller to show.
    ``future_covariates`` are columns whose values are also known for the steps forecast
    (see :mod:`forecaster.covariates`); they come last in ``Series.values``.

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
    wide: bool = False
    notices: tuple[str, ...] = ()
    future_covariates: tuple[str, ...] = ()

    @property
    def layout(self) -> str:
        """How the file holds its series: "wide" (one per column), "long" (an id column) or "single"."""
        return "wide" if self.wide else "long" if self.id_col is not None else "single"

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.series)

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(len(s.time) for s in self.series)

    @property
    def n_features(self) -> int:
        return 1 + len(self.covariates) + len(self.future_covariates)

    def future_time(self, i: int, horizon: int) -> pd.Index:
        """The `horizon` timestamps (or steps) right after the last one of series `i`."""
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
            raise ConfigError(f"horizon must be a whole number >= 1, got {horizon!r}. Pass e.g. --horizon 12.")
        time = self.series[i].time
        if self.freq == "step":
            return pd.Index(np.arange(time[-1] + 1, time[-1] + 1 + horizon, dtype=np.int64), name=time.name)
        step = _time.tick_step(self.freq)
        if step is not None and time.tz is None:  # fixed-length steps: arithmetic, not a date_range
            return pd.DatetimeIndex(time.values[-1] + np.arange(1, horizon + 1) * step, name=time.name).as_unit(time.unit)
        return pd.date_range(time[-1], periods=horizon + 1, freq=self.freq, unit=time.unit, name=time.name)[1:]

    def schema(self) -> dict:
        """The layout, column roles, frequency and season as plain JSON (for artifacts and --json).

        :func:`read_options` turns it back into the arguments of :func:`read_csv`.
        """
        return {"target": self.target, "covariates": list(self.covariates),
                "future_covariates": list(self.future_covariates), "time_col": self.time_col,
                "id_col": self.id_col, "freq": self.freq, "season": int(self.season),
                "fill": self.fill, "layout": self.layout}

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
             season: int | None = None, fill: str = "error", wide: bool | None = None,
             future_covariates: Iterable[str] | str | None = None) -> Panel:
    """Reads a single-series, long (id, time, value) or wide (time + a column per series) file into a :class:`Panel`.

    Args:
        path: A CSV file (UTF-8, with or without BOM, LF or CRLF; ``.gz``, ``.bz2``, ``.zip``, ``.xz``
            compressed), a Parquet file (``.parquet``; needs pyarrow), or ``"-"`` for either on stdin.
        target: The column to forecast; may be left out when there is one numeric column.
        time_col: The time column; detected when one column is named like date/ds/time/... or holds dates.
        id_col: The series-id column of a long file; each id becomes one series, in order of first appearance.
        covariates: Extra numeric columns carried after the target (a list, or "a,b" text).
        freq: A pandas offset alias ("h", "D", "MS", ...); inferred when left out.
        season: The seasonal period; ``season_for(freq)`` when left out.
        fill: What to do with missing timestamps and empty cells: one of :data:`FILL_POLICIES`.
        wide: True: one series per column but the time column; False: never; None: when the file
            looks wide (see the module docstring), with a sentence in ``Panel.notices``.
        future_covariates: Numeric columns whose values are known ahead (a list, or "a,b" text);
            carried after the covariates.

    Returns:
        The validated panel; ``source`` is `path` as text, or ``"<stdin>"``.

    Raises:
        DataError: The file or its contents cannot be used as given.
        ConfigError: `fill`, `season`, `freq` or `wide` is not a valid value or combination.

    Example:
        >>> panel = read_csv("sample_data/usaccdeaths.csv")  # from the repository's root
        >>> panel.target, panel.freq, panel.lengths, panel.layout
        ('deaths', 'MS', (72,), 'single')
    """
    _check_options(fill, season, freq, wide)
    df = _csv.load(path)
    return from_frame(df, target=target, time_col=time_col, id_col=id_col, covariates=covariates,
                      freq=freq, season=season, fill=fill, wide=wide, source=_csv.source_name(path),
                      future_covariates=future_covariates)


def from_frame(df: pd.DataFrame, *, target: str | None = None, time_col: str | None = None,
               id_col: str | None = None, covariates: Iterable[str] | str | None = None, freq: str | None = None,
               season: int | None = None, fill: str = "error", wide: bool | None = None,
               source: str = "<frame>", future_covariates: Iterable[str] | str | None = None) -> Panel:
    """Builds a :class:`Panel` from a DataFrame; the arguments are those of :func:`read_csv`.

    `source` names the data in messages and in ``Panel.source``. A named or datetime index
    is treated as a column. `df` is not modified.
    """
    freq = _check_options(fill, season, freq, wide)
    covs, known = _covariate_names(covariates), _covariate_names(future_covariates)
    _check_wide(wide, target, id_col, covs + known)
    df = _csv.tidy_frame(df, source)
    target, time_col, columns = _roles(df, source, target, time_col, id_col, covs, wide, known)
    if columns:
        return _wide_panel(df, columns, time_col, freq, season, fill, source, notice=wide is None)
    time = _time.parse_time(df, time_col, source)
    names = (target, *covs, *known)
    values = np.column_stack([_csv.to_float(df, c, source) for c in names])  # (rows, n_features)
    codes, ids = _csv.series_codes(df, id_col, target, source)
    if fill == "error":
        _csv.reject_empty_cells(values, names, time, codes, ids, id_col is not None, source)
    groups = _csv.sorted_groups(time, codes, ids, id_col is not None, source)
    times = [time[rows] for rows in groups]
    freq = _time.resolve_freq(freq, times, ids, time_col, source)
    series = tuple(_regular(ids[k], times[k], values[rows], freq, fill, names, source)
                   for k, rows in enumerate(groups))
    return Panel(series, target, covs, time_col, id_col, freq,
                 int(season) if season is not None else season_for(freq), source, fill,
                 future_covariates=known)


def read_options(schema: dict) -> dict:
    """The :func:`read_csv` keyword arguments that read a file the way ``Panel.schema()`` says.

    Schemas saved before layouts existed (no "layout" key) read as single or long files.

    Example:
        >>> read_options({"target": "value", "covariates": [], "time_col": "date", "id_col": None,
        ...               "freq": "MS", "season": 12, "fill": "error", "layout": "wide"})
        {'target': None, 'time_col': 'date', 'id_col': None, 'covariates': None, 'freq': 'MS', 'season': 12, \
'fill': 'error', 'wide': True, 'future_covariates': None}
    """
    wide = schema.get("layout") == "wide"
    return {"target": None if wide else schema["target"], "time_col": schema["time_col"],
            "id_col": schema["id_col"], "covariates": list(schema["covariates"]) or None, "freq": schema["freq"],
            "season": schema["season"], "fill": schema.get("fill", "error"), "wide": wide,
            "future_covariates": list(schema.get("future_covariates") or []) or None}


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


def _check_options(fill: str, season: int | None, freq: str | None, wide: bool | None) -> str | None:
    """Checks the plain-value options; returns `freq` as pandas spells it."""
    if fill not in FILL_POLICIES:
        raise ConfigError(f"Unknown fill policy {fill!r}; expected one of {', '.join(FILL_POLICIES)}. "
                          "Pass --fill with one of them.")
    ok = isinstance(season, (int, np.integer)) and not isinstance(season, bool) and season >= 1
    if season is not None and not ok:
        raise ConfigError(f"season must be a whole number >= 1, got {season!r}. Pass e.g. --season 12 for monthly data.")
    if wide not in (None, True, False):
        raise ConfigError(f"wide must be True, False or None, got {wide!r}. Pass --wide or --no-wide, or neither.")
    return _time.check_freq(freq)


def _covariate_names(covariates: Iterable[str] | str | None) -> tuple[str, ...]:
    if isinstance(covariates, str):
        covariates = [c for c in covariates.split(",") if c.strip()]
    return tuple(dict.fromkeys(str(c).strip() for c in covariates or ()))  # ordered, without repeats


def _check_wide(wide: bool | None, target: str | None, id_col: str | None, covs: tuple[str, ...]) -> None:
    """`covs`: the covariates and future covariates, which a wide file cannot have."""
    flag = "--id-col" if id_col is not None else "--covariates" if covs else "--target" if target is not None else None
    if wide is True and flag:
        raise ConfigError(f"--wide reads every column but the time column as a series, so it takes no {flag}. "
                          f"Leave out {flag}, or --wide.")


def _roles(df, source, target, time_col, id_col, covs, wide, known=()) -> tuple[str, str, tuple[str, ...]]:
    """Resolves (target, time_col, wide columns), checking each named column exists.

    The wide columns are () unless the file is read wide; the target is then WIDE_TARGET.
    """
    for column, flag in [(id_col, "--id-col"), (time_col, "--time-col"), (target, "--target")]:
        if column is not None:
            _csv.require(df, column, flag, source)
    for column, flag in [(c, "--covariates") for c in covs] + [(c, "--future-covariates") for c in known]:
        _csv.require(df, column, flag, source)
    if time_col is None:
        try:
            time_col = _time.detect_time(df, source, exclude={id_col, target, *covs, *known})
        except DataError:  # if the time column was named as a value column, the role clash below says so
            time_col = _time.detect_time(df, source, exclude={id_col})
    columns = _wide_columns(df, time_col, wide) if target is None and id_col is None and not covs + known else ()
    if columns:
        return WIDE_TARGET, time_col, columns
    if target is None:
        target = _csv.pick_target(df, source, used={time_col, id_col, *covs, *known} - {None})
    roles = ([("time column", time_col), ("id column", id_col), ("target", target)] + [("covariate", c) for c in covs]
             + [("future covariate", c) for c in known])
    seen: dict[str, str] = {}
    for role, column in roles:
        if column is not None and column in seen:
            raise ConfigError(f"Column {column!r} of {label(source)} is both the {seen[column]} and the {role}; "
                              "give each column one role with --target, --time-col, --id-col, --covariates "
                              "and --future-covariates.")
        seen.setdefault(column, role)
    return target, time_col, ()


def _wide_columns(df: pd.DataFrame, time_col: str, wide: bool | None) -> tuple[str, ...]:
    """Every column but the time column when reading wide, else (); wide=None: if 2+ and all numeric."""
    rest = tuple(c for c in df.columns if c != time_col)
    if wide is None:
        wide = len(rest) >= 2 and all(_csv.is_numeric(df[c]) for c in rest)
    return rest if wide else ()


def _wide_panel(df, columns, time_col, freq, season, fill, source, notice: bool) -> Panel:
    """One series per column of a wide file, each from its first value to its last."""
    time = _time.parse_time(df, time_col, source)
    (rows,) = _csv.sorted_groups(time, np.zeros(len(df), dtype=np.intp), [columns[0]], False, source)
    order = np.arange(len(df))[rows]  # row positions in time order (rows may be a slice)
    values = [_csv.to_float(df, c, source) for c in columns]
    spans = [_csv.wide_span(c, v, order, time, fill, source) for c, v in zip(columns, values)]
    times = [time[rows] for rows in spans]
    freq = _time.resolve_freq(freq, times, list(columns), time_col, source)
    series = tuple(_regular(c, times[k], values[k][spans[k], None], freq, fill, (c,), source)  # (n, 1)
                   for k, c in enumerate(columns))
    notices = (f"Read {len(series)} series from the columns of {label(source)} (wide layout); pass --target COL "
               f"to forecast one of them, e.g. --target {_csv.names(columns[:1])}.",) if notice else ()
    return Panel(series, WIDE_TARGET, (), time_col, None, freq, int(season) if season is not None else season_for(freq),
                 source, fill, wide=True, notices=notices)


def _regular(sid: str, time: pd.Index, values: np.ndarray, freq: str, fill: str, columns, source: str) -> Series:
    """Places one series' sorted rows on its regular index and fills gaps and NaN per `fill`.

    Integer steps get a RangeIndex (no memory per row); `values` is kept, not copied, when
    it is already float64, contiguous and gap-free.
    """
    if _time.is_regular(time, freq):  # the usual case, without building and matching a new index
        grid = pd.RangeIndex(time[0], time[-1] + 1, name=time.name) if freq == "step" else time
        block = values
    else:
        grid = _time.regular_index(time, freq, sid, source)
        block = _placed(sid, time, values, grid, freq, fill, source)
    if fill != "error" and np.isnan(block).any():
        block = _time.fill_gaps(block, fill, sid, grid, columns, source)
    return Series(sid, grid, np.ascontiguousarray(block, dtype=np.float64))


def _placed(sid: str, time: pd.Index, values: np.ndarray, grid: pd.Index, freq: str, fill: str,
            source: str) -> np.ndarray:
    """`values` at their rows of `grid`, NaN at the missing timestamps (refused under fill="error")."""
    pos = grid.get_indexer(time)
    off = np.flatnonzero(pos < 0)
    if off.size:
        raise DataError(f"Timestamp {stamp(time[off[0]])} of series {sid!r} in {label(source)} is off the "
                        f"regular {freq!r} index that starts at {stamp(time[0])}; expected evenly spaced "
                        "timestamps. Fix it, or pass --freq with the data's frequency.")
    if len(grid) == len(time):
        return values
    if fill == "error":
        gap = np.ones(len(grid), dtype=bool)
        gap[pos] = False
        raise DataError(f"Series {sid!r} in {label(source)} has {len(grid) - len(time)} missing timestamp(s) "
                        f"(first {stamp(grid[gap][0])}) in its {freq!r} index; expected no gaps. "
                        f"{_csv.FILL_HINT}, or add the rows.")
    block = np.full((len(grid), values.shape[1]), np.nan)  # (len(grid), n_features)
    block[pos] = values
    return block
