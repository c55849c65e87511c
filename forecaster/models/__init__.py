"""The model registry: every model forecaster knows, by name, in one place.

Each entry (:class:`Spec`) declares a model's kind, its one-line description, the
``Config`` field that sets its size (read by ``--budget``) and the output heads it offers
(read by the model's ``Config`` and the contract tests). Baselines (no weights, no
TensorFlow) live in :mod:`forecaster.baselines`; the statistical models (local models
fit once per series, from statsforecast, and M4's Naive2) in
:mod:`forecaster.statistical`, which validates their parameters. Each neural model is one module
``forecaster/models/<name>.py`` holding a frozen ``Config`` dataclass,
``build(config, *, lookback, n_features, horizon) -> keras.Model`` and ``n_params(config,
...)``, its parameter count in closed form. Modules are imported only when a model is
used, so listing models stays cheap.

>>> REGISTRY["wavenet"].width, REGISTRY["wavenet"].heads
('filters', ('last', 'sequence'))
>>> [name for name in MODELS if REGISTRY[name].kind == "baseline"]
['naive', 'seasonal_naive', 'drift', 'mean']
>>> expand("stats,lstm")
['auto_ets', 'auto_arima', 'auto_theta', 'mstl', 'naive2', 'lstm']
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from dataclasses import dataclass
from types import ModuleType

from forecaster.errors import ConfigError

KINDS: tuple[str, ...] = ("baseline", "statistical", "neural")
RECURRENT_HEADS: tuple[str, ...] = ("last", "max", "sequence")


@dataclass(frozen=True)
class Spec:
    """One registered model.

    Attributes:
        name: The model's name, also its module's file name (neural models).
        kind: ``"baseline"`` (no weights), ``"statistical"`` (a local model fit per series)
            or ``"neural"`` (a Keras model).
        description: One line for ``forecaster models``.
        width: The ``Config`` field that sets the model's size (``--budget`` sizes it).
        fine_width: A second size field for a finer ``--budget`` match.
        heads: The values of its ``Config.head`` (empty: no choice of head).
        norm: The per-window normalization a neural model uses unless ``--norm`` says
            otherwise (chosen on the ``small`` tuning windows:
            ``benchmarks/results/defaults_tuning.jsonl``).
    """

    name: str
    kind: str
    description: str
    width: str | None = None
    fine_width: str | None = None
    heads: tuple[str, ...] = ()
    norm: str | None = None


REGISTRY: dict[str, Spec] = {spec.name: spec for spec in (
    Spec("naive", "baseline", "repeat the last observed value"),
    Spec("seasonal_naive", "baseline", "repeat the last season (period --season)"),
    Spec("drift", "baseline", "straight line through the first and last observations"),
    Spec("mean", "baseline", "the mean of the history"),
    Spec("auto_ets", "statistical",
         "exponential smoothing state-space model chosen by AICc (statsforecast AutoETS)"),
    Spec("auto_arima", "statistical",
         "seasonal ARIMA chosen by stepwise AICc search (statsforecast AutoARIMA)"),
    Spec("auto_theta", "statistical",
         "best of four theta models on seasonally adjusted data (statsforecast AutoTheta)"),
    Spec("mstl", "statistical",
         "multiple-seasonal STL decomposition + ETS trend (statsforecast MSTL; --param seasons=24,168)"),
    Spec("naive2", "statistical",
         "M4's Naive2: last value of the seasonally adjusted series, reseasonalised"),
    Spec("mlp", "neural", "multilayer perceptron on the flattened window", width="units",
         norm="window"),
    Spec("simple_rnn", "neural", "Elman network (SimpleRNN)", width="units",
         heads=RECURRENT_HEADS, norm="season"),
    Spec("jordan", "neural", "Jordan network: its forecast y_t is fed back to its hidden layer",
         width="units", heads=("last", "sequence"), norm="season"),
    Spec("lstm", "neural", "long short-term memory", width="units", heads=RECURRENT_HEADS,
         norm="season"),
    Spec("gru", "neural", "gated recurrent unit", width="units", heads=RECURRENT_HEADS,
         norm="season"),
    Spec("wavenet", "neural", "stack of gated, dilated causal convolutions", width="filters",
         fine_width="skip_filters", heads=("last", "sequence"), norm="season"),
)}
MODELS: tuple[str, ...] = tuple(REGISTRY)
BASELINES: tuple[str, ...] = tuple(n for n in MODELS if REGISTRY[n].kind == "baseline")
STATISTICAL: tuple[str, ...] = tuple(n for n in MODELS if REGISTRY[n].kind == "statistical")
NEURAL: tuple[str, ...] = tuple(n for n in MODELS if REGISTRY[n].kind == "neural")
#: Names that stand for several models in ``--models`` (``all``: every registered model).
GROUPS: dict[str, tuple[str, ...]] = {"all": MODELS, "baselines": BASELINES,
                                      "stats": STATISTICAL, "neural": NEURAL}
#: The model every leaderboard measures skill against.
REFERENCE = "seasonal_naive"


def check_name(name: str) -> str:
    """Return ``name`` if it is a registered model, else raise with the closest match.

    >>> check_name("lstm")
    'lstm'
    """
    if isinstance(name, str) and name in MODELS:
        return name
    if not isinstance(name, str):
        raise ConfigError(f"A model name must be text, got {name!r}. Available: {', '.join(MODELS)}.")
    close = difflib.get_close_matches(name, [*MODELS, *GROUPS], n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise ConfigError(
        f"Unknown model '{name}'.{hint} Available: {', '.join(MODELS)}, "
        f"or a group: {', '.join(GROUPS)}."
    )


def is_neural(name: str) -> bool:
    """True for models with trainable weights (they need Keras)."""
    return check_name(name) in NEURAL


def kind(name: str) -> str:
    """The kind of model ``name``: ``baseline``, ``statistical`` or ``neural``.

    >>> kind("auto_ets"), kind("naive")
    ('statistical', 'baseline')
    """
    return REGISTRY[check_name(name)].kind


def expand(text: str | None) -> list[str]:
    """Comma-separated model names and group names (:data:`GROUPS`) -> model names, in order.

    ``None`` is ``all``. Unknown names raise ConfigError with the closest match, and so does
    a text naming nothing.
    """
    items = [m.strip() for m in ("all" if text is None else text).split(",") if m.strip()]
    if not items:
        raise ConfigError(f"--models {text!r} names no model; pass names or groups from "
                          "`forecaster models` (e.g. --models naive,lstm) or 'all'.")
    names = [n for item in items for n in (GROUPS[item] if item in GROUPS else (check_name(item),))]
    return list(dict.fromkeys(names))


def module(name: str) -> ModuleType:
    """Import and return the module of neural model ``name`` (selects the backend, imports Keras)."""
    from forecaster import backend

    if not is_neural(name):
        raise ConfigError(f"Model '{name}' is a {kind(name)} model; it has no Keras module.")
    backend.use()  # before Keras is imported, so that it starts on forecaster's backend
    return importlib.import_module(f"forecaster.models.{name}")


def make_config(name: str, params: dict[str, object] | None = None):
    """Build model ``name``'s ``Config`` from ``params``, validating keys and types.

    Values given as strings (from ``--param KEY=VALUE``) are converted to the type of
    the field's default. A baseline has no ``Config``: it takes no parameters, and gets None.
    A statistical model gets its parameters parsed by :mod:`forecaster.stats.params` (a dict).

    >>> make_config("naive") is None
    True
    >>> make_config("mstl", {"seasons": "48,336"})
    {'seasons': [48, 336]}
    """
    if params is not None and not isinstance(params, dict):
        raise ConfigError(f"Model parameters must be a dict of KEY: VALUE, got {params!r}.")
    if kind(name) == "statistical":
        from forecaster.stats.params import parse_params

        return parse_params(name, params)
    if not is_neural(name):
        if params:
            raise ConfigError(f"Model '{name}' takes no parameters, got {', '.join(map(str, params))}; "
                              "leave out --param.")
        return None
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


def param_keys(name: str) -> tuple[str, ...]:
    """The ``--param`` keys model ``name`` accepts (a neural model's: imports its module).

    >>> param_keys("naive"), param_keys("mstl")
    ((), ('seasons', 'max_rows'))
    """
    if kind(name) == "statistical":
        from forecaster.stats.params import PARAMS

        return tuple(PARAMS[name])
    if not is_neural(name):
        return ()
    return tuple(f.name for f in dataclasses.fields(module(name).Config))


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
