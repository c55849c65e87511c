"""File plumbing behind :mod:`forecaster.data`: load a file, pick column roles, parse values, check rows.

Private. Every error names the file, the column and the row and says how to fix it.
Rows are counted like a spreadsheet user would: data row 1 is the first row under the
header, so data row ``r`` sits on line ``r + 1`` of a CSV file (Parquet files have rows only).

:func:`load` reads CSV (UTF-8, BOM and CRLF accepted; gzip, bz2, zip, xz by extension, gzip
also by its first bytes), Parquet (``.parquet``/``.pq`` or the ``PAR1`` marker; needs
pyarrow) and ``-``: either of them on standard input.

Example:
    >>> where("data.csv", 6), where("<frame>", 6), where("data.parquet", 6)
    ('row 7 (line 8)', 'row 7', 'row 7')
    >>> source_name("-"), label("<stdin>"), label("/tmp/data.csv.gz")
    ('<stdin>', '<stdin>', 'data.csv.gz')
"""

from __future__ import annotations

import io
import lzma
import os
import re
import sys
import zipfile
import zlib
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from forecaster.errors import DataError

STDIN = "<stdin>"
_PARQUET = (".parquet", ".pq")
_COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")
_WORKBOOKS = (".xlsx", ".xlsm", ".xls", ".ods")
FILL_HINT = "Pass --fill interpolate|ffill|zero to fill them"
_HEAD = 65536  # bytes read up front to tell the format and check the separator
# 1,5 and 1.234,5: a number written with a decimal comma (or a thousands comma, as in 1,500).
_DECIMAL_COMMA = re.compile(r"\s*[+-]?(\d+|\d{1,3}(\.\d{3})+),\d+\s*")


def label(source: str) -> str:
    """The name a message uses for `source`: the file's basename, or ``<frame>`` as is."""
    return source if source.startswith("<") else (os.path.basename(source) or source)


def where(source: str, pos: int) -> str:
    """Names 0-based data row `pos` of `source` for a message, with its line when CSV text."""
    row = int(pos) + 1
    text = source == STDIN or not (source.startswith("<") or source.lower().endswith(_PARQUET))
    return f"row {row} (line {row + 1})" if text else f"row {row}"


def show(value: object, limit: int = 40) -> str:
    """Echoes a bad value in a message, quoted when text and cut to `limit` characters."""
    text = repr(value[: limit + 2]) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def names(columns, limit: int = 12) -> str:
    """Lists column names for a message, cut after `limit` (wide M4 files have 961), each cut at 40 characters."""
    columns = [str(c) if len(str(c)) <= 40 else str(c)[:37] + "..." for c in columns]
    if len(columns) <= limit:
        return ", ".join(columns)
    return ", ".join(columns[:limit]) + f", ... ({len(columns)} columns)"


def source_name(path: str | os.PathLike) -> str:
    """The ``Panel.source`` of data read from `path`: the path as text, ``<stdin>`` for ``-``."""
    text = os.fspath(path)
    return STDIN if text == "-" else text


def load(path: str | os.PathLike) -> pd.DataFrame:
    """Reads a CSV (plain or compressed) or Parquet file, or either on stdin for ``-``, into a frame.

    Raises one clear DataError for a missing, empty, unreadable or malformed file.
    """
    if os.fspath(path) == "-":
        data = _stdin_bytes()
        if data.startswith(b"PAR1"):
            return _read_parquet(io.BytesIO(data), STDIN)
        return _read_text(io.BytesIO(data), STDIN, data[:_HEAD])
    p = Path(path)
    name = p.name or str(path)
    head = _head(p, path, name)
    if p.suffix.lower() in _PARQUET or head.startswith(b"PAR1"):
        return _read_parquet(p, name)
    return _read_text(p, name, head)


