"""Median ensembles of forecasts: a robust combination of several models or seeds.

The median of several networks' forecasts is a classic, strong forecaster (the M4
winners combined models). :func:`median` works on any forecast frames with the same
rows (``predict`` outputs, ``test_forecasts_``); ``compare --ensemble`` adds an
``ensemble`` row: the median of the neural models' test forecasts, scored like any model.

>>> import pandas as pd
>>> a = pd.DataFrame({"id": ["s", "s"], "timestamp": [1, 2], "forecast": [1.0, 5.0]})
>>> b = a.assign(forecast=[2.0, 7.0]); c = a.assign(forecast=[9.0, 6.0])
>>> median([a, b, c])["forecast"].tolist()
[2.0, 6.0]
"""

from __future__ import annotations

import pandas as pd

from forecaster import metrics
from forecaster.errors import ConfigError

NAME = "ensemble"
KEYS = ("id", "timestamp")


def median(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Row-wise median of ``forecast`` and interval columns over frames with the same rows.

    Interval bounds are combined the same way (the median of the members' bounds).
    Columns other than the numbers combined are taken from the first frame.
    """
    if not frames:
        raise ConfigError("An ensemble needs at least one forecast.")
    first = frames[0]
    keys = [k for k in (*KEYS, "fold") if k in first]
    numeric = [c for c in first if c == "forecast" or c.startswith(("lower_", "upper_"))]
    stacked = pd.concat([f[keys + numeric] for f in frames], ignore_index=True)
    combined = stacked.groupby(keys, sort=False)[numeric].median().reset_index()
    rest = first.drop(columns=numeric)
    return rest.merge(combined, on=keys, how="left")[list(first.columns)]


def fold_record(members: list[dict], panel, season: int) -> dict:
    """The compare record of the median of ``members`` (records of one fold, all succeeded)."""
    fold = members[0]["fold"]
    frame = median([m["forecasts"] for m in members]).assign(model=NAME)
    origins = {s["id"]: s["test"][0] for s in _tests(members[0], panel)}
    rows = []
    for series in panel.series:
        block = frame[frame["id"] == series.id]
        insample = series.values[:origins[series.id], 0]
        rows.append(metrics.score(block["y"].to_numpy(), block["forecast"].to_numpy(),
                                  insample=insample, season=season))
    return {"model": NAME, "fold": fold, "error": None, "forecasts": frame,
            "n_params": sum(m["n_params"] for m in members),
            "fit_seconds": sum(m["fit_seconds"] for m in members),
            "predict_ms": sum(m["predict_ms"] for m in members),
            "series_metrics": rows, "history": None, "epochs_run": None,
            "members": [m["model"] for m in members],
            "splits": members[0]["splits"], "scalers": []}


def _tests(record: dict, panel) -> list[dict]:
    return [{"id": s.id, "test": split["test"]} for s, split in zip(panel.series, record["splits"])]
