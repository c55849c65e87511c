"""ETTh1 univariate (OT only), the DLinear/NLinear protocol, through forecaster's public API.

Rows from 14400 on are dropped; on the remaining panel ``val_size=2880, test_size=2880``
gives exactly train [0, 8640), validation [8640, 11520), test [11520, 14400). The scaler
is forecaster's ``standard`` one: mean and population std of the training rows.
Every stride-1 test window (origins 11520 .. 14400 - h) is forecast with
``Forecaster.forecast_at`` (each origin sees only rows before it), mapped to the
standardised scale with the training mean/std, and MSE/MAE are averaged over windows
and steps. Each candidate's learning rate and ``lr_patience`` (0: constant rate; 1: halve
it after each epoch without a better validation loss) are picked on the MSE over the
stride-1 validation windows, never on the test.

Two ensembles, both the median of forecasts through ``forecaster.ensemble.median``: the
NLinear candidate over ``SEEDS`` seeds, and the three candidates together. For each
horizon the row "forecaster (chosen on validation)" is whichever single candidate or
ensemble has the lowest MSE over the stride-1 validation windows (origins 8640 ..
11520 - h); that is forecaster's entry against the published numbers.

    python benchmarks/etth1.py [--quick]
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

import _common

TRAIN_END, VAL_END, TEST_END = 8640, 11520, 14400
LOOKBACK = 336
HORIZONS = (96, 192, 336, 720)
# Published univariate (features S) ETTh1 results, look-back 336, MSE/MAE (DLinear paper, Table 4
# and its NLinear appendix rows).
PUBLISHED = {
    "DLinear (published)": {96: (0.056, 0.180), 192: (0.071, 0.204), 336: (0.098, 0.244),
                            720: (0.189, 0.359)},
    "NLinear (published)": {96: (0.053, 0.177)},
}
SEEDS = (0, 1, 2)  # of the NLinear seed ensemble
NLINEAR = "nlinear (mlp layers=0, norm=window)"
# name -> Forecaster settings. Every pair of a learning rate in "rates" and an
# ``lr_patience`` in "lr_patience" (0: constant rate; 1: halve the rate after each epoch
# without a better validation loss) is tried; the pair with the lowest validation MSE is kept.
CANDIDATES = {
    "nlinear (mlp layers=0, norm=window)": dict(model="mlp", params={"layers": 0}, norm="window",
                                                rates=(1e-3, 5e-3), lr_patience=(0, 1),
                                                batch_size=32, stride=1, epochs=50, patience=4),
    "mlp 1x256 relu, norm=window": dict(model="mlp", params={"units": 256, "layers": 1,
                                                             "dropout": 0.1},
                                        norm="window", rates=(1e-4, 5e-4), lr_patience=(0, 1),
                                        batch_size=32, stride=1, epochs=50, patience=4),
    # 9 gated blocks over 336 steps are slow on 2 cores: every 4th training window only.
    "wavenet 16 filters, norm=window, stride 4": dict(model="wavenet", params={"filters": 16},
                                                      norm="window", rates=(3e-3,), lr_patience=(0,),
                                                      batch_size=64, stride=4, epochs=10,
                                                      patience=3),
}


def load_panel():
    """OT column of ETTh1, rows [0, 14400), as a one-series panel."""
    from forecaster.data import from_frame

    df = pd.read_csv(_common.data_dir() / "etth1" / "ETTh1.csv", usecols=["date", "OT"])
    return from_frame(df.iloc[:TEST_END], time_col="date", target="OT")


def origins(part: str, horizon: int) -> np.ndarray:
    """Every stride-1 forecast origin whose target lies inside ``part`` (validation or test)."""
    start, end = (TRAIN_END, VAL_END) if part == "val" else (VAL_END, TEST_END)
    return np.arange(start, end - horizon + 1)


def forecasts(f, panel, horizon: int, part: str) -> np.ndarray:
    """``(n_windows, horizon)`` forecasts in data units at every origin of ``part``."""
    return f.forecast_at(panel, [origins(part, horizon)])[0]


def scores(pred: np.ndarray, panel, horizon: int, part: str) -> dict:
    """MSE and MAE on the standardised scale (training mean/std; the mean cancels)."""
    values = panel.series[0].values[:, 0]
    actual = sliding_window_view(values, horizon)[origins(part, horizon)]
    err = (pred - actual) / values[:TRAIN_END].std()  # population std, as the scaler's
    return {"mse": float(np.mean(err**2)), "mae": float(np.mean(np.abs(err))),
            "n_windows": int(len(actual))}


def test_scores(f, panel, horizon: int) -> dict:
    """MSE and MAE on the standardised scale over every stride-1 test window."""
    if f.model_ is not None:  # the scaler's statistics are the protocol's
        train = panel.series[0].values[:TRAIN_END, 0]
        assert np.isclose(f.scalers_[0].scale[0], train.std()), "scaler is not the training std"
    return scores(forecasts(f, panel, horizon, "test"), panel, horizon, "test")


def fit_one(panel, model: str, horizon: int, **kwargs):
    """Fit on train, early-stop on validation, with the protocol's split."""
    from forecaster import Forecaster

    f = Forecaster(model, lookback=LOOKBACK, horizon=horizon, val_size=VAL_END - TRAIN_END,
                   scaler="standard", **kwargs).fit(panel, test_size=TEST_END - VAL_END)
    sp = f.splits_[0]
    assert (sp.train, sp.val, sp.test) == ((0, TRAIN_END), (TRAIN_END, VAL_END),
                                          (VAL_END, TEST_END)), f.splits_
    return f


