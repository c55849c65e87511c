"""Newer data against a saved run: does it fit the model, which series are new, where it starts.

Shared by ``predict`` (series not seen in training) and ``evaluate`` (the rows past the run's
training end). A run records each training series' last timestamp as text
(``Forecaster.last_times_``); a series not seen in training starts after the latest of them.

>>> import pandas as pd
>>> from forecaster.data import from_frame
>>> from forecaster.forecaster import Forecaster
>>> frame = pd.DataFrame({"ds": range(30), "y": [float(v % 5) for v in range(30)]})
>>> run = Forecaster("naive", horizon=2).fit(from_frame(frame[:20]))
>>> training_end(run)
'19'
>>> panel, starts, notices = new_rows(run, from_frame(frame))
>>> starts, notices
([20], [])
"""

from __future__ import annotations

import pandas as pd

from forecaster._csv import label
from forecaster.data import Panel
from forecaster.errors import DataError
from forecaster.forecaster import Forecaster


def unseen_notices(forecaster: Forecaster, panel: Panel) -> list[str]:
    """A sentence naming the series of ``panel`` not seen in training, if any.

    Raises:
        DataError: The model is fit per series (see :meth:`Forecaster.unseen`).
    """
    new = forecaster.unseen(panel)
    if not new:
        return []
    one = len(new) == 1
    how = (" (its rows before the first forecast origin), scaled with that history's statistics"
           if forecaster.model_ is not None else "")
    return [f"Series {_ids(new)} {'was' if one else 'were'} not in the training data; "
            f"{forecaster.model} forecasts {'it' if one else 'each'} from its own history{how}."]


def check_schema(f: Forecaster, panel: Panel) -> None:
    """What the model needs of the data: as many covariates, in order, at the same frequency."""
    ours, theirs = panel.schema(), f.schema_
    where = f"{label(panel.source)} does not match the run"
    if len(ours["covariates"]) != len(theirs["covariates"]):
        fix = (f"Pass --covariates {','.join(theirs['covariates'])} (the run's, in its order)"
               if theirs["covariates"] else "Leave out --covariates")
        raise DataError(f"{where}: it has covariates {_names(ours['covariates'])}, the run was fit "
                        f"with {_names(theirs['covariates'])}. {fix}.")
    if ours["freq"] != theirs["freq"]:
        raise DataError(f"{where}: its frequency is {ours['freq']!r}, the run was fit at "
                        f"{theirs['freq']!r}. Pass --freq {theirs['freq']} (with --fill for gaps) "
                        "or data at the run's frequency.")


def new_rows(f: Forecaster, panel: Panel) -> tuple[Panel, list[int], list[str]]:
    """The series with rows past their training end, the row of each one's first origin, notices."""
    ends = dict(zip(f.ids_, parse_times(f.last_times_, panel.freq)))
    run_end = max(ends.values())
    need = f.lookback_ if f.model_ is not None else 1
    kept, starts, stale = [], [], []
    for s in panel.series:
        end = ends.get(s.id, run_end)
        start = _position(s.time, end, panel.source)
        if start >= len(s.time):
            stale.append((s.id, s.time[-1], end))
            continue
        if start < need:
            what = f"lookback {need}" if f.model_ is not None else "one row"
            raise DataError(f"Series '{s.id}' in {label(panel.source)} has {start} rows up to the "
                            f"run's training end {show_time(end)}, fewer than the model needs before "
                            f"its first forecast ({what}); include the history before the new rows.")
        kept.append(s.id)
        starts.append(start)
    if not kept:
        sid, last, end = stale[0]
        raise DataError(f"{label(panel.source)} holds nothing after the run's training end: series "
                        f"'{sid}' ends at {show_time(last)}, the run was fit on data up to "
                        f"{show_time(end)}. evaluate scores the rows after that; pass the history "
                        "followed by newer actuals.")
    notices = [f"Series {_ids([s[0] for s in stale])} {'has' if len(stale) == 1 else 'have'} no rows "
               "after the run's training end; left out."] if stale else []
    present = set(panel.ids)
    missing = [sid for sid in f.ids_ if sid not in present]
    if missing:
        notices.append(f"{len(missing)} of the run's {len(f.ids_)} series are not in "
                       f"{label(panel.source)} ({_ids(missing)}); evaluated the others.")
    return panel.subset(kept), starts, notices


def parse_times(texts: list[str], freq: str) -> list:
    """The run's last training timestamps (stored as text) as values of a ``freq`` time axis."""
    if freq == "step":
        return [int(t) for t in texts]
    return list(pd.to_datetime(list(texts)))


def _position(time: pd.Index, end, source: str) -> int:
    """How many rows of ``time`` are at or before ``end``."""
    try:
        return int(time.searchsorted(end, side="right"))
    except TypeError:
        raise DataError(f"The timestamps of {label(source)} ({time[0]}) cannot be compared with the "
                        f"run's training end ({end}): one has a time zone and the other not. Pass "
                        "timestamps written the way the training file wrote them.") from None


def training_end(forecaster: Forecaster) -> str:
    """The latest training timestamp of a fitted Forecaster, as messages show it."""
    return show_time(max(parse_times(forecaster.last_times_, forecaster.schema_["freq"])))


def show_time(t) -> str:
    """A timestamp as a message shows it: the date alone at midnight."""
    if isinstance(t, pd.Timestamp) and t == t.normalize() and t.tz is None:
        return t.strftime("%Y-%m-%d")
    return str(t)


def _ids(ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(f"'{i}'" for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _names(columns: list[str]) -> str:
    return ", ".join(columns) if columns else "none"
