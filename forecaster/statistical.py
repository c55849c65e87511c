"""Statistical contenders: local models fit once per series, forecasting from any later origin.

AutoETS, AutoARIMA, AutoTheta and MSTL come from Nixtla's statsforecast (imported only when
a model is fit or used); Naive2 is M4's benchmark, in NumPy. Each model is fit on the
training rows of one series. :meth:`Fitted.forecast` then forecasts after the end of any
longer history of the same series (training rows plus later observations) *without
re-estimating anything*: the fitted parameters are run forward over the history (see
:mod:`forecaster.stats.nixtla` for what that means for each model). A fit is saved as
plain JSON (:meth:`Fitted.to_state`), so loading it never runs code.

Cost rules. A model that would take minutes on the data is refused with a one-line
:class:`~forecaster.errors.ConfigError` (:func:`refusal_reason` says so without fitting), or
fit with an approximation that its ``spec`` names:

- auto_arima searches with R's ``auto.arima`` default approximation (CSS estimates during
  the stepwise search when n > 150 or m > 12, the chosen orders then fit by exact ML;
  statsforecast's class turns it off), spec "...; CSS-approximate search". Seasonal periods
  above :data:`ARIMA_MAX_SEASON` are refused (``--param seasonal=false`` fits a
  non-seasonal ARIMA instead).
- auto_arima, auto_theta and mstl fit on the last :data:`MAX_ROWS` training rows (mstl: at
  least four cycles of its longest period), spec "...; fit on the last 2000 of 8640 rows";
  ``--param max_rows=N`` changes it (0: all rows). Forecasts then run from that row on.
- auto_ets ignores seasons above 24, as R's ``ets`` does, spec "...; season 48 > 24 ignored".
- mstl drops periods longer than half the rows, spec "...; dropped season(s) 8766 ...", and
  is refused when none is left.
- statsforecast's models need at least :data:`MIN_ROWS` training rows.

Example:
    >>> import json
    >>> import numpy as np
    >>> y = 100 + 10 * np.sin(np.arange(60) * 2 * np.pi / 12)
    >>> fitted = fit("naive2", y[:48], season=12)
    >>> fitted.spec
    'Naive2(seasonal, m=12)'
    >>> later = Fitted.from_state(json.loads(json.dumps(fitted.to_state())))
    >>> later.forecast(y[:54], 2).round(1)  # from a later origin, with the training fit
    array([100.,  95.])
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from forecaster.errors import ArtifactError, ConfigError, DataError
from forecaster.models import REGISTRY, STATISTICAL
from forecaster.stats import naive2, nixtla
from forecaster.stats.params import PARAMS, parse_params

__all__ = ["ARIMA_MAX_SEASON", "DESCRIPTIONS", "MAX_ROWS", "MIN_ROWS", "NAMES", "PARAMS", "Fitted",
           "fit", "mstl_periods", "n_params", "parse_params", "refusal_reason"]

#: The statistical models, as registered (kind "statistical" in :mod:`forecaster.models`).
NAMES: tuple[str, ...] = STATISTICAL
DESCRIPTIONS: dict[str, str] = {name: REGISTRY[name].description for name in NAMES}
FORMAT = 1  # version of the saved state

# ---------------------------------------------------------------- cost rules
# Measured with statsforecast 2.1.1 on one core: AutoARIMA's exact search took 20-45 s per
# M4 hourly series (m = 24, 700-960 rows); R's approximation rule cuts that to 1-5 s, but
# at m = 48 it still ran over 2 minutes and at m = 168 over 1 minute.
#: The longest seasonal period auto_arima accepts (``seasonal=false`` lifts it).
ARIMA_MAX_SEASON = 24
#: Training rows used by default (the last ones): fit time grows with n (ETTh1 OT, 8,640
#: rows: AutoARIMA 24 s, AutoTheta 13 s, MSTL 4 s; on the last 2,000: 2 s, 1 s, 1 s).
MAX_ROWS: dict[str, int] = {"auto_ets": 0, "auto_arima": 2000, "auto_theta": 2000, "mstl": 2000}
#: statsforecast's ETS and theta fits need a few more rows than parameters.
MIN_ROWS = 10


@dataclass(frozen=True)
class Fitted:
    """One model fit on one series' training rows; a pure function of the JSON ``state``.

    Attributes:
        name: The model, one of :data:`NAMES`.
        spec: The chosen specification for people, e.g. ``ETS(M,A,M)``.
        season: The season the model was fit with.
        n_train: Training rows given to :func:`fit`.
        start: Index of the first row the model was fit on (``n_train - max_rows`` when
            capped); forecasts run the model forward from that row of the history.
        state: Plain JSON numbers that rebuild the fitted model.
        cache: What the fit computed that a saved state leaves out (MSTL's training
            decomposition), kept in memory for in-sample and ``fast`` forecasts; None after
            :meth:`from_state`.
    """

    name: str
    spec: str
    season: int
    n_train: int
    start: int
    state: dict = field(repr=False)
    cache: dict | None = field(default=None, repr=False, compare=False)

    def forecast(self, history: np.ndarray, horizon: int, *, in_sample: bool = False,
                 fast: bool = False) -> np.ndarray:
        """Forecast ``horizon`` steps after the end of ``history``, with the fitted parameters.

        Args:
            history: The training rows plus any later observed rows of the same series
                (1-D, at least ``n_train`` long, starting where the training rows start).
            horizon: Steps ahead, >= 1.
            in_sample: Allow a history shorter than the training rows (an origin inside
                them: the fitted model run over the rows before it), as interval
                calibration does; MSTL needs the fit's ``cache`` for it.
            fast: MSTL only: use the training decomposition instead of recomputing it
                (see :func:`forecaster.stats.nixtla.forecast_mstl_frozen`); other models
                ignore it.

        Returns:
            ``(horizon,)`` float array.

        Raises:
            DataError: ``history`` is shorter than the training rows, or not finite.
            ConfigError: ``horizon`` < 1.

        Example:
            >>> f = fit("naive2", np.arange(1.0, 13.0), season=1)
            >>> f.forecast(np.arange(1.0, 16.0), 2)
            array([15., 15.])
        """
        y = _series(history, f"The history for {self.name}")
        if len(y) < (self.start + 2 if in_sample else self.n_train):
            raise DataError(f"The history for {self.name} has {len(y)} rows, fewer than the "
                            f"{self.n_train} training rows it was fit on. Pass the training rows "
                            "plus any later ones.")
        if int(horizon) < 1:
            raise ConfigError(f"horizon must be >= 1, got {horizon!r}.")
        if self.name != "naive2" and not _has_statsforecast():
            raise ConfigError(_MISSING.format(name=self.name))
        own = y[self.start:]
        if self.name == "mstl" and (fast or len(y) < self.n_train):
            if self.cache is None:
                raise DataError("An in-sample MSTL forecast needs the fit's decomposition, which "
                                "a loaded model does not keep; refit it.")
            out = nixtla.forecast_mstl_frozen(self.state, self.cache, own, int(horizon))
        else:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                out = _FORECAST[self.name](self.state, own, int(horizon))
        return np.asarray(out, dtype=float)  # (horizon,)

    def to_state(self) -> dict:
        """Everything needed to rebuild this fit, as plain JSON types."""
        return {"format": FORMAT, "name": self.name, "spec": self.spec, "season": self.season,
                "n_train": self.n_train, "start": self.start, "state": self.state}

    @classmethod
    def from_state(cls, data: dict) -> Fitted:
        """Rebuild a fit from :meth:`to_state`'s dict (e.g. after ``json.loads``)."""
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("name") not in NAMES:
            got = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ArtifactError(f"Not a statistical model state of format {FORMAT} (got {got!r}). "
                                "Re-run the fit with this version of forecaster.")
        return cls(name=data["name"], spec=data["spec"], season=int(data["season"]),
                   n_train=int(data["n_train"]), start=int(data["start"]), state=data["state"])


