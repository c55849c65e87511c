"""ETTh1 univariate (OT only), the DLinear/NLinear protocol, through forecaster's public API.

Rows from 14400 on are dropped; on the remaining panel ``val_size=2880, test_size=2880``
gives exactly train [0, 8640), validation [8640, 11520), test [11520, 14400). The scaler
is forecaster's ``standard`` one: mean and population std of the training rows.
Every stride-1 test window (origins 11520 .. 14400 - h) is forecast with
``Forecaster.forecast_at`` (each origin sees only rows before it), mapped to the
standardised scale with the training mean/std, and MSE/MAE are averaged over windows
and steps. Each candidate's learning rate is picked on the validation MSE (the lowest
``val_loss``: the loss is MSE on the standardised scale), never on the test.

    python benchmarks/etth1.py [--quick]
"""

from __future__ import annotations

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
# name -> Forecaster settings; "rates" are the learning rates tried (chosen on validation).
CANDIDATES = {
    "nlinear (mlp layers=0, norm=window)": dict(model="mlp", params={"layers": 0}, norm="window",
                                                rates=(1e-3, 5e-3), batch_size=32, stride=1,
                                                epochs=30, patience=4),
    "mlp 1x256 relu, norm=window": dict(model="mlp", params={"units": 256, "layers": 1,
                                                             "dropout": 0.1},
                                        norm="window", rates=(1e-4, 5e-4), batch_size=32,
                                        stride=1, epochs=30, patience=4),
    # 9 gated blocks over 336 steps are slow on 2 cores: every 4th training window only.
    "wavenet 16 filters, norm=window, stride 4": dict(model="wavenet", params={"filters": 16},
                                                      norm="window", rates=(3e-3,),
                                                      batch_size=64, stride=4, epochs=10,
                                                      patience=3),
}


def load_panel():
    """OT column of ETTh1, rows [0, 14400), as a one-series panel."""
    from forecaster.data import from_frame

    df = pd.read_csv(_common.data_dir() / "etth1" / "ETTh1.csv", usecols=["date", "OT"])
    return from_frame(df.iloc[:TEST_END], time_col="date", target="OT")


def test_scores(f, panel, horizon: int) -> dict:
    """MSE and MAE on the standardised scale over every stride-1 test window."""
    origins = np.arange(VAL_END, TEST_END - horizon + 1)
    pred = f.forecast_at(panel, [origins])[0]  # (n_windows, horizon), data units
    values = panel.series[0].values[:, 0]
    actual = sliding_window_view(values, horizon)[origins]  # (n_windows, horizon)
    if f.model_ is not None:
        loc, scale = f.scalers_[0].loc[0], f.scalers_[0].scale[0]
    else:  # baselines have no scaler: use the same training statistics
        train = values[:TRAIN_END]
        loc, scale = train.mean(), train.std()
    err = (pred - actual) / scale  # (loc cancels)
    return {"mse": float(np.mean(err**2)), "mae": float(np.mean(np.abs(err))),
            "n_windows": int(len(origins)), "loc": float(loc), "scale": float(scale)}


def fit_one(panel, model: str, horizon: int, **kwargs):
    """Fit on train, early-stop on validation, with the protocol's split."""
    from forecaster import Forecaster

    f = Forecaster(model, lookback=LOOKBACK, horizon=horizon, val_size=VAL_END - TRAIN_END,
                   scaler="standard", **kwargs).fit(panel, test_size=TEST_END - VAL_END)
    sp = f.splits_[0]
    assert (sp.train, sp.val, sp.test) == ((0, TRAIN_END), (TRAIN_END, VAL_END),
                                          (VAL_END, TEST_END)), f.splits_
    return f


def run_candidate(panel, name: str, horizon: int, quick: bool) -> dict:
    """Every learning rate of a candidate; the one with the lowest validation MSE is kept."""
    spec = dict(CANDIDATES[name])
    rates, model = spec.pop("rates"), spec.pop("model")
    if quick:
        spec.update(epochs=2, patience=0)
    tried = []
    for lr in rates:
        f = fit_one(panel, model, horizon, learning_rate=lr, loss="mse", seed=0, **spec)
        row = {"learning_rate": lr, "val_mse": min(f.history_["val_loss"]),
               "stride": spec["stride"],
               "epochs_run": f.history_["epochs_run"], "best_epoch": f.history_["best_epoch"],
               "fit_s": round(f.fit_seconds_, 1), "n_params": f.n_params_,
               **test_scores(f, panel, horizon)}
        print(f"  h={horizon} {name} lr={lr}: val {row['val_mse']:.4f} test "
              f"{row['mse']:.4f}/{row['mae']:.4f} ({row['fit_s']} s)", flush=True)
        tried.append(row)
    best = min(tried, key=lambda r: r["val_mse"])
    return {"model": name, "horizon": horizon, **best, "tried": tried}


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
        for name in names:
            rows.append(run_candidate(panel, name, h, args.quick))
    settings = {"lookback": LOOKBACK, "horizons": list(horizons), "loss": "mse",
                "scaler": "standard", "quick_epochs": 2 if args.quick else None,
                "split": [[0, TRAIN_END], [TRAIN_END, VAL_END], [VAL_END, TEST_END]],
                "candidates": {k: CANDIDATES[k] for k in names}, "seed": 0}
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
    lines += ["", "Learning rate chosen per candidate and horizon on the validation MSE:", "",
              _common.table([r for r in rows if "tried" in r],
                            [("model", "model", ""), ("horizon", "h", "d"),
                             ("learning_rate", "lr", "g"), ("stride", "stride", "d"),
                             ("val_mse", "val MSE", ".4f"),
                             ("epochs_run", "epochs", "d"), ("best_epoch", "best", "d"),
                             ("n_params", "params", ","), ("fit_s", "fit s", ".1f")])]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
