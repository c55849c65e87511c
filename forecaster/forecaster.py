"""Forecaster: the one stateful class (fit / predict / save / load), like a scikit-learn estimator.

``__init__`` only stores its settings (declared once, in :class:`~forecaster.params.Params`).
:meth:`Forecaster.fit` validates every setting, splits every series in time order (train,
validation, test at the end), fits scalers on training rows only, trains one global model
on the windows of all series (one local model per series for a statistical model, nothing
for a baseline), calibrates conformal intervals
on the validation part and scores the held-out test part. Fitted state lives in
trailing-underscore attributes; :meth:`get_state` gives it as plain data and
:meth:`from_state` rebuilds a fitted Forecaster from it (Keras's ``get_config`` /
``from_config`` split), which is all :mod:`forecaster.artifacts` stores.

>>> import numpy as np, pandas as pd
>>> from forecaster.data import from_frame
>>> df = pd.DataFrame({"date": pd.date_range("2020-01", periods=48, freq="MS"),
...                    "y": np.tile(np.arange(12.0), 4)})
>>> f = Forecaster("seasonal_naive").fit(from_frame(df))
>>> f.horizon_, round(f.metrics_["mae"], 6)
(12, 0.0)
>>> Forecaster.from_state(f.get_params(), f.get_state()).predict(from_frame(df))["forecast"].tolist()[:3]
[0.0, 1.0, 2.0]
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from forecaster import _local, backend, baselines, intervals, metrics, models, scaling, splits, statistical
from forecaster.data import Panel, check_length
from forecaster.errors import ArtifactError, ConfigError, DataError, ForecasterError
from forecaster.params import Params, check_int
from forecaster.training import TrainSettings

# (setting, minimum, None allowed) of the whole-number window settings.
_WINDOW_CHECKS = (("lookback", 1, True), ("horizon", 1, True), ("stride", 1, False),
                  ("val_size", 0, True), ("gap", 0, False), ("max_train_size", 1, True),
                  ("seeds", 1, True))
#: Neural fits on fewer training windows than this are a median of AUTO_SEEDS seeds by default.
SMALL_DATA, AUTO_SEEDS = 1000, 3


class Forecaster(Params):
    """Fit one model (baseline, statistical or neural) to a panel of series and forecast past its end.

    The settings are those of :class:`~forecaster.params.Params` (``Forecaster("mlp",
    epochs=20)``); :meth:`get_params` returns them.
    """

    # ----------------------------------------------------------------- fit
    def fit(self, panel: Panel, *, test_size: int | None = None) -> Forecaster:
        """Validate, split, scale, train, calibrate and score on the held-out end of each series.

        Args:
            panel: The data (see :func:`forecaster.data.read_csv`).
            test_size: Rows held out at the end of each series and scored (default:
                ``horizon``, as in M4; 0 to fit on everything).

        Returns:
            ``self``, with ``splits_``, ``scalers_``, ``model_``, ``n_params_``,
            ``history_``, ``calibration_``, ``metrics_`` and ``test_forecasts_`` set
            (a statistical model: ``fits_``, one :class:`~forecaster.statistical.Fitted`
            per series, and ``specs_``, their chosen specifications).

        Raises:
            ConfigError: A setting is invalid (checked first, for every model), or a
                statistical model refuses the data (the message says why).
        """
        config, settings = self._validated()
        self.resolve(panel, test_size)
        start = time.perf_counter()
        self.model_, self.scalers_, self.n_params_, self.backend_, self.fits_ = None, [], 0, None, None
        self.history_ = {"loss": [], "val_loss": [], "epochs_run": 0, "best_epoch": 0}
        if models.is_neural(self.model):
            self.config_ = dataclasses.asdict(config)
            self._fit_neural(panel, config, settings)
        else:
            self.config_ = dict(config or {})
            if models.kind(self.model) == "statistical":
                self.fits_ = _local.fit(self.model, panel, self.splits_, season=self.season_,
                                        options=config)
                self.n_params_ = sum(statistical.n_params(f) for f in self.fits_)
        self.first_times_ = [str(s.time[sp.train[0]]) for s, sp in zip(panel.series, self.splits_)]
        self.fit_seconds_ = time.perf_counter() - start
        self.calibration_ = self._calibrate(panel)
        self.metrics_, self.series_metrics_, self.test_forecasts_ = self._score_test(panel)
        self.schema_ = panel.schema()
        self.source_ = panel.source
        self.last_times_ = [str(s.time[-1]) for s in panel.series]
        return self

    def _fit_neural(self, panel: Panel, config, settings: TrainSettings) -> None:
        """One fit, or the median of ``seeds`` fits with seeds ``seed``, ``seed + 1``, ..."""
        from forecaster import _neural

        self.backend_ = backend.active()
        fits = []
        while not fits or len(fits) < self._n_seeds(fits[0].n_windows):
            fits.append(_neural.fit(panel, self.splits_, self._windowing(), name=self.model,
                                    config=config, scaler=self.scaler, progress=self.progress,
                                    settings=dataclasses.replace(settings, seed=settings.seed + len(fits))))
        self.model_, self.scalers_, self.history_ = fits[0].model, fits[0].scalers, fits[0].history
        if len(fits) > 1:
            from forecaster._members import median_model

            self.model_ = median_model([f.model for f in fits])
            self.history_ = {**fits[0].history, "members": [f.history for f in fits]}
        self.n_params_ = int(self.model_.count_params())
        self.n_windows_ = fits[0].n_windows

    def _n_seeds(self, n_windows: int) -> int:
        if self.seeds is not None:
            return self.seeds
        return AUTO_SEEDS if n_windows < SMALL_DATA else 1

    @property
    def specs_(self) -> list[str] | None:
        """The chosen specification of each series' statistical model (None for other kinds)."""
        return None if self.fits_ is None else [f.spec for f in self.fits_]

    def check_params(self) -> Forecaster:
        """Validate every setting, for any model, without data; ConfigError names the bad one."""
        self._validated()
        return self

    def _validated(self):
        """The model's Config (None for a baseline) and the training settings, all checked."""
        if models.is_neural(self.model):  # checking its Config imports Keras: on this backend
            backend.use(self.backend)
        config = models.make_config(self.model, self.params)
        settings = TrainSettings.from_params(self.get_params())
        for name, minimum, none_ok in _WINDOW_CHECKS:
            check_int(name, getattr(self, name), minimum, none_ok=none_ok)
        scaling.check_kind(self.scaler)
        if self.norm is not None:
            scaling.check_norm(self.norm)
        intervals.check_levels(self.levels)
        backend.check(self.backend)
        if not isinstance(self.progress, bool):
            raise ConfigError(f"progress must be True or False, got {self.progress!r}.")
        return config, settings

    def resolve(self, panel: Panel, test_size: int | None = None) -> Forecaster:
        """Resolve the window settings against ``panel`` and split its series; nothing is fit.

        Sets ``levels_``, ``season_``, ``horizon_``, ``lookback_``, ``val_size_``,
        ``test_size_``, ``ids_`` and ``splits_``.

        Raises:
            DataError: A series is too short for the windows, validation and test parts.
        """
        self.levels_ = intervals.check_levels(self.levels)
        self.season_ = panel.season
        self.horizon_ = max(panel.season, 1) if self.horizon is None else self.horizon
        self.lookback_ = 2 * self.horizon_ if self.lookback is None else self.lookback
        self.val_size_ = self.horizon_ if self.val_size is None else self.val_size
        self.test_size_ = self.horizon_ if test_size is None else test_size
        check_int("test_size", self.test_size_, 0)
        neural = models.is_neural(self.model)
        first = self.lookback_ + self.horizon_ if neural else 1
        need = first + self.val_size_ + self.gap + self.test_size_
        check_length(panel, need, reason=_length_reason(self, neural))
        self.ids_ = list(panel.ids)
        self.splits_ = [splits.holdout(n, test_size=self.test_size_, val_size=self.val_size_,
                                       gap=self.gap, max_train_size=self.max_train_size)
                        for n in panel.lengths]
        return self

    def _windowing(self):
        from forecaster._neural import Windowing

        norm = self.norm or models.REGISTRY[self.model].norm or "season"  # the model's own
        return Windowing(self.lookback_, self.horizon_, self.stride, norm, self.season_)

    # ------------------------------------------------------------ forecast
    def forecast_at(self, panel: Panel, origins: list[np.ndarray]) -> list[np.ndarray]:
        """Forecasts ``(len(origins[i]), horizon)`` per series, each seeing only rows before its origin."""
        self._check_fitted()
        if self.fits_ is not None:
            return _local.forecast_at(self.fits_, self.first_times_, self._index(), panel, origins,
                                      self.horizon_)
        if self.model_ is None:
            return [np.stack([baselines.forecast(self.model, s.values[:t, 0], horizon=self.horizon_,
                                                 season=self.season_) for t in o])
                    if len(o) else np.empty((0, self.horizon_))
                    for s, o in zip(panel.series, origins)]
        from forecaster import _neural

        index = self._index()
        scalers = [self.scalers_[index[s.id]] for s in panel.series]
        return _neural.forecast_at(self.model_, scalers, panel, origins, self._windowing())

    def _forecast_for_calibration(self, panel: Panel, origins: list[np.ndarray]) -> list[np.ndarray]:
        """:meth:`forecast_at`, allowing origins inside the training rows (NaN where impossible)."""
        if self.fits_ is None:
            return self.forecast_at(panel, origins)
        return _local.forecast_at(self.fits_, self.first_times_, self._index(), panel, origins,
                                  self.horizon_, calibration=True)

    def predict(self, panel: Panel) -> pd.DataFrame:
        """Forecast ``horizon_`` steps past the end of each series, with interval columns.

        Returns:
            Columns ``id``, ``timestamp``, ``forecast``, ``lower_L``, ``upper_L``.
        """
        self._check_compatible(panel)
        ends = [np.array([len(s.values)]) for s in panel.series]
        preds = self.forecast_at(panel, ends)
        index, frames = self._index(), []
        for i, (series, pred) in enumerate(zip(panel.series, preds)):
            block = {"id": series.id, "timestamp": panel.future_time(i, self.horizon_),
                     "forecast": pred[0]}
            if self.calibration_ is not None:
                scale = self._scales(series, index[series.id], ends[i])[0]
                block.update(self.calibration_[index[series.id]].bounds(pred[0], scale))
            frames.append(pd.DataFrame(block))
        return pd.concat(frames, ignore_index=True)

    # --------------------------------------------------- calibrate / score
    def _calibrate(self, panel: Panel) -> list[intervals.Calibration] | None:
        """One calibration per series from rolling-origin residuals (see :mod:`forecaster.intervals`).

        None without validation rows: there would be no out-of-sample residual to check the
        in-sample ones against.
        """
        self.interval_scales_ = None
        if self.val_size_ == 0:
            return None
        first = self.lookback_ if self.model_ is not None else 1
        origins = [intervals.calibration_origins(max(first, sp.train[0] + 1), sp.val[1], self.horizon_)
                   for sp in self.splits_]
        self.interval_scales_ = [_interval_scale(s.values[:sp.train[1], 0], self.season_)
                                 for s, sp in zip(panel.series, self.splits_)]
        preds = self._forecast_for_calibration(panel, origins)
        out = []
        for i, (s, sp, o, p) in enumerate(zip(panel.series, self.splits_, origins, preds)):
            steps = o[:, None] + np.arange(self.horizon_)  # (n_origins, horizon) row numbers
            seen = steps < sp.val[1]
            actual = s.values[np.minimum(steps, len(s.values) - 1), 0]
            scale = self._scales(s, i, o)[:, None]  # (n_origins, 1)
            out.append(intervals.calibrate(
                np.where(seen, (actual - p) / scale, np.nan), levels=self.levels_,
                weights=intervals.recency_weights(o, sp.val[1], self.horizon_),
                recent=seen & (o[:, None] >= sp.val[0]), history=steps < sp.train[1]))
        return out

    def _scales(self, series, i: int, origins: np.ndarray) -> np.ndarray:
        """The local scale of series ``i`` at each origin (see :func:`intervals.local_scale`)."""
        return intervals.local_scale(series.values[:, 0], origins, season=self.season_,
                                     window=max(self.lookback_, self.season_ + 1),
                                     fallback=self.interval_scales_[i])

    def _score_test(self, panel: Panel):
        if self.test_size_ == 0:
            return {}, [], None
        origins = [np.arange(sp.test[0], sp.test[1], self.horizon_) for sp in self.splits_]
        preds = self.forecast_at(panel, origins)  # also warms up the model's first call
        start = time.perf_counter()
        self.forecast_at(panel, origins)
        n_windows = sum(len(o) for o in origins)
        self.predict_ms_ = 1000 * (time.perf_counter() - start) / max(n_windows, 1)
        rows, frames = [], []
        for i, (s, sp, p) in enumerate(zip(panel.series, self.splits_, preds)):
            f = p.reshape(-1)[: sp.test[1] - sp.test[0]]
            y = s.values[sp.test[0]:sp.test[1], 0]
            rows.append(metrics.score(y, f, insample=s.values[:sp.test[0], 0], season=self.season_))
            block = {"id": s.id, "timestamp": s.time[sp.test[0]:sp.test[1]],
                     "step": np.arange(len(f)) % self.horizon_ + 1, "y": y, "forecast": f}
            scales = self._scales(s, i, origins[i]) if self.calibration_ else []
            bounds = [self.calibration_[i].bounds(row, scale) for row, scale in zip(p, scales)]
            for key in (bounds[0] if bounds else {}):
                block[key] = np.concatenate([b[key] for b in bounds])[: len(f)]
            frames.append(pd.DataFrame(block))
        return metrics.panel_mean(rows), rows, pd.concat(frames, ignore_index=True)

    # --------------------------------------------------------------- state
    def get_state(self) -> dict:
        """The fitted state as plain JSON data: everything a saved run holds but the Keras model."""
        self._check_fitted()
        return {
            "lookback": self.lookback_, "horizon": self.horizon_, "season": self.season_,
            "val_size": self.val_size_, "test_size": self.test_size_,
            "levels": list(self.levels_), "ids": list(self.ids_),
            "last_timestamps": list(self.last_times_), "source": self.source_,
            "schema": self.schema_, "splits": [s.as_dict() for s in self.splits_],
            "config": self.config_, "n_params": self.n_params_, "backend": self.backend_,
            "scalers": [s.to_dict() for s in self.scalers_], "history": self.history_,
            "fit_seconds": self.fit_seconds_, "metrics": self.metrics_,
            "calibration": [c.to_dict() for c in self.calibration_] if self.calibration_ else None,
            "interval_scales": self.interval_scales_, "first_timestamps": list(self.first_times_),
            "fits": None if self.fits_ is None else [f.to_state() for f in self.fits_],
            "specs": self.specs_,
        }

    @classmethod
    def from_state(cls, params: dict, state: dict, model=None) -> Forecaster:
        """A fitted Forecaster from :meth:`get_params`, :meth:`get_state` and the Keras model."""
        f = cls(**params)
        f.lookback_, f.horizon_, f.season_ = state["lookback"], state["horizon"], state["season"]
        f.val_size_, f.test_size_ = state["val_size"], state["test_size"]
        f.levels_, f.ids_ = tuple(state["levels"]), list(state["ids"])
        f.last_times_, f.source_, f.schema_ = state["last_timestamps"], state["source"], state["schema"]
        f.splits_ = [splits.Split(tuple(d["train"]), tuple(d["val"]), tuple(d["test"]))
                     for d in state["splits"]]
        f.config_, f.n_params_, f.backend_ = state["config"], state["n_params"], state["backend"]
        f.scalers_ = [scaling.Scaler.from_dict(d) for d in state["scalers"]]
        f.history_, f.fit_seconds_, f.metrics_ = state["history"], state["fit_seconds"], state["metrics"]
        cal = state["calibration"]
        if isinstance(cal, dict):  # runs saved before per-series calibration: one for all
            cal = [cal] * len(f.ids_)
        f.calibration_ = [intervals.Calibration.from_dict(c) for c in cal] if cal else None
        f.interval_scales_ = state["interval_scales"]
        fits = state.get("fits")  # runs saved before statistical models have neither key
        f.fits_ = None if fits is None else [statistical.Fitted.from_state(d) for d in fits]
        f.first_times_ = state.get("first_timestamps") or [None] * len(f.ids_)
        f.model_ = model
        return f

    def save(self, path) -> None:
        """Write the run directory atomically (see :mod:`forecaster.artifacts`)."""
        from forecaster import artifacts

        params = {**self.get_params(), "levels": list(self.levels), "progress": False}
        artifacts.save(path, {"params": params, "state": self.get_state()}, self.model_)

    @classmethod
    def load(cls, path) -> Forecaster:
        """Load a saved run directory without executing any code from it.

        A median combination saved by ``compare --save-best`` loads as a
        :class:`forecaster.ensemble.MedianRun` (same ``predict`` and ``forecast_at``).
        """
        from forecaster import artifacts, ensemble

        manifest = artifacts.read_manifest(path)
        if isinstance(manifest.get("params"), dict) and manifest["params"].get("model") == ensemble.NAME:
            return ensemble.MedianRun.load(path, manifest)
        try:
            params, state = dict(manifest["params"]), manifest["state"]
            params["levels"] = tuple(params["levels"])
            model = None
            if manifest.get("model_file"):
                models.module(params["model"])  # registers its custom layers (the Jordan cell)
                from forecaster import _members  # noqa: F401  registers the seed median's layer
                model = artifacts.load_model(path)
            return cls.from_state(params, state, model)
        except (KeyError, TypeError, ValueError, ConfigError) as exc:
            raise ArtifactError(f"{path} holds an incomplete or invalid run ({type(exc).__name__}: "
                                f"{exc}); refit the model.") from None

    # ------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "splits_"):
            raise ForecasterError("This Forecaster is not fitted yet; call fit(panel) first.")

    def _index(self) -> dict[str, int]:
        """Series id -> its position among the training series."""
        return {sid: i for i, sid in enumerate(self.ids_)}

    def _check_compatible(self, panel: Panel) -> None:
        self._check_fitted()
        schema = panel.schema()
        for key in ("target", "covariates", "freq"):
            if schema.get(key) != self.schema_.get(key):
                raise DataError(f"{panel.source} does not match the model: {key} is "
                                f"{schema.get(key)!r}, the model was fit with {self.schema_.get(key)!r}.")
        index = self._index()
        unknown = [i for i in panel.ids if i not in index]
        if unknown:
            raise DataError(f"Series '{unknown[0]}' in {panel.source} was not in the training data; "
                            f"known ids: {', '.join(self.ids_[:5])}{'...' if len(self.ids_) > 5 else ''}.")
        if self.model_ is not None:
            check_length(panel, self.lookback_, reason=f"lookback {self.lookback_}")


def _length_reason(f: Forecaster, neural: bool) -> str:
    head = f"lookback {f.lookback_} + horizon {f.horizon_}" if neural else "1 training row"
    return (f"{head} + validation {f.val_size_} + gap {f.gap} + test {f.test_size_}")


def _interval_scale(train: np.ndarray, season: int) -> float:
    """A series' fallback interval unit: MASE's in-sample scale, else std, else 1."""
    scale = metrics.mase_scale(train, season)
    if not np.isfinite(scale) or scale == 0:
        scale = float(np.std(train)) if len(train) else 1.0
    return scale if scale > 0 else 1.0
