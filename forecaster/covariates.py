"""Inputs known in advance: calendar features of the timestamps, and future covariate values.

Two kinds of input are known for the steps being forecast, not only for the past:

- **Calendar features** (``--calendar``), computed from the timestamps, past and future
  alike, so forecasting needs no file for them. Each is a cycle encoded as its sine and
  cosine (two columns), so that hour 23 sits next to hour 0 and December next to January.
  ``auto`` picks the cycles the data's frequency can show (:func:`auto_calendar`).
  Integer-step data has no timestamps and so no calendar features.
- **Future covariates** (``--future-covariates a,b``): columns of the data whose values
  over the horizon are known when forecasting (a planned promotion, a holiday). Their past
  values come with the data; ``predict --future FILE`` gives the values for the horizon
  (:func:`future_values`).

Hook for the statistical models (statsforecast's exogenous regressors): the unscaled
known inputs of a series are ``np.column_stack([series.values[:, -n_future:],
calendar_features(series.time.values, names)])`` over its rows, and the same from
:func:`future_values` and :func:`future_stamps` over the horizon; :func:`known_inputs`
returns both.

>>> t = np.array(["2024-01-01T00:00", "2024-01-01T06:00"], dtype="datetime64[ns]")
>>> calendar_features(t, ("hour",)).round(3).tolist()        # sin, cos of 0 h and 6 h
[[0.0, 1.0], [1.0, 0.0]]
>>> auto_calendar("h"), auto_calendar("D"), auto_calendar("MS")
(('hour', 'dayofweek'), ('dayofweek', 'dayofyear'), ('month',))
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecaster import _csv, _time
from forecaster.errors import ConfigError, DataError

DAY = np.timedelta64(1, "D")
#: Calendar features: name -> (what it is, the longest step, in days, at which it still varies).
CALENDAR: dict[str, tuple[str, float]] = {
    "minute": ("minute of the hour", 1 / 24),
    "hour": ("time of day in hours", 1.0),
    "dayofweek": ("day of the week", 7.0),
    "dayofmonth": ("day of the month", 28.0),
    "dayofyear": ("day of the year", 365.0),
    "month": ("month of the year", 365.0),
    "quarter": ("quarter of the year", 365.0),
}
# auto: (the longest step, in days, the set is for; the set), first match wins.
_AUTO = ((1.0, ("hour", "dayofweek")), (7.0, ("dayofweek", "dayofyear")),
         (28.0, ("dayofyear",)), (85.0, ("month",)), (365.0, ("quarter",)))


def check_calendar(value) -> tuple[str, ...] | str:
    """The ``calendar`` setting checked without data: ``()``, ``"auto"`` or feature names.

    Accepts None, ``"none"``, ``"auto"``, ``"hour,dayofweek"`` or a list of names.

    >>> check_calendar(None), check_calendar("auto"), check_calendar("hour, month")
    ((), 'auto', ('hour', 'month'))
    """
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return ()
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)):
        raise ConfigError(f"calendar must be auto, none or feature names, got {value!r}; "
                          f"pass e.g. --calendar auto or --calendar {','.join(_AUTO[0][1])}.")
    out = tuple(dict.fromkeys(str(n).strip().lower() for n in names if str(n).strip()))
    unknown = [n for n in out if n not in CALENDAR]
    if unknown:
        raise ConfigError(f"Unknown --calendar feature '{unknown[0]}'. Use auto, none, or a "
                          f"comma-separated list of: {', '.join(CALENDAR)}.")
    return out


def step_days(freq: str) -> float:
    """One step of pandas frequency ``freq`` in days (months and years at their first length)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    start = offset.rollforward(pd.Timestamp("2001-01-01"))
    return ((start + offset) - start) / pd.Timedelta(days=1)


def auto_calendar(freq: str) -> tuple[str, ...]:
    """The default calendar features for data at ``freq``: the cycles it can show, at most two.

    Raises:
        ConfigError: Yearly (or coarser) data has no cycle within the year.
    """
    step = step_days(freq)
    for longest, names in _AUTO:
        if step < longest:
            return names
    raise ConfigError(f"--calendar auto: {freq!r} data has at most one row a year, so no "
                      "calendar cycle shows in it; leave out --calendar.")


