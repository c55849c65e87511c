"""Parameters of the statistical models: what each accepts, and CLI strings parsed to types.

Re-exported by :mod:`forecaster.statistical`; the cost-related ``max_rows`` is explained there.
"""

from __future__ import annotations

from collections.abc import Callable

from forecaster.errors import ConfigError

#: Parameters each model accepts (``--param KEY=VALUE``), with their meaning.
PARAMS: dict[str, dict[str, str]] = {
    "auto_ets": {"model": "ETS letters error/trend/season from A, M, N, Z (default ZZZ)",
                 "damped": "true/false: force or forbid a damped trend (default: try both)",
                 "max_rows": "fit on at most this many last training rows (0: all)"},
    "auto_arima": {"seasonal": "false: non-seasonal ARIMA only (default true)",
                   "max_rows": "fit on at most this many last training rows (0: all)"},
    "auto_theta": {"model": "STM, OTM, DSTM or DOTM (default: best of the four)",
                   "decomposition_type": "multiplicative (default) or additive",
                   "max_rows": "fit on at most this many last training rows (0: all)"},
    "mstl": {"seasons": "periods, e.g. 24,168 (default: --season)",
             "max_rows": "fit on at most this many last training rows (0: all)"},
    "naive2": {},
}


def parse_params(name: str, params: dict | None) -> dict:
    """Validate ``params`` for ``name`` and convert CLI strings to their types.

    >>> parse_params("mstl", {"seasons": "168,24"})
    {'seasons': [24, 168]}
    >>> parse_params("auto_ets", {"damped": "false", "max_rows": "500"})
    {'damped': False, 'max_rows': 500}
    """
    if params is not None and not isinstance(params, dict):
        raise ConfigError(f"Model parameters must be a dict of KEY: VALUE, got {params!r}.")
    valid = PARAMS[name]
    out = {}
    for key, value in (params or {}).items():
        if key not in valid:
            raise ConfigError(f"Unknown parameter '{key}' for model '{name}'. "
                              f"Valid keys: {', '.join(valid) or '(none)'}.")
        parse = _ets_letters if (name, key) == ("auto_ets", "model") else _PARSERS[key]
        out[key] = parse(name, key, value)
    return out


def _bool(name: str, key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false", "1", "0", "yes", "no"):
        raise _bad(name, key, value, "true or false")
    return text in ("true", "1", "yes")


def _count(name: str, key: str, value: object) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise _bad(name, key, value, "a whole number >= 0") from None
    if number < 0:
        raise _bad(name, key, value, "a whole number >= 0")
    return number


def _periods(name: str, key: str, value: object) -> list[int]:
    items = str(value).replace(" ", "").split(",") if isinstance(value, str | int) else list(value)
    try:
        periods = sorted({int(p) for p in items})
    except (TypeError, ValueError):
        raise _bad(name, key, value, "comma-separated whole numbers, e.g. 24,168") from None
    if not periods or periods[0] < 1:
        raise _bad(name, key, value, "comma-separated whole numbers >= 1, e.g. 24,168")
    return periods


def _ets_letters(name: str, key: str, value: object) -> str:
    text = str(value).strip().upper()
    if len(text) != 3 or text[0] not in "AMZ" or text[1] not in "ANMZ" or text[2] not in "ANMZ":
        raise _bad(name, key, value, "three letters error/trend/season, e.g. ZZZ or AAN")
    return text


def _choice(name: str, key: str, value: object) -> str:
    choices = {"decomposition_type": ("multiplicative", "additive"),
               "model": ("STM", "OTM", "DSTM", "DOTM")}[key]  # auto_theta's
    text = str(value).strip().upper() if key == "model" else str(value).strip().lower()
    if text not in choices:
        raise _bad(name, key, value, "one of " + ", ".join(choices))
    return text


def _bad(name: str, key: str, value: object, expected: str) -> ConfigError:
    return ConfigError(f"Invalid value {value!r} for parameter '{key}' of model '{name}'; "
                       f"expected {expected}.")


_PARSERS: dict[str, Callable[[str, str, object], object]] = {
    "damped": _bool, "seasonal": _bool, "max_rows": _count, "seasons": _periods,
    "decomposition_type": _choice, "model": _choice,
}
