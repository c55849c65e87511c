"""Older run-directory formats, read by converting them to the current one (see :mod:`forecaster.artifacts`).

Format 1 (flat: ``data``, ``model``, ``settings``, ``training``, ... sections) becomes format 2
(``params`` and ``state``); the same run gives the same forecasts.
"""

from __future__ import annotations


def upgrade_v1(data: dict, version: int, model_file: str) -> dict:
    """A version-1 manifest in the version-2 layout (same run, same forecasts)."""
    settings, model, source = data["settings"], data["model"], data["data"]
    params = {"model": model["name"], "params": model["config"] or None,
              **{k: settings[k] for k in ("lookback", "horizon", "stride", "val_size", "gap",
                                          "max_train_size", "scaler", "norm", "levels")},
              **data["training"]}
    state = {**{k: settings[k] for k in ("lookback", "horizon", "season", "val_size",
                                         "test_size", "levels")},
             "ids": source["ids"], "last_timestamps": source["last_timestamps"],
             "source": source["source"], "schema": source["schema"], "splits": data["splits"],
             "config": model["config"], "n_params": model["n_params"],
             "backend": data.get("backend"), "scalers": data["scalers"],
             "history": data["history"], "fit_seconds": data["fit_seconds"],
             "metrics": data["metrics"], "calibration": data["calibration"],
             "interval_scales": data["interval_scales"]}
    return {"format_version": version, "upgraded_from": 1, "created": data.get("created"),
            "libraries": data.get("libraries", {}),
            "model_file": model_file if model["n_params"] else None,
            "params": params, "state": state}
