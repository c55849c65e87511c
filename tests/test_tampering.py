"""A run directory is untrusted input: tampered manifests and data are one-line errors.

Each case edits a saved run the way a careless hand or an attacker could (refreshing the
recorded digests, as an attacker would) and checks that ``forecaster predict RUN`` answers
with one ``Error:`` line and exit code 1: no traceback, no silent broadcast, no
multi-gigabyte allocation, no file named by the manifest opened.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from typer.testing import CliRunner

from forecaster import Forecaster, read_csv
from forecaster.cli import app
from forecaster.errors import ForecasterError

runner = CliRunner()


def predict(*args):
    return runner.invoke(app, ["predict", *map(str, args)])


def assert_one_line_error(result, expected: str = "") -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0], result.stderr


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A seasonal naive run (with intervals and stored data) and an mlp run, saved once."""
    from tests.conftest import seasonal_frame

    root = tmp_path_factory.mktemp("runs")
    seasonal_frame().to_csv(root / "monthly.csv", index=False)
    panel = read_csv(root / "monthly.csv")
    Forecaster("seasonal_naive").fit(panel).save(root / "baseline")
    Forecaster("mlp", params={"units": 2, "layers": 1}, epochs=1).fit(panel).save(root / "mlp")
    return root


def copy_run(saved, name, tmp_path):
    shutil.copytree(saved / name, tmp_path / "run")
    return tmp_path / "run"


def edit(run, change, file="manifest.json") -> None:
    """Apply ``change`` to a run file's JSON and refresh the digest the manifest records."""
    doc = json.loads((run / file).read_text())
    change(doc)
    (run / file).write_text(json.dumps(doc))
    if file != "manifest.json":
        manifest = json.loads((run / "manifest.json").read_text())
        blob = (run / file).read_bytes()
        manifest["files"][file] = {"bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
        (run / "manifest.json").write_text(json.dumps(manifest))


def setter(path: str, value):
    """A change that sets the value at a dotted path (list indexes as numbers)."""
    return lambda doc: set_at(doc, path.split("."), value)


def set_at(doc, keys: list, value) -> None:
    *head, last = keys
    node = doc
    for key in head:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(last) if isinstance(node, list) else last] = value


MANIFEST_EDITS = [
    ("format_version", "2", "corrupt"), ("format_version", 0, "newer forecaster"),
    ("model_file", "../../x.keras", "holds only model.keras"),
    ("files", {"../x": {"bytes": 1, "sha256": "0"}}, "lists its files wrongly"),
    ("params.horizon", "12", "params.horizon must be null or equal state.horizon (12)"),
    ("params.model", "evil", "Unknown model 'evil'"),
    ("params.levels", [80], "params.levels must equal state.levels"),
    ("params.surprise", 1, "incomplete or invalid run"),
    ("params.levels", "80", "params.levels must be a list"),
    ("state.horizon", 10**9, "state.horizon must be an integer between 1 and 100000"),
    ("state.horizon", "12", "state.horizon must be an integer"),
    ("state.horizon", 13, "state.calibration[0].n must list 13 counts"),
    ("state.lookback", -1, "state.lookback must be an integer between 1"),
    ("state.season", 0, "state.season must be an integer between 1"),
    ("state.ids", "y", "state.ids must be a list of distinct texts"),
    ("state.ids", ["y", "y"], "state.ids must be a list of distinct texts"),
    ("state.levels", [80, 80], "state.levels must be a list of distinct whole percents"),
    ("state.levels", [150], "state.levels must be a list of distinct whole percents"),
    ("state.splits", [], "state.splits must have 1 entries (one per series)"),
    ("state.splits.0.train", [50, 2], "state.splits[0] must be row ranges in time order"),
    ("state.splits.0.test", "x", "state.splits[0].test must be [start, stop]"),
    ("state.calibration.0.quantiles.80", [1.0], "quantiles.80 must list 12 numbers (one per step)"),
    ("state.calibration.0.quantiles.80", ["a"] * 12, "quantiles.80[0] must be a number"),
    ("state.calibration.0.n", [], "state.calibration[0].n must list 12 counts"),
    ("state.calibration.0.levels", [90, 95], "state.calibration[0].levels must equal state.levels"),
    ("state.calibration.0.factor", -1, "state.calibration[0].factor must be a number >= 1.0"),
    ("state.calibration.0.quantiles.80", [1e308] * 12, "non-finite bound(s) for series"),
    ("state.calibration", "x", "state.calibration must have 1 entries (one per series)"),
    ("state.calibration", [], "state.calibration must have 1 entries (one per series)"),
    ("state.interval_scales", [0.0], "state.interval_scales[0] must be a positive number"),
    ("state.interval_scales", [1.0, 2.0], "state.interval_scales must have 1 entries"),
    ("state.last_timestamps", [], "state.last_timestamps must have 1 entries"),
    ("state.schema.freq", 5, "state.schema.freq must be text"),
    ("state.schema.freq", "bogus", "is malformed"),
    ("state.schema.target", None, "state.schema.target must be text"),
    ("state.schema.covariates", "a", "state.schema.covariates must be a list of texts"),
    ("state.schema.fill", "evil", "state.schema.fill must be one of"),
    ("state.schema.layout", "weird", "state.schema.layout must be one of"),
    ("state.metrics", [], "state.metrics must be an object"),
    ("state.history", None, "state.history must be an object"),
    ("state.backend", "torch", "state.backend must be one of"),
    ("state.seed", -5, "state.seed must be an integer between 0"),
    ("state.source_sha256", "zz", "state.source_sha256 must be 64 hexadecimal digits"),
    ("state.n_params", -1, "state.n_params must be an integer >= 0"),
    ("state.fit_seconds", "fast", "state.fit_seconds must be a number"),
    ("state.source", ["/etc/passwd"], "state.source must be text"),
    ("state", [], "state must be an object"),
    ("params", None, "params must be an object"),
]