def resolve_calendar(value, freq: str) -> tuple[str, ...]:
    """The calendar feature names for data at ``freq`` (``"step"``: integer steps).

    Raises:
        ConfigError: Integer-step data, or a feature that is constant at this frequency.
    """
    names = check_calendar(value)
    if names and freq == "step":
        raise ConfigError("--calendar needs timestamps, and this data is indexed by integer steps; "
                          "leave out --calendar, or give the time column as dates.")
    if names == "auto":
        return auto_calendar(freq)
    step = step_days(freq) if names else 0.0
    still = [n for n in names if step >= CALENDAR[n][1]]
    if still:
        ok = [n for n in CALENDAR if step < CALENDAR[n][1]]
        raise ConfigError(f"--calendar {still[0]} is constant on {freq!r} data (one row every "
                          f"{step:g} days); use features that vary at this frequency: "
                          f"{', '.join(ok) or 'none'}.")
    return names


def wall_clock(time) -> np.ndarray:
    """Timestamps as datetime64[ns] on the local clock (a time zone's offset dropped): what calendars read."""
    if getattr(time, "tz", None) is not None:
        time = time.tz_localize(None)
    return np.asarray(time).astype("datetime64[ns]")


def calendar_features(stamps, names) -> np.ndarray:
    """Sine and cosine of each named cycle at each timestamp: ``(len(stamps), 2 * len(names))``.

    ``stamps``: datetime64 values or a DatetimeIndex (read on its local clock).
    """
    t = wall_clock(stamps)
    columns = []
    for name in names:
        value, period = _cycle(name, t)
        angle = 2 * np.pi * value / period
        columns += [np.sin(angle), np.cos(angle)]
    return np.column_stack(columns).astype(np.float32) if columns else np.empty((len(t), 0), np.float32)


