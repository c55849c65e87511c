"""Shared fixtures: small synthetic series written as CSV files, and the shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecaster.backend import DEFAULT  # noqa: E402  (imports nothing heavy)

# Test files import keras directly; without this Keras would pick its own default backend.
os.environ.setdefault("KERAS_BACKEND", DEFAULT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
REPO = Path(__file__).resolve().parents[1]


def seasonal_frame(n: int = 96, *, season: int = 12, freq: str = "MS", seed: int = 0,
                   level: float = 100.0) -> pd.DataFrame:
    """A noisy seasonal series with a gentle trend: date, y."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = level + 0.2 * t + 10 * np.sin(2 * np.pi * t / season) + rng.normal(0, 1, n)
    return pd.DataFrame({"date": pd.date_range("2000-01-01", periods=n, freq=freq), "y": y})


@pytest.fixture
def monthly_csv(tmp_path: Path) -> Path:
    path = tmp_path / "monthly.csv"
    seasonal_frame().to_csv(path, index=False)
    return path


@pytest.fixture
def panel_csv(tmp_path: Path) -> Path:
    """Three hourly series of different lengths in long form (unique_id, ds, y)."""
    frames = []
    for i, n in enumerate((120, 100, 110)):
        df = seasonal_frame(n, season=24, freq="h", seed=i, level=50.0 * (i + 1))
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": df["date"], "y": df["y"]}))
    path = tmp_path / "panel.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def m4_long_csv(tmp_path_factory) -> Path:
    """M4 Hourly as one long CSV (id, timestamp, value): train then test per series."""
    train_file, test_file = SHARED / "m4_hourly" / "Hourly-train.csv", SHARED / "m4_hourly" / "Hourly-test.csv"
    if not train_file.exists():
        pytest.skip(f"{train_file} is not available")
    train = pd.read_csv(train_file, index_col=0)
    test = pd.read_csv(test_file, index_col=0)
    frames = []
    for sid in train.index:
        values = np.concatenate([train.loc[sid].dropna().to_numpy(), test.loc[sid].to_numpy()])
        frames.append(pd.DataFrame({"id": sid, "timestamp": np.arange(1, len(values) + 1),
                                    "value": values}))
    path = tmp_path_factory.mktemp("m4") / "m4_hourly_long.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path

# Tests train tiny models once, in every fixture and test of this process; the seed median
# users get on small data (three fits, see forecaster._members) is tested in test_members.py.
import forecaster.forecaster  # noqa: E402

forecaster.forecaster.AUTO_SEEDS = 1

def dies(marker: str):
    """A job that kills its worker process the first time (every time, with marker ''): for
    the tests of worker deaths; module-level so that worker processes can unpickle it."""
    if not marker or not os.path.exists(marker):
        if marker:
            open(marker, "w").close()
        os._exit(1)
    return "done"
