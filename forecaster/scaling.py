"""Scalers fit on one series' training rows only, with their state as plain numbers.

One :class:`Scaler` per series; each feature column gets its own location and scale.
The state round-trips through JSON (:meth:`Scaler.to_dict`), so artifacts need no pickle.

>>> import numpy as np
>>> s = fit("standard", np.array([[1.0], [3.0]]))
>>> s.loc, s.scale
((2.0,), (1.0,))
>>> Scaler.from_dict(s.to_dict()) == s
True

Per-window normalization is applied on top of the series scaler (:func:`window_offsets`):

- ``window``: each window is shifted so that its last observed target value is 0, and the
  forecast is shifted back. This keeps trending series in range (NLinear's trick).
- ``season``: inputs as for ``window``; the targets are taken relative to the window's own
  seasonal naive forecast (its last ``season`` values repeated), so the network learns the
  correction to seasonal naive. Falls back to ``window`` when the lookback is shorter
  than a season.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecaster.errors import ConfigError

SCALERS: tuple[str, ...] = ("standard", "minmax", "none")
NORMS: tuple[str, ...] = ("series", "window", "season")


@dataclass(frozen=True)
class Scaler:
    """Affine map ``(x - loc) / scale`` per feature column."""

    kind: str
    loc: tuple[float, ...]
    scale: tuple[float, ...]

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scale ``(n, n_features)`` values (without overflow where ``values - loc`` would)."""
        loc, scale = np.asarray(self.loc), np.asarray(self.scale)
        with np.errstate(over="ignore", invalid="ignore"):
            out = (values - loc) / scale
        if not np.isfinite(out).all() and np.isfinite(values).all():
            out = values / scale - loc / scale
        return out

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


def check_norm(norm: str) -> str:
    """Validate a per-window normalization name."""
    if norm not in NORMS:
        raise ConfigError(f"Unknown --norm '{norm}'. Use one of: {', '.join(NORMS)}.")
    return norm


def fit(kind: str, train: np.ndarray) -> Scaler:
    """Fit a scaler on training rows ``(n, n_features)`` only.

    A constant column gets scale 1 so that scaling never divides by zero. Columns whose
    magnitude would overflow the mean, the standard deviation (squares above 1e154) or
    the range are divided by their largest magnitude first, so every value of the float
    range gets a finite scaler.

    >>> s = fit("standard", np.array([[1e158], [3e158]]))  # plain std: inf (the squares overflow)
    >>> [round(v / 1e158, 9) for v in s.loc + s.scale]
    [2.0, 1.0]
    """
    check_kind(kind)
    n_features = train.shape[1]
    if kind == "none" or len(train) == 0:
        loc, scale = np.zeros(n_features), np.ones(n_features)
    else:
        peak = np.max(np.abs(train), axis=0)  # (n_features,)
        big = peak > (1e150 if kind == "standard" else 1e300)
        unit = np.where(big, peak, 1.0)
        x = train / unit if big.any() else train  # (n, n_features), magnitudes <= 1 where big
        if kind == "standard":
            loc, scale = x.mean(axis=0) * unit, x.std(axis=0) * unit
        else:
            loc, scale = x.min(axis=0) * unit, (x.max(axis=0) - x.min(axis=0)) * unit
        scale = np.where(np.isfinite(scale), scale, peak)  # a range past the float limit
    scale = np.where(scale > 0, scale, 1.0)
    return Scaler(kind, tuple(map(float, loc)), tuple(map(float, scale)))


def window_offsets(x: np.ndarray, *, norm: str, horizon: int,
                   season: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of each window's inputs ``(n_windows, 1)`` and targets ``(n_windows, horizon)``.

    >>> x = np.array([[[1.0], [2.0], [5.0], [7.0]]])      # one window, lookback 4
    >>> [o.tolist() for o in window_offsets(x, norm="season", horizon=3, season=2)]
    [[[7.0]], [[5.0, 7.0, 5.0]]]
    """
    n, lookback = x.shape[0], x.shape[1]
    if norm == "series":
        return np.zeros((n, 1)), np.zeros((n, horizon))
    last = x[:, -1, :1]  # (n_windows, 1)
    if norm == "window" or not 1 < season <= lookback:
        return last, np.repeat(last, horizon, axis=1)
    steps = lookback - season + np.arange(horizon) % season  # rows of the last season, repeated
    return last, x[:, steps, 0]  # (n_windows, horizon)


def sequence_offsets(x: np.ndarray, *, norm: str, horizon: int,
                     season: int = 1) -> np.ndarray:
    """Target offsets of many-to-many training, ``(n_windows, lookback, horizon)``.

    Step ``j`` of a window predicts the ``horizon`` values after it; its offset is what
    :func:`window_offsets` would give a window ending at ``j``, built only from steps up
    to ``j``: its own value, or (``season``) its last season repeated once it has one.
    The last step's offsets equal :func:`window_offsets`'s target offsets.

    >>> x = np.arange(4.0).reshape(1, 4, 1)
    >>> sequence_offsets(x, norm="season", horizon=2, season=2)[0].tolist()
    [[0.0, 0.0], [0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]
    """
    n, lookback = x.shape[0], x.shape[1]
    if norm == "series":
        return np.zeros((n, lookback, horizon))
    own = np.repeat(x[:, :, :1], horizon, axis=2)  # (n_windows, lookback, horizon): x_j
    if norm == "window" or not 1 < season <= lookback:
        return own
    j, k = np.arange(lookback)[:, None], np.arange(horizon)[None, :]
    rows = j - season + 1 + k % season  # (lookback, horizon): step j's last season, repeated
    seasonal = x[:, np.maximum(rows, 0), 0]  # (n_windows, lookback, horizon)
    return np.where(j >= season - 1, seasonal, own)


def normalize_batch(x: np.ndarray, *, norm: str, horizon: int, season: int = 1,
                    observed: int | None = None, sequence: bool = False) -> np.ndarray:
    """Shift each window's observed target values by its offset, in place; return the target offsets.

    ``x`` is a fresh batch ``(batch, steps, n_features)``; only its first ``observed``
    steps (default: all) are observed values, the rest (inputs known ahead) are left as
    they are. The offsets come from the observed steps alone (:func:`window_offsets`, or
    :func:`sequence_offsets` for many-to-many targets); subtract the returned offsets
    from the targets, or add them to the model's output.

    >>> x = np.array([[[1.0], [2.0], [5.0], [7.0]]], dtype=np.float32)
    >>> normalize_batch(x, norm="window", horizon=2).tolist(), x[0, :, 0].tolist()
    ([[7.0, 7.0]], [-6.0, -5.0, -2.0, 0.0])
    """
    seen = x[:, :observed]  # (batch, observed steps, n_features), a view
    inputs, targets = window_offsets(seen, norm=norm, horizon=horizon, season=season)
    if sequence:
        targets = sequence_offsets(seen, norm=norm, horizon=horizon, season=season)
    if norm != "series":
        seen[:, :, 0] -= inputs  # (batch, steps) - (batch, 1)
    return targets
