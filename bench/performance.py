"""Performance-check benchmark: 10M logged predictions, delayed labels, realized metrics per day, end to end.

`simulate` is also the test suite's simulation (tests/checks/test_performance_simulations.py): a logistic world
where the model's score is calibrated on the reference, and a day can shift the inputs (covariate shift, the
concept stable), flip the relation between an input and the outcome (concept drift, inputs unchanged), or change
the label rate alone (prior shift: positives resampled, so P(x | y) is unchanged).

The benchmark writes predictions (key, score, time, two features) and labels (positives only, as chargebacks
arrive: key, label, label time days later) as Parquet, then times, each in a fresh process:

- ``cli``: ``guardrails performance SPEC PREDICTIONS LABELS --json`` (imports, reading, join, six metrics with
  intervals per day, output), the spec judging precision, recall, F1, ROC AUC and log loss;
- ``cli+estimate``: the same with ``--reference-data`` (100k labelled reference rows: cross-fitted isotonic
  calibration, the estimate per day and the diagnosis).

Wall time is what a user waits for on an idle machine; CPU time (user + system, all threads) is what the run
costs, and the figure to read on a shared, loaded machine, where wall time mostly measures the queue.

Usage::

    python -m bench.performance                  # 10M predictions over 30 days
    python -m bench.performance --rows 200000    # a quick smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / ".data" / "performance"
START = datetime(2026, 10, 1, tzinfo=UTC)
INTERCEPT, WEIGHT_1, WEIGHT_2 = -2.5, 1.5, 1.0

SPEC = """performance:
  key: transaction_id
  prediction: score
  label: is_fraud
  prediction_time: event_time
  label_time: label_time
  label_maturity: 30d
  period: 1d
  metrics: [precision, recall, f1, roc_auc, log_loss]
  reference_metrics: {precision: 0.68, recall: 0.35, f1: 0.46, roc_auc: 0.85, log_loss: 0.31}
  margin: {absolute: 0.05}
  min_labels: 500
"""


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def simulate(rows: int, *, seed: int, day: datetime = START, days: int = 1, shift: float = 0.0,
             flip: bool = False, positive_rate: float | None = None, first_key: int = 0,
             mean_delay_days: float = 7.0) -> pl.DataFrame:
    """`rows` predictions spread over `days` days, with their true outcome and when it would arrive.

    Args:
        shift: added to feature ``x1``'s mean (covariate shift; the concept is unchanged).
        flip: the outcome follows ``-x1`` instead of ``x1`` (concept drift; the inputs are unchanged).
        positive_rate: resample to this label rate keeping P(x | y) (prior shift); None: as generated.

    Columns: transaction_id, score (the model's calibrated probability on the reference), event_time (UTC),
    is_fraud, label_time (event time + an exponential delay), x1, x2.
    """
    rng = np.random.default_rng(seed)
    pool = rows if positive_rate is None else rows * 8
    x1 = rng.normal(shift, 1.0, pool)
    x2 = rng.normal(0.0, 1.0, pool)
    score = _sigmoid(INTERCEPT + WEIGHT_1 * x1 + WEIGHT_2 * x2)
    truth = _sigmoid(INTERCEPT + (-WEIGHT_1 if flip else WEIGHT_1) * x1 + WEIGHT_2 * x2)
    outcome = rng.uniform(size=pool) < truth
    if positive_rate is not None:
        positives, negatives = np.flatnonzero(outcome), np.flatnonzero(~outcome)
        wanted = int(round(rows * positive_rate))
        keep = np.concatenate([rng.choice(positives, wanted, replace=False),
                               rng.choice(negatives, rows - wanted, replace=False)])
        keep = rng.permutation(keep)
        x1, x2, score, outcome = x1[keep], x2[keep], score[keep], outcome[keep]
    offsets = (np.sort(rng.integers(0, days * 86_400, rows)) * 1_000_000).astype("timedelta64[us]")
    naive = day.astimezone(UTC).replace(tzinfo=None) if day.tzinfo else day
    event_time = np.datetime64(naive, "us") + offsets
    delay = (rng.exponential(mean_delay_days, rows) * 86_400e6).astype("timedelta64[us]")
    return pl.DataFrame({
        "transaction_id": np.arange(first_key, first_key + rows, dtype=np.int64), "score": score,
        "event_time": event_time, "is_fraud": outcome, "label_time": event_time + delay, "x1": x1, "x2": x2,
    }).with_columns(pl.col("event_time", "label_time").dt.replace_time_zone("UTC"))


def write_inputs(rows: int, directory: Path, *, days: int = 30) -> dict[str, Path]:
    """Predictions, positive labels (chargebacks only), a 100k-row labelled reference and the spec."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {name: directory / f"{name}-{rows}.parquet" for name in ("predictions", "labels", "reference")}
    paths["spec"] = directory / "bench.performance.yaml"
    paths["spec"].write_text(SPEC)
    if all(paths[name].exists() for name in ("predictions", "labels", "reference")):
        return paths
    frame = simulate(rows, seed=1, days=days)
    frame.select("transaction_id", "score", "event_time", "x1", "x2").write_parquet(paths["predictions"])
    frame.filter(pl.col("is_fraud")).select("transaction_id", "is_fraud", "label_time").write_parquet(paths["labels"])
    simulate(100_000, seed=2).select("score", "is_fraud").write_parquet(paths["reference"])
    return paths


def run_cli(paths: dict[str, Path], *, estimate: bool, as_of: str) -> dict[str, Any]:
    """One fresh `guardrails performance ... --json` process: wall time, its peak RSS, the verdict."""
    command = [sys.executable, "-c", "import sys; from guardrails.cli import main; sys.argv[0] = 'guardrails'; main()",
               "performance", str(paths["spec"]), str(paths["predictions"]), str(paths["labels"]),
               "--as-of", as_of, "--json"]
    if estimate:
        command += ["--reference-data", str(paths["reference"])]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    peak = after.ru_maxrss  # the largest child so far: run the lighter side first
    if done.returncode not in (0, 1, 3):
        raise RuntimeError(f"the CLI could not run (exit {done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "peak_rss_mib": round(peak / 1024),
            "verdict": report["outcome"]["verdict"], "periods_judged": report["outcome"]["metrics"]["periods_judged"],
            "estimate": report["outcome"]["metrics"]["estimate"]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    paths = write_inputs(args.rows, DATA_DIR)
    as_of = (START + timedelta(days=61)).isoformat()
    records = []
    for estimate in (False, True):
        runs = [run_cli(paths, estimate=estimate, as_of=as_of) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        records.append({"rows": args.rows, "side": "cli+estimate" if estimate else "cli", **best})
    load = os.getloadavg()[0]
    table = ["| rows | run | wall time, best of {} (s) | CPU time (s) | peak RSS (MiB) | verdict | days judged |"
             .format(args.repeat), "|---:|---|---:|---:|---:|---|---:|"]
    table += [f"| {r['rows']:,} | {r['side']} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} | {r['peak_rss_mib']:,} | "
              f"{r['verdict']} | {r['periods_judged']} |" for r in records]
    print("\n".join(table))
    print(f"(load average {load:.1f})")
    return {"records": records, "table": "\n".join(table), "load": load}


if __name__ == "__main__":
    main()
