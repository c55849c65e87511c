"""Forecaster over the registry: fit, score, save, load, predict for every model."""

from __future__ import annotations

import hashlib
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from forecaster import Forecaster, read_csv
from forecaster.errors import ArtifactError, ForecasterError
from forecaster.models import BASELINES, NEURAL

TINY = dict(epochs=2, batch_size=16, patience=2, seed=0)
TINY_PARAMS = {"mlp": {"units": 4, "layers": 1}, "wavenet": {"filters": 4}}


def tiny(model: str, **extra) -> Forecaster:
    params = TINY_PARAMS.get(model, {"units": 4})
    return Forecaster(model, params=params, **{**TINY, **extra})


@pytest.mark.parametrize("model", NEURAL)
def test_every_neural_model_fits_saves_loads_and_predicts(model, monthly_csv, tmp_path):
    panel = read_csv(monthly_csv)
    f = tiny(model).fit(panel)
    assert f.n_params_ == f.model_.count_params() > 0
    assert set(f.metrics_) == {"mae", "rmse", "mape", "smape", "mase"}
    out = tmp_path / "run"
    f.save(out)
    assert sorted(p.name for p in out.iterdir()) == ["data.json", "manifest.json", "model.keras"]
    with zipfile.ZipFile(out / "model.keras") as z:
        assert not [n for n in z.namelist() if n.endswith((".pkl", ".pickle"))]
    g = Forecaster.load(out)
    a, b = f.predict(panel), g.predict(panel)
    np.testing.assert_allclose(a["forecast"], b["forecast"], rtol=1e-6)
    assert len(a) == f.horizon_ == 12
    assert a["timestamp"].iloc[0] == pd.Timestamp("2008-01-01")  # the month after the data
    assert (a["lower_80"] <= a["forecast"]).all() and (a["forecast"] <= a["upper_80"]).all()
    assert (a["lower_95"] <= a["lower_80"]).all()


@pytest.mark.parametrize("model", ["lstm", "jordan", "wavenet"])
def test_global_model_over_many_series(model, panel_csv):
    panel = read_csv(panel_csv, id_col="unique_id")
    f = tiny(model, horizon=6, lookback=12).fit(panel)
    pred = f.predict(panel)
    assert pred.groupby("id").size().to_dict() == {"s0": 6, "s1": 6, "s2": 6}
    # each series is forecast in its own units (levels 50, 100, 150)
    means = pred.groupby("id")["forecast"].mean()
    assert means["s0"] < means["s1"] < means["s2"]
    assert len(f.scalers_) == 3


@pytest.mark.parametrize("head", ["last", "max", "sequence"])
def test_recurrent_heads_train_and_forecast(head, monthly_csv):
    panel = read_csv(monthly_csv)
    f = Forecaster("gru", params={"units": 4, "head": head}, **TINY).fit(panel)
    assert f.predict(panel)["forecast"].notna().all()


def test_window_normalization_forecasts_trends(monthly_csv):
    panel = read_csv(monthly_csv)
    f = tiny("mlp", norm="window").fit(panel)
    assert np.isfinite(f.metrics_["mase"])


def test_same_seed_same_metrics(monthly_csv):
    panel = read_csv(monthly_csv)
    a = tiny("lstm", seed=3).fit(panel).metrics_
    b = tiny("lstm", seed=3).fit(panel).metrics_
    assert a == b


def test_scaler_sees_only_training_rows(monthly_csv):
    panel = read_csv(monthly_csv)
    f = tiny("mlp").fit(panel)
    split = f.splits_[0]
    train = panel.series[0].values[split.train[0]:split.train[1], 0]
    assert f.scalers_[0].loc[0] == pytest.approx(train.mean())
    assert split.train[1] <= split.val[0] < split.val[1] <= split.test[0]


@pytest.mark.parametrize("model", BASELINES)
def test_baselines_fit_and_save_without_a_model_file(model, monthly_csv, tmp_path):
    panel = read_csv(monthly_csv)
    f = Forecaster(model).fit(panel)
    f.save(tmp_path / model)
    assert sorted(p.name for p in (tmp_path / model).iterdir()) == ["data.json", "manifest.json"]
    pd.testing.assert_frame_equal(Forecaster.load(tmp_path / model).predict(panel), f.predict(panel))


