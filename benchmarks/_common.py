"""Shared plumbing of the benchmark suites: paths, machine facts, child processes, reports.

Every suite script (``m4_hourly.py``, ``etth1.py``, ``w1_speed.py``, ``engine.py``,
``startup.py``) runs on its own as ``python benchmarks/<suite>.py [--quick]`` and writes
``results/<suite>.json`` and ``results/<suite>.md`` (``results/quick/`` with ``--quick``)
through :func:`write_report`. Nothing here imports Keras, so a suite can still choose
its backend after importing this module.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PYTHON = sys.executable
LIBRARIES = ("forecaster-nn", "numpy", "pandas", "keras", "tensorflow", "jax", "jaxlib")
QUIET_LOAD = 0.7  # 1-minute load average below which a speed suite may start
QUIET_BUSY = 0.10  # fraction of both cores busy below which the next measurement may start


def data_dir() -> Path:
    """``$FORECASTER_DATA`` or ``<repo>/../shared/data``."""
    env = os.environ.get("FORECASTER_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def results_dir(quick: bool) -> Path:
    """``benchmarks/results`` (full runs) or ``benchmarks/results/quick`` (``--quick``)."""
    path = BENCH / "results" / ("quick" if quick else "")
    path.mkdir(parents=True, exist_ok=True)
    return path


def machine() -> dict:
    """Cores, CPU model, memory, OS and Python of this machine."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu_count": os.cpu_count(), "cpu_model": model, "memory_gib": round(mem_gib, 1),
            "platform": platform.platform(), "python": platform.python_version()}