def _stdin_bytes() -> bytes:
    stream = sys.stdin
    if stream is None or getattr(stream, "isatty", lambda: False)():
        raise DataError("No data on standard input: '-' reads a CSV piped in, as in "
                        "`cat data.csv | forecaster compare -`. Pipe the data in, or pass the file's path.")
    data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode()
    if not data:
        raise DataError(f"{STDIN} is empty (0 bytes); expected a header row and data rows. Check what is piped in.")
    return data


def _head(p: Path, path, name: str) -> bytes:
    """The first bytes of file `p`, once it is known to exist, be a file and not be empty."""
    if not p.exists():
        raise DataError(f"File not found: {path}. Check the path and pass an existing CSV or Parquet file.")
    if p.is_dir():
        raise DataError(f"{path} is a directory, not a file; pass the path of a CSV or Parquet file.")
    if p.suffix.lower() in _WORKBOOKS:
        raise DataError(f"{name} is a spreadsheet workbook, which is not read directly; "
                        "save the sheet as CSV and pass that file.")
    try:
        with open(p, "rb") as fh:
            head = fh.read(_HEAD)
    except OSError as exc:
        raise DataError(f"Cannot read {name}: {exc.strerror or exc}. Check the file's permissions.") from None
    if not head:
        raise DataError(f"{name} is empty (0 bytes); expected a header row and data rows. Check the file was written.")
    return head


def _read_parquet(src, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(src)
    except ImportError:
        raise DataError(f"Reading {name} needs pyarrow, a Parquet reader that is not installed; "
                        "install it with `pip install pyarrow`, or save the data as CSV.") from None
    except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(f"Cannot read {name} as a Parquet file: {_reason(exc)}. Check it was written completely "
                        "as Parquet, or save the data as CSV.") from None


def _read_text(src, name: str, head: bytes) -> pd.DataFrame:
    """Parses CSV text from a path or buffer; `head` is its first bytes, to sniff gzip and ';'."""
    gzipped = head.startswith(b"\x1f\x8b")
    compressed = gzipped or name.lower().endswith(_COMPRESSED)
    _check_separator(_first_line(head, gzipped, compressed), name)
    try:
        # low_memory=False: chunked parsing can give one column mixed types on big files.
        df = pd.read_csv(src, encoding="utf-8-sig", low_memory=False, compression="gzip" if gzipped else "infer")
    except pd.errors.EmptyDataError:
        raise DataError(f"{name} has no header and no data (blank lines only); "
                        "expected a header row and data rows. Check the file was written completely.") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"Cannot parse {name} as CSV: {_reason(exc)}. Give every line as many fields as the header.") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8.") from None
    except (EOFError, OSError, ValueError, zlib.error, lzma.LZMAError, zipfile.BadZipFile) as exc:
        raise _unreadable(exc, name, compressed) from None
    if len(df.columns) == 1:
        _check_separator(str(df.columns[0]), name)
    if not isinstance(df.index, pd.RangeIndex):
        # pandas silently turns one surplus field per row into an index.
        raise DataError(f"Cannot parse {name} as CSV: data rows have more fields than the header ({names(df.columns)}). "
                        "Give every line as many fields as the header.")
    return df


def _unreadable(exc: Exception, name: str, compressed: bool) -> Exception:
    """The DataError for a file that cannot be read or decompressed (`exc` itself if neither)."""
    if isinstance(exc, PermissionError) or (isinstance(exc, OSError) and not compressed):
        return DataError(f"Cannot read {name}: {exc.strerror or exc}. Check the file's permissions.")
    if compressed:
        return DataError(f"Cannot decompress {name}: {_reason(exc)}; expected a complete compressed CSV file. "
                         "Check the file was written completely, or pass it uncompressed.")
    return exc