def test_manifest_is_the_leakage_record(monthly_csv, tmp_path):
    panel = read_csv(monthly_csv)
    tiny("mlp").fit(panel).save(tmp_path / "run")
    m = json.loads((tmp_path / "run" / "manifest.json").read_text())
    import keras

    state = m["state"]
    assert m["format_version"] == 2 and state["backend"] == keras.backend.backend()
    assert m["model_file"] == "model.keras"
    assert state["splits"] == [{"train": [0, 72], "val": [72, 84], "test": [84, 96]}]
    assert state["lookback"] == 24 and state["config"] == {"units": 4, "layers": 1, "dropout": 0.0}
    assert m["params"] == {**Forecaster.defaults(), **TINY, "model": "mlp",
                           "params": TINY_PARAMS["mlp"], "levels": [80, 95]}
    assert state["last_timestamps"] == ["2007-12-01 00:00:00"]
    assert {"keras", "numpy", "pandas", "forecaster"} <= set(m["libraries"])


def test_unfitted_forecaster_raises(monthly_csv):
    with pytest.raises(ForecasterError, match="not fitted"):
        Forecaster("naive").predict(read_csv(monthly_csv))


def test_lambda_layer_is_refused_on_load(monthly_csv, tmp_path):
    import keras

    panel = read_csv(monthly_csv)
    tiny("mlp").fit(panel).save(tmp_path / "run")
    inputs = keras.Input(shape=(24, 1))
    outputs = keras.layers.Lambda(lambda t: t[:, -12:, 0] * 2.0)(inputs)
    keras.Model(inputs, outputs).save(tmp_path / "run" / "model.keras")  # tampered ...
    manifest = tmp_path / "run" / "manifest.json"
    data = json.loads(manifest.read_text())
    blob = (tmp_path / "run" / "model.keras").read_bytes()
    data["files"]["model.keras"] = {"bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
    manifest.write_text(json.dumps(data))  # ... with a manifest that vouches for it
    with pytest.raises(ArtifactError, match="Refusing to load"):
        Forecaster.load(tmp_path / "run")


def test_newer_or_corrupt_manifest_is_refused(monthly_csv, tmp_path):
    panel = read_csv(monthly_csv)
    Forecaster("naive").fit(panel).save(tmp_path / "run")
    manifest = tmp_path / "run" / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "format_version": 99}))
    with pytest.raises(ArtifactError, match="newer forecaster"):
        Forecaster.load(tmp_path / "run")
    manifest.write_text("{not json")
    with pytest.raises(ArtifactError, match="corrupt"):
        Forecaster.load(tmp_path / "run")


def test_one_epoch_lowers_the_loss_on_a_sine_wave():
    import keras

    from forecaster import models, training
    from forecaster.windows import windows

    values = np.sin(np.arange(300) * 2 * np.pi / 20)[:, None]
    x, y = windows(values, lookback=20, horizon=4)
    for name in NEURAL:
        training.seed_everything(0)
        params = TINY_PARAMS.get(name, {"units": 8})
        model = models.module(name).build(models.make_config(name, params), lookback=20,
                                          n_features=1, horizon=4)
        training.compile_model(model, training.TrainSettings.from_params({"learning_rate": 1e-2}))
        before = model.evaluate(x, y, verbose=0)
        model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
        assert model.evaluate(x, y, verbose=0) < before, name
    keras.backend.clear_session()


def test_a_nan_loss_stops_training_with_a_clear_error():
    from forecaster import models, training
    from forecaster._stream import Batches
    from forecaster.errors import TrainingError

    x = np.ones((8, 4, 1), dtype="float32")
    y = np.full((8, 2), np.nan, dtype="float32")
    model = models.module("mlp").build(models.make_config("mlp", {"units": 2}), lookback=4,
                                       n_features=1, horizon=2)
    with pytest.raises(TrainingError, match="lower --learning-rate"):
        training.train(model, Batches.from_arrays(x, y, 32, seed=0),
                       training.TrainSettings.from_params({"epochs": 3}))


