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

from forecaster import _json
from forecaster.outputs import write_text


def console() -> Console:
    """A console on stdout that does not wrap numbers when piped."""
    return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def emit(report, json_out: bool, table: Callable[[object], object]) -> None:
    """Print ``report`` as one strict JSON document (``null`` for NaN) or as the renderable ``table(report)``."""
    if json_out:
        sys.stdout.write(_json.dumps(report, indent=2, default=_json_default) + "\n")
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

    drawn = (f"; seed {report['seed']} drawn at random (pass --seed {report['seed']} to repeat)"
             if report.get("seed_drawn") else "")
    head = Text(f"{report['model']}: {fmt(report['n_params'])} parameters, "
                f"{report['epochs_run']} epochs, {report['fit_seconds']:.1f} s fit, "
                f"test metrics on the last {report['test_size']} steps of "
                f"{report['n_series']} series; saved to {report['artifact']}{drawn}")
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
        table.add_row(*(_board_cell(row.get(c), c, d) for c, (_, d) in headings.items()))
    table.caption = _caption(doc)
    return table


def _board_cell(value, column: str, digits: int) -> str:
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
    if s.get("cut_short"):
        from forecaster.timing import format_duration

        lines.append(f"Stopped by --time-limit {format_duration(s['time_limit_s'])} with their "
                     f"best weights so far: {', '.join(s['cut_short'])}.")
    return "\n".join(lines) or None


def summary_table(report: dict) -> Table:
    title = (f"{report['model']} (lookback {report['lookback']}, horizon {report['horizon']}, "
             f"{report['n_features']} feature(s)): {fmt(report['n_params'])} parameters, "
             f"{fmt(report['weights_only'])} without biases")
    return _layers(report, title)


def _layers(report: dict, title: str) -> Table:
    table = Table("layer", "type", "output shape", "params", "closed form", "weights only",
                  title=title)
    for row in report["layers"]:
        table.add_row(row["name"], row["type"], str(tuple(row["output_shape"])), fmt(row["n_params"]),
                      row["formula"], fmt(row["weights_only"]))
    return table


def run_summary(report: dict) -> Group:
    """``forecaster summary RUN``: settings, data, training, test metrics and layers."""
    d, t = report["data"], report["training"]
    head = Text(f"{report['run']}: {report['model']} ({report['kind']}), "
                f"saved {report['created'] or '-'}, "
                f"{fmt(t['n_params'])} parameters, {t['epochs_run']} epochs, "
                f"{t['fit_seconds']:.1f} s fit")
    settings = {k: v for k, v in report["settings"].items() if k not in ("model", "test_size")}
    if report["config"]:  # the model's whole Config, parsed: it replaces the --param text
        settings["params"] = ", ".join(f"{k}={v}" for k, v in report["config"].items())
    data = {"source": d["source"], "series": _first_ids(d["ids"]), "target": d["target"],
            "covariates": ", ".join(d["covariates"]) or "none", "time column": d["time_col"],
            "id column": d["id_col"], "layout": d.get("layout"), "frequency": d["freq"],
            "season": d["season"], "training end": d["training_end"]}
    parts = [head, _pairs("Settings", settings), _pairs("Data", data)]
    if report["metrics"]:
        parts.append(_pairs("Test metrics", {"test steps": report["settings"]["test_size"],
                                             **{k: fmt(v) for k, v in report["metrics"].items()}}))
    if report["layers"]:
        parts.append(_layers(report, f"Layers: {fmt(report['n_params'])} parameters, "
                                     f"{fmt(report['weights_only'])} without biases"))
    return Group(*parts)


def _pairs(title: str, pairs: dict) -> Table:
    table = Table("", "", title=title, show_header=False, title_justify="left")
    for key, value in pairs.items():
        table.add_row(key, "-" if value is None else str(value))
    return table


def _first_ids(ids: list[str], limit: int = 5) -> str:
    more = f", ... ({len(ids)} series)" if len(ids) > limit else ""
    return ", ".join(map(str, ids[:limit])) + more


# Evaluation summary columns -> (heading, decimals).
_EVALUATION = {"model": ("model", 0), "n_params": ("params", 0), "n_series": ("series", 0),
               "n_origins": ("origins", 0), "n_points": ("points", 0), "mae": ("mae", 3),
               "rmse": ("rmse", 3), "mape": ("mape", 3), "smape": ("smape", 3),
               "mase": ("mase", 3), "skill": ("skill %", 1), "coverage": ("cov{level}", 2),
               "interval_width": ("width{level}", 2), "n_anomalies": ("anomalies", 0)}
SHOWN_ROWS = 20


def evaluation(doc: dict) -> Group:
    """``forecaster evaluate``: the summary row, the series (when many) and the anomalies."""
    s, row = doc["settings"], doc["summary"]
    title = (f"{s['model']} ({s['run']}) on {s['source']}: forecasts every {s['stride']} steps "
             f"after {s['training_end']}, horizon {s['horizon']}")
    table = Table(*(h.format(level=s["level"] or "") for h, _ in _EVALUATION.values()), title=title)
    table.add_row(*(_cell(row[c], d) for c, (_, d) in _EVALUATION.items()))
    parts = [table]
    if len(doc["series"]) > 1:
        parts.append(_series(doc["series"], s["level"]))
    parts.append(anomalies_table(doc))
    return Group(*parts)


