"""Forecaster: the one stateful class (fit / predict / save / load), like a scikit-learn estimator.

``__init__`` only stores its arguments. :meth:`Forecaster.fit` splits every series in
time order (train, validation, test at the end), fits scalers on training rows only,
trains one global model on the windows of all series (or nothing, for a baseline),
calibrates conformal intervals on the validation part and scores the held-out test
part. Fitted state lives in trailing-underscore attributes.

>>> import numpy as np, pandas as pd
>>> from forecaster.data import from_frame
>>> df = pd.DataFrame({"date": pd.date_range("2020-01", periods=48, freq="MS"),
...                    "y": np.tile(np.arange(12.0), 4)})
>>> f = Forecaster("seasonal_naive").fit(from_frame(df))
>>> f.horizon_, round(f.metrics_["mae"], 6)
(12, 0.0)
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from forecaster import backend, baselines, intervals, metrics, scaling, splits
from forecaster.data import Panel, check_length
from forecaster.errors import ConfigError, DataError, ForecasterError
from forecaster.models import check_name, is_neural


class Forecaster:
    """Fit one model (baseline or neural) to a panel of series and forecast past its end.

    Args:
        model: A registered model name (see ``forecaster models``).
        params: Model hyperparameters (fields of the model's ``Config``).
        lookback: Input window length (default ``2 * horizon``).
        horizon: Steps forecast at once (default: the seasonal period, at least 1).
        stride: Rows between training windows.
        val_size: Validation rows before the test part (default: ``horizon``); used for
            early stopping and interval calibration, never for fitting weights or scalers.
        gap: Rows between validation and test that nothing is fit on.
        max_train_size: Keep only this many most recent training rows.
        scaler: ``standard``, ``minmax`` or ``none``, fit per series on training rows.
        norm: ``series`` (scaler only) or ``window`` (each window relative to its last value).
        levels: Prediction-interval levels in percent.
        epochs, batch_size, learning_rate, loss, patience, clipnorm: Training settings
            (``patience=0`` trains every epoch and keeps the last weights).
        lr_patience: Halve the learning rate after this many epochs without a better
            validation loss, down to a thousandth of it (0: a constant rate).
        seed: Seed for weights, shuffling and dropout: same data + flags + seed = same metrics.
        backend: Keras backend (``tensorflow`` or ``jax``).
        progress: Draw a progress bar on stderr while training.
    """

    def __init__(self, model: str = "seasonal_naive", *, params: dict | None = None,
                 lookback: int | None = None, horizon: int | None = None, stride: int = 1,
                 val_size: int | None = None, gap: int = 0, max_train_size: int | None = None,
                 scaler: str = "standard", norm: str = "season",
                 levels: tuple[int, ...] = intervals.DEFAULT_LEVELS, epochs: int = 100,
                 batch_size: int = 32, learning_rate: float = 1e-3, loss: str = "mse",
                 patience: int = 10, clipnorm: float | None = 1.0, seed: int = 0,
                 lr_patience: int = 0, backend: str | None = None,
                 progress: bool = False) -> None:
        self.model = model
        self.params = params
        self.lookback = lookback
        self.horizon = horizon
        self.stride = stride
        self.val_size = val_size
        self.gap = gap
        self.max_train_size = max_train_size
        self.scaler = scaler
        self.norm = norm
        self.levels = levels
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.loss = loss
        self.patience = patience
        self.clipnorm = clipnorm
        self.seed = seed
        self.lr_patience = lr_patience
        self.backend = backend
        self.progress = progress

    # ----------------------------------------------------------------- fit
    def fit(self, panel: Panel, *, test_size: int | None = None) -> Forecaster:
        """Split, scale, train, calibrate and score on the held-out end of each series.

        Args:
            panel: The data (see :func:`forecaster.data.read_csv`).
            test_size: Rows held out at the end of each series and scored (default:
                ``horizon``, as in M4; 0 to fit on everything).

        Returns:
            ``self``, with ``splits_``, ``scalers_``, ``model_``, ``n_params_``,
            ``history_``, ``calibration_``, ``metrics_`` and ``test_forecasts_`` set.
        """
        self._resolve(panel, test_size)
        start = time.perf_counter()
        if is_neural(self.model):
            from forecaster import _neural

            _neural.fit(self, panel)
        else:
            self.config_, self.scalers_, self.model_, self.n_params_ = {}, [], None, 0
            self.history_ = {"loss": [], "val_loss": [], "epochs_run": 0, "best_epoch": 0}
        self.fit_seconds_ = time.perf_counter() - start
        self.calibration_ = self._calibrate(panel)
        self.metrics_, self.series_metrics_, self.test_forecasts_ = self._score_test(panel)
        self.schema_ = panel.schema()
        self.source_ = panel.source
        self.last_times_ = [str(s.time[-1]) for s in panel.series]
        return self

    def _resolve(self, panel: Panel, test_size: int | None) -> None:
        check_name(self.model)
        scaling.check_kind(self.scaler)
        backend.check(self.backend)
        if self.norm not in scaling.NORMS:
            raise ConfigError(f"Unknown --norm '{self.norm}'. Use one of: {', '.join(scaling.NORMS)}.")
        self.levels_ = intervals.check_levels(self.levels)
        self.season_ = panel.season
        self.horizon_ = _positive("horizon", max(panel.season, 1) if self.horizon is None
                                  else self.horizon)
        self.lookback_ = _positive("lookback", 2 * self.horizon_ if self.lookback is None
                                   else self.lookback)
        _positive("stride", self.stride)
        self.val_size_ = self.horizon_ if self.val_size is None else self.val_size
        self.test_size_ = self.horizon_ if test_size is None else test_size
        neural = is_neural(self.model)
        first = self.lookback_ + self.horizon_ if neural else 1
        need = first + self.val_size_ + self.gap + self.test_size_
        check_length(panel, need, reason=_length_reason(self, first, neural))
        self.ids_ = list(panel.ids)
        self.splits_ = [splits.holdout(n, test_size=self.test_size_, val_size=self.val_size_,
                                       gap=self.gap, max_train_size=self.max_train_size)
                        for n in panel.lengths]

    # ------------------------------------------------------------ forecast
    def forecast_at(self, panel: Panel, origins: list[np.ndarray]) -> list[np.ndarray]:
        """Forecasts ``(len(origins[i]), horizon)`` per series, each seeing only rows before its origin."""
        self._check_fitted()
        if self.model_ is None:
            return [np.stack([baselines.forecast(self.model, s.values[:t, 0], horizon=self.horizon_,
                                                 season=self.season_) for t in o])
                    if len(o) else np.empty((0, self.horizon_))
                    for s, o in zip(panel.series, origins)]
        from forecaster import _neural

        return _neural.forecast_at(self, panel, origins)

    def predict(self, panel: Panel) -> pd.DataFrame:
        """Forecast ``horizon_`` steps past the end of each series, with interval columns.

        Returns:
            Columns ``id``, ``timestamp``, ``forecast``, ``lower_L``, ``upper_L``.
        """
        self._check_compatible(panel)
        ends = [np.array([len(s.values)]) for s in panel.series]
        preds = self.forecast_at(panel, ends)
        frames = []
        for i, (series, pred) in enumerate(zip(panel.series, preds)):
            block = {"id": series.id, "timestamp": panel.future_time(i, self.horizon_),
                     "forecast": pred[0]}
            if self.calibration_ is not None:
                scale = self._scales(series, self._series_index(series.id), ends[i])[0]
                block.update(self.calibration_.bounds(pred[0], scale))
            frames.append(pd.DataFrame(block))
        return pd.concat(frames, ignore_index=True)

    # --------------------------------------------------- calibrate / score
    def _calibrate(self, panel: Panel) -> intervals.Calibration | None:
        first = self.lookback_ if self.model_ is not None else 1
        origins = [np.arange(max(sp.val[0], first), sp.val[1]) for sp in self.splits_]
        if sum(len(o) for o in origins) == 0:
            return None
        self.interval_scales_ = [_interval_scale(s.values[:sp.train[1], 0], self.season_)
                                 for s, sp in zip(panel.series, self.splits_)]
        preds = self.forecast_at(panel, origins)
        rows = []
        for i, (s, sp, o, p) in enumerate(zip(panel.series, self.splits_, origins, preds)):
            steps = o[:, None] + np.arange(self.horizon_)  # (n_origins, horizon) row numbers
            seen = steps < sp.val[1]
            actual = s.values[np.minimum(steps, len(s.values) - 1), 0]
            scale = self._scales(s, i, o)[:, None]  # (n_origins, 1)
            rows.append(np.where(seen, (actual - p) / scale, np.nan))
        return intervals.calibrate(np.concatenate(rows), levels=self.levels_)

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
            bounds = [self.calibration_.bounds(row, scale) for row, scale in zip(p, scales)]
            for key in (bounds[0] if bounds else {}):
                block[key] = np.concatenate([b[key] for b in bounds])[: len(f)]
            frames.append(pd.DataFrame(block))
        return metrics.panel_mean(rows), rows, pd.concat(frames, ignore_index=True)

    # ------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "splits_"):
            raise ForecasterError("This Forecaster is not fitted yet; call fit(panel) first.")

    def _series_index(self, series_id: str) -> int:
        return self.ids_.index(series_id)

    def _check_compatible(self, panel: Panel) -> None:
        self._check_fitted()
        schema = panel.schema()
        for key in ("target", "covariates", "freq"):
            if schema.get(key) != self.schema_.get(key):
                raise DataError(f"{panel.source} does not match the model: {key} is "
                                f"{schema.get(key)!r}, the model was fit with {self.schema_.get(key)!r}.")
        unknown = [i for i in panel.ids if i not in self.ids_]
        if unknown:
            raise DataError(f"Series '{unknown[0]}' in {panel.source} was not in the training data; "
                            f"known ids: {', '.join(self.ids_[:5])}{'...' if len(self.ids_) > 5 else ''}.")
        if self.model_ is not None:
            check_length(panel, self.lookback_, reason=f"lookback {self.lookback_}")

    def save(self, path) -> None:
        """Write the artifact directory atomically (see :mod:`forecaster.artifacts`)."""
        from forecaster import artifacts

        self._check_fitted()
        artifacts.save(self, path)

    @classmethod
    def load(cls, path) -> Forecaster:
        """Load a saved run directory without executing any code from it."""
        from forecaster import artifacts

        return artifacts.load(path)


def _positive(name: str, value: int) -> int:
    if value < 1:
        raise ConfigError(f"--{name} must be >= 1, got {value}.")
    return int(value)


def _length_reason(f: Forecaster, first: int, neural: bool) -> str:
    head = f"lookback {f.lookback_} + horizon {f.horizon_}" if neural else "1 training row"
    return (f"{head} + validation {f.val_size_} + gap {f.gap} + test {f.test_size_}")


def _interval_scale(train: np.ndarray, season: int) -> float:
    """A series' fallback interval unit: MASE's in-sample scale, else std, else 1."""
    scale = metrics.mase_scale(train, season)
    if not np.isfinite(scale) or scale == 0:
        scale = float(np.std(train)) if len(train) else 1.0
    return scale if scale > 0 else 1.0
