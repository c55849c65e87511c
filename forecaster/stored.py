"""The data a run keeps so that ``predict RUN`` needs no file: each series' tail, as plain numbers.

A fitted Forecaster keeps the last rows of every series that a forecast from the end of the
data reads (:func:`capture`): a neural model its ``lookback`` rows of every feature, seasonal
naive its last season, both with the rows that the interval scale looks at; models that read
the whole history (drift, mean, statistical contenders) keep every row. A run directory
stores them as ``data.json`` (no pickle), so ``forecaster predict RUN`` forecasts past the end
of the training data from anywhere, without opening the training file again. When the rows
hold more than :data:`MAX_VALUES` numbers nothing is kept, and ``predict`` asks for
``--data``.

The file is untrusted input when read back (:func:`from_state`): ids, columns, lengths and
every value are checked before a :class:`~forecaster.data.Panel` is built from it.

>>> import numpy as np, pandas as pd
>>> from forecaster.data import from_frame
>>> panel = from_frame(pd.DataFrame({"date": pd.date_range("2020-01", periods=5, freq="MS"),
...                                  "y": [1.0, 2.0, 3.0, 4.0, 5.0]}))
>>> kept = capture(panel, rows=2)
>>> state = to_state(kept)
>>> state["series"]
[{'id': 'y', 'start': '2020-04-01 00:00:00', 'values': [[4.0], [5.0]]}]
>>> from_state(state, panel.schema(), "run").future_time(0, 1).strftime("%Y-%m-%d").tolist()
['2020-06-01']
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from forecaster.data import Panel, Series
from forecaster.errors import ArtifactError

FORMAT = 1
#: The most numbers (rows x features, over all series) a run keeps; above it, ``predict`` needs ``--data``.
MAX_VALUES = 1_000_000


def capture(panel: Panel, rows: int | None) -> Panel | None:
    """The last ``rows`` rows of every series of ``panel`` (all of them when None), or None if too many.

    The series are views of ``panel``'s arrays: nothing is copied until :func:`to_state`.
    """
    keep = [len(s.values) if rows is None else min(rows, len(s.values)) for s in panel.series]
    if sum(keep) * panel.n_features > MAX_VALUES:
        return None
    series = tuple(dataclasses.replace(s, time=s.time[len(s.time) - k:], values=s.values[len(s.values) - k:])
                   for s, k in zip(panel.series, keep))
    return dataclasses.replace(panel, series=series, notices=())


def to_state(panel: Panel) -> dict:
    """Plain JSON: the columns and, per series, its id, first timestamp (or step) and values."""
    return {"format": FORMAT, "columns": [panel.target, *panel.covariates, *panel.future_covariates],
            "series": [{"id": s.id, "start": _stamp(s.time[0]), "values": s.values.tolist()}
                       for s in panel.series]}


def _stamp(value) -> str | int:
    return int(value) if isinstance(value, (int, np.integer)) else str(value)


def from_state(state: dict, schema: dict, source: str, ids: list[str] | None = None) -> Panel:
    """The panel that :func:`to_state` describes, read with the run's ``schema``; checked first.

    Args:
        state: What :func:`to_state` returned (from an untrusted file).
        schema: The run's data schema (``Panel.schema()`` at fit time).
        source: How messages name the data (e.g. "the data stored in runs/lstm").
        ids: The run's series ids, which the stored series must match.

    Raises:
        ArtifactError: The stored data is malformed.
    """
    try:
        if not isinstance(state, dict):
            raise TypeError(f"{str(state)[:40]} is not an object")
        return _panel(state, schema, source, ids)
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise ArtifactError(f"{source} is malformed ({type(exc).__name__}: {str(exc)[:120]}); "
                            "refit the model.") from None


def _panel(state: dict, schema: dict, source: str, ids: list[str] | None) -> Panel:
    columns = [schema["target"], *schema["covariates"], *schema.get("future_covariates", [])]
    if state.get("format") != FORMAT or state.get("columns") != columns:
        raise ValueError(f"format {state.get('format')!r} with columns {str(state.get('columns'))[:60]}, "
                         f"expected format {FORMAT} with columns {columns}")
    found = [s["id"] for s in state["series"]]
    if ids is not None and found != list(ids):
        raise ValueError(f"series {str(found)[:60]} are not the run's ids {str(ids)[:60]}")
    series = tuple(_series(s, schema, len(columns)) for s in state["series"])
    if sum(s.values.size for s in series) > MAX_VALUES:
        raise ValueError(f"more than {MAX_VALUES:,} numbers")
    return Panel(series, schema["target"], tuple(schema["covariates"]), schema["time_col"],
                 schema["id_col"], schema["freq"], int(schema["season"]), source,
                 schema.get("fill", "error"), wide=schema.get("layout") == "wide",
                 future_covariates=tuple(schema.get("future_covariates", [])))


def _series(item: dict, schema: dict, n_columns: int) -> Series:
    if not isinstance(item["id"], str):
        raise TypeError(f"series id {str(item['id'])[:40]} is not text")
    values = np.asarray(item["values"], dtype=float)  # (rows, n_columns)
    if values.ndim != 2 or values.shape[1] != n_columns or len(values) == 0:
        raise ValueError(f"series {item['id']!r} holds values of shape {values.shape}, expected (rows, {n_columns})")
    if not np.isfinite(values).all():
        raise ValueError(f"series {item['id']!r} holds a missing or non-finite value")
    start, freq = item["start"], schema["freq"]
    if freq == "step":
        if isinstance(start, bool) or not isinstance(start, int):
            raise TypeError(f"start {str(start)[:40]} of series {item['id']!r} is not a step number")
        time = pd.Index(np.arange(start, start + len(values), dtype=np.int64), name=schema["time_col"])
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' deprecation notes on odd frequency spellings
            time = pd.date_range(pd.Timestamp(str(start)), periods=len(values), freq=freq, name=schema["time_col"])
    return Series(item["id"], time, values)
