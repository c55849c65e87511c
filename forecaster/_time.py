"""Time columns, frequencies and regular indexes behind :mod:`forecaster.data`: find, parse,
infer, check, and fill the gaps.

Private. Sniffing text for dates is the slow part of reading a file (pandas falls back to
dateutil, whose cost grows with a cell's length), so values are sniffed only when no
column has a time-like name, only in text columns, and a cell longer than
``MAX_DATE_CHARS`` is never taken for a date.

Series of two or three timestamps are too short for ``pd.infer_freq``; their frequency
comes from calendar anchors (month, quarter and year starts or ends, weekdays), and a
spacing that several frequencies fit asks for ``--freq``.

Example:
    >>> infer_freq(pd.DatetimeIndex(["2020-01-01", "2020-02-01"]))
    'MS'
    >>> infer_freq(pd.DatetimeIndex(["2019-12-31", "2020-03-31", "2020-06-30"]))
    'QE-DEC'
    >>> check_freq("2h"), check_freq("1.5D"), check_freq(None)
    ('2h', '36h', None)
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from pandas.tseries.frequencies import to_offset

from forecaster._csv import label, names, show, stamp, where
from forecaster.errors import ConfigError, DataError

# Lower-cased column names that are taken as the time column without asking.
TIME_NAMES = ("date", "ds", "time", "timestamp", "datetime", "period", "month", "year", "week", "day")
# Integer time columns whose values all fall in this range are calendar years (sunspots' `year`).
YEAR_RANGE = (1000, 2999)
# No timestamp needs more characters; longer cells are not parsed as dates at all.
MAX_DATE_CHARS = 64
# A regular index longer than this (and 100 times the rows) means a wrong frequency, not data.
MAX_GRID = 10_000_000
# What infer_freq returns when several frequencies fit a short series equally well.
AMBIGUOUS = "?"
# Rows whose spacing is_regular checks at once: its memory stays small for any length.
BLOCK = 1 << 16
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _looks_like_dates(col: pd.Series) -> bool:
    """True when the first 20 non-empty values of a text column all parse as dates."""
    if ptypes.is_datetime64_any_dtype(col):
        return True
    if ptypes.is_numeric_dtype(col) or ptypes.is_bool_dtype(col):
        return False  # numbers are steps or values; parse_time reads years from a named column
    sample = col.dropna().head(20).astype(str)
    if sample.empty or (sample.str.len() > MAX_DATE_CHARS).any():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Could not infer format" is expected on non-dates
        try:
            return bool(pd.to_datetime(sample, errors="coerce").notna().all())
        except (ValueError, TypeError, OverflowError):
            return False


def detect_time(df: pd.DataFrame, source: str, exclude: set) -> str:
    """Finds the time column: the only one with a time-like name, else the only date-valued one.

    Values are sniffed only when no column has a time-like name.
    """
    rest = [c for c in df.columns if c not in exclude]
    found = [c for c in rest if c.lower() in TIME_NAMES] or [c for c in rest if _looks_like_dates(df[c])]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise DataError(f"{label(source)} has several possible time columns ({names(found)}); "
                        "pass --time-col with one of them.")
    raise DataError(f"No time column found in {label(source)}: no column is named {'/'.join(TIME_NAMES)} or holds "
                    f"dates. Columns: {names(df.columns)}. Pass --time-col with the column of timestamps.")


def parse_time(df: pd.DataFrame, column: str, source: str) -> pd.Index:
    """Parses the time column into a DatetimeIndex, or an int64 Index of step numbers.

    Integer columns whose values all lie in 1000..2999 are read as calendar years.
    """
    col = df[column]
    missing = np.flatnonzero(col.isna().to_numpy())
    if missing.size:
        raise DataError(f"Missing time value in column {column!r} of {label(source)} at {where(source, missing[0])}; "
                        "expected a timestamp on every row. Fill it in or remove the row.")
    if ptypes.is_datetime64_any_dtype(col):
        return pd.DatetimeIndex(col, copy=True)  # not a view: the caller may change the frame later
    if ptypes.is_bool_dtype(col) or not ptypes.is_numeric_dtype(col):
        return _parse_dates(col, column, source)
    values = col.to_numpy()
    if ptypes.is_float_dtype(col):
        frac = np.flatnonzero(values != np.round(values))
        if frac.size:
            raise DataError(f"Column {column!r} of {label(source)} holds numbers that are not whole steps "
                            f"({show(values[frac[0]])} at {where(source, frac[0])}); expected dates or integer steps. "
                            "Convert it to dates (e.g. 1949-02-01) or pass --time-col with another column.")
    steps = values.astype(np.int64, copy=False)  # the frame's own column when already int64
    if YEAR_RANGE[0] <= steps.min() and steps.max() <= YEAR_RANGE[1]:
        return pd.DatetimeIndex((steps - 1970).astype("datetime64[Y]").astype("datetime64[s]"))
    return pd.Index(steps, dtype=np.int64)


def _parse_dates(col: pd.Series, column: str, source: str) -> pd.DatetimeIndex:
    """Parses text timestamps; falls back to ISO 8601 for mixed precision, UTC for mixed offsets."""
    text = col.astype(str)
    too_long = np.flatnonzero((text.str.len() > MAX_DATE_CHARS).to_numpy())
    passes = () if too_long.size else ({}, {"format": "ISO8601"}, {"format": "ISO8601", "utc": True})
    best = None
    for options in passes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # dateutil fallback warnings; bad rows are reported below
            try:
                parsed = pd.to_datetime(text, errors="coerce", **options)
            except (ValueError, TypeError, OverflowError):
                continue  # e.g. "Mixed timezones detected": the UTC pass handles it
        if not ptypes.is_datetime64_any_dtype(parsed):
            continue  # mixed offsets can come back as objects, not raise: the UTC pass handles them
        if best is None or parsed.isna().sum() < best.isna().sum():
            best = parsed
        if best.notna().all():
            return pd.DatetimeIndex(best)
    bad = int(too_long[0]) if too_long.size else 0 if best is None else int(np.flatnonzero(best.isna().to_numpy())[0])
    raise DataError(f"Cannot read {show(text.iloc[bad])} in column {column!r} of {label(source)} at "
                    f"{where(source, bad)} as a date; expected timestamps like 2020-01-31 or 2020-01-31 13:00. "
                    "Fix the value, or pass --time-col with the right column.")


def check_freq(freq: str | None) -> str | None:
    """`freq` as pandas spells it ("1.5D" -> "36h"), "step" and None as they are; ConfigError if unusable."""
    if freq is None or freq == "step":
        return freq
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated aliases such as "H" still mean what they say
            offset = to_offset(freq.strip() if isinstance(freq, str) else freq)
    except (ValueError, TypeError):
        raise ConfigError(f"Unknown frequency {freq!r}; expected a pandas offset alias such as h, D, W, MS, "
                          "QS or YS. Pass --freq with one of them.") from None
    if offset.n <= 0:
        raise ConfigError(f"--freq must step forward in time, got {freq!r}; pass a positive frequency such as "
                          "h, 2h, D or MS.")
    return offset.freqstr


def resolve_freq(freq: str | None, times: list[pd.Index], ids: list[str], time_col: str, source: str) -> str:
    """The panel's one frequency: "step" for integer time, else `freq` (from check_freq), else inferred."""
    if not isinstance(times[0], pd.DatetimeIndex):
        if freq not in (None, "step"):
            raise ConfigError(f"--freq {freq!r} needs dates, but column {time_col!r} of {label(source)} holds "
                              "integer steps. Leave out --freq, or convert the column to dates.")
        return "step"
    if freq == "step":
        raise ConfigError(f"--freq 'step' needs integer steps, but column {time_col!r} of {label(source)} holds dates. "
                          "Leave out --freq, or pass a pandas frequency such as D or MS.")
    if freq is not None:
        return freq
    found: dict[str, str] = {}
    unclear = []
    known: dict[tuple, str | None] = {}  # evenly spaced series: the answer depends on the spacing alone
    for sid, time in zip(ids, times):
        key = _spacing(time)
        one = known[key] if key in known else infer_freq(time)
        if key is not None:
            known[key] = one
        if one == AMBIGUOUS:
            unclear.append((sid, time))
        elif one is not None:
            found.setdefault(one, sid)
    if len(found) > 1:
        listed = ", ".join(f"{f!r} for {sid!r}" for f, sid in list(found.items())[:4])
        raise DataError(f"Series in {label(source)} have different frequencies ({listed}); expected one. "
                        "Pass --freq to choose one.")
    if not found and unclear:
        sid, time = unclear[0]
        raise DataError(f"Cannot infer the frequency of series {sid!r} in {label(source)} from its {len(time)} "
                        f"timestamps ({', '.join(map(stamp, time))}): several frequencies fit. "
                        "Pass --freq with the data's frequency (e.g. MS, W-SUN, D or B), or add rows.")
    if not found:
        raise DataError(f"Cannot infer the frequency of {label(source)}: every series has a single timestamp. "
                        "Pass --freq, e.g. --freq h, D or MS.")
    return next(iter(found))


