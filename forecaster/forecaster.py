"""Forecaster: the one stateful class (fit / predict / save / load), like a scikit-learn estimator.

``__init__`` only stores its settings (declared once, in :class:`~forecaster.params.Params`).
:meth:`Forecaster.fit` validates every setting, splits every series in time order (train,
validation, test at the end), fits scalers on training rows only, trains one global model
on the windows of all series (one local model per series for a statistical model, nothing
for a baseline), calibrates conformal intervals on residuals from rolling origins up to the
end of the validation part and scores the held-out test part. Fitted state lives in
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
import os
import time

import numpy as np
import pandas as pd

from forecaster import (_local, backend, covariates, intervals, metrics, models, panels, scaling,
                        splits, statistical, stored, training)
from forecaster._csv import label
from forecaster.data import Panel, check_length
from forecaster.errors import ArtifactError, ConfigError, DataError, ForecasterError, TrainingError
from forecaster.params import MAX_HORIZON, Params, check_int
from forecaster.training import TrainSettings

#: Model kinds that forecast any series from its own history, seen in training or not.
GLOBAL_KINDS: tuple[str, ...] = ("baseline", "neural")
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
            ``history_``, ``calibration_``, ``metrics_``, ``test_forecasts_``, ``seed_``
            (the seed used: drawn at random for ``seed=-1``), ``data_`` (the tail of
            each series that a forecast from the end reads, see :mod:`forecaster.stored`) and
            ``notices_``: sentences for the user (e.g. series left out of training); for a
            statistical model ``fits_``, one :class:`~forecaster.statistical.Fitted` per
            series, and ``specs_``, their chosen specifications.

        Raises:
            ConfigError: A setting is invalid (checked first, for every model), or a
                statistical model refuses the data (the message says why).
            TrainingError: Training diverged or a forecast is not finite.
        """
        config, settings = self._validated()
        self.resolve(panel, test_size)
        self.seed_ = training.resolve_seed(settings.seed)
        settings = dataclasses.replace(settings, seed=self.seed_)
        start = time.perf_counter()
        if models.is_neural(self.model):
            from forecaster.budget import check_size

            check_size(self.model, config, **self.model_shape(panel))
            self.config_, self.fits_ = dataclasses.asdict(config), None
            self._fit_neural(panel, config, settings)
        else:
            self.model_, self.scalers_, self.n_params_, self.backend_ = None, [], 0, None
            self.history_ = {"loss": [], "val_loss": [], "epochs_run": 0, "best_epoch": 0}
            self.config_, self.fits_ = dict(config or {}), None
            if models.kind(self.model) == "statistical":
                self.fits_ = _local.fit(self.model, panel, self.splits_, season=self.season_,
                                        options=config)
                self.n_params_ = sum(statistical.n_params(f) for f in self.fits_)
        self.first_times_ = [str(s.time[sp.train[0]]) for s, sp in zip(panel.series, self.splits_)]
        self.fit_seconds_ = time.perf_counter() - start
        self.calibration_ = self._calibrate(panel)
        self.metrics_, self.series_metrics_, self.test_forecasts_ = self._score_test(panel)
        self.source_ = panel.source
        self.source_path_ = None if panel.source.startswith("<") else os.path.abspath(panel.source)
        self.source_sha256_ = None  # the file's SHA-256, computed when the run is saved
        self.last_times_ = [str(s.time[-1]) for s in panel.series]
        self.data_ = stored.capture(panel, self._rows_kept())
        return self

    def _rows_kept(self) -> int | None:
        """Rows per series that a forecast from the end reads: window and interval scale (None: all)."""
        if self.config_.get("stateful"):
            return None  # a stateful model warms its state over the whole history
        if not (models.is_neural(self.model) or self.model in ("naive", "seasonal_naive")):
            return None  # drift, mean and statistical models read the whole history
        return max(self.lookback_, self.season_ + 1) + max(self.season_, 1)

    def _fit_neural(self, panel: Panel, config, settings: TrainSettings) -> None:
        """One fit, or the median of ``seeds`` fits with seeds ``seed``, ``seed + 1``, ..."""
        from forecaster import _neural, stateful

        self.backend_ = backend.active()
        self.scalers_ = [scaling.fit(self.scaler, s.values[sp.train[0]:sp.train[1]])
                         for s, sp in zip(panel.series, self.splits_)]
        keep = self._neural_rows(panel)  # series too short for a window are left out
        engine = stateful if getattr(config, "stateful", False) else _neural  # truncated BPTT
        fits = []
        while not fits or len(fits) < self._n_seeds(fits[0].n_windows, config):
            member = dataclasses.replace(settings, seed=settings.seed + len(fits))
            fits.append(engine.fit(panels.rows(panel, keep), [self.splits_[i] for i in keep],
                                   [self.scalers_[i] for i in keep], self._windowing(),
                                   name=self.model, config=config, settings=member,
                                   progress=self.progress))
        self.model_, self.history_ = fits[0].model, fits[0].history
        if len(fits) > 1:
            from forecaster._members import median_model

            self.model_ = median_model([f.model for f in fits])
            self.history_ = {**fits[0].history, "members": [f.history for f in fits]}
        self.n_params_ = int(self.model_.count_params())
        self.n_windows_ = fits[0].n_windows

    def _n_seeds(self, n_windows: int, config=None) -> int:
        if getattr(config, "stateful", False):
            return 1  # one stateful fit (check_params refuses seeds > 1)
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
            check_int(name, getattr(self, name), minimum, none_ok=none_ok,
                      maximum=MAX_HORIZON if name in ("lookback", "horizon") else None)
        scaling.check_kind(self.scaler)
        if self.norm is not None:
            scaling.check_norm(self.norm)
        covariates.check_calendar(self.calendar)
        intervals.check_levels(self.levels)
        backend.check(self.backend)
        if getattr(config, "stateful", False) and (self.seeds or 1) > 1:
            raise ConfigError(f"seeds={self.seeds} with --param stateful=true: a stateful model is "
                              "trained once; leave out --seeds.")
        if not isinstance(self.progress, bool):
            raise ConfigError(f"progress must be True or False, got {self.progress!r}.")
        return config, settings

    def resolve(self, panel: Panel, test_size: int | None = None) -> Forecaster:
        """Resolve the window settings against ``panel`` and split its series; nothing is fit.

        Sets ``levels_``, ``season_``, ``horizon_``, ``lookback_``, ``val_size_``,
        ``test_size_``, ``ids_``, ``schema_``, ``splits_``, ``calendar_`` (the calendar
        features, neural models only), ``fallback_`` (ids of the series too short for a
        neural model's windows: left out of training and forecast with seasonal naive) and
        ``notices_``.

        Raises:
            DataError: A series is too short for the validation and test parts (or, for a
                neural model, every series is too short for the windows).
        """
        self.levels_ = intervals.check_levels(self.levels)
        self.season_ = panel.season
        self.horizon_ = max(panel.season, 1) if self.horizon is None else self.horizon
        self.lookback_ = 2 * self.horizon_ if self.lookback is None else self.lookback
        self.val_size_ = self.horizon_ if self.val_size is None else self.val_size
        self.test_size_ = self.horizon_ if test_size is None else test_size
        check_int("test_size", self.test_size_, 0)
        neural = models.is_neural(self.model)
        floor = 1 + self.val_size_ + self.gap + self.test_size_
        check_length(panel, floor, reason=_length_reason(self, False))
        self.calendar_ = covariates.resolve_calendar(self.calendar, panel.freq) if neural else ()
        self.fallback_, self.notices_ = [], []
        if neural:
            self.fallback_, self.notices_ = panels.too_short(
                panel, self.lookback_ + self.horizon_ - 1 + floor, _length_reason(self, True))
        self.ids_ = list(panel.ids)
        self.schema_ = panel.schema()
        self.splits_ = [splits.holdout(n, test_size=self.test_size_, val_size=self.val_size_,
                                       gap=self.gap, max_train_size=self.max_train_size)
                        for n in panel.lengths]
        return self

    def _windowing(self, calendar: tuple[str, ...] | None = None):
        from forecaster._neural import Windowing

        known = self.schema_.get("future_covariates") or ()
        norm = self.norm or models.REGISTRY[self.model].norm or "season"  # the model's own
        return Windowing(self.lookback_, self.horizon_, self.stride, norm, self.season_,
                         tuple(self.calendar_ if calendar is None else calendar), len(known))

    def model_shape(self, panel: Panel) -> dict:
        """``lookback``, ``n_features`` and ``horizon`` of a neural network fit with these
        settings on ``panel`` (after :meth:`resolve`, for any model): the input steps include
        the steps known ahead and the columns the calendar features (what ``--budget`` and
        the size check count)."""
        calendar = covariates.resolve_calendar(self.calendar, panel.freq)
        return self._windowing(calendar).model_shape(panel.n_features)

    def _neural_rows(self, panel: Panel) -> list[int]:
        """Positions of the series of ``panel`` that the neural model forecasts."""
        short = set(self.fallback_)
        return [i for i, s in enumerate(panel.series) if s.id not in short]

    # ------------------------------------------------------------ forecast
    def forecast_at(self, panel: Panel, origins: list[np.ndarray],
                    future: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """Forecasts ``(len(origins[i]), horizon)`` per series, each seeing only rows before its origin.

        ``future[i]``: the future covariates of series ``i`` over the ``horizon`` steps after
        its end (see :meth:`predict`); by default its last values are repeated there.

        Raises:
            TrainingError: A forecast is NaN or infinite (it would score as a perfect one).
        """
        self._check_fitted()
        if self.fits_ is not None:
            return _check_finite(self.model, panel, _local.forecast_at(
                self.fits_, self.first_times_, self._index(), panel, origins, self.horizon_))
        if self.model_ is None:
            return _check_finite(self.model, panel, panels.baseline_at(
                self.model, panel.series, origins, self.horizon_, self.season_))
        from forecaster import _neural, stateful

        index, keep = self._index(), self._neural_rows(panel)
        out = [None] * len(origins)
        if keep:
            engine = stateful if self.config_.get("stateful") else _neural  # the state over the history
            preds = engine.forecast_at(
                self.model_, [self._own(panel.series[i], origins[i], index)[0] for i in keep],
                panels.rows(panel, keep), [origins[i] for i in keep], self._windowing(),
                None if future is None else [future[i] for i in keep])
            for i, p in zip(keep, preds):
                out[i] = p
        rest = [i for i, p in enumerate(out) if p is None]  # too short: the reference model
        for i, p in zip(rest, panels.baseline_at(models.REFERENCE, [panel.series[i] for i in rest],
                                                 [origins[i] for i in rest], self.horizon_,
                                                 self.season_)):
            out[i] = p
        return _check_finite(self.model, panel, out)

    def bounds_at(self, panel: Panel, origins: list[np.ndarray],
                  preds: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
        """``lower_L``/``upper_L`` arrays ``(n_origins, horizon)`` around :meth:`forecast_at`'s forecasts.

        Each is the calibrated quantile times the series' local scale at the origin (as in
        :meth:`predict`); an empty dict per series when the run has no calibration.
        """
        if self.calibration_ is None:
            return [{} for _ in origins]
        index, out = self._index(), []
        for s, o, p in zip(panel.series, origins, preds):
            scale = self._scales(s, o, self._own(s, o, index)[1])[:, None]  # (n_origins, 1)
            bounds = self._calibration_of(s.id, index).bounds(p, scale)
            bad = sum(int(np.size(b) - np.isfinite(b).sum()) for b in bounds.values())
            if bad:  # a quantile times the local scale overflows: no interval is better than inf
                raise TrainingError(f"{self.model}'s intervals have {bad} non-finite bound(s) for "
                                    f"series {s.id!r} of {label(panel.source)}: its calibration "
                                    "times the series' scale overflows. Rescale the data and refit.")
            out.append(bounds)
        return out

    def _calibration_of(self, sid: str, index: dict[str, int]) -> intervals.Calibration:
        """A training series' own calibration; a series not seen in training gets their median."""
        if sid in index:
            return self.calibration_[index[sid]]
        return intervals.median_calibration(self.calibration_)

    def predict(self, panel: Panel, future=None) -> pd.DataFrame:
        """Forecast ``horizon_`` steps past the end of each series, with interval columns.

        A global model (baseline or neural) also forecasts series not seen in training
        (see :meth:`unseen`).

        Args:
            panel: The data, with the schema the model was fit on.
            future: For a model fit with future covariates: a DataFrame (or a file path)
                with the time column, the id column of a panel and those covariates, holding
                their values for the ``horizon_`` steps after each series' end.

        Returns:
            Columns ``id``, ``timestamp``, ``forecast``, ``lower_L``, ``upper_L``.

        Raises:
            DataError: ``future`` is needed and missing, or lacks a column, series or step.
        """
        self._check_compatible(panel)
        ends = [np.array([len(s.values)]) for s in panel.series]
        preds = self.forecast_at(panel, ends, self._future(panel, future))
        blocks = [{"forecast": pred[0], **{k: v[0] for k, v in bounds.items()}}
                  for pred, bounds in zip(preds, self.bounds_at(panel, ends, preds))]
        times = [panel.future_time(i, self.horizon_) for i in range(len(panel.series))]
        return panels.frame(panel.ids, times, blocks)

    def unseen(self, panel: Panel) -> list[str]:
        """The ids of ``panel`` that were not in the training data, in panel order.

        Baselines and neural models are global: they forecast such a series from its own
        history, a neural model scaling it with statistics of its rows before its first
        forecast origin (never of the values it forecasts).

        Raises:
            DataError: The model is fit per series, so it has no fit for such an id.
        """
        index = self._index()
        new = [sid for sid in panel.ids if sid not in index]
        if new and models.REGISTRY[self.model].kind not in GLOBAL_KINDS:
            raise DataError(f"Series '{new[0]}' in {panel.source} was not in the training data, and "
                            f"{self.model} is fit per series: it has no fit for '{new[0]}'. Refit "
                            "with that series in the data, or leave it out.")
        return new

    # --------------------------------------------------- calibrate / score
    def _future(self, panel: Panel, future) -> list[np.ndarray] | None:
        """The future covariates of each series over the horizon, from ``future`` (see predict)."""
        names = list(self.schema_.get("future_covariates") or [])
        return covariates.future_for(panel, future, names, self.horizon_,
                                     needed=bool(names) and self.model_ is not None)

    def _calibrate(self, panel: Panel) -> list[intervals.Calibration] | None:
        """One calibration per series from rolling-origin residuals (see :mod:`forecaster.intervals`).

        None without validation rows: there would be no out-of-sample residual to check the
        in-sample ones against.
        """
        self.interval_scales_ = None
        if self.val_size_ == 0:
            return None
        firsts = [1] * len(panel.series)
        for i in self._neural_rows(panel) if self.model_ is not None else []:
            firsts[i] = self.lookback_
        origins = [intervals.calibration_origins(max(first, sp.train[0] + 1), sp.val[1], self.horizon_)
                   for sp, first in zip(self.splits_, firsts)]
        self.interval_scales_ = [_interval_scale(s.values[:sp.train[1], 0], self.season_)
                                 for s, sp in zip(panel.series, self.splits_)]
        preds = self._forecast_for_calibration(panel, origins)
        out = []
        for i, (s, sp, o, p) in enumerate(zip(panel.series, self.splits_, origins, preds)):
            steps = o[:, None] + np.arange(self.horizon_)  # (n_origins, horizon) row numbers
            seen = steps < sp.val[1]
            actual = s.values[np.minimum(steps, len(s.values) - 1), 0]
            scale = self._scales(s, o, self.interval_scales_[i])[:, None]  # (n_origins, 1)
            out.append(intervals.calibrate(
                np.where(seen, (actual - p) / scale, np.nan), levels=self.levels_,
                weights=intervals.recency_weights(o, sp.val[1], self.horizon_),
                recent=seen & (o[:, None] >= sp.val[0]), history=steps < sp.train[1]))
        return out

    def _forecast_for_calibration(self, panel: Panel, origins: list[np.ndarray]) -> list[np.ndarray]:
        """:meth:`forecast_at`, allowing origins inside the training rows (NaN where impossible)."""
        if self.fits_ is None:
            return self.forecast_at(panel, origins)
        return _local.forecast_at(self.fits_, self.first_times_, self._index(), panel, origins,
                                  self.horizon_, calibration=True)

    def _scales(self, series, origins: np.ndarray, fallback: float) -> np.ndarray:
        """The local scale of ``series`` at each origin (see :func:`intervals.local_scale`)."""
        return intervals.local_scale(series.values[:, 0], origins, season=self.season_,
                                     window=max(self.lookback_, self.season_ + 1),
                                     fallback=fallback)

    def _own(self, series, origins: np.ndarray, index: dict[str, int]):
        """The scaler (None for a baseline) and fallback interval scale of ``series``.

        A training series has those fit at training; a series not seen in training gets
        them fit on its own rows before its first origin.
        """
        i = index.get(series.id)
        if i is not None:
            return (self.scalers_[i] if self.scalers_ else None,
                    self.interval_scales_[i] if self.interval_scales_ else None)
        rows = series.values[:int(np.min(origins))] if len(origins) else series.values
        scaler = scaling.fit(self.scaler, rows) if self.model_ is not None else None
        return scaler, _interval_scale(rows[:, 0], self.season_)

    def _score_test(self, panel: Panel):
        if self.test_size_ == 0:
            return {}, [], None
        origins = [np.arange(sp.test[0], sp.test[1], self.horizon_) for sp in self.splits_]
        preds = self.forecast_at(panel, origins)  # also warms up the model's first call
        start = time.perf_counter()
        self.forecast_at(panel, origins)
        n_windows = sum(len(o) for o in origins)
        self.predict_ms_ = 1000 * (time.perf_counter() - start) / max(n_windows, 1)
        rows, blocks = [], []
        for i, (s, sp, p) in enumerate(zip(panel.series, self.splits_, preds)):
            f = p.reshape(-1)[: sp.test[1] - sp.test[0]]
            y = s.values[sp.test[0]:sp.test[1], 0]
            rows.append(metrics.score(y, f, insample=s.values[:sp.test[0], 0], season=self.season_))
            block = {"step": np.arange(len(f)) % self.horizon_ + 1, "y": y, "forecast": f}
            scales = self._scales(s, origins[i], self.interval_scales_[i]) if self.calibration_ else []
            bounds = [self.calibration_[i].bounds(row, scale) for row, scale in zip(p, scales)]
            for key in (bounds[0] if bounds else {}):
                block[key] = np.concatenate([b[key] for b in bounds])[: len(f)]
            blocks.append(block)
        times = [s.time[sp.test[0]:sp.test[1]] for s, sp in zip(panel.series, self.splits_)]
        return metrics.panel_mean(rows), rows, panels.frame(panel.ids, times, blocks)

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
            "interval_scales": self.interval_scales_, "calendar": list(self.calendar_),
            "fallback": list(self.fallback_), "notices": list(self.notices_), "seed": self.seed_,
            "source_path": self.source_path_, "source_sha256": self.source_sha256_,
            "data": stored.to_state(self.data_) if self.data_ is not None else None,
            "first_timestamps": list(self.first_times_), "specs": self.specs_,
            "fits": None if self.fits_ is None else [f.to_state() for f in self.fits_],
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
        f.calendar_ = tuple(state.get("calendar", ()))  # runs saved before these keys: none
        f.fallback_, f.notices_ = list(state.get("fallback", [])), list(state.get("notices", []))
        f.seed_, f.source_path_ = state.get("seed"), state.get("source_path")
        f.source_sha256_ = state.get("source_sha256")
        data = state.get("data")
        f.data_ = stored.from_state(data, f.schema_, "the data stored with the run", f.ids_) if data else None
        fits = state.get("fits")  # runs saved before statistical models have neither key
        f.fits_ = None if fits is None else [statistical.Fitted.from_state(d) for d in fits]
        f.first_times_ = state.get("first_timestamps") or [None] * len(f.ids_)
        f.model_ = model
        return f

    def save(self, path) -> None:
        """Write the run directory atomically (see :mod:`forecaster.artifacts`).

        The tail of each series (``data_``) goes to ``data.json``, so ``predict`` needs no file.
        """
        from forecaster import artifacts

        self._check_fitted()
        if self.source_sha256_ is None and self.source_path_:
            self.source_sha256_ = artifacts.file_sha256(self.source_path_)
        params = {**self.get_params(), "levels": list(self.levels), "progress": False}
        state = self.get_state()
        data = state.pop("data")
        artifacts.save(path, {"params": params, "state": state}, self.model_, data)

    @classmethod
    def load(cls, path) -> Forecaster:
        """Load a saved run directory without executing any code from it; every value is checked first.

        A median combination saved by ``compare --save-best`` is a folder of such runs: load
        it with :meth:`forecaster.ensemble.MedianRun.load`.

        Raises:
            ArtifactError: The directory is not a complete, consistent, valid run.
        """
        from forecaster import artifacts, ensemble, runschema

        if ensemble.is_median_run(path):
            raise ArtifactError(f"{path} holds a median of runs ({', '.join(ensemble.members_of(path))}); "
                                "load it with forecaster.ensemble.MedianRun.load, or each member "
                                f"from {path}/<model>.")
        run = artifacts.read(path)
        params, state = runschema.check(run.manifest, has_model=run.model is not None,
                                        where=f"{path}/{artifacts.MANIFEST}")
        try:
            params = {**params, "levels": tuple(params["levels"])}
            cls(**{**params, "backend": None}).check_params()  # the backend is checked by the state
            model = None
            if run.model is not None:
                models.module(params["model"])  # registers its custom layers (the Jordan cell)
                from forecaster import _members  # noqa: F401  registers the seed median's layer
                model = artifacts.load_model(run.model, f"{path}/{artifacts.MODEL_FILE}")
                runschema.check_model(model, state, path)
            return cls.from_state(params, {**state, "data": run.data}, model)
        except (KeyError, TypeError, ValueError, AttributeError, ConfigError) as exc:
            raise ArtifactError(f"{path} holds an incomplete or invalid run ({type(exc).__name__}: "
                                f"{str(exc)[:200]}); refit the model.") from None

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
        for key in ("target", "covariates", "future_covariates", "freq"):
            now, then = schema.get(key), self.schema_.get(key)
            if key.endswith("covariates"):
                now, then = list(now or []), list(then or [])  # runs saved before: no key
            if now != then:
                raise DataError(f"{panel.source} does not match the model: {key} is "
                                f"{now!r}, the model was fit with {then!r}.")
        self.unseen(panel)
        keep = self._neural_rows(panel) if self.model_ is not None else []
        if keep:
            check_length(panels.rows(panel, keep), self.lookback_, reason=f"lookback {self.lookback_}")


def _check_finite(model: str, panel: Panel, preds: list[np.ndarray]) -> list[np.ndarray]:
    """``preds``, unless one is NaN or infinite: a TrainingError naming the series."""
    for series, pred in zip(panel.series, preds):
        if not np.isfinite(pred).all():
            bad = int(np.size(pred) - np.isfinite(pred).sum())
            raise TrainingError(f"{model} forecast {bad} non-finite value(s) (NaN or infinity) for series "
                                f"{series.id!r} of {label(panel.source)}; training diverged or the data's "
                                "scale overflows the model's arithmetic. Rescale the data, lower "
                                "--learning-rate, or use another model.")
    return preds


def _length_reason(f: Forecaster, neural: bool) -> str:
    head = f"lookback {f.lookback_} + horizon {f.horizon_}" if neural else "1 training row"
    return (f"{head} + validation {f.val_size_} + gap {f.gap} + test {f.test_size_}")


def _interval_scale(train: np.ndarray, season: int) -> float:
    """A series' fallback interval unit: MASE's in-sample scale, else std, else 1."""
    scale = metrics.mase_scale(train, season)
    if not np.isfinite(scale) or scale == 0:
        scale = float(np.std(train)) if len(train) else 1.0
    return scale if scale > 0 else 1.0
