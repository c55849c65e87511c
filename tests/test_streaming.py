"""Windows stream a batch at a time: same numbers as the stacked arrays, memory of the data only;
panels of any size: a series too short for the windows is forecast with seasonal naive."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from forecaster import Forecaster, from_frame, memory, scaling, windows
from forecaster.errors import ConfigError, DataError
from forecaster.windows import WindowSet, positions

TINY = dict(epochs=2, batch_size=16, patience=2, seed=0)


def _stacked(values, ranges, *, lookback, horizon, stride, norm, season, sequence):
    """The training set as it was built before streaming: stacked views, then normalised copies."""
    parts = [windows.windows(v, lookback=lookback, horizon=horizon, stride=stride, targets=r)
             for v, r in zip(values, ranges)]
    x, y, _ = windows.stack(parts)
    if sequence:
        y = np.concatenate([windows.sequence_targets(v[:, 0], lookback=lookback, horizon=horizon,
                                                     stride=stride, targets=r)
                            for v, r in zip(values, ranges)]).astype(np.float32)
    inputs, targets = scaling.window_offsets(x, norm=norm, horizon=horizon, season=season)
    if sequence:
        targets = scaling.sequence_offsets(x, norm=norm, horizon=horizon, season=season)
    x = np.array(x, dtype=np.float32)
    x[:, :, 0] -= inputs
    return x, y - targets


@pytest.mark.parametrize("sequence", [False, True])
@pytest.mark.parametrize("norm", ["series", "window", "season"])
def test_streamed_batches_equal_the_stacked_windows(norm, sequence):
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(n, 2)) for n in (40, 23, 31)]
    ranges = [(0, 30), (5, 23), (10, 31)]
    shape = dict(lookback=6, horizon=3, stride=2)
    x_old, y_old = _stacked(values, ranges, **shape, norm=norm, season=4, sequence=sequence)
    data = np.concatenate(values).astype(np.float32)
    starts = np.cumsum([0, 40, 23])
    ws = WindowSet(data, positions(starts, [40, 23, 31], ranges, **shape), 6, 3)
    index = np.arange(len(ws))
    x = ws.inputs(index)
    y = ws.sequence_targets(index) if sequence else ws.targets(index)
    y = y - scaling.normalize_batch(x, norm=norm, horizon=3, season=4, sequence=sequence)
    np.testing.assert_array_equal(x, x_old)
    np.testing.assert_array_equal(y, y_old)


def test_the_same_batch_order_trains_the_same_weights_as_stacked_arrays():
    """Streaming changes only where batches come from: fed in the same order, Keras sees the same numbers."""
    import keras

    from forecaster import models, training
    from forecaster._stream import Batches

    rng = np.random.default_rng(1)
    x = rng.normal(size=(70, 8, 1)).astype("float32")
    y = rng.normal(size=(70, 2)).astype("float32")
    settings = training.TrainSettings.from_params(dict(epochs=2, patience=0))

    def model():
        training.seed_everything(0)
        m = models.module("mlp").build(models.make_config("mlp", {"units": 4}), lookback=8,
                                       n_features=1, horizon=2)
        training.compile_model(m, settings)
        return m

    arrays = model().fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history["loss"]
    streamed = training.train(model(), Batches.from_arrays(x, y, 16), settings)["loss"]
    np.testing.assert_allclose(streamed, arrays, rtol=1e-6)
    keras.backend.clear_session()


def test_each_epoch_draws_a_new_order_from_the_seed():
    from forecaster._stream import Batches

    def orders(seed):
        b = Batches(50, lambda i: (i, i), batch_size=50, seed=seed)
        out = []
        for _ in range(3):
            out.append(b[0][1].tolist())
            b.on_epoch_end()
        return out

    a = orders(7)
    assert a == orders(7) and a != orders(8)
    assert a[0] != a[1] and sorted(a[0]) == sorted(a[1]) == list(range(50))
    in_order = Batches(5, lambda i: (i, i), batch_size=2)
    in_order.on_epoch_end()
    assert [in_order[k][1].tolist() for k in range(3)] == [[0, 1], [2, 3], [4]]


def test_a_long_series_trains_one_epoch_without_materialising_its_windows(monkeypatch):
    """2 million points, lookback 512: stacking the windows would take 488 MiB; the whole fit peaks 10x lower."""
    n, lookback, horizon, stride = 2_000_000, 512, 8, 8
    rng = np.random.default_rng(0)
    y = np.sin(np.arange(n) * 2 * np.pi / 24) + 0.1 * rng.normal(size=n)
    panel = from_frame(pd.DataFrame({"ds": np.arange(n), "y": y}))

    def refuse(*args, **kwargs):
        raise AssertionError("windows were stacked")

    monkeypatch.setattr(windows, "stack", refuse)
    f = Forecaster("mlp", params={"units": 2, "layers": 1}, lookback=lookback, horizon=horizon,
                   stride=stride, norm="window", epochs=1, batch_size=2048, patience=0, seed=0)
    tracemalloc.start()
    try:
        f.fit(panel)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    n_windows = len(windows.origins(n - 2 * horizon, lookback=lookback, horizon=horizon, stride=stride))
    assert f.n_windows_ == n_windows > 240_000 and f.history_["epochs_run"] == 1
    stacked = n_windows * lookback * 4  # bytes of the float32 input windows alone
    assert stacked > 2**28 and peak < stacked / 8, (peak, stacked)  # peak: the statistics of the series
    assert np.isfinite(f.metrics_["mae"])


def test_the_setup_line_is_printed_only_with_progress(monthly_csv, capsys):
    from forecaster import read_csv

    panel = read_csv(monthly_csv)
    Forecaster("mlp", params={"units": 3}, **{**TINY, "epochs": 1}).fit(panel)
    assert capsys.readouterr().err == ""
    Forecaster("mlp", params={"units": 3}, progress=True, **{**TINY, "epochs": 1}).fit(panel)
    err = capsys.readouterr().err
    assert "Windows: 37 training, 1 validation; lookback 24, horizon 12, stride 1, batch 16; about" in err
    assert "of memory (series " in err


def test_a_configuration_too_big_for_memory_is_refused_before_training(monthly_csv, monkeypatch):
    from forecaster import read_csv

    monkeypatch.setattr(memory, "available_bytes", lambda: 4096)
    f = Forecaster("gru", params={"units": 8, "head": "sequence"}, **TINY)
    with pytest.raises(ConfigError) as info:
        f.fit(read_csv(monthly_csv))
    message = str(info.value)
    assert message.startswith("Training needs about ") and "\n" not in message
    assert "but 4.0 KiB is available; lower --batch-size (16)" in message
    assert "--param head=last" in message and not hasattr(f, "model_")


# --- panels of any size --------------------------------------------------------------


def _panel_with_a_short_series(short: int = 20) -> pd.DataFrame:
    t = np.arange(120)
    frames = [pd.DataFrame({"id": sid, "ds": pd.date_range("2020-01-01", periods=n, freq="h"),
                            "y": level + 5 * np.sin(2 * np.pi * t[:n] / 6) + t[:n] * 0.1})
              for sid, n, level in (("a", 120, 10.0), ("b", short, 50.0), ("c", 100, 90.0))]
    return pd.concat(frames)


def test_a_series_too_short_for_the_windows_is_forecast_with_seasonal_naive(tmp_path):
    panel = from_frame(_panel_with_a_short_series(), id_col="id", season=6)
    f = Forecaster("mlp", params={"units": 3}, horizon=6, lookback=12, **TINY).fit(panel)
    assert f.fallback_ == ["b"] and f.ids_ == ["a", "b", "c"] and len(f.scalers_) == 3
    assert f.notices_ == ["Series 'b' of <frame> has 20 points, fewer than the 30 a neural model "
                          "needs (lookback 12 + horizon 6 + validation 6 + gap 0 + test 6): it is "
                          "left out of training and forecast with seasonal_naive."]
    naive = Forecaster("seasonal_naive", horizon=6).fit(panel)
    pred, reference = f.predict(panel), naive.predict(panel)
    b = pred["id"] == "b"
    np.testing.assert_allclose(pred.loc[b, "forecast"], reference.loc[b, "forecast"])
    assert not np.allclose(pred.loc[~b, "forecast"], reference.loc[~b, "forecast"])
    assert f.series_metrics_[1] == naive.series_metrics_[1]  # scored as seasonal naive
    f.save(tmp_path / "run")
    state = json.loads((tmp_path / "run" / "manifest.json").read_text())["state"]
    assert state["fallback"] == ["b"] and state["notices"] == f.notices_
    pd.testing.assert_frame_equal(Forecaster.load(tmp_path / "run").predict(panel), pred)


def test_when_no_series_is_long_enough_the_error_is_the_usual_one():
    panel = from_frame(_panel_with_a_short_series(), id_col="id", season=6)
    with pytest.raises(DataError, match=r"Series 'b' .* has 20 points, fewer than the 150 needed"):
        Forecaster("mlp", horizon=6, lookback=132, **TINY).fit(panel)
    with pytest.raises(DataError, match="fewer than the 21 needed"):  # not even the test part fits
        Forecaster("mlp", horizon=6, lookback=12, val_size=14, **TINY).fit(panel)


def test_the_cli_warns_about_the_series_left_out(tmp_path):
    from typer.testing import CliRunner

    from forecaster.cli import app

    path = tmp_path / "panel.csv"
    _panel_with_a_short_series().to_csv(path, index=False)
    args = ["--id-col", "id", "--season", "6", "--horizon", "6", "--lookback", "12",
            "--param", "units=3", "--epochs", "1"]
    result = CliRunner().invoke(app, ["fit", str(path), "--model", "mlp", "--out",
                                      str(tmp_path / "run"), *args])
    assert result.exit_code == 0, result.output
    assert f"Warning: Series 'b' of {path.name} has 20 points" in result.stderr
    result = CliRunner().invoke(app, ["compare", str(path), "--models", "mlp", *args])
    assert result.exit_code == 0 and "Warning: Series 'b'" in result.stderr
    assert "Traceback" not in result.output


def test_integer_steps_are_read_as_a_range_and_rows_in_order_in_place():
    """No memory per row for the index, no sort of rows already in order, the caller's frame untouched."""
    frame = pd.DataFrame({" ds ": np.arange(5, 1005), "y": np.arange(1000.0)})
    panel = from_frame(frame)
    s = panel.series[0]
    assert isinstance(s.time, pd.RangeIndex) and s.time.equals(pd.Index(np.arange(5, 1005)))
    assert s.values.dtype == np.float64 and s.values.flags.c_contiguous and s.values.shape == (1000, 1)
    assert list(frame.columns) == [" ds ", "y"]
    filled = from_frame(frame.drop(index=[3, 4]), fill="interpolate").series[0]
    assert isinstance(filled.time, pd.RangeIndex) and len(filled.time) == 1000
    assert from_frame(frame.iloc[::-1]) == panel
    dated = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=5, freq="h"), "y": np.arange(5.0)})
    read = from_frame(dated).series[0]
    dated.loc[0, "date"], dated.loc[0, "y"] = pd.Timestamp("1999-01-01"), 9.0  # the panel holds its own copy
    assert read.time[0] == pd.Timestamp("2020-01-01") and read.values[0, 0] == 0.0