def _spacing(time: pd.DatetimeIndex) -> tuple | None:
    """For 4+ evenly spaced timestamps, what :func:`infer_freq` depends on: the spacing, and the
    weekday when it is whole weeks ("W-SUN"); else None."""
    if len(time) < 4:
        return None
    gaps = np.diff(time.values)
    if not (gaps == gaps[0]).all():
        return None
    weekly = gaps[0] % np.timedelta64(7, "D") == np.timedelta64(0, "D")
    return gaps[0], time[0].dayofweek if weekly else -1


def _pandas_freq(time: pd.DatetimeIndex) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 warns that infer_freq will return an offset
        try:
            found = pd.infer_freq(time)
        except (ValueError, TypeError):
            return None
    return getattr(found, "freqstr", found)


def infer_freq(time: pd.DatetimeIndex) -> str | None:
    """One series' frequency: pandas' answer, else calendar anchors for 2-3 timestamps, else the most
    common answer over short windows (a series with gaps still has gap-free stretches), else its most
    common spacing. None for a single timestamp, AMBIGUOUS when several frequencies fit.

    Example:
        >>> [infer_freq(pd.DatetimeIndex(t)) for t in (["2020-01-01", "2021-01-01"], ["2020-01-15", "2020-02-15"])]
        ['YS-JAN', '?']
    """
    if len(time) < 2:
        return None
    found = _pandas_freq(time) if len(time) >= 3 else None
    if found is None and len(time) <= 3:
        found = _calendar_freq(time)
    if found is None and len(time) >= 4:
        starts = np.unique(np.linspace(0, len(time) - 4, num=min(25, len(time) - 3)).astype(int))
        votes = pd.Series([_pandas_freq(time[s: s + 4]) for s in starts]).dropna()
        found = votes.mode().iloc[0] if len(votes) else None
    if found is None:
        found = to_offset((time[1:] - time[:-1]).value_counts().index[0]).freqstr
    return found


