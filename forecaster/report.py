"""Files of ``forecaster compare --out DIR``: leaderboard tables, forecasts and plots."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from forecaster.compare import COLUMNS, Comparison
from forecaster.data import Panel

TOP_MODELS = 3


def write_report(result: Comparison, panel: Panel, out: str | Path) -> list[Path]:
    """Write leaderboard.{csv,md,json}, forecasts.csv and the PNG plots; return the paths."""
    from forecaster import plotting

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    board = pd.DataFrame(result.leaderboard)
    if "params" in board:  # as --param flags would give them: units=18 layers=2
        board["params"] = board["params"].map(_cell)
    paths = [out / "leaderboard.csv", out / "leaderboard.md", out / "leaderboard.json",
             out / "forecasts.csv"]
    board.to_csv(paths[0], index=False)
    paths[1].write_text(_markdown(board, result.settings))
    paths[2].write_text(json.dumps(result.to_json(), indent=2, default=str) + "\n")
    result.forecasts.to_csv(paths[3], index=False)
    metric = result.settings["metric"]
    ranked = [r["model"] for r in result.leaderboard if r["folds_scored"]][:TOP_MODELS]
    level = result.settings["levels"][0] if result.settings["levels"] else None
    plots = [out / "forecasts.png", out / f"{metric}_by_model.png", out / "loss_curves.png"]
    # Each plot function returns its figure; unreferenced, it is garbage-collected.
    plotting.plot_forecasts(_history(panel), result.forecasts, ranked, plots[0],
                            target=panel.target, level=level)
    plotting.plot_metric_bars(result.leaderboard, metric, plots[1])
    plotting.plot_loss_curves(_histories(result), plots[2])
    return paths + plots


def _history(panel: Panel) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"id": s.id, "timestamp": s.time, "y": s.values[:, 0]})
                      for s in panel.series], ignore_index=True)


def _histories(result: Comparison) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in result.records:
        hist = r.get("history")
        if r.get("error") is None and hist and hist.get("loss"):
            out.setdefault(r["model"], []).append(hist)
    return out


def _markdown(board: pd.DataFrame, settings: dict) -> str:
    levels = [c for c in board if c.startswith("coverage_")]
    cols = [c for c in (*COLUMNS, *levels, "spec", "params", "error") if c in board]
    lines = [f"# Leaderboard ({settings['metric']}, {settings['folds']} fold(s), "
             f"horizon {settings['horizon']}, source {settings['source']})", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in board[cols].iterrows():
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, dict):  # a model's params, as --param flags would give them
        return " ".join(f"{k}={v}" for k, v in value.items())
    return f"{value:.4g}" if isinstance(value, float) else str(value).replace("|", "/")
