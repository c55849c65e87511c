"""Run directories: replaced in one atomic step under a lock, read as one consistent version.

Kills land inside the save and inside the swap; concurrent writers interleave; a reader
races a writer. Every case must leave the old run or the new one, never a half or nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from forecaster import Forecaster, _fs, artifacts, read_csv
from forecaster.errors import ArtifactError, OutputError
from tests.conftest import REPO, seasonal_frame


def leftovers(path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}."))


def two_panels(tmp_path):
    """Two different monthly series (levels 100 and 500), to tell their runs apart."""
    for name, level in (("a", 100.0), ("b", 500.0)):
        seasonal_frame(level=level).to_csv(tmp_path / f"{name}.csv", index=False)
    return read_csv(tmp_path / "a.csv"), read_csv(tmp_path / "b.csv")


def test_a_failure_inside_the_save_keeps_the_old_run_and_leaves_no_temporary(monthly_csv, tmp_path):
    panel = read_csv(monthly_csv)
    run = tmp_path / "run"
    Forecaster("naive").fit(panel).save(run)
    before = (run / "manifest.json").read_text()

    class Exploding:
        def save(self, path):
            path.write_bytes(b"half a model")  # the model file is half written ...
            raise OSError(28, "No space left on device")  # ... when the save fails

    with pytest.raises(OutputError, match="Could not write the run directory .*No space left on device"):
        artifacts.save(run, {"params": {}, "state": {}}, Exploding())
    assert (run / "manifest.json").read_text() == before  # the old run, untouched
    assert not (run / "model.keras").exists()
    assert leftovers(run) == []


KILLED = """
import os, signal, sys
from forecaster import _fs, artifacts

where = sys.argv[2]

class KilledWhileSaving:
    def save(self, path):
        path.write_bytes(b"half a model")
        if where == "save":
            os.kill(os.getpid(), signal.SIGKILL)

real_exchange, real_rename = _fs.exchange, os.rename

def exchange_then_die(a, b):
    real_exchange(a, b)
    os.kill(os.getpid(), signal.SIGKILL)

def no_exchange(a, b):
    raise _fs.Unsupported(22, "not here", str(b))

def rename_then_die(a, b):
    real_rename(a, b)
    if ".old-" in str(b):  # the first of the two renames: the old run parked
        os.kill(os.getpid(), signal.SIGKILL)

if where == "after exchange":
    _fs.exchange = exchange_then_die
if where == "between renames":
    _fs.exchange, os.rename = no_exchange, rename_then_die
artifacts.save(sys.argv[1], {"params": {}, "state": {"new": True}}, KilledWhileSaving())
"""


def kill_inside(run, where: str) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED, str(run), where], cwd=REPO,
                          capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()  # killed where planned


def test_a_kill_inside_the_save_keeps_the_old_run_and_the_next_save_cleans_up(monthly_csv, tmp_path):
    panel = read_csv(monthly_csv)
    run = tmp_path / "run"
    f = Forecaster("seasonal_naive").fit(panel)
    f.save(run)
    kill_inside(run, "save")
    stale = leftovers(run)
    assert [s.split("-")[0] for s in stale] == [".run.lock", ".run.tmp"]  # what the kill left
    assert (tmp_path / stale[1] / "model.keras").read_bytes() == b"half a model"
    old = Forecaster.load(run)  # the previous run is complete and loads
    pd.testing.assert_frame_equal(old.predict(panel), f.predict(panel))
    f.save(run)  # the next save to the same place removes the stale temporary and the lock
    assert leftovers(run) == []


def test_a_kill_right_after_the_exchange_leaves_the_new_run(monthly_csv, tmp_path):
    run = tmp_path / "run"
    Forecaster("naive").fit(read_csv(monthly_csv)).save(run)
    kill_inside(run, "after exchange")
    assert json.loads((run / "manifest.json").read_text())["state"] == {"new": True}
    stale = [s for s in leftovers(run) if ".tmp-" in s]
    assert len(stale) == 1 and (tmp_path / stale[0] / "manifest.json").exists()  # the old run
    Forecaster("naive").fit(read_csv(monthly_csv)).save(run)
    assert leftovers(run) == []


def test_a_kill_between_the_two_renames_is_undone_by_the_next_read(monthly_csv, tmp_path):
    """Without an atomic exchange (other systems), a kill between the renames is recovered."""
    panel = read_csv(monthly_csv)
    run = tmp_path / "run"
    f = Forecaster("seasonal_naive").fit(panel)
    f.save(run)
    kill_inside(run, "between renames")
    assert not run.exists() and any(".old-" in s for s in leftovers(run))  # the window
    pd.testing.assert_frame_equal(Forecaster.load(run).predict(panel), f.predict(panel))
    assert run.is_dir()  # the old run is back in place


def test_the_two_rename_fallback_replaces_a_run(monthly_csv, tmp_path, monkeypatch):
    def no_exchange(a, b):
        raise _fs.Unsupported(22, "not here", str(b))

    monkeypatch.setattr(_fs, "exchange", no_exchange)
    run, panel = tmp_path / "run", read_csv(monthly_csv)
    Forecaster("naive").fit(panel).save(run)
    Forecaster("mean").fit(panel).save(run)
    assert Forecaster.load(run).model == "mean" and leftovers(run) == []


CONCURRENT = """
import sys
from forecaster import artifacts

for i in range(30):
    artifacts.save(sys.argv[1], {"params": {}, "state": {"writer": sys.argv[2], "i": i}})
