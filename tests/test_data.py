"""Contract tests for forecaster.data: CSV -> Panel, and every ingest error's message.

``INGEST_ERROR_CASES`` is shared with the CLI tests: write ``csv`` (bytes) to ``data.csv`` in a
temporary folder (``None``: pass that path without creating it), run
``forecaster compare data.csv --models naive <flags>`` and expect exit code 1 with ``expected``
on stderr. ``WIDE_FLAG_ERROR_CASES`` has the same shape for the ``--wide`` flag.
Formats, wide files, date sniffing and short-series frequencies are tested in test_ingest.py.
"""

from __future__ import annotations

import doctest
import gzip
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecaster import _csv, _time, data
from forecaster.data import FILL_POLICIES, Panel, check_length, from_frame, read_csv, season_for
from forecaster.errors import ConfigError, DataError, ForecasterError

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
HOURS = "date,y\n2020-01-01 00:00,1\n2020-01-01 01:00,2\n2020-01-01 02:00,3\n"
GAPPY = b"date,y\n2020-01-01,1\n2020-01-02,\n2020-01-04,7\n2020-01-05,9\n"  # NaN on 01-02, 01-03 absent

# (case id, CSV bytes or None for a missing file, CLI flags, expected fragment of the one-line error)
INGEST_ERROR_CASES = [
    ("missing_file", None, [], "data.csv. Check the path"),
    ("empty_file", b"", [], "data.csv is empty (0 bytes)"),
    ("blank_lines_only", b"\n\n", [], "data.csv has no header and no data"),
    ("header_only", b"date,units\n", [], "data.csv has a header (date, units) but no data rows"),
    ("ragged_rows", b"date,y\n2020-01-01,1\n2020-01-02,2,3\n", [], "Cannot parse data.csv as CSV"),
    ("surplus_fields", b"date,y\n2020-01-01,1,5\n2020-01-02,2,6\n", [], "data rows have more fields than the header"),
    ("not_utf8", b"date,y\n2020-01-01,caf\xe9\n", [], "data.csv is not UTF-8 text"),
    ("unknown_target", b"date,units\n2020-01-01,1\n", ["--target", "sales"],
     "Column 'sales' not found in data.csv. Available: date, units. Pass --target with one of them."),
    ("unknown_time_col", b"date,units\n2020-01-01,1\n", ["--time-col", "when"],
     "Column 'when' not found in data.csv. Available: date, units. Pass --time-col with one of them."),
    ("unknown_id_col", b"date,units\n2020-01-01,1\n", ["--id-col", "store"],
     "Column 'store' not found in data.csv. Available: date, units. Pass --id-col with one of them."),
    ("unknown_covariate", b"date,units\n2020-01-01,1\n", ["--covariates", "price"],
     "Column 'price' not found in data.csv. Available: date, units. Pass --covariates with one of them."),
    ("several_numeric", b"date,HUFL,OT,note\n2020-01-01,1,2,x\n", [],  # all numeric would read wide
     "data.csv has several numeric columns (HUFL, OT); pass --target with one of them."),
    ("no_numeric", b"date,a,b\n2020-01-01,x,y\n", [], "data.csv has no numeric column to forecast"),
    ("role_clash", HOURS.encode(), ["--target", "date"], "Column 'date' of data.csv is both the time column and the target"),
    ("no_time_col", b"x,y\n1.5,2\n2.5,3\n", [], "No time column found in data.csv"),
    ("ambiguous_time_names", b"date,timestamp,y\n2020-01-01,2020-01-01,1\n", [],
     "data.csv has several possible time columns (date, timestamp); pass --time-col with one of them."),
    ("ambiguous_time_values", b"start,end,y\n2020-01-01,2020-01-02,1\n", [],
     "data.csv has several possible time columns (start, end); pass --time-col"),
    ("bad_date", b"date,y\n2020-01-01,1\n2020-01-02,2\nnotadate,3\n", [],
     "Cannot read 'notadate' in column 'date' of data.csv at row 3 (line 4) as a date"),
    ("missing_time", b"date,y\n2020-01-01,1\n,2\n", [], "Missing time value in column 'date' of data.csv at row 2 (line 3)"),
    ("decimal_time", b"time,value\n1949,112\n1949.0833,118\n", [],
     "Column 'time' of data.csv holds numbers that are not whole steps (1949.0833 at row 2 (line 3))"),
    ("non_numeric_value", b"date,y\n2020-01-01,1\n2020-01-02,abc\n", [],
     "Non-numeric value 'abc' in column 'y' of data.csv at row 2 (line 3)"),
    ("infinite_value", b"date,y\n2020-01-01,1\n2020-01-02,inf\n", [], "Infinite value inf in column 'y' of data.csv at row 2 (line 3)"),
    ("duplicate_timestamp", b"date,y\n2020-01-01,1\n2020-01-02,2\n2020-01-02,3\n", [],
     "Duplicate timestamp 2020-01-02 00:00:00 in data.csv (row 2 (line 3) and row 3 (line 4))"),
    ("duplicate_in_series", b"id,ds,y\na,1,1\nb,1,1\nb,2,2\nb,1,3\n", ["--id-col", "id"],
     "Duplicate timestamp step 1 for series 'b' in data.csv (row 2 (line 3) and row 4 (line 5))"),
    ("missing_id", b"id,ds,y\na,1,1\n,2,2\n", ["--id-col", "id"], "Missing id in column 'id' of data.csv at row 2 (line 3)"),
    ("gap", b"date,y\n2020-01-01,1\n2020-01-02,2\n2020-01-05,5\n2020-01-06,6\n", ["--freq", "D"],
     "Series 'y' in data.csv has 2 missing timestamp(s) (first 2020-01-03 00:00:00)"),
    ("nan_value", GAPPY, [], "Column 'y' of data.csv has 1 missing value(s) (first at row 2 (line 3), 2020-01-02 00:00:00)"),
    ("ffill_leading_nan", b"date,y\n2020-01-01,\n2020-01-02,2\n2020-01-03,3\n", ["--fill", "ffill"],
     "Column 'y' of series 'y' in data.csv starts with a missing value at 2020-01-01 00:00:00"),
    ("interpolate_empty_column", b"date,y,c\n2020-01-01,1,\n2020-01-02,2,\n2020-01-03,3,\n",
     ["--target", "y", "--covariates", "c", "--fill", "interpolate"], "Column 'c' of series 'y' in data.csv has no values"),
    ("off_grid", b"date,y\n2020-01-01 00:00,1\n2020-01-01 01:30,2\n2020-01-01 02:00,3\n", ["--freq", "h"],
     "Timestamp 2020-01-01 01:30:00 of series 'y' in data.csv is off the regular 'h' index"),
    ("mixed_freq", b"id,date,y\na,2020-01-01 00:00,1\na,2020-01-01 01:00,2\na,2020-01-01 02:00,3\n"
     b"b,2020-01-01,1\nb,2020-01-02,2\nb,2020-01-03,3\n", ["--id-col", "id"],
     "Series in data.csv have different frequencies ('h' for 'a', 'D' for 'b')"),
    ("single_timestamp", b"date,y\n2020-01-01,1\n", [], "Cannot infer the frequency of data.csv"),
    ("unknown_fill", HOURS.encode(), ["--fill", "magic"], "Unknown fill policy 'magic'; expected one of error, interpolate, ffill, zero"),
    ("unknown_freq", HOURS.encode(), ["--freq", "fortnightly"], "Unknown frequency 'fortnightly'"),
    ("freq_for_steps", b"ds,y\n1,1\n2,2\n", ["--freq", "h"], "--freq 'h' needs dates, but column 'ds' of data.csv holds integer steps"),
    ("bad_season", HOURS.encode(), ["--season", "0"], "season must be a whole number >= 1, got 0"),
    # separators and decimal marks
    ("semicolons", b"date;sales\n2020-01-01;1,5\n2020-02-01;2,5\n", [],
     "data.csv looks semicolon-separated (header 'date;sales'); save it with commas as separators"),
    ("semicolons_uneven", b"date;a;b\n2020-01-01;1,5;2\n2020-01-02;1,5;2,5\n", [], "data.csv looks semicolon-separated"),
    ("semicolons_no_decimals", b"date;sales\n2020-01-01;15\n2020-02-01;25\n", [], "data.csv looks semicolon-separated"),
    ("tabs", b"date\tsales\n2020-01-01\t15\n", [], "data.csv looks tab-separated (header 'date\\tsales'); save it"),
    ("decimal_comma", b'date,sales\n2020-01-01,"1,5"\n2020-02-01,"2,5"\n', [],
     "Non-numeric value '1,5' in column 'sales' of data.csv at row 1 (line 2) (2 row(s) in all); expected numbers "
     "with a point as the decimal mark; save the file with points as decimal marks (1.5, not 1,5)."),
    ("decimal_comma_beside_numbers", b'date,a,b\n2020-01-01,"1,5",2\n2020-02-01,"2,5",3\n', [],
     "Column 'a' of data.csv holds '1,5', a number with a decimal comma"),
    # --freq values
    ("zero_freq", HOURS.encode(), ["--freq", "0D"], "--freq must step forward in time, got '0D'"),
    ("zero_hours_freq", HOURS.encode(), ["--freq", "0h"], "--freq must step forward in time, got '0h'"),
    ("negative_freq", HOURS.encode(), ["--freq", "-1D"], "--freq must step forward in time, got '-1D'"),
    ("empty_freq", HOURS.encode(), ["--freq", ""], "Unknown frequency ''"),
    ("nonsense_freq", HOURS.encode(), ["--freq", "xyz"], "Unknown frequency 'xyz'"),
    ("fractional_month_freq", HOURS.encode(), ["--freq", "1.5MS"], "Unknown frequency '1.5MS'"),
    ("step_freq_for_dates", HOURS.encode(), ["--freq", "step"], "--freq 'step' needs integer steps, but column 'date'"),
    ("freq_far_too_fine", b"date,y\n2000-01-01,1\n2020-01-02,2\n", ["--freq", "s"],
     "Series 'y' in data.csv would need 631,238,401 's' timestamps from 2000-01-01 00:00:00 to 2020-01-02 00:00:00"),
    ("steps_far_apart", b"ds,y\n1,1\n100000000000,2\n", [], "Series 'y' in data.csv would need 100,000,000,000 steps"),
    ("ambiguous_short_freq", b"date,y\n2020-01-15,1\n2020-02-15,2\n", [],
     "Cannot infer the frequency of series 'y' in data.csv from its 2 timestamps"),
    ("friday_monday", b"date,y\n2020-01-03,1\n2020-01-06,2\n", [], "several frequencies fit. Pass --freq"),
    # wide files (read wide because every column but the time column is numeric)
    ("wide_gap", b"date,a,b\n2020-01-01,,1\n2020-01-02,1,2\n2020-01-03,2,\n2020-01-04,3,4\n", [],
     "Column 'b' of data.csv has 1 missing value(s) between its first and last values (first at row 3 (line 4), "
     "2020-01-03 00:00:00)"),
    ("wide_empty_column", b"date,a,b\n2020-01-01,1,\n2020-01-02,2,\n", [], "Column 'b' of data.csv has no values"),
    ("wide_numeric_ids", b"store,date,sales\n1,2020-01-01,5\n2,2020-01-01,6\n", [],
     "Duplicate timestamp 2020-01-01 00:00:00 in data.csv (row 1 (line 2) and row 2 (line 3)); expected one row per "
     "timestamp. Remove one of them, or pass --id-col"),
    # compression and cells no date parser should see
    ("corrupt_gzip", gzip.compress(HOURS.encode() * 50)[:60], [], "Cannot decompress data.csv:"),
    ("gzip_of_nothing", gzip.compress(b""), [], "data.csv has no header and no data"),
    ("long_date_cell", b"date,y\n" + b"1" * 100 + b",1\n2020-01-02,2\n", [],
     "in column 'date' of data.csv at row 1 (line 2) as a date; expected timestamps like 2020-01-31"),
]
# The same shape for the --wide flag (read_csv's wide=True), which the CLI does not have yet.
WIDE_FLAG_ERROR_CASES = [
    ("wide_with_id_col", b"id,date,y\na,2020-01-01,1\n", ["--wide", "--id-col", "id"],
     "--wide reads every column but the time column as a series, so it takes no --id-col"),
    ("wide_with_covariates", HOURS.encode(), ["--wide", "--covariates", "y"], "so it takes no --covariates"),
    ("wide_with_target", HOURS.encode(), ["--wide", "--target", "y"], "so it takes no --target. Leave out --target, or --wide."),
    ("wide_text_column", b"date,a,b\n2020-01-01,1,x\n2020-01-02,2,y\n", ["--wide"],
     "Non-numeric value 'x' in column 'b' of data.csv at row 1 (line 2)"),
]
_FLAGS = {"--target": "target", "--time-col": "time_col", "--id-col": "id_col", "--covariates": "covariates",
          "--freq": "freq", "--season": "season", "--fill": "fill"}
