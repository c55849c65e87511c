"""Run directories: atomic writes that a failure or a kill inside the save cannot half-finish."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from forecaster import Forecaster, artifacts, read_csv
from forecaster.errors import ArtifactError
from tests.conftest import REPO


def leftovers(path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}."))


def test_a_failure_inside_the_save_keeps_the_old_run_and_leaves_no_temporary(monthly_csv, tmp_path,
                                                                             monkeypatch):
    panel = read_csv(monthly_csv)
    run = tmp_path / "run"
    Forecaster("naive").fit(panel).save(run)
    before = (run / "manifest.json").read_text()

    class Exploding:
        def save(self, path):
            path.write_bytes(b"half a model")  # the model file is half written ...
            raise OSError("disk full")  # ... when the save fails

    with pytest.raises(OSError, match="disk full"):
        artifacts.save(run, {"params": {}, "state": {}}, Exploding())
    assert (run / "manifest.json").read_text() == before  # the old run, untouched
    assert not (run / "model.keras").exists()
    assert leftovers(run) == []


KILLED_SAVE = """
import os, signal, sys
from forecaster import artifacts

class KilledWhileSaving:
    def save(self, path):
        path.write_bytes(b"half a model")
        os.kill(os.getpid(), signal.SIGKILL)

artifacts.save(sys.argv[1], {"params": {}, "state": {}}, KilledWhileSaving())
"""


def test_a_kill_inside_the_save_keeps_the_old_run_and_the_next_save_cleans_up(monthly_csv, tmp_path):
    panel = read_csv(monthly_csv)
    run = tmp_path / "run"
    f = Forecaster("seasonal_naive").fit(panel)
    f.save(run)
    proc = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(run)], cwd=REPO,
                          capture_output=True, timeout=120)
    assert proc.returncode == -9  # killed inside the save, as planned
    stale = leftovers(run)
    assert len(stale) == 1 and stale[0].startswith(".run.tmp-")  # what the kill left behind
    assert (tmp_path / stale[0] / "model.keras").read_bytes() == b"half a model"
    old = Forecaster.load(run)  # the previous run is complete and loads
    pd.testing.assert_frame_equal(old.predict(panel), f.predict(panel))
    f.save(run)  # the next save to the same place removes the stale temporary
    assert leftovers(run) == []


def test_saving_over_a_folder_that_is_not_a_run_is_refused(monthly_csv, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ArtifactError, match="is not a forecaster run directory"):
        Forecaster("naive").fit(read_csv(monthly_csv)).save(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_a_manifest_naming_another_model_file_is_refused(monthly_csv, tmp_path):
    Forecaster("naive").fit(read_csv(monthly_csv)).save(tmp_path / "run")
    manifest = tmp_path / "run" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()),
                                    "model_file": "../elsewhere.keras"}))
    with pytest.raises(ArtifactError, match="holds only model.keras"):
        Forecaster.load(tmp_path / "run")


def test_an_incomplete_manifest_is_an_artifact_error(monthly_csv, tmp_path):
    Forecaster("naive").fit(read_csv(monthly_csv)).save(tmp_path / "run")
    manifest = tmp_path / "run" / "manifest.json"
    data = json.loads(manifest.read_text())
    del data["state"]["splits"]
    manifest.write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match="incomplete or invalid run"):
        Forecaster.load(tmp_path / "run")


def test_artifacts_does_not_import_the_forecaster_module():
    code = "import sys, forecaster.artifacts; print('forecaster.forecaster' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == "False"
