"""Run directories: ``manifest.json`` + ``model.keras``, written atomically, loaded without code.

This module owns the file format and nothing else: it writes and reads run directories,
knows their format versions and upgrades older ones, and loads Keras files in safe mode.
What goes into a manifest is the caller's plain data (a Forecaster's ``get_params()`` and
``get_state()``); this module adds the format version, the creation time, the library
versions and the name of the model file.

``model.keras`` is loaded with ``safe_mode=True``: a file carrying a Lambda layer or
other arbitrary code is refused. Nothing in a run directory is a pickle.

Writes go to a hidden temporary directory beside the target, renamed into place only
when complete, so an interrupted save leaves the earlier run (or nothing) in place; a
temporary directory left by a killed save (``.NAME.tmp-*``) is removed by the next save
to the same place.

Format versions: 1 (flat: data, model, settings, training, ... sections) and 2 (``params``
and ``state``). Version 1 manifests are read by converting them to version 2.
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

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
MODEL_FILE = "model.keras"


def save(path, manifest: dict, keras_model=None) -> Path:
    """Write a run directory at ``path`` atomically, replacing an earlier run there.

    Args:
        path: The run directory.
        manifest: Plain JSON data (``params`` and ``state``).
        keras_model: The Keras model to store as ``model.keras`` (None: no model file).
    """
    path = Path(path)
    if path.exists() and not (path / MANIFEST).is_file():
        raise ArtifactError(f"{path} exists and is not a forecaster run directory; "
                            "pass another --out.")
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        if keras_model is not None:
            keras_model.save(tmp / MODEL_FILE)
        document = {"format_version": FORMAT_VERSION,
                    "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "libraries": _versions(),
                    "model_file": MODEL_FILE if keras_model is not None else None, **manifest}
        (tmp / MANIFEST).write_text(json.dumps(document, indent=2, allow_nan=True))
        _swap(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _remove_stale(path: Path) -> None:
    """Remove what killed saves to ``path`` left behind (hidden ``.NAME.tmp-*``/``.old-*``)."""
    for pattern in (f".{path.name}.tmp-*", f".{path.name}.old-*"):
        for stale in path.parent.glob(pattern):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)


def _swap(tmp: Path, path: Path) -> None:
    old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(path) -> dict:
    """Read a run directory's manifest, upgraded to the current format version."""
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
    try:
        data = _upgrade_v1(data) if version == 1 else data
    except (KeyError, TypeError, AttributeError) as exc:
        raise ArtifactError(f"{file} is incomplete ({type(exc).__name__}: {exc}); refit the model.") from None
    if data.get("model_file") not in (None, MODEL_FILE):
        raise ArtifactError(f"{file} names model file {data.get('model_file')!r}; a run directory "
                            f"holds only {MODEL_FILE}. Refit the model.")
    return data


def _upgrade_v1(data: dict) -> dict:
    """A version-1 manifest in the version-2 layout (same run, same forecasts)."""
    settings, model, source = data["settings"], data["model"], data["data"]
    params = {"model": model["name"], "params": model["config"] or None,
              **{k: settings[k] for k in ("lookback", "horizon", "stride", "val_size", "gap",
                                          "max_train_size", "scaler", "norm", "levels")},
              **data["training"]}
    state = {**{k: settings[k] for k in ("lookback", "horizon", "season", "val_size",
                                         "test_size", "levels")},
             "ids": source["ids"], "last_timestamps": source["last_timestamps"],
             "source": source["source"], "schema": source["schema"], "splits": data["splits"],
             "config": model["config"], "n_params": model["n_params"],
             "backend": data.get("backend"), "scalers": data["scalers"],
             "history": data["history"], "fit_seconds": data["fit_seconds"],
             "metrics": data["metrics"], "calibration": data["calibration"],
             "interval_scales": data["interval_scales"]}
    return {"format_version": FORMAT_VERSION, "upgraded_from": 1, "created": data.get("created"),
            "libraries": data.get("libraries", {}),
            "model_file": MODEL_FILE if model["n_params"] else None,
            "params": params, "state": state}


def load_model(path):
    """Load the Keras model of run directory ``path`` with ``safe_mode=True``.

    The model's custom layers must be registered first (import its model module).
    """
    import keras

    file = Path(path) / MODEL_FILE
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
