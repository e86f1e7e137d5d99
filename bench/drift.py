"""Drift benchmark: guardrails vs a plain numpy implementation vs Evidently's DataDriftPreset, same data.

Each implementation runs in a fresh subprocess that reads the same Parquet files, so its peak memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is its own. Timings cover the work after loading: building
the reference profile from the reference rows, profiling the batch and computing every statistic.

- ``guardrails``: `build_profile` + `check_drift` (PSI, JS, Wasserstein, KS, chi-square, L-inf, null rates).
- ``numpy``: the same statistics written plainly: exact quantile bins with `np.quantile`, histograms with
  `searchsorted` + `bincount`, exact KS and Wasserstein from the sorted samples (as scipy computes them),
  categorical counts with `np.bincount` on Arrow dictionary codes (numpy has no fast string hashing), kept to
  the 50 most frequent reference categories plus "other", as the profile does.
- ``evidently``: `Report([DataDriftPreset()])` in its own virtualenv (pandas < 3): ``bench/.venv-evidently``,
  created with ``python3 -m venv bench/.venv-evidently && uv pip install --python
  bench/.venv-evidently/bin/python "pandas<3" evidently pyarrow``. Heavy (minutes, several GB): only with
  ``--evidently``.

Usage::

    python bench/drift.py                       # 10M x 7 and 1M x 25, guardrails and numpy
    python bench/drift.py --evidently           # ... plus Evidently on 10M x 7 (once, at the end)
    python bench/drift.py --rows 200000 --wide-rows 100000   # a quick smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench._worker import run_worker

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / ".data"
EVIDENTLY_PYTHON = HERE / ".venv-evidently" / "bin" / "python"
SHAPES = {7: (4, 3), 25: (15, 10)}  # columns -> (numeric, categorical)


# --- data ------------------------------------------------------------------------------------------------------


def make_table(rows: int, numeric: int, categorical: int, *, seed: int, drifted: bool):
    """Realistic mixed columns; the current batch (`drifted`) shifts some of them by small and large amounts."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for i in range(numeric):
        shift = (0.02, 0.3, 0.0, 0.1)[i % 4] if drifted else 0.0
        match i % 4:
            case 0:
                values = rng.normal(100 + 15 * shift, 15, rows)
            case 1:
                values = rng.lognormal(3 + shift, 1.0, rows)
            case 2:
                values = rng.poisson(4, rows).astype(np.float64)
            case _:
                values = rng.uniform(0, 1 + shift, rows)
        series = pl.Series(f"num_{i}", values)
        if i == 0:  # 1 % nulls (2 % in the batch)
            nulls = rng.random(rows) < (0.02 if drifted else 0.01)
            series = pl.select(pl.when(pl.Series(nulls)).then(None).otherwise(series)).to_series().alias(series.name)
        columns[series.name] = series
    for j in range(categorical):
        k = (12, 60, 250)[j % 3]
        weights = 1.0 / np.arange(1, k + 1) ** 1.1
        if drifted and j % 3 == 1:
            weights = weights[::-1] * 0.3 + weights
        codes = rng.choice(k, rows, p=weights / weights.sum())
        names = pl.Series([f"c{j}_{v:03d}" for v in range(k)])
        columns[f"cat_{j}"] = names.gather(codes)
    return pl.DataFrame(list(columns.values()))


def ensure_data(rows: int, width: int, data_dir: Path = DATA_DIR) -> tuple[Path, Path]:
    """Write (once) the reference and current Parquet files for a shape; return their paths."""
    data_dir.mkdir(parents=True, exist_ok=True)
    numeric, categorical = SHAPES[width]
    paths = (data_dir / f"drift-{rows}x{width}-reference.parquet", data_dir / f"drift-{rows}x{width}-current.parquet")
    for path, seed, drifted in ((paths[0], 1, False), (paths[1], 2, True)):
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            make_table(rows, numeric, categorical, seed=seed, drifted=drifted).write_parquet(tmp)
            tmp.replace(path)
    return paths


# --- implementations (run inside a worker process) --------------------------------------------------------------


def run_guardrails(reference_path: Path, current_path: Path) -> dict[str, Any]:
    import polars as pl

    from guardrails.checks import check_drift
    from guardrails.profile import build_profile

    start = time.perf_counter()
    reference, current = pl.read_parquet(reference_path), pl.read_parquet(current_path)
    loaded = time.perf_counter()
    outcome = check_drift(current, build_profile(reference))
    done = time.perf_counter()
    scores = {k: v for k, v in outcome.metrics.items() if k.split(".")[0] in ("psi", "ks", "wasserstein", "js")}
    return {"load_seconds": loaded - start, "seconds": done - loaded, "scores": scores,
            "columns_failed": outcome.metrics["columns_failed"]}


