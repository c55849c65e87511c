"""Per-series bookkeeping of a fit: subsets of a panel, and the series too short for a neural model.

A series too short for a neural model's windows (lookback + horizon + validation + gap +
test points) is left out of training and forecast with the reference model
(:data:`forecaster.models.REFERENCE`, seasonal naive) instead of failing the whole panel;
:func:`too_short` names them in a notice for the user.

>>> import pandas as pd
>>> from forecaster.data import from_frame
>>> df = pd.DataFrame({"id": ["a"] * 6 + ["b"] * 3, "ds": list(range(6)) + list(range(3)),
...                    "y": [1.0, 2, 3, 4, 5, 6, 1, 2, 3]})
>>> short, notices = too_short(from_frame(df, id_col="id"), 5, "lookback 2 + horizon 1 + test 2")
>>> short, notices[0]
(['b'], "Series 'b' of <frame> has 3 points, fewer than the 5 a neural model needs \
(lookback 2 + horizon 1 + test 2): it is left out of training and forecast with seasonal_naive.")
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from forecaster import baselines, models
from forecaster._csv import label
from forecaster.data import Panel, check_length


def rows(panel: Panel, keep: list[int]) -> Panel:
    """``panel`` with only the series at positions ``keep``."""
    if len(keep) == len(panel.series):
        return panel
    return dataclasses.replace(panel, series=tuple(panel.series[i] for i in keep))


def frame(ids, times: list, blocks: list[dict]) -> pd.DataFrame:
    """One frame of per-series columns: ``id``, ``timestamp`` (``times[i]``), then ``blocks[i]``'s.

    Built column by column, not as a frame per series: with 10,000 series that is the
    difference between milliseconds and seconds.
    """
    sizes = [len(t) for t in times]
    columns = {"id": np.repeat(np.asarray(ids, dtype=object), sizes),
               "timestamp": times[0].append(list(times[1:])) if len(times) > 1 else times[0]}
    for key in blocks[0] if blocks else ():
        columns[key] = np.concatenate([b[key] for b in blocks])
    return pd.DataFrame(columns)


def baseline_at(name: str, series, origins, horizon: int, season: int) -> list[np.ndarray]:
    """Baseline ``name``'s forecasts from every origin of every series."""
    return [np.stack([baselines.forecast(name, s.values[:t, 0], horizon=horizon, season=season)
                      for t in o]) if len(o) else np.empty((0, horizon))
            for s, o in zip(series, origins)]


def too_short(panel: Panel, need: int, reason: str) -> tuple[list[str], list[str]]:
    """The ids of the series shorter than ``need``, and a notice naming them.

    Raises:
        DataError: Every series is too short.
    """
    short = [(s.id, n) for s, n in zip(panel.series, panel.lengths) if n < need]
    if not short:
        return [], []
    if len(short) == len(panel.series):
        check_length(panel, need, reason=reason)
    ids, where, fallback = [sid for sid, _ in short], label(panel.source), models.REFERENCE
    if len(short) == 1:
        return ids, [f"Series {ids[0]!r} of {where} has {short[0][1]} points, fewer than the {need} a "
                     f"neural model needs ({reason}): it is left out of training and forecast "
                     f"with {fallback}."]
    named = ", ".join(f"{sid!r} ({n})" for sid, n in short[:10])
    more = f" and {len(short) - 10} more" if len(short) > 10 else ""
    return ids, [f"{len(short)} series of {where} have fewer points than the {need} a neural model "
                 f"needs ({reason}): {named}{more}; they are left out of training and forecast "
                 f"with {fallback}."]
