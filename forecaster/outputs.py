"""Output files and folders: checked before any work, written without destroying anything.

A command checks where it will write before it reads, trains or compares anything
(:func:`check_file`, :func:`check_folder`), so an impossible ``--output`` costs a second,
not a whole fit; no output may be a file the command reads or the file a run was trained
on, nor lie inside a run directory. Files are written whole or not at all
(:func:`write_text`: a temporary file beside the target, renamed over it), and any
:class:`OSError` while writing is one :class:`~forecaster.errors.OutputError` line.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> (folder / "air.csv").write_text("date,y")
6
>>> check_file(folder / "air.csv", "--output", reads=[folder / "air.csv"])
Traceback (most recent call last):
...
forecaster.errors.OutputError: --output air.csv is a file this command reads; writing it would destroy it. Pass another --output.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from forecaster.errors import OutputError


def check_file(path, flag: str, *, reads: Iterable = (), inside: Iterable = ()) -> Path:
    """Raise OutputError unless a file can be written at ``path``; return it.

    Args:
        path: The output file.
        flag: The flag that named it, for messages (``--output``).
        reads: Files the command reads (or that the run was trained on): never overwritten.
        inside: Directories (run directories) no output may be written into.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{flag} {path} is a directory; pass a file name, e.g. {path / 'forecast.csv'}.")
    _check_not_read(path, flag, reads)
    target = os.path.realpath(path)
    for folder in inside:
        if folder is not None and target.startswith(os.path.realpath(folder) + os.sep):
            raise OutputError(f"{flag} {path} is inside the run directory {folder}; a run holds only "
                              f"its own files. Pass another {flag}.")
    _probe(path.parent, path, flag)
    return path


def check_folder(path, flag: str, *, files: Iterable[str] = (), reads: Iterable = ()) -> Path:
    """Raise OutputError unless files named ``files`` can be written in folder ``path``; return it."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{flag} {path} is a file, not a folder; pass a folder name.")
    for name in files:
        _check_not_read(path / name, flag, reads)
    _probe(path, path, flag)
    return path


def check_run_folder(path, flag: str, names: Iterable[str]) -> Path:
    """Raise OutputError unless ``path`` is missing, empty or holds only ``names``; return it, absolute.

    A run directory is replaced whole, so a folder holding anything else (the user's own
    files), a file, or a symbolic link is refused, as is a place where nothing can be created.
    """
    path = Path(os.path.abspath(path))
    if path.is_symlink():
        raise OutputError(f"{flag} {path} is a symbolic link; pass the directory it points to "
                          f"({os.path.realpath(path)}) or another {flag}.")
    if path.exists():
        if not path.is_dir():
            raise OutputError(f"{flag} {path} is a file, not a run directory; pass another {flag}.")
        try:
            foreign = sorted(set(os.listdir(path)) - set(names))
        except OSError as exc:
            raise OutputError(f"{flag} {path} cannot be read: {exc.strerror or exc}.") from None
        if foreign:
            more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
            raise OutputError(f"{flag} {path} holds {foreign[0]!r}{more}, which is not part of a "
                              "forecaster run; a new run replaces the whole directory, so pass "
                              f"another {flag} or move those files out.")
    _probe(path.parent, path, flag)
    return path


def _check_not_read(path: Path, flag: str, reads: Iterable) -> None:
    for read in reads:
        if read is not None and _same(path, Path(read)):
            raise OutputError(f"{flag} {path.name} is a file this command reads; writing it would "
                              f"destroy it. Pass another {flag}.")


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _probe(folder: Path, path: Path, flag: str) -> None:
    """Create and remove a file where the output goes (or in the nearest existing parent)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{flag} {path}: {existing} is a file, not a directory; pass another {flag}.")
    probe = existing / f".forecaster-probe-{uuid.uuid4().hex[:8]}"
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"{flag} {path} cannot be written: {existing}: {exc.strerror or exc}. "
                          f"Pass another {flag}.") from None


@contextmanager
def writing(path, flag: str):
    """Turn any OSError inside the block into one OutputError line naming ``path``."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"Could not write {flag} {path}: {exc.strerror or exc}"
                          f"{f' ({exc.filename})' if exc.filename and str(exc.filename) != str(path) else ''}.") from None


def write_text(path, text: str, flag: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (parents created; OSError -> OutputError)."""
    path = Path(path)
    with writing(path, flag):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            tmp.write_text(text)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
