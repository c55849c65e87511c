"""CSV plumbing behind :mod:`forecaster.data`: load a file, pick column roles, parse values.

Private. Every error names the file, the column and the row and says how to fix it.
Rows are counted like a spreadsheet user would: data row 1 is the first row under the
header, so data row ``r`` sits on line ``r + 1`` of the file.

Example:
    >>> where("data.csv", 6), where("<frame>", 6)
    ('row 7 (line 8)', 'row 7')
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from forecaster.errors import ConfigError, DataError

# Lower-cased column names that are taken as the time column without asking.
TIME_NAMES = ("date", "ds", "time", "timestamp", "datetime", "period", "month", "year", "week", "day")
# Integer time columns whose values all fall in this range are calendar years (sunspots' `year`).
YEAR_RANGE = (1000, 2999)


def label(source: str) -> str:
    """The name a message uses for `source`: the file's basename, or ``<frame>`` as is."""
    return source if source.startswith("<") else (os.path.basename(source) or source)


def where(source: str, pos: int) -> str:
    """Names 0-based data row `pos` of `source` for a message, with its file line when a file."""
    row = int(pos) + 1
    return f"row {row}" if source.startswith("<") else f"row {row} (line {row + 1})"


def show(value: object, limit: int = 40) -> str:
    """Echoes a bad value in a message, quoted when text and cut to `limit` characters."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def names(columns, limit: int = 12) -> str:
    """Lists column names for a message, cut after `limit` (wide M4 files have 961)."""
    columns = [str(c) for c in columns]
    if len(columns) <= limit:
        return ", ".join(columns)
    return ", ".join(columns[:limit]) + f", ... ({len(columns)} columns)"


def load_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Reads a UTF-8 CSV (BOM and CRLF accepted) into a frame, or raises one clear DataError."""
    p, name = Path(path), Path(path).name or str(path)
    if not p.exists():
        raise DataError(f"File not found: {path}. Check the path and pass an existing CSV file.")
    if p.is_dir():
        raise DataError(f"{path} is a directory, not a CSV file; pass the path of a CSV file.")
    if p.stat().st_size == 0:
        raise DataError(f"{name} is empty (0 bytes); expected a header row and data rows. Check the file was written.")
    try:
        # low_memory=False: chunked parsing can give one column mixed types on big files.
        df = pd.read_csv(p, encoding="utf-8-sig", low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{name} has no header and no data (blank lines only); "
                        "expected a header row and data rows. Check the file was written completely.") from None
    except pd.errors.ParserError as exc:
        reason = " ".join(str(exc).split())
        raise DataError(f"Cannot parse {name} as CSV: {reason}. Give every line as many fields as the header.") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8.") from None
    except OSError as exc:
        raise DataError(f"Cannot read {name}: {exc.strerror or exc}. Check the file's permissions.") from None
    if not isinstance(df.index, pd.RangeIndex):
        # pandas silently turns one surplus field per row into an index.
        raise DataError(f"Cannot parse {name} as CSV: data rows have more fields than the header ({names(df.columns)}). "
                        "Give every line as many fields as the header.")
    return df


