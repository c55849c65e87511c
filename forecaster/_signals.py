"""SIGINT and SIGTERM as an exception, so that clean-up runs and the CLI can say what happened.

By default SIGTERM (sent by ``timeout``, batch schedulers and ``docker stop``) ends Python
at once: no ``finally`` block runs and worker processes are left training. Within
:func:`handled`, both signals raise :class:`Interrupted` in the main thread instead, so
that :func:`forecaster.executors.open_executor` stops its workers and the CLI prints one
line and exits 128 + the signal number (130 for SIGINT, 143 for SIGTERM). A second
signal while cleaning up ends the process at once. Within :func:`deferred` (e.g. while
a report is written) a signal waits until the block ends, so that nothing is left half
written.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A SIGINT or SIGTERM arrived; ``kept`` says what was written before it (None: nothing)."""

    def __init__(self, signum: int, kept: str | None = None) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum, self.kept = signum, kept

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as shells report a process ended by that signal."""
        return 128 + self.signum


class _State:
    deferring: str | None = None  # what a deferred block is writing (None: not deferring)
    pending: int | None = None  # a signal that arrived while deferring
    raised = False  # an Interrupted was raised: a second signal exits at once


_state = _State()


def _handler(signum: int, frame) -> None:
    if _state.deferring is not None:
        _state.pending = signum
        return
    if _state.raised:
        os._exit(128 + signum)  # a second signal during clean-up: stop now
    _state.raised = True
    raise Interrupted(signum)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` within this block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _handler) for s in SIGNALS}
    _state.deferring, _state.pending, _state.raised = None, None, False
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@contextlib.contextmanager
def deferred(kept: str) -> Iterator[None]:
    """Hold SIGINT/SIGTERM until this block ends; then raise :class:`Interrupted` with ``kept``."""
    _state.deferring = kept
    try:
        yield
    finally:
        _state.deferring = None
    if _state.pending is not None:
        signum, _state.pending = _state.pending, None
        _state.raised = True
        raise Interrupted(signum, kept)
