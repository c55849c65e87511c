"""Preflight of a Dask cluster: the same software on the scheduler and every worker as here.

:func:`preflight` compares, for the scheduler and each worker, what :func:`software_probe`
reports with this process's: Python, forecaster's version and a hash of its source files
(and whether they changed after the process loaded them), Keras, the backend's packages,
statsforecast and NumPy, plus one thread per worker. Each difference is one line of a
:class:`~forecaster.errors.ClusterError`, within a second or two, instead of jobs that
fail or hang later.
"""

from __future__ import annotations

from forecaster.errors import ClusterError

WORKERS_S = 5.0  # seconds to wait for a worker on a cluster that has none
PACKAGES = ("keras", "statsforecast", "numpy")
BACKEND_PACKAGES = {"jax": ("jax", "jaxlib"), "tensorflow": ("tensorflow",)}


def preflight(client, address: str, backend: str | None) -> None:
    """Raise :class:`ClusterError` listing every way the cluster differs from this machine."""
    try:
        client.wait_for_workers(1, timeout=WORKERS_S)
    except TimeoutError:
        raise ClusterError(f"No Dask worker is connected to {address} after {WORKERS_S:g} s; "
                           f"start some with `dask worker {address} --nworkers N --nthreads 1`.") from None
    packages = (*PACKAGES, *BACKEND_PACKAGES.get(backend or "", ()))
    probe = software_probe()
    here = local_software(packages)
    found = {"scheduler": client.run_on_scheduler(probe, packages)}
    for worker, info in client.run(probe, packages, on_error="return").items():
        found[f"worker {worker}"] = info
    threads = {f"worker {w}": n for w, n in client.nthreads().items()}
    problems = compare_software(here, found, threads=threads, backend=backend)
    if problems:
        raise ClusterError(f"The Dask cluster at {address} cannot run these jobs "
                           f"({len(problems)} problem(s)):", problems)


def compare_software(here: dict, found: dict[str, dict], *, threads: dict[str, int],
                     backend: str | None) -> list[str]:
    """One line per difference between ``here`` and each process of ``found``.

    >>> here = {"python": "3.11", "forecaster": "0.1.0", "forecaster sources": "ab12",
    ...         "keras": "3.15.1", "keras backend": None}
    >>> there = {"worker tcp://w:1": {**here, "keras": "3.10.0"},
    ...          "worker tcp://w:2": {**here, "forecaster": None, "forecaster sources": None},
    ...          "scheduler": here}
    >>> for line in compare_software(here, there, threads={"worker tcp://w:1": 2}, backend="jax"):
    ...     print(line)
    worker tcp://w:1: keras 3.10.0, here 3.15.1
    worker tcp://w:1: 2 threads; start workers with --nthreads 1 (jobs sharing a process share Keras's random state)
    worker tcp://w:2: forecaster is not installed; install forecaster-nn 0.1.0 there
    """
    lines = []
    for where, info in found.items():
        if isinstance(info, BaseException):
            lines.append(f"{where}: the check failed ({type(info).__name__}: {info})")
            continue
        lines += [f"{where}: {line}" for line in _differences(here, info, backend)]
        if threads.get(where, 1) > 1:
            lines.append(f"{where}: {threads[where]} threads; start workers with --nthreads 1 "
                         "(jobs sharing a process share Keras's random state)")
    return lines


def _differences(here: dict, there: dict, backend: str | None) -> list[str]:
    if there.get("forecaster") is None:
        return [f"forecaster is not installed; install forecaster-nn {here['forecaster']} there"]
    out = []
    for name, mine in here.items():
        theirs = there.get(name)
        if name == "keras backend":
            if theirs not in (None, backend) and backend is not None:
                out.append(f"Keras already runs on {theirs} there, not {backend}; restart the worker")
        elif name == "forecaster changed since start":
            if theirs:
                out.append("forecaster's files changed after this process loaded them; restart it")
        elif theirs is None and mine is not None:
            out.append(f"{name} is not installed (here {mine})")
        elif theirs != mine and name == "forecaster sources":
            out.append(f"forecaster's sources differ (sha256 {theirs}, here {mine}); "
                       "install the same forecaster everywhere")
        elif theirs != mine:
            out.append(f"{name} {theirs}, here {mine}")
    return out


def local_software(packages: tuple[str, ...]) -> dict:
    """This process's versions, as :func:`software_probe` reports them for the cluster's."""
    return software_probe()(packages)


def software_probe():
    """A function reporting a process's versions, pickled by value (it runs where forecaster may be missing).

    It imports nothing of forecaster (the package is located and hashed as files) nor
    Keras (versions come from package metadata).
    """

    def probe(packages) -> dict:
        import hashlib
        import platform
        import re
        import sys
        from importlib import metadata, util
        from pathlib import Path

        out = {"python": ".".join(platform.python_version_tuple()[:2])}
        spec = util.find_spec("forecaster")
        root = Path(next(iter(spec.submodule_search_locations))) if spec else None
        version = re.search(r'"(.+)"', (root / "_version.py").read_text()) if root else None
        digest = hashlib.sha256()
        for path in sorted(root.rglob("*.py")) if root else []:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
        out["forecaster"] = version.group(1) if version else None
        out["forecaster sources"] = digest.hexdigest()[:12] if root else None
        for name in packages:
            try:
                out[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                out[name] = None
        keras = sys.modules.get("keras")
        out["keras backend"] = keras.backend.backend() if keras is not None else None
        try:  # forecaster loaded here, then changed on disk: this process runs the old code
            import psutil

            started = psutil.Process().create_time()
            loaded = [m.__file__ for n, m in list(sys.modules.items())
                      if n.split(".")[0] == "forecaster" and getattr(m, "__file__", None)]
            out["forecaster changed since start"] = any(Path(f).stat().st_mtime > started
                                                        for f in loaded)
        except (ImportError, OSError):
            out["forecaster changed since start"] = False
        return out

    return probe