def run_candidate(panel, name: str, horizon: int, quick: bool) -> tuple[dict, object]:
    """Every (learning rate, lr_patience) of a candidate; the lowest validation MSE is kept.

    Returns the row and the kept ``Forecaster``."""
    spec = dict(CANDIDATES[name])
    rates, model, schedules = spec.pop("rates"), spec.pop("model"), spec.pop("lr_patience")
    if quick:
        spec.update(epochs=2, patience=0)
    tried = []
    for lr, lr_patience in itertools.product(rates, schedules):
        f = fit_one(panel, model, horizon, learning_rate=lr, lr_patience=lr_patience,
                    loss="mse", seed=0, **spec)
        row = {"learning_rate": lr, "lr_patience": lr_patience,
               "val": scores(forecasts(f, panel, horizon, "val"), panel, horizon, "val"),
               "stride": spec["stride"],
               "epochs_run": f.history_["epochs_run"], "best_epoch": f.history_["best_epoch"],
               "fit_s": round(f.fit_seconds_, 1), "n_params": f.n_params_,
               "backend": getattr(f, "backend_", None),
               **test_scores(f, panel, horizon)}
        row["val_mse"] = row["val"]["mse"]
        print(f"  h={horizon} {name} lr={lr} lr_patience={lr_patience}: "
              f"val {row['val_mse']:.4f} test "
              f"{row['mse']:.4f}/{row['mae']:.4f} ({row['fit_s']} s)", flush=True)
        tried.append((row, f))
    best, f = min(tried, key=lambda t: t[0]["val_mse"])
    return {"model": name, "horizon": horizon, **best, "tried": [r for r, _ in tried]}, f


def ensemble_row(label: str, fits: list, panel, horizon: int) -> dict:
    """The median of ``fits``' forecasts, scored on validation and test."""
    val = _common.median_forecast([forecasts(f, panel, horizon, "val") for f in fits])
    test = _common.median_forecast([forecasts(f, panel, horizon, "test") for f in fits])
    return {"model": label, "horizon": horizon, "members": len(fits),
            "n_params": sum(f.n_params_ for f in fits),
            "fit_s": round(sum(f.fit_seconds_ for f in fits), 1),
            "val": scores(val, panel, horizon, "val"), **scores(test, panel, horizon, "test")}


def horizon_rows(panel, horizon: int, names: list[str], quick: bool) -> list[dict]:
    """Candidates, ensembles and the validation pick for one horizon."""
    rows, fits = [], {}
    for name in names:
        row, fits[name] = run_candidate(panel, name, horizon, quick)
        rows.append(row)
    if NLINEAR in fits and not quick:
        spec = dict(CANDIDATES[NLINEAR])
        kept = next(r for r in rows if r["model"] == NLINEAR)
        model = spec.pop("model")
        spec.pop("rates"), spec.pop("lr_patience")
        seeds = [fits[NLINEAR]] + [fit_one(panel, model, horizon, loss="mse", seed=s,
                                           learning_rate=kept["learning_rate"],
                                           lr_patience=kept["lr_patience"], **spec)
                                   for s in SEEDS[1:]]
        rows.append(ensemble_row(f"nlinear, median of {len(SEEDS)} seeds", seeds, panel, horizon))
    if len(fits) > 2:
        rows.append(ensemble_row(f"median of the {len(fits)} candidates", list(fits.values()),
                                 panel, horizon))
    pick = min(rows, key=lambda r: r["val"]["mse"])
    rows.append({**{k: v for k, v in pick.items() if k != "tried"},
                 "model": "forecaster (chosen on validation)", "chosen": pick["model"]})
    for r in rows[-3:]:
        print(f"  h={horizon} {r['model']}: val {r['val']['mse']:.4f} test "
              f"{r['mse']:.4f}/{r['mae']:.4f}", flush=True)
    return rows


