"""Matched parameter budgets: size each neural model's width to a target parameter count.

Comparing an MLP of 10,000 weights with an LSTM of 800 says little about architecture;
``--budget N`` gives every neural model (about) the same number of parameters by
choosing its width (the registry's ``Spec.width``: ``units``, or ``filters`` for wavenet)
so that its parameter count is as close as possible to ``N``.

Counts come from each model's closed form (``n_params`` in its module, equal to Keras's
``count_params()`` by the contract tests), so sizing builds no model and takes
milliseconds.

>>> size_for_budget("mlp", 1000, lookback=24, n_features=1, horizon=12)
{'units': 18}
>>> count("mlp", {"units": 18}, lookback=24, n_features=1, horizon=12)
1020

The same closed forms refuse, before anything is built, a model too large for this
machine (:func:`check_size`): training takes about :data:`TRAIN_BYTES_PER_PARAM` bytes per
parameter, and a model may use at most half of the machine's memory.
"""

from __future__ import annotations

import os

from forecaster import models
from forecaster.errors import ConfigError

MAX_WIDTH = 4096
#: Bytes per parameter while training: float32 weights, their gradients and Adam's two moments.
TRAIN_BYTES_PER_PARAM = 16


def count(name: str, params: dict, *, lookback: int, n_features: int, horizon: int) -> int:
    """Parameter count of model ``name`` built with ``params`` (no model is built)."""
    config = models.make_config(name, params)
    return models.module(name).n_params(config, lookback=lookback, n_features=n_features,
                                        horizon=horizon)


def size_for_budget(name: str, budget: int, *, lookback: int, n_features: int, horizon: int,
                    params: dict | None = None) -> dict:
    """``params`` with the width that brings the parameter count closest to ``budget``.

    The count grows with the width, so a bisection over widths 1..4096 finds it. A
    model with a second width (``Spec.fine_width``, e.g. wavenet's ``skip_filters``) then
    has that one bisected too, at both neighbouring main widths, for a finer match.

    Raises:
        ConfigError: ``budget`` is smaller than the model's size at width 1.
    """
    if budget < 1:
        raise ConfigError(f"--budget must be >= 1, got {budget}.")
    spec, params = models.REGISTRY[models.check_name(name)], dict(params or {})
    if spec.width is None:
        raise ConfigError(f"Model '{name}' has no width to size; --budget applies to "
                          f"{', '.join(models.NEURAL)}.")

    def size(extra: dict) -> int:
        return count(name, {**params, **extra}, lookback=lookback,
                     n_features=n_features, horizon=horizon)

    smallest = size({spec.width: 1})
    if smallest > budget:
        raise ConfigError(f"--budget {budget} is below the smallest {name} "
                          f"({smallest} parameters at {spec.width}=1); raise --budget.")
    candidates = [{spec.width: w} for w in _bracket(lambda w: size({spec.width: w}), budget)]
    if spec.fine_width:
        candidates = [{**c, spec.fine_width: w} for c in candidates
                      for w in _bracket(lambda w, c=c: size({**c, spec.fine_width: w}), budget)]
    best = min(candidates, key=lambda c: abs(size(c) - budget))
    return {**params, **best}


def _bracket(size, budget: int) -> tuple[int, ...]:
    """Widths ``lo, lo + 1`` with ``size(lo) <= budget < size(lo + 1)`` (bisection)."""
    lo, hi = 1, MAX_WIDTH
    if size(lo) > budget:
        return (lo,)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if size(mid) <= budget else (lo, mid)
    return (lo, hi)


def memory_limit() -> int:
    """Bytes a model may take while training: half of this machine's memory (8 GiB if unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system
        total = 16 << 30
    return total // 2


def check_size(name: str, config, *, lookback: int, n_features: int, horizon: int) -> int:
    """The parameter count of model ``name`` built with ``config``; ConfigError if it cannot fit in memory.

    Counted in closed form (nothing is built), so a width of two billion is refused at once
    instead of after minutes of allocation.

    >>> check_size("mlp", models.make_config("mlp", {"units": 2_000_000_000}), lookback=24,
    ...            n_features=1, horizon=12)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    forecaster.errors.ConfigError: mlp would have 4,000,000,076,000,000,012 parameters; training it takes about 64,000,001,216 GB...
    """
    n = models.module(name).n_params(config, lookback=lookback, n_features=n_features, horizon=horizon)
    need, limit = n * TRAIN_BYTES_PER_PARAM, memory_limit()
    if need > limit:
        width = models.REGISTRY[name].width
        raise ConfigError(f"{name} would have {n:,} parameters; training it takes about {need / 1e9:,.0f} GB "
                          f"({TRAIN_BYTES_PER_PARAM} bytes per parameter), over the {limit / 1e9:,.1f} GB "
                          f"allowed here (half of this machine's memory). Lower --param {width} "
                          "(or --lookback, --horizon, layers).")
    return n