def _reason(exc: Exception) -> str:
    """An exception's message on one line, cut short: pandas and pyarrow messages can be long."""
    text = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _first_line(head: bytes, gzipped: bool, compressed: bool) -> str:
    """The header line of CSV text starting with `head`, or "" when it cannot be told (pandas then reports)."""
    if gzipped:
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, _HEAD)  # a truncated stream is fine here
        except zlib.error:
            return ""
    elif compressed:
        return ""  # bz2, zip, xz: checked after parsing
    try:
        return head.split(b"\n", 1)[0].decode("utf-8").lstrip("\ufeff").rstrip("\r")
    except UnicodeDecodeError:
        return ""


def _check_separator(header: str, name: str) -> None:
    """Raises a hint when a header line has semicolons or tabs and no commas."""
    for sep, kind in ((";", "semicolon"), ("\t", "tab")):
        if sep in header and "," not in header:
            raise DataError(f"{name} looks {kind}-separated (header {show(header)}); save it with commas as "
                            "separators (and points as decimal marks), e.g. date,sales then 2020-01-01,1.5.")


def stamp(t: object) -> str:
    """A timestamp or integer step as a message shows it."""
    return f"step {t}" if isinstance(t, (int, np.integer)) else str(t)


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
    df = df.copy(deep=False)  # the caller's frame keeps its names; no column is copied
    df.columns = cols
    if len(df) == 0:
        raise DataError(f"{label(source)} has a header ({names(cols)}) but no data rows; add at least one row below it.")
    return df


def require(df: pd.DataFrame, column: str, flag: str, source: str) -> str:
    """Returns `column` if `df` has it, else the house-style 'not found' DataError for `flag`."""
    if column not in df.columns:
        raise DataError(f"Column {column!r} not found in {label(source)}. Available: {names(df.columns)}. "
                        f"Pass {flag} with one of them.")
    return column


def is_numeric(col: pd.Series) -> bool:
    """True for a column of numbers (booleans are not numbers here)."""
    return ptypes.is_numeric_dtype(col) and not ptypes.is_bool_dtype(col)


def _decimal_comma(value: object) -> bool:
    """True for text like '1,5' or '1.234,5': a number written with a decimal comma."""
    return isinstance(value, str) and len(value) <= 64 and _DECIMAL_COMMA.fullmatch(value) is not None


def pick_target(df: pd.DataFrame, source: str, used: set[str]) -> str:
    """The target when none is given: the only value column, else the only numeric one."""
    rest = [c for c in df.columns if c not in used]
    if len(rest) == 1:
        return rest[0]
    firsts = {c: df[c].dropna().iloc[0] for c in rest if not ptypes.is_numeric_dtype(df[c]) and df[c].notna().any()}
    commas = [c for c, v in firsts.items() if _decimal_comma(v)]
    if commas:  # text that should have been numbers: picking among the others would hide it
        raise DataError(f"Column {commas[0]!r} of {label(source)} holds {show(firsts[commas[0]])}, a number with a "
                        "decimal comma, so it is read as text; save the file with points as decimal marks (1.5, not 1,5).")
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
            value = col.iloc[bad[0]]
            fix = ("expected numbers with a point as the decimal mark; save the file with points as decimal marks "
                   "(1.5, not 1,5)") if _decimal_comma(value) else "expected numbers. Fix or remove them"
            raise DataError(f"Non-numeric value {show(value)} in column {column!r} of {label(source)} at "
                            f"{where(source, bad[0])} ({bad.size} row(s) in all); {fix}.")
    inf = np.flatnonzero(np.isinf(values))
    if inf.size:
        raise DataError(f"Infinite value {show(col.iloc[inf[0]])} in column {column!r} of {label(source)} at "
                        f"{where(source, inf[0])}; expected finite numbers. Replace it, or empty the cell and pass --fill.")
    return values


def series_codes(df: pd.DataFrame, id_col: str | None, target: str, source: str) -> tuple[np.ndarray, list[str]]:
    """Per-row series codes and the ids as text, in order of first appearance (one series without id_col)."""
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


