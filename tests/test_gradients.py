"""forecaster gradients: gradient norms by lag and spectral radii, checked where they are known."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from forecaster import models, read_csv, render
from forecaster.cli import app
from forecaster.errors import ConfigError
from forecaster.gradients import (
    analyze,
    check_recurrent,
    half_life,
    measure,
    spectral_radii,
)

LOOKBACK, HORIZON = 6, 2


def linear(name: str, **params):
    """A model whose state obeys ``s_t = 0.5 s_{t-1} + ...``: its gradient halves at each lag."""
    config = models.make_config(name, {"units": HORIZON, "activation": "linear",
                                       "use_bias": False, **params})
    keras.utils.set_random_seed(0)
    model = models.module(name).build(config, lookback=LOOKBACK, n_features=1, horizon=HORIZON)
    cell = model.layers[1].cell
    if name == "jordan":  # y_t = W_hy W_yh y_{t-1} + ...: feedback I, output 0.5 I
        cell.feedback_kernel.assign(np.eye(HORIZON, dtype="float32"))
        cell.output_kernel.assign(0.5 * np.eye(HORIZON, dtype="float32"))
    else:
        cell.recurrent_kernel.assign(0.5 * np.eye(HORIZON, dtype="float32"))
    return model


def data(n: int = 5):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, LOOKBACK, 1)).astype("float32")  # (windows, lookback, features)
    return x, rng.normal(size=(n, HORIZON)).astype("float32")


@pytest.mark.parametrize("name", ["simple_rnn", "jordan"])
def test_the_state_gradient_of_a_contracting_linear_net_halves_at_each_lag(name):
    result = measure(linear(name), *data())
    relative = np.asarray(result["state"]) / result["state"][0]
    np.testing.assert_allclose(relative, 0.5 ** np.arange(LOOKBACK), rtol=1e-4)
    assert list(result["spectral_radius"].values()) == pytest.approx([0.5])
    assert result["half_life"] == pytest.approx(1.0, rel=1e-4)
    assert result["decay"] == pytest.approx(0.5 ** (LOOKBACK - 1), rel=1e-4)


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_input_gradients_agree_with_finite_differences(name):
    config = models.make_config(name, {"units": 3})
    keras.utils.set_random_seed(0)
    model = models.module(name).build(config, lookback=LOOKBACK, n_features=1, horizon=HORIZON)
    x, y = data(1)
    result = measure(model, x, y)
    assert len(result["state"]) == len(result["input"]) == LOOKBACK
    assert set(result["spectral_radius"]) == ({"U_i", "U_f", "U_c", "U_o"} if name == "lstm"
                                              else {"U_z", "U_r", "U_h"})

    def loss(inputs):
        out = keras.ops.convert_to_numpy(model(inputs)).astype(float)
        return float(np.sum(np.mean((y - out) ** 2, axis=-1)))  # mse per window, summed

    eps = 1e-2
    for lag in (1, LOOKBACK):
        step = LOOKBACK - lag
        up, down = x.copy(), x.copy()
        up[0, step, 0] += eps
        down[0, step, 0] -= eps
        numeric = (loss(up) - loss(down)) / (2 * eps)  # one input feature: the norm is |.|
        assert result["input"][lag - 1] == pytest.approx(abs(numeric), rel=2e-2, abs=1e-5)


def test_spectral_radius_of_an_lstm_is_per_gate_block():
    cell = keras.layers.LSTMCell(2)
    cell.build((None, 1))
    kernel = np.concatenate([k * np.eye(2) for k in (0.1, 0.2, 0.3, 0.4)], axis=1)
    cell.recurrent_kernel.assign(kernel.astype("float32"))  # (units, 4 * units): i, f, c, o
    assert spectral_radii(cell) == pytest.approx({"U_i": 0.1, "U_f": 0.2, "U_c": 0.3, "U_o": 0.4})


def test_only_windowed_recurrent_models_are_analysed(monthly_csv):
    panel = read_csv(monthly_csv)
    with pytest.raises(ConfigError, match="needs a recurrent model, got 'mlp'"):
        analyze(panel, "mlp")
    with pytest.raises(ConfigError, match="Did you mean 'lstm'"):
        check_recurrent("lstmm")
    with pytest.raises(ConfigError, match="leave out --param stateful=true"):
        analyze(panel, "lstm", params={"stateful": True})
    with pytest.raises(ConfigError, match="leave out --calendar and --future-covariates"):
        analyze(panel, "lstm", calendar="month")
    with pytest.raises(ConfigError, match="measures one network; leave out --seeds"):
        analyze(panel, "lstm", seeds=3)


def test_small_data_is_measured_on_one_network_not_the_default_seed_median(monthly_csv, monkeypatch):
    import forecaster.forecaster

    monkeypatch.setattr(forecaster.forecaster, "AUTO_SEEDS", 3)  # users' default (conftest: 1)
    panel = read_csv(monthly_csv)
    out = analyze(panel, "simple_rnn", params={"units": 2}, epochs=1, max_windows=8)
    assert out["n_params"] == models.module("simple_rnn").n_params(
        models.make_config("simple_rnn", {"units": 2}), lookback=out["lookback"], n_features=1,
        horizon=out["horizon"])


def test_half_life_of_a_flat_profile_is_none():
    assert half_life([0.3, 0.3, 0.3]) is None
    assert half_life([1.0, 0.25]) == pytest.approx(0.5)


def test_cli_prints_json_and_draws_the_plot(monthly_csv, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["gradients", str(monthly_csv), "--model",
                                 "simple_rnn:activation=sigmoid,jordan",
                                 "--param", "units=4", "--epochs", "1", "--lookback", "12",
                                 "--plot", str(tmp_path / "g.png"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [m["model"] for m in doc["models"]] == ["simple_rnn", "jordan"]
    for report in doc["models"]:  # the same network, before and after its epoch of training
        assert report["lag"] == list(range(1, 13)) and report["epochs_run"] == 1
        for key in ("state", "input"):
            assert len(report[key]["before"]) == len(report[key]["after"]) == 12
            assert report[key]["before"] != report[key]["after"]
    assert doc["models"][0]["label"] == "simple_rnn:activation=sigmoid"
    assert list(doc["models"][1]["spectral_radius"]["after"]) == ["W_hy W_yh"]
    assert (tmp_path / "g.png").stat().st_size > 0
    console = Console(record=True, width=200)
    console.print(render.gradients_table(doc))  # what the command prints without --json
    text = console.export_text()
    assert "simple_rnn:activation=sigmoid: gradient of the forecast's mae loss" in text
    assert "halves every" in text and "W_hy W_yh" in text


@pytest.mark.parametrize(("spec", "expected"), [
    ("naive", "Error: forecaster gradients needs a recurrent model, got 'naive'"),
    ("lstm,simple_rnn:activation=softmax", "Error: activation='softmax' is invalid"),
    ("lstm:units", "Error: --param expects KEY=VALUE, got 'units'"),
])
def test_cli_refuses_a_bad_model_in_one_line_before_any_fit(monthly_csv, spec, expected):
    result = CliRunner().invoke(app, ["gradients", str(monthly_csv), "--model", spec])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip().startswith(expected)
