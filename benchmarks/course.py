"""The course's recurrent mechanics on real and synthetic data: the README's "From the notes" numbers.

    python benchmarks/course.py            # -> results/course.json, .md, course_gradients.png
    python benchmarks/course.py --quick    # a few epochs -> results/quick/

1. Vanishing gradients: ``forecaster gradients`` on ``sample_data/m4_hourly_h1.csv``
   (Elman with tanh units, Elman with the notes' sigmoid units, LSTM; 32 units, default
   settings otherwise), run as the command line itself; its JSON and plot are kept.
2. Stateful training with truncated BPTT on a square wave that flips every 8 steps
   (8 series, 240 steps, noise 0.05): an LSTM trained statefully with ``bptt=4`` against
   LSTMs on windows of 4 and 16 steps. Inside a plateau the last 4 values cannot tell
   when the next flip comes; the time since the last flip (up to 8 steps) can.
3. A stateful LSTM (``bptt=24``) on the long hourly series, next to the windowed one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import _common

SERIES = "sample_data/m4_hourly_h1.csv"
GRADIENT_MODELS = ("simple_rnn", "simple_rnn:activation=sigmoid", "lstm")


def gradients(quick: bool, out) -> dict:
    """Run ``forecaster gradients`` as a user would; return its JSON document."""
    png = out / "course_gradients.png"
    args = ["-m", "forecaster", "gradients", SERIES, *[a for m in GRADIENT_MODELS for a in ("--model", m)],
            "--param", "units=32", "--seed", "0", "--plot", str(png.relative_to(_common.REPO)), "--json",
            *(["--epochs", "2"] if quick else [])]
    proc = subprocess.run([_common.PYTHON, *args], capture_output=True, text=True, check=True,
                          cwd=_common.REPO, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return {"command": "forecaster " + " ".join(args[2:]), **json.loads(proc.stdout)}


def square_waves():
    """The synthetic case of tests/test_stateful.py: 8 noisy square waves, each its own phase."""
    import pandas as pd

    from forecaster.data import from_frame
    from forecaster.reference import square_waves as waves

    values = waves(8, 240, plateau=8)  # (series, steps)
    dates = pd.date_range("2000-01-01", periods=values.shape[1])
    return from_frame(pd.DataFrame({"date": dates, **{f"s{i}": v for i, v in enumerate(values)}}))


def stateful_cases(quick: bool) -> list[dict]:
    from forecaster import Forecaster, read_csv

    rows = []
    epochs = 2 if quick else 20
    wave = square_waves()
    common = {"horizon": 4, "epochs": epochs, "patience": 0, "learning_rate": 0.02,
              "batch_size": 8, "norm": "series", "seed": 0, "seeds": 1}
    cases = [("square wave", wave, "stateful, bptt=4", {"stateful": True, "bptt": 4, "head": "sequence"}, 4),
             ("square wave", wave, "windows of 4", {}, 4),
             ("square wave", wave, "windows of 16", {}, 16)]
    hourly = read_csv(_common.REPO / SERIES)
    long_epochs = {"epochs": 2} if quick else {}
    cases += [("m4_hourly_h1", hourly, "stateful, bptt=24", {"stateful": True, "bptt": 24}, None),
              ("m4_hourly_h1", hourly, "windows (default, one fit)", {}, None)]
    # one network each (a stateful model is one fit; the windowed ones would otherwise be
    # the median of 3 seeds on this little data)
    for data, panel, how, params, lookback in cases:
        settings = ({**common, "lookback": lookback} if data == "square wave"
                    else {"horizon": 48, "seed": 0, "seeds": 1, **long_epochs})
        start = time.perf_counter()
        f = Forecaster("lstm", params={"units": 16 if data == "square wave" else 32, **params},
                       **settings).fit(panel)
        rows.append({"data": data, "model": f"lstm, {how}", "lookback": f.lookback_,
                     "epochs_run": f.history_["epochs_run"], "n_params": f.n_params_,
                     "fit_s": round(time.perf_counter() - start, 1), **f.metrics_})
    return rows


def markdown(grads: dict, rows: list[dict]) -> str:
    lines = ["## Vanishing gradients (`forecaster gradients`)", "", f"`{grads['command']}`", "",
             "| model | epochs | half-life before | after | lag L / lag 1 before | after "
             "| spectral radius after |", "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for m in grads["models"]:
        half = {k: "never" if v is None else f"{v:.2f}" for k, v in m["half_life"].items()}
        radius = ", ".join(f"{k} {v:.3f}" for k, v in m["spectral_radius"]["after"].items())
        lines.append(f"| {m['label']} | {m['epochs_run']} | {half['before']} | {half['after']} "
                     f"| {m['decay']['before']:.2e} | {m['decay']['after']:.2e} | {radius} |")
    lines += ["", "## Stateful training (truncated BPTT) against windows", "",
              "| data | model | lookback | epochs | params | fit s | MAE | MASE |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['data']} | {r['model']} | {r['lookback']} | {r['epochs_run']} | {r['n_params']:,} "
              f"| {r['fit_s']} | {r['mae']:.3f} | {r['mase']:.3f} |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs, results/quick/")
    args = parser.parse_args()
    start = time.perf_counter()
    out = _common.results_dir(args.quick)
    grads = gradients(args.quick, out)
    rows = stateful_cases(args.quick)
    path = _common.write_report("course", quick=args.quick, wall_s=time.perf_counter() - start,
                                settings={"series": SERIES, "gradient_models": GRADIENT_MODELS},
                                results={"gradients": grads, "stateful": rows},
                                markdown=markdown(grads, rows))
    print(path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