@pytest.mark.parametrize("path, value, expected", MANIFEST_EDITS,
                         ids=[f"{p}={str(v)[:20]}" for p, v, _ in MANIFEST_EDITS])
def test_a_tampered_manifest_is_one_line(saved, tmp_path, path, value, expected):
    run = copy_run(saved, "baseline", tmp_path)
    edit(run, setter(path, value))
    assert_one_line_error(predict(run), expected)


DATA_EDITS = [
    ("series.0.values", [["x"]], "is malformed"),
    ("series.0.values", [[1e999]], "holds a missing or non-finite value"),
    ("series.0.values", [], "holds values of shape (0,)"),
    ("series.0.start", "not a date", "is malformed"),
    ("series.0.id", "zzz", "are not the run's ids"),
    ("columns", ["other"], "expected format 1 with columns ['y']"),
    ("format", 7, "is malformed"),
]


@pytest.mark.parametrize("path, value, expected", DATA_EDITS, ids=[p for p, _, _ in DATA_EDITS])
def test_tampered_stored_data_is_one_line(saved, tmp_path, path, value, expected):
    run = copy_run(saved, "baseline", tmp_path)
    edit(run, setter(path, value), file="data.json")
    assert_one_line_error(predict(run), expected)


NEURAL_EDITS = [
    ("state.scalers.0.scale", [0.0], "state.scalers[0].scale[0] must be a positive number"),
    ("state.scalers", [], "state.scalers must have 1 entries"),
    ("state.scalers.0.kind", "robust", "state.scalers[0].kind must be one of"),
    ("state.lookback", 5, "model.keras takes (None, 24, 1)"),
    ("params.params", {"units": -4}, "units=-4 is invalid"),
]


@pytest.mark.parametrize("path, value, expected", NEURAL_EDITS, ids=[p for p, _, _ in NEURAL_EDITS])
def test_a_tampered_neural_run_is_one_line(saved, tmp_path, path, value, expected):
    run = copy_run(saved, "mlp", tmp_path)
    edit(run, setter(path, value))
    assert_one_line_error(predict(run), expected)


def leaves(node, keys=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*keys, key))
    elif isinstance(node, list) and node:
        for k, value in enumerate(node[:2]):
            yield from leaves(value, (*keys, k))
    else:
        yield keys


def test_no_edit_of_any_manifest_value_gives_anything_but_a_forecast_or_a_forecaster_error(saved, tmp_path):
    """Every leaf of the manifest, set to values of the wrong type or range."""
    original = json.loads((saved / "baseline" / "manifest.json").read_text())
    paths = [p for p in leaves(original) if p[0] not in ("libraries", "created")]
    assert len(paths) > 60
    run = copy_run(saved, "baseline", tmp_path)
    for path in paths:
        for value in (None, "x", -1, 1e308, [], True):
            doc = json.loads(json.dumps(original))
            set_at(doc, list(path), value)
            (run / "manifest.json").write_text(json.dumps(doc))
            try:
                f = Forecaster.load(run)
                f.predict(f.data_)
            except ForecasterError:
                pass


SECRET = "root:x:0:0:SECRET-LINE"


def test_the_file_a_manifest_names_is_never_opened(saved, tmp_path, monkeypatch):
    secret = tmp_path / "passwd"
    secret.write_text(SECRET + "\n")
    run = copy_run(saved, "baseline", tmp_path)
    edit(run, lambda m: m["state"].update(source=str(secret), source_path=str(secret)))
    opened = []
    monkeypatch.setattr("forecaster._csv.load", lambda path: opened.append(path))
    result = predict(run)  # forecasts from the data the run keeps
    assert result.exit_code == 0 and SECRET not in result.output and not opened
    (run / "data.json").unlink()  # a run that keeps no data (an older one, or a very long one)
    edit(run, lambda m: m["files"].pop("data.json"))
    result = predict(run)
    assert_one_line_error(result, "keeps no copy of its data")
    assert "pass --data FILE" in result.stderr and SECRET not in result.output and not opened
