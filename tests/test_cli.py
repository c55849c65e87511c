"""The command line: exit codes, one-line errors without tracebacks, JSON documents, light imports."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from forecaster.cli import app
from tests.test_data import INGEST_ERROR_CASES, WIDE_FLAG_ERROR_CASES

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def assert_user_error(result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and expected in lines[0]


@pytest.mark.parametrize("case_id, csv, flags, expected", INGEST_ERROR_CASES + WIDE_FLAG_ERROR_CASES,
                         ids=[c[0] for c in INGEST_ERROR_CASES + WIDE_FLAG_ERROR_CASES])
def test_every_bad_input_is_one_line_and_exit_1(tmp_path, case_id, csv, flags, expected):
    path = tmp_path / "data.csv"
    if csv is not None:
        path.write_bytes(csv)
    assert_user_error(run("compare", path, "--models", "naive", *flags), expected)


def test_a_wide_file_is_a_panel_with_a_note_and_predicts(tmp_path):
    from tests.conftest import seasonal_frame

    frame = seasonal_frame(60)
    frame["z"] = frame["y"] * 2
    frame.to_csv(tmp_path / "wide.csv", index=False)
    result = run("fit", tmp_path / "wide.csv", "--model", "seasonal_naive", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert "Note: Read 2 series from the columns of" in result.stderr
    pred = run("predict", tmp_path / "run", "--json")
    rows = json.loads(pred.stdout)["forecast"]
    assert {r["id"] for r in rows} == {"y", "z"} and len(rows) == 24


def test_unknown_model_suggests_the_closest(monthly_csv):
    assert_user_error(run("fit", monthly_csv, "--model", "lstn"), "Did you mean 'lstm'?")
    assert_user_error(run("compare", monthly_csv, "--models", "naive,gruu"), "Did you mean 'gru'?")


def test_bad_flag_value_is_a_usage_error(monthly_csv):
    result = run("compare", monthly_csv, "--folds", "many")
    assert result.exit_code == 2 and "Invalid value" in result.output


@pytest.mark.parametrize("flags, expected", [
    (["--backend", "torch"], "Unknown backend 'torch'. Use one of: tensorflow, jax."),
    (["--norm", "weird"], "Unknown --norm 'weird'. Use one of: series, window, season."),
    (["--level", "120"], "--level must be between 0 and 100 (percent), got 120."),
    (["--scaler", "robust"], "Unknown scaler 'robust'. Use one of: standard, minmax, none."),
    (["--horizon", "0"], "--horizon must be an integer >= 1, got 0."),
    (["--epochs", "0"], "--epochs must be an integer >= 1, got 0."),
    (["--loss", "bogus"], "Unknown loss 'bogus'"),
])
def test_bad_option_values_are_one_line_errors(monthly_csv, flags, expected):
    assert_user_error(run("fit", monthly_csv, "--model", "naive", *flags), expected)


def test_bad_param_lists_valid_keys(monthly_csv):
    assert_user_error(run("fit", monthly_csv, "--model", "lstm", "--param", "size=3"),
                      "Unknown parameter 'size' for model 'lstm'. Valid keys: units, layers, dropout, head, "
                      "use_bias, unroll, stateful, bptt.")
    assert_user_error(run("fit", monthly_csv, "--model", "lstm", "--param", "units"),
                      "--param expects KEY=VALUE, got 'units'.")


def test_series_too_short_for_the_windows(monthly_csv):
    assert_user_error(run("fit", monthly_csv, "--model", "mlp", "--lookback", "90"),
                      "lookback 90 + horizon 12")


def test_missing_run_directory(tmp_path):
    assert_user_error(run("predict", tmp_path / "nope"), "No run directory at")


def test_version_and_models():
    assert run("--version").stdout.startswith("forecaster ")
    doc = json.loads(run("models", "--json").stdout)
    assert [m["model"] for m in doc["models"]][:4] == ["naive", "seasonal_naive", "drift", "mean"]
    assert {"mlp", "simple_rnn", "jordan", "lstm", "gru", "wavenet"} <= {m["model"] for m in doc["models"]}


def test_baseline_fit_predict_round_trip(monthly_csv, tmp_path):
    result = run("fit", monthly_csv, "--model", "seasonal_naive", "--out", tmp_path / "run", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"model", "n_params", "lookback", "horizon", "metrics", "fit_seconds", "artifact"} <= set(report)
    assert set(report["metrics"]) == {"mae", "rmse", "mape", "smape", "mase"}
    out = tmp_path / "fc.csv"
    result = run("predict", tmp_path / "run", "--output", out)
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "timestamp,forecast,lower_80,upper_80,lower_95,upper_95"
    assert len(lines) == 1 + 12 and lines[1].startswith("2008-01-01")


def test_neural_fit_reports_the_saved_models_parameter_count(panel_csv, tmp_path):
    import keras

    result = run("fit", panel_csv, "--id-col", "unique_id", "--model", "gru", "--param", "units=5",
                 "--epochs", "2", "--horizon", "6", "--out", tmp_path / "run", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    saved = keras.saving.load_model(tmp_path / "run" / "model.keras", safe_mode=True)
    assert report["n_params"] == saved.count_params() == 3 * 5 * (5 + 1 + 2) + 5 * 6 + 6
    pred = run("predict", tmp_path / "run", "--json")
    rows = json.loads(pred.stdout)["forecast"]
    assert len(rows) == 18 and {"id", "timestamp", "forecast", "lower_80", "upper_95"} <= set(rows[0])


def test_predict_rejects_data_with_another_schema(monthly_csv, panel_csv, tmp_path):
    run("fit", monthly_csv, "--model", "naive", "--out", tmp_path / "run")
    result = run("predict", tmp_path / "run", "--data", panel_csv)
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_summary_reproduces_the_course_parameter_arithmetic():
    mlp = json.loads(run("summary", "--model", "mlp", "--lookback", "20", "--n-features", "30",
                         "--horizon", "3", "--param", "units=16", "--param", "layers=1", "--json").stdout)
    rnn = json.loads(run("summary", "--model", "simple_rnn", "--lookback", "20", "--n-features", "30",
                         "--horizon", "3", "--param", "units=16", "--json").stdout)
    assert (mlp["weights_only"], mlp["n_params"]) == (9648, 9667) == (9648, mlp["count_params"])
    assert (rnn["weights_only"], rnn["n_params"]) == (784, 803) == (784, rnn["count_params"])


def test_m4_hourly_official_numbers_through_compare(m4_long_csv):
    result = run("compare", m4_long_csv, "--id-col", "id", "--models", "naive,seasonal_naive",
                 "--horizon", "48", "--season", "24", "--folds", "1", "--json")
    assert result.exit_code == 0, result.output
    board = {r["model"]: r for r in json.loads(result.stdout)["leaderboard"]}
    assert (round(board["naive"]["smape"], 3), round(board["naive"]["mase"], 3)) == (43.003, 11.608)
    assert (round(board["seasonal_naive"]["smape"], 3),
            round(board["seasonal_naive"]["mase"], 3)) == (13.912, 1.193)


def _modules_after(argv: list[str]) -> set[str]:
    code = ("import sys\nfrom forecaster.cli import main\nsys.argv = ['forecaster', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(','.join(m for m in ('tensorflow', 'keras', 'matplotlib', 'jax') if m in sys.modules),"
            " file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    last = proc.stderr.rstrip("\n").split("\n")[-1]
    return set(filter(None, last.split(",")))


def test_help_imports_neither_tensorflow_nor_matplotlib():
    assert _modules_after(["--help"]) == set()


def test_baseline_compare_never_imports_tensorflow(monthly_csv):
    assert _modules_after(["compare", str(monthly_csv), "--models", "naive,drift,mean"]) == set()


def test_kill_during_training_leaves_no_run_directory(monthly_csv, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "forecaster", "fit", str(monthly_csv), "--model",
                             "lstm", "--epochs", "100000", "--patience", "100000", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(8)  # TensorFlow imported, training under way
    assert proc.poll() is None, "fit ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
