"""Stateful recurrent models trained with truncated BPTT (forecaster.stateful)."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecaster import Forecaster, models, read_csv, reference, stateful
from forecaster.cli import app
from forecaster.data import from_frame
from forecaster.errors import ConfigError, DataError

RECURRENT = ["simple_rnn", "jordan", "lstm", "gru"]
K, LANES, N_FEATURES, HORIZON = 4, 2, 2, 3


def numpy(tensor) -> np.ndarray:
    return keras.ops.convert_to_numpy(tensor)


def twins(name: str, **params):
    """A model's stateless forecast model and its stateful training twin (shared weights)."""
    config = models.make_config(name, {"units": 4, "stateful": True, "bptt": K, **params})
    keras.utils.set_random_seed(0)
    model = models.module(name).build(config, lookback=None, n_features=N_FEATURES,
                                      horizon=HORIZON, every_step=True)
    return config, model, stateful._training_model(model, config, LANES, K)


def chunks(n: int = 3) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(LANES, n * K, N_FEATURES)).astype("float32")


def carried(trainer) -> list[np.ndarray]:
    return [numpy(v.value) for layer in trainer.layers if hasattr(layer, "carried")
            for v in layer.carried]


@pytest.mark.parametrize("name", RECURRENT)
def test_the_state_at_a_chunk_boundary_is_that_of_one_pass_over_the_joined_chunks(name):
    _, model, trainer = twins(name, head="sequence")
    x = chunks()  # (lanes, 3 * k, n_features): three consecutive chunks per lane
    outputs = [numpy(trainer(x[:, j * K:(j + 1) * K])) for j in range(3)]  # state carried
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), numpy(model(x)),
                               rtol=1e-5, atol=1e-6)
    one_pass = keras.layers.RNN(model.layers[1].cell, return_state=True)(x)[1:]
    for ours, theirs in zip(carried(trainer), one_pass):  # (h,) or (h, c): every state tensor
        np.testing.assert_allclose(ours, numpy(theirs), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["lstm", "jordan"])
def test_training_carries_the_state_from_batch_to_batch(name):
    """Keras's own stateful=True loses the state between JAX train steps; ours must not."""
    _, model, trainer = twins(name, head="sequence", layers=2)
    trainer.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")  # weights stay put
    x = chunks()
    streams = [(x[lane].reshape(3, K, N_FEATURES), np.zeros((3, K, HORIZON), "float32"))
               for lane in range(LANES)]  # each lane: 3 chunks of one series
    stateful._epoch(trainer, [l for l in trainer.layers if hasattr(l, "carried")], streams,
                    LANES, np.random.default_rng(0))
    top = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)][-1]
    below = keras.Model(model.inputs[0], top.input)(x)  # what the top layer reads
    expected = keras.layers.RNN(top.cell, return_state=True)(below)[1:]
    ours = carried(trainer)[-len(expected):]
    assert np.abs(ours[0]).max() > 0
    for a, b in zip(ours, expected):
        np.testing.assert_allclose(a, numpy(b), rtol=1e-5, atol=1e-6)


def square_waves():
    """8 noisy square waves flipping every 8 steps, 240 steps each, as a wide panel."""
    values = reference.square_waves(8, 240, plateau=8)  # (series, steps)
    dates = pd.date_range("2000-01-01", periods=values.shape[1])
    return from_frame(pd.DataFrame({"date": dates, **{f"s{i}": v for i, v in enumerate(values)}}))


def test_a_lag_longer_than_bptt_is_learned_statefully_not_from_windows_of_that_length():
    panel = square_waves()
    settings = {"horizon": 4, "lookback": 4, "epochs": 20, "patience": 0, "learning_rate": 0.02,
                "batch_size": 8, "norm": "series", "seed": 0}
    carried_state = Forecaster("lstm", params={"units": 16, "stateful": True, "bptt": 4,
                                               "head": "sequence"}, **settings).fit(panel)
    windows = Forecaster("lstm", params={"units": 16}, **settings).fit(panel)
    # Measured: MAE 0.127 (stateful) against 0.477 (windows of 4 steps); noise alone is 0.04.
    assert carried_state.metrics_["mae"] < 0.5 * windows.metrics_["mae"]
    assert carried_state.metrics_["mae"] < 0.25


@pytest.fixture
def stateful_run(monthly_csv, tmp_path):
    panel = read_csv(monthly_csv)
    f = Forecaster("jordan", params={"units": 4, "stateful": True, "bptt": 6}, epochs=2,
                   batch_size=4, seed=0).fit(panel)
    f.save(tmp_path / "run")
    return panel, f, tmp_path / "run"


def test_forecasts_warm_the_state_over_the_whole_history(stateful_run):
    panel, f, _ = stateful_run
    values = f.scalers_[0].transform(panel.series[0].values).astype("float32")
    origins = [np.array([30, 50, len(values)])]
    ours = f.forecast_at(panel, origins)[0]
    for t, row in zip(origins[0], ours):  # one unpadded pass over rows [0, t) alone
        out = numpy(f.model_(values[None, :t]))[0, -1]  # (horizon,): the output after row t - 1
        offset = stateful._offsets(values[:t], f._windowing())[-1]
        np.testing.assert_allclose(row, f.scalers_[0].inverse_target(out + offset), rtol=1e-5)
    assert f.history_["epochs_run"] == 2 and len(f.history_["val_loss"]) == 2
    assert f.n_params_ == models.module("jordan").n_params(
        models.make_config("jordan", f.config_), lookback=f.lookback_, n_features=1,
        horizon=f.horizon_)


