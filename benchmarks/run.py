"""Run the benchmark suites, each in its own process, then assemble results/SUMMARY.md.

    python benchmarks/run.py                       # everything -> benchmarks/results/
    python benchmarks/run.py --quick               # minutes    -> benchmarks/results/quick/
    python benchmarks/run.py --only m4,etth1       # some suites

Suites: ``startup`` (import and ``--help`` time, RSS), ``w1`` (LSTM training speed,
forecaster vs plain Keras on both backends), ``engine`` (what moves W1 speed),
``etth1`` (ETTh1 univariate accuracy), ``m4`` (M4 Hourly accuracy), ``m4tf`` (the
same M4 settings on the TensorFlow backend: accuracy and fit time per engine), ``small``
(every model, statistical ones included, on short real series, with interval coverage),
``scale`` (one comparison sequential, on 2 processes and on a Dask LocalCluster; peak memory
of a 10-million-point series; a global model on 10,000 series), ``course`` (vanishing
gradients and stateful training: the README's "From the notes" numbers), ``coverage``
(interval calibration schemes compared) and ``many_series`` (where the time of a global
fit on 10,000 series goes, phase by phase). Speed suites
wait for a quiet machine (load average < 0.7) before each measurement. ``m4tune`` is
not part of a default run: tuning trials are added with ``m4_hourly.py --tune``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import _common
import summary

# suite -> script and its arguments
SUITES = {"startup": ["startup.py"], "w1": ["w1_speed.py"], "engine": ["engine.py"],
          "etth1": ["etth1.py"], "m4": ["m4_hourly.py"],
          "m4tf": ["m4_hourly.py", "--backend", "tensorflow"], "small": ["small.py"],
          "coverage": ["coverage.py"], "scale": ["scale.py"], "course": ["course.py"],
          "many_series": ["many_series.py"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings, results/quick/")
    parser.add_argument("--only", default=",".join(SUITES),
                        help=f"comma-separated suites (default: all of {', '.join(SUITES)})")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite {unknown[0]!r}; choose from {', '.join(SUITES)}")
    env = {**os.environ, "FORECASTER_BENCH_RUN": _common.command(), "TF_CPP_MIN_LOG_LEVEL": "3"}
    start, done = time.perf_counter(), []
    for name in chosen:
        script, *extra = SUITES[name]
        cmd = [_common.PYTHON, str(_common.BENCH / script), *extra,
               *(["--quick"] if args.quick else [])]
        print(f"== {name}: {' '.join(cmd)}", file=sys.stderr, flush=True)
        t = time.perf_counter()
        code = subprocess.run(cmd, cwd=_common.REPO, env=env).returncode
        done.append({"suite": name, "exit_code": code, "wall_s": round(time.perf_counter() - t, 1)})
        print(f"== {name}: exit {code} in {done[-1]['wall_s']} s", file=sys.stderr, flush=True)
    total = time.perf_counter() - start
    out = _common.results_dir(args.quick)
    record = merge_record(out / "run.json", done)
    record.update(last_command=_common.command(), last_wall_s=round(total, 1))
    (out / "run.json").write_text(json.dumps(record, indent=2) + "\n")
    path = summary.write(out)
    print(f"== total {total:.0f} s; summary: {path}", file=sys.stderr)
    return 1 if any(d["exit_code"] for d in done) else 0


def merge_record(path, done: list[dict]) -> dict:
    """Suites run now replace their earlier entries; the others keep their last run."""
    old = json.loads(path.read_text()) if path.exists() else {}
    suites = {d["suite"]: d for d in old.get("suites", [])}
    suites.update({d["suite"]: {**d, "command": _common.command()} for d in done})
    ordered = [suites[name] for name in SUITES if name in suites]
    return {"suites": ordered, "total_wall_s": round(sum(d["wall_s"] for d in ordered), 1),
            "machine": _common.machine(), "versions": _common.versions()}


if __name__ == "__main__":
    sys.exit(main())