def run_numpy(reference_path: Path, current_path: Path) -> dict[str, Any]:
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from scipy import stats

    start = time.perf_counter()
    reference, current = pq.read_table(reference_path), pq.read_table(current_path)
    loaded = time.perf_counter()
    scores: dict[str, float] = {}
    eps = 1e-4

    def shares(counts):
        return counts / counts.sum()

    def psi_js(r, c):
        p, q = shares(r.astype(float)), shares(c.astype(float))
        pe, qe = np.maximum(p, eps), np.maximum(q, eps)
        m = (p + q) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.nansum(np.where(p > 0, p * np.log2(p / m), 0)) + np.nansum(np.where(q > 0, q * np.log2(q / m), 0))
        return float(np.sum((qe - pe) * np.log(qe / pe))), float(np.sqrt(max(kl / 2, 0)))

    for name in reference.column_names:
        ref_col, cur_col = reference[name], current[name]
        if ref_col.type.equals(current.schema.field(name).type) and str(ref_col.type) in ("string", "large_string"):
            ref_dict = pc.dictionary_encode(ref_col).combine_chunks()
            cur_dict = pc.dictionary_encode(cur_col).combine_chunks()
            ref_codes = ref_dict.indices.to_numpy(zero_copy_only=False)
            ref_counts = np.bincount(ref_codes, minlength=len(ref_dict.dictionary))
            cur_raw = np.bincount(cur_dict.indices.to_numpy(zero_copy_only=False), minlength=len(cur_dict.dictionary))
            # the same layout as the profile: the 50 most frequent reference categories, the rest as "other"
            kept = np.argsort(-ref_counts, kind="stable")[:50]
            names = ref_dict.dictionary.to_pylist()
            lookup = {names[i]: slot for slot, i in enumerate(kept)}
            other = ref_counts.sum() - ref_counts[kept].sum()
            ref_counts = np.append(ref_counts[kept], other)
            cur_counts = np.zeros(len(lookup) + 1)
            for value, count in zip(cur_dict.dictionary.to_pylist(), cur_raw, strict=True):
                cur_counts[lookup.get(value, len(lookup))] += count
            r = ref_counts.astype(float)
            keep = (r + cur_counts) > 0
            scores[f"psi.{name}"], scores[f"js.{name}"] = psi_js(r[keep], cur_counts[keep])
            table = np.vstack([r[keep], cur_counts[keep]])
            expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
            chi2 = float(((table - expected) ** 2 / expected).sum())
            scores[f"chi2_pvalue.{name}"] = float(stats.chi2.sf(chi2, table.shape[1] - 1))
            continue
        x = ref_col.to_numpy(zero_copy_only=False).astype(np.float64)
        y = cur_col.to_numpy(zero_copy_only=False).astype(np.float64)
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        edges = np.unique(np.quantile(x, np.arange(1, 20) / 20, method="inverted_cdf"))
        r = np.bincount(np.searchsorted(edges, x), minlength=len(edges) + 1)
        c = np.bincount(np.searchsorted(edges, y), minlength=len(edges) + 1)
        scores[f"psi.{name}"], scores[f"js.{name}"] = psi_js(r, c)
        xs, ys = np.sort(x), np.sort(y)
        both = np.sort(np.concatenate([xs, ys]))
        cdf_x = np.searchsorted(xs, both, side="right") / xs.size
        cdf_y = np.searchsorted(ys, both, side="right") / ys.size
        scores[f"ks.{name}"] = float(np.max(np.abs(cdf_x - cdf_y)))
        en = xs.size * ys.size / (xs.size + ys.size)
        scores[f"ks_pvalue.{name}"] = float(stats.kstwobign.sf(scores[f"ks.{name}"] * np.sqrt(en)))
        scores[f"null_rate_change.{name}"] = cur_col.null_count / len(cur_col) - ref_col.null_count / len(ref_col)
        deltas = np.diff(both)
        scores[f"wasserstein.{name}"] = float(np.sum(np.abs(cdf_x[:-1] - cdf_y[:-1]) * deltas) / x.std())
    done = time.perf_counter()
    return {"load_seconds": loaded - start, "seconds": done - loaded, "scores": scores}


