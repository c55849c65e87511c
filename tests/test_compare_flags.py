"""compare checks every flag before any work: one line on stderr, exit 1, nothing run."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from forecaster import jobs
from forecaster.cli import app


@pytest.fixture
def no_work(monkeypatch):
    """Fail loudly if a flag error lets compare start a job."""
    def refuse(*args, **kwargs):
        raise AssertionError("a job ran before the flags were checked")

    monkeypatch.setattr(jobs, "run", refuse)


BAD_FLAGS = [
    (["--test-size", "0"], "--test-size must be an integer >= 1, got 0."),
    (["--metric", "r2"], "Unknown --metric 'r2'. Use one of: mae, rmse, mape, smape, mase, owa."),
    (["--backend", "torch"], "torch"),
    (["--scaler", "robust"], "Unknown scaler 'robust'."),
    (["--norm", "log"], "Unknown --norm 'log'."),
    (["--epochs", "0"], "--epochs must be an integer >= 1, got 0."),
    (["--batch-size", "0"], "--batch-size must be an integer >= 1, got 0."),
    (["--learning-rate", "0"], "--learning-rate must be > 0, got 0.0."),
    (["--loss", "hinge"], "Unknown loss 'hinge'."),
    (["--folds", "0"], "--folds must be an integer >= 1, got 0."),
    (["--jobs", "0"], "--jobs must be an integer >= 1, got 0."),
    (["--budget", "0"], "--budget must be an integer >= 1, got 0."),
    (["--horizon", "0"], "--horizon must be an integer >= 1, got 0."),
    (["--lookback", "0"], "--lookback must be an integer >= 1, got 0."),
    (["--level", "100"], "--level must be between 0 and 100 (percent), got 100."),
    (["--seed", "-2"], "--seed must be an integer between 0 and 4294967295, or -1"),
    (["--seeds", "0"], "--seeds must be an integer >= 1, got 0."),
    (["--models", "lsmt"], "Unknown model 'lsmt'. Did you mean 'lstm'?"),
    (["--models", "naive,stat"], "Unknown model 'stat'. Did you mean 'stats'?"),
    (["--ensemble", "mlp"], "--ensemble needs at least two models to combine, got mlp"),
    (["--ensemble", "mlp,bogus"], "Unknown model 'bogus'."),
    (["--param", "bogus=1"], "--param bogus=1: no compared model takes 'bogus'."),
    (["--param", "lstm.units=8"], "--param lstm.units=8: 'lstm' is not among the compared models"),
    (["--param", "units=-3"], "units=-3 is invalid"),
    (["--param", "seasons=x"], "Invalid value 'x' for parameter 'seasons' of model 'mstl'"),
    (["--max-train-size", "0"], "--max-train-size must be an integer >= 1, got 0."),
]


@pytest.mark.parametrize(("flags", "message"), BAD_FLAGS, ids=[" ".join(f) for f, _ in BAD_FLAGS])
def test_every_bad_flag_is_one_line_and_exit_1_before_any_work(monthly_csv, no_work, flags, message):
    models = [] if "--models" in flags else ["--models", "mlp,mstl"]
    result = CliRunner().invoke(app, ["compare", str(monthly_csv), *models, *flags])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr
    assert result.stdout == "" and "Traceback" not in result.output


def test_save_best_target_is_checked_before_any_work(monthly_csv, no_work, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["compare", str(monthly_csv), "--models", "naive",
                                      "--save-best", str(taken)])
    assert result.exit_code == 1 and "holds 'notes.txt', which is not part of a forecaster run" in result.stderr
    result = CliRunner().invoke(app, ["compare", str(monthly_csv), "--models", "naive", "--no-auto",
                                      "--save-best", str(tmp_path / "new")])
    assert result.exit_code == 1 and "drop --no-auto" in result.stderr


def test_every_model_failing_is_exit_1(monthly_csv, monkeypatch):
    def all_fail(panel, tasks, **kwargs):
        return [{"model": m, "fold": k, "error": "TrainingError: NaN", "forecasts": None}
                for m, k in tasks]

    monkeypatch.setattr(jobs, "run", all_fail)
    result = CliRunner().invoke(app, ["compare", str(monthly_csv), "--models", "naive"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Every model failed on every fold: fold 0: TrainingError")
    assert "Traceback" not in result.output


def test_too_short_for_the_windows_is_one_line(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("date,y\n" + "".join(f"2000-{m:02d}-01,{m}\n" for m in range(1, 13)))
    result = CliRunner().invoke(app, ["compare", str(path), "--models", "naive", "--folds", "3"])
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
