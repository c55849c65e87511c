"""The validated pick: which model forecaster chooses for the data, without looking at the test.

For each fold of a comparison, ``auto`` chooses among the compared models, and the median
of the best :data:`TOP` of them (M4's lesson: combinations of good models are hard to
beat), by their ranking metric on the *selection windows*: the test windows of the
earlier folds and one extra window of ``test_size`` rows before the first fold, all of
which end at or before that fold's origin. Its fold score is then the chosen model's
score on the fold's test: an honest estimate of what choosing this way gives. The
overall pick, chosen on every window, is what ``compare --save-best`` refits on all the
data (:func:`save_best`).

Fold ``k`` chooses on windows ``-1 .. k-1``:

    [ ... window -1 ][ fold 0 test ][ fold 1 test ]
                     ^ fold 0 chooses on window -1
                                   ^ fold 1 chooses on windows -1 and 0

>>> Choice("auto_ets").label, Choice(members=("auto_ets", "mlp")).label
('auto_ets', 'median(auto_ets,mlp)')
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from forecaster import ensemble, jobs, metrics, models
from forecaster.data import Panel
from forecaster.errors import ConfigError

AUTO = "auto"
ENSEMBLE = ensemble.NAME
#: The combination candidate is the median of this many best models.
TOP = 3


@dataclass(frozen=True)
class Choice:
    """One model, or the median of several (``members``)."""

    model: str | None = None
    members: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.model or f"median({','.join(self.members)})"

    def as_dict(self) -> dict:
        return {"pick": self.label, "model": self.model, "members": list(self.members)}


def ensemble_members(ensemble_arg, names: list[str]) -> list[str]:
    """The models ``--ensemble`` combines: names/groups, or True/"all" for every non-baseline one.

    >>> ensemble_members("stats", ["naive"])
    ['auto_ets', 'auto_arima', 'auto_theta', 'mstl', 'naive2']
    >>> ensemble_members("all", ["naive", "auto_ets", "mlp"])
    ['auto_ets', 'mlp']
    """
    if ensemble_arg in (None, False, ""):
        return []
    if ensemble_arg is True or (isinstance(ensemble_arg, str) and ensemble_arg.strip() == "all"):
        members = [n for n in names if models.kind(n) != "baseline"]
    else:
        text = ensemble_arg if isinstance(ensemble_arg, str) else ",".join(ensemble_arg)
        members = models.expand(text)
    if len(members) < 2:
        raise ConfigError(f"--ensemble needs at least two models to combine, got "
                          f"{', '.join(members) or 'none'}; name them, e.g. --ensemble auto_ets,mlp.")
    return members


def combine(members: list[dict], panel: Panel, probe, name: str) -> dict:
    """The record of the median of ``members`` (records of one fold that all succeeded)."""
    record = ensemble.fold_record(members, panel, probe.season_)
    record.update(jobs.interval_stats(record["forecasts"], probe.levels_))
    record["model"] = name
    record["forecasts"] = record["forecasts"].assign(model=name)
    return record


def ensemble_records(records: list[dict], members: list[str], panel: Panel, folds: int,
                     probe) -> list[dict]:
    """One ``ensemble`` record per fold: the median of the members that completed it."""
    out = []
    for k in range(folds):
        done = [r for r in records if r["fold"] == k and r["error"] is None and r["model"] in members]
        if len(done) < 2:
            out.append(_failed(ENSEMBLE, k, f"ConfigError: fewer than 2 of the ensemble's "
                                            f"members ({', '.join(members)}) completed fold {k}"))
        else:
            out.append(combine(done, panel, probe, ENSEMBLE))
    return out


def auto_records(records: list[dict], panel: Panel, folds: int, probe,
                 metric: str) -> tuple[list[dict], dict]:
    """The ``auto`` record of each fold, and the overall pick (chosen on every window)."""
    present = {r["fold"] for r in records}  # -1 is missing when the series had no room for it
    out = []
    for k in range(folds):
        choice = choose(records, [w for w in range(-1, k) if w in present], panel, probe, metric)
        out.append(_auto_record(records, k, choice, panel, probe))
    overall = choose(records, [w for w in range(-1, folds) if w in present], panel, probe, metric)
    picks = [r.get("pick") for r in out]
    summary = {"picks": picks, **(overall.as_dict() if overall else
                                  {"pick": None, "model": None, "members": []}),
               "selection_windows": "the test windows of the earlier folds and one window "
                                    "of test_size rows before fold 0"}
    return out, summary


def choose(records: list[dict], windows: list[int], panel: Panel, probe, metric: str) -> Choice | None:
    """The best model, or median of the best :data:`TOP`, on ``windows`` (None: no candidate)."""
    if not windows:
        return None
    singles = [n for n in dict.fromkeys(r["model"] for r in records) if n in models.REGISTRY]
    candidates = {}
    for name in singles:
        recs = sorted((r for r in records if r["model"] == name and r["fold"] in windows),
                      key=lambda r: r["fold"])
        if len(recs) == len(windows) and all(r["error"] is None for r in recs):
            candidates[name] = recs
    if not candidates:
        return None
    reference = candidates.get("naive2")
    scores = {n: _score(recs, metric, reference) for n, recs in candidates.items()}
    ranked = sorted(candidates, key=lambda n: (math.isnan(scores[n]), scores[n]))
    best, best_score = Choice(ranked[0]), scores[ranked[0]]
    if len(ranked) >= TOP:
        top = ranked[:TOP]
        combined = [combine([candidates[m][i] for m in top], panel, probe, AUTO)
                    for i in range(len(windows))]
        if _score(combined, metric, reference) < best_score:
            best = Choice(members=tuple(top))
    return best


def _score(recs: list[dict], metric: str, reference: list[dict] | None) -> float:
    """The ranking metric pooled over the (window, series) pairs of ``recs``."""
    pooled = metrics.panel_mean([m for r in recs for m in r["series_metrics"]])
    if metric != "owa":
        return pooled[metric]
    base = metrics.panel_mean([m for r in reference or [] for m in r["series_metrics"]])
    if not base.get("smape") or not base.get("mase"):
        return pooled["mase"]
    return metrics.owa(pooled["smape"], pooled["mase"], smape_naive2=base["smape"],
                       mase_naive2=base["mase"])


def _auto_record(records, k: int, choice: Choice | None, panel: Panel, probe) -> dict:
    fold = {r["model"]: r for r in records if r["fold"] == k}
    cost = sum(r["fit_seconds"] for r in fold.values() if r["error"] is None)
    if choice is None:
        return _failed(AUTO, k, f"ConfigError: no model completed the selection windows before "
                                f"fold {k}; the series may be too short for one more window")
    chosen = [fold[m] for m in ((choice.model,) if choice.model else choice.members)]
    broken = [r for r in chosen if r["error"] is not None]
    if broken:
        return {**_failed(AUTO, k, f"auto picked {choice.label}; {broken[0]['model']} failed "
                                   f"on fold {k}: {broken[0]['error']}"), "pick": choice.label}
    if choice.model:
        record = {**chosen[0], "model": AUTO, "forecasts": chosen[0]["forecasts"].assign(model=AUTO)}
    else:
        record = combine(chosen, panel, probe, AUTO)
    return {**record, "pick": choice.label, "fit_seconds": cost}


def _failed(name: str, fold: int, error: str) -> dict:
    return {"model": name, "fold": fold, "error": error, "forecasts": None}


def describe(records: list[dict]) -> str | None:
    """What a row's records chose: statistical specs (with counts), auto's picks, or members.

    >>> describe([{"fold": 0, "specs": ["ETS(A,N,N)", "ETS(M,A,M)", "ETS(A,N,N)"]}])
    'ETS(A,N,N) x2, ETS(M,A,M) x1'
    >>> describe([{"fold": 0, "pick": "naive2"}, {"fold": 1, "pick": "median(a,b,c)"}])
    'fold 0: naive2; fold 1: median(a,b,c)'
    """
    if any("pick" in r for r in records):
        return "; ".join(f"fold {r['fold']}: {r['pick']}" for r in records)
    if any(r.get("members") for r in records):
        names = dict.fromkeys(m for r in records for m in r["members"])
        return f"median({','.join(names)})"
    specs = Counter(s for r in records for s in (r.get("specs") or []))
    if not specs:
        return None
    if len(specs) == 1:
        return next(iter(specs))
    shown = ", ".join(f"{spec} x{n}" for spec, n in specs.most_common(3))
    return shown + (f", +{len(specs) - 3} more" if len(specs) > 3 else "")


def check_target(path: str | Path, auto: bool = True) -> None:
    """Refuse a ``--save-best`` target before any work: it needs ``auto`` and a place where
    either kind of pick can be written: missing, empty, or an earlier ``--save-best`` output.

    Raises:
        ConfigError: ``auto`` is off.
        OutputError: ``path`` is a file, a link, or a folder holding other files.
    """
    from forecaster import artifacts

    if not auto:
        raise ConfigError("--save-best saves auto's pick; drop --no-auto.")
    if not ensemble.is_median_run(path):
        artifacts.check_target(path, "--save-best")


def save_best(result, panel: Panel, out: str | Path, **options) -> dict:
    """Refit the comparison's overall pick on all of ``panel`` (no test held out) and save it.

    A single model is saved as a normal run directory; a median combination as a folder of
    its members' runs (:class:`forecaster.ensemble.MedianRun`). ``predict`` reads both. An
    earlier ``--save-best`` output at ``out`` is replaced, whichever kind it was.

    Returns:
        ``{"pick", "model", "members", "artifact"}``.

    Raises:
        ConfigError: The comparison had no ``auto`` pick (run without ``auto``, or every
            model failed on the selection windows).
    """
    from forecaster.forecaster import Forecaster

    pick = result.settings.get("auto") or {}
    if not pick.get("pick"):
        raise ConfigError("There is no pick to save: no model completed the selection windows "
                          "(see the auto row's error).")
    check_target(out)
    params = result.settings.get("params", {})
    names = [pick["model"]] if pick["model"] else pick["members"]
    fits = [Forecaster(n, **{**options, "params": params.get(n)}).fit(panel, test_size=0)
            for n in names]
    _clear_other_kind(Path(out), median=not pick["model"])
    if pick["model"]:
        fits[0].save(out)
    else:
        ensemble.MedianRun(fits).save(out)
    return {"pick": pick["pick"], "model": pick["model"], "members": pick["members"],
            "artifact": str(out)}


def _clear_other_kind(path: Path, *, median: bool) -> None:
    """Remove an earlier --save-best output of the other kind at ``path`` (only its own files)."""
    import shutil

    from forecaster import artifacts

    if median and (path / artifacts.MANIFEST).is_file():
        for name in artifacts.RUN_FILES:
            (path / name).unlink(missing_ok=True)
    elif not median and ensemble.is_median_run(path):
        for name in ensemble.members_of(path):
            shutil.rmtree(path / name)
        (path / ensemble.MANIFEST).unlink()
