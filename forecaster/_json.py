"""Strict JSON out: a missing or non-finite number is ``null``, never ``NaN`` or ``Infinity``.

Python's :mod:`json` writes ``NaN`` and ``Infinity`` by default, which strict parsers
(JavaScript's ``JSON.parse``, ``jq``, Go, Rust's serde) reject. Every JSON document
forecaster writes (``--json``, ``leaderboard.json``, ``manifest.json``) goes through
:func:`dumps`: non-finite floats become ``None``, NumPy scalars and arrays become plain
Python values, and the dump runs with ``allow_nan=False`` so that nothing slips through.

>>> import math, numpy as np
>>> dumps({"smape": math.nan, "mae": np.float32(1.5), "ok": [np.inf, 2]})
'{"smape": null, "mae": 1.5, "ok": [null, 2]}'
"""

from __future__ import annotations

import json
import math


def plain(value):
    """``value`` with non-finite floats as None, NumPy values as Python ones, tuples as lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # NumPy scalars, arrays
        return plain(value.tolist())
    return value


def dumps(value, *, indent: int | None = None, default=None) -> str:
    """Strict JSON text of ``value`` (see the module docstring); ``default`` as in :func:`json.dumps`."""
    return json.dumps(plain(value), indent=indent, allow_nan=False, default=default)
