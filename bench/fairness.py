"""Fairness benchmark: `assess_fairness` (with bootstrap intervals) vs fairlearn's `MetricFrame`, same Parquet file.

Scored transactions with three segment columns (``country`` 8 values, ``channel`` 3, ``device`` 4) and three
metrics (selection rate, precision, false positive rate). Each implementation runs in a fresh subprocess, so its
peak memory (``ru_maxrss``) is its own.

- ``guardrails``: ``assess_fairness(path, spec)`` end to end: reading the four columns from Parquet, the one
  ``group_by``, 1,000 Poisson resamples of the counts, the simultaneous intervals and the verdicts.
- ``guardrails fairness SPEC DATA --json`` in a fresh process (wall time: interpreter, imports, output).
- ``fairlearn``: read the same columns with pandas, then one ``MetricFrame`` per segment column (fairlearn's
  ``selection_rate`` and ``false_positive_rate``, scikit-learn's ``precision_score``): point values only, no
  intervals (``MetricFrame(n_boot=...)`` resamples rows and is far slower). Timed after reading. Every per-segment
  value is compared with guardrails' (the largest absolute difference is printed).

Usage::

    python -m bench.fairness                          # 10M rows (guardrails) and 1M rows (both)
    python -m bench.fairness --rows 1000000 --small-rows 200000   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._worker import run_worker

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / ".data"
SEGMENTS = ("country", "channel", "device")
METRICS = ("selection_rate", "precision", "false_positive_rate")


def make_table(rows: int, *, seed: int = 0):
    """Scored rows: a fraud label (8 %), a score that separates it, and a model that is harsher on one country."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    country = rng.choice(8, rows, p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.05, 0.02]).astype(np.uint32)
    channel = rng.choice(3, rows, p=[0.55, 0.4, 0.05]).astype(np.uint32)
    device = rng.choice(4, rows, p=[0.5, 0.3, 0.15, 0.05]).astype(np.uint32)
    fraud = rng.random(rows) < 0.08
    score = np.clip(np.where(fraud, 0.75, 0.3) + rng.normal(0, 0.18, rows) + (country == 6) * 0.08, 0, 1)
    return pl.DataFrame({"fraud_score": score, "is_fraud": fraud}).with_columns(
        pl.Series("country", country).replace_strict(list(range(8)), ["US", "GB", "DE", "FR", "CA", "ES", "IT", "NL"],
                                                     return_dtype=pl.String),
        pl.Series("channel", channel).replace_strict([0, 1, 2], ["online", "pos", "atm"], return_dtype=pl.String),
        pl.Series("device", device).replace_strict([0, 1, 2, 3], ["ios", "android", "web", "kiosk"],
                                                   return_dtype=pl.String),
    )


def ensure_data(rows: int, data_dir: Path = DATA_DIR) -> Path:
    """Write (once) the scored Parquet file for `rows`; return its path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"fairness-{rows}.parquet"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        make_table(rows).write_parquet(tmp)
        tmp.replace(path)
    return path


def spec():
    from guardrails.checks import FairnessSpec

    return FairnessSpec(prediction="fraud_score", threshold=0.5, label="is_fraud", segments=SEGMENTS,
                        metrics=METRICS, resamples=1000)


def run_guardrails(path: Path) -> dict[str, Any]:
    from guardrails.checks import assess_fairness

    start = time.perf_counter()
    report = assess_fairness(path, spec())
    done = time.perf_counter()
    return {"seconds": done - start, "verdict": report.verdict.value, "rows": report.outcome.rows,
            "values": {f"{s.column}|{s.segment}|{s.metric}": s.value for s in report.segments},
            "intervals": sum(1 for g in report.gaps if g.difference_lower is not None)}


def run_fairlearn(path: Path) -> dict[str, Any]:
    import pandas as pd
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate
    from sklearn.metrics import precision_score

    start = time.perf_counter()
    frame = pd.read_parquet(path, columns=["fraud_score", "is_fraud", *SEGMENTS])
    loaded = time.perf_counter()
    y_true = frame["is_fraud"].astype(int)
    y_pred = (frame["fraud_score"] >= 0.5).astype(int)
    metrics = {"selection_rate": selection_rate, "false_positive_rate": false_positive_rate,
               "precision": lambda t, p: precision_score(t, p, zero_division=0)}
    values: dict[str, float] = {}
    for column in SEGMENTS:
        by_group = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred,
                               sensitive_features=frame[column]).by_group
        for segment, row in by_group.iterrows():
            for metric in METRICS:
                values[f"{column}|{segment}|{metric}"] = float(row[metric])
    done = time.perf_counter()
    return {"load_seconds": loaded - start, "seconds": done - loaded, "values": values}


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM where Linux has it (``ru_maxrss`` survives exec, so a worker
    started by a parent that generated 10M rows would report the parent's peak), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass  # not Linux: fall back to getrusage
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(impl: str, path: Path) -> None:
    """Run one implementation and print its figures as one JSON line (peak RSS of this process included)."""
    result = {"guardrails": run_guardrails, "fairlearn": run_fairlearn}[impl](path)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


SPEC_YAML = f"""fairness:
  prediction: fraud_score
  threshold: 0.5
  label: is_fraud
  segments: [{", ".join(SEGMENTS)}]
  metrics: [{", ".join(METRICS)}]
  resamples: 1000
