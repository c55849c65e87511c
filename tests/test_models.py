"""Contract tests over every registered neural model, plus the worked examples.

Every model in ``forecaster.models.NEURAL`` (and every head it has) must build with
the documented output shape, have closed-form parameter counts equal to Keras's,
round-trip its Config through dicts and JSON, refuse bad settings with ConfigError,
and save -> load (safe_mode=True) -> predict identically. Sizes are tiny so the whole
file runs in seconds.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest

from forecaster import models
from forecaster.errors import ConfigError
from forecaster.models._jordan_cell import JordanCell
from forecaster.summary import describe, elman_weights, mlp_weights, totals

LOOKBACK, N_FEATURES, HORIZON, BATCH = 8, 2, 3, 5


def heads(name: str) -> tuple[str | None, ...]:
    """The heads model ``name`` offers, from the registry (None: it has no ``head`` setting)."""
    return models.REGISTRY[name].heads or (None,)


CASES = [(name, head) for name in models.NEURAL for head in heads(name)]
CASE_IDS = [f"{name}-{head}" if head else name for name, head in CASES]


def tiny_config(name: str, head: str | None = None, **overrides):
    """A small Config of model ``name``: width 4 (its registry width field)."""
    config_cls = models.module(name).Config
    size = {models.REGISTRY[name].width: 4}
    if head is not None:
        size["head"] = head
    return config_cls(**{**size, **overrides})


def tiny_model(name: str, head: str | None = None, **overrides) -> keras.Model:
    config = tiny_config(name, head, **overrides)
    keras.utils.set_random_seed(0)
    return models.module(name).build(
        config, lookback=LOOKBACK, n_features=N_FEATURES, horizon=HORIZON
    )


def predict(model, x) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(x, training=False))


def window(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(BATCH, LOOKBACK, N_FEATURES)).astype("float32")


# --- the contract, for every model and head ------------------------------------------


@pytest.mark.parametrize(("name", "head"), CASES, ids=CASE_IDS)
def test_builds_with_documented_output_shape(name, head):
    model = tiny_model(name, head)
    out = predict(model, window())
    expected = (BATCH, LOOKBACK, HORIZON) if head == "sequence" else (BATCH, HORIZON)
    assert out.shape == expected
    assert model.name == name
    if name == "jordan":  # no Dense head: the top layer's fed-back output is the forecast
        assert model.layers[-1].cell.output_units == HORIZON
    else:
        assert model.get_layer("head").units == HORIZON
    assert np.isfinite(out).all()


@pytest.mark.parametrize(("name", "head"), CASES, ids=CASE_IDS)
def test_closed_form_parameter_counts_equal_keras(name, head):
    # Stacked: 2 recurrent/dense layers; 4 wavenet blocks (more than the 3 needed).
    model = tiny_model(name, head, layers=4 if name == "wavenet" else 2)
    rows = describe(model)
    assert [row["name"] for row in rows] == [layer.name for layer in model.layers]
    for row, layer in zip(rows, model.layers):
        assert row["closed_form"] == layer.count_params() == row["n_params"], row
        assert row["formula"].endswith(f"= {row['n_params']}") or row["formula"] == "0"
        assert 0 <= row["weights_only"] <= row["n_params"]
    assert totals(rows)["n_params"] == model.count_params()
    assert sum(row["n_params"] for row in rows) == model.count_params()


@pytest.mark.parametrize(("name", "head"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("layers", [1, 2, 4])
def test_closed_form_model_count_equals_keras(name, head, layers):
    """Each model's n_params (what --budget sizes) is Keras's count, without building."""
    spec = models.REGISTRY[name]
    extra = {spec.fine_width: 3} if spec.fine_width and layers > 1 else {}
    if name == "wavenet":
        layers += 2  # at least the 3 blocks a lookback of 8 needs
    config = tiny_config(name, head, layers=layers, **extra)
    shape = dict(lookback=LOOKBACK, n_features=N_FEATURES, horizon=HORIZON)
    assert models.module(name).n_params(config, **shape) == tiny_model(
        name, head, layers=layers, **extra).count_params()


# The notes' variants: every setting that changes the layers, alone and combined.
VARIANTS = [{"use_bias": False}, {"unroll": True}, {"activation": "sigmoid"},
            {"output_activation": "tanh", "use_bias": False}, {"reset_after": False},
            {"reset_after": False, "use_bias": False}, {"stateful": True, "bptt": 4},
            {"output_units": 2}]
VARIANT_CASES = [(name, head, variant) for name, head in CASES for variant in VARIANTS
                 if set(variant) <= {f.name for f in dataclasses.fields(models.module(name).Config)}
                 and not (head == "max" and variant.get("stateful"))]  # refused: tested below


@pytest.mark.parametrize(("name", "head", "variant"), VARIANT_CASES,
                         ids=[f"{n}-{h}-{'-'.join(map(str, v.values()))}" for n, h, v in VARIANT_CASES])
def test_variants_have_closed_form_counts_equal_to_keras(name, head, variant):
    """Each variant's n_params and summary rows equal Keras's count, stacked two deep."""
    model = tiny_model(name, head, layers=2, **variant)
    config = tiny_config(name, head, layers=2, **variant)
    shape = dict(lookback=LOOKBACK, n_features=N_FEATURES, horizon=HORIZON)
    assert models.module(name).n_params(config, **shape) == model.count_params()
    for row, layer in zip(describe(model), model.layers):
        assert row["closed_form"] == layer.count_params(), row
    if variant.get("use_bias") is False:
        assert totals(describe(model))["weights_only"] == model.count_params()
        assert all("bias" not in w.path for w in model.weights)


def test_variants_reach_the_keras_layers():
    cell = tiny_model("simple_rnn", activation="sigmoid").get_layer("simple_rnn_1").cell
    assert cell.activation is keras.activations.sigmoid
    head = tiny_model("simple_rnn", output_activation="tanh").get_layer("head")
    assert head.activation is keras.activations.tanh
    jordan = tiny_model("jordan", activation="relu", output_activation="sigmoid").layers[-1].cell
    assert (jordan.activation, jordan.output_activation) == (keras.activations.relu,
                                                             keras.activations.sigmoid)
    assert tiny_model("gru", reset_after=False).get_layer("gru_1").cell.reset_after is False
    assert tiny_model("lstm", unroll=True).get_layer("lstm_1").unroll is True
    out = predict(tiny_model("simple_rnn", output_activation="sigmoid"), window())
    assert ((0 < out) & (out < 1)).all()


def test_variant_combinations_that_mean_nothing_are_refused():
    lstm, jordan = models.module("lstm"), models.module("jordan")
    with pytest.raises(ConfigError, match="bptt=24 applies to stateful training only"):
        lstm.Config(bptt=24)
    with pytest.raises(ConfigError, match="head='max' is invalid with stateful=true"):
        lstm.Config(stateful=True, head="max")
    with pytest.raises(ConfigError, match="output_units=2 sets the width of the lower layers"):
        jordan.Config(output_units=2)
    with pytest.raises(ConfigError, match="head='max' is invalid. Valid choices: last, sequence"):
        jordan.Config(head="max")


def test_every_registered_model_is_described_and_sized():
    for name, spec in models.REGISTRY.items():
        assert spec.kind in models.KINDS and spec.description
        if spec.kind == "neural":
            fields = {f.name for f in dataclasses.fields(models.module(name).Config)}
            assert spec.width in fields and (spec.fine_width is None or spec.fine_width in fields)
            assert ("head" in fields) == bool(spec.heads)


@pytest.mark.parametrize("name", models.NEURAL)
def test_config_round_trips_through_dict_and_json(name):
    config_cls = models.module(name).Config
    for config in (config_cls(), tiny_config(name, dropout=0.25)):
        as_dict = dataclasses.asdict(config)
        assert config_cls(**as_dict) == config
        assert config_cls(**json.loads(json.dumps(as_dict))) == config
        plain = (int, float, str, bool, type(None))
        assert all(isinstance(v, plain) for v in as_dict.values()), as_dict


BAD_VALUES = {
    "units": [0, -1, 2.5, True],
    "use_bias": ["yes", 1],
    "unroll": ["x"],
    "stateful": [1],
    "bptt": [0, 2.5],
    "reset_after": ["no"],
    "activation": ["softmax"],
    "output_activation": ["bogus"],
    "filters": [0, "16"],
    "layers": [-1],
    "kernel_size": [1],
    "output_units": [0],
    "dropout": [1.0, -0.1, "x"],
    "head": ["bogus"],
}
BAD_CASES = [
    (name, field.name, value)
    for name in models.NEURAL
    for field in dataclasses.fields(models.module(name).Config)
    for value in BAD_VALUES.get(field.name, [])
]


@pytest.mark.parametrize(("name", "field", "value"), BAD_CASES)
def test_invalid_config_raises_config_error_echoing_the_value(name, field, value):
    with pytest.raises(ConfigError) as info:
        models.module(name).Config(**{field: value})
    message = str(info.value)
    assert f"{field}={value!r}" in message
    if field == "head":
        assert "Valid choices: last" in message


def test_wavenet_has_no_max_head():
    with pytest.raises(ConfigError, match="Valid choices: last, sequence"):
        models.module("wavenet").Config(head="max")


def test_make_config_converts_cli_strings():
    config = models.make_config("jordan", {"units": "8", "output_units": "2", "layers": "2"})
    assert (config.units, config.output_units) == (8, 2)
    config = models.make_config("lstm", {"stateful": "true", "bptt": "24", "use_bias": "false"})
    assert (config.stateful, config.bptt, config.use_bias) == (True, 24, False)
    assert models.make_config("gru", {"reset_after": "false"}).reset_after is False
    assert models.make_config("wavenet", {"layers": "none"}).layers is None
    with pytest.raises(ConfigError, match="head='bogus'"):
        models.make_config("lstm", {"head": "bogus"})


@pytest.mark.parametrize(("name", "head"), CASES, ids=CASE_IDS)
def test_save_load_safe_mode_predicts_identically(name, head, tmp_path):
    model = tiny_model(name, head, dropout=0.1)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        members = archive.namelist()
    assert not [m for m in members if m.endswith((".pkl", ".pickle"))], members
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = window(seed=1)
    np.testing.assert_allclose(predict(loaded, x), predict(model, x), atol=1e-6)


def test_safe_mode_refuses_a_lambda_layer(tmp_path):
    inputs = keras.Input(shape=(LOOKBACK, N_FEATURES))
    outputs = keras.layers.Lambda(lambda t: t * 2.0, name="doubler")(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.saving.load_model(path, safe_mode=True)


@pytest.mark.parametrize(
    ("name", "head"), [c for c in CASES if c[1] == "sequence"], ids=lambda v: str(v)
)
def test_sequence_head_is_causal(name, head):
    """Step t's prediction must not depend on inputs after step t."""
    model = tiny_model(name, head)
    x = window()
    changed = x.copy()
    changed[:, 5:, :] += 10.0  # (batch, lookback, n_features): change steps 5..7
    before, after = predict(model, x), predict(model, changed)
    np.testing.assert_allclose(after[:, :5], before[:, :5], atol=1e-6)
    assert not np.allclose(after[:, 5:], before[:, 5:])


