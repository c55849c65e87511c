"""The neural half of :class:`~forecaster.forecaster.Forecaster`: windows in, Keras model out.

Kept apart so that ``forecaster.forecaster`` (and with it baselines) never imports Keras.
One global model is trained on the windows of every series, each series scaled with
the statistics of its own training rows. Windows are never materialised: every series is
laid out once in one float32 array (:class:`Layout`), a window is the row of its origin
(:class:`~forecaster.windows.WindowSet`), and training and forecasting gather and
normalise one batch at a time, so memory holds the data plus a few batches.

Inputs known in advance (calendar features, future covariates) extend every window by
``horizon`` rows past its origin in which only those columns are filled: the model sees
``lookback + horizon`` rows, the targets and per-window offsets come from the observed
``lookback`` rows only.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace

import numpy as np

from forecaster import covariates, memory, models, scaling, training
from forecaster.errors import ConfigError, DataError
from forecaster.windows import WindowSet, positions

CHUNK = 4096  # windows per forecasting call
ROWS = 1 << 16  # rows scaled at a time: the float64 temporaries stay small for any length


@dataclass(frozen=True)
class Windowing:
    """How windows are cut and normalised: the resolved window settings of a Forecaster.

    ``calendar`` names the calendar features; ``n_known`` is the number of future
    covariates, the last columns of the panel's values.
    """

    lookback: int
    horizon: int
    stride: int
    norm: str
    season: int
    calendar: tuple[str, ...] = ()
    n_known: int = 0

    @property
    def ahead(self) -> int:
        """Rows of known inputs past each origin: the horizon when there are such inputs."""
        return self.horizon if self.calendar or self.n_known else 0

    def model_shape(self, n_features: int) -> dict:
        """The network's shape for a panel of ``n_features`` columns: ``lookback + ahead`` input
        steps of the panel's columns, two (sine, cosine) per calendar feature and, with inputs
        known ahead, the past-the-origin marker (:attr:`forecaster.windows.WindowSet.n_inputs`).

        >>> Windowing(24, 12, 1, "season", 12, ("month",)).model_shape(1)
        {'lookback': 36, 'n_features': 4, 'horizon': 12}
        """
        marker = 1 if self.ahead else 0
        return dict(lookback=self.lookback + self.ahead,
                    n_features=n_features + 2 * len(self.calendar) + marker, horizon=self.horizon)


@dataclass(frozen=True)
class Layout:
    """Every series of a panel, scaled, one after another in one float32 array.

    Series ``i`` has its ``lengths[i]`` observed rows from ``starts[i]`` on, then
    ``ahead`` rows holding only its known future inputs; calendar columns come last.
    """

    data: np.ndarray  # (rows, n_features + 2 * len(calendar)) float32
    starts: np.ndarray  # (n_series,) int64
    lengths: tuple[int, ...]
    n_observed: int

    def windows(self, ranges, w: Windowing, stride: int) -> WindowSet:
        """The windows of every series whose targets lie in its range."""
        pos = positions(self.starts, self.lengths, ranges, lookback=w.lookback,
                        horizon=w.horizon, stride=stride)
        return self.at(pos, w)

    def at(self, pos: np.ndarray, w: Windowing) -> WindowSet:
        """The windows with origins at rows ``pos`` of the layout."""
        return WindowSet(self.data, pos, w.lookback, w.horizon, w.ahead, self.n_observed)


def layout(panel, scalers: list, w: Windowing, future: list | None = None) -> Layout:
    """Scale and lay out ``panel``; ``future[i]``: series i's future covariates over ``w.ahead`` steps.

    Without ``future`` the rows past a series' end repeat its last known values (they are
    only read by forecasts whose horizon runs past the data, whose extra steps are dropped).
    """
    f, ahead, lengths = panel.n_features, w.ahead, panel.lengths
    n_observed = f - w.n_known
    rows = np.asarray(lengths, dtype=np.int64) + ahead
    starts = np.concatenate([[0], np.cumsum(rows)[:-1]]).astype(np.int64)
    data = np.zeros((int(rows.sum()), f + 2 * len(w.calendar)), dtype=np.float32)
    for i, (s, sc) in enumerate(zip(panel.series, scalers)):
        a, n = starts[i], lengths[i]
        for lo in range(0, n, ROWS):
            data[a + lo:a + min(lo + ROWS, n), :f] = sc.transform(s.values[lo:lo + ROWS])
        if w.n_known:
            known = future[i] if future is not None else np.repeat(s.values[-1:, n_observed:], ahead, 0)
            loc, scale = np.asarray(sc.loc[n_observed:]), np.asarray(sc.scale[n_observed:])
            data[a + n:a + n + ahead, n_observed:f] = (known - loc) / scale
    if w.calendar:
        stamps = [covariates.wall_clock(part) for s in panel.series
                  for part in (s.time, covariates.future_stamps(s.time, panel.freq, ahead))]
        data[:, f:] = covariates.calendar_features(np.concatenate(stamps), w.calendar)
    return Layout(data, starts, tuple(lengths), n_observed)


@dataclass(frozen=True)
class Trained:
    """What :func:`fit` returns."""

    model: object
    history: dict
    n_windows: int


def fit(panel, splits, scalers: list, w: Windowing, *, name: str, config,
        settings: training.TrainSettings, progress: bool = False) -> Trained:
    """Lay out the scaled series, stream their windows into model ``name`` and train it.

    Raises:
        DataError: There is no training window.
        ConfigError: A sequence head with inputs known ahead, or more memory than is available.
    """
    training.seed_everything(settings.seed)
    lay = layout(panel, scalers, w)
    train = lay.windows([sp.train for sp in splits], w, w.stride)
    val = lay.windows([sp.val for sp in splits], w, 1)
    if len(train) == 0:
        raise DataError(f"No training windows in {panel.source}: lower --lookback "
                        f"({w.lookback}) or --horizon ({w.horizon}), or --val-size.")
    sequence = getattr(config, "head", None) == "sequence"
    if sequence and w.ahead:
        raise ConfigError("head=sequence trains every step to forecast the horizon after it, which "
                          "inputs known ahead (--calendar, --future-covariates) do not fit; use "
                          "--param head=last or head=max, or leave out those inputs.")
    module = models.module(name)
    shape = w.model_shape(panel.n_features)
    need = _estimate(name, config, module.n_params(config, **shape), lay, train, val, w,
                     settings.batch_size, sequence)
    available = memory.available_bytes()
    need.check(available, hint=_hint(settings.batch_size, w, sequence))
    if progress:
        print(_setup_line(train, val, w, settings.batch_size, need, available), file=sys.stderr)
    model = module.build(config, **shape)
    history = training.train(model, _batches(train, w, sequence, settings.batch_size, settings.seed),
                             settings, validation=_batches(val, w, sequence, settings.batch_size),
                             progress=progress)
    return Trained(model, history, len(train))


def _batches(ws: WindowSet, w: Windowing, sequence: bool, batch_size: int, seed: int | None = None):
    """Normalised ``(x, y)`` batches of ``ws``, shuffled per epoch when ``seed`` is given."""
    from forecaster._stream import Batches

    def fetch(index):
        x = ws.inputs(index)  # (batch, lookback + ahead, n_inputs)
        y = ws.sequence_targets(index) if sequence else ws.targets(index)
        offsets = scaling.normalize_batch(x, norm=w.norm, horizon=w.horizon, season=w.season,
                                          observed=w.lookback, sequence=sequence)
        return x, y - offsets

    return Batches(len(ws), fetch, batch_size, seed=seed)


def _estimate(name, config, n_params, lay, train, val, w, batch_size, sequence) -> memory.Estimate:
    width = (getattr(config, models.REGISTRY[name].width or "", 0) or 0) * (getattr(config, "layers", 1) or 1)
    return memory.estimate(
        series_bytes=lay.data.nbytes, n_train=len(train), n_val=len(val), batch_size=batch_size,
        steps=w.lookback + w.ahead, n_inputs=train.n_inputs,
        targets=w.horizon * (w.lookback if sequence else 1), n_params=n_params,
        width=width, over_steps=hasattr(config, "head"))  # recurrent and convolutional models


def _hint(batch_size: int, w: Windowing, sequence: bool) -> str:
    hint = f"lower --batch-size ({batch_size}), --lookback ({w.lookback}) or --horizon ({w.horizon})"
    return hint + (", or use --param head=last" if sequence else "") + ", or use fewer or shorter series"


def _setup_line(train, val, w: Windowing, batch_size: int, need, available) -> str:
    ahead = f" + {w.ahead} known ahead" if w.ahead else ""
    room = f" of {memory.format_bytes(available)} available" if available is not None else ""
    return (f"Windows: {len(train):,} training, {len(val):,} validation; lookback {w.lookback}"
            f"{ahead}, horizon {w.horizon}, stride {w.stride}, batch {batch_size}; about "
            f"{memory.format_bytes(need.total)} of memory ({need.parts()}){room}.")


def forecast_at(model, scalers: list, panel, origins: list[np.ndarray], w: Windowing,
                future: list | None = None) -> list[np.ndarray]:
    """Batched forecasts from every origin of every series, mapped back to data units.

    ``scalers[i]`` is the scaler of ``panel.series[i]``; each origin lies in
    ``[lookback, len(series)]``; ``future[i]``: see :func:`layout`.
    """
    for s, o in zip(panel.series, origins):
        if len(o) and (np.min(o) < w.lookback or np.max(o) > len(s.values)):
            raise ValueError(f"origins of series {s.id!r} must lie in [{w.lookback}, {len(s.values)}]")
    firsts = [int(np.min(o)) - w.lookback if len(o) else 0 for o in origins]
    lay = layout(_from_rows(panel, firsts), scalers, w, future)
    pos = [start + np.asarray(o, dtype=np.int64) - first for start, o, first in zip(lay.starts, origins, firsts)]
    ws = lay.at(np.concatenate(pos) if pos else np.empty(0, np.int64), w)
    if len(ws) == 0:
        return [np.empty((0, w.horizon)) for _ in origins]
    out = np.concatenate([_forecast(model, ws, w, np.arange(i, min(i + CHUNK, len(ws))))
                          for i in range(0, len(ws), CHUNK)])
    result, at = [], 0
    for sc, o in zip(scalers, origins):
        result.append(sc.inverse_target(out[at:at + len(o)]))
        at += len(o)
    return result


def _from_rows(panel, firsts: list[int]):
    """``panel`` with series ``i`` from row ``firsts[i]`` on (views): all that forecasts from
    origins past ``firsts[i] + lookback`` read, whatever the series' length."""
    series = tuple(replace(s, time=s.time[a:], values=s.values[a:]) for s, a in zip(panel.series, firsts))
    return replace(panel, series=series)


def _forecast(model, ws: WindowSet, w: Windowing, index: np.ndarray) -> np.ndarray:
    """A direct (eager) model call on one chunk: no tf.function retracing per batch size."""
    import keras

    x = ws.inputs(index)  # (chunk, lookback + ahead, n_inputs)
    offsets = scaling.normalize_batch(x, norm=w.norm, horizon=w.horizon, season=w.season,
                                      observed=w.lookback)
    out = keras.ops.convert_to_numpy(model(x, training=False)).astype(float)
    if out.ndim == 3:
        out = out[:, -1, :]  # (chunk, horizon): the last step's forecast
    return out + offsets
