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
from forecaster.errors import ConfigError, ForecasterError
from forecaster.flags import DATA, SETTINGS, with_flags


class _Group(TyperGroup):
    """The one error boundary: library errors -> one line on stderr, exit 1; signals -> one line, 130/143."""

    def invoke(self, ctx):
        from forecaster._signals import handled

        try:
            with handled():
                return super().invoke(ctx)
        except ForecasterError as exc:
            message = " ".join(getattr(exc, "message", str(exc)).split())
            typer.echo(f"Error: {message}", err=True)
            for problem in getattr(exc, "problems", ()):  # ClusterError: one line per problem
                typer.echo(f"  {problem}", err=True)
            raise SystemExit(1) from None
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGINT/SIGTERM as Interrupted
            kept = getattr(exc, "kept", None)
            typer.echo(f"Interrupted; {kept or 'nothing was written'}.", err=True)
            raise SystemExit(getattr(exc, "exit_code", 130)) from None


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
    _notes(panel.notices)
    return panel


def _check_out(path: Path | None, flag: str, *, folder: bool) -> None:
    """Refuse, before any work, an output path that cannot be written as asked."""
    if path is None or not path.exists() or path.is_dir() == folder:
        return
    what = "a file, not a folder" if folder else "a folder, not a file"
    raise ConfigError(f"{flag} {path} is {what}; pass another path.")


def _notes(notices, kind: str = "Note") -> None:
    """Sentences the library returned for the user, on stderr (``kind``: Note or Warning)."""
    for notice in notices:
        typer.echo(f"{kind}: {notice}", err=True)


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
    from forecaster import artifacts, render
    from forecaster.api import fit_and_save

    out = out or Path("runs") / model
    artifacts.check_target(out)  # before any work
    panel = _read(data, read)
    report = fit_and_save(panel, model, out, test_size=test_size,
                          progress=not json_out and sys.stderr.isatty(), **settings)
    _notes(report["notices"], "Warning")
    render.emit(report, json_out, render.fit_report)


@app.command()
def predict(run_dir: Annotated[Path, typer.Argument(help="Run directory written by `fit`.")],
            data: Annotated[Optional[Path], typer.Option(help="CSV to forecast from (default: the data the run keeps).")] = None,
            output: Annotated[Optional[Path], typer.Option(help="Write the forecast CSV here instead of stdout.")] = None,
            plot: Annotated[Optional[Path], typer.Option(help="Draw the history, forecast and intervals to this PNG.")] = None,
            future: Annotated[Optional[Path], typer.Option(help="Values of the --future-covariates for the horizon "
                                                                  "(time, id and those columns).")] = None,
            json_out: Json = False) -> None:
    """Forecast HORIZON steps past the end of the data with a saved model (no refit)."""
    from forecaster import render
    from forecaster.api import predict_run

    _check_out(plot, "--plot", folder=False)
    prediction = predict_run(run_dir, data, future, writes={"--output": output, "--plot": plot})
    _notes(prediction.notices)
    render.write_forecast(prediction.forecast, output, json_out)
    if plot is not None:
        from forecaster.outputs import writing

        with writing(plot, "--plot"):
            prediction.plot(plot)


@app.command()
@with_flags(read=DATA)
def evaluate(run_dir: Annotated[Path, typer.Argument(help="Run directory written by `fit`.")],
             data: Annotated[Path, typer.Option(help="Newer data: each series' history followed by actuals that arrived after the run was fit.")],
             stride: Annotated[Optional[int], typer.Option(help="Rows between forecast origins (default: the horizon).")] = None,
             level: Annotated[Optional[int], typer.Option(help="Interval level that flags anomalies (default: the widest calibrated).")] = None,
             anomalies_only: Annotated[bool, typer.Option("--anomalies-only", help="List only the actuals outside their interval.")] = False,
             out: Annotated[Optional[Path], typer.Option(help="Write evaluation tables, forecasts, anomalies and a plot here.")] = None,
             json_out: Json = False, *, read: dict) -> None:
    """Score a saved run on newer data without refitting, and flag actuals outside their interval.

    The --data file is read as the run's training file was; the data flags change that.
    """
    from forecaster import render
    from forecaster.api import evaluate_run

    _check_out(out, "--out", folder=True)
    if out is not None:  # before any work
        from forecaster.outputs import check_folder
        from forecaster.report import EVALUATION_FILES

        check_folder(out, "--out", files=EVALUATION_FILES, reads=[data])
    result = evaluate_run(run_dir, data, read=read, stride=stride, level=level)
    _notes(result.notices)
    if out is not None:
        from forecaster.report import write_evaluation

        write_evaluation(result, out)
    render.emit(result.to_json(anomalies_only=anomalies_only), json_out,
                render.anomalies_table if anomalies_only else render.evaluation)


