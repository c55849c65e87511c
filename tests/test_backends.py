"""Every supported Keras backend: the model contracts, gradients and stateful training pass, and
artifacts load across backends."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from forecaster import Forecaster, read_csv
from forecaster.backend import BACKENDS, DEFAULT
from tests.conftest import REPO


def _installed(backend: str) -> bool:
    return importlib.util.find_spec(backend) is not None


OTHERS = [b for b in BACKENDS if b != os.environ.get("KERAS_BACKEND", DEFAULT)]
# Test files rerun on every other backend: the model contracts, and the tests of stateful
# training and gradients that touch the backend (state carried by its trainer, its autodiff).
PER_BACKEND = {"models": ["tests/test_models.py"],
               "gradients": ["tests/test_gradients.py", "-k", "halves or finite or spectral"],
               "stateful": ["tests/test_stateful.py", "-k", "chunk_boundary or carries or warm"]}


@pytest.mark.parametrize("backend", OTHERS)
@pytest.mark.parametrize("suite", list(PER_BACKEND))
def test_contracts_pass_on_the_other_backends(backend, suite):
    if not _installed(backend):
        pytest.skip(f"backend {backend} is not installed (pip install 'forecaster-nn[test]')")
    env = {**os.environ, "KERAS_BACKEND": backend}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                           *PER_BACKEND[suite]], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]


FIT_ON = """
import json, sys
from forecaster import Forecaster, read_csv
panel = read_csv(sys.argv[1])
f = Forecaster("gru", params={"units": 4}, epochs=2, seed=0, backend=sys.argv[3]).fit(panel)
f.save(sys.argv[2])
print(json.dumps(f.predict(panel)["forecast"].tolist()))
"""


@pytest.mark.parametrize("backend", OTHERS)
def test_an_artifact_saved_on_one_backend_loads_on_this_one(backend, monthly_csv, tmp_path):
    if not _installed(backend):
        pytest.skip(f"backend {backend} is not installed")
    proc = subprocess.run([sys.executable, "-c", FIT_ON, str(monthly_csv), str(tmp_path / "run"),
                           backend], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    f = Forecaster.load(tmp_path / "run")
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["state"]["backend"] == backend
    ours = f.predict(read_csv(monthly_csv))["forecast"].to_numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)