_FIX_WORDS = ("Pass ", "pass ", "Fix", "Fill", "Remove", "Check", "add ", "Give", "give ", "save", "Replace", "Leave")


def _kwargs(flags: list[str]) -> dict:
    switches = {"--wide": True, "--no-wide": False}
    kwargs = {}
    for f in flags:  # the last of --wide / --no-wide wins, as on the command line
        if f in switches:
            kwargs["wide"] = switches[f]
    flags = [f for f in flags if f not in switches]
    kwargs.update({_FLAGS[flag]: value for flag, value in zip(flags[::2], flags[1::2])})
    if "season" in kwargs:
        kwargs["season"] = int(kwargs["season"])
    return kwargs


def _write(tmp_path: Path, content: bytes | str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@pytest.mark.parametrize("case_id, csv, flags, expected", INGEST_ERROR_CASES + WIDE_FLAG_ERROR_CASES,
                         ids=[c[0] for c in INGEST_ERROR_CASES + WIDE_FLAG_ERROR_CASES])
def test_ingest_errors_are_one_clear_line(tmp_path, case_id, csv, flags, expected):
    path = tmp_path / "data.csv" if csv is None else _write(tmp_path, csv)
    with pytest.raises(ForecasterError) as info:
        read_csv(path, **_kwargs(flags))
    message = str(info.value)
    assert expected in message
    assert "\n" not in message and any(word in message for word in _FIX_WORDS), message
    if isinstance(info.value, DataError):
        assert "data.csv" in message


def test_error_kinds_split_data_from_config(tmp_path):
    path = _write(tmp_path, HOURS)
    with pytest.raises(ConfigError):
        read_csv(path, fill="magic")
    with pytest.raises(DataError):
        read_csv(path, target="sales")


def test_single_column_sample():
    panel = read_csv(SAMPLE / "usaccdeaths.csv")
    (s,) = panel.series
    assert (panel.target, panel.time_col, panel.id_col, panel.freq, panel.season) == ("deaths", "date", None, "MS", 12)
    assert s.id == "deaths" and panel.lengths == (72,) and panel.n_features == 1
    assert s.values.dtype == np.float64 and s.values.shape == (72, 1) and s.values[0, 0] == 9007
    assert isinstance(s.time, pd.DatetimeIndex) and s.time[0] == pd.Timestamp("1973-01-01")
    assert json.loads(json.dumps(panel.schema())) == {"target": "deaths", "covariates": [],
                                                      "future_covariates": [], "time_col": "date",
                                                      "id_col": None, "freq": "MS", "season": 12,
                                                      "fill": "error", "layout": "single"}


def test_all_sample_files_read():
    air = read_csv(SAMPLE / "airpassengers.csv")
    assert air.lengths == (144,) and air.series[0].values[-1, 0] == 432
    h1 = read_csv(SAMPLE / "m4_hourly_h1.csv")
    assert (h1.target, h1.freq, h1.season, h1.lengths) == ("value", "h", 24, (748,))
    assert h1.series[0].values[700, 0] == 619  # first official M4 test value of H1
    panel = read_csv(SAMPLE / "m4_hourly_panel.csv", id_col="unique_id")
    assert panel.ids == ("H1", "H2", "H3", "H170", "H171") and panel.lengths == (748,) * 3 + (1008,) * 2
    assert not list(SAMPLE.glob("*ETT*"))


def test_target_choice_and_covariates_align(tmp_path):
    path = _write(tmp_path, "date,a,b,c\n2020-01-02,2,20,200\n2020-01-01,1,10,100\n2020-01-03,3,30,300\n")
    panel = read_csv(path, target="b", covariates="c,a")
    assert panel.covariates == ("c", "a") and panel.n_features == 3
    np.testing.assert_array_equal(panel.series[0].values, [[10, 100, 1], [20, 200, 2], [30, 300, 3]])
    assert read_csv(path, target="c", covariates=["a"]).series[0].values[:, 0].tolist() == [100, 200, 300]
    # with the other numeric columns claimed as covariates, the one left is the target
    assert read_csv(path, covariates=["a", "c"]).target == "b"


def test_long_form_ids_in_order_of_first_appearance(tmp_path):
    path = _write(tmp_path, "store,ds,y\n7,2,20\n3,1,1\n7,1,10\n3,2,2\n3,3,3\n")
    panel = read_csv(path, id_col="store")
    assert panel.ids == ("7", "3") and panel.lengths == (2, 3) and panel.id_col == "store"
    assert panel.series[0].values[:, 0].tolist() == [10, 20] and panel.series[1].values[:, 0].tolist() == [1, 2, 3]
    assert panel.subset(["3"]).ids == ("3",)
    with pytest.raises(DataError, match="Series id '9' not found"):
        panel.subset(["9"])


def test_time_column_detected_by_name_or_values(tmp_path):
    assert read_csv(_write(tmp_path, "y,Timestamp\n1,2020-01-01\n2,2020-01-02\n")).time_col == "Timestamp"
    assert read_csv(_write(tmp_path, "when,y\n2020-01-01,1\n2020-01-02,2\n")).time_col == "when"
    both = _write(tmp_path, "date,timestamp,y\n2020-01-01,2020-01-05,1\n2020-01-02,2020-01-06,2\n")
    panel = read_csv(both, time_col="timestamp", target="y")
    assert panel.series[0].time[0] == pd.Timestamp("2020-01-05")


def test_integer_steps(tmp_path):
    panel = read_csv(_write(tmp_path, "ds,y\n3,1\n1,5\n2,4\n"))
    (s,) = panel.series
    assert panel.freq == "step" and panel.season == 1 and s.time.dtype == np.int64
    assert s.time.tolist() == [1, 2, 3] and s.values[:, 0].tolist() == [5, 4, 1]
    assert panel.future_time(0, 3).tolist() == [4, 5, 6] and panel.future_time(0, 3).dtype == np.int64
    assert read_csv(_write(tmp_path, "ds,y\n1,1\n2,2\n"), season=7).season == 7


def test_integer_years_become_yearly_dates(tmp_path):
    panel = read_csv(_write(tmp_path, "year,sunspots\n1700,5\n1701,11\n1702,16\n"))
    assert (panel.freq, panel.season) == ("YS-JAN", 1)
    assert panel.future_time(0, 2).tolist() == [pd.Timestamp("1703-01-01"), pd.Timestamp("1704-01-01")]


def test_bom_and_crlf_accepted(tmp_path):
    path = _write(tmp_path, b"\xef\xbb\xbfdate,y\r\n2020-01-01,1\r\n2020-01-02,2\r\n2020-01-03,3\r\n")
    panel = read_csv(path)
    assert (panel.time_col, panel.target, panel.lengths, panel.freq) == ("date", "y", (3,), "D")


def test_gaps_are_inferred_around(tmp_path):
    path = _write(tmp_path, "date,y\n" + "".join(f"2020-{m:02d}-01,{m}\n" for m in (1, 2, 3, 4, 6, 7, 8, 9)))
    with pytest.raises(DataError, match=r"1 missing timestamp\(s\) \(first 2020-05-01 00:00:00\) in its 'MS' index"):
        read_csv(path)
    assert read_csv(path, fill="interpolate").series[0].values[4, 0] == 5


@pytest.mark.parametrize("fill, expected", [
    ("interpolate", [1, 3, 5, 7, 9]),  # 01-02 empty, 01-03 absent: both linear between 1 and 7
    ("ffill", [1, 1, 1, 7, 9]),
    ("zero", [1, 0, 0, 7, 9]),
])
def test_fill_policies(tmp_path, fill, expected):
    panel = read_csv(_write(tmp_path, GAPPY), fill=fill)
    assert panel.series[0].values[:, 0].tolist() == expected
    assert panel.series[0].time.equals(pd.date_range("2020-01-01", periods=5, freq="D", name="date"))
    assert set(FILL_POLICIES) == {"error", "interpolate", "ffill", "zero"}


def test_interpolate_holds_ends(tmp_path):
    path = _write(tmp_path, "ds,y\n1,\n2,4\n3,\n4,8\n5,\n")
    assert read_csv(path, fill="interpolate").series[0].values[:, 0].tolist() == [4, 4, 6, 8, 8]


def test_future_time_hourly_monthly():
    hourly = from_frame(pd.DataFrame({"ds": pd.date_range("2000-01-01", periods=5, freq="h"), "y": 1.0}))
    assert hourly.future_time(0, 2).tolist() == [pd.Timestamp("2000-01-01 05:00"), pd.Timestamp("2000-01-01 06:00")]
    monthly = from_frame(pd.DataFrame({"date": ["2020-11-01", "2020-12-01", "2021-01-01"], "y": [1, 2, 3]}))
    assert monthly.future_time(0, 2).strftime("%Y-%m-%d").tolist() == ["2021-02-01", "2021-03-01"]
    with pytest.raises(ConfigError, match="horizon must be a whole number >= 1, got 0"):
        monthly.future_time(0, 0)


@pytest.mark.parametrize("freq, season", [("h", 24), ("2h", 12), ("5h", 1), ("30min", 48), ("D", 7), ("B", 5),
                                          ("W-SUN", 52), ("MS", 12), ("ME", 12), ("QS-JAN", 4), ("YS-JAN", 1),
                                          ("step", 1), ("s", 1), ("nonsense", 1)])
def test_season_for(freq, season):
    assert season_for(freq) == season


def test_check_length_names_shortest_series_and_fix(tmp_path):
    panel = read_csv(_write(tmp_path, "id,ds,y\na,1,1\na,2,2\na,3,3\nb,1,1\nb,2,2\n"), id_col="id")
    check_length(panel, 2, reason="anything")
    with pytest.raises(DataError) as info:
        check_length(panel, 48, reason="lookback 24 + horizon 12 + test 12")
    message = str(info.value)
    for fragment in ["Series 'b'", "data.csv", "has 2 points", "the 48 needed", "(lookback 24 + horizon 12 + test 12)",
                     "--lookback", "--horizon", "--test-size"]:
        assert fragment in message


def test_from_frame_leaves_frame_alone_and_reads_a_datetime_index():
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0]}, index=pd.date_range("2020-01-01", periods=3, freq="D", name="day"))
    before = df.copy()
    panel = from_frame(df)
    pd.testing.assert_frame_equal(df, before)
    assert (panel.time_col, panel.source, panel.freq) == ("day", "<frame>", "D")