@app.command()
@with_flags(read=DATA, settings=SETTINGS)
def compare(data: Annotated[Path, typer.Argument(help="CSV file.")],
            models: Annotated[Optional[str], typer.Option(help="Comma-separated names or groups: all (default), baselines, stats, neural.")] = None,
            folds: Annotated[int, typer.Option(help="Rolling-origin test windows.")] = 1,
            metric: Annotated[str, typer.Option(help="Ranking metric: mae, rmse, mape, smape, mase, owa.")] = "mase",
            jobs: Annotated[Optional[int], typer.Option(help="Local worker processes (default 1; at most the number of jobs and cores).")] = None,
            scheduler: Annotated[Optional[str], typer.Option(envvar="FORECASTER_SCHEDULER", help="Run the jobs on a Dask cluster: tcp://HOST:8786, or 'local' for a throwaway one on this machine (pip install 'forecaster-nn[dask]').")] = None,
            time_limit: Annotated[Optional[str], typer.Option(help="Time budget, e.g. 10m, 90s, 1h30m: cheap jobs first; then running jobs keep their best weights and jobs not started are listed as not run.")] = None,
            budget: Annotated[Optional[int], typer.Option(help="Match every neural model's parameter count to N.")] = None,
            ensemble: Annotated[Optional[str], typer.Option(help="Add the median of these models' forecasts as a model: names or groups, e.g. stats,lstm; all: every statistical and neural model compared.")] = None,
            auto: Annotated[bool, typer.Option("--auto/--no-auto", help="Add the auto row: the model chosen for each fold on the windows before it (one more window is fit).")] = True,
            save_best: Annotated[Optional[Path], typer.Option("--save-best", help="Refit auto's overall pick on all the data and save it here (a run directory for predict).")] = None,
            out: Annotated[Optional[Path], typer.Option(help="Write leaderboard files, forecasts and plots here.")] = None,
            test_size: TestSize = None, json_out: Json = False, *, read: dict, settings: dict) -> None:
    """Backtest many models on DATA and print a leaderboard."""
    from forecaster import render
    from forecaster._signals import deferred
    from forecaster.compare import compare as run_compare

    if out is not None:  # before any work
        from forecaster.outputs import check_folder
        from forecaster.report import report_files

        check_folder(out, "--out", files=report_files(metric), reads=[data])
    if save_best is not None:
        from forecaster.selection import check_target

        check_target(save_best, auto)
    panel = _read(data, read)
    progress = render.JobProgress(enabled=not json_out and sys.stderr.isatty())
    try:
        result = run_compare(panel, models=models, folds=folds, test_size=test_size,
                             metric=metric, jobs=jobs, scheduler=scheduler or None,
                             time_limit=time_limit, budget=budget, ensemble=ensemble,
                             auto=auto, on_job=progress, **settings)
    finally:
        progress.close()
    if save_best is not None:
        from forecaster.selection import save_best as save

        result.settings["saved"] = save(result, panel, save_best, **settings)
    _notes(result.notices, "Warning")
    if out is not None:
        from forecaster.report import write_report

        with deferred(kept=f"the report in {out} was written in full"):
            write_report(result, panel, out)
    render.emit(result.to_json(), json_out, render.leaderboard)


@app.command()
@with_flags(config={"params": SETTINGS["params"]})
def summary(run_dir: Annotated[Optional[Path], typer.Argument(help="A run directory written by `fit`: describe it.")] = None,
            model: Annotated[Optional[str], typer.Option(help="Model name (default lstm).")] = None,
            lookback: Annotated[Optional[int], typer.Option(help="Input window length (default 24).")] = None,
            horizon: Annotated[Optional[int], typer.Option(help="Forecast steps (default 12).")] = None,
            n_features: Annotated[Optional[int], typer.Option("--n-features", help="Input features per step (default 1).")] = None,
            plot: Annotated[Optional[Path], typer.Option(help="Draw the architecture to this PNG (needs pydot + graphviz).")] = None,
            json_out: Json = False, *, config: dict) -> None:
    """Describe a saved run (RUN_DIR), or a model's layers and closed-form parameter counts."""
    from forecaster import render
    from forecaster.api import describe_run, model_summary

    sizes = {"--model": model, "--lookback": lookback, "--horizon": horizon,
             "--n-features": n_features, "--param": config["params"]}
    if run_dir is not None:
        given = [flag for flag, value in sizes.items() if value is not None]
        if given:
            raise ConfigError(f"summary {run_dir} describes the saved run; leave out {', '.join(given)} "
                              "(they size a model that is not saved).")
        render.emit(describe_run(run_dir, plot=plot), json_out, render.run_summary)
        return
    report = model_summary(model or "lstm", lookback=24 if lookback is None else lookback,
                           horizon=12 if horizon is None else horizon,
                           n_features=1 if n_features is None else n_features,
                           params=config["params"], plot=plot)
    render.emit(report, json_out, render.summary_table)


@app.command()
@with_flags(read=DATA, settings=SETTINGS)
def gradients(data: Annotated[Path, typer.Argument(help="CSV file.")],
              model: Annotated[Optional[list[str]], typer.Option(help="Recurrent model: simple_rnn, jordan, lstm or gru, optionally with its own parameters (simple_rnn:activation=sigmoid); repeatable or comma-separated.")] = None,
              plot: Annotated[Optional[Path], typer.Option(help="Draw the gradient norms by lag to this PNG.")] = None,
              json_out: Json = False, *, read: dict, settings: dict) -> None:
    """Show how the loss gradient fades with distance in a recurrent model, before and after training."""
    from forecaster import render
    from forecaster.gradients import analyze_all

    names = [n.strip() for item in (model or ["simple_rnn"]) for n in item.split(",") if n.strip()]
    panel = _read(data, read)
    report = analyze_all(panel, names, **{**settings, "progress": not json_out and sys.stderr.isatty()})
    if plot is not None:
        from forecaster.plotting import plot_gradients

        plot_gradients(report["models"], plot)
    render.emit(report, json_out, render.gradients_table)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
