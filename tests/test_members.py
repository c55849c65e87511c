"""Seed ensembles: seeds=k trains k fits that differ only in their seed and forecasts their median."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster import Forecaster, read_csv
from forecaster.errors import ConfigError

TINY = dict(params={"units": 3, "layers": 1}, epochs=2, batch_size=16, patience=2)


def test_the_median_of_three_seeds_is_three_fits_medianed(monthly_csv, tmp_path):
    panel = read_csv(monthly_csv)
    ensemble = Forecaster("mlp", seeds=3, seed=5, **TINY).fit(panel)
    singles = [Forecaster("mlp", seeds=1, seed=s, **TINY).fit(panel) for s in (5, 6, 7)]
    assert ensemble.n_params_ == sum(f.n_params_ for f in singles)
    assert len(ensemble.history_["members"]) == 3
    ends = [np.array([len(panel.series[0].values)])]
    expected = np.median([f.forecast_at(panel, ends)[0] for f in singles], axis=0)
    np.testing.assert_allclose(ensemble.forecast_at(panel, ends)[0], expected, rtol=1e-5, atol=1e-5)
    ensemble.save(tmp_path / "run")  # one model.keras, loaded in safe mode
    pd.testing.assert_frame_equal(Forecaster.load(tmp_path / "run").predict(panel),
                                  ensemble.predict(panel))


def test_seeds_default_to_three_on_small_data_only(monthly_csv, monkeypatch):
    from forecaster import forecaster

    monkeypatch.setattr(forecaster, "AUTO_SEEDS", 2)
    f = Forecaster("mlp", **TINY)
    assert f._n_seeds(999) == 2 and f._n_seeds(1000) == 1
    assert Forecaster("mlp", seeds=4, **TINY)._n_seeds(10**6) == 4


def test_seeds_must_be_a_positive_integer():
    with pytest.raises(ConfigError, match="--seeds must be an integer >= 1, got 0."):
        Forecaster("mlp", seeds=0).check_params()