def fit(name: str, y_train: np.ndarray, *, season: int, params: dict | None = None) -> Fitted:
    """Fit model ``name`` on the training rows of one series.

    Args:
        name: One of :data:`NAMES`.
        y_train: The training rows (1-D, finite).
        season: The seasonal period (1: none).
        params: Optional overrides, keys from :data:`PARAMS` (strings from the CLI are parsed).

    Returns:
        The :class:`Fitted` model.

    Raises:
        ConfigError: Unknown model or parameter, or the model cannot be used on this data
            (too short, or too costly: see the cost rules); the message says why.
        DataError: ``y_train`` is not a finite 1-D series.

    Example:
        >>> fit("auto_arima", np.arange(200.0), season=48)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        forecaster.errors.ConfigError: auto_arima refuses season 48: ...
    """
    name = _check_name(name)
    opts = parse_params(name, params)
    y = _series(y_train, f"The training rows for {name}")
    season = int(season)
    if season < 1:
        raise ConfigError(f"season must be >= 1, got {season}.")
    refusal = refusal_reason(name, len(y), season, opts)
    if refusal:
        raise ConfigError(refusal)
    if name == "naive2":
        state = naive2.fit_state(y, season)
        return Fitted(name, naive2.spec(state), season, len(y), 0, state)
    start = _start(name, len(y), season, opts)
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # statsforecast's own chatter
        warnings.simplefilter("ignore", RuntimeWarning)
        spec, state, cache = _fit_statsforecast(name, y[start:], season, opts)
    if start:
        spec += f"; fit on the last {len(y) - start} of {len(y)} rows"
    return Fitted(name, spec, season, len(y), start, state, cache)


def n_params(fitted: Fitted) -> int:
    """The numbers estimated from the series for this fit (its share of a parameter count).

    ETS: smoothing parameters, initial states and the error variance (R's ``npars``);
    ARIMA: its coefficients and the innovation variance; Theta: its smoothing parameters
    plus ``m - 1`` free seasonal indices when it deseasonalises; MSTL: the trend ETS's plus
    ``p - 1`` values of each seasonal component ``p`` it repeats; Naive2: ``m - 1`` indices
    when the series is seasonal, else 0.

    >>> n_params(fit("naive2", np.tile([1.0, 3.0], 12), season=2))
    1
    """
    state = fitted.state
    if fitted.name == "auto_ets":
        return int(state["n_params"])
    if fitted.name == "auto_arima":
        return len(state["coef"]) + 1
    seasonal = max(len(state.get("indices") or []) - 1, 0)
    if fitted.name == "auto_theta":
        return 3 + seasonal
    if fitted.name == "mstl":
        return int(state["trend"]["n_params"]) + sum(p - 1 for p in state["periods"])
    return seasonal