def test_max_train_size_gives_a_sliding_training_window(monthly_csv):
    panel = read_csv(monthly_csv)
    f = Forecaster("mlp", params={"units": 3}, max_train_size=40, **TINY).fit(panel)
    assert f.splits_[0].train == (32, 72)
    train = panel.series[0].values[32:72, 0]
    assert f.scalers_[0].loc[0] == pytest.approx(train.mean())


def test_without_validation_rows_there_are_no_intervals_but_forecasts_work(monthly_csv):
    panel = read_csv(monthly_csv)
    f = Forecaster("seasonal_naive", val_size=0).fit(panel)
    assert f.calibration_ is None
    assert list(f.predict(panel).columns) == ["id", "timestamp", "forecast"]


def test_intervals_widen_with_the_local_scale_of_the_series(tmp_path):
    # the seasonal swing grows exponentially: late windows must get wider intervals
    t = np.arange(240)
    y = 100 + np.exp(t / 80) * 10 * np.sin(2 * np.pi * t / 12)
    df = pd.DataFrame({"date": pd.date_range("2000-01", periods=240, freq="MS"), "y": y})
    from forecaster import from_frame

    panel = from_frame(df)
    f = Forecaster("seasonal_naive", val_size=48).fit(panel)
    early = f._scales(panel.series[0], np.array([48]), f.interval_scales_[0])[0]
    late = f._scales(panel.series[0], np.array([240]), f.interval_scales_[0])[0]
    assert late > 5 * early


def test_lr_patience_halves_the_rate_when_the_validation_loss_stalls():
    """Validation targets that are pure noise cannot improve for long: the rate must drop,
    by halves, never below a thousandth of the starting rate; 0 keeps it constant."""
    from forecaster import models, training
    from forecaster._stream import Batches

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 6, 1)).astype("float32"), rng.normal(size=(64, 2)).astype("float32")
    xv, yv = rng.normal(size=(32, 6, 1)).astype("float32"), rng.normal(size=(32, 2)).astype("float32")

    def run(lr_patience: int) -> dict:
        training.seed_everything(0)
        model = models.module("mlp").build(models.make_config("mlp", {"units": 8}), lookback=6,
                                           n_features=1, horizon=2)
        settings = training.TrainSettings.from_params(dict(
            epochs=12, batch_size=16, learning_rate=1e-2, patience=0, lr_patience=lr_patience))
        return training.train(model, Batches.from_arrays(x, y, 16, seed=0), settings,
                              validation=Batches.from_arrays(xv, yv, 16))

    rates = run(1)["learning_rates"]
    assert len(rates) == 12 and rates[0] == pytest.approx(1e-2)
    assert min(rates) >= 1e-2 * training.MIN_LR_RATIO * 0.999
    floor = 1e-2 * training.MIN_LR_RATIO
    for a, b in zip(rates, rates[1:]):  # unchanged, halved, or clipped at the floor
        assert b == pytest.approx(a) or b == pytest.approx(a / 2) or b == pytest.approx(floor)
    assert sum(b < a for a, b in zip(rates, rates[1:])) >= 2
    assert "learning_rates" not in run(0)


