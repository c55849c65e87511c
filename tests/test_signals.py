"""SIGTERM and Ctrl-C: one line, exit 128 + signal, no worker process left, nothing half written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecaster.cli import app

REPO = Path(__file__).resolve().parents[1]
linux = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux: /proc/PID/task/TID/children)."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = {int(k) for k in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += sorted(kids - found)
            found |= kids
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@linux
def test_sigterm_stops_compare_and_its_workers(monthly_csv):
    cmd = [sys.executable, "-m", "forecaster", "compare", str(monthly_csv), "--models", "mlp",
           "--folds", "2", "--epochs", "100000", "--patience", "0", "--jobs", "2"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 180  # the parent and 2 workers import Keras first
        while len(workers := descendants(proc.pid)) < 2 and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.5)
        time.sleep(2)  # let the workers get going
        workers = descendants(proc.pid)
        assert len(workers) >= 2
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 143
        assert err.strip().splitlines()[-1] == "Interrupted; nothing was written."
        deadline = time.monotonic() + 30
        while any(alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not [p for p in workers if alive(p)]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for p in descendants(proc.pid):
            os.kill(p, signal.SIGKILL)


def _signalled(signum: int):
    """A stand-in for compare that receives ``signum`` while it works."""

    def run(*args, **kwargs):
        os.kill(os.getpid(), signum)
        time.sleep(5)  # the handler raises here
        raise AssertionError("the signal did not interrupt")

    return run


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_is_one_line_and_its_exit_code(monthly_csv, tmp_path, monkeypatch, signum, code):
    monkeypatch.setattr("forecaster.compare.compare", _signalled(signum))
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["compare", str(monthly_csv), "--out", str(out)])
    assert result.exit_code == code
    assert result.stderr == "Interrupted; nothing was written.\n"
    assert not out.exists()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored


def test_a_signal_while_the_report_is_written_waits_for_it(monthly_csv, tmp_path, monkeypatch):
    import forecaster.report

    real = forecaster.report.write_report

    def write_report(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(forecaster.report, "write_report", write_report)
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["compare", str(monthly_csv), "--models", "naive",
                                      "--out", str(out)])
    assert result.exit_code == 143
    assert result.stderr == f"Interrupted; the report in {out} was written in full.\n"
    assert (out / "leaderboard.json").exists() and (out / "loss_curves.png").exists()