def test_mixed_utc_offsets_become_utc(tmp_path):
    path = _write(tmp_path, "date,y\n2020-03-29T00:00+01:00,1\n2020-03-29T02:00+02:00,2\n2020-03-29T02:00+01:00,3\n")
    panel = read_csv(path)
    assert str(panel.series[0].time.tz) == "UTC" and panel.freq == "h"


def test_reading_a_long_file_is_vectorised(tmp_path):
    n_series, n = 200, 1000
    stamps = pd.date_range("2000-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M:%S")
    frame = pd.DataFrame({"unique_id": np.repeat([f"H{i}" for i in range(n_series)], n),
                          "ds": np.tile(stamps, n_series), "y": np.arange(n_series * n, dtype=float)})
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    start = time.perf_counter()
    panel = read_csv(path, id_col="unique_id")
    assert time.perf_counter() - start < 2.0
    assert len(panel.ids) == n_series and set(panel.lengths) == {n}


def test_doctests():
    for module in (data, _csv, _time):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(12))))
def test_row_order_does_not_matter(order):
    ids = ["a"] * 5 + ["b"] * 7
    frame = pd.DataFrame({"id": ids, "ds": [*range(5), *range(7)], "y": np.arange(12.0), "x": np.arange(12.0) ** 2})
    first = list(dict.fromkeys(frame["id"].iloc[order]))  # ids come in order of first appearance
    panel = from_frame(frame.iloc[order], id_col="id", covariates=["x"])
    expected = from_frame(frame, id_col="id", covariates=["x"]).subset(first)
    assert isinstance(panel, Panel) and panel == expected