def versions() -> dict:
    """Installed versions of forecaster and the numeric stack (read from metadata: no imports)."""
    out = {}
    for name in LIBRARIES:
        try:
            out["forecaster" if name == "forecaster-nn" else name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def package_digest() -> str:
    """SHA-256 (first 12 hex digits) of forecaster's source files: which code was measured.

    The package changes between commits and even between suites; this pins the exact
    sources a result came from without asking git.
    """
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((REPO / "forecaster").rglob("*.py")):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def median_forecast(preds: list) -> np.ndarray:
    """Median of several fits' forecast arrays (same shape) via ``forecaster.ensemble.median``,
    the documented function behind ``compare --ensemble``; rows stand in for series ids."""
    import numpy as np
    import pandas as pd
    from forecaster.ensemble import median

    first = np.asarray(preds[0])
    if len(preds) == 1:
        return first
    rows, steps = np.indices(first.shape)
    frames = [pd.DataFrame({"id": rows.ravel(), "timestamp": steps.ravel(),
                            "forecast": np.asarray(p, dtype=float).ravel()}) for p in preds]
    return median(frames)["forecast"].to_numpy().reshape(first.shape)


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def wait_until_quiet(max_wait: float = 600.0, threshold: float = QUIET_LOAD) -> dict:
    """Sleep in 30 s steps until the 1-minute load average is below ``threshold``.

    Returns the load average seen at the start and when measuring began, the seconds
    waited and whether the machine was quiet (a measurement after ``max_wait`` goes on,
    flagged ``quiet: False``).
    """
    start, first = time.monotonic(), load_average()
    now = first
    while now[0] >= threshold and time.monotonic() - start < max_wait:
        print(f"  load average {now[0]:.2f} >= {threshold}: waiting 30 s", file=sys.stderr)
        time.sleep(30)
        now = load_average()
    return {"before_wait": first, "at_start": now, "waited_s": round(time.monotonic() - start, 1),
            "quiet": now[0] < threshold}


def cpu_busy(seconds: float = 3.0) -> float:
    """Fraction of all cores' time spent busy (not idle/iowait) over the next ``seconds``."""
    def snap() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return fields[3] + fields[4], sum(fields[:8])  # idle + iowait, total

    idle0, total0 = snap()
    time.sleep(seconds)
    idle1, total1 = snap()
    return 1 - (idle1 - idle0) / max(total1 - total0, 1)


def wait_until_idle(max_wait: float = 600.0, threshold: float = QUIET_BUSY) -> dict:
    """Between measurements: wait until the CPUs are idle (busy < ``threshold`` over 3 s).

    The 1-minute load average still counts the previous measurement for a minute or
    more, so it cannot tell whether anything else is running; the busy fraction can.
    """
    start = time.monotonic()
    busy = cpu_busy()
    while busy >= threshold and time.monotonic() - start < max_wait:
        print(f"  CPU {100 * busy:.0f}% busy: waiting", file=sys.stderr)
        time.sleep(10)
        busy = cpu_busy()
    return {"cpu_busy": round(busy, 3), "load": load_average(),
            "waited_s": round(time.monotonic() - start, 1), "quiet": busy < threshold}


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_json(args: list[str], *, env: dict | None = None, timeout: float = 3600) -> dict:
    """Run ``python <args>`` in a fresh process and parse the JSON on its last stdout line."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    proc = subprocess.run([PYTHON, *args], capture_output=True, text=True, env=full_env,
                          cwd=REPO, timeout=timeout)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{shlex.join(args)} failed with exit code {proc.returncode}:\n{tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def command() -> str:
    """This process's command line, relative to the repository root."""
    argv = [os.path.relpath(sys.argv[0], REPO), *sys.argv[1:]]
    return shlex.join([os.path.relpath(PYTHON, REPO) if PYTHON.startswith(str(REPO)) else PYTHON,
                       *argv])


def write_report(suite: str, *, quick: bool, wall_s: float, settings: dict, results: dict,
                 markdown: str) -> Path:
    """Write ``<suite>.json`` (everything) and ``<suite>.md`` (header + ``markdown``)."""
    out = results_dir(quick)
    meta = {"suite": suite, "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            "command": command(), "invoked_by": os.environ.get("FORECASTER_BENCH_RUN"),
            "quick": quick, "wall_s": round(wall_s, 1), "machine": machine(), "versions": versions(),
            "forecaster_sources_sha256": package_digest()}
    doc = {**meta, "settings": settings, "results": results}
    (out / f"{suite}.json").write_text(json.dumps(doc, indent=2, default=_plain) + "\n")
    (out / f"{suite}.md").write_text(_header(meta, settings) + markdown.rstrip() + "\n")
    return out / f"{suite}.md"


def _header(meta: dict, settings: dict) -> str:
    m, v = meta["machine"], meta["versions"]
    libs = ", ".join(f"{k} {val}" for k, val in v.items() if val)
    lines = [f"# {meta['suite']}{' (quick)' if meta['quick'] else ''}", "",
             f"- date (UTC): {meta['date_utc']}",
             f"- machine: {m['cpu_count']} cores, {m['cpu_model']}, {m['memory_gib']} GiB, "
             f"{m['platform']}, Python {m['python']}",
             f"- versions: {libs}; forecaster sources sha256 {meta['forecaster_sources_sha256']}",
             f"- command: `{meta['command']}`"
             + (f" (from `{meta['invoked_by']}`)" if meta["invoked_by"] else ""),
             f"- wall time: {meta['wall_s']:.1f} s",
             f"- settings: `{json.dumps(settings, default=_plain)}`", "", ""]
    return "\n".join(lines)


def _plain(value):
    """JSON fallback for NumPy scalars and paths."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """A Markdown table: ``columns`` are ``(key, header, format)`` (format '' = str)."""
    head = "| " + " | ".join(h for _, h, _ in columns) + " |"
    rule = "| " + " | ".join("---" if not f else "---:" for _, _, f in columns) + " |"
    body = []
    for row in rows:
        cells = []
        for key, _, fmt in columns:
            val = row.get(key)
            if isinstance(val, bool):
                val = "yes" if val else "no"
            cells.append("" if val is None else (format(val, fmt) if fmt else str(val)))
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *body])


def parser(description: str):
    """An argument parser with the ``--quick`` flag every suite takes."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small settings, results/quick/")
    return parser