@pytest.mark.parametrize("name", models.NEURAL)
def test_one_training_step_changes_the_weights(name):
    model = tiny_model(name)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = [w.copy() for w in model.get_weights()]
    y = np.ones((BATCH, HORIZON), dtype="float32")
    loss = model.train_on_batch(window(), y)
    assert np.isfinite(loss)
    changed = [not np.array_equal(a, b) for a, b in zip(before, model.get_weights())]
    assert all(changed), [w.path for w, c in zip(model.weights, changed) if not c]


def test_model_code_is_backend_agnostic():
    folder = pathlib.Path(models.__file__).parent
    for path in folder.glob("*.py"):
        source = path.read_text()
        assert "import tensorflow" not in source, path
        assert "Lambda(" not in source, path


def test_importing_summary_does_not_import_keras():
    code = (
        "import sys, forecaster.summary; "
        "print(any(m in sys.modules for m in ('keras', 'tensorflow', 'jax')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# --- wavenet's receptive field --------------------------------------------------


def test_wavenet_default_layers_cover_the_lookback():
    wavenet = models.module("wavenet")
    for kernel_size in (2, 3):
        for lookback in (1, 2, 7, 8, 9, 24, 100):
            layers = wavenet.min_layers(kernel_size, lookback)
            assert wavenet.receptive_field(kernel_size, layers) >= lookback
            if layers > 1:  # and it is the smallest such number
                assert wavenet.receptive_field(kernel_size, layers - 1) < lookback
    model = tiny_model("wavenet")
    n_blocks = sum(layer.name.startswith("gate_") for layer in model.layers)
    assert n_blocks == 3  # 1 + (2 - 1) * (2**3 - 1) = 8 = LOOKBACK


def test_summary_names_wavenet_dilations():
    types = [row["type"] for row in describe(tiny_model("wavenet"))]
    assert {"Conv1D(dilation 2)", "Conv1D(dilation 4)"} <= set(types)
    assert "Conv1D(dilation 8)" not in types  # 3 blocks cover a lookback of 8: 1, 2, 4


def test_wavenet_receptive_field_formula():
    wavenet = models.module("wavenet")
    assert [wavenet.receptive_field(2, n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert wavenet.receptive_field(3, 3) == 15  # 1 + 2 * 7


def test_wavenet_too_few_layers_is_a_config_error_with_the_numbers():
    with pytest.raises(ConfigError) as info:
        tiny_model("wavenet", layers=2)
    message = str(info.value)
    assert "receptive field of 4" in message
    assert f"lookback={LOOKBACK}" in message
    assert "layers >= 3" in message


# --- worked examples -----------------------------------------------------------

# The course's Elman example is checked against Keras on every backend in test_reference.py.


def test_jordan_cell_follows_the_formula_step_by_step():
    """Keras computes in float32 on every backend here; NumPy gives the float64 reference."""
    rng = np.random.default_rng(0)
    # 2 inputs, 3 hidden units, 2 outputs fed back; float32 values, so both start equal.
    w_xh, w_yh = rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=(3, 2)).astype("float32")
    b_h = rng.normal(size=3).astype("float32")
    w_hy, b_y = rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=2).astype("float32")
    x = rng.normal(size=(1, 3, 2)).astype("float32")  # (batch, steps, n_inputs)

    layer = keras.layers.RNN(JordanCell(3, 2), return_sequences=True)
    layer.build((1, 3, 2))
    # Keras's (inputs, outputs) layout, in the cell's weight order.
    layer.set_weights([w_xh.T, w_yh.T, b_h, w_hy.T, b_y])
    ys = keras.ops.convert_to_numpy(layer(x))[0]  # (steps, output_units)

    y = np.zeros(2)  # y_0 = 0
    for t in range(3):
        h = np.tanh(w_xh @ x[0, t] + w_yh @ y + b_h)
        y = w_hy @ h + b_y  # linear output
        np.testing.assert_allclose(ys[t], y, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("head", ["last", "sequence"])
def test_jordan_forecast_is_the_output_it_feeds_back(head):
    """Step the model's own cell from y_0 = 0, feeding back the state it returns."""
    model = tiny_model("jordan", head)
    cell = model.get_layer("jordan_1").cell
    assert JordanCell(**cell.get_config()).get_config() == cell.get_config()
    x = window()
    state = np.zeros((BATCH, HORIZON), dtype="float32")  # y_0 = 0
    fed_back = []
    for t in range(LOOKBACK):
        _, (state,) = cell(x[:, t], [state])
        fed_back.append(keras.ops.convert_to_numpy(state))  # y_t, fed to step t + 1
    fed_back = np.stack(fed_back, axis=1)  # (batch, lookback, horizon)
    expected = fed_back if head == "sequence" else fed_back[:, -1]
    np.testing.assert_allclose(predict(model, x), expected, rtol=1e-5, atol=1e-6)


def test_stacked_jordan_feeds_back_output_units_below_and_the_forecast_on_top():
    model = tiny_model("jordan", layers=2, output_units=2)
    assert [layer.cell.output_units for layer in model.layers[1:]] == [2, HORIZON]


def test_course_parameter_arithmetic():
    T, D, M, k = 20, 30, 16, 3
    assert mlp_weights(T, D, M, k) == 9_648
    assert elman_weights(D, M, k) == 784
    shape = dict(lookback=T, n_features=D, horizon=k)
    mlp = models.module("mlp")
    simple_rnn = models.module("simple_rnn")
    mlp_model = mlp.build(mlp.Config(units=M, layers=1), **shape)
    rnn_model = simple_rnn.build(simple_rnn.Config(units=M), **shape)
    assert totals(describe(mlp_model)) == {"n_params": 9_667, "weights_only": 9_648}
    assert totals(describe(rnn_model)) == {"n_params": 803, "weights_only": 784}
    assert (mlp_model.count_params(), rnn_model.count_params()) == (9_667, 803)
    # The notes' bias-free nets: the weights are all the parameters.
    assert mlp.n_params(mlp.Config(units=M, layers=1, use_bias=False), **shape) == 9_648
    assert simple_rnn.n_params(simple_rnn.Config(units=M, use_bias=False), **shape) == 784
