"""Run directories: ``manifest.json`` (+ ``model.keras``, ``data.json``), replaced atomically, read as untrusted.

This module owns the file format and nothing else: it writes and reads run directories,
knows their format versions and upgrades older ones, and loads Keras files in safe mode.
What goes into a manifest is the caller's plain data (a Forecaster's ``get_params()`` and
``get_state()``); this module adds the format version, the creation time, the library
versions, the model file's name and the size and SHA-256 of every file beside it.

Writing (:func:`save`). Only a directory that holds a forecaster run (or nothing) is
replaced; one holding any other file is refused. The new run is written to a hidden
``.NAME.tmp-*`` directory beside the target and swapped with the old one in a single
atomic exchange (:func:`forecaster._fs.exchange`), under a lock that serialises writers,
so an interrupt at any point leaves the old run or the new one at ``NAME``. Where the
system has no atomic exchange, the swap is two renames, and a save killed between them
is undone by the next read or write (the old run, parked as ``.NAME.old-*``, is renamed
back). What a killed save leaves (``.NAME.tmp-*``, ``.NAME.old-*``) is removed by the
next save to the same place. Every write error is one :class:`OutputError`.

Reading (:func:`read`). A run directory is untrusted input: its files are read through
one open handle of the directory, never through a symbolic link, never from a FIFO or
device, each under a size limit, and checked against the sizes and digests that the
manifest records, so a reader sees one consistent version even while a writer replaces
the run. ``model.keras`` is loaded with ``safe_mode=True``: a file carrying a Lambda
layer or other arbitrary code is refused. Nothing in a run directory is a pickle.

Format versions: 1 (flat: data, model, settings, training, ... sections) and 2 (``params``
and ``state``). Version 1 manifests are read by converting them to version 2.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from forecaster import _fs, _json, outputs
from forecaster._upgrade import upgrade_v1
from forecaster._version import __version__
from forecaster.errors import ArtifactError, OutputError

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
MODEL_FILE = "model.keras"
DATA_FILE = "data.json"
#: Every name a run directory may hold; a directory holding anything else is not replaced.
RUN_FILES: tuple[str, ...] = (MANIFEST, MODEL_FILE, DATA_FILE)
#: Size limits of the files read from a run directory (bytes).
LIMITS = {MANIFEST: 64 << 20, MODEL_FILE: 2 << 30, DATA_FILE: 256 << 20}
_READ_ATTEMPTS = 3


@dataclass(frozen=True)
class Stored:
    """One consistent version of a run directory, as :func:`read` returns it."""

    manifest: dict
    model: bytes | None
    data: dict | None


def check_target(path, flag: str = "--out") -> Path:
    """Raise OutputError unless a run can be written at ``path``; return it as an absolute path.

    ``path`` may be missing (its parents are created), an empty directory or a run
    directory; a file, a symbolic link or a directory holding other files is refused, and
    so is a place where nothing can be created. Nothing is written but a probe.
    """
    return outputs.check_run_folder(path, flag, RUN_FILES)


def save(path, manifest: dict, keras_model=None, data: dict | None = None) -> Path:
    """Write a run directory at ``path``, replacing an earlier run there in one atomic step.

    Args:
        path: The run directory.
        manifest: Plain JSON data (``params`` and ``state``).
        keras_model: The Keras model to store as ``model.keras`` (None: no model file).
        data: Plain JSON data to store as ``data.json`` (None: no data file).

    Raises:
        OutputError: ``path`` is not a place for a run (see :func:`check_target`) or
            writing failed; the earlier run, if any, is then unchanged.
    """
    path = check_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _fs.locked(path):
            _recover(path)
            _remove_stale(path)
            check_target(path)  # again, under the lock
            _write_and_swap(path, manifest, keras_model, data)
    except OSError as exc:
        raise OutputError(f"Could not write the run directory {path}: {exc.strerror or exc}"
                          f"{f' ({exc.filename})' if exc.filename else ''}.") from None
    return path


def _write_and_swap(path: Path, manifest: dict, keras_model, data) -> None:
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        files = {}
        if keras_model is not None:
            keras_model.save(tmp / MODEL_FILE)
            files[MODEL_FILE] = _describe(_fs.sync_file(tmp / MODEL_FILE))
        if data is not None:
            blob = _json.dumps(data).encode()
            _fs.write_file(tmp / DATA_FILE, blob)
            files[DATA_FILE] = _describe(blob)
        document = {"format_version": FORMAT_VERSION,
                    "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "libraries": _versions(),
                    "model_file": MODEL_FILE if keras_model is not None else None,
                    "files": files, **manifest}
        _fs.write_file(tmp / MANIFEST, _json.dumps(document, indent=2).encode())
        _fs.sync_dir(tmp)
        _replace(tmp, path)
        _fs.sync_dir(path.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # after an exchange: the old run


def _replace(tmp: Path, path: Path) -> None:
    """Put ``tmp`` at ``path``; an existing ``path`` ends up at ``tmp`` (or is removed)."""
    if not path.exists():
        os.rename(tmp, path)
        return
    try:
        _fs.exchange(tmp, path)
    except _fs.Unsupported:
        old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(path, old)  # a kill here leaves `old`: _recover puts it back
        os.rename(tmp, path)
        shutil.rmtree(old, ignore_errors=True)


def _recover(path: Path) -> None:
    """Rename back the run that a two-rename swap killed half-way parked as ``.NAME.old-*``."""
    if path.exists() or path.is_symlink():
        return
    parked = [p for p in path.parent.glob(f".{path.name}.old-*")
              if p.is_dir() and not p.is_symlink() and (p / MANIFEST).is_file()]
    if parked:
        os.rename(max(parked, key=lambda p: p.stat().st_mtime), path)


def _remove_stale(path: Path) -> None:
    """Remove what killed saves to ``path`` left behind (hidden ``.NAME.tmp-*``/``.old-*``)."""
    for pattern in (f".{path.name}.tmp-*", f".{path.name}.old-*"):
        for stale in path.parent.glob(pattern):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)


def _describe(blob: bytes) -> dict:
    return {"bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}


def file_sha256(path) -> str | None:
    """SHA-256 of the regular file at ``path`` (None if it is not one or cannot be read)."""
    try:
        if not Path(path).is_file():
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


# ------------------------------------------------------------------------ reading
def read(path) -> Stored:
    """One consistent version of run directory ``path``: manifest, model bytes, data.

    Raises:
        ArtifactError: ``path`` is not a run directory, a file in it is a link, special,
            too large, corrupt, from a newer format, or does not match its manifest.
    """
    path = Path(path)
    _recover_for_reading(path)
    for attempt in range(_READ_ATTEMPTS):
        try:
            with _open(path) as folder:
                manifest = _parse_manifest(path, _read(folder, path, MANIFEST))
                files = _listed_files(path, manifest)
                blobs = {name: _read(folder, path, name) for name in files}
        except FileNotFoundError:  # replaced between two reads: read the new version
            if attempt + 1 < _READ_ATTEMPTS:
                continue
            raise ArtifactError(f"{path} is missing files its manifest lists; refit the model.") from None
        bad = [name for name, blob in blobs.items()
               if files[name] and _describe(blob) != {k: files[name][k] for k in ("bytes", "sha256")}]
        if not bad:
            return Stored(manifest, blobs.get(MODEL_FILE), _parse_data(path, blobs.get(DATA_FILE)))
    raise ArtifactError(f"{bad[0]} in {path} does not match the size and SHA-256 its manifest records; "
                        "the run was changed after it was saved. Refit the model.")


def read_manifest(path) -> dict:
    """Read a run directory's manifest, upgraded to the current format version."""
    return read(path).manifest


