"""Choose the Keras backend before Keras is first imported.

Keras reads ``KERAS_BACKEND`` once, at import. :func:`use` sets it (and quiets
TensorFlow's C++ start-up logs) and refuses a switch after Keras is loaded.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from forecaster.errors import ConfigError

BACKENDS: tuple[str, ...] = ("tensorflow", "jax")
# Chosen by measurement (benchmarks/results/engine.md): on W1 Keras on JAX trains the LSTM
# 2.5x faster than on TensorFlow (4,143 vs 1,645 windows/s on 2 cores), same accuracy;
# on the M4 run the two engines take the same total time.
DEFAULT = "jax"


def check(name: str | None) -> str | None:
    """Validate a backend name without importing anything."""
    if name is not None and name not in BACKENDS:
        raise ConfigError(f"Unknown backend '{name}'. Use one of: {', '.join(BACKENDS)}.")
    return name


def use(name: str | None = None) -> str:
    """Select backend ``name`` (default: ``$KERAS_BACKEND``, else :data:`DEFAULT`) and return it.

    If Keras is already imported (by the caller, say), its backend is kept when none is
    requested; requesting a different one is an error, since Keras cannot switch.
    """
    requested = check(name)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # C++ start-up chatter (cuInit, oneDNN)
    if "keras" in sys.modules:
        active = sys.modules["keras"].backend.backend()
        if requested is not None and requested != active:
            raise ConfigError(
                f"Keras is already running on '{active}'; start a new process to use '{requested}'."
            )
        if active not in BACKENDS:
            raise ConfigError(f"Keras runs on '{active}', which forecaster does not support; "
                              f"set KERAS_BACKEND to one of: {', '.join(BACKENDS)}.")
        return active
    name = check(requested or os.environ.get("KERAS_BACKEND") or DEFAULT)
    if name == "jax":
        try:
            import jax  # noqa: F401
        except ImportError:
            raise ConfigError(
                "Backend 'jax' is not installed. Install it with: pip install jax."
            ) from None
    os.environ["KERAS_BACKEND"] = name
    _quiet_import()
    return name


def _quiet_import() -> None:
    """Import Keras and run one op with stderr (fd 2) pointed at /dev/null.

    TensorFlow's C++ runtime writes start-up chatter (oneDNN notices, "could not find
    cuda drivers") straight to fd 2 through absl, which no environment variable turns
    off. Python errors still surface: the exception propagates after fd 2 is restored.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        if importlib.util.find_spec("tensorflow") is not None:
            # Keras imports TensorFlow for its data adapters even on JAX; take its
            # start-up chatter here rather than in the middle of a fit.
            import tensorflow  # noqa: F401
        import keras

        keras.ops.convert_to_tensor([0.0])
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def active() -> str:
    """The backend Keras runs on (imports Keras)."""
    use()
    import keras

    return keras.backend.backend()
