"""Ingest beyond one CSV of one series: wide files, Parquet/compressed/stdin input, the date-sniffing
cap, and the frequencies of series too short for ``pd.infer_freq``.

The one-line error messages of these features are rows of ``INGEST_ERROR_CASES`` in test_data.py.
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import io
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecaster import _time
from forecaster.data import Panel, Series, from_frame, read_csv, read_options
from forecaster.errors import ConfigError, DataError

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
# Three monthly series that start and end at different months, as a spreadsheet holds them.
WIDE = ("month,north,south,east\n2020-01-01,,5,1\n2020-02-01,1,6,2\n2020-03-01,2,7,\n"
        "2020-04-01,3,,\n2020-05-01,4,,\n")


def _write(tmp_path: Path, content: bytes | str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# ------------------------------------------------------------------ wide files

def test_wide_file_reads_one_series_per_column_with_a_notice(tmp_path, capsys):
    panel = read_csv(_write(tmp_path, WIDE))
    assert (panel.layout, panel.target, panel.covariates, panel.id_col, panel.time_col) == \
        ("wide", "value", (), None, "month")
    assert panel.ids == ("north", "south", "east") and panel.lengths == (4, 3, 2)  # empty ends trimmed
    assert [s.values[:, 0].tolist() for s in panel.series] == [[1, 2, 3, 4], [5, 6, 7], [1, 2]]
    assert panel.series[0].time[0] == pd.Timestamp("2020-02-01") and panel.freq == "MS"
    assert panel.notices == ("Read 3 series from the columns of data.csv (wide layout); pass --target COL to "
                             "forecast one of them, e.g. --target north.",)
    assert panel.schema()["layout"] == "wide" and panel.schema()["target"] == "value"
    assert capsys.readouterr() == ("", "")  # a notice is data for the caller, never printed here


def test_wide_is_automatic_only_when_nothing_else_was_asked(tmp_path):
    path = _write(tmp_path, WIDE)
    single = read_csv(path, target="south", fill="interpolate")
    assert (single.layout, single.ids, single.notices) == ("single", ("south",), ())
    assert read_csv(path, target="north", covariates="south", fill="zero").layout == "single"
    with pytest.raises(DataError, match=r"several numeric columns \(north, south, east\); pass --target"):
        read_csv(path, wide=False)
    text = _write(tmp_path, "date,a,b,note\n2020-01-01,1,2,x\n2020-01-02,3,4,y\n", "text.csv")
    with pytest.raises(DataError, match="several numeric columns"):
        read_csv(text)  # a text column: not a wide file


def test_wide_true_reads_even_one_column_without_a_notice(tmp_path):
    panel = read_csv(_write(tmp_path, "date,sales\n2020-01-01,1\n2020-01-02,2\n"), wide=True)
    assert (panel.layout, panel.ids, panel.target, panel.notices) == ("wide", ("sales",), "value", ())


def test_wide_interior_gaps_follow_fill(tmp_path):
    path = _write(tmp_path, "date,a,b\n2020-01-01,1,\n2020-01-02,,5\n2020-01-03,3,6\n2020-01-04,4,\n")
    with pytest.raises(DataError, match=r"Column 'a' of data.csv has 1 missing value\(s\) between its first and last"):
        read_csv(path)
    panel = read_csv(path, fill="interpolate")
    assert panel.series[0].values[:, 0].tolist() == [1, 2, 3, 4] and panel.series[1].values[:, 0].tolist() == [5, 6]
    missing_row = _write(tmp_path, "date,a,b\n2020-01-01,1,2\n2020-01-03,3,4\n", "gap.csv")
    assert read_csv(missing_row, freq="D", fill="ffill").series[1].values[:, 0].tolist() == [2, 2, 4]


def test_wide_from_frame_with_a_datetime_index():
    index = pd.date_range("2021-01-04", periods=4, freq="W-MON", name="week")
    panel = from_frame(pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [np.nan, 1, 2, 3]}, index=index))
    assert (panel.ids, panel.lengths, panel.freq, panel.season) == (("x", "y"), (4, 3), "W-MON", 52)


@pytest.mark.parametrize("content, kwargs", [
    (WIDE, {}),
    ("date,y,c\n2020-01-01,1,5\n2020-01-02,2,6\n2020-01-03,3,7\n", {"target": "y", "covariates": ["c"]}),
    ("id,ds,y\na,1,1\na,2,2\nb,1,3\n", {"id_col": "id"}),
])
def test_schema_round_trips_through_read_options(tmp_path, content, kwargs):
    path = _write(tmp_path, content)
    panel = read_csv(path, **kwargs)
    again = read_csv(path, **read_options(panel.schema()))
    assert again == dataclasses.replace(panel, notices=()) and again.schema() == panel.schema()


def test_read_options_of_a_schema_saved_before_layouts():
    old = {"target": "y", "covariates": [], "time_col": "date", "id_col": None, "freq": "MS", "season": 12}
    assert read_options(old) == {"target": "y", "time_col": "date", "id_col": None, "covariates": None,
                                 "freq": "MS", "season": 12, "fill": "error", "wide": False,
                                 "future_covariates": None}


def test_panel_stays_backwards_compatible():
    series = (Series("y", pd.Index([1, 2], dtype=np.int64), np.ones((2, 1))),)
    panel = Panel(series, "y", (), "ds", None, "step", 1, "<frame>")
    assert (panel.fill, panel.wide, panel.notices, panel.layout) == ("error", False, (), "single")
    assert dataclasses.replace(panel, id_col="id").layout == "long"
    with pytest.raises(dataclasses.FrozenInstanceError):
        panel.notices = ("x",)


def test_bad_wide_value_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="wide must be True, False or None, got 'yes'"):
        read_csv(_write(tmp_path, WIDE), wide="yes")


# ------------------------------------------------------------------ formats

@pytest.mark.parametrize("suffix", [".csv.gz", ".gz", ".csv.bz2", ".csv.xz", ".csv.zip"])
def test_compressed_csv_reads_like_plain(tmp_path, suffix):
    frame = pd.read_csv(SAMPLE / "usaccdeaths.csv")
    path = tmp_path / f"deaths{suffix}"
    frame.to_csv(path, index=False, compression="gzip" if suffix == ".gz" else "infer")
    panel = read_csv(path)
    assert panel == dataclasses.replace(read_csv(SAMPLE / "usaccdeaths.csv"), source=str(path))


def test_compressed_files_are_known_by_their_bytes_and_their_header_checked(tmp_path):
    assert read_csv(_write(tmp_path, gzip.compress(b"date,y\n2020-01-01,1\n2020-01-02,2\n"))).lengths == (2,)
    with pytest.raises(DataError, match="data.csv.gz looks semicolon-separated"):
        read_csv(_write(tmp_path, gzip.compress(b"date;y\n2020-01-01;1,5\n"), "data.csv.gz"))
    with pytest.raises(DataError, match="data.csv.bz2 looks semicolon-separated"):  # checked after parsing
        read_csv(_write(tmp_path, bz2.compress(b"date;y\n2020-01-01;1\n"), "data.csv.bz2"))
    with pytest.raises(DataError, match=r"Cannot decompress data.gz: Not a gzipped file"):
        read_csv(_write(tmp_path, b"date,y\n2020-01-01,1\n", "data.gz"))


def test_parquet_reads_like_csv_and_counts_rows_without_lines(tmp_path):
    pytest.importorskip("pyarrow")
    frame = pd.read_csv(SAMPLE / "usaccdeaths.csv", parse_dates=["date"])
    frame.to_parquet(tmp_path / "deaths.parquet")
    panel = read_csv(tmp_path / "deaths.parquet")
    assert (panel.target, panel.freq, panel.lengths) == ("deaths", "MS", (72,))
    np.testing.assert_array_equal(panel.series[0].values, read_csv(SAMPLE / "usaccdeaths.csv").series[0].values)
    frame.loc[3, "deaths"] = np.nan
    frame.to_parquet(tmp_path / "gap.parquet")
    with pytest.raises(DataError, match=r"missing value\(s\) \(first at row 4, 1973-04-01"):
        read_csv(tmp_path / "gap.parquet")


def test_parquet_errors_are_one_line(tmp_path):
    pytest.importorskip("pyarrow")
    good = io.BytesIO()
    pd.DataFrame({"date": ["2020-01-01"], "y": [1.0]}).to_parquet(good)
    for content in (b"date,y\n2020-01-01,1\n", good.getvalue()[:-30], b"PAR1 not really"):
        with pytest.raises(DataError, match=r"^Cannot read data.parquet as a Parquet file: [^\n]*save the data as CSV"):
            read_csv(_write(tmp_path, content, "data.parquet"))
    with pytest.raises(DataError, match=r"File not found: .*gone.parquet. Check the path and pass an existing CSV or "):
        read_csv(tmp_path / "gone.parquet")
    with pytest.raises(DataError, match=r"data.parquet is empty \(0 bytes\)"):
        read_csv(_write(tmp_path, b"", "data.parquet"))


def test_parquet_without_pyarrow_names_the_install(tmp_path, monkeypatch):
    path = _write(tmp_path, b"PAR1", "data.parquet")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    monkeypatch.setitem(sys.modules, "fastparquet", None)
    with pytest.raises(DataError, match=r"^Reading data.parquet needs pyarrow, .* install it with `pip install pyarrow`"):
        read_csv(path)


def test_other_files_are_named_as_files(tmp_path):
    with pytest.raises(DataError, match=r"is a directory, not a file; pass the path of a CSV or Parquet file"):
        read_csv(tmp_path)
    with pytest.raises(DataError, match=r"^book.xlsx is a spreadsheet workbook, .* save the sheet as CSV"):
        read_csv(_write(tmp_path, b"PK\x03\x04", "book.xlsx"))


def test_dash_reads_csv_from_stdin(monkeypatch):
    _stdin(monkeypatch, (SAMPLE / "usaccdeaths.csv").read_bytes())
    panel = read_csv("-")
    assert (panel.source, panel.target, panel.lengths) == ("<stdin>", "deaths", (72,))
    _stdin(monkeypatch, gzip.compress(b"date,y\n2020-01-01,1\n2020-01-02,x\n"))
    with pytest.raises(DataError, match=r"Non-numeric value 'x' in column 'y' of <stdin> at row 2 \(line 3\)"):
        read_csv(Path("-"))


def test_dash_reads_parquet_from_stdin(monkeypatch):
    pytest.importorskip("pyarrow")
    buffer = io.BytesIO()
    pd.DataFrame({"ds": [1, 2, 3], "y": [1.0, 2.0, 3.0]}).to_parquet(buffer)
    _stdin(monkeypatch, buffer.getvalue())
    assert read_csv("-").lengths == (3,)


def test_dash_without_data_is_one_line(monkeypatch):
    _stdin(monkeypatch, b"")
    with pytest.raises(DataError, match=r"^<stdin> is empty \(0 bytes\); .* Check what is piped in"):
        read_csv("-")
    monkeypatch.setattr(sys, "stdin", type("Tty", (), {"isatty": lambda self: True})())
    with pytest.raises(DataError, match=r"^No data on standard input: '-' reads a CSV piped in"):
        read_csv("-")


# ------------------------------------------------------------------ date sniffing

@pytest.mark.parametrize("layout", [
    "date,y\n2020-01-01,{big}\n2020-01-02,1\n",  # a value cell: sniffed for dates before the fix
    "date,y\n{big},1\n2020-01-02,1\n",  # the time column itself
    "when,y\n{big},1\n2020-01-02,1\n",  # no time-like name: the values are sniffed
    "{big},y\n1,2\n",  # a header cell
])
def test_a_50_mb_cell_is_rejected_quickly(tmp_path, layout):
    path = _write(tmp_path, layout.format(big="1" * 50_000_000))
    start = time.perf_counter()
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert time.perf_counter() - start < 10  # over 11 minutes before the fix
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


def test_dates_are_sniffed_only_where_a_time_column_may_be(tmp_path, monkeypatch):
    calls = []
    real = _time._looks_like_dates
    monkeypatch.setattr(_time, "_looks_like_dates", lambda col: calls.append(col.name) or real(col))
    read_csv(_write(tmp_path, "date,note,y\n2020-01-01,a,1\n2020-01-02,b,2\n"), target="y")
    assert calls == []  # a time-like name was found
    read_csv(_write(tmp_path, "when,y\n2020-01-01,1\n2020-01-02,2\n"))
    assert calls == ["when", "y"]
    assert not real(pd.Series([20200101, 20200102])) and not real(pd.Series(["2020-01-01" + " " * 60]))
    assert real(pd.Series(["2020-01-01 00:00:00+01:00"]))


# ------------------------------------------------------------------ short series and --freq

@pytest.mark.parametrize("stamps, freq", [
    (["2020-01-01", "2020-02-01"], "MS"),
    (["2020-01-31", "2020-02-29"], "ME"),
    (["2020-01-01", "2020-03-01"], "2MS"),
    (["2020-01-01", "2020-04-01"], "QS-OCT"),
    (["2020-01-01", "2020-04-01", "2020-07-01"], "QS-OCT"),
    (["2020-02-01", "2020-05-01"], "QS-NOV"),
    (["2020-03-31", "2020-06-30"], "QE-DEC"),
    (["2020-01-01", "2021-01-01"], "YS-JAN"),
    (["2020-07-01", "2021-07-01"], "YS-JUL"),
    (["2020-12-31", "2021-12-31"], "YE-DEC"),
    (["2020-01-05", "2020-01-12"], "W-SUN"),
    (["2020-01-05", "2020-02-02"], "4W-SUN"),
    (["2020-01-01", "2020-01-02"], "D"),
    (["2020-01-01", "2020-01-03", "2020-01-05"], "2D"),
    (["2020-01-01 00:00", "2020-01-01 01:00"], "h"),
    (["2020-01-01 00:00", "2020-01-01 00:15"], "15min"),
])
def test_short_series_get_calendar_frequencies(stamps, freq):
    panel = from_frame(pd.DataFrame({"date": stamps, "y": np.arange(len(stamps), dtype=float)}))
    assert panel.freq == freq
    # a longer series at that frequency gets the same name from pandas, so panels mixing both agree
    longer = pd.date_range(stamps[0], periods=8, freq=freq)
    assert _time.infer_freq(longer) == freq


def test_two_months_forecast_on_month_starts(tmp_path):
    panel = read_csv(_write(tmp_path, "date,y\n2020-01-01,1\n2020-02-01,2\n"))
    assert panel.freq == "MS"  # was "744h"
    assert panel.future_time(0, 3).strftime("%Y-%m-%d").tolist() == ["2020-03-01", "2020-04-01", "2020-05-01"]
    yearly = read_csv(_write(tmp_path, "year,y\n1990,1\n1991,2\n", "years.csv"))
    assert yearly.freq == "YS-JAN" and yearly.future_time(0, 1)[0] == pd.Timestamp("1992-01-01")


def test_short_and_long_series_share_a_frequency():
    long = pd.DataFrame({"id": "long", "date": pd.date_range("2019-01-01", periods=24, freq="MS"), "y": 1.0})
    short = pd.DataFrame({"id": "short", "date": pd.to_datetime(["2020-06-01", "2020-07-01"]), "y": 2.0})
    panel = from_frame(pd.concat([long, short]), id_col="id")
    assert panel.freq == "MS" and panel.lengths == (24, 2)  # was: different frequencies ('MS', '720h')
    weekdays = pd.DataFrame({"id": "b", "date": pd.bdate_range("2020-01-01", periods=10), "y": 1.0})
    friday_monday = pd.DataFrame({"id": "fm", "date": pd.to_datetime(["2020-01-03", "2020-01-06"]), "y": 1.0})
    assert from_frame(pd.concat([weekdays, friday_monday]), id_col="id").freq == "B"  # the long series decides


def test_odd_but_valid_freq_values_are_normalised():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FutureWarning for old aliases reaches the user
        assert [_time.check_freq(f) for f in ("1.5D", " D", "H", "2h", "step", None)] == \
            ["36h", "D", "h", "2h", "step", None]
