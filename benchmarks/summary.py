"""Assemble ``SUMMARY.md`` (the README's benchmark tables) from the suites' JSON results.

    python benchmarks/summary.py [--quick]

Reads ``results/<suite>.json`` (or ``results/quick/``) for whichever suites exist and
writes ``SUMMARY.md`` next to them. Called by ``run.py`` at the end of every run.
"""

from __future__ import annotations

import json
from pathlib import Path

import _common

SUITES = ("m4_hourly", "m4_hourly_tensorflow", "etth1", "w1_speed", "engine", "startup", "scale")


def load(folder: Path) -> dict[str, dict]:
    return {s: json.loads((folder / f"{s}.json").read_text()) for s in SUITES
            if (folder / f"{s}.json").exists()}


def m4(doc: dict) -> str:
    res = doc["results"]
    ours = [{**r, "source": "forecaster"} for r in res["rows"]
            if r["kind"] == "neural" or r["model"] in ("seasonal_naive", "naive")]
    official = [{**r, "source": "M4 official", "model": r["model"].replace("M4 official: ", "")}
                for r in res["official"]]
    rows = sorted(ours + official, key=lambda r: r["owa"])
    n = res["rows"][0].get("n_series", 414)
    return "\n".join([
        f"### M4 Hourly ({n} series, h = 48, official test set)", "",
        "One global model per architecture; settings chosen on a validation split carved from "
        "the training data (never the test). OWA relative to Naive2 (sMAPE 18.383, MASE 2.395).", "",
        _common.table(rows, [("model", "model", ""), ("source", "source", ""),
                             ("smape", "sMAPE", ".3f"), ("mase", "MASE", ".3f"),
                             ("owa", "OWA", ".3f"), ("n_params", "params", ","),
                             ("fit_s", "fit s", ".0f")])])


def m4_backends(tf_doc: dict, jax_doc: dict | None) -> str:
    """The same M4 settings on both backends: fit seconds and OWA side by side."""
    if jax_doc is None:
        return ""
    jax = {r["model"]: r for r in jax_doc["results"]["rows"] if r["kind"] == "neural"}
    rows = []
    for r in tf_doc["results"]["rows"]:
        j = jax.get(r["model"])
        if r["kind"] != "neural" or j is None:
            continue
        ej, et = sum(j["epochs_run"]), sum(r["epochs_run"])
        rows.append({"model": r["model"], "fit_jax": j["fit_s"], "fit_tf": r["fit_s"],
                     "epochs_jax": ej, "epochs_tf": et,
                     "spe_jax": j["fit_s"] / ej, "spe_tf": r["fit_s"] / et,
                     "speedup": (r["fit_s"] / et) / (j["fit_s"] / ej),
                     "owa_jax": j["owa"], "owa_tf": r["owa"]})
    total_j = sum(r["fit_jax"] for r in rows)
    total_t = sum(r["fit_tf"] for r in rows)
    return "\n".join([
        "### M4 Hourly on both engines", "",
        "The chosen settings of the M4 table, fit once on each Keras backend (same seeds; "
        "early stopping may stop at different epochs, so speed is compared per epoch: fit "
        "seconds over epochs run, summed over an entry's fits).", "",
        _common.table(rows, [("model", "model", ""),
                             ("spe_jax", "s/epoch JAX", ".2f"), ("spe_tf", "s/epoch TF", ".2f"),
                             ("speedup", "JAX speed-up per epoch", ".2f"),
                             ("fit_jax", "fit s JAX", ".0f"), ("fit_tf", "fit s TF", ".0f"),
                             ("epochs_jax", "epochs JAX", "d"), ("epochs_tf", "epochs TF", "d"),
                             ("owa_jax", "OWA JAX", ".4f"), ("owa_tf", "OWA TF", ".4f")]),
        "", f"Total fit time: JAX {total_j:.0f} s, TensorFlow {total_t:.0f} s."])


def etth1(doc: dict) -> str:
    res, horizons = doc["results"], doc["settings"]["horizons"]
    by_model: dict[str, dict] = {}
    for r in res["rows"]:
        by_model.setdefault(r["model"], {})[r["horizon"]] = (r["mse"], r["mae"])
    for name, scores in res["published"].items():
        by_model[name] = {int(h): v for h, v in scores.items() if int(h) in horizons}
    head = "| model | " + " | ".join(f"{h} MSE | {h} MAE" for h in horizons) + " |"
    lines = ["### ETTh1 univariate (OT), look-back 336", "",
             "Every stride-1 test window, MSE/MAE on the standardised scale (training mean/std); "
             "learning rate and `lr_patience` chosen on the validation split. Ensembles are "
             "medians (`forecaster.ensemble.median`); \"forecaster (chosen on validation)\" "
             "is, per horizon, the entry with the lowest validation MSE.", "", head,
             "| --- |" + " ---: | ---: |" * len(horizons)]
    for name, scores in by_model.items():
        cells = [f"{scores[h][0]:.4f} | {scores[h][1]:.4f}" if h in scores else "- | -"
                 for h in horizons]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    picks = [r for r in res["rows"] if "chosen" in r]
    if picks:
        lines += ["", "Chosen on validation: " + "; ".join(f"{r['horizon']}: {r['chosen']}"
                                                          for r in picks) + "."]
    return "\n".join(lines)


