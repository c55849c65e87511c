"""The model registry: every model forecaster knows, by name, in one place.

Baselines (no weights, no TensorFlow) live in :mod:`forecaster.baselines`. Each neural
model is one module ``forecaster/models/<name>.py`` holding a frozen ``Config``
dataclass and ``build(config, *, lookback, n_features, horizon) -> keras.Model``.
Modules are imported only when a model is used, so listing models stays cheap.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from types import ModuleType

from forecaster.errors import ConfigError

BASELINES: tuple[str, ...] = ("naive", "seasonal_naive", "drift", "mean")
NEURAL: tuple[str, ...] = ("mlp", "simple_rnn", "jordan", "lstm", "gru", "wavenet")
MODELS: tuple[str, ...] = BASELINES + NEURAL

DESCRIPTIONS: dict[str, str] = {
    "naive": "repeat the last observed value",
    "seasonal_naive": "repeat the last season (period --season)",
    "drift": "straight line through the first and last observations",
    "mean": "the mean of the history",
    "mlp": "multilayer perceptron on the flattened window",
    "simple_rnn": "Elman network (SimpleRNN)",
    "jordan": "Jordan network: output fed back to the hidden layer",
    "lstm": "long short-term memory",
    "gru": "gated recurrent unit",
    "wavenet": "stack of gated, dilated causal convolutions",
}


def check_name(name: str) -> str:
    """Return ``name`` if it is a registered model, else raise with the closest match.

    >>> check_name("lstm")
    'lstm'
    """
    if name in MODELS:
        return name
    close = difflib.get_close_matches(name, MODELS, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise ConfigError(
        f"Unknown model '{name}'.{hint} Available: {', '.join(MODELS)}."
    )


def is_neural(name: str) -> bool:
    """True for models with trainable weights (they need Keras)."""
    return check_name(name) in NEURAL


def module(name: str) -> ModuleType:
    """Import and return the module of neural model ``name`` (imports Keras)."""
    if not is_neural(name):
        raise ConfigError(f"Model '{name}' is a baseline; it has no Keras module.")
    return importlib.import_module(f"forecaster.models.{name}")


def make_config(name: str, params: dict[str, object] | None = None):
    """Build model ``name``'s ``Config`` from ``params``, validating keys and types.

    Values given as strings (from ``--param KEY=VALUE``) are converted to the type of
    the field's default.
    """
    config_cls = module(name).Config
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    params = dict(params or {})
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise ConfigError(
            f"Unknown parameter '{unknown[0]}' for model '{name}'. "
            f"Valid keys: {', '.join(fields) or '(none)'}."
        )
    converted = {k: _convert(name, k, v, fields[k].default) for k, v in params.items()}
    try:
        return config_cls(**converted)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Invalid parameters for model '{name}': {exc}") from None


def _convert(model: str, key: str, value: object, default: object) -> object:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.lower() in ("none", "null") and default is None:
        return None
    try:
        if isinstance(default, bool):
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ValueError(text)
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float) or default is None:
            return float(text) if default is not None else _number_or_text(text)
    except ValueError:
        kind = type(default).__name__
        raise ConfigError(
            f"Parameter {key}={value!r} for model '{model}' must be {kind}."
        ) from None
    return text


def _number_or_text(text: str) -> object:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
