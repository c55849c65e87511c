"""One-call library functions behind the CLI commands: each is what a command does.

>>> from forecaster.api import model_summary
>>> model_summary("mlp", lookback=4, horizon=2, n_features=1, params={"units": 3, "layers": 1})["n_params"]
23
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from forecaster import artifacts, ensemble, outputs
from forecaster.data import Panel, read_csv, read_options
from forecaster.errors import ConfigError, DataError, ForecasterError
from forecaster.forecaster import Forecaster
from forecaster.models import REFERENCE, REGISTRY
from forecaster.params import MAX_HORIZON, WINDOW_PARAMS, check_int

#: The flags of ``forecaster predict``; its errors name no others.
PREDICT_FLAGS = ("--data", "--future", "--output", "--plot", "--json")

if TYPE_CHECKING:
    from forecaster.evaluate import Evaluation


def fit_and_save(panel: Panel, model: str, out: str | Path, *, test_size: int | None = None,
                 **options) -> dict:
    """Fit ``model``, score the held-out end next to seasonal naive, save the run directory.

    ``out`` is checked before anything is fit (:func:`forecaster.artifacts.check_target`):
    a file, a link or a folder holding other files is refused.

    Args:
        panel: The data.
        model: A registered model name.
        out: The run directory to write.
        test_size: Rows held out at the end of each series and scored (default: horizon).
        **options: Any other :class:`Forecaster` setting.

    Returns:
        The fit report: model, n_params, lookback, horizon, epochs_run, fit_seconds,
        metrics, seasonal_naive (the same metrics for seasonal naive), seed (the seed
        used), seed_drawn (True for ``seed=-1``), artifact, and notices (sentences for the
        user, e.g. series left out of training).
    """
    artifacts.check_target(out)
    f = Forecaster(model, **options).fit(panel, test_size=test_size)
    reference = Forecaster(REFERENCE, **{k: v for k, v in options.items() if k in WINDOW_PARAMS})
    reference.fit(panel, test_size=test_size)
    f.save(out)
    return {
        "model": model, "n_params": f.n_params_, "lookback": f.lookback_, "horizon": f.horizon_,
        "test_size": f.test_size_, "n_series": len(panel.ids),
        "epochs_run": f.history_["epochs_run"], "fit_seconds": f.fit_seconds_,
        "metrics": f.metrics_, "seasonal_naive": reference.metrics_, "seed": f.seed_,
        "seed_drawn": f.seed != f.seed_, "artifact": str(out),
        "notices": list(f.notices_),
    }


@dataclass(frozen=True)
class Prediction:
    """What :func:`predict_run` returns: the forecast, the data it was made from, notices."""

    forecast: pd.DataFrame
    panel: Panel
    notices: list[str]

    def plot(self, path, **options):
        """Draw the history, the forecast and its intervals to a PNG (``run_plots.plot_prediction``)."""
        from forecaster import run_plots

        frame = self.forecast if "id" in self.forecast else self.forecast.assign(id=self.panel.ids[0])
        return run_plots.plot_prediction(run_plots.history_frame(self.panel), frame, path,
                                         target=self.panel.target, **options)


def predict_run(run_dir: str | Path, data: str | Path | None = None,
                future: str | Path | None = None, *, writes: dict | None = None) -> Prediction:
    """Forecast past the end of ``data`` (default: the data the run keeps) with a saved run.

    Without ``data`` the run's own copy of the rows its forecast reads is used (see
    :mod:`forecaster.stored`); no file named in the run directory is ever opened. With
    ``data`` the file is read the way the training file was; if it is the training file and
    its content changed since the fit, a notice says so. A global model also forecasts
    series not seen in training, with a notice saying so. The forecast has no ``id``
    column when the data holds a single series. Errors name only ``predict``'s flags.
    ``future``: a file with the future covariates' values over the horizon (see
    :meth:`Forecaster.predict`), read like the data (time column, id column).

    ``writes`` (``{flag: path}``, e.g. ``{"--output": ...}``) are the files the caller will
    write, checked first: none may be ``data``, ``future``, the training file, or inside the run.
    """
    from forecaster.newdata import unseen_notices

    if ensemble.is_median_run(run_dir):
        return _predict_median(run_dir, data, future, writes)
    f = Forecaster.load(run_dir)
    for flag, path in (writes or {}).items():
        if path is not None:
            outputs.check_file(path, flag, reads=[data, future, f.source_path_], inside=[run_dir])
    try:
        panel, notices = _panel_for(f, run_dir, data)
        frame = f.predict(panel, future=future)
        notices = [*panel.notices, *notices, *unseen_notices(f, panel)]
    except ForecasterError as exc:
        raise type(exc)(own_flags(str(exc), PREDICT_FLAGS)) from None
    if panel.layout == "single":
        frame = frame.drop(columns="id")
    return Prediction(frame, panel, notices)


def _predict_median(run_dir, data, future, writes) -> Prediction:
    """A median run (``compare --save-best``): each member's forecast, then their median."""
    for flag, path in (writes or {}).items():
        if path is not None:
            outputs.check_file(path, flag, reads=[data, future], inside=[run_dir])
    parts = [predict_run(Path(run_dir) / name, data, future) for name in ensemble.members_of(run_dir)]
    notices = list(dict.fromkeys(n for p in parts for n in p.notices))
    return Prediction(ensemble.median([p.forecast for p in parts]), parts[0].panel, notices)


def load_and_predict(run_dir: str | Path, data: str | Path | None = None,
                     future: str | Path | None = None) -> pd.DataFrame:
    """Forecast past the end of ``data`` (default: the data the run keeps) with a saved run."""
    return predict_run(run_dir, data, future).forecast


