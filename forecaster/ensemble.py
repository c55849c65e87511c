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

    Saved as a folder holding each member's own run directory (``<folder>/<model>/``) and
    ``ensemble.json`` naming them (:meth:`save`, what ``compare --save-best`` writes when its
    pick is a median); ``forecaster predict <folder>`` reads it (:func:`is_median_run`).
    Point forecasts and interval bounds are the members' medians, as in ``compare``'s
    combination rows.
    """

    def __init__(self, members: list) -> None:
        if len(members) < 2:
            raise ConfigError(f"A median needs at least two members, got {len(members)}.")
        self.members = list(members)

    @property
    def names(self) -> list[str]:
        return [m.model for m in self.members]

    def predict(self, panel, future=None) -> pd.DataFrame:
        """Columns ``id``, ``timestamp``, ``forecast``, ``lower_L``, ``upper_L``: members' medians."""
        return median([m.predict(panel, future=future) for m in self.members])

    def save(self, path) -> Path:
        """Each member's run directory, then ``ensemble.json`` (written last: a folder without
        it is no median run). ``path`` must be missing, empty or an earlier median run."""
        from forecaster import _json, outputs

        path = check_folder(path)
        for member in self.members:
            member.save(path / member.model)
        document = {"format": FORMAT, "combination": "median", "members": self.names}
        outputs.write_text(path / MANIFEST, _json.dumps(document, indent=2) + "\n", "--save-best")
        return path

    @classmethod
    def load(cls, path) -> MedianRun:
        """The median run saved by :meth:`save` at ``path``; each member loaded as any run."""
        from forecaster.forecaster import Forecaster

        return cls([Forecaster.load(Path(path) / name) for name in members_of(path)])


FORMAT = 1
MANIFEST = "ensemble.json"


def is_median_run(path) -> bool:
    """Whether ``path`` is a folder written by :meth:`MedianRun.save`."""
    return (Path(path) / MANIFEST).is_file()


def members_of(path) -> list[str]:
    """The member names ``ensemble.json`` at ``path`` lists (each a run directory beside it).

    Raises:
        ArtifactError: The file is not a median run's, or names a member that is not there.
    """
    import json

    file = Path(path) / MANIFEST
    try:
        doc = json.loads(file.read_text())
        names = doc["members"]
        ok = doc.get("format") == FORMAT and isinstance(names, list) and len(names) >= 2 and all(
            isinstance(n, str) and n and "/" not in n and not n.startswith(".") for n in names)
    except (OSError, ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise ArtifactError(f"{file} is not a median run's list of members (format {FORMAT}); "
                            "save it again with compare --save-best.")
    missing = [n for n in names if not (Path(path) / n).is_dir()]
    if missing:
        raise ArtifactError(f"{path} lacks the run of its member '{missing[0]}'; save it again.")
    return names


def check_folder(path) -> Path:
    """``path`` (absolute) if a median run may be written there: missing, empty, or one already.

    Raises:
        OutputError: ``path`` is a file, or a folder holding anything but a median run.
    """
    from forecaster.errors import OutputError

    path = Path(path).absolute()
    if path.exists() and not path.is_dir():
        raise OutputError(f"--save-best {path} is a file; pass a folder.")
    if path.is_dir() and any(path.iterdir()) and not is_median_run(path):
        raise OutputError(f"--save-best {path} holds other files; pass a new or empty folder, or "
                          "an earlier --save-best folder.")
    return path
