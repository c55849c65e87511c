"""Start-up time and memory: ``forecaster --help``, ``import forecaster``, a small fit.

- ``forecaster --help``: wall time of a fresh ``.venv/bin/forecaster --help`` process,
  median of 5 runs after one warm-up run (goal < 0.3 s), next to a bare
  ``python -c pass`` for the interpreter's own share.
- What ``--help`` imports: the number of modules in ``sys.modules`` after the CLI has
  printed its help in-process, whether tensorflow / keras / matplotlib / pandas / numpy
  are among them, and the slowest imports by ``python -X importtime`` (cumulative).
- ``import forecaster`` and ``from forecaster import Forecaster``: seconds measured inside
  a fresh process (median of 5).
- Peak RSS (``ru_maxrss``) of a fresh process fitting a baseline and a small MLP on
  sample_data/airpassengers.csv, and whether the baseline fit imported TensorFlow.

    python benchmarks/startup.py [--quick]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _common

HEAVY = ("tensorflow", "keras", "jax", "matplotlib", "pandas", "numpy", "sklearn", "rich")
CLI = str(Path(_common.PYTHON).with_name("forecaster"))
HELP_MODULES = """
import contextlib, io, json, sys
sys.argv = ["forecaster", "--help"]
from forecaster.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit:
        pass
print(json.dumps(sorted(sys.modules)))
"""
TIMED_IMPORT = """
import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)
"""
SMALL_FIT = """
import json, resource, sys
from forecaster import Forecaster, read_csv
panel = read_csv("sample_data/airpassengers.csv")
f = Forecaster({model!r}, horizon=12, epochs=20, seed=0).fit(panel)
print(json.dumps({{"model": {model!r}, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "tensorflow_imported": "tensorflow" in sys.modules, "mase": f.metrics_["mase"]}}))
"""


def wall(cmd: list[str], runs: int) -> dict:
    """Median wall seconds of ``runs`` fresh processes, after one warm-up run."""
    subprocess.run(cmd, capture_output=True, check=True, cwd=_common.REPO)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, cwd=_common.REPO)
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "min_s": min(times),
            "runs_s": [round(t, 4) for t in times]}


def inner(stmt: str, runs: int) -> float:
    """Median seconds of ``stmt`` timed inside ``runs`` fresh interpreters."""
    code = TIMED_IMPORT.format(stmt=stmt)
    out = [float(_run([_common.PYTHON, "-c", code]).strip().splitlines()[-1]) for _ in range(runs)]
    return statistics.median(out)


def _run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=_common.REPO)
    return proc.stdout


def help_modules() -> dict:
    """Modules loaded by ``forecaster --help`` (run in-process in a fresh interpreter)."""
    mods = json.loads(_run([_common.PYTHON, "-c", HELP_MODULES]).strip().splitlines()[-1])
    tops = {m.split(".")[0] for m in mods}
    return {"n_modules": len(mods), "imports": {name: name in tops for name in HEAVY}}


def slowest_imports(n: int = 10) -> list[dict]:
    """The ``n`` largest cumulative import times of ``import forecaster.cli`` (-X importtime)."""
    proc = subprocess.run([_common.PYTHON, "-X", "importtime", "-c", "import forecaster.cli"],
                          capture_output=True, text=True, check=True, cwd=_common.REPO)
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            rows.append({"module": name.strip(), "depth": (len(name) - len(name.lstrip())) // 2,
                         "cumulative_ms": int(parts[1]) / 1000})
    return sorted(rows, key=lambda r: -r["cumulative_ms"])[:n]


def main() -> None:
    args = _common.parser(__doc__.splitlines()[0]).parse_args()
    start = time.perf_counter()
    runs = 3 if args.quick else 5
    load = _common.wait_until_quiet(0 if args.quick else 600)
    res = {"load": load,
           "help": wall([CLI, "--help"], runs),
           "python_pass": wall([_common.PYTHON, "-c", "pass"], runs),
           "help_modules": help_modules(), "slowest_imports": slowest_imports(),
           "import_forecaster_s": inner("import forecaster", runs),
           "import_Forecaster_s": inner("from forecaster import Forecaster", runs),
           "fits": [json.loads(_run([_common.PYTHON, "-c", SMALL_FIT.format(model=m)])
                               .strip().splitlines()[-1]) for m in ("seasonal_naive", "mlp")]}
    _common.write_report("startup", quick=args.quick, wall_s=time.perf_counter() - start,
                         settings={"runs": runs, "cli": CLI}, results=res, markdown=render(res))


def render(r: dict) -> str:
    imports = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in r["help_modules"]["imports"].items())
    lines = ["| measurement | value |", "| --- | ---: |",
             f"| `forecaster --help` wall time (median of {len(r['help']['runs_s'])}) | "
             f"{r['help']['median_s']:.3f} s |",
             f"| `python -c pass` wall time (interpreter alone) | {r['python_pass']['median_s']:.3f} s |",
             f"| `import forecaster` (in-process) | {1000 * r['import_forecaster_s']:.1f} ms |",
             f"| `from forecaster import Forecaster` (in-process) | "
             f"{1000 * r['import_Forecaster_s']:.1f} ms |",
             f"| modules loaded by `--help` | {r['help_modules']['n_modules']} |"]
    for fit in r["fits"]:
        lines.append(f"| peak RSS, `{fit['model']}` fit on airpassengers (TensorFlow imported: "
                     f"{'yes' if fit['tensorflow_imported'] else 'no'}) | {fit['peak_rss_mib']:.0f} MiB |")
    lines += ["", f"Imported by `--help`: {imports}.", "",
              "Slowest imports of `import forecaster.cli` (`-X importtime`, cumulative):", "",
              _common.table(r["slowest_imports"], [("module", "module", ""),
                                                   ("depth", "nesting", "d"),
                                                   ("cumulative_ms", "ms", ".1f")]),
              "", f"Load average at start: {r['load']['at_start']} (quiet: {r['load']['quiet']})."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
