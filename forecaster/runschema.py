"""What a run directory's manifest may hold: each value's type, range and length, checked before use.

A run directory is input like any other file: it may have been edited, damaged or written
by someone else. :meth:`Forecaster.load <forecaster.forecaster.Forecaster.load>` passes its
manifest through :func:`check` before using any value, so a bad value is one
:class:`~forecaster.errors.ArtifactError` naming the key, the expected range and the value
found, never a traceback, a silent broadcast or a multi-gigabyte allocation. The settings
(``params``) are then checked by the Forecaster's own validation, the same as at ``fit``.

Lists kept per series (``splits``, ``scalers``, ``interval_scales``, ``last_timestamps``,
``calibration``, and a statistical model's ``fits``, ``specs`` and ``first_timestamps``)
must have one entry per id, either as a list in id order or as a dict keyed by id; per-step
lists (conformal ``quantiles`` and their counts) one entry per horizon step. A run saved
before calibrations were per series holds one for all.

>>> check({"params": {}, "state": {"ids": "y"}}, has_model=False, where="run")
Traceback (most recent call last):
...
forecaster.errors.ArtifactError: run: state.ids must be a list of distinct texts, got 'y'; the run \
was edited or damaged. Refit the model.
"""

from __future__ import annotations

import math
import re

from forecaster import backend, scaling
from forecaster.data import FILL_POLICIES
from forecaster.errors import ArtifactError
from forecaster.params import MAX_HORIZON

#: The most forecast rows (horizon x series) a run may ask ``predict`` for.
MAX_FORECAST_ROWS = 10_000_000
LAYOUTS = ("single", "long", "wide")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class _Bad(Exception):
    """One value of the manifest is wrong; the message says which and how."""


def check(manifest: dict, *, has_model: bool, where: str) -> tuple[dict, dict]:
    """The manifest's ``params`` and ``state`` after checking every value the Forecaster reads.

    Conformal quantiles stored as ``null`` (JSON has no NaN) come back as NaN.

    Raises:
        ArtifactError: A value is missing, of the wrong type, out of range or of the wrong length.
    """
    try:
        params, state = _dict(manifest.get("params"), "params"), _dict(manifest.get("state"), "state")
        state = _state(state, has_model)
        _agree(params, state)
    except _Bad as exc:
        raise ArtifactError(f"{where}: {exc}; the run was edited or damaged. Refit the model.") from None
    return params, state


def _state(s: dict, has_model: bool) -> dict:
    ids = _get(s, "ids")
    if not (isinstance(ids, list) and ids and all(isinstance(i, str) for i in ids) and len(set(ids)) == len(ids)):
        raise _Bad(f"state.ids must be a list of distinct texts, got {_show(ids)}")
    horizon = _int(_get(s, "horizon"), "state.horizon", 1, MAX_HORIZON)
    _int(_get(s, "lookback"), "state.lookback", 1, MAX_HORIZON)
    if len(ids) * horizon > MAX_FORECAST_ROWS:
        raise _Bad(f"state.horizon {horizon} x {len(ids)} series asks for more than {MAX_FORECAST_ROWS:,} "
                   "forecast rows")
    season = _int(_get(s, "season"), "state.season", 1, MAX_HORIZON)
    for key in ("val_size", "test_size"):
        _int(_get(s, key), f"state.{key}", 0)
    levels = _levels(_get(s, "levels"), "state.levels")
    _schema(_get(s, "schema"), season)
    _per_series(s, "last_timestamps", ids, lambda v, w: _text(v, w))
    _per_series(s, "splits", ids, _split)
    _per_series(s, "scalers", ids if has_model else [], _scaler)
    if s.get("interval_scales") is not None:
        _per_series(s, "interval_scales", ids, lambda v, w: _number(v, w, positive=True))
    for key in ("source", "source_path"):
        _text(s.get(key), f"state.{key}", none_ok=True)
    sha = s.get("source_sha256")
    if sha is not None and not (isinstance(sha, str) and _SHA256.fullmatch(sha)):
        raise _Bad(f"state.source_sha256 must be 64 hexadecimal digits, got {_show(sha)}")
    seed = s.get("seed")
    if seed is not None:
        _int(seed, "state.seed", 0, 2**32 - 1)
    _int(_get(s, "n_params"), "state.n_params", 0)
    if s.get("backend") not in (None, *backend.BACKENDS):
        raise _Bad(f"state.backend must be one of {', '.join(backend.BACKENDS)} or null, got {_show(s['backend'])}")
    _dict(_get(s, "config"), "state.config")
    _dict(_get(s, "history"), "state.history")
    _number(_get(s, "fit_seconds"), "state.fit_seconds", minimum=0.0)
    for name, value in _dict(_get(s, "metrics"), "state.metrics").items():
        if value is not None:
            _number(value, f"state.metrics.{name}", finite=False)
    calibration = _get(s, "calibration")
    if isinstance(calibration, dict):  # one for every series (runs saved before: per series)
        calibration = [calibration] * len(ids)
    if calibration is not None:
        s = {**s, "calibration": calibration}
        _per_series(s, "calibration", ids, lambda v, w: _calibration(v, levels, horizon, w))
        calibration = [_calibration(v, levels, horizon, "") for v in _in_order(calibration, ids)]
    _statistical(s, ids)
    return {**s, "calibration": calibration}


