"""statsforecast's AutoETS, AutoARIMA, AutoTheta and MSTL as plain-JSON states.

Each ``fit_*`` fits statsforecast's model class on the training rows and keeps only the
numbers that define the fitted model; each ``forecast_*`` rebuilds the model from them and
applies it to a history (the training rows plus any later ones) without estimating
anything again, through statsforecast's own ``forward`` functions:

- ETS: smoothing parameters, damping and the initial states; ``forward_ets`` reruns the
  state recursion over the history from those initial states.
- ARIMA: orders and coefficients (and sigma2); ``forward_arima`` reruns the Kalman filter
  with every coefficient fixed. A drift term is a linear function of time, recomputed.
- Theta: model type, initial level, alpha, theta, and the seasonal indices of the
  training rows. statsforecast's ``forward_theta`` would rerun the seasonality test and
  re-estimate the indices on the history; here they stay as fitted (a training-only
  statistic), and the history is adjusted with them before ``forward_theta`` (m = 1).
  At the training origin this is exactly ``AutoTheta.predict``.
- MSTL: the periods and the trend model's ETS state. As ``MSTL.forward`` does, the STL
  decomposition (a smoother with fixed windows, nothing optimised) is recomputed on the
  history, and the trend model is the fitted ETS, forwarded. That costs 0.01-1.3 s per
  origin (1,000 hourly rows, periods 24 and 168), too slow for the hundreds of origins an
  interval calibration forecasts from, so those use the decomposition of the training
  rows kept in memory after the fit (:func:`forecast_mstl_frozen`): its seasonal
  components (the last cycle of each, frozen, after the training rows) and the trend
  model run over the training rows' seasonally adjusted values.

statsforecast is imported inside the functions: importing this module stays light.
"""

from __future__ import annotations

import warnings

import numpy as np

from forecaster.errors import ConfigError

#: R's ets fits no seasonal model above this period (too many initial states to estimate).
#: statsforecast does not stop it, but its search at m = 48 and 168 on M4 hourly series chose
#: non-seasonal models anyway, after 0.7-3 s; forecaster follows R and says so in the spec.
ETS_MAX_SEASON = 24
_THETA_NAMES = {"STM": "standard", "OTM": "optimized", "DSTM": "dynamic standard",
                "DOTM": "dynamic optimized"}


def _plain(values) -> list:
    """Floats for JSON, NaN as None (JSON has no NaN)."""
    return [None if np.isnan(v) else float(v) for v in np.asarray(values, dtype=float)]


