"""Run directories: ``manifest.json`` + ``model.keras``, written atomically, loaded without code.

The manifest is plain JSON: format version, library versions, Keras backend, the data
schema, series ids and last timestamps, window settings, the model's name and Config,
training settings and seed, scaler state, interval calibration, test metrics, and the
exact index ranges used for training, validation and test (the leakage record).
``model.keras`` is loaded with ``safe_mode=True``: a file carrying a Lambda layer or
other arbitrary code is refused. Nothing in a run directory is a pickle.

Writes go to a hidden temporary directory beside the target, renamed into place only
when complete, so an interrupted fit never leaves a half-written run.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from forecaster._version import __version__
from forecaster.errors import ArtifactError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MODEL_FILE = "model.keras"
_SETTINGS = ("lookback_", "horizon_", "stride", "val_size_", "test_size_", "gap",
             "max_train_size", "scaler", "norm", "levels_", "season_")
_TRAINING = ("epochs", "batch_size", "learning_rate", "loss", "patience", "clipnorm", "seed",
             "lr_patience")


def manifest(f) -> dict:
    """The JSON manifest of a fitted Forecaster."""
    return {
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "libraries": _versions(),
        "backend": getattr(f, "backend_", None),
        "data": {"source": f.source_, "schema": f.schema_, "ids": list(f.ids_),
                 "last_timestamps": f.last_times_},
        "model": {"name": f.model, "config": f.config_, "n_params": f.n_params_},
        "settings": {k.rstrip("_"): _plain(getattr(f, k)) for k in _SETTINGS},
        "training": {k: getattr(f, k) for k in _TRAINING},
        "history": f.history_,
        "scalers": [s.to_dict() for s in f.scalers_],
        "splits": [s.as_dict() for s in f.splits_],
        "calibration": f.calibration_.to_dict() if f.calibration_ else None,
        "interval_scales": getattr(f, "interval_scales_", None),
        "metrics": f.metrics_,
        "fit_seconds": f.fit_seconds_,
    }


def save(f, path) -> Path:
    """Write ``f``'s run directory to ``path`` atomically; replace an earlier run there."""
    path = Path(path)
    if path.exists() and not (path / MANIFEST).is_file():
        raise ArtifactError(f"{path} exists and is not a forecaster run directory; "
                            "pass another --out.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        if f.model_ is not None:
            f.model_.save(tmp / MODEL_FILE)
        (tmp / MANIFEST).write_text(json.dumps(manifest(f), indent=2, allow_nan=True))
        _swap(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _swap(tmp: Path, path: Path) -> None:
    old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(path) -> dict:
    """Read and check a run directory's manifest."""
    path = Path(path)
    if not path.is_dir():
        raise ArtifactError(f"No run directory at {path}; pass the --out directory of a "
                            "previous `forecaster fit`.")
    file = path / MANIFEST
    if not file.is_file():
        raise ArtifactError(f"{path} has no {MANIFEST}; it is not a forecaster run directory.")
    try:
        data = json.loads(file.read_text())
        version = int(data["format_version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{file} is corrupt ({type(exc).__name__}: {exc}); refit the model.") from None
    if version > FORMAT_VERSION:
        raise ArtifactError(f"{path} was written by a newer forecaster (format {version}; this "
                            f"one reads {FORMAT_VERSION}). Upgrade: pip install -U forecaster-nn.")
    return data


def load(path):
    """Rebuild the fitted Forecaster saved at ``path`` (Keras loaded with ``safe_mode=True``)."""
    from forecaster.forecaster import Forecaster

    data = read_manifest(path)
    try:
        return _restore(Forecaster, data, Path(path))
    except (KeyError, TypeError) as exc:
        raise ArtifactError(f"{Path(path) / MANIFEST} is incomplete ({exc}); refit the model.") from None


def _restore(cls, data: dict, path: Path):
    from forecaster import intervals, scaling, splits

    s, t = data["settings"], data["training"]
    f = cls(data["model"]["name"], params=data["model"]["config"] or None,
            lookback=s["lookback"], horizon=s["horizon"], stride=s["stride"],
            val_size=s["val_size"], gap=s["gap"], max_train_size=s["max_train_size"],
            scaler=s["scaler"], norm=s["norm"], levels=tuple(s["levels"]), **t)
    for key in _SETTINGS:
        if key.endswith("_"):
            setattr(f, key, s[key.rstrip("_")])
    f.levels_ = tuple(f.levels_)
    f.config_, f.n_params_ = data["model"]["config"], data["model"]["n_params"]
    f.scalers_ = [scaling.Scaler.from_dict(d) for d in data["scalers"]]
    f.splits_ = [splits.Split(tuple(d["train"]), tuple(d["val"]), tuple(d["test"]))
                 for d in data["splits"]]
    cal = data["calibration"]
    f.calibration_ = intervals.Calibration.from_dict(cal) if cal else None
    f.interval_scales_ = data["interval_scales"]
    f.schema_, f.source_ = data["data"]["schema"], data["data"]["source"]
    f.ids_, f.last_times_ = data["data"]["ids"], data["data"]["last_timestamps"]
    f.history_, f.metrics_, f.fit_seconds_ = data["history"], data["metrics"], data["fit_seconds"]
    f.backend_ = data.get("backend")
    f.model_ = _load_keras(path, f.model) if data["model"]["n_params"] else None
    return f


def _load_keras(path: Path, name: str):
    from forecaster import backend, models

    backend.use()
    import keras

    models.module(name)  # registers the model's custom layers (e.g. the Jordan cell)
    file = path / MODEL_FILE
    if not file.is_file():
        raise ArtifactError(f"{path} has no {MODEL_FILE}; the run is incomplete, refit the model.")
    try:
        return keras.saving.load_model(file, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for bad files; all mean "refuse".
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ArtifactError(f"Refusing to load {file}: {reason}") from None


def _versions() -> dict:
    out = {"forecaster": __version__}
    for dist in ("numpy", "pandas", "keras", "tensorflow", "jax"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def _plain(value):
    return list(value) if isinstance(value, tuple) else value