def _open(path: Path) -> _fs.Folder:
    if not path.is_dir():
        raise ArtifactError(f"No run directory at {path}; pass the --out directory of a "
                            "previous `forecaster fit`.")
    try:
        return _fs.Folder(path)
    except OSError as exc:
        raise ArtifactError(f"{path} cannot be read: {exc.strerror or exc}.") from None


def _read(folder: _fs.Folder, path: Path, name: str) -> bytes:
    try:
        return folder.read(name, LIMITS[name])
    except FileNotFoundError:
        if name == MANIFEST:
            raise ArtifactError(f"{path} has no {MANIFEST}; it is not a forecaster run directory.") from None
        raise
    except (_fs.NotAFile, _fs.TooLarge) as exc:
        raise ArtifactError(f"{name} in {path} {exc.strerror}; a run directory holds only its own "
                            "regular files. Refit the model.") from None
    except OSError as exc:
        raise ArtifactError(f"{name} in {path} cannot be read: {exc.strerror or exc}.") from None


def _parse_manifest(path: Path, raw: bytes) -> dict:
    file = path / MANIFEST
    try:
        data = json.loads(raw)
        version = data["format_version"]
        if isinstance(version, bool) or not isinstance(version, int):
            raise TypeError(f"format_version {version!r} is not an integer")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ArtifactError(f"{file} is corrupt ({type(exc).__name__}: {_short(exc)}); refit the model.") from None
    if version > FORMAT_VERSION or version < 1:
        raise ArtifactError(f"{path} was written by a newer forecaster (format {version}; this "
                            f"one reads 1 to {FORMAT_VERSION}). Upgrade: pip install -U forecaster-nn.")
    try:
        data = upgrade_v1(data, FORMAT_VERSION, MODEL_FILE) if version == 1 else data
    except (KeyError, TypeError, AttributeError) as exc:
        raise ArtifactError(f"{file} is incomplete ({type(exc).__name__}: {_short(exc)}); refit the model.") from None
    if data.get("model_file") not in (None, MODEL_FILE):
        raise ArtifactError(f"{file} names model file {_short(data.get('model_file'))}; a run directory "
                            f"holds only {MODEL_FILE}. Refit the model.")
    return data


