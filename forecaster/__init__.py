"""forecaster: honest neural time-series forecasting.

The public API, loaded lazily so that ``import forecaster`` (and ``forecaster --help``)
stays light: no pandas until used, never TensorFlow or matplotlib.

>>> import forecaster
>>> forecaster.__version__
'0.1.0'
"""

from __future__ import annotations

import importlib

from forecaster._version import __version__
from forecaster.errors import (ArtifactError, ConfigError, DataError, ForecasterError, OutputError,
                               TrainingError)

_LAZY = {
    "Forecaster": "forecaster.forecaster",
    "Panel": "forecaster.data",
    "read_csv": "forecaster.data",
    "from_frame": "forecaster.data",
    "Comparison": "forecaster.compare",
    "fit_and_save": "forecaster.api",
    "load_and_predict": "forecaster.api",
    "predict_run": "forecaster.api",
    "evaluate_run": "forecaster.api",
    "describe_run": "forecaster.api",
    "model_summary": "forecaster.api",
    "Evaluation": "forecaster.evaluate",
    "metrics": "forecaster.metrics",
    "MODELS": "forecaster.models",
}

__all__ = ["__version__", "ForecasterError", "DataError", "ConfigError", "ArtifactError",
           "TrainingError", "OutputError", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'forecaster' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    return module if name == "metrics" else getattr(module, name)