def _cycle(name: str, t: np.ndarray) -> tuple[np.ndarray, np.ndarray | float]:
    """Position within the cycle and the cycle's length, in the same unit."""
    day, month, year = t.astype("datetime64[D]"), t.astype("datetime64[M]"), t.astype("datetime64[Y]")
    if name == "minute":
        return (t - t.astype("datetime64[h]")) / np.timedelta64(1, "m"), 60.0
    if name == "hour":
        return (t - day) / np.timedelta64(1, "h"), 24.0
    if name == "dayofweek":
        return (day.astype(np.int64) + 3) % 7, 7.0  # 1970-01-01 was a Thursday; Monday = 0
    if name in ("dayofmonth", "dayofyear"):
        start = month if name == "dayofmonth" else year
        first, following = start.astype("datetime64[D]"), (start + 1).astype("datetime64[D]")
        return (day - first) / DAY, (following - first) / DAY
    months = month.astype(np.int64) % 12
    return (months, 12.0) if name == "month" else (months // 3, 4.0)


def future_stamps(time: pd.DatetimeIndex, freq: str, ahead: int) -> pd.DatetimeIndex:
    """The ``ahead`` timestamps after the last of ``time`` (in its time zone, if any)."""
    step = _time.tick_step(freq)
    if step is not None and time.tz is None:  # fixed length: plain arithmetic
        return pd.DatetimeIndex(np.datetime64(time[-1], "ns") + np.arange(1, ahead + 1) * step)
    return pd.date_range(time[-1], periods=ahead + 1, freq=freq)[1:]


def future_values(frame: pd.DataFrame, panel, horizon: int, columns, source: str) -> list[np.ndarray]:
    """The values of ``columns`` in ``frame`` for the ``horizon`` steps after each series of ``panel``.

    ``frame`` is read with the panel's schema: its time column, its id column (for a
    panel of several series) and ``columns``. Other columns and other rows are ignored.

    Returns:
        One ``(horizon, len(columns))`` float array per series of ``panel``.

    Raises:
        DataError: A column is missing, a (series, time) appears twice, or a value is
            missing for a step; the message names the series and the first missing time.
    """
    df = _csv.tidy_frame(frame, source)
    keys = [panel.time_col, *([panel.id_col] if panel.id_col else []), *columns]
    absent = [c for c in keys if c not in df.columns]
    if absent:
        raise DataError(f"--future {_csv.label(source)} has no column {absent[0]!r}; it needs "
                        f"{', '.join(keys)} (the time{', id' if panel.id_col else ''} and future "
                        f"covariate columns the model was fit with). Available: {_csv.names(df.columns)}.")
    time = _time.parse_time(df, panel.time_col, source)
    ids = (df[panel.id_col].astype(str).to_numpy() if panel.id_col
           else np.full(len(df), panel.series[0].id, dtype=object))
    values = np.column_stack([_csv.to_float(df, c, source) for c in columns])  # (rows, n_columns)
    found = pd.MultiIndex.from_arrays([ids, _as_key(time)])
    if found.has_duplicates:
        sid, t = found[found.duplicated()][0]
        raise DataError(f"--future {_csv.label(source)} gives series {sid!r} at {_csv.stamp(t)} twice; "
                        "expected one row per series and time.")
    wanted = [(s.id, _as_key(_ahead(s.time, panel.freq, horizon))) for s in panel.series]
    rows = found.get_indexer(pd.MultiIndex.from_arrays(
        [np.repeat([w[0] for w in wanted], horizon), np.concatenate([w[1] for w in wanted])]))
    got = np.where(rows[:, None] >= 0, values[np.maximum(rows, 0)], np.nan)  # (n_series * horizon, k)
    _check_complete(got, wanted, columns, horizon, source)
    return list(got.reshape(len(wanted), horizon, len(columns)))


def future_for(panel, future, names, horizon: int, *, needed: bool) -> list[np.ndarray] | None:
    """What :meth:`Forecaster.predict` does with its ``future`` argument (a DataFrame or a path).

    Args:
        panel: The data forecast from.
        future: The future values, or None.
        names: The future covariates the model was fit with.
        horizon: Steps forecast.
        needed: The model uses them (a neural model fit with future covariates).

    Raises:
        DataError: ``needed`` and no ``future``, or ``future`` lacks something.
        ConfigError: ``future`` given to a model fit without future covariates.
    """
    if future is None:
        if needed:
            raise DataError(f"This model was fit with --future-covariates {','.join(names)}: pass "
                            f"predict --future FILE with their values for the {horizon} steps after "
                            "each series' last timestamp.")
        return None
    if not names:
        raise ConfigError("This model was fit without --future-covariates, so it takes no future "
                          "values; leave out --future.")
    if not needed:
        return None  # a baseline: it ignores covariates
    source = "<frame>" if isinstance(future, pd.DataFrame) else _csv.source_name(future)
    frame = future if isinstance(future, pd.DataFrame) else _csv.load(future)
    return future_values(frame, panel, horizon, names, source)


def _ahead(time: pd.Index, freq: str, horizon: int):
    if freq == "step":
        return np.arange(time[-1] + 1, time[-1] + 1 + horizon, dtype=np.int64)
    return future_stamps(time, freq, horizon)


def _as_key(time) -> np.ndarray:
    """Timestamps as datetime64[ns] (UTC when zoned, whatever unit they were read in), steps as int64."""
    values = np.asarray(time)
    return values.astype("datetime64[ns]") if np.issubdtype(values.dtype, np.datetime64) else values


def _check_complete(got: np.ndarray, wanted, columns, horizon: int, source: str) -> None:
    gaps = np.isnan(got)
    if not gaps.any():
        return
    row, col = np.argwhere(gaps)[0]
    sid, stamps = wanted[row // horizon]
    t = pd.Timestamp(stamps[row % horizon]) if np.issubdtype(stamps.dtype, np.datetime64) else stamps[row % horizon]
    raise DataError(f"--future {_csv.label(source)} has no {columns[col]!r} for series {sid!r} at "
                    f"{_csv.stamp(t)} ({int(gaps.any(axis=1).sum())} of the {got.shape[0]} steps needed "
                    f"are missing); it must give {', '.join(columns)} for the {horizon} steps after "
                    "each series' last timestamp.")


def known_inputs(series, freq: str, names, n_future: int, future: np.ndarray | None = None,
                 horizon: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A series' known inputs in data units: ``(past (n, k), ahead (horizon, k))``.

    The future covariates (the last ``n_future`` columns of ``series.values``, and
    ``future`` over the horizon) then the calendar features: the exogenous regressors a
    statistical model takes (statsforecast's ``X`` and ``X_future``).

    >>> from forecaster.data import Series
    >>> s = Series("a", pd.date_range("2024-01-01", periods=3, freq="h"), np.ones((3, 2)))
    >>> [a.shape for a in known_inputs(s, "h", ("hour",), 1, np.zeros((2, 1)), horizon=2)]
    [(3, 3), (2, 3)]
    """
    past = np.column_stack([series.values[:, series.values.shape[1] - n_future:],
                            calendar_features(series.time.values, names)])
    later = future if future is not None else np.full((horizon, n_future), np.nan)
    ahead = np.column_stack([later, calendar_features(future_stamps(series.time, freq, horizon), names)]
                            if names else [later])
    return past, ahead
