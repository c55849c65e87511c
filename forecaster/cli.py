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

# Shared flags, declared once and spelled like their Python parameters.
Target = Annotated[Optional[str], typer.Option(help="Target column (required when several numeric columns).")]
TimeCol = Annotated[Optional[str], typer.Option("--time-col", help="Time column (detected when unambiguous).")]
IdCol = Annotated[Optional[str], typer.Option("--id-col", help="Series id column for long-form panels.")]
Covariates = Annotated[Optional[str], typer.Option(help="Comma-separated numeric covariate columns.")]
Freq = Annotated[Optional[str], typer.Option(help="Pandas frequency alias (inferred when omitted).")]
Season = Annotated[Optional[int], typer.Option(help="Seasonal period (derived from the frequency).")]
Fill = Annotated[str, typer.Option(help="Gaps and NaNs: error, interpolate, ffill or zero.")]
Lookback = Annotated[Optional[int], typer.Option(help="Input window length (default 2 x horizon).")]
Horizon = Annotated[Optional[int], typer.Option(help="Steps to forecast (default: the season).")]
Stride = Annotated[int, typer.Option(help="Rows between training windows.")]
TestSize = Annotated[Optional[int], typer.Option("--test-size", help="Held-out rows per series/fold (default: horizon).")]
ValSize = Annotated[Optional[int], typer.Option("--val-size", help="Validation rows for early stopping and intervals (default: horizon).")]
Gap = Annotated[int, typer.Option(help="Rows between validation and test not used for fitting.")]
Seed = Annotated[int, typer.Option(help="Random seed: same data, flags and seed give the same metrics.")]
Params = Annotated[Optional[list[str]], typer.Option("--param", help="Model hyperparameter KEY=VALUE (repeatable).")]
Epochs = Annotated[int, typer.Option(help="Maximum training epochs (early stopping may end sooner).")]
BatchSize = Annotated[int, typer.Option("--batch-size", help="Windows per gradient step.")]
LearningRate = Annotated[float, typer.Option("--learning-rate", help="Adam learning rate.")]
Loss = Annotated[str, typer.Option(help="Training loss: mse, mae or huber.")]
Patience = Annotated[int, typer.Option(help="Early-stopping patience in epochs (0: no early stopping).")]
LrPatience = Annotated[int, typer.Option("--lr-patience", help="Halve the learning rate after this many epochs without a better validation loss (0: constant rate).")]
Scaler = Annotated[str, typer.Option(help="Per-series scaler fit on training rows: standard, minmax, none.")]
Norm = Annotated[str, typer.Option(help="series; window: each window relative to its last value; season: targets relative to the window's seasonal naive forecast.")]
Levels = Annotated[Optional[list[int]], typer.Option("--level", help="Interval level in percent (repeatable; default 80 and 95).")]
Backend = Annotated[Optional[str], typer.Option(help="Keras backend: tensorflow or jax.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forecaster {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Show the version and exit.")] = False) -> None:
    """Honest neural time-series forecasting: fit, predict, compare."""


def _read(data: Path, target, time_col, id_col, covariates, freq, season, fill):
    from forecaster.data import read_csv

    cov = [c.strip() for c in covariates.split(",") if c.strip()] if covariates else None
    return read_csv(data, target=target, time_col=time_col, id_col=id_col, covariates=cov,
                    freq=freq, season=season, fill=fill)


def _params(items: list[str] | None) -> dict[str, str] | None:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--param expects KEY=VALUE, got '{item}'.")
        out[key.strip()] = value.strip()
    return out or None


def _options(lookback, horizon, stride, val_size, gap, seed, epochs, batch_size,
             learning_rate, loss, patience, lr_patience, scaler, norm, levels, backend,
             params) -> dict:
    return dict(lookback=lookback, horizon=horizon, stride=stride, val_size=val_size, gap=gap,
                seed=seed, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                loss=loss, patience=patience, lr_patience=lr_patience, scaler=scaler, norm=norm,
                levels=tuple(levels) if levels else (80, 95), backend=backend,
                params=_params(params))


@app.command("models")
def models_cmd(json_out: Json = False) -> None:
    """List the registered models."""
    from forecaster import render
    from forecaster.models import DESCRIPTIONS, MODELS, NEURAL

    rows = [{"model": m, "kind": "neural" if m in NEURAL else "baseline",
             "description": DESCRIPTIONS[m]} for m in MODELS]
    render.emit({"models": rows} if json_out else rows, json_out, render.models_table)


