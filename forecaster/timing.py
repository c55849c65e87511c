"""compare's clock: ``--time-limit`` durations, the order jobs run in, and the time left.

Pure bookkeeping, no Keras: :func:`parse_duration` reads ``10m``, ``90s`` or ``1h30m``;
:class:`Plan` puts cheap jobs first when there is a time limit (so that a budget that runs
out leaves the most models scored) and the longest first otherwise (so that parallel
workers finish together); :class:`Tracker` turns the jobs done so far into the
:class:`Progress` that compare's ``on_job`` receives, with an estimate of the time left.

>>> parse_duration("1h30m"), parse_duration("90s"), parse_duration(45)
(5400.0, 90.0, 45.0)
>>> format_duration(5400.0), format_duration(90), format_duration(0.4)
('1h30m', '1m30s', '0s')
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from forecaster.errors import ConfigError

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")


def parse_duration(value: str | float | None) -> float | None:
    """Seconds in ``value``: ``"10m"``, ``"90s"``, ``"1h30m"``, ``"2.5h"`` or a number of seconds.

    >>> parse_duration("10m"), parse_duration(" 1H "), parse_duration(None)
    (600.0, 3600.0, None)
    >>> parse_duration("ten minutes")
    Traceback (most recent call last):
    ...
    forecaster.errors.ConfigError: --time-limit expects a duration like 10m, 90s or 1h30m, got 'ten minutes'.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        match = _DURATION.fullmatch(text)
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif text and match:
            h, m, s = (float(g) if g else 0.0 for g in match.groups())
            seconds = 3600 * h + 60 * m + s
        else:
            seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(f"--time-limit expects a duration like 10m, 90s or 1h30m, got {value!r}.")
    return seconds


def format_duration(seconds: float) -> str:
    """``5400 -> '1h30m'``, ``90 -> '1m30s'``, ``600 -> '10m'``: whole seconds, largest units first."""
    total = round(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    parts = [f"{v}{unit}" for v, unit in ((h, "h"), (m, "m"), (s, "s")) if v]
    return "".join(parts) or "0s"


@dataclass(frozen=True)
class Progress:
    """Where a comparison stands after a job: what compare's ``on_job`` receives.

    Attributes:
        done: Jobs finished (scored, failed or not run).
        total: Jobs in the comparison.
        elapsed_s: Seconds since the comparison started.
        remaining_s: Estimated seconds until the last job ends (None until a job of each
            kind still to run has finished once), never past the time limit.
        time_left_s: Seconds left of ``--time-limit`` (None without one).
    """

    done: int
    total: int
    elapsed_s: float
    remaining_s: float | None
    time_left_s: float | None


class Plan:
    """The order of (model, fold) jobs, from a relative cost per job.

    ``costs`` maps each job to ``(tier, work)``: the tier (0 baselines, 1 statistical
    models, 2 neural networks) orders first, the work (rows times a per-model factor)
    within a tier. Work units are only compared within a tier.

    >>> plan = Plan({("mlp", 0): (2, 60.0), ("mlp", 1): (2, 72.0), ("naive", 0): (0, 60.0)},
    ...             cheap_first=True)
    >>> plan.order
    [('naive', 0), ('mlp', 0), ('mlp', 1)]
    >>> Plan(plan.costs, cheap_first=False).order
    [('mlp', 1), ('mlp', 0), ('naive', 0)]
    """

    def __init__(self, costs: dict[tuple[str, int], tuple[int, float]], *, cheap_first: bool):
        self.costs = costs
        self.order = sorted(costs, key=costs.get, reverse=not cheap_first)


class Tracker:
    """Jobs done so far -> :class:`Progress`, estimating the rest from observed seconds.

    A job still to run is estimated from its own model's seconds per unit of work, else
    from its tier's; baselines count as free. Until a tier still to run has an observed
    job, the estimate is None. The sum is divided by the number of parallel slots.

    >>> plan = Plan({("mlp", 0): (2, 10.0), ("mlp", 1): (2, 20.0), ("gru", 0): (2, 10.0)},
    ...             cheap_first=True)
    >>> t = Tracker(plan, slots=1, start=0.0, deadline=None, clock=lambda: 4.0)
    >>> t.progress().remaining_s is None
    True
    >>> t.done(("mlp", 0), 4.0).remaining_s  # 0.4 s per unit: mlp fold 1 = 8 s, gru = 4 s
    12.0
    """

    def __init__(self, plan: Plan, *, slots: int, start: float, deadline: float | None,
                 clock=time.time):
        self.plan, self.slots, self.start, self.deadline, self.clock = plan, slots, start, deadline, clock
        self.seconds: dict[tuple[str, int], float] = {}

    def done(self, task: tuple[str, int], seconds: float | None) -> Progress:
        """Record a finished job (``seconds`` None: it did no work) and return the progress."""
        self.seconds[task] = seconds or 0.0
        return self.progress()

    def progress(self) -> Progress:
        now = self.clock()
        left = None if self.deadline is None else max(self.deadline - now, 0.0)
        remaining = self._remaining()
        if remaining is not None and left is not None:
            remaining = min(remaining, left)
        return Progress(len(self.seconds), len(self.plan.costs), now - self.start, remaining, left)

    def _remaining(self) -> float | None:
        total = 0.0
        for task, (tier, work) in self.plan.costs.items():
            if task in self.seconds or tier == 0:
                continue
            rate = self._rate(model=task[0]) or self._rate(tier=tier)
            if rate is None:
                return None
            total += rate * work
        return total / max(self.slots, 1)

    def _rate(self, *, model: str | None = None, tier: int | None = None) -> float | None:
        """Seconds per unit of work over the finished jobs of ``model`` (or of ``tier``)."""
        seen = [t for t in self.seconds if self.seconds[t] > 0
                and (t[0] == model if model is not None else self.plan.costs[t][0] == tier)]
        work = sum(self.plan.costs[t][1] for t in seen)
        return sum(self.seconds[t] for t in seen) / work if seen and work > 0 else None
