"""Scale: one comparison sequential, on 2 processes and on a Dask LocalCluster; memory of one long series; many series.

1. ``forecaster compare`` of the same data and flags three ways: sequential, ``--jobs 2``
   and ``--scheduler local``. Wall time of the whole command, peak RSS of its process
   tree (the CLI and its workers, sampled every 0.2 s), and whether the leaderboard is
   identical to the sequential one (fit and predict times aside). Full: M4 Hourly's 414
   training series, ``mlp,gru``, 2 folds of 48 steps, 10 epochs; quick: the 5-series sample.
2. Peak RSS of fitting ``mlp`` on one series of 10 million points with lookback 512
   (materialised float32 windows would take 10M x 512 x 4 B = 20 GB). The child process
   is killed when its RSS passes ``--memory-cap-mib`` (default: 8 GiB or half the
   machine's memory, whichever is less), and the result says so.
3. Fit time of one global ``mlp`` on 10,000 synthetic series of 1,000 points (1 epoch).

Every measurement runs in a fresh process. ``--quick`` shrinks the data (and writes to
results/quick/). ``--only compare|long|many`` runs one section and writes it apart, as
``scale_<section>.json`` and ``.md``.

    python benchmarks/scale.py [--quick] [--memory-cap-mib N] [--only SECTION]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common

FULL = {"compare": {"models": "mlp,gru", "folds": 2, "horizon": 48, "epochs": 10},
        "long": {"n": 10_000_000, "lookback": 512}, "many": {"series": 10_000, "length": 1_000}}
QUICK = {"compare": {"models": "mlp,gru", "folds": 2, "horizon": 48, "epochs": 2},
         "long": {"n": 100_000, "lookback": 512}, "many": {"series": 200, "length": 1_000}}
MODES = {"sequential": [], "jobs 2": ["--jobs", "2"], "scheduler local": ["--scheduler", "local"]}
SECTIONS = ("compare", "long", "many")

FIT = """
import json, time, resource
import numpy as np, pandas as pd
from forecaster import Forecaster
from forecaster.data import from_frame
series, length, lookback = {series}, {length}, {lookback}
rng = np.random.default_rng(0)
t = np.arange(length)
y = 10 + np.sin(2 * np.pi * t / 24)[None, :] + 0.1 * rng.standard_normal((series, length))
frame = pd.DataFrame({{"t": np.tile(t, series), "y": y.ravel()}})
del y, t  # the frame holds copies: only the data forecaster reads stays in memory
if series > 1:
    frame["id"] = np.repeat([f"s{{i}}" for i in range(series)], length)
start = time.perf_counter()
panel = from_frame(frame, id_col="id" if series > 1 else None, time_col="t", target="y", season=24)
del frame
read_s = time.perf_counter() - start
f = Forecaster("mlp", lookback=lookback, horizon=24, epochs=1, batch_size=1024, patience=0,
               params={{"units": 16, "layers": 1}}).fit(panel, test_size=24)
