"""Files of ``compare --out DIR`` and ``evaluate --out DIR``: tables, forecasts and plots."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecaster import _json
from forecaster.compare import COLUMNS, Comparison
from forecaster.data import Panel
from forecaster.evaluate import Evaluation
from forecaster.outputs import write_text, writing
from forecaster.run_plots import history_frame

TOP_MODELS = 3
FLAG = "--out"


def report_files(metric: str) -> tuple[str, ...]:
    """The names of the files :func:`write_report` writes (checked before the comparison runs)."""
    return ("leaderboard.csv", "leaderboard.md", "leaderboard.json", "forecasts.csv",
            "forecasts.png", f"{metric}_by_model.png", "loss_curves.png")


def write_report(result: Comparison, panel: Panel, out: str | Path) -> list[Path]:
    """Write leaderboard.{csv,md,json}, forecasts.csv and the PNG plots; return the paths.

    Text files are written whole or not at all; any OSError is one OutputError.
    """
    from forecaster import plotting

    out = Path(out)
    metric = result.settings["metric"]
    paths = [out / name for name in report_files(metric)]
    board = pd.DataFrame(result.leaderboard)
    if "params" in board:  # as --param flags would give them: units=18 layers=2
        board["params"] = board["params"].map(_cell)
    write_text(paths[0], board.to_csv(index=False), FLAG)
    write_text(paths[1], _markdown(board, result.settings), FLAG)
    write_text(paths[2], _json.dumps(result.to_json(), indent=2, default=str) + "\n", FLAG)
    write_text(paths[3], result.forecasts.to_csv(index=False), FLAG)
    ranked = [r["model"] for r in result.leaderboard if r["folds_scored"]][:TOP_MODELS]
    level = result.settings["levels"][0] if result.settings["levels"] else None
    # Each plot function returns its figure; unreferenced, it is garbage-collected.
    with writing(out, FLAG):
        plotting.plot_forecasts(history_frame(panel), result.forecasts, ranked, paths[4],
                                target=panel.target, level=level)
        plotting.plot_metric_bars(result.leaderboard, metric, paths[5])
        plotting.plot_loss_curves(_histories(result), paths[6])
    return paths


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
    return (f"# Leaderboard ({settings['metric']}, {settings['folds']} fold(s), "
            f"horizon {settings['horizon']}, source {settings['source']})\n\n{_table(board[cols])}")


def _table(frame: pd.DataFrame) -> str:
    """A Markdown table of ``frame``'s columns."""
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    for _, row in frame.iterrows():
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ evaluate
SHOWN_ANOMALIES = 100  # rows of the Markdown anomaly table (anomalies.csv has them all)


#: The files :func:`write_evaluation` writes (checked before the evaluation runs).
EVALUATION_FILES = ("evaluation.json", "evaluation.md", "series.csv", "forecasts.csv", "anomalies.csv",
                    "forecasts.png")


def write_evaluation(result: Evaluation, out: str | Path) -> list[Path]:
    """Write evaluation.{json,md}, series.csv, forecasts.csv, anomalies.csv and forecasts.png.

    Text files are written whole or not at all; any OSError is one OutputError.
    """
    from forecaster import run_plots

    out = Path(out)
    paths = [out / name for name in EVALUATION_FILES]
    write_text(paths[0], _json.dumps(result.to_json(), indent=2) + "\n", FLAG)
    write_text(paths[1], _evaluation_markdown(result), FLAG)
    write_text(paths[2], pd.DataFrame(result.series).to_csv(index=False), FLAG)
    write_text(paths[3], result.forecasts.to_csv(index=False), FLAG)
    write_text(paths[4], result.anomalies.to_csv(index=False), FLAG)
    with writing(out, FLAG):
        run_plots.plot_evaluation(history_frame(result.panel), result.forecasts, paths[5],
                                  target=result.panel.target, level=result.settings["level"])
    return paths


def _evaluation_markdown(result: Evaluation) -> str:
    s, anomalies = result.settings, result.anomalies
    head = (f"# {s['model']} ({s['run']}) on {s['source']}\n\nForecasts every {s['stride']} steps "
            f"after the training end {s['training_end']} up to {s['last_timestamp']}, horizon "
            f"{s['horizon']}, anomalies outside the {s['level']}% interval.\n")
    many = len(anomalies) > SHOWN_ANOMALIES
    shown = f" (first {SHOWN_ANOMALIES}; all in anomalies.csv)" if many else ""
    return (f"{head}\n{_table(pd.DataFrame([result.summary]))}\n## Series\n\n"
            f"{_table(pd.DataFrame(result.series))}\n## Anomalies{shown}\n\n"
            f"{_table(anomalies.head(SHOWN_ANOMALIES))}")


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, dict):  # a model's params, as --param flags would give them
        return " ".join(f"{k}={v}" for k, v in value.items())
    return f"{value:.4g}" if isinstance(value, float) else str(value).replace("|", "/")
