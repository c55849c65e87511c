"""Internals of :mod:`forecaster.statistical`: one module per family of local models.

- :mod:`forecaster.stats.naive2`: M4's Naive2, in NumPy (no statsforecast).
- :mod:`forecaster.stats.nixtla`: AutoETS, AutoARIMA, AutoTheta and MSTL from statsforecast,
  reduced to plain-JSON states and rebuilt from them. statsforecast is imported inside the
  functions, so importing this package stays light.
- :mod:`forecaster.stats.params`: the parameters each model accepts, parsed from CLI strings.

Every model here exposes the same two functions, ``fit(y, season, params) -> (spec, state)``
and ``forecast(state, history, horizon) -> ndarray``; :mod:`forecaster.statistical` is the
public face over them.
"""