def test_window_indices_are_int32_and_each_epoch_order_is_the_seeds_permutation():
    """4 bytes per window below 2**31 rows; the order is rng.permutation's, so a seed gives the batches it gave."""
    from forecaster._stream import Batches

    pos = positions([0, 100], [100, 50], [(0, 100), (0, 50)], lookback=10, horizon=5)
    assert pos.dtype == np.int32 and pos.tolist() == [*range(10, 96), *range(110, 146)]
    assert windows.index_dtype(2**31) is np.int64
    batches, rng = Batches(1000, lambda i: (i, i), batch_size=1000, seed=3), np.random.default_rng(3)
    assert batches.order.dtype == np.int32 and np.array_equal(batches.order, rng.permutation(1000))
    batches.on_epoch_end()
    assert np.array_equal(batches.order, rng.permutation(1000))


def test_forecasts_lay_out_only_the_rows_their_windows_read(monkeypatch):
    from forecaster import _neural

    n, seen, layout = 3000, [], _neural.layout
    panel = from_frame(pd.DataFrame({"ds": np.arange(n), "y": np.sin(np.arange(n) / 3.0)}))
    f = Forecaster("mlp", lookback=24, horizon=6, params={"units": 2, "layers": 1}, **TINY).fit(panel)
    monkeypatch.setattr(_neural, "layout", lambda p, *a, **k: seen.append(p.lengths) or layout(p, *a, **k))
    near = f.forecast_at(panel, [np.array([n - 100, n - 6])])[0][1]
    assert seen == [(100 + 24,)]  # from 24 rows before the first origin, not the whole series
    np.testing.assert_allclose(f.forecast_at(panel, [np.array([n - 6])])[0][0], near, rtol=1e-5)  # batch of 1