def _statistical(s: dict, ids: list[str]) -> None:
    """A statistical model's fits (one per series), their specs and first training rows."""
    if s.get("fits") is None:
        return
    _per_series(s, "fits", ids, _fit)
    for key in ("specs", "first_timestamps"):
        _per_series(s, key, ids, lambda v, w: _text(v, w))


def _fit(value, where: str) -> None:
    from forecaster.statistical import NAMES

    value = _dict(value, where)
    if value.get("name") not in NAMES:
        raise _Bad(f"{where}.name must be one of {', '.join(NAMES)}, got {_show(value.get('name'))}")
    _text(_get(value, "spec", where), f"{where}.spec")
    for key, minimum in (("season", 1), ("n_train", 1), ("start", 0), ("format", 1)):
        _int(_get(value, key, where), f"{where}.{key}", minimum)
    _dict(_get(value, "state", where), f"{where}.state")


def _in_order(value, ids: list[str]) -> list:
    return [value[i] for i in ids] if isinstance(value, dict) else list(value)


def check_model(model, state: dict, where) -> None:
    """ArtifactError unless the loaded network reads its window and forecasts ``horizon``.

    The window is ``lookback`` steps, plus ``horizon`` steps of inputs known ahead when the run
    has calendar features or future covariates; a stateful model reads any number of steps.
    """
    inputs, outputs = model.input_shape, tuple(model.output_shape)
    inputs = tuple(inputs[0] if isinstance(inputs, list) else inputs)  # the past window comes first
    known = state.get("calendar") or state["schema"].get("future_covariates")
    stateful = isinstance(state.get("config"), dict) and state["config"].get("stateful") is True
    steps = None if stateful else state["lookback"] + (state["horizon"] if known else 0)
    if len(inputs) != 3 or inputs[1] != steps or outputs[-1] != state["horizon"]:
        ahead = f" + {state['horizon']} known ahead" if known else ""
        raise ArtifactError(f"{where}: model.keras takes {inputs} and gives {outputs}, but the manifest "
                            f"says lookback {state['lookback']}{ahead} and horizon {state['horizon']}; "
                            "the run was edited or damaged. Refit the model.")


def _schema(schema, season: int) -> None:
    schema = _dict(schema, "state.schema")
    _text(_get(schema, "target", "state.schema"), "state.schema.target")
    covariates = _get(schema, "covariates", "state.schema")
    if not (isinstance(covariates, list) and all(isinstance(c, str) for c in covariates)):
        raise _Bad(f"state.schema.covariates must be a list of texts, got {_show(covariates)}")
    for key in ("time_col", "id_col"):
        _text(schema.get(key), f"state.schema.{key}", none_ok=True)
    _text(_get(schema, "freq", "state.schema"), "state.schema.freq")
    if _get(schema, "season", "state.schema") != season:
        raise _Bad(f"state.schema.season must equal state.season ({season}), got {_show(schema['season'])}")
    if schema.get("fill", "error") not in FILL_POLICIES:
        raise _Bad(f"state.schema.fill must be one of {', '.join(FILL_POLICIES)}, got {_show(schema['fill'])}")
    if schema.get("layout", "single") not in LAYOUTS:
        raise _Bad(f"state.schema.layout must be one of {', '.join(LAYOUTS)}, got {_show(schema['layout'])}")


def _split(value, where: str) -> None:
    value = _dict(value, where)
    bounds = []
    for part in ("train", "val", "test"):
        pair = _get(value, part, where)
        if not (isinstance(pair, list) and len(pair) == 2):
            raise _Bad(f"{where}.{part} must be [start, stop], got {_show(pair)}")
        bounds += [_int(v, f"{where}.{part}", 0) for v in pair]
    if any(a > b for a, b in zip(bounds, bounds[1:])):
        raise _Bad(f"{where} must be row ranges in time order (train, val, test), got {_show(value)}")