def main() -> None:
    args = _common.parser(__doc__.splitlines()[0]).parse_args()
    start = time.perf_counter()
    from forecaster import Forecaster

    panel = load_panel()
    horizons = (96, 336) if args.quick else HORIZONS
    names = list(CANDIDATES)[:2] if args.quick else list(CANDIDATES)
    rows = []
    for h in horizons:
        naive = Forecaster("naive", horizon=h, val_size=VAL_END - TRAIN_END).fit(
            panel, test_size=TEST_END - VAL_END)
        rows.append({"model": "naive (forecaster)", "horizon": h, **test_scores(naive, panel, h)})
        rows += horizon_rows(panel, h, names, args.quick)
    settings = {"lookback": LOOKBACK, "horizons": list(horizons), "loss": "mse",
                "scaler": "standard", "quick_epochs": 2 if args.quick else None,
                "split": [[0, TRAIN_END], [TRAIN_END, VAL_END], [VAL_END, TEST_END]],
                "candidates": {k: CANDIDATES[k] for k in names}, "seed": 0,
                "ensemble_seeds": list(SEEDS), "selection": "lowest MSE over the stride-1 "
                "validation windows among candidates and ensembles, per horizon"}
    _common.write_report("etth1", quick=args.quick, wall_s=time.perf_counter() - start,
                         settings=settings, results={"rows": rows, "published": PUBLISHED},
                         markdown=render(rows, horizons))


def render(rows: list[dict], horizons) -> str:
    """One line per model, MSE/MAE per horizon, published rows at the bottom."""
    by_model: dict[str, dict] = {}
    for r in rows:
        by_model.setdefault(r["model"], {})[r["horizon"]] = (r["mse"], r["mae"])
    for name, scores in PUBLISHED.items():
        by_model[name] = {h: v for h, v in scores.items() if h in horizons}
    head = "| model | " + " | ".join(f"h={h} MSE | h={h} MAE" for h in horizons) + " |"
    rule = "| --- |" + " ---: | ---: |" * len(horizons)
    lines = ["ETTh1 univariate (OT), look-back 336, every stride-1 test window, standardised scale.",
             "", head, rule]
    for name, scores in by_model.items():
        cells = [f"{scores[h][0]:.4f} | {scores[h][1]:.4f}" if h in scores else "- | -"
                 for h in horizons]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    picks = [r for r in rows if "chosen" in r]
    lines += ["", "Chosen on validation, per horizon (lowest MSE over the stride-1 validation "
              "windows): " + ", ".join(f"h={r['horizon']}: {r['chosen']}" for r in picks) + ".",
              "", "Validation MSE (stride-1 validation windows) of every entry:", "",
              _common.table([{**r, "val_mse_windows": r["val"]["mse"]} for r in rows
                             if "val" in r and "chosen" not in r],
                            [("model", "model", ""), ("horizon", "h", "d"),
                             ("val_mse_windows", "val MSE", ".4f"), ("mse", "test MSE", ".4f"),
                             ("n_params", "params", ","), ("fit_s", "fit s", ".1f")]),
              "", "Learning rate and `lr_patience` chosen per candidate and horizon on the "
              "validation MSE:", "",
              _common.table([r for r in rows if "tried" in r],
                            [("model", "model", ""), ("horizon", "h", "d"),
                             ("learning_rate", "lr", "g"), ("lr_patience", "lr_patience", "d"),
                             ("stride", "stride", "d"),
                             ("val_mse", "val MSE", ".4f"),
                             ("epochs_run", "epochs", "d"), ("best_epoch", "best", "d"),
                             ("n_params", "params", ","), ("fit_s", "fit s", ".1f"),
                             ("backend", "backend", "")])]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