print(json.dumps({{"read_s": read_s, "fit_s": f.fit_seconds_, "n_windows": f.n_windows_,
                  "total_s": time.perf_counter() - start, "mase": f.metrics_["mase"],
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def tree_rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and every process below it, in MiB (Linux /proc)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        seen.add(p)
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines()
                              if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(k) for k in (task / "children").read_text().split() if int(k) not in seen]
        except (OSError, StopIteration):
            continue
    return total / 1024


def measured(cmd: list[str], *, cap_mib: float | None = None, timeout: float = 7200) -> dict:
    """Run ``cmd``; wall seconds, sampled peak tree RSS, stdout; killed past ``cap_mib``."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(_common.REPO)}
    start, peak, killed = time.perf_counter(), 0.0, False
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=_common.REPO,
                                start_new_session=True, text=True)
        while proc.poll() is None and time.perf_counter() - start < timeout:
            peak = max(peak, tree_rss_mib(proc.pid))
            if cap_mib is not None and peak > cap_mib:
                killed = True
                os.killpg(proc.pid, 9)
            time.sleep(0.2)
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
        proc.wait()
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    return {"wall_s": time.perf_counter() - start, "peak_tree_rss_mib": peak, "killed_at_cap": killed,
            "exit_code": proc.returncode, "stdout": stdout, "stderr_tail": stderr.strip()[-600:]}


def compare_modes(settings: dict, quick: bool) -> list[dict]:
    """Section 1: the same comparison sequential, on 2 processes and on a local Dask cluster."""
    with tempfile.TemporaryDirectory() as tmp:
        data = _common.REPO / "sample_data" / "m4_hourly_panel.csv" if quick else _m4_csv(Path(tmp))
        cli = [_common.PYTHON, "-m", "forecaster", "compare", str(data), "--id-col", "unique_id",
               "--models", settings["models"], "--folds", str(settings["folds"]),
               "--horizon", str(settings["horizon"]), "--epochs", str(settings["epochs"]), "--json"]
        rows, reference = [], None
        for mode, flags in MODES.items():
            _common.wait_until_idle(0 if quick else 600)
            run = measured([*cli, *flags])
            board = _board(run)
            reference = board if reference is None else reference
            rows.append({"mode": mode, "wall_s": run["wall_s"], "peak_tree_rss_mib": run["peak_tree_rss_mib"],
                         "exit_code": run["exit_code"], "identical": board == reference and board is not None,
                         **({"error": run["stderr_tail"]} if run["exit_code"] else {})})
            print(f"  {mode}: {run['wall_s']:.1f} s, {run['peak_tree_rss_mib']:.0f} MiB", file=sys.stderr)
    return rows


def _board(run: dict) -> list[dict] | None:
    if run["exit_code"] != 0:
        return None
    doc = json.loads(run["stdout"])
    return [{k: v for k, v in r.items() if k not in ("fit_seconds", "predict_ms")}
            for r in doc["leaderboard"]]


def _m4_csv(folder: Path) -> Path:
    """M4 Hourly's 414 training series as one long CSV (unique_id, ds, y)."""
    import pandas as pd

    train = pd.read_csv(_common.data_dir() / "m4_hourly" / "Hourly-train.csv", index_col=0)
    frames = [pd.DataFrame({"unique_id": sid, "ds": range(1, len(v) + 1), "y": v})
              for sid, v in ((sid, row.dropna().to_numpy()) for sid, row in train.iterrows())]
    path = folder / "m4_hourly_train.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def fit_child(series: int, length: int, lookback: int, cap_mib: float) -> dict:
    """Sections 2 and 3: one fit in a fresh process, with its numbers or why it stopped."""
    run = measured([_common.PYTHON, "-c", FIT.format(series=series, length=length, lookback=lookback)],
                   cap_mib=cap_mib)
    out = {"series": series, "length": length, "lookback": lookback, "wall_s": run["wall_s"],
           "peak_tree_rss_mib": run["peak_tree_rss_mib"], "killed_at_cap": run["killed_at_cap"],
           "exit_code": run["exit_code"]}
    if run["exit_code"] == 0:
        out.update(json.loads(run["stdout"].strip().splitlines()[-1]))
    else:
        out["error"] = (f"killed at the {cap_mib:.0f} MiB cap" if run["killed_at_cap"]
                        else run["stderr_tail"])
    print(f"  {series} x {length}, lookback {lookback}: {out['wall_s']:.1f} s, "
          f"{out['peak_tree_rss_mib']:.0f} MiB{' (' + out['error'][:80] + ')' if 'error' in out else ''}",
          file=sys.stderr)
    return out


def render(r: dict, s: dict) -> str:
    """The sections in ``r`` (all three, or the one of ``--only``) as Markdown."""
    lines = []
    if "compare" in r:
        c = s["compare"]
        lines += [f"## The same comparison three ways ({c['models']}, {c['folds']} folds, horizon "
                  f"{c['horizon']}, {c['epochs']} epochs)", "",
                  _common.table(r["compare"], [("mode", "mode", ""), ("wall_s", "wall s", ".1f"),
                                               ("peak_tree_rss_mib", "peak RSS MiB (all processes)", ".0f"),
                                               ("identical", "same leaderboard", ""),
                                               ("exit_code", "exit", "d")]), ""]
    for title, key in (("One long series", "long"), ("Many series, one global model", "many")):
        if key not in r:
            continue
        row = r[key]
        lines += [f"## {title}: {row['series']:,} x {row['length']:,} points, lookback "
                  f"{row['lookback']}, mlp, 1 epoch", "",
                  _common.table([row], [("wall_s", "wall s", ".1f"), ("fit_s", "fit s", ".1f"),
                                        ("n_windows", "windows", ","),
                                        ("peak_tree_rss_mib", "peak RSS MiB", ".0f"),
                                        ("error", "stopped", "")]), ""]
    lines.append(f"Memory cap for sections 2-3: {s['memory_cap_mib']:.0f} MiB. Peak RSS sampled "
                 "every 0.2 s over the process and its children.")
    return "\n".join(lines)


def main() -> None:
    parser = _common.parser(__doc__.splitlines()[0])
    parser.add_argument("--memory-cap-mib", type=float, default=None,
                        help="kill a fit whose RSS passes this (default: min(8 GiB, half the RAM))")
    parser.add_argument("--only", choices=SECTIONS, default=None,
                        help="run one section, written as scale_<section>.json/.md")
    args = parser.parse_args()
    settings = {**(QUICK if args.quick else FULL)}
    cap = args.memory_cap_mib or min(8192.0, _common.machine()["memory_gib"] * 1024 / 2)
    settings["memory_cap_mib"] = cap
    start = time.perf_counter()
    sections = {
        "compare": ("compare three ways", lambda: compare_modes(settings["compare"], args.quick)),
        "long": ("one long series", lambda: fit_child(1, settings["long"]["n"], settings["long"]["lookback"], cap)),
        "many": ("many series", lambda: fit_child(settings["many"]["series"], settings["many"]["length"], 48, cap)),
    }
    results = {}
    for key in [args.only] if args.only else SECTIONS:
        title, run = sections[key]
        print(f"== {title}", file=sys.stderr)
        results[key] = run()
    _common.write_report(f"scale_{args.only}" if args.only else "scale", quick=args.quick,
                         wall_s=time.perf_counter() - start, settings=settings, results=results,
                         markdown=render(results, settings))


if __name__ == "__main__":
    sys.exit(main())