def _calendar_freq(time: pd.DatetimeIndex) -> str | None:
    """The frequency of a few evenly spaced midnight timestamps, named as pandas names longer series."""
    if not (time == time.normalize()).all():
        return None  # sub-daily stamps: their spacing is their frequency
    months = np.diff(time.year * 12 + time.month)
    if months[0] > 0 and (months == months[0]).all():
        found = _month_freq(time, int(months[0]))
        if found is not None:
            return found
        if (time.day == time[0].day).all():
            return AMBIGUOUS  # the 15th of each month: no pandas frequency, and "31D" drifts
    days = (time[1:] - time[:-1]) / pd.Timedelta(days=1)
    if days[0] < 1 or days[0] != int(days[0]) or not (days == days[0]).all():
        return None
    n = int(days[0])
    if n == 3 and len(time) == 2 and time[0].dayofweek == 4:
        return AMBIGUOUS  # Friday -> Monday: business days, or every third day
    weekday = time[0].day_name()[:3].upper()
    return to_offset(f"{n // 7}W-{weekday}" if n % 7 == 0 else f"{n}D").freqstr


def _month_freq(time: pd.DatetimeIndex, n: int) -> str | None:
    """Year, quarter or month starts/ends `n` months apart, anchored like pandas' infer_freq."""
    m = time[0].month - 1
    for anchored, year, quarter, month in ((time.is_month_start, "YS", "QS", "MS"),
                                           (time.is_month_end, "YE", "QE", "ME")):
        if anchored.all():
            if n % 12 == 0:
                return to_offset(f"{n // 12}{year}-{_MONTHS[m]}").freqstr
            if n % 3 == 0:
                return to_offset(f"{n // 3}{quarter}-{_MONTHS[m % 3 + 9]}").freqstr
            return to_offset(f"{n}{month}").freqstr
    return None