EVIDENTLY_WORKER = r"""
import json, resource, sys, time
import pandas as pd
from evidently import Dataset, DataDefinition, Report
from evidently.presets import DataDriftPreset

start = time.perf_counter()
reference, current = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
loaded = time.perf_counter()
numeric = [c for c in reference.columns if c.startswith("num_")]
categorical = [c for c in reference.columns if c.startswith("cat_")]
definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
snapshot = Report([DataDriftPreset()]).run(
    current_data=Dataset.from_pandas(current, data_definition=definition),
    reference_data=Dataset.from_pandas(reference, data_definition=definition),
)
result = snapshot.dict()
done = time.perf_counter()
values = {m["metric_name"]: m["value"] for m in result["metrics"] if isinstance(m["value"], (int, float))}
print(json.dumps({"load_seconds": loaded - start, "seconds": done - loaded, "scores": values,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def worker(impl: str, reference_path: Path, current_path: Path) -> None:
    """Run one implementation and print its figures as one JSON line (peak RSS of this process included)."""
    result = {"guardrails": run_guardrails, "numpy": run_numpy}[impl](reference_path, current_path)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(impl: str, paths: tuple[Path, Path], timeout: float = 1800) -> dict[str, Any]:
    """Run `impl` in a fresh process and return its figures (with `wall_seconds`, process start included)."""
    if impl == "evidently":
        if not EVIDENTLY_PYTHON.exists():
            return {"error": f"{EVIDENTLY_PYTHON} not found (see the module docstring to create it)"}
        command = [str(EVIDENTLY_PYTHON), "-c", EVIDENTLY_WORKER, *map(str, paths)]
    else:
        command = [sys.executable, "-m", "bench.drift", "--worker", impl, *map(str, paths)]
    return run_worker(command, timeout=timeout, cwd=HERE.parent)


def _max_abs_difference(a: dict[str, float], b: dict[str, float], prefix: str) -> float | None:
    keys = [k for k in a if k.startswith(prefix + ".") and k in b]
    return max((abs(a[k] - b[k]) for k in keys), default=None)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the drift benchmark, print a table, and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows per side for the 7-column run")
    parser.add_argument("--wide-rows", type=int, default=1_000_000, help="rows per side for the 25-column run")
    parser.add_argument("--evidently", action="store_true", help="also run Evidently's DataDriftPreset (heavy)")
    parser.add_argument("--worker", nargs=3, metavar=("IMPL", "REFERENCE", "CURRENT"), help=argparse.SUPPRESS)
    args = parser.parse_args([] if argv is None else argv)  # never the caller's argv (bench/run.py)
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]), Path(args.worker[2]))
        return {}

    figures: dict[str, Any] = {"load_average_before": os.getloadavg()[0], "cpus": os.cpu_count()}
    narrow = ensure_data(args.rows, 7)
    wide = ensure_data(args.wide_rows, 25)
    runs = [("guardrails", narrow, 7, args.rows), ("numpy", narrow, 7, args.rows),
            ("guardrails", wide, 25, args.wide_rows), ("numpy", wide, 25, args.wide_rows)]
    if args.evidently:
        runs.append(("evidently", narrow, 7, args.rows))
    rows_out = []
    for impl, paths, width, rows in runs:
        result = measure(impl, paths)
        figures[f"{impl}_{rows}x{width}"] = result
        rows_out.append((impl, f"{rows:,} x {width}", result))

    g, n = figures[f"guardrails_{args.rows}x7"], figures[f"numpy_{args.rows}x7"]
    if "scores" in g and "scores" in n:
        figures["max_abs_difference_vs_numpy"] = {
            stat: _max_abs_difference(g["scores"], n["scores"], stat) for stat in ("psi", "js", "ks", "wasserstein")}
        figures["speedup_vs_numpy"] = n["seconds"] / g["seconds"]
    e = figures.get(f"evidently_{args.rows}x7")
    if e and "seconds" in e and "seconds" in g:
        figures["speedup_vs_evidently"] = e["seconds"] / g["seconds"]
    figures["load_average_after"] = os.getloadavg()[0]

    print(f"{'implementation':<12} {'shape':>16} {'compute s':>10} {'load s':>8} {'wall s':>8} {'peak MB':>9}")
    for impl, shape, result in rows_out:
        if "error" in result:
            print(f"{impl:<12} {shape:>16}  error: {result['error']}")
            continue
        print(f"{impl:<12} {shape:>16} {result['seconds']:>10.2f} {result['load_seconds']:>8.2f} "
              f"{result['wall_seconds']:>8.2f} {result['peak_rss_mb']:>9.0f}")
    for key in ("speedup_vs_numpy", "speedup_vs_evidently", "max_abs_difference_vs_numpy"):
        if key in figures:
            print(f"{key}: {figures[key]}")
    print(f"load average (1 min) before/after: {figures['load_average_before']:.2f} / "
          f"{figures['load_average_after']:.2f} on {figures['cpus']} cores")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
