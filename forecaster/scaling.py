"""Scalers fit on one series' training rows only, with their state as plain numbers.

One :class:`Scaler` per series; each feature column gets its own location and scale.
The state round-trips through JSON (:meth:`Scaler.to_dict`), so artifacts need no pickle.

>>> import numpy as np
>>> s = fit("standard", np.array([[1.0], [3.0]]))
>>> s.loc, s.scale
((2.0,), (1.0,))
>>> Scaler.from_dict(s.to_dict()) == s
True

Per-window normalization (``--norm window``) is applied on top of the series scaler:
each window is shifted so that its last observed target value is 0, and the forecast is
shifted back (:func:`window_offsets`). This is what keeps trending series in range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecaster.errors import ConfigError

SCALERS: tuple[str, ...] = ("standard", "minmax", "none")
NORMS: tuple[str, ...] = ("series", "window")


@dataclass(frozen=True)
class Scaler:
    """Affine map ``(x - loc) / scale`` per feature column."""

    kind: str
    loc: tuple[float, ...]
    scale: tuple[float, ...]

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scale ``(n, n_features)`` values."""
        return (values - np.asarray(self.loc)) / np.asarray(self.scale)

    def inverse_target(self, y: np.ndarray) -> np.ndarray:
        """Map scaled target values (any shape) back to the data's units."""
        return np.asarray(y) * self.scale[0] + self.loc[0]

    def to_dict(self) -> dict:
        """Plain-JSON state."""
        return {"kind": self.kind, "loc": list(self.loc), "scale": list(self.scale)}

    @classmethod
    def from_dict(cls, state: dict) -> Scaler:
        """Inverse of :meth:`to_dict`."""
        return cls(state["kind"], tuple(float(v) for v in state["loc"]),
                   tuple(float(v) for v in state["scale"]))


def check_kind(kind: str) -> str:
    """Validate a scaler name."""
    if kind not in SCALERS:
        raise ConfigError(f"Unknown scaler '{kind}'. Use one of: {', '.join(SCALERS)}.")
    return kind


def fit(kind: str, train: np.ndarray) -> Scaler:
    """Fit a scaler on training rows ``(n, n_features)`` only.

    A constant column gets scale 1 so that scaling never divides by zero.
    """
    check_kind(kind)
    n_features = train.shape[1]
    if kind == "none" or len(train) == 0:
        loc, scale = np.zeros(n_features), np.ones(n_features)
    elif kind == "standard":
        loc, scale = train.mean(axis=0), train.std(axis=0)
    else:
        loc, scale = train.min(axis=0), train.max(axis=0) - train.min(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return Scaler(kind, tuple(map(float, loc)), tuple(map(float, scale)))


def state(scalers: list[Scaler]) -> list[dict]:
    """JSON state of several scalers (one per series)."""
    return [s.to_dict() for s in scalers]


def window_offsets(x: np.ndarray) -> np.ndarray:
    """Last target value of each window, ``(n_windows, 1)``, for ``--norm window``."""
    return x[:, -1, :1]  # (n_windows, 1)


def normalize_windows(x: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Shift the target channel of each window by its offset (a copy)."""
    out = np.array(x, dtype=np.float32)
    out[:, :, 0] -= offsets  # (n_windows, lookback) - (n_windows, 1)
    return out