def _array(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# ---------------------------------------------------------------- ETS
def ets_spec(components: str) -> str:
    """R's ETS notation from statsforecast's components (error, trend, season, damped).

    >>> ets_spec("MAMD"), ets_spec("ANNN")
    ('ETS(M,Ad,M)', 'ETS(A,N,N)')
    """
    error, trend, season, damped = components
    return f"ETS({error},{trend}{'d' if damped != 'N' else ''},{season})"


def _ets_state(model: dict) -> dict:
    # a constant series skips the search and its fit has no "method": use the components
    return {"m": int(model["m"]), "components": str(model["components"]),
            "par": _plain(model["par"]), "n_params": int(model["n_params"])}


def _ets_fitted(state: dict) -> dict:
    """The keys of a statsforecast ETS fit that ``forward_ets`` reads."""
    return {"m": state["m"], "components": state["components"], "par": _array(state["par"]),
            "n_params": state["n_params"], "fit": None}


def fit_ets(y: np.ndarray, season: int, params: dict) -> tuple[str, dict]:
    """AutoETS by AICc; seasons above 24 are ignored, as R's ``ets`` does (said in the spec)."""
    from statsforecast.models import AutoETS

    model, note = params.get("model", "ZZZ"), ""
    if season > ETS_MAX_SEASON and model[2] != "N":
        model, note = model[:2] + "N", f"; season {season} > {ETS_MAX_SEASON} ignored"
    try:
        fitted = AutoETS(season_length=season, model=model, damped=params.get("damped")).fit(y)
    except ValueError as exc:  # e.g. "Inappropriate model for data with negative or zero values"
        raise ConfigError(f"auto_ets cannot fit model={model} to this series: {exc}.") from None
    state = _ets_state(fitted.model_)
    return ets_spec(state["components"]) + note, state


def forecast_ets(state: dict, history: np.ndarray, horizon: int) -> np.ndarray:
    """The fitted ETS run over ``history`` from its initial states, then ``horizon`` ahead."""
    from statsforecast.ets import forecast_ets as _forecast
    from statsforecast.ets import forward_ets

    return _forecast(forward_ets(_ets_fitted(state), history), h=horizon)["mean"]


# ---------------------------------------------------------------- ARIMA
def arima_spec(arma: list[int], coef_names) -> str:
    """R's order notation from statsforecast's ``arma`` (p, q, P, Q, m, d, D).

    >>> arima_spec([1, 1, 0, 1, 12, 1, 1], ["ar1", "ma1", "sma1"])
    'ARIMA(1,1,1)(0,1,1)[12]'
    >>> arima_spec([0, 0, 0, 0, 1, 1, 0], ["drift"])
    'ARIMA(0,1,0) with drift'
    """
    p, q, sp, sq, m, d, sd = arma
    out = f"ARIMA({p},{d},{q})"
    if m > 1 and sp + sd + sq > 0:
        out += f"({sp},{sd},{sq})[{m}]"
    if "drift" in coef_names:
        out += " with drift"
    elif "intercept" in coef_names:
        out += " with non-zero mean"
    return out


def fit_arima(y: np.ndarray, season: int, params: dict) -> tuple[str, dict]:
    """AutoARIMA, stepwise, with R's ``auto.arima`` approximation rule (see the spec note)."""
    from statsforecast.models import AutoARIMA

    m = season if params.get("seasonal", True) else 1
    with warnings.catch_warnings():  # scipy's "precision loss" on CSS steps: routine, not news
        warnings.filterwarnings("ignore", "possible convergence problem", UserWarning)
        # statsforecast's class turns R's default off; None restores it: CSS estimation during
        # the search when n > 150 or m > 12, then the chosen orders re-estimated by exact ML.
        try:
            fitted = AutoARIMA(season_length=m, seasonal=m > 1, approximation=None).fit(y)
        except ValueError as exc:  # "No suitable ARIMA model found"
            raise ConfigError(f"auto_arima found no ARIMA model for this series: {exc}.") from None
    model = fitted.model_  # without exogenous data its only regressor is the drift
    # coefficients as ordered [name, value] pairs: their order is the model's, whatever a
    # JSON writer does with object keys
    state = {"arma": [int(a) for a in model["arma"]],
             "coef": [[k, float(v)] for k, v in model["coef"].items()],
             "sigma2": float(model["sigma2"]), "n_fit": len(y)}
    note = "; CSS-approximate search" if len(y) > 150 or m > 12 else ""
    return arima_spec(state["arma"], [k for k, _ in state["coef"]]) + note, state


def forecast_arima(state: dict, history: np.ndarray, horizon: int) -> np.ndarray:
    """The fitted ARIMA's Kalman filter over ``history`` (coefficients fixed), then ahead.

    A history shorter than the fit (an in-sample origin) gets a drift regressor of its length.
    """
    from statsforecast.arima import forecast_arima as _forecast
    from statsforecast.arima import forward_arima

    n, coef = min(state["n_fit"], len(history)), dict(state["coef"])
    drift = np.arange(1, n + 1, dtype=float).reshape(-1, 1) if "drift" in coef else None
    fitted = {"arma": tuple(state["arma"]), "coef": coef, "sigma2": state["sigma2"],
              "x": history[:n], "xreg": drift, "lambda": None}  # x: only its length is read
    return _forecast(forward_arima(fitted, history, method=None), h=horizon)["mean"]


# ---------------------------------------------------------------- Theta
def fit_theta(y: np.ndarray, season: int, params: dict) -> tuple[str, dict]:
    """AutoTheta (best of four theta models by MSE) on M4-style seasonally adjusted data."""
    from statsforecast.models import AutoTheta

    with np.errstate(invalid="ignore", divide="ignore"):  # its ACF on a constant series
        fitted = AutoTheta(season_length=season, model=params.get("model"),
                           decomposition_type=params.get("decomposition_type",
                                                         "multiplicative")).fit(y)
    model = fitted.model_
    state = {"modeltype": model["modeltype"], "m": int(season), "seasonal": None, "indices": [],
             **{k: float(v) for k, v in model["par"].items()}}
    if model.get("decompose", False):
        idx = np.empty(season)
        idx[(len(y) + np.arange(season)) % season] = model["seas_forecast"]["mean"]  # by t % m
        state.update(seasonal=model["decomposition_type"], indices=idx.tolist())
    name = _THETA_NAMES[state["modeltype"]]
    if state["seasonal"] is None:
        return f"Theta({name})", state
    return f"Theta({name})+seasonal({state['seasonal']}, m={season})", state


def forecast_theta(state: dict, history: np.ndarray, horizon: int) -> np.ndarray:
    """``history`` adjusted with the training indices, the fitted theta model, reseasonalised."""
    from statsforecast.theta import forecast_theta as _forecast
    from statsforecast.theta import forward_theta

    n, m = len(history), state["m"]
    idx = np.asarray(state["indices"], dtype=float)
    mult = state["seasonal"] == "multiplicative"
    adjusted = history
    if state["seasonal"] is not None:
        past = idx[np.arange(n) % m]  # (n,)
        adjusted = history / past if mult else history - past
    par = {k: state[k] for k in ("initial_smoothed", "alpha", "theta")}
    mean = _forecast(forward_theta({"m": 1, "modeltype": state["modeltype"], "par": par},
                                   adjusted), horizon)["mean"]
    if state["seasonal"] is None:
        return mean
    ahead = idx[(n + np.arange(horizon)) % m]  # (horizon,)
    return mean * ahead if mult else mean + ahead


# ---------------------------------------------------------------- MSTL
def fit_mstl(y: np.ndarray, periods: list[int], params: dict) -> tuple[str, dict, dict]:
    """MSTL with statsforecast's default trend model, AutoETS(model="ZZN").

    Returns the spec, the JSON state and the training decomposition (kept in memory only,
    for :func:`forecast_mstl_frozen`): ``adjusted`` (trend + remainder) and ``seasonals``
    (one component per period), each as long as ``y``.
    """
    from statsforecast.models import MSTL, AutoETS

    fitted = MSTL(season_length=list(periods), trend_forecaster=AutoETS(model="ZZN")).fit(y)
    trend = _ets_state(fitted.trend_forecaster.model_)
    spec = f"MSTL({','.join(map(str, periods))})+{ets_spec(trend['components'])}"
    parts = fitted.model_
    cache = {"adjusted": (parts["trend"] + parts["remainder"]).to_numpy(float),
             "seasonals": [parts[c].to_numpy(float) for c in parts.filter(regex="seasonal*").columns]}
    return spec, {"periods": [int(p) for p in periods], "trend": trend}, cache


def forecast_mstl(state: dict, history: np.ndarray, horizon: int) -> np.ndarray:
    """``MSTL.forward``: STL of ``history``, the fitted trend ETS forwarded, seasons repeated."""
    from statsforecast.models import MSTL, AutoETS

    trend = AutoETS(model="ZZN")
    trend.model_ = _ets_fitted(state["trend"])  # what AutoETS.forward reads
    model = MSTL(season_length=list(state["periods"]), trend_forecaster=trend)
    return model.forward(y=history, h=horizon)["mean"]


def forecast_mstl_frozen(state: dict, cache: dict, history: np.ndarray, horizon: int) -> np.ndarray:
    """MSTL from the training decomposition, without recomputing it (interval calibration).

    An origin inside the training rows: the fitted trend ETS over the adjusted values
    before it, plus each seasonal component's last cycle before it, repeated. A later
    origin: each component's last training cycle, frozen, deseasonalises the later rows and
    is repeated ahead. At the end of the training rows this is ``MSTL.predict``.
    """
    from statsforecast.ets import forecast_ets as _forecast
    from statsforecast.ets import forward_ets

    adjusted, seasonals = cache["adjusted"], cache["seasonals"]
    n_fit, t = len(adjusted), len(history)
    end = min(t, n_fit)
    if end < max(state["periods"]):
        raise ConfigError(f"MSTL needs a full cycle ({max(state['periods'])} rows) before an origin.")

    def seasonal(at: np.ndarray) -> np.ndarray:  # each component's last cycle before `end`, repeated
        return sum(comp[end - p + (at - end) % p] for p, comp in zip(state["periods"], seasonals))

    later = np.arange(end, t)
    x = np.concatenate([adjusted[:end], history[end:] - seasonal(later)])
    trend = _forecast(forward_ets(_ets_fitted(state["trend"]), x), h=horizon)["mean"]
    return trend + seasonal(t + np.arange(horizon))
