"""File-system primitives for run directories: an exchange rename, a writer lock, guarded reads.

- :func:`exchange` swaps two directory entries in one atomic step (Linux ``renameat2``
  with ``RENAME_EXCHANGE``, macOS ``renamex_np`` with ``RENAME_SWAP``), so that a path
  always names the old or the new directory, never nothing. It raises
  :class:`Unsupported` where the system or the file system has no such call.
- :func:`locked` holds an exclusive advisory lock (``flock``) on a hidden sibling file
  ``.NAME.lock`` while writers replace ``NAME``; the lock is released when the process
  dies, however it dies, and the file is removed on release.
- :class:`Folder` opens a directory once and reads the regular files inside it by name,
  refusing symbolic links, FIFOs, devices and files over a size limit: what a run
  directory holds is untrusted input.

Everything here raises plain :class:`OSError` subclasses; callers turn them into one-line
errors.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import sys
import time
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; writers are not serialised there
    fcntl = None

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_DIRFD = os.open in os.supports_dir_fd and bool(_DIRECTORY)  # open files relative to a directory


class Unsupported(OSError):
    """The system or file system cannot exchange two paths atomically."""


class NotAFile(OSError):
    """A name in a run directory is a link, a FIFO, a device or another directory."""


class TooLarge(OSError):
    """A file in a run directory is larger than its limit."""


def exchange(a: Path, b: Path) -> None:
    """Atomically swap the directory entries ``a`` and ``b`` (both must exist)."""
    call = _exchange_call()
    if call is None:
        raise Unsupported(errno.ENOSYS, "no atomic exchange on this system", str(b))
    if call(os.fsencode(a), os.fsencode(b)) != 0:
        code = ctypes.get_errno()
        if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise Unsupported(code, os.strerror(code), str(b))
        raise OSError(code, os.strerror(code), str(b))


def _exchange_call():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        fn = libc.renameat2  # (olddirfd, oldpath, newdirfd, newpath, flags)
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        return lambda a, b: fn(-100, a, -100, b, 2)  # AT_FDCWD, RENAME_EXCHANGE
    if sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        fn = libc.renamex_np
        fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
        return lambda a, b: fn(a, b, 2)  # RENAME_SWAP
    return None


@contextmanager
def locked(path: Path, *, timeout: float = 120.0):
    """Hold the writers' lock of ``path`` (the file ``.NAME.lock`` beside it) inside the block.

    Raises:
        TimeoutError: Another process held the lock for ``timeout`` seconds.
    """
    if fcntl is None:
        yield
        return
    lock = path.parent / f".{path.name}.lock"
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() > deadline:
                raise TimeoutError(errno.ETIMEDOUT, f"another process holds {lock.name}", str(lock)) from None
            time.sleep(0.02)
            continue
        if _same_file(fd, lock):  # not a file that the previous holder removed meanwhile
            break
        os.close(fd)
    try:
        yield
    finally:
        try:
            os.unlink(lock)
        finally:
            os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        now = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


class Folder:
    """A directory opened once; :meth:`read` reads regular files inside *that* directory.

    Names are resolved against the opened directory, so a concurrent rename of its path
    does not switch the reader to another directory half-way.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.fd = os.open(self.path, os.O_RDONLY | _DIRECTORY | _CLOEXEC) if _DIRFD else None

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)

    def names(self) -> list[str]:
        return sorted(os.listdir(self.fd if self.fd is not None else self.path))

    def read(self, name: str, limit: int) -> bytes:
        """The bytes of regular file ``name``; NotAFile, TooLarge or FileNotFoundError otherwise."""
        flags = os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC  # NONBLOCK: a FIFO must not hang us
        try:
            if self.fd is not None:
                fd = os.open(name, flags, dir_fd=self.fd)
            else:
                if (self.path / name).is_symlink():
                    raise NotAFile(errno.ELOOP, "is a symbolic link", name)
                fd = os.open(self.path / name, flags)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise NotAFile(errno.ELOOP, "is a symbolic link", name) from None
            raise
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise NotAFile(errno.EINVAL, "is not a regular file", name)
            if info.st_size > limit:
                raise TooLarge(errno.EFBIG, f"is {info.st_size:,} bytes, over the limit of {limit:,}", name)
            data = file.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(errno.EFBIG, f"is over the limit of {limit:,} bytes", name)
        return data



def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file at ``path`` and flush it to disk."""
    with open(path, "xb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def sync_file(path: Path) -> bytes:
    """Flush the file at ``path`` to disk and return its bytes."""
    with open(path, "rb+") as file:
        data = file.read()
        os.fsync(file.fileno())
    return data


def sync_dir(path: Path) -> None:
    """Flush a directory's entries to disk (where the system allows it)."""
    if not _DIRECTORY:
        return
    fd = os.open(path, os.O_RDONLY | _DIRECTORY)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