"""


def measure_cli(path: Path, data_dir: Path = DATA_DIR, timeout: float = 1800) -> dict[str, Any]:
    """`guardrails fairness SPEC DATA --json` in a fresh process: what a user waits for, imports included."""
    spec_path = data_dir / "bench.fairness.yaml"
    spec_path.write_text(SPEC_YAML)
    command = [sys.executable, "-c", "from guardrails.cli import main; main()", "fairness", str(spec_path), str(path),
               "--json"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, cwd=HERE.parent)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1], "wall_seconds": wall}
    return {"wall_seconds": wall, "verdict": json.loads(done.stdout)["outcome"]["verdict"]}


def measure(impl: str, path: Path, timeout: float = 1800) -> dict[str, Any]:
    """Run `impl` in a fresh process and return its figures (with `wall_seconds`, imports included)."""
    command = [sys.executable, "-m", "bench.fairness", "--worker", impl, str(path)]
    return run_worker(command, timeout=timeout, cwd=HERE.parent)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the fairness benchmark, print a table, and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows for guardrails alone")
    parser.add_argument("--small-rows", type=int, default=1_000_000, help="rows for the side-by-side run")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where the generated Parquet files go")
    parser.add_argument("--worker", nargs=2, metavar=("IMPL", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args([] if argv is None else argv)  # never the caller's argv (bench/run.py)
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return {}
    figures: dict[str, Any] = {"load_average_before": os.getloadavg()[0], "cpus": os.cpu_count()}
    large, small = ensure_data(args.rows, args.data_dir), ensure_data(args.small_rows, args.data_dir)
    figures["guardrails_large"] = measure("guardrails", large)
    figures["cli_large"] = measure_cli(large, args.data_dir)
    figures["guardrails_small"] = measure("guardrails", small)
    figures["fairlearn_small"] = measure("fairlearn", small)
    ours, theirs = figures["guardrails_small"], figures["fairlearn_small"]
    if "values" in ours and "values" in theirs:
        shared = set(ours["values"]) & set(theirs["values"])
        figures["max_abs_difference"] = max(abs((ours["values"][k] or 0.0) - theirs["values"][k]) for k in shared)
        figures["values_compared"] = len(shared)
        figures["fairlearn_over_guardrails"] = theirs["seconds"] / ours["seconds"]
    figures["load_average_after"] = os.getloadavg()[0]
    for run in ("guardrails_large", "guardrails_small", "fairlearn_small"):
        figures[run].pop("values", None)
    print(f"{'implementation':<12} {'rows':>12} {'seconds':>9} {'wall (s)':>9} {'peak RSS (MiB)':>15}")
    for name, run, rows in (("guardrails", "guardrails_large", args.rows), ("guardrails", "guardrails_small",
                            args.small_rows), ("fairlearn", "fairlearn_small", args.small_rows)):
        r = figures[run]
        if "error" in r:
            print(f"{name:<12} {rows:>12,} error: {r['error']}")
            continue
        print(f"{name:<12} {rows:>12,} {r['seconds']:>9.2f} {r['wall_seconds']:>9.2f} {r['peak_rss_mb']:>15,.0f}")
    cli = figures["cli_large"]
    print(f"guardrails fairness SPEC DATA --json, {args.rows:,} rows, fresh process: "
          + (f"{cli['wall_seconds']:.2f} s (verdict {cli['verdict']})" if "verdict" in cli else cli["error"]))
    if "fairlearn_over_guardrails" in figures:
        print(f"fairlearn MetricFrame (no intervals) / guardrails (1,000 resamples) at {args.small_rows:,} rows: "
              f"{figures['fairlearn_over_guardrails']:.1f}x; {figures['values_compared']} per-segment values agree "
              f"within {figures['max_abs_difference']:.1e}")
    print(f"load average {figures['load_average_before']:.1f} -> {figures['load_average_after']:.1f}")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