def reject_empty_cells(values, columns, time, codes, ids, long_form: bool, source: str) -> None:
    """Under fill="error", raises on the first empty target/covariate cell in file order."""
    rows, cols = np.nonzero(np.isnan(values))
    if rows.size:
        r, j = rows[0], cols[0]
        count = int(np.isnan(values[:, j]).sum())
        who = f", series {ids[codes[r]]!r}" if long_form else ""
        raise DataError(f"Column {columns[j]!r} of {label(source)} has {count} missing value(s) (first at "
                        f"{where(source, r)}, {stamp(time[r])}{who}); expected a number on every row. "
                        f"{FILL_HINT}, or fix the file.")


def sorted_groups(time: pd.Index, codes: np.ndarray, ids: list[str], long_form: bool, source: str) -> list:
    """The rows of each series in time order; raises on a repeated (id, timestamp).

    Each group is a slice (a view: nothing copied, nothing sorted) when every series' rows
    come together and in time order, as in most files, else an array of row positions.

    >>> sorted_groups(pd.Index([1, 2, 1]), np.array([0, 0, 1]), ["a", "b"], True, "f.csv")
    [slice(0, 2, None), slice(2, 3, None)]
    >>> sorted_groups(pd.Index([2, 1]), np.array([0, 0]), ["a"], False, "f.csv")[0].tolist()
    [1, 0]
    """
    keys = time.asi8 if isinstance(time, pd.DatetimeIndex) else time.to_numpy()
    bounds = _ordered_bounds(keys, codes if long_form else None)
    if bounds is not None:
        return [slice(int(a), int(b)) for a, b in pairwise(bounds)]
    order = np.lexsort((keys, codes))  # by series code (first appearance), then time
    k, c = keys[order], codes[order]
    same = np.flatnonzero((k[1:] == k[:-1]) & (c[1:] == c[:-1]))
    if same.size:
        a, b = sorted(order[same[0]: same[0] + 2])
        who, per, hint = (f" for series {ids[c[same[0]]]!r}", " per series", "") if long_form else \
            ("", "", ", or pass --id-col if the file holds several series")
        raise DataError(f"Duplicate timestamp {stamp(time[a])}{who} in {label(source)} ({where(source, a)} and "
                        f"{where(source, b)}); expected one row per timestamp{per}. Remove one of them{hint}.")
    return np.split(order, np.flatnonzero(np.diff(c)) + 1)


def _ordered_bounds(keys: np.ndarray, codes: np.ndarray | None) -> np.ndarray | None:
    """Where each series' rows start (and the last ends) when they are already grouped, in
    strictly increasing time, series after series (``codes`` number them in order of first
    appearance; None: one series); None when they are not."""
    later = keys[1:] > keys[:-1]  # (rows - 1,)
    if codes is None:
        return np.array([0, len(keys)]) if later.all() else None
    new = codes[1:] != codes[:-1]  # a series starts at the next row
    if not (later | new).all() or (codes[1:] < codes[:-1]).any():  # out of order, or a series split
        return None
    return np.concatenate([[0], np.flatnonzero(new) + 1, [len(keys)]])


def wide_span(column: str, values: np.ndarray, order: np.ndarray, time: pd.Index, fill: str,
              source: str) -> np.ndarray:
    """Row positions, in time order, from a wide column's first value to its last; under
    fill="error", raises on an empty cell in between."""
    present = np.flatnonzero(~np.isnan(values[order]))
    if not present.size:
        raise DataError(f"Column {column!r} of {label(source)} has no values; expected numbers in every series "
                        "column of a wide file. Remove the column, or pass --target with another one.")
    rows = order[present[0]: present[-1] + 1]
    empty = rows[np.isnan(values[rows])]
    if fill == "error" and empty.size:
        r = int(empty.min())  # the first in file order
        raise DataError(f"Column {column!r} of {label(source)} has {empty.size} missing value(s) between its first "
                        f"and last values (first at {where(source, r)}, {stamp(time[r])}); expected a number on "
                        f"every row in between. {FILL_HINT}, or fix the file.")
    return rows