def refusal_reason(name: str, n_rows: int, season: int, params: dict | None = None) -> str | None:
    """Why ``name`` cannot be used on ``n_rows`` training rows at ``season``; None if it can.

    Cheap (nothing is fit), so a comparison can skip a model up front.

    >>> refusal_reason("auto_arima", 700, 168)  # doctest: +ELLIPSIS
    'auto_arima refuses season 168: ...'
    >>> refusal_reason("naive2", 700, 168) is None
    True
    """
    opts = parse_params(_check_name(name), params)
    if name == "naive2":
        return None if n_rows >= 1 else "naive2 needs at least 1 training row, got 0."
    if not _has_statsforecast():
        return _MISSING.format(name=name)
    if n_rows < MIN_ROWS:
        return f"{name} needs at least {MIN_ROWS} training rows, got {n_rows}."
    if name == "auto_arima" and opts.get("seasonal", True) and season > ARIMA_MAX_SEASON:
        return (f"auto_arima refuses season {season}: seasonal ARIMA above period "
                f"{ARIMA_MAX_SEASON} takes minutes per series. Use mstl, or pass "
                "--param seasonal=false for a non-seasonal ARIMA.")
    if name == "mstl" and not mstl_periods(season, n_rows, opts)[0]:
        asked = ",".join(map(str, _seasons(season, opts)))
        return (f"mstl needs a seasonal period > 1 with two full cycles in the training rows; "
                f"got season(s) {asked} and {n_rows} rows. Pass --param seasons=... or use auto_ets.")
    return None


def mstl_periods(season: int, n_rows: int, params: dict | None = None) -> tuple[list[int], list[int]]:
    """MSTL's periods split into (kept, dropped): longer than half the rows, or 1, is dropped.

    >>> mstl_periods(24, 500, {"seasons": "24,168,8766"})
    ([24, 168], [8766])
    """
    asked = _seasons(season, parse_params("mstl", params))
    kept = [p for p in asked if 1 < p <= n_rows // 2]
    return kept, [p for p in asked if p not in kept]


_MISSING = ("{name} needs the statsforecast package, which is not installed. "
            "Install it (pip install statsforecast) or leave {name} out.")


def _has_statsforecast() -> bool:
    return importlib.util.find_spec("statsforecast") is not None  # finds it without importing


def _check_name(name: str) -> str:
    if name not in NAMES:
        raise ConfigError(f"Unknown statistical model {name!r}. Available: {', '.join(NAMES)}.")
    return name


def _series(values: np.ndarray, what: str) -> np.ndarray:
    y = np.asarray(values, dtype=float)
    if y.ndim != 1 or not np.isfinite(y).all():
        shape = "1-D" if y.ndim == 1 else f"{y.ndim}-D"
        bad = int((~np.isfinite(y)).sum())
        raise DataError(f"{what} must be a 1-D series of finite numbers; got a {shape} array "
                        f"with {bad} missing or infinite value(s). Fill or drop them first.")
    return y


def _seasons(season: int, params: dict) -> list[int]:
    return list(params.get("seasons") or [season])


def _start(name: str, n_rows: int, season: int, opts: dict) -> int:
    """First training row to fit on: the last ``max_rows`` rows (MSTL: >= 4 longest cycles)."""
    cap = opts.get("max_rows", MAX_ROWS[name])
    if cap == 0:
        return 0
    if name == "mstl":
        cap = max(cap, 4 * max(mstl_periods(season, n_rows, opts)[0]))
    return max(0, n_rows - cap)


def _fit_statsforecast(name: str, y: np.ndarray, season: int, opts: dict):
    """Dispatch to :mod:`forecaster.stats.nixtla`: (spec, state, cache); MSTL's dropped
    periods go into the spec, its training decomposition into the cache."""
    if name != "mstl":
        return (*_FIT[name](y, season, opts), None)
    kept, dropped = mstl_periods(season, len(y), opts)
    spec, state, cache = nixtla.fit_mstl(y, kept, opts)
    if dropped:
        spec += f"; dropped season(s) {','.join(map(str, dropped))} (over half of {len(y)} rows)"
    return spec, state, cache


_FIT = {"auto_ets": nixtla.fit_ets, "auto_arima": nixtla.fit_arima, "auto_theta": nixtla.fit_theta}
_FORECAST: dict[str, Callable[[dict, np.ndarray, int], np.ndarray]] = {
    "auto_ets": nixtla.forecast_ets, "auto_arima": nixtla.forecast_arima,
    "auto_theta": nixtla.forecast_theta, "mstl": nixtla.forecast_mstl, "naive2": naive2.forecast,
}
