"""End-to-end benchmark: `guardrails validate CONTRACT FILE --json` vs a hand-written polars script, whole processes.

What a user waits for: a fresh process that imports its libraries, reads the Parquet file, checks the example
contract's rules and prints the result. Both sides run the same file (`bench.contract`'s deterministic batch)
and must agree on every rule's failing-row count:

- ``cli``: the `guardrails` console entry point with ``--json`` (contract loading, reading, the engine, JSON);
- ``script``: ``python -m bench.e2e --script FILE``: ``import polars``, ``pl.read_parquet``, then the floor's
  single ``select`` of one failing count per rule (`bench.contract.run_floor`), printed as JSON.

Wall time is measured around each child process (start to exit, imports included). Peak memory is the child's
own ``ru_maxrss`` from ``os.wait4`` (this harness imports neither polars nor the engine, so the few MiB Linux
carries over from the parent at fork are the same for both sides). Runs are interleaved, best of `repeat`.

    python -m bench.e2e                       # 1M and 10M rows, corrupt batch, best of 3
    python -m bench.e2e --rows 1000000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.contract import AS_OF, CONTRACT, DATA, ROOT, SCENARIOS, batch_path

SIDES = ("script", "cli")


def script(path: str) -> None:
    """The hand-written side: read the file with polars, count every rule's failures in one select, print JSON."""
    import polars as pl

    from bench.contract import run_floor

    figures = run_floor(pl.read_parquet(path))
    print(json.dumps(figures))


def command(side: str, path: Path) -> list[str]:
    """The child's command line: the CLI through its console entry point, or this module's script mode."""
    if side == "cli":
        entry = "from guardrails.cli import main; main()"
        return [sys.executable, "-c", entry, "validate", str(CONTRACT), str(path), "--as-of", AS_OF.isoformat(), "--json"]
    return [sys.executable, "-m", "bench.e2e", "--script", str(path)]


def counts(side: str, stdout: str) -> dict[str, int]:
    """Failing-row count per rule from the child's JSON (type and row-count rules have no count to compare)."""
    printed = json.loads(stdout)
    if side == "script":
        return printed["counts"]
    return {r["rule_id"]: r["failing_rows"] for r in printed["rules"] if r["kind"] not in ("type", "row_count")}


def child_environment() -> dict[str, str]:
    """The children's environment: this checkout first on the path, and bytecode caching on.

    An installed package has compiled ``.pyc`` files; with ``PYTHONDONTWRITEBYTECODE`` set (as in some dev
    shells) every CLI start would recompile our modules (about 0.4 s), which no user pays.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_side(side: str, path: Path) -> dict[str, Any]:
    """One fresh child process: its wall time, its own peak RSS, and the counts it printed."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command(side, path), cwd=ROOT, env=child_environment(), stdout=out, stderr=err)
        # wait4 reaps this child and returns its own rusage (RUSAGE_CHILDREN is the maximum over all children).
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if code != 0 and not (side == "cli" and code == 1):  # the CLI exits 1 when a blocking rule failed
        raise RuntimeError(f"{side} on {path.name} exited with {code}: {stderr.strip()[-500:]}")
    return {"wall_s": elapsed, "peak_rss_mib": usage.ru_maxrss / 1024, "counts": counts(side, stdout)}


def best_of(path: Path, repeat: int) -> dict[str, dict[str, Any]]:
    """Both sides `repeat` times, interleaved so load drift hits both alike; each side's fastest run counts."""
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    for _ in range(repeat):
        for side in SIDES:
            runs[side].append(run_side(side, path))
    return {side: min(figures, key=lambda f: f["wall_s"]) for side, figures in runs.items()}


def table(records: list[dict[str, Any]]) -> str:
    """The figures as a Markdown table (the README's performance section pastes it)."""
    lines = [
        "| rows | batch | wall, script (s) | wall, CLI (s) | x script | peak RSS script / CLI (MiB) | x script | agree |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['rows']:,} | {r['scenario']} | {r['script_s']:.2f} | {r['cli_s']:.2f} | {r['time_ratio']:.2f} "
            f"| {r['script_rss_mib']:,.0f} / {r['cli_rss_mib']:,.0f} | {r['rss_ratio']:.2f} | {r['agree']} |"
        )
    return "\n".join(lines)


def bench(rows_list: list[int], scenarios: list[str], data_dir: Path = DATA, repeat: int = 3) -> dict[str, Any]:
    """Run both sides on every (rows, scenario); return the records, the table, the load average and any disagreement."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    loads = [os.getloadavg()[0]]
    for rows in rows_list:
        for scenario in scenarios:
            results = best_of(batch_path(rows, scenario, data_dir), repeat)
            loads.append(os.getloadavg()[0])
            script_side, cli = results["script"], results["cli"]
            differ = sorted(
                rule for rule in set(script_side["counts"]) | set(cli["counts"])
                if script_side["counts"].get(rule) != cli["counts"].get(rule)
            )
            problems += [f"{rows:,} {scenario}: {rule}" for rule in differ]
            records.append(
                {
                    "rows": rows,
                    "scenario": scenario,
                    "script_s": script_side["wall_s"],
                    "cli_s": cli["wall_s"],
                    "time_ratio": cli["wall_s"] / script_side["wall_s"],
                    "script_rss_mib": script_side["peak_rss_mib"],
                    "cli_rss_mib": cli["peak_rss_mib"],
                    "rss_ratio": cli["peak_rss_mib"] / script_side["peak_rss_mib"],
                    "agree": "NO" if differ else "yes",
                }
            )
    return {
        "records": records,
        "table": table(records),
        "disagreements": problems,
        "load_average": [round(min(loads), 2), round(max(loads), 2)],
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its table; returns the figures (for `bench.run`)."""
    parser = argparse.ArgumentParser(prog="python -m bench.e2e", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=["corrupt"])
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--repeat", type=int, default=3, help="runs per side, interleaved; the fastest counts")
    parser.add_argument("--script", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.script:
        script(args.script)
        return {}
    figures = bench(args.rows, args.scenarios, args.data_dir, args.repeat)
    print(figures["table"])
    low, high = figures["load_average"]
    print(f"\nload average (1 min) {low}-{high} during the runs, on {figures['cpus']} cores")
    for problem in figures["disagreements"]:
        print(f"DISAGREE {problem}")
    return figures


if __name__ == "__main__":
    main()
