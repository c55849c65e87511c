"""One-call library functions behind the CLI commands: each is what a command does.

>>> from forecaster.api import model_summary
>>> model_summary("mlp", lookback=4, horizon=2, n_features=1, params={"units": 3, "layers": 1})["n_params"]
23
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecaster.data import Panel, read_csv, read_options
from forecaster.errors import ConfigError
from forecaster.forecaster import Forecaster
from forecaster.models import REFERENCE
from forecaster.params import WINDOW_PARAMS


def fit_and_save(panel: Panel, model: str, out: str | Path, *, test_size: int | None = None,
                 **options) -> dict:
    """Fit ``model``, score the held-out end next to seasonal naive, save the run directory.

    Args:
        panel: The data.
        model: A registered model name.
        out: The run directory to write.
        test_size: Rows held out at the end of each series and scored (default: horizon).
        **options: Any other :class:`Forecaster` setting.

    Returns:
        The fit report: model, n_params, lookback, horizon, epochs_run, fit_seconds,
        metrics, seasonal_naive (the same metrics for seasonal naive), artifact.
    """
    f = Forecaster(model, **options).fit(panel, test_size=test_size)
    reference = Forecaster(REFERENCE, **{k: v for k, v in options.items() if k in WINDOW_PARAMS})
    reference.fit(panel, test_size=test_size)
    f.save(out)
    return {
        "model": model, "n_params": f.n_params_, "lookback": f.lookback_, "horizon": f.horizon_,
        "test_size": f.test_size_, "n_series": len(panel.ids),
        "epochs_run": f.history_["epochs_run"], "fit_seconds": f.fit_seconds_,
        "metrics": f.metrics_, "seasonal_naive": reference.metrics_, "artifact": str(out),
    }


def load_and_predict(run_dir: str | Path, data: str | Path | None = None) -> pd.DataFrame:
    """Forecast past the end of ``data`` (default: the training CSV) with a saved run."""
    f = Forecaster.load(run_dir)
    panel = read_csv(data or f.source_, **read_options(f.schema_))
    frame = f.predict(panel)
    if panel.layout == "single":
        frame = frame.drop(columns="id")
    return frame


def model_summary(name: str, *, lookback: int, horizon: int, n_features: int = 1,
                  params: dict | None = None, plot: str | Path | None = None) -> dict:
    """Layers, output shapes and closed-form parameter counts of a neural model."""
    from forecaster import backend, models, summary

    if not models.is_neural(name):
        raise ConfigError(f"'{name}' is a baseline with no weights; pick a neural model: "
                          f"{', '.join(models.NEURAL)}.")
    backend.use()
    config = models.make_config(name, params)
    model = models.module(name).build(config, lookback=lookback, n_features=n_features,
                                      horizon=horizon)
    rows = summary.describe(model)
    if plot is not None:
        _plot(model, plot)
    return {"model": name, "lookback": lookback, "horizon": horizon, "n_features": n_features,
            "layers": rows, **summary.totals(rows), "count_params": int(model.count_params())}


def _plot(model, path) -> None:
    import keras

    try:
        keras.utils.plot_model(model, to_file=str(path), show_shapes=True)
    except ImportError as exc:
        raise ConfigError(f"--plot needs pydot and graphviz ({exc}); install them with "
                          "`pip install pydot` and `apt-get install graphviz`.") from None