def test_lr_patience_is_recorded_in_the_artifact(monthly_csv, tmp_path):
    f = tiny("mlp", lr_patience=1).fit(read_csv(monthly_csv))
    f.save(tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["params"]["lr_patience"] == 1
    assert Forecaster.load(tmp_path / "run").lr_patience == 1
    with pytest.raises(ForecasterError, match="--lr-patience must be an integer >= 0"):
        tiny("mlp", lr_patience=-1).fit(read_csv(monthly_csv))


# --- settings declared once, state as plain data ---------------------------------------


def test_get_params_reads_the_signature_and_round_trips():
    f = Forecaster("mlp", params={"units": 3}, epochs=7, levels=(90,))
    params = f.get_params()
    assert list(params) == list(Forecaster.param_names())
    assert params["epochs"] == 7 and params["batch_size"] == Forecaster.defaults()["batch_size"]
    assert Forecaster(**params).get_params() == params
    assert f.set_params(epochs=3) is f and f.epochs == 3
    with pytest.raises(ForecasterError, match="Unknown setting 'epoch'"):
        f.set_params(epoch=3)
    assert repr(f) == "Forecaster('mlp', params={'units': 3}, levels=(90,), epochs=3)"


def test_training_settings_are_picked_from_the_params_by_name():
    from dataclasses import fields

    from forecaster.training import TrainSettings

    settings = TrainSettings.from_params(Forecaster("mlp", epochs=3, loss="mae").get_params())
    assert (settings.epochs, settings.loss) == (3, "mae")
    assert {f.name for f in fields(TrainSettings)} <= set(Forecaster.param_names())


BAD_SETTINGS = [
    (dict(loss="bogus"), "Unknown loss 'bogus'"),
    (dict(epochs=0), "--epochs must be an integer >= 1, got 0."),
    (dict(epochs=2.5), "--epochs must be an integer >= 1, got 2.5."),
    (dict(batch_size=0), "--batch-size must be an integer >= 1"),
    (dict(learning_rate=0.0), "--learning-rate must be > 0"),
    (dict(patience=-1), "--patience must be an integer >= 0"),
    (dict(clipnorm=-1.0), "clipnorm must be > 0 or None"),
    (dict(seed=-5), "--seed must be an integer between 0 and 4294967295, or -1 for a random seed"),
    (dict(seed=2**32), "--seed must be an integer between 0 and 4294967295"),
    (dict(levels=(50, 50)), "--level 50 is given twice; pass each interval level once."),
    (dict(horizon=10**9), "--horizon must be an integer between 1 and 100000, got 1000000000."),
    (dict(lookback=0), "--lookback must be an integer >= 1, got 0."),
    (dict(horizon=-1), "--horizon must be an integer >= 1"),
    (dict(stride=0), "--stride must be an integer >= 1"),
    (dict(val_size=-1), "--val-size must be an integer >= 0"),
    (dict(gap=-1), "--gap must be an integer >= 0"),
    (dict(max_train_size=0), "--max-train-size must be an integer >= 1"),
    (dict(scaler="robust"), "Unknown scaler 'robust'"),
    (dict(norm="weird"), "Unknown --norm 'weird'"),
    (dict(levels=(120,)), "--level must be between 0 and 100"),
    (dict(backend="torch"), "Unknown backend 'torch'"),
    (dict(progress="yes"), "progress must be True or False"),
    (dict(params={"units": 3}), "takes no parameters"),
]


@pytest.mark.parametrize("model", ["naive", "mlp"])
@pytest.mark.parametrize("bad, message", BAD_SETTINGS, ids=[str(b) for b, _ in BAD_SETTINGS])
def test_every_setting_is_validated_at_fit_for_every_model(model, bad, message, monthly_csv):
    if model == "mlp" and "params" in bad:
        bad, message = dict(params={"size": 3}), "Unknown parameter 'size' for model 'mlp'"
    with pytest.raises(ForecasterError) as info:
        Forecaster(model, **bad).fit(read_csv(monthly_csv))
    assert message in str(info.value)


def test_state_is_plain_json_and_rebuilds_an_identical_forecaster(monthly_csv):
    panel = read_csv(monthly_csv)
    f = tiny("gru").fit(panel)
    state = json.loads(json.dumps(f.get_state()))
    g = Forecaster.from_state(f.get_params(), state, f.model_)
    pd.testing.assert_frame_equal(g.predict(panel), f.predict(panel))
    assert g.get_state() == state


@pytest.mark.parametrize("name", ["mlp", "jordan", "seasonal_naive"])
def test_a_version_1_run_still_loads_and_predicts_identically(name):
    from tests.conftest import REPO

    data = REPO / "tests" / "data"
    manifest = json.loads((data / f"v1_run_{name}" / "manifest.json").read_text())
    assert manifest["format_version"] == 1  # saved before the format change
    f = Forecaster.load(data / f"v1_run_{name}")
    assert f.model == name and f.get_state()["metrics"] == manifest["metrics"]
    expected = pd.read_csv(data / f"v1_run_{name}.predict.csv", parse_dates=["timestamp"])
    got = f.predict(read_csv(data / "v1_series.csv"))
    np.testing.assert_allclose(got["forecast"], expected["forecast"], rtol=1e-6)
    np.testing.assert_allclose(got["upper_95"], expected["upper_95"], rtol=1e-6)
    assert (got["timestamp"] == expected["timestamp"]).all()