def evaluate_run(run_dir: str | Path, data: str | Path, *, read: dict | None = None,
                 stride: int | None = None, level: int | None = None) -> Evaluation:
    """Score a saved run on ``data`` past its training end (see :func:`forecaster.evaluate.evaluate`).

    ``data`` is read as the run's training file was, except for the :func:`read_csv`
    arguments given in ``read`` (None values are not given); naming the target, id column
    or covariates there lets the layout be detected afresh.
    """
    from forecaster.evaluate import evaluate

    f = Forecaster.load(run_dir)
    given = {k: v for k, v in (read or {}).items() if v is not None}
    options = {**read_options(f.schema_), **given}
    if given.keys() & {"target", "id_col", "covariates"} and "wide" not in given:
        options["wide"] = None
    panel = read_csv(data, **options)
    result = evaluate(f, panel, stride=stride, level=level)
    result.settings["run"] = str(run_dir)
    result.notices[:0] = panel.notices
    return result


def describe_run(run_dir: str | Path, *, plot: str | Path | None = None) -> dict:
    """A saved run: its settings, data schema, training, test metrics, intervals, layers.

    ``layers`` (with ``n_params`` and ``weights_only`` totals) is the layer table of
    :func:`model_summary`, read from the saved model; empty for a model without weights.
    """
    from forecaster import summary
    from forecaster._json import plain
    from forecaster.newdata import training_end

    if plot is not None:
        outputs.check_file(plot, "--plot", inside=[run_dir])
    manifest = artifacts.read_manifest(run_dir)
    f = Forecaster.load(run_dir)
    rows = summary.describe(f.model_) if f.model_ is not None else []
    if plot is not None:
        if f.model_ is None:
            raise ConfigError(f"{run_dir} holds a {f.model} model, with no layers to draw; "
                              "leave out --plot.")
        _plot(f.model_, plot)
    hist = f.history_
    settings = {**{k: v for k, v in f.get_params().items() if k != "progress"},
                "lookback": f.lookback_, "horizon": f.horizon_, "val_size": f.val_size_,
                "test_size": f.test_size_, "levels": list(f.levels_), "backend": f.backend_}
    return plain({
        "run": str(run_dir), "model": f.model, "kind": REGISTRY[f.model].kind,
        "created": manifest.get("created"), "format_version": manifest["format_version"],
        "libraries": manifest.get("libraries", {}), "settings": settings, "config": f.config_,
        "data": {**f.schema_, "season": f.season_, "source": f.source_, "n_series": len(f.ids_),
                 "ids": list(f.ids_), "training_end": training_end(f)},
        "training": {"n_params": f.n_params_, "epochs_run": hist.get("epochs_run"),
                     "best_epoch": hist.get("best_epoch"), "fit_seconds": f.fit_seconds_,
                     "best_val_loss": min(hist["val_loss"]) if hist.get("val_loss") else None},
        "metrics": f.metrics_,
        "intervals": {"levels": list(f.levels_),
                      "residuals_per_step": [c.n for c in f.calibration_],  # per series
                      "inflation": [c.factor for c in f.calibration_]}
        if f.calibration_ else None,
        "layers": rows, **summary.totals(rows),
    })


def _panel_for(f: Forecaster, run_dir, data) -> tuple[Panel, list[str]]:
    if data is None:
        if f.data_ is None:
            was = f" (it was fit on {f.source_path_!r:.200})" if f.source_path_ else ""
            raise DataError(f"{run_dir} keeps no copy of its data (it was saved by an older forecaster, "
                            "or its series held more numbers than a run keeps); pass --data FILE to "
                            f"forecast past the end of FILE{was}.")
        return f.data_, []
    try:
        panel = read_csv(data, **read_options(f.schema_))
    except ForecasterError as exc:
        raise type(exc)(f"{exc} The run reads --data with the columns, frequency and layout of the "
                        "file it was fit on; pass a file like it.") from None
    notices = []
    if (f.source_sha256_ and f.source_path_ and str(data) != "-"
            and os.path.realpath(data) == os.path.realpath(f.source_path_)
            and artifacts.file_sha256(data) != f.source_sha256_):
        notices.append(f"{Path(data).name} changed since the run was fit (its SHA-256 differs); "
                       "forecasting past the end of its current content.")
    return panel, notices


def own_flags(message: str, flags: tuple[str, ...]) -> str:
    """``message`` without the sentences that suggest flags other than ``flags``.

    >>> own_flags("Too short (lookback 24). Lower --lookback or --horizon. Pass --data.", ("--data",))
    'Too short (lookback 24). Pass --data.'
    """
    sentences = re.split(r"(?<=[.;])\s+(?=[A-Z])", message)
    kept = [s for s in sentences if all(f in flags for f in re.findall(r"--[a-z][a-z-]*", s))]
    return " ".join(kept) or message


def model_summary(name: str, *, lookback: int, horizon: int, n_features: int = 1,
                  params: dict | None = None, plot: str | Path | None = None) -> dict:
    """Layers, output shapes and closed-form parameter counts of a neural model."""
    from forecaster import backend, budget, models, summary

    if not models.is_neural(name):
        raise ConfigError(f"'{name}' is a baseline with no weights; pick a neural model: "
                          f"{', '.join(models.NEURAL)}.")
    for flag, value in (("lookback", lookback), ("horizon", horizon), ("n_features", n_features)):
        check_int(flag, value, 1, maximum=MAX_HORIZON)
    backend.use()
    config = models.make_config(name, params)
    budget.check_size(name, config, lookback=lookback, n_features=n_features, horizon=horizon)
    model = models.module(name).build(config, lookback=lookback, n_features=n_features,
                                      horizon=horizon)
    rows = summary.describe(model)
    if plot is not None:
        outputs.check_file(plot, "--plot")
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
