"""The ``forecaster`` command: parse flags, call one or two library functions, render.

Library modules are imported inside commands so that ``forecaster --help`` stays fast
and never loads pandas, TensorFlow or matplotlib. Every :class:`ForecasterError`
becomes one line on stderr and exit code 1 (see :class:`_Group`); anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from forecaster._version import __version__
from forecaster.errors import ForecasterError
from forecaster.flags import DATA, SETTINGS, with_flags


class _Group(TyperGroup):
    """The one error boundary: library errors -> one line on stderr, exit 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ForecasterError as exc:
            message = " ".join(str(exc).split())
            typer.echo(f"Error: {message}", err=True)
            raise SystemExit(1) from None


app = typer.Typer(cls=_Group, add_completion=False, no_args_is_help=True,
                  pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="Honest neural time-series forecasting: fit, predict, compare.")

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
TestSize = Annotated[Optional[int], typer.Option("--test-size", help="Held-out rows per series/fold (default: horizon).")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forecaster {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Show the version and exit.")] = False) -> None:
    """Honest neural time-series forecasting: fit, predict, compare."""


def _read(data: Path, read: dict):
    """The panel in ``data``, read with the flags of :data:`forecaster.flags.DATA` that were given."""
    from forecaster.data import read_csv

    panel = read_csv(data, **{k: v for k, v in read.items() if v is not None})
    for notice in panel.notices:
        typer.echo(f"Note: {notice}", err=True)
    return panel


@app.command("models")
def models_cmd(json_out: Json = False) -> None:
    """List the registered models."""
    from forecaster import render
    from forecaster.models import REGISTRY

    rows = [{"model": s.name, "kind": s.kind, "description": s.description}
            for s in REGISTRY.values()]
    render.emit({"models": rows} if json_out else rows, json_out, render.models_table)


@app.command()
@with_flags(read=DATA, settings=SETTINGS)
def fit(data: Annotated[Path, typer.Argument(help="CSV file.")],
        model: Annotated[str, typer.Option(help="Model name (see `forecaster models`).")] = "lstm",
        out: Annotated[Optional[Path], typer.Option(help="Run directory (default runs/<model>).")] = None,
        test_size: TestSize = None, json_out: Json = False, *, read: dict, settings: dict) -> None:
    """Train MODEL on DATA, score the held-out end, and save a run directory."""
    from forecaster import render
    from forecaster.api import fit_and_save

    panel = _read(data, read)
    report = fit_and_save(panel, model, out or Path("runs") / model, test_size=test_size,
                          progress=not json_out and sys.stderr.isatty(), **settings)
    render.emit(report, json_out, render.fit_report)


@app.command()
def predict(run_dir: Annotated[Path, typer.Argument(help="Run directory written by `fit`.")],
            data: Annotated[Optional[Path], typer.Option(help="CSV to forecast from (default: the training CSV).")] = None,
            output: Annotated[Optional[Path], typer.Option(help="Write the forecast CSV here instead of stdout.")] = None,
            json_out: Json = False) -> None:
    """Forecast HORIZON steps past the end of the data with a saved model (no refit)."""
    from forecaster import render
    from forecaster.api import load_and_predict

    frame = load_and_predict(run_dir, data)
    render.write_forecast(frame, output, json_out)


@app.command()
@with_flags(read=DATA, settings=SETTINGS)
def compare(data: Annotated[Path, typer.Argument(help="CSV file.")],
            models: Annotated[Optional[str], typer.Option(help="Comma-separated names or groups: all (default), baselines, stats, neural.")] = None,
            folds: Annotated[int, typer.Option(help="Rolling-origin test windows.")] = 1,
            metric: Annotated[str, typer.Option(help="Ranking metric: mae, rmse, mape, smape, mase, owa.")] = "mase",
            jobs: Annotated[int, typer.Option(help="Parallel worker processes.")] = 1,
            budget: Annotated[Optional[int], typer.Option(help="Match every neural model's parameter count to N.")] = None,
            ensemble: Annotated[Optional[str], typer.Option(help="Add the median of these models' forecasts as a model: names or groups, e.g. stats,lstm; all: every statistical and neural model compared.")] = None,
            auto: Annotated[bool, typer.Option("--auto/--no-auto", help="Add the auto row: the model chosen for each fold on the windows before it (one more window is fit).")] = True,
            save_best: Annotated[Optional[Path], typer.Option("--save-best", help="Refit auto's overall pick on all the data and save it here (a run directory for predict).")] = None,
            out: Annotated[Optional[Path], typer.Option(help="Write leaderboard files, forecasts and plots here.")] = None,
            test_size: TestSize = None, json_out: Json = False, *, read: dict, settings: dict) -> None:
    """Backtest many models on DATA and print a leaderboard."""
    from forecaster import render
    from forecaster.compare import compare as run_compare

    if save_best is not None:
        from forecaster.selection import check_target

        check_target(save_best, auto)
    panel = _read(data, read)
    progress = render.JobProgress(enabled=not json_out and sys.stderr.isatty())
    try:
        result = run_compare(panel, models=models, folds=folds, test_size=test_size,
                             metric=metric, jobs=jobs, budget=budget,
                             ensemble=ensemble,
                             auto=auto, on_job=progress, **settings)
    finally:
        progress.close()
    if save_best is not None:
        from forecaster.selection import save_best as save

        result.settings["saved"] = save(result, panel, save_best, **settings)
    if out is not None:
        from forecaster.report import write_report

        write_report(result, panel, out)
    render.emit(result.to_json(), json_out, render.leaderboard)


@app.command()
@with_flags(config={"params": SETTINGS["params"]})
def summary(model: Annotated[str, typer.Option(help="Model name.")] = "lstm",
            lookback: Annotated[int, typer.Option(help="Input window length.")] = 24,
            horizon: Annotated[int, typer.Option(help="Forecast steps.")] = 12,
            n_features: Annotated[int, typer.Option("--n-features", help="Input features per step.")] = 1,
            plot: Annotated[Optional[Path], typer.Option(help="Draw the architecture to this PNG (needs pydot + graphviz).")] = None,
            json_out: Json = False, *, config: dict) -> None:
    """Show a model's layers, output shapes and closed-form parameter counts."""
    from forecaster import render
    from forecaster.api import model_summary

    report = model_summary(model, lookback=lookback, horizon=horizon, n_features=n_features,
                           params=config["params"], plot=plot)
    render.emit(report, json_out, render.summary_table)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