def tidy_frame(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Returns `df` with stripped string column names and a named index as a column; checks it has rows."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"from_frame expects a pandas DataFrame, got {type(df).__name__}")
    if df.index.name is not None or isinstance(df.index, (pd.DatetimeIndex, pd.MultiIndex)):
        df = df.reset_index()  # a time or id index is data; an anonymous row index is not
    cols = [str(c).strip() for c in df.columns]
    repeated = sorted({c for c in cols if cols.count(c) > 1})
    if repeated:
        raise DataError(f"{label(source)} repeats column names ({names(repeated)}); expected unique names. Rename them.")
    df = df.set_axis(cols, axis=1)
    if len(df) == 0:
        raise DataError(f"{label(source)} has a header ({names(cols)}) but no data rows; add at least one row below it.")
    return df


def require(df: pd.DataFrame, column: str, flag: str, source: str) -> str:
    """Returns `column` if `df` has it, else the house-style 'not found' DataError for `flag`."""
    if column not in df.columns:
        raise DataError(f"Column {column!r} not found in {label(source)}. Available: {names(df.columns)}. "
                        f"Pass {flag} with one of them.")
    return column


def _looks_like_dates(col: pd.Series) -> bool:
    """True when the first 20 non-empty values of a text column all parse as dates."""
    sample = col.dropna().head(20)
    if sample.empty or ptypes.is_numeric_dtype(sample):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Could not infer format" is expected on non-dates
        try:
            return bool(pd.to_datetime(sample.astype(str), errors="coerce").notna().all())
        except (ValueError, TypeError, OverflowError):
            return False


def detect_time(df: pd.DataFrame, source: str, exclude: set[str]) -> str:
    """Finds the time column: the only one with a time-like name, else the only date-valued one."""
    rest = [c for c in df.columns if c not in exclude]
    for found in ([c for c in rest if c.lower() in TIME_NAMES], [c for c in rest if _looks_like_dates(df[c])]):
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise DataError(f"{label(source)} has several possible time columns ({names(found)}); "
                            "pass --time-col with one of them.")
    raise DataError(f"No time column found in {label(source)}: no column is named {'/'.join(TIME_NAMES)} or holds "
                    f"dates. Columns: {names(df.columns)}. Pass --time-col with the column of timestamps.")


def pick_target(df: pd.DataFrame, source: str, used: set[str]) -> str:
    """The target when none is given: the only value column, else the only numeric one."""
    rest = [c for c in df.columns if c not in used]
    if len(rest) == 1:
        return rest[0]
    numeric = [c for c in rest if ptypes.is_numeric_dtype(df[c])]
    if len(numeric) == 1:
        return numeric[0]
    if numeric:
        raise DataError(f"{label(source)} has several numeric columns ({names(numeric)}); "
                        "pass --target with one of them.")
    raise DataError(f"{label(source)} has no numeric column to forecast besides {names(sorted(used))}; "
                    f"columns: {names(df.columns)}. Pass --target with the column of values.")


def to_float(df: pd.DataFrame, column: str, source: str) -> np.ndarray:
    """Column `column` as float64 (NaN where empty); non-numbers and infinities raise DataError."""
    col = df[column]
    if ptypes.is_numeric_dtype(col):
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.flatnonzero(np.isnan(values) & col.notna().to_numpy())
        if bad.size:
            raise DataError(f"Non-numeric value {show(col.iloc[bad[0]])} in column {column!r} of {label(source)} at "
                            f"{where(source, bad[0])} ({bad.size} row(s) in all); expected numbers. Fix or remove them.")
    inf = np.flatnonzero(np.isinf(values))
    if inf.size:
        raise DataError(f"Infinite value {show(col.iloc[inf[0]])} in column {column!r} of {label(source)} at "
                        f"{where(source, inf[0])}; expected finite numbers. Replace it, or empty the cell and pass --fill.")
    return values


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
        return pd.DatetimeIndex(col)
    if ptypes.is_bool_dtype(col) or not ptypes.is_numeric_dtype(col):
        return _parse_dates(col, column, source)
    values = col.to_numpy()
    if ptypes.is_float_dtype(col):
        frac = np.flatnonzero(values != np.round(values))
        if frac.size:
            raise DataError(f"Column {column!r} of {label(source)} holds numbers that are not whole steps "
                            f"({show(values[frac[0]])} at {where(source, frac[0])}); expected dates or integer steps. "
                            "Convert it to dates (e.g. 1949-02-01) or pass --time-col with another column.")
    steps = values.astype(np.int64)
    if YEAR_RANGE[0] <= steps.min() and steps.max() <= YEAR_RANGE[1]:
        return pd.DatetimeIndex((steps - 1970).astype("datetime64[Y]").astype("datetime64[s]"))
    return pd.Index(steps, dtype=np.int64)


def _parse_dates(col: pd.Series, column: str, source: str) -> pd.DatetimeIndex:
    """Parses text timestamps; falls back to ISO 8601 for mixed precision, UTC for mixed offsets."""
    text = col.astype(str)
    best = None
    for options in ({}, {"format": "ISO8601"}, {"format": "ISO8601", "utc": True}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # dateutil fallback warnings; bad rows are reported below
            try:
                parsed = pd.to_datetime(text, errors="coerce", **options)
            except (ValueError, TypeError, OverflowError):
                continue  # e.g. "Mixed timezones detected": the UTC pass handles it
        if best is None or parsed.isna().sum() < best.isna().sum():
            best = parsed
        if best.notna().all():
            return pd.DatetimeIndex(best)
    bad = 0 if best is None else int(np.flatnonzero(best.isna().to_numpy())[0])
    raise DataError(f"Cannot read {show(text.iloc[bad])} in column {column!r} of {label(source)} at "
                    f"{where(source, bad)} as a date; expected timestamps like 2020-01-31 or 2020-01-31 13:00. "
                    "Fix the value, or pass --time-col with the right column.")


def stamp(t: object) -> str:
    """A timestamp or integer step as a message shows it."""
    return f"step {t}" if isinstance(t, (int, np.integer)) else str(t)


def series_codes(df: pd.DataFrame, id_col: str | None, target: str, source: str) -> tuple[np.ndarray, list[str]]:
    """Per-row series codes and the ids as text, in order of first appearance (one series when wide)."""
    if id_col is None:
        return np.zeros(len(df), dtype=np.intp), [target]
    col = df[id_col]
    missing = np.flatnonzero(col.isna().to_numpy())
    if missing.size:
        raise DataError(f"Missing id in column {id_col!r} of {label(source)} at {where(source, missing[0])}; "
                        "expected an id on every row. Fill it in or remove the row.")
    if ptypes.is_float_dtype(col) and (col == col.round()).all():
        col = col.astype(np.int64)  # ids 1.0, 2.0 read as floats are the ids "1", "2"
    codes, uniques = pd.factorize(col.astype(str))
    return codes.astype(np.intp), [str(u) for u in uniques]


def _pandas_freq(time: pd.DatetimeIndex) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 warns that infer_freq will return an offset
        try:
            found = pd.infer_freq(time)
        except (ValueError, TypeError):
            return None
    return getattr(found, "freqstr", found)


def _infer_one(time: pd.DatetimeIndex) -> str | None:
    """One series' frequency: pandas' answer, else the most common answer over short windows
    (a series with gaps still has gap-free stretches), else its most common spacing."""
    if len(time) < 2:
        return None
    found = _pandas_freq(time) if len(time) >= 3 else None
    if found is None and len(time) >= 4:
        starts = np.unique(np.linspace(0, len(time) - 4, num=min(25, len(time) - 3)).astype(int))
        votes = pd.Series([_pandas_freq(time[s: s + 4]) for s in starts]).dropna()
        found = votes.mode().iloc[0] if len(votes) else None
    if found is None:
        found = pd.tseries.frequencies.to_offset((time[1:] - time[:-1]).value_counts().index[0]).freqstr
    return found


def resolve_freq(freq: str | None, times: list[pd.Index], ids: list[str], time_col: str, source: str) -> str:
    """The panel's one frequency: "step" for integer time, else `freq` checked, else inferred."""
    if not isinstance(times[0], pd.DatetimeIndex):
        if freq not in (None, "step"):
            raise ConfigError(f"--freq {freq!r} needs dates, but column {time_col!r} of {label(source)} holds "
                              "integer steps. Leave out --freq, or convert the column to dates.")
        return "step"
    if freq is not None:
        try:
            return pd.tseries.frequencies.to_offset(freq).freqstr
        except (ValueError, TypeError):
            raise ConfigError(f"Unknown frequency {freq!r}; expected a pandas offset alias such as h, D, W, MS, "
                              "QS or YS. Pass --freq with one of them.") from None
    found: dict[str, str] = {}
    for sid, time in zip(ids, times):
        one = _infer_one(time)
        if one is not None:
            found.setdefault(one, sid)
    if len(found) > 1:
        listed = ", ".join(f"{f!r} for {sid!r}" for f, sid in list(found.items())[:4])
        raise DataError(f"Series in {label(source)} have different frequencies ({listed}); expected one. "
                        "Pass --freq to choose one.")
    if not found:
        raise DataError(f"Cannot infer the frequency of {label(source)}: every series has a single timestamp. "
                        "Pass --freq, e.g. --freq h, D or MS.")
    return next(iter(found))


def season_for(freq: str) -> int:
    """The usual seasonal period for a pandas frequency: the daily cycle for sub-daily data,
    the weekly one for days, the yearly one for weeks, months and quarters; 1 otherwise.

    Multiples divide the period when they can ("2h" -> 12) and give 1 when not ("5h").

    Example:
        >>> [season_for(f) for f in ["h", "15min", "D", "B", "W-SUN", "MS", "QS-JAN", "YS-JAN", "step", "2h"]]
        [24, 96, 7, 5, 52, 12, 4, 1, 1, 12]
    """
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        return 1  # "step" and anything unknown: no seasonal period assumed
    code = offset.rule_code.split("-")[0]
    core = code if code in _SEASONS else code.lstrip("B").rstrip("SE")  # MS, ME, BMS, QS, YE ... -> M, Q, Y
    period, n = _SEASONS.get(core, 1), abs(offset.n) or 1
    return period // n if period % n == 0 else 1


_SEASONS = {"min": 1440, "h": 24, "D": 7, "B": 5, "C": 5, "W": 52, "M": 12, "Q": 4, "Y": 1}