def test_a_saved_stateful_run_predicts_identically(stateful_run):
    panel, f, path = stateful_run
    g = Forecaster.load(path)
    assert g.config_["stateful"] is True and g.config_["bptt"] == 6
    pd.testing.assert_frame_equal(g.predict(panel), f.predict(panel))
    # The run keeps every row (the state is warmed over all of them), so predicting from
    # its own copy of the data gives the same forecast.
    assert len(g.data_.series[0].values) == len(panel.series[0].values)
    np.testing.assert_allclose(g.predict(g.data_)["forecast"], f.predict(panel)["forecast"])


def test_cli_fits_statefully_and_predicts_from_the_saved_run(monthly_csv, tmp_path):
    runner = CliRunner()
    fit = runner.invoke(app, ["fit", str(monthly_csv), "--model", "lstm", "--param", "units=4",
                              "--param", "stateful=true", "--param", "bptt=12", "--epochs", "2",
                              "--out", str(tmp_path / "run"), "--json"])
    assert fit.exit_code == 0, fit.output
    report = json.loads(fit.stdout)
    assert report["n_params"] == 4 * 4 * (4 + 1 + 1) + 4 * 12 + 12
    pred = runner.invoke(app, ["predict", str(tmp_path / "run"), "--data", str(monthly_csv),
                               "--json"])
    assert pred.exit_code == 0, pred.output
    rows = json.loads(pred.stdout)["forecast"]
    assert len(rows) == 12 and all(np.isfinite(r["forecast"]) for r in rows)


def test_series_too_short_for_one_chunk_is_a_data_error(monthly_csv):
    panel = read_csv(monthly_csv)
    f = Forecaster("gru", params={"units": 4, "stateful": True, "bptt": 90}, epochs=1)
    with pytest.raises(DataError, match=r"stateful training needs bptt \(90\) \+ horizon \(12\)"):
        f.fit(panel)


def test_a_time_limit_stops_stateful_training_after_the_current_batch(monthly_csv):
    import time

    from forecaster import training

    f = Forecaster("simple_rnn", params={"units": 2, "stateful": True, "bptt": 6}, epochs=50)
    with training.deadline(time.time() - 1):  # already past: one batch, then stop
        f.fit(read_csv(monthly_csv))
    assert f.history_["stopped_by"] == "time_limit" and f.history_["epochs_run"] == 1


def test_inputs_known_ahead_are_refused_in_one_line(monthly_csv):
    f = Forecaster("lstm", params={"units": 4, "stateful": True}, calendar="month", epochs=1)
    with pytest.raises(ConfigError, match="does not take inputs known ahead"):
        f.fit(read_csv(monthly_csv))


def test_chunks_are_anchored_at_the_end_of_the_training_rows():
    values = np.arange(20.0)[:, None]  # (rows, 1)
    offsets = np.zeros((20, 2))
    x, y = stateful._chunks(values, offsets, (0, 15), k=4, horizon=2, head="sequence")
    # targets must end by row 14: steps 1..12 (3 whole chunks), the oldest row dropped
    assert x[:, :, 0].tolist() == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
    assert y[-1, -1].tolist() == [13, 14]  # the step after row 12 predicts rows 13, 14
    _, last = stateful._chunks(values, offsets, (0, 15), k=4, horizon=2, head="last")
    assert last.tolist() == [[5, 6], [9, 10], [13, 14]]


def test_series_are_dealt_into_groups_of_lanes_with_padding_weighted_out():
    streams = [(np.full((c, 2, 1), i, "float32"), np.ones((c, 2, 1), "float32"))
               for i, c in enumerate((3, 1, 2))]  # series 0, 1, 2 with 3, 1, 2 chunks of 2 steps
    groups = stateful._groups([3, 1, 2], lanes=2, rng=np.random.default_rng(0))
    assert sorted(groups) == [[0, 2], [1]]  # longest first, two lanes per group
    x, _, weights, real = stateful._group_set(streams, [0, 2], lanes=2)
    assert x.shape == (6, 2, 1) and real == 10  # 3 batches x 2 lanes; 5 chunks of 2 real steps
    assert x[:, 0, 0].tolist() == [0, 2, 0, 2, 0, 0]  # batch j = rows 2j (series 0), 2j + 1 (series 2)
    np.testing.assert_allclose(weights[:, 0], [1.2, 1.2, 1.2, 1.2, 1.2, 0.0])  # 12 slots, 10 real
    assert np.mean(weights) == pytest.approx(1.0)  # so the weighted mean is over the real targets


def test_several_seeds_with_stateful_training_is_a_config_error():
    f = Forecaster("gru", params={"units": 2, "stateful": True}, seeds=3)
    with pytest.raises(ConfigError, match="a stateful model is trained once"):
        f.check_params()
