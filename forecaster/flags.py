"""The command line's shared flags, declared once and spelled like their Python parameters.

Two groups: :data:`DATA` (how to read the file: :func:`forecaster.data.read_csv`'s
arguments) and :data:`SETTINGS` (a :class:`~forecaster.forecaster.Forecaster`'s settings,
with the defaults of :class:`~forecaster.params.Params`). :func:`with_flags` adds a group's
flags to a command and hands the command one dict per group, keyed by parameter name, so
that a command passes them on by name (``read_csv(path, **read)``, ``Forecaster(**settings)``)
and a new setting needs one entry here, not an edit in every command.

Imports nothing heavy: ``forecaster --help`` reads these tables.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Optional

import typer

from forecaster.errors import ConfigError
from forecaster.params import Params


@dataclass(frozen=True)
class Flag:
    """One command-line flag for one Python parameter.

    Attributes:
        type: The flag's type as Typer reads it.
        help: One line for ``--help``.
        decls: The flag's spelling when it is not ``--the-parameter-name`` (e.g. ``--level``).
        parse: Turns the flag's value into the parameter's value (default: as given).
    """

    type: Any
    help: str
    decls: tuple[str, ...] = ()
    parse: Callable[[Any], Any] | None = None


def parse_params(items: list[str] | None) -> dict[str, str] | None:
    """``["units=8", "head=max"]`` -> ``{"units": "8", "head": "max"}`` (None when empty).

    >>> parse_params(["units=8", " head = max "])
    {'units': '8', 'head': 'max'}
    """
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--param expects KEY=VALUE, got '{item}'.")
        out[key.strip()] = value.strip()
    return out or None


DATA: dict[str, Flag] = {
    "target": Flag(Optional[str], "Target column (required when several numeric columns)."),
    "time_col": Flag(Optional[str], "Time column (detected when unambiguous)."),
    "id_col": Flag(Optional[str], "Series id column for long-form panels."),
    "covariates": Flag(Optional[str], "Comma-separated numeric covariate columns (past values only)."),
    "future_covariates": Flag(Optional[str], "Comma-separated numeric columns known ahead (predict "
                                             "takes their future values from --future FILE)."),
    "freq": Flag(Optional[str], "Pandas frequency alias (inferred when omitted)."),
    "season": Flag(Optional[int], "Seasonal period (derived from the frequency)."),
    "fill": Flag(Optional[str], "Gaps and NaNs: error (the default), interpolate, ffill or zero."),
    "wide": Flag(Optional[bool], "One series per numeric column (default: when every column but "
                                 "the time is numeric and no --target is given).", ("--wide/--no-wide",)),
}

SETTINGS: dict[str, Flag] = {
    "params": Flag(Optional[list[str]], "Model hyperparameter KEY=VALUE (repeatable).",
                   ("--param",), parse_params),
    "lookback": Flag(Optional[int], "Input window length (default 2 x horizon)."),
    "horizon": Flag(Optional[int], "Steps to forecast (default: the season)."),
    "stride": Flag(int, "Rows between training windows."),
    "val_size": Flag(Optional[int], "Validation rows for early stopping and intervals (default: horizon)."),
    "gap": Flag(int, "Rows between validation and test not used for fitting."),
    "max_train_size": Flag(Optional[int], "Sliding training window: keep this many most recent rows."),
    "scaler": Flag(str, "Per-series scaler fit on training rows: standard, minmax, none."),
    "norm": Flag(Optional[str], "series; window: each window relative to its last value; season: "
                                "targets relative to the window's seasonal naive forecast "
                                "(default: window for mlp, season for the others)."),
    "calendar": Flag(Optional[str], "Calendar features as inputs known ahead: auto (a set per "
                                    "frequency), none, or names: minute, hour, dayofweek, "
                                    "dayofmonth, dayofyear, month, quarter."),
    "levels": Flag(Optional[list[int]], "Interval level in percent (repeatable).", ("--level",),
                   tuple),
    "epochs": Flag(int, "Maximum training epochs (early stopping may end sooner)."),
    "batch_size": Flag(int, "Windows per gradient step."),
    "learning_rate": Flag(float, "Adam learning rate."),
    "loss": Flag(str, "Training loss: mse, mae (the default) or huber."),
    "patience": Flag(int, "Early-stopping patience in epochs (0: no early stopping)."),
    "clipnorm": Flag(float, "Clip each gradient to this norm."),
    "lr_patience": Flag(int, "Halve the learning rate after this many epochs without a better "
                             "validation loss (0: constant rate)."),
    "seed": Flag(int, "Random seed: same data, flags and seed give the same metrics."),
    "seeds": Flag(Optional[int], "Neural models: the median of this many fits with seeds seed, "
                                 "seed+1, ... (default: 3 below 1,000 training windows, else 1)."),
    "backend": Flag(Optional[str], "Keras backend: jax or tensorflow (default: $KERAS_BACKEND, else jax)."),
}


def _defaults(group: dict[str, Flag]) -> dict:
    """Defaults of a group's flags: the Forecaster signature's for settings, else None."""
    known = Params.defaults()
    return {name: list(known[name]) if isinstance(known.get(name), tuple) else known.get(name)
            for name in group}


def with_flags(**groups: dict[str, Flag]):
    """Add each group's flags to a Typer command, which then receives one dict per group.

    ``@with_flags(settings=SETTINGS)`` on ``def fit(data, *, settings: dict)`` gives ``fit``
    a ``--lookback``, ``--epochs``, ... and calls it with ``settings={"lookback": None,
    "epochs": 100, ...}``, each value parsed by its flag.
    """

    def decorate(command):
        signature = inspect.signature(command, eval_str=True)
        defaults = {name: value for group in groups.values() for name, value in _defaults(group).items()}
        added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=defaults[name],
                                   annotation=Annotated[flag.type, typer.Option(*flag.decls, help=flag.help)])
                 for group in groups.values() for name, flag in group.items()]
        kept = [p for p in signature.parameters.values() if p.name not in groups]

        @functools.wraps(command)
        def run(**kwargs):
            values = {key: {name: (flag.parse or _same)(kwargs.pop(name)) for name, flag in group.items()}
                      for key, group in groups.items()}
            return command(**kwargs, **values)

        run.__signature__ = signature.replace(parameters=[*kept, *added])
        return run

    return decorate


def _same(value):
    return value
