"""Matched parameter budgets: size each neural model's width to a target parameter count.

Comparing an MLP of 10,000 weights with an LSTM of 800 says little about architecture;
``--budget N`` gives every neural model (about) the same number of parameters by
choosing its width (``units``, or ``filters`` for wavenet) so that Keras's
``count_params()`` is as close as possible to ``N``.

Counting builds the real model, so the count is Keras's own, but without initializing
its weights: on JAX each initializer compiles a small XLA program per shape (about a
second per build), while a count only needs the variables' shapes.
"""

from __future__ import annotations

import contextlib

from forecaster import backend, models
from forecaster.errors import ConfigError

MAX_WIDTH = 4096


FINE_KEYS = {"wavenet": "skip_filters"}


def width_key(name: str) -> str:
    """The Config field that sets a model's width."""
    return "filters" if name == "wavenet" else "units"


def count(name: str, params: dict, *, lookback: int, n_features: int, horizon: int) -> int:
    """Parameter count of model ``name`` built with ``params``."""
    backend.use()
    config = models.make_config(name, params)
    with _uninitialized():
        model = models.module(name).build(config, lookback=lookback, n_features=n_features,
                                          horizon=horizon)
        return int(model.count_params())


@contextlib.contextmanager
def _uninitialized():
    """Create Keras variables with their shapes only; never initialize them.

    Inside a ``keras.StatelessScope`` variables defer their initializer and are queued
    for initialization when an eager scope is next entered. The queue is restored on
    exit, so the throwaway model's variables are never initialized by anyone.
    """
    import keras
    from keras.src.backend.common import global_state

    key = "uninitialized_variables"
    queued = list(global_state.get_global_attribute(key, []) or [])
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute(key, queued)


def size_for_budget(name: str, budget: int, *, lookback: int, n_features: int, horizon: int,
                    params: dict | None = None) -> dict:
    """``params`` with the width that brings the parameter count closest to ``budget``.

    The count grows with the width, so a bisection over widths 1..4096 finds it. A
    model with a second width (wavenet's ``skip_filters``) then has that one bisected
    too, at both neighbouring main widths, for a finer match.

    Raises:
        ConfigError: ``budget`` is smaller than the model's size at width 1.
    """
    if budget < 1:
        raise ConfigError(f"--budget must be >= 1, got {budget}.")
    key, params = width_key(name), dict(params or {})

    def size(extra: dict) -> int:
        return count(name, {**params, **extra}, lookback=lookback,
                     n_features=n_features, horizon=horizon)

    if size({key: 1}) > budget:
        raise ConfigError(f"--budget {budget} is below the smallest {name} "
                          f"({size({key: 1})} parameters at {key}=1); raise --budget.")
    candidates = [{key: w} for w in _bracket(lambda w: size({key: w}), budget)]
    fine = FINE_KEYS.get(name)
    if fine:
        candidates = [{**c, fine: w} for c in candidates
                      for w in _bracket(lambda w, c=c: size({**c, fine: w}), budget)]
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