def _series(rows: list[dict], level) -> Table:
    cols = {k: v for k, v in _EVALUATION.items() if k not in ("model", "n_params", "n_series")}
    table = Table("id", *(h.format(level=level or "") for k, (h, _) in cols.items()
                          if k != "interval_width"), title="By series")
    for row in rows[:SHOWN_ROWS]:
        table.add_row(str(row["id"]), *(_cell(row.get(c), d) for c, (_, d) in cols.items()
                                        if c != "interval_width"))
    if len(rows) > SHOWN_ROWS:
        table.caption = f"First {SHOWN_ROWS} of {len(rows)} series; all in --json and --out."
    return table


def anomalies_table(doc: dict) -> Table | Text:
    """The anomalies of an evaluation: each actual outside its interval."""
    rows, level = doc["anomalies"], doc.get("level", doc.get("settings", {}).get("level"))
    if not rows:
        return Text(f"No anomalies: every actual is inside its {level}% interval." if level
                    else "No anomaly flags: the run has no intervals.")
    title = f"Anomalies: {len(rows)} actual(s) outside the {level}% interval"
    table = Table("id", "timestamp", "step", "y", "forecast", f"lower_{level}", f"upper_{level}",
                  "score", "direction", title=title)
    for r in rows[:SHOWN_ROWS]:
        table.add_row(str(r["id"]), _when(r["timestamp"]), str(r["step"]), fmt(r["y"]),
                      fmt(r["forecast"]), fmt(r.get(f"lower_{level}")), fmt(r.get(f"upper_{level}")),
                      fmt(r["score"], 2), str(r["direction"]))
    if len(rows) > SHOWN_ROWS:
        table.caption = f"First {SHOWN_ROWS} of {len(rows)}; all in --json and --out."
    return table


def _when(stamp) -> str:
    """An ISO timestamp from JSON as a table shows it: no zero time or milliseconds.

    >>> _when("2020-07-26T00:00:00.000"), _when("2020-07-26T13:00:00.000"), _when(12)
    ('2020-07-26', '2020-07-26 13:00:00', '12')
    """
    text = str(stamp)
    if text.endswith("T00:00:00.000"):
        return text[:-13]
    return text.replace("T", " ").removesuffix(".000")


def _cell(value, digits: int) -> str:
    if isinstance(value, str):
        return value
    return fmt(value if digits or value is None else int(value), digits)


def gradients_table(doc: dict):
    """One table per model: the gradient norms by lag, before and after training."""
    parts = []
    for r in doc["models"]:
        radii = {when: ", ".join(f"{k} {v:.3f}" for k, v in r["spectral_radius"][when].items())
                 for when in ("before", "after")}
        halves = {when: "never (it does not shrink)" if r["half_life"][when] is None
                  else f"{r['half_life'][when]:.1f} steps" for when in ("before", "after")}
        table = Table("lag", "|dL/ds| before", "|dL/ds| after", "after / lag 1", "|dL/dx| before",
                      "|dL/dx| after",
                      title=f"{r.get('label', r['model'])}: gradient of the forecast's "
                            f"{r['loss']} loss by lag, {r['windows']} windows, "
                            f"{r['epochs_run']} epochs")
        step = max(1, len(r["lag"]) // 24)  # at most about 24 rows
        first = r["state"]["after"][0]
        for j in [*range(0, len(r["lag"]) - 1, step), len(r["lag"]) - 1]:
            table.add_row(str(r["lag"][j]), f"{r['state']['before'][j]:.3e}",
                          f"{r['state']['after'][j]:.3e}",
                          f"{r['state']['after'][j] / first:.3g}" if first else "-",
                          f"{r['input']['before'][j]:.3e}", f"{r['input']['after'][j]:.3e}")
        table.caption = (f"state gradient halves every: {halves['before']} before, "
                         f"{halves['after']} after; spectral radius before: {radii['before']}; "
                         f"after: {radii['after']}")
        parts.append(table)
    return Group(*parts)


def write_forecast(frame, output: Path | None, json_out: bool) -> None:
    """A forecast frame as CSV or strict JSON records, to stdout or written whole to ``output``."""
    if json_out:
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        text = _json.dumps({"forecast": records}, indent=2) + "\n"
    else:
        text = frame.to_csv(index=False)
    if output is None:
        sys.stdout.write(text)
        return
    write_text(output, text, "--output")
    print(f"Wrote {len(frame)} rows to {output}", file=sys.stderr)


class JobProgress:
    """A progress bar on stderr over compare's (model, fold) jobs; a no-op when not a terminal.

    Next to the bar: the last job, the time elapsed, an estimate of the time left (once
    a job of each kind still to run has finished) and what is left of ``--time-limit``.
    """

    def __init__(self, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("compare"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                                TimeElapsedColumn(), TextColumn("{task.fields[left]}"),
                                TextColumn("{task.fields[last]}"),
                                console=Console(stderr=True), transient=True)
            self.task = None

    def __call__(self, record: dict, progress) -> None:
        if self.bar is None:
            return
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task("jobs", total=progress.total, last="", left="")
        status = "failed" if record.get("error") else f"{record.get('fit_seconds', 0):.1f}s"
        self.bar.update(self.task, completed=progress.done, left=time_left(progress),
                        last=f"{record['model']} fold {record['fold']}: {status}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def time_left(progress) -> str:
    """``"~2m10s left, limit in 7m"``: the estimate and the time limit, as far as known.

    >>> from forecaster.timing import Progress
    >>> time_left(Progress(3, 10, 20.0, 130.0, 420.0))
    '~2m10s left, limit in 7m'
    >>> time_left(Progress(1, 10, 2.0, None, None))
    'estimating'
    """
    from forecaster.timing import format_duration

    parts = ["estimating" if progress.remaining_s is None else
             f"~{format_duration(progress.remaining_s)} left"]
    if progress.time_left_s is not None:
        parts.append(f"limit in {format_duration(progress.time_left_s)}")
    return ", ".join(parts)