def _listed_files(path: Path, manifest: dict) -> dict[str, dict | None]:
    """The files beside the manifest that it lists, each with its recorded size and digest."""
    files = manifest.get("files", {})
    ok = isinstance(files, dict) and all(
        name in RUN_FILES[1:] and isinstance(d, dict) and isinstance(d.get("bytes"), int)
        and isinstance(d.get("sha256"), str) for name, d in files.items())
    if not ok:
        raise ArtifactError(f"{path / MANIFEST} lists its files wrongly ({_short(files)}); refit the model.")
    out = dict(files)
    if manifest.get("model_file") and MODEL_FILE not in out:
        out[MODEL_FILE] = None  # runs saved before files were listed: no digest to check
    if not manifest.get("model_file"):
        out.pop(MODEL_FILE, None)
    return out


def _parse_data(path: Path, raw: bytes | None) -> dict | None:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ArtifactError(f"{DATA_FILE} in {path} is corrupt ({_short(exc)}); refit the model.") from None


def _recover_for_reading(path: Path) -> None:
    if path.exists() or not any(path.parent.glob(f".{path.name}.old-*")):
        return
    try:
        with _fs.locked(path, timeout=30):
            _recover(path)
    except OSError:
        raise ArtifactError(f"No run directory at {path}, but a save interrupted while replacing it "
                            f"left it as {path.parent}/.{path.name}.old-*; rename that back to "
                            f"{path.name}.") from None


def _short(value, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def load_model(blob: bytes, where="model.keras"):
    """A Keras model from the bytes of a ``.keras`` file, loaded with ``safe_mode=True``.

    The bytes are written to a private temporary file first, so that what Keras loads is
    exactly what was read (and checked). The model's custom layers must be registered
    first (import its model module).
    """
    import keras

    with tempfile.TemporaryDirectory(prefix="forecaster-model-") as tmp:
        file = Path(tmp) / MODEL_FILE
        file.write_bytes(blob)
        try:
            return keras.saving.load_model(file, safe_mode=True, compile=False)
        except Exception as exc:  # Keras raises many types for bad files; all mean "refuse".
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise ArtifactError(f"Refusing to load {where}: {reason}") from None


def _versions() -> dict:
    out = {"forecaster": __version__}
    for dist in ("numpy", "pandas", "keras", "tensorflow", "jax"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out