def _scaler(value, where: str) -> None:
    value = _dict(value, where)
    if value.get("kind") not in scaling.SCALERS:
        raise _Bad(f"{where}.kind must be one of {', '.join(scaling.SCALERS)}, got {_show(value.get('kind'))}")
    loc, scale = _get(value, "loc", where), _get(value, "scale", where)
    if not (isinstance(loc, list) and isinstance(scale, list) and loc and len(loc) == len(scale)):
        raise _Bad(f"{where}.loc and .scale must be lists of one number per feature, got {_show(value)}")
    for i, (a, b) in enumerate(zip(loc, scale)):
        _number(a, f"{where}.loc[{i}]")
        _number(b, f"{where}.scale[{i}]", positive=True)


def _calibration(value, levels: list[int], horizon: int, where: str = "state.calibration") -> dict:
    value = _dict(value, where)
    if _levels(_get(value, "levels", where), f"{where}.levels") != levels:
        raise _Bad(f"{where}.levels must equal state.levels {levels}, got {_show(value['levels'])}")
    counts = _get(value, "n", where)
    if not (isinstance(counts, list) and len(counts) == horizon):
        raise _Bad(f"{where}.n must list {horizon} counts (one per step), got {_show(counts)}")
    for k, c in enumerate(counts):
        _int(c, f"{where}.n[{k}]", 0)
    if "factor" in value:
        _number(value["factor"], f"{where}.factor", minimum=1.0)
    quantiles = _dict(_get(value, "quantiles", where), f"{where}.quantiles")
    if sorted(quantiles) != sorted(str(v) for v in levels):
        raise _Bad(f"{where}.quantiles must have one list per level {levels}, got keys {_show(list(quantiles))}")
    out = {}
    for key, q in quantiles.items():
        where_q = f"{where}.quantiles.{key}"
        if not (isinstance(q, list) and len(q) == horizon):
            raise _Bad(f"{where_q} must list {horizon} numbers (one per step), got {_show(q)}")
        out[key] = [math.nan if v is None else _number(v, f"{where_q}[{k}]", minimum=0.0, finite=False)
                    for k, v in enumerate(q)]
    return {**value, "quantiles": out}


def _agree(params: dict, state: dict) -> None:
    """The settings say what the state was fit with."""
    if "levels" not in params or _levels(params["levels"], "params.levels") != state["levels"]:
        raise _Bad(f"params.levels must equal state.levels {state['levels']}, got {_show(params.get('levels'))}")
    for key in ("lookback", "horizon"):
        if params.get(key) is not None and params[key] != state[key]:
            raise _Bad(f"params.{key} must be null or equal state.{key} ({state[key]}), got {_show(params[key])}")


# ------------------------------------------------------------------ value checks
def _per_series(s: dict, key: str, ids: list[str], item) -> None:
    value = _get(s, key)
    if isinstance(value, dict):
        if sorted(value) != sorted(ids):
            raise _Bad(f"state.{key} must have one entry per series id, got keys {_show(list(value))}")
        items = [(value[i], f"state.{key}[{i!r}]") for i in ids]
    elif isinstance(value, list) and len(value) == len(ids):
        items = [(v, f"state.{key}[{k}]") for k, v in enumerate(value)]
    else:
        raise _Bad(f"state.{key} must have {len(ids)} entries (one per series), got {_show(value)}")
    for v, where in items:
        item(v, where)


def _levels(value, where: str) -> list[int]:
    ok = isinstance(value, list) and all(not isinstance(v, bool) and isinstance(v, int) and 0 < v < 100
                                         for v in value) and len(set(value)) == len(value)
    if not ok:
        raise _Bad(f"{where} must be a list of distinct whole percents between 0 and 100, got {_show(value)}")
    return value


def _get(d: dict, key: str, where: str = "state"):
    if key not in d:
        raise _Bad(f"{where}.{key} is missing")
    return d[key]


def _dict(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise _Bad(f"{where} must be an object, got {_show(value)}")
    return value


def _int(value, where: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum):
        span = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise _Bad(f"{where} must be an integer {span}, got {_show(value)}")
    return value


def _number(value, where: str, *, minimum: float | None = None, positive: bool = False,
            finite: bool = True) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and finite:
        ok = math.isfinite(value)
    if ok and minimum is not None and not math.isnan(value):
        ok = value >= minimum
    if ok and positive:
        ok = value > 0
    if not ok:
        what = "a positive number" if positive else f"a number >= {minimum}" if minimum is not None else "a number"
        raise _Bad(f"{where} must be {what}{'' if not finite else ' (finite)'}, got {_show(value)}")
    return float(value)


def _text(value, where: str, *, none_ok: bool = False) -> str | None:
    if value is None and none_ok:
        return None
    if not isinstance(value, str):
        raise _Bad(f"{where} must be text{' or null' if none_ok else ''}, got {_show(value)}")
    return value


def _show(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