def w1(doc: dict) -> str:
    rows = doc["results"]["summary"]
    return "\n".join([
        "### W1 training speed (ETTh1 OT, LSTM(64) -> Dense(24), lookback 96, batch 32)", "",
        "Median of epochs 2-5, median over repeats; each measurement a fresh process on a quiet "
        "machine.", "",
        _common.table(rows, [("backend", "backend", ""), ("impl", "implementation", ""),
                             ("s_per_epoch", "s/epoch", ".2f"),
                             ("windows_per_s", "windows/s", ",.0f"),
                             ("overhead_pct", "overhead", "+.1f"),
                             ("peak_rss_mib", "peak RSS MiB", ".0f"),
                             ("mse", "test MSE", ".4f")])])


def engine(doc: dict) -> str:
    rows = [r for r in doc["results"]["rows"] if "error" not in r]
    rows = sorted(rows, key=lambda r: -r["windows_per_s"])
    return "\n".join([
        "### Engine levers on W1 (5 epochs, one lever at a time)", "",
        _common.table(rows, [("lever", "configuration", ""), ("windows_per_s", "windows/s", ",.0f"),
                             ("speedup", "x forecaster TF", ".2f"), ("mse", "test MSE", ".4f")])])


def startup(doc: dict) -> str:
    r = doc["results"]
    fits = {f["model"]: f for f in r["fits"]}
    imports = r["help_modules"]["imports"]
    heavy = [k for k, v in imports.items() if v] or ["none of " + ", ".join(imports)]
    return "\n".join([
        "### Start-up and memory", "", "| measurement | value |", "| --- | ---: |",
        f"| `forecaster --help` (median of {len(r['help']['runs_s'])} fresh runs) | "
        f"{r['help']['median_s']:.3f} s |",
        f"| `import forecaster` | {1000 * r['import_forecaster_s']:.1f} ms |",
        f"| `from forecaster import Forecaster` | {1000 * r['import_Forecaster_s']:.0f} ms |",
        f"| modules loaded by `--help` | {r['help_modules']['n_modules']} "
        f"(heavy: {', '.join(heavy)}) |",
        f"| peak RSS, seasonal_naive fit | {fits['seasonal_naive']['peak_rss_mib']:.0f} MiB |",
        f"| peak RSS, small mlp fit | {fits['mlp']['peak_rss_mib']:.0f} MiB |"])


def scale(doc: dict) -> str:
    r, s = doc["results"], doc["settings"]
    c, long, many = s["compare"], r["long"], r["many"]

    def fit(row: dict) -> str:
        if row.get("error"):
            return f"stopped: {row['error'][:120]} (peak {row['peak_tree_rss_mib']:,.0f} MiB)"
        return f"{row['wall_s']:.0f} s, peak RSS {row['peak_tree_rss_mib']:,.0f} MiB"

    return "\n".join([
        f"### Scale ({c['models']}, {c['folds']} folds, horizon {c['horizon']}, {c['epochs']} epochs)",
        "", _common.table(r["compare"], [("mode", "compare", ""), ("wall_s", "wall s", ".1f"),
                                         ("peak_tree_rss_mib", "peak RSS MiB, all processes", ".0f"),
                                         ("identical", "same leaderboard", "")]), "",
        f"One series of {long['length']:,} points, lookback {long['lookback']}, mlp, 1 epoch: "
        f"{fit(long)}. {many['series']:,} series of {many['length']:,} points, one global mlp, "
        f"1 epoch: {fit(many)}."])


def write(folder: Path) -> Path:
    docs = load(folder)
    parts = {"m4_hourly": m4, "etth1": etth1, "w1_speed": w1, "engine": engine, "startup": startup,
             "scale": scale}
    m = _common.machine()
    v = _common.versions()
    head = [f"# Benchmark summary{' (quick run: not representative)' if folder.name == 'quick' else ''}",
            "", f"Machine: {m['cpu_count']} cores ({m['cpu_model']}), {m['memory_gib']} GiB; "
            f"forecaster {v['forecaster']}, Keras {v['keras']}, TensorFlow {v['tensorflow']}, "
            f"JAX {v['jax']}, NumPy {v['numpy']}, pandas {v['pandas']}.",
            "Dates of each suite: " + ", ".join(f"{s} {d['date_utc']}" for s, d in docs.items()) + ".",
            ""]
    walls = ", ".join(f"{name} {d['wall_s']:.0f} s" for name, d in docs.items())
    head += [f"Wall time of each suite's last run: {walls}; "
             f"total {sum(d['wall_s'] for d in docs.values()):.0f} s.", ""]
    parts["m4_hourly_tensorflow"] = lambda doc: m4_backends(doc, docs.get("m4_hourly"))
    body = [part for s in SUITES if s in docs and (part := parts[s](docs[s]))]
    path = folder / "SUMMARY.md"
    path.write_text("\n".join(head) + "\n" + "\n\n".join(body) + "\n")
    return path


if __name__ == "__main__":
    args = _common.parser(__doc__.splitlines()[0]).parse_args()
    print(write(_common.results_dir(args.quick)))
