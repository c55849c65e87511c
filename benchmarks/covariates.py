"""Inputs known ahead: the same model with and without calendar features and a future covariate.

Two hourly series, the same settings for both: horizon 24, lookback 48 (forecaster's
default, twice the horizon), ``--norm season`` (the default), early stopping on the
validation part (patience 5, at most 40 epochs), seeds 0, 1, 2; the metrics are the mean
over seeds of forecaster's test metrics (origins every 24 steps through the test part,
each forecast seeing only rows before its origin; M4 definitions, data units).

- ``etth1_ot`` (real): ETTh1's OT column, rows [0, 14400): train [0, 8640), validation
  [8640, 11520), test [11520, 14400), the DLinear protocol's split. With
  ``calendar="auto"`` (hour of day, day of week) against without. It has no future
  covariate: ETTh1's other columns are measured loads, not known in advance.
- ``promo_hourly`` (SYNTHETIC, :func:`promo_frame`, seed 0; the same rows are
  ``sample_data/promo_hourly.csv``): 16 weeks of hourly sales with a daily cycle, lower
  weekends, AR(1) noise and planned promotions (0/1 column ``promo``) that add 25. The last
  4 weeks are the test part, the 2 weeks before them validation. With ``calendar="auto"``
  and ``future_covariates="promo"`` against neither (and each alone, mlp only). The run
  also forecasts the last test window through ``Forecaster.predict(panel, future=...)``,
  the ``predict --future`` path, and checks it gives the scored forecast.

    python benchmarks/covariates.py [--quick] [--write-sample]
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import pandas as pd

import _common

HORIZON, PATIENCE, EPOCHS, SEEDS = 24, 5, 40, (0, 1, 2)
ETT_ROWS, ETT_TEST, ETT_VAL = 14400, 2880, 2880
PROMO_WEEKS, PROMO_TEST, PROMO_VAL = 16, 4 * 168, 2 * 168
# (dataset, model, variant) -> the inputs known ahead
VARIANTS = {"none": {}, "calendar": {"calendar": "auto"}, "promo": {"future": True},
            "calendar + promo": {"calendar": "auto", "future": True}}
RUNS = [("etth1_ot", "mlp", "none"), ("etth1_ot", "mlp", "calendar"),
        *[("promo_hourly", "mlp", v) for v in VARIANTS],
        ("promo_hourly", "gru", "none"), ("promo_hourly", "gru", "calendar + promo")]
PARAMS = {"mlp": None, "gru": {"units": 32}}


def promo_frame(weeks: int = PROMO_WEEKS, seed: int = 0, extra: int = 0) -> pd.DataFrame:
    """SYNTHETIC hourly sales: 100 + daily cycle - weekend dip + 25 x promo + AR(1) noise.

    Promotions are planned blocks of 6-24 hours, 1-5 days apart. ``extra`` rows are added
    at the end (the future: only their ``promo`` is meant to be known).
    """
    rng = np.random.default_rng(seed)
    time_ = pd.date_range("2024-01-01", periods=weeks * 168 + extra, freq="h")
    n = len(time_)
    promo, start = np.zeros(n), 0
    while True:
        start += int(rng.integers(24, 120))
        if start >= n:
            break
        length = int(rng.integers(6, 25))
        promo[start:start + length] = 1.0
        start += length
    noise = np.zeros(n)
    shocks = rng.normal(0, 3, n)
    for t in range(1, n):
        noise[t] = 0.7 * noise[t - 1] + shocks[t]
    hour, weekday = time_.hour.to_numpy(), time_.dayofweek.to_numpy()
    sales = (100 + 15 * np.sin(2 * np.pi * (hour - 6) / 24) - 10 * (weekday >= 5)
             + 25 * promo + noise)
    return pd.DataFrame({"date": time_, "sales": sales.round(1), "promo": promo.astype(int)})


def write_sample() -> None:
    """sample_data/promo_hourly.csv (history) and promo_hourly_future.csv (the next 24 hours' plan)."""
    full = promo_frame(extra=HORIZON)
    out = _common.REPO / "sample_data"
    full.iloc[:-HORIZON].to_csv(out / "promo_hourly.csv", index=False)
    full.iloc[-HORIZON:][["date", "promo"]].to_csv(out / "promo_hourly_future.csv", index=False)


def load(dataset: str, future: bool):
    """The panel, its test and validation sizes."""
    from forecaster.data import from_frame

    if dataset == "etth1_ot":
        df = pd.read_csv(_common.data_dir() / "etth1" / "ETTh1.csv", usecols=["date", "OT"])
        return from_frame(df.iloc[:ETT_ROWS], time_col="date", target="OT"), ETT_TEST, ETT_VAL
    df = promo_frame()
    panel = from_frame(df if future else df[["date", "sales"]], time_col="date", target="sales",
                       future_covariates="promo" if future else None)
    return panel, PROMO_TEST, PROMO_VAL


def fit_one(dataset: str, model: str, variant: str, seed: int, epochs: int) -> dict:
    from forecaster import Forecaster

    inputs = VARIANTS[variant]
    panel, test, val = load(dataset, inputs.get("future", False))
    f = Forecaster(model, params=PARAMS[model], horizon=HORIZON, val_size=val, epochs=epochs,
                   patience=PATIENCE, seed=seed, calendar=inputs.get("calendar"))
    f.fit(panel, test_size=test)
    row = {"dataset": dataset, "model": model, "variant": variant, "seed": seed,
           **{k: f.metrics_[k] for k in ("mae", "rmse", "mase", "smape")},
           "epochs_run": f.history_["epochs_run"], "fit_s": f.fit_seconds_,
           "n_params": f.n_params_, "input_shape": list(f.model_.input_shape[1:])}
    if inputs.get("future"):
        row["predict_future_matches"] = predict_matches(f, panel)
    return row


def predict_matches(f, panel) -> bool:
    """``predict(cut, future=plan)`` at the last test origin equals the scored forecast there."""
    import dataclasses

    s = panel.series[0]
    cut = dataclasses.replace(panel, series=(dataclasses.replace(
        s, time=s.time[:-HORIZON], values=s.values[:-HORIZON]),))
    plan = pd.DataFrame({"date": s.time[-HORIZON:], "promo": s.values[-HORIZON:, -1]})
    got = f.predict(cut, future=plan)["forecast"].to_numpy()
    return bool(np.allclose(got, f.test_forecasts_["forecast"].to_numpy()[-HORIZON:], rtol=1e-5))


def summarise(rows: list[dict]) -> list[dict]:
    out = []
    for dataset, model, variant in RUNS:
        mine = [r for r in rows if (r["dataset"], r["model"], r["variant"]) == (dataset, model, variant)]
        if not mine:
            continue
        row = {"dataset": dataset, "model": model, "variant": variant, "seeds": len(mine),
               **{k: statistics.mean(r[k] for r in mine) for k in ("mae", "rmse", "mase", "smape",
                                                                   "epochs_run", "fit_s")},
               "mae_spread": max(r["mae"] for r in mine) - min(r["mae"] for r in mine)}
        base = next((o for o in out if (o["dataset"], o["model"], o["variant"]) == (dataset, model, "none")), None)
        row["mae_change_pct"] = 100 * (row["mae"] / base["mae"] - 1) if base else 0.0
        out.append(row)
    return out


def render(summary: list[dict]) -> str:
    cols = [("dataset", "series", ""), ("model", "model", ""), ("variant", "inputs known ahead", ""),
            ("mae", "test MAE", ".3f"), ("mae_change_pct", "vs none %", "+.1f"),
            ("rmse", "RMSE", ".3f"), ("mase", "MASE", ".3f"), ("mae_spread", "MAE spread", ".3f"),
            ("epochs_run", "epochs", ".1f"), ("seeds", "seeds", "d")]
    return "\n".join([
        "Same model, same settings, with and without inputs known ahead (horizon 24, lookback 48, "
        "norm season, early stopping); test metrics in data units, mean over seeds. "
        "`promo_hourly` is SYNTHETIC (benchmarks/covariates.py, promo_frame).", "",
        _common.table(summary, cols)])


def main() -> int:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--write-sample", action="store_true", help="write sample_data/promo_hourly*.csv and exit")
    args = p.parse_args()
    if args.write_sample:
        write_sample()
        return 0
    start = time.perf_counter()
    seeds, epochs = (SEEDS[:1], 3) if args.quick else (SEEDS, EPOCHS)
    rows = []
    for dataset, model, variant in RUNS:
        for seed in seeds:
            rows.append(fit_one(dataset, model, variant, seed, epochs))
            r = rows[-1]
            print(f"  {dataset:13s} {model:4s} {variant:17s} seed {seed}: MAE {r['mae']:.3f} "
                  f"MASE {r['mase']:.3f} ({r['epochs_run']} epochs, {r['fit_s']:.1f} s)", flush=True)
    checks = [r["predict_future_matches"] for r in rows if "predict_future_matches" in r]
    if not all(checks):
        raise SystemExit("predict(future=...) did not reproduce the scored forecast")
    summary = summarise(rows)
    settings = {"horizon": HORIZON, "lookback": 2 * HORIZON, "patience": PATIENCE, "epochs": epochs,
                "seeds": list(seeds), "params": PARAMS, "variants": VARIANTS,
                "etth1": {"rows": ETT_ROWS, "val": ETT_VAL, "test": ETT_TEST},
                "promo_hourly": {"synthetic": True, "weeks": PROMO_WEEKS, "val": PROMO_VAL,
                                 "test": PROMO_TEST, "seed": 0}}
    _common.write_report("covariates", quick=args.quick, wall_s=time.perf_counter() - start,
                         settings=settings, results={"summary": summary, "runs": rows,
                                                     "predict_future_checks": len(checks)},
                         markdown=render(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
