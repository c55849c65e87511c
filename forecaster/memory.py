"""How much memory training needs, and whether this machine has it: checked before training.

Training streams its windows (:class:`forecaster.windows.WindowSet`), so what it holds is
the scaled series, one integer per window (its origin) plus a permutation of the training
windows, a few batches, and the model: its weights with their gradients and Adam's two
moments (4 copies), and the activations one batch leaves for the backward pass (counted for
models that run over the steps of the window: recurrent and convolutional ones). It is an
estimate, not a bound: the backend's workspace and Python's own memory come on top.

>>> need = Estimate(series=2**20, windows=0, batches=2**20, model=2**21)
>>> need.total, format_bytes(need.total)
(4194304, '4.0 MiB')
>>> need.check(available=2**30, hint="lower --batch-size")
>>> need.check(available=2**21, hint="lower --batch-size")
Traceback (most recent call last):
...
forecaster.errors.ConfigError: Training needs about 4.0 MiB of memory (series 1.0 MiB, window index 0 B, \
batches 1.0 MiB, model 2.0 MiB) but 2.0 MiB is available; lower --batch-size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from forecaster.errors import ConfigError

FLOAT = 4  # bytes of a float32
INDEX = 4  # bytes of a window's index: int32 (int64 only past 2**31 rows, see windows.index_dtype)
BATCHES_HELD = 4  # a batch being gathered, its normalised copy, the one on the device, validation's


@dataclass(frozen=True)
class Estimate:
    """Bytes training holds, by part."""

    series: int
    windows: int
    batches: int
    model: int

    @property
    def total(self) -> int:
        return self.series + self.windows + self.batches + self.model

    def parts(self) -> str:
        """``"series 1.0 MiB, window index 0 B, batches 1.0 MiB, model 2.0 MiB"``."""
        parts = {"series": self.series, "window index": self.windows, "batches": self.batches,
                 "model": self.model}
        return ", ".join(f"{k} {format_bytes(v)}" for k, v in parts.items())

    def check(self, available: int | None, *, hint: str) -> None:
        """Raise ConfigError (one line, ending with ``hint``) when more than ``available`` is needed."""
        if available is not None and self.total > available:
            raise ConfigError(f"Training needs about {format_bytes(self.total)} of memory "
                              f"({self.parts()}) but {format_bytes(available)} is available; {hint}.")


def estimate(*, series_bytes: int, n_train: int, n_val: int, batch_size: int, steps: int,
             n_inputs: int, targets: int, n_params: int, width: int, over_steps: bool) -> Estimate:
    """The memory of streamed training.

    Args:
        series_bytes: The scaled series, as laid out for the windows.
        n_train, n_val: Training and validation windows.
        batch_size: Windows per batch.
        steps: Input rows of a window (lookback, plus the known rows ahead).
        n_inputs: Input columns of a row.
        targets: Target values of a window (horizon, or lookback x horizon for a sequence head).
        n_params: The model's parameters.
        width: Units (or filters) times layers: the activations of one step.
        over_steps: The model keeps activations for every step (recurrent, convolutional).
    """
    batch = min(batch_size, max(n_train, 1))
    per_batch = batch * (steps * n_inputs + targets) * FLOAT
    activations = 2 * batch * width * (steps if over_steps else 1) * FLOAT  # forward + gradient
    return Estimate(series=series_bytes, windows=INDEX * (2 * n_train + n_val),
                    batches=BATCHES_HELD * per_batch, model=4 * n_params * FLOAT + activations)


def available_bytes() -> int | None:
    """Memory this process can still use: MemAvailable, capped by a cgroup v2 limit; None if unknown."""
    free = _meminfo_available()
    limit = _cgroup_room()
    if free is None:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            free = None
    if limit is not None:
        return limit if free is None else min(free, limit)
    return free


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """The cgroup v2 memory limit minus current use, when a limit is set."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(int(limit) - int((root / "memory.current").read_text().strip()), 0)
    except (OSError, ValueError):
        return None


def format_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``.

    >>> format_bytes(0), format_bytes(1536), format_bytes(3 * 2**30)
    ('0 B', '1.5 KiB', '3.0 GiB')
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            break
        n /= 1024
    return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
