"""Median ensembles of forecasts: a robust combination of several models or seeds.

The median of several models' forecasts is a classic, strong forecaster (M4's best
entries combined statistical and neural models). :func:`median` works on any forecast
frames with the same rows (``predict`` outputs, ``test_forecasts_``); ``compare
--ensemble a,b,c`` adds an ``ensemble`` row, the median of those models' test forecasts
(any kinds), scored like any model; :class:`MedianRun` is a fitted median saved as a run
directory of its members (what ``compare --save-best`` writes when the pick is a median).

>>> import pandas as pd
>>> a = pd.DataFrame({"id": ["s", "s"], "timestamp": [1, 2], "forecast": [1.0, 5.0]})
>>> b = a.assign(forecast=[2.0, 7.0]); c = a.assign(forecast=[9.0, 6.0])
>>> median([a, b, c])["forecast"].tolist()
[2.0, 6.0]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecaster import metrics
from forecaster.errors import ArtifactError, ConfigError

NAME = "ensemble"
MEMBERS_DIR = "members"
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


class MedianRun:
    """A fitted median combination: member Forecasters fit on the same data, forecasting together.

    Saved as a run directory whose ``manifest.json`` names the members (``params.model`` is
    ``"ensemble"``) and whose ``members/<name>/`` are the members' own run directories;
    :meth:`forecaster.forecaster.Forecaster.load` returns a MedianRun for it. Point forecasts
    and interval bounds are the members' medians, as in ``compare``'s combination rows.
    """

    def __init__(self, members: list) -> None:
        if len(members) < 2:
            raise ConfigError(f"A median needs at least two members, got {len(members)}.")
        self.members = list(members)
        first = self.members[0]
        self.model, self.horizon_, self.levels_ = NAME, first.horizon_, first.levels_
        self.source_, self.schema_, self.ids_ = first.source_, first.schema_, first.ids_

    @property
    def names(self) -> list[str]:
        return [m.model for m in self.members]

    def forecast_at(self, panel, origins: list[np.ndarray]) -> list[np.ndarray]:
        """The members' :meth:`~forecaster.forecaster.Forecaster.forecast_at`, medianed."""
        runs = [m.forecast_at(panel, origins) for m in self.members]
        return [np.median(np.stack(parts), axis=0) for parts in zip(*runs)]

    def predict(self, panel) -> pd.DataFrame:
        """Columns ``id``, ``timestamp``, ``forecast``, ``lower_L``, ``upper_L``: members' medians."""
        return median([m.predict(panel) for m in self.members])

    def save(self, path) -> None:
        """The manifest first (replacing an earlier run at ``path``), then each member's run.

        Each write is atomic; a save killed between them leaves a run that refuses to load.
        """
        from forecaster import artifacts

        manifest = {"params": {"model": NAME, "members": self.names},
                    "state": {"members": self.names, "horizon": self.horizon_,
                              "ids": list(self.ids_), "source": self.source_,
                              "schema": self.schema_}}
        artifacts.save(path, manifest)
        for member in self.members:
            member.save(Path(path) / MEMBERS_DIR / member.model)

    @classmethod
    def load(cls, path, manifest: dict) -> MedianRun:
        """The run saved by :meth:`save` (``manifest``: its manifest, already read)."""
        from forecaster.forecaster import Forecaster

        names = manifest.get("state", {}).get("members")
        if not isinstance(names, list) or len(names) < 2:
            raise ArtifactError(f"{path} is an ensemble run without its list of members; refit it.")
        return cls([Forecaster.load(Path(path) / MEMBERS_DIR / str(name)) for name in names])