"""


def test_concurrent_writers_are_serialised(tmp_path):
    run = tmp_path / "run"
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(run), writer], cwd=REPO,
                              stderr=subprocess.PIPE) for writer in ("a", "b")]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors  # before the lock: FileNotFoundError
    assert artifacts.read(run).manifest["state"]["i"] == 29
    assert leftovers(run) == [] and os.listdir(run) == ["manifest.json"]


def test_a_reader_racing_a_writer_gets_one_whole_version(tmp_path, monkeypatch):
    """A refit lands between the reader's manifest and its data: the reader rereads, consistently."""
    a, b = two_panels(tmp_path)
    run = tmp_path / "run"
    Forecaster("seasonal_naive").fit(a).save(run)
    fit_b = Forecaster("seasonal_naive").fit(b)
    real_read, raced = _fs.Folder.read, []

    def read_then_refit(self, name, limit):
        data = real_read(self, name, limit)
        if name == "manifest.json" and not raced:
            raced.append(name)
            fit_b.save(run)  # replaces the run between the manifest and data.json
        return data

    monkeypatch.setattr(_fs.Folder, "read", read_then_refit)
    got = Forecaster.load(run)
    assert raced and got.metrics_ == fit_b.metrics_  # manifest of b ...
    pd.testing.assert_frame_equal(got.predict(got.data_), fit_b.predict(b))  # ... with b's data


def test_a_file_that_does_not_match_its_manifest_is_refused(monthly_csv, tmp_path):
    run = tmp_path / "run"
    Forecaster("drift").fit(read_csv(monthly_csv)).save(run)
    data = json.loads((run / "data.json").read_text())
    data["series"][0]["values"][-1] = [1e6]  # the history edited after the save
    (run / "data.json").write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match="data.json in .* does not match the size and SHA-256"):
        Forecaster.load(run)


@pytest.mark.parametrize("layout", ["file", "symlink", "foreign file", "run plus a foreign file",
                                    "parent is a file"])
def test_an_out_that_is_not_a_run_is_refused_before_anything_is_written(monthly_csv, tmp_path, layout):
    out = tmp_path / "out"
    if layout == "file":
        out.write_text("keep me")
    elif layout == "symlink":
        (tmp_path / "real").mkdir()
        out.symlink_to(tmp_path / "real")
    elif layout == "foreign file":
        out.mkdir()
        (out / "notes.txt").write_text("keep me")
    elif layout == "run plus a foreign file":
        Forecaster("naive").fit(read_csv(monthly_csv)).save(out)
        (out / "notes.txt").write_text("keep me")
    else:
        (tmp_path / "afile").write_text("keep me")
        out = tmp_path / "afile" / "run"
    expected = {"file": "is a file, not a run directory", "symlink": "is a symbolic link",
                "parent is a file": "is a file, not a directory"}.get(layout, "holds 'notes.txt'")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(OutputError, match=expected):
        Forecaster("naive").fit(read_csv(monthly_csv)).save(out)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_an_empty_folder_becomes_a_run(monthly_csv, tmp_path):
    (tmp_path / "run").mkdir()
    Forecaster("naive").fit(read_csv(monthly_csv)).save(tmp_path / "run")
    assert Forecaster.load(tmp_path / "run").model == "naive"


class FakeModel:
    def save(self, path):
        path.write_bytes(b"weights")


@pytest.mark.parametrize("name", ["manifest.json", "data.json", "model.keras"])
def test_symbolic_links_in_a_run_are_refused(tmp_path, name):
    run, outside = tmp_path / "run", tmp_path / "outside"
    artifacts.save(run, {"params": {}, "state": {}}, FakeModel(), data={"series": []})
    assert artifacts.read(run).model == b"weights"
    os.replace(run / name, outside)
    (run / name).symlink_to(outside)  # same bytes, but through a link leaving the directory
    with pytest.raises(ArtifactError, match=f"{name} in .* is a symbolic link"):
        artifacts.read(run)


def test_a_fifo_or_an_oversized_file_is_refused_without_hanging(monthly_csv, tmp_path, monkeypatch):
    run = tmp_path / "run"
    Forecaster("naive").fit(read_csv(monthly_csv)).save(run)
    monkeypatch.setitem(artifacts.LIMITS, "data.json", 100)
    with pytest.raises(ArtifactError, match="data.json in .* is .* over the limit of 100"):
        Forecaster.load(run)
    (run / "manifest.json").unlink()
    os.mkfifo(run / "manifest.json")  # reading it would block forever
    with pytest.raises(ArtifactError, match="manifest.json in .* is not a regular file"):
        Forecaster.load(run)


def test_a_manifest_naming_another_model_file_is_refused(monthly_csv, tmp_path):
    Forecaster("naive").fit(read_csv(monthly_csv)).save(tmp_path / "run")
    manifest = tmp_path / "run" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()),
                                    "model_file": "../elsewhere.keras"}))
    with pytest.raises(ArtifactError, match="holds only model.keras"):
        Forecaster.load(tmp_path / "run")


def test_the_manifest_is_strict_json(tmp_path):
    artifacts.save(tmp_path / "run", {"params": {}, "state": {"metrics": {"mape": float("nan")}}})
    text = (tmp_path / "run" / "manifest.json").read_text()
    assert "NaN" not in text and json.loads(text)["state"]["metrics"] == {"mape": None}


def test_artifacts_does_not_import_the_forecaster_module():
    code = "import sys, forecaster.artifacts; print('forecaster.forecaster' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == "False"