@functools.lru_cache(maxsize=64)
def tick_step(freq: str) -> np.timedelta64 | None:
    """One step of a fixed-length frequency ("h", "15min", "D"); None for calendar ones ("MS", "B") and "step".

    Example:
        >>> tick_step("15min"), tick_step("MS")
        (np.timedelta64(900000000000,'ns'), None)
    """
    if freq == "step":
        return None
    offset = to_offset(freq)
    return np.timedelta64(offset.nanos, "ns") if isinstance(offset, pd.offsets.Tick) else None


def is_regular(time: pd.Index, freq: str) -> bool:
    """True when `time` is already gap-free at `freq` (checked in NumPy; False when not sure)."""
    if len(time) < 2:
        return True
    step = 1 if freq == "step" else tick_step(freq)
    if step is None or getattr(time, "tz", None) is not None:
        return False  # calendar frequencies and time zones: pandas decides
    values = time.values  # (rows,); checked a block at a time: no temporary of the series' length
    return all(bool((np.diff(values[a:a + BLOCK + 1]) == step).all()) for a in range(0, len(values) - 1, BLOCK))


def regular_index(time: pd.Index, freq: str, sid: str, source: str) -> pd.Index:
    """The regular index from ``time[0]`` to ``time[-1]`` at `freq` (or in integer steps).

    Raises DataError when it would hold over MAX_GRID points and 100 times the rows: a
    frequency far finer than the data's, which would otherwise exhaust memory.
    """
    if freq == "step":
        size, unit = int(time[-1] - time[0]) + 1, "steps"
    else:
        offset = to_offset(freq)
        try:
            step = pd.Timedelta(offset)
        except ValueError:
            step = pd.Timedelta(days=1)  # calendar offsets step a day or more
        size, unit = (time[-1] - time[0]) // step + 1, f"{freq!r} timestamps"
    if size > max(MAX_GRID, 100 * len(time)):
        fix = "Fix the steps" if freq == "step" else "Pass --freq with the data's frequency, or fix the timestamps"
        raise DataError(f"Series {sid!r} in {label(source)} would need {size:,} {unit} from {stamp(time[0])} to "
                        f"{stamp(time[-1])} for its {len(time):,} rows; expected evenly spaced rows. {fix}.")
    if freq == "step":
        return pd.RangeIndex(time[0], time[-1] + 1, name=time.name)
    return pd.date_range(time[0], time[-1], freq=freq, unit=time.unit, name=time.name)


def season_for(freq: str) -> int:
    """The usual seasonal period for a pandas frequency: the daily cycle for sub-daily data,
    the weekly one for days, the yearly one for weeks, months and quarters; 1 otherwise.

    Multiples divide the period when they can ("2h" -> 12) and give 1 when not ("5h").

    Example:
        >>> [season_for(f) for f in ["h", "15min", "D", "B", "W-SUN", "MS", "QS-JAN", "YS-JAN", "step", "2h"]]
        [24, 96, 7, 5, 52, 12, 4, 1, 1, 12]
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "nonsense" warns of a deprecated alias before it fails
            offset = to_offset(freq)
    except (ValueError, TypeError):
        return 1  # "step" and anything unknown: no seasonal period assumed
    code = offset.rule_code.split("-")[0]
    core = code if code in _SEASONS else code.lstrip("B").rstrip("SE")  # MS, ME, BMS, QS, YE ... -> M, Q, Y
    period, n = _SEASONS.get(core, 1), abs(offset.n) or 1
    return period // n if period % n == 0 else 1


_SEASONS = {"min": 1440, "h": 24, "D": 7, "B": 5, "C": 5, "W": 52, "M": 12, "Q": 4, "Y": 1}


def fill_gaps(block: np.ndarray, fill: str, sid: str, grid: pd.Index, columns, source: str) -> np.ndarray:
    """Fills NaN in a (len(grid), n_features) block: linear in position, forward, or with zeros."""
    if fill == "zero":
        return np.nan_to_num(block, nan=0.0)
    if fill == "ffill":
        lead = np.flatnonzero(np.isnan(block[0]))
        if lead.size:
            raise DataError(f"Column {columns[lead[0]]!r} of series {sid!r} in {label(source)} starts with a missing "
                            f"value at {stamp(grid[0])}; --fill ffill has nothing to carry forward. "
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
