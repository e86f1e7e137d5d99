"""Parity benchmark: offline vs online features, 1M keys x 20 features (14 numeric, 6 categorical).

The online side is the offline table shuffled, with 1 % of keys not served, 0.5 % extra served keys, small
float noise everywhere (inside the default tolerance) and real mismatches in 0.2 % of two features' rows.
The run happens in a fresh subprocess reading Parquet, so its peak memory (`ru_maxrss`) is its own; the
timing covers `assess_parity` (join, per-feature match, missing keys, sample, and the drift statistics of
both sides).

Usage::

    python bench/parity.py                  # 1M keys x 20 features
    python bench/parity.py --keys 100000    # a quick smoke run
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

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / ".data"
NUMERIC, CATEGORICAL = 14, 6


def make_sides(keys: int, seed: int = 0):
    """The offline feature table and the online (served) features for the same entities."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {"entity_id": np.arange(keys, dtype=np.int64)}
    for i in range(NUMERIC):
        columns[f"f_num_{i}"] = rng.normal(i, 1 + i / 10, keys)
    for j in range(CATEGORICAL):
        names = pl.Series([f"v{j}_{v}" for v in range(8 + 10 * j)])
        columns[f"f_cat_{j}"] = names.gather(rng.integers(0, len(names), keys))
    offline = pl.DataFrame(columns)

    served = offline.filter(pl.Series(rng.random(keys) >= 0.01))
    noise = {f"f_num_{i}": pl.col(f"f_num_{i}") * (1 + pl.Series(rng.normal(0, 1e-9, served.height)))
             for i in range(NUMERIC)}
    broken = pl.Series(rng.random(served.height) < 0.002)
    served = served.with_columns(**noise).with_columns(
        pl.when(broken).then(pl.col("f_num_0") + 1).otherwise(pl.col("f_num_0")).alias("f_num_0"),
        pl.when(broken).then(pl.lit("v1_unknown")).otherwise(pl.col("f_cat_1")).alias("f_cat_1"),
    )
    extra = offline.head(keys // 200).with_columns(pl.col("entity_id") + keys)
    online = pl.concat([served, extra]).sample(fraction=1.0, shuffle=True, seed=seed)
    return offline, online


def ensure_data(keys: int, data_dir: Path = DATA_DIR) -> tuple[Path, Path]:
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = (data_dir / f"parity-{keys}-offline.parquet", data_dir / f"parity-{keys}-online.parquet")
    if not all(p.exists() for p in paths):
        for path, frame in zip(paths, make_sides(keys), strict=True):
            tmp = path.with_suffix(".tmp")
            frame.write_parquet(tmp)
            tmp.replace(path)
    return paths


def worker(offline_path: Path, online_path: Path) -> None:
    """Run the parity check once and print its figures as one JSON line."""
    import polars as pl

    from guardrails.checks import ParitySettings, assess_parity

    start = time.perf_counter()
    offline, online = pl.read_parquet(offline_path), pl.read_parquet(online_path)
    loaded = time.perf_counter()
    report = assess_parity(offline, online, ParitySettings(keys=("entity_id",)))
    done = time.perf_counter()
    metrics = report.outcome.metrics
    print(json.dumps({
        "load_seconds": loaded - start,
        "seconds": done - loaded,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "status": report.outcome.status.value,
        "keys_matched": metrics["keys_matched"],
        "missing_online_share": metrics["missing_online_share"],
        "missing_offline_share": metrics["missing_offline_share"],
        "mismatches.f_num_0": metrics["mismatches.f_num_0"],
        "mismatches.f_num_1": metrics["mismatches.f_num_1"],
        "sample_rows": len(report.outcome.sample),
    }))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the parity benchmark, print a table, and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000, help="entity keys on the offline side")
    parser.add_argument("--worker", nargs=2, metavar=("OFFLINE", "ONLINE"), help=argparse.SUPPRESS)
    args = parser.parse_args([] if argv is None else argv)  # never the caller's argv (bench/run.py)
    if args.worker:
        worker(Path(args.worker[0]), Path(args.worker[1]))
        return {}

    paths = ensure_data(args.keys)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", *map(str, paths)],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        figures = {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
        print(f"parity benchmark failed: {figures['error']}")
        return figures
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures.update(wall_seconds=wall, keys=args.keys, features=NUMERIC + CATEGORICAL,
                   load_average_before=load_before, load_average_after=os.getloadavg()[0], cpus=os.cpu_count())
    print(f"{'shape':>22} {'compute s':>10} {'load s':>8} {'wall s':>8} {'peak MB':>9}  status")
    print(f"{args.keys:>11,} keys x {NUMERIC + CATEGORICAL:>2} {figures['seconds']:>10.2f} "
          f"{figures['load_seconds']:>8.2f} {wall:>8.2f} {figures['peak_rss_mb']:>9.0f}  {figures['status']}")
    print(f"keys matched {figures['keys_matched']:,}; missing online {figures['missing_online_share']:.2%}, "
          f"missing offline {figures['missing_offline_share']:.2%}; mismatches f_num_0 "
          f"{figures['mismatches.f_num_0']:,}, f_num_1 {figures['mismatches.f_num_1']:,}")
    print(f"load average (1 min) before/after: {load_before:.2f} / {figures['load_average_after']:.2f} "
          f"on {figures['cpus']} cores")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
