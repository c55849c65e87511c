"""Presentation only: rich tables and JSON on stdout. Messages go to stderr elsewhere.

Every reporting command renders either a table (people) or one JSON document with
stable keys and raw numbers (``--json``, programs).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

def console() -> Console:
    """A console on stdout that does not wrap numbers when piped."""
    return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def emit(report, json_out: bool, table: Callable[[object], object]) -> None:
    """Print ``report`` as one JSON document or as the renderable ``table(report)``."""
    if json_out:
        sys.stdout.write(json.dumps(report, indent=2, default=_json_default) + "\n")
    else:
        console().print(table(report))


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def fmt(value, digits: int = 3) -> str:
    """Format a number for a table: thousands separators for ints, '-' for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def models_table(rows: list[dict]) -> Table:
    table = Table("model", "kind", "description", title="Registered models")
    for row in rows:
        table.add_row(row["model"], row["kind"], row["description"])
    return table


def fit_report(report: dict):
    from forecaster.metrics import METRICS

    head = Text(f"{report['model']}: {fmt(report['n_params'])} parameters, "
                f"{report['epochs_run']} epochs, {report['fit_seconds']:.1f} s fit, "
                f"test metrics on the last {report['test_size']} steps of "
                f"{report['n_series']} series; saved to {report['artifact']}")
    table = Table("metric", report["model"], "seasonal_naive")
    for name in METRICS:
        table.add_row(name, fmt(report["metrics"].get(name)),
                      fmt(report["seasonal_naive"].get(name)))
    return Group(head, table)


# Leaderboard column -> (heading, decimals); the columns and their order are compare.COLUMNS,
# with the coverage of every level after "coverage" and the spec (or auto's picks) last.
_HEADINGS = {"n_params": ("params", 0), "fit_seconds": ("fit s", 2), "predict_ms": ("pred ms", 2),
             "skill": ("skill %", 1), "interval_width": ("width{level}", 1)}


def leaderboard(doc: dict) -> Table:
    from forecaster.compare import COLUMNS

    s = doc["settings"]
    level = s["levels"][0] if s["levels"] else None
    title = (f"Leaderboard by {s['metric']} ({s['folds']} fold(s) x {s['test_size']} steps, "
             f"horizon {s['horizon']}, lookback {s['lookback']}, {s['n_series']} series)")
    columns = [c for c in COLUMNS if c != "coverage"]
    at = columns.index("interval_width")
    columns[at:at] = [f"coverage_{lv}" for lv in s["levels"]]
    headings = {c: _HEADINGS.get(c, (c.replace("coverage_", "cov"), 3)) for c in columns}
    headings["spec"] = ("spec / pick", 0)
    table = Table(*(h.format(level=level) for h, _ in headings.values()), title=title)
    for row in doc["leaderboard"]:
        table.add_row(*(_cell(row.get(c), c, d) for c, (_, d) in headings.items()))
    table.caption = _caption(doc)
    return table


def _cell(value, column: str, digits: int) -> str:
    if value is None:
        return "-" if column != "spec" else ""
    return str(value) if isinstance(value, str) or column == "rank" else fmt(value, digits)


def _caption(doc: dict) -> str | None:
    """Which folds were scored, and each distinct failure with the models it hit."""
    s, lines = doc["settings"], []
    if len(s["scored_folds"]) < s["folds"]:
        lines.append(f"Scored on folds {s['scored_folds']} of {s['folds']}: the folds every "
                     "model completed.")
    failures: dict[str, list[str]] = {}
    for row in doc["leaderboard"]:
        if row.get("error"):
            failures.setdefault(row["error"], []).append(row["model"])
    lines += [f"Failed ({', '.join(models)}): {error}" for error, models in failures.items()]
    auto = s.get("auto")
    if auto and auto.get("pick"):
        lines.append(f"auto: chosen per fold on the windows before it; on all the data it "
                     f"picks {auto['pick']}" + (" (saved to " + s["saved"]["artifact"] + ")"
                                                if s.get("saved") else ""))
    sized = {m: p for m, p in s.get("params", {}).items() if s.get("budget")}
    if sized:
        lines.append("--budget widths: " + "; ".join(
            f"{m} {' '.join(f'{k}={v}' for k, v in p.items())}" for m, p in sized.items()))
    return "\n".join(lines) or None


def summary_table(report: dict) -> Table:
    title = (f"{report['model']} (lookback {report['lookback']}, horizon {report['horizon']}, "
             f"{report['n_features']} feature(s)): {fmt(report['n_params'])} parameters, "
             f"{fmt(report['weights_only'])} without biases")
    table = Table("layer", "type", "output shape", "params", "closed form", "weights only",
                  title=title)
    for row in report["layers"]:
        table.add_row(row["name"], row["type"], str(row["output_shape"]), fmt(row["n_params"]),
                      row["formula"], fmt(row["weights_only"]))
    return table


def write_forecast(frame, output: Path | None, json_out: bool) -> None:
    """A forecast frame as CSV (to ``output`` or stdout) or as JSON records."""
    if json_out:
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        doc = {"forecast": records}
        if output is not None:
            output.write_text(json.dumps(doc, indent=2) + "\n")
        else:
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    text = frame.to_csv(index=False)
    if output is not None:
        output.write_text(text)
        print(f"Wrote {len(frame)} rows to {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


class JobProgress:
    """A progress bar on stderr over compare's (model, fold) jobs; a no-op when not a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("compare"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                                TextColumn("{task.fields[last]}"), TimeElapsedColumn(),
                                console=Console(stderr=True), transient=True)
            self.task = None

    def __call__(self, record: dict, total: int) -> None:
        if self.bar is None:
            return
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task("jobs", total=total, last="")
        status = "failed" if record.get("error") else f"{record.get('fit_seconds', 0):.1f}s"
        self.bar.update(self.task, advance=1, last=f"{record['model']} fold {record['fold']}: {status}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