@app.command()
def fit(data: Annotated[Path, typer.Argument(help="CSV file.")],
        model: Annotated[str, typer.Option(help="Model name (see `forecaster models`).")] = "lstm",
        out: Annotated[Optional[Path], typer.Option(help="Run directory (default runs/<model>).")] = None,
        param: Params = None, target: Target = None, time_col: TimeCol = None,
        id_col: IdCol = None, covariates: Covariates = None, freq: Freq = None,
        season: Season = None, fill: Fill = "error", lookback: Lookback = None,
        horizon: Horizon = None, stride: Stride = 1, test_size: TestSize = None,
        val_size: ValSize = None, gap: Gap = 0, seed: Seed = 0, epochs: Epochs = 100,
        batch_size: BatchSize = 32, learning_rate: LearningRate = 1e-3, loss: Loss = "mse",
        patience: Patience = 10, lr_patience: LrPatience = 0,
        scaler: Scaler = "standard", norm: Norm = "season",
        level: Levels = None, backend: Backend = None, json_out: Json = False) -> None:
    """Train MODEL on DATA, score the held-out end, and save a run directory."""
    from forecaster import render
    from forecaster.api import fit_and_save

    panel = _read(data, target, time_col, id_col, covariates, freq, season, fill)
    options = _options(lookback, horizon, stride, val_size, gap, seed, epochs, batch_size,
                       learning_rate, loss, patience, lr_patience, scaler, norm, level,
                       backend, param)
    report = fit_and_save(panel, model, out or Path("runs") / model, test_size=test_size,
                          progress=not json_out and sys.stderr.isatty(), **options)
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
def compare(data: Annotated[Path, typer.Argument(help="CSV file.")],
            models: Annotated[Optional[str], typer.Option(help="Comma-separated names or 'all'.")] = None,
            folds: Annotated[int, typer.Option(help="Rolling-origin test windows.")] = 1,
            metric: Annotated[str, typer.Option(help="Ranking metric: mae, rmse, mape, smape, mase.")] = "mase",
            jobs: Annotated[int, typer.Option(help="Parallel worker processes.")] = 1,
            budget: Annotated[Optional[int], typer.Option(help="Match every neural model's parameter count to N.")] = None,
            ensemble: Annotated[bool, typer.Option("--ensemble", help="Add the median of the neural models' forecasts as a model.")] = False,
            max_train_size: Annotated[Optional[int], typer.Option("--max-train-size", help="Sliding training window (rows).")] = None,
            out: Annotated[Optional[Path], typer.Option(help="Write leaderboard files, forecasts and plots here.")] = None,
            param: Params = None, target: Target = None, time_col: TimeCol = None,
            id_col: IdCol = None, covariates: Covariates = None, freq: Freq = None,
            season: Season = None, fill: Fill = "error", lookback: Lookback = None,
            horizon: Horizon = None, stride: Stride = 1, test_size: TestSize = None,
            val_size: ValSize = None, gap: Gap = 0, seed: Seed = 0, epochs: Epochs = 100,
            batch_size: BatchSize = 32, learning_rate: LearningRate = 1e-3, loss: Loss = "mse",
            patience: Patience = 10, lr_patience: LrPatience = 0,
            scaler: Scaler = "standard", norm: Norm = "season",
            level: Levels = None, backend: Backend = None, json_out: Json = False) -> None:
    """Backtest many models on DATA and print a leaderboard."""
    from forecaster import render
    from forecaster.compare import compare as run_compare

    panel = _read(data, target, time_col, id_col, covariates, freq, season, fill)
    options = _options(lookback, horizon, stride, val_size, gap, seed, epochs, batch_size,
                       learning_rate, loss, patience, lr_patience, scaler, norm, level,
                       backend, param)
    progress = render.JobProgress(enabled=not json_out and sys.stderr.isatty())
    try:
        result = run_compare(panel, models=models, folds=folds, test_size=test_size,
                             metric=metric, jobs=jobs, budget=budget, ensemble=ensemble,
                             on_job=progress,
                             max_train_size=max_train_size, **options)
    finally:
        progress.close()
    if out is not None:
        from forecaster.report import write_report

        write_report(result, panel, out)
    render.emit(result.to_json(), json_out, render.leaderboard)


@app.command()
def summary(model: Annotated[str, typer.Option(help="Model name.")] = "lstm",
            lookback: Annotated[int, typer.Option(help="Input window length.")] = 24,
            horizon: Annotated[int, typer.Option(help="Forecast steps.")] = 12,
            n_features: Annotated[int, typer.Option("--n-features", help="Input features per step.")] = 1,
            param: Params = None,
            plot: Annotated[Optional[Path], typer.Option(help="Draw the architecture to this PNG (needs pydot + graphviz).")] = None,
            json_out: Json = False) -> None:
    """Show a model's layers, output shapes and closed-form parameter counts."""
    from forecaster import render
    from forecaster.api import model_summary

    report = model_summary(model, lookback=lookback, horizon=horizon, n_features=n_features,
                           params=_params(param), plot=plot)
    render.emit(report, json_out, render.summary_table)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
