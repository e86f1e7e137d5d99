"""Engine benchmark: the example contract validated AND split where the rows live, at 1M, 10M and 100M rows.

The rows are generated on the fly by DuckDB SQL (vectorized, `generation_sql`) into a DuckDB file under the data
directory (default: the system temp directory), exported to Parquet for the polars side, and deleted after. Every
side runs in a fresh process (`bench._worker.run_worker`), so its wall time (imports included) and peak RSS
(``VmHWM``) are its own:

- ``duckdb``: guardrails in the engine: `guardrails.quarantine.guard_table` on the staged table (connect, audit
  with `guardrails.engines.audit_table`, then ONE transaction: valid rows into the target table ``tx``, rejected
  rows with their reasons into ``tx_quarantine``), DuckDB ``memory_limit`` = `MEMORY_LIMIT`;
- ``polars``: guardrails' in-memory engine: read the Parquet file, `guardrails.validation.validate`, split on its
  rejected-row mask and write the valid and the rejected rows as two Parquet files;
- ``floor``: hand-written DuckDB SQL, no guardrails, no ibis: one aggregate of every rule's failing count and the
  same split (two ``CREATE TABLE AS``), the least work a DuckDB user would write.

The contract is the example's (`expectations/transactions.odcs.yaml`) with two changes a 100M-row batch needs
(`bench_contract`): policy ``rows`` (split the batch rather than quarantine it whole) and a row-count bound of
1e9 (the example allows 20M rows a day). The data has the corrupt batch's four defects of `bench.contract`
(nulls, unknown categories, duplicate ids, future timestamps), each on about 5% of the rows, drawn by hashing the
row number (so the counts are near, not exactly, 5%); distributions follow `definitions.data` (lognormal amounts,
Zipf-like categories, the same channel/currency weights); event times are evenly spaced over the day instead of
sorted uniform draws. All sides must agree on every rule's failing count and on rows published/quarantined.

    python -m bench.engines                                   # 1M, 10M (best of 3), 100M (duckdb, once)
    python -m bench.engines --rows 1000000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._worker import run_worker
from bench.contract import AS_OF, CONTRACT, DAY, MAX_AGE, ROOT, _status_kib, disagreements
from bench.e2e import child_environment
from definitions.data import CATEGORIES, CHANNELS, COUNTRIES, CURRENCIES, EPOCH, _weights

SIDES = ("duckdb", "polars", "floor")
MEMORY_LIMIT = "3GB"
"""DuckDB's ``memory_limit`` on every DuckDB side (3 GB = 2.8 GiB): the buffer pool spills beyond it, leaving
room under the 4 GiB peak-RSS goal for Python, ibis and DuckDB's allocations outside its buffer manager."""
IN_MEMORY_MAX_ROWS = 10_000_000
"""The polars and floor sides run up to this size (100M rows of polars would need ~25 GiB)."""
ONCE_FROM_ROWS = 100_000_000
"""From this size each side runs once (minutes per run on the shared machine)."""
BYTES_PER_ROW = 160
"""Disk needed per row: the staged table, the target and quarantine copies, spill files and headroom (100M rows
peaked at 13.3 GiB: 143 bytes a row)."""
STAGING = "staging"
TARGET = "tx"
DEFECT_SHARE = 0.05


# --- data --------------------------------------------------------------------------------------------------


def _pick(u: str, labels: tuple[str, ...], weights: list[float]) -> str:
    """A CASE choosing a label by the uniform `u` against cumulative `weights`."""
    edges, total = [], 0.0
    for w in weights[:-1]:
        total += float(w)
        edges.append(total)
    whens = " ".join(f"WHEN {u} < {e!r} THEN '{label}'" for e, label in zip(edges, labels, strict=False))
    return f"CASE {whens} ELSE '{labels[-1]}' END"


def generation_sql(rows: int, table: str = STAGING) -> str:
    """``CREATE TABLE table AS ...``: `rows` transactions of `DAY` with the corrupt batch's defects, all in SQL.

    ``u(k)`` is a uniform in [0, 1) from hashing (row, k); ``hit(k)`` marks about 5% of rows for defect k.
    """
    def u(k: int) -> str:
        return f"((hash(i, {k}) >> 11)::DOUBLE / 9007199254740992.0)"

    def hit(k: int) -> str:
        return f"({u(100 + k)} < {DEFECT_SHARE})"

    day_base = (DAY - EPOCH).days * 100_000_000
    category = _pick(u(5), CATEGORIES, list(_weights(len(CATEGORIES))))
    amount = f"round(least(greatest(exp(3.6 + 1.1 * sqrt(-2 * ln(1 - {u(3)})) * cos(2 * pi() * {u(4)})), 0.5), 25000), 2)"
    countries = "[" + ", ".join(f"'{c}'" for c in COUNTRIES) + "]"
    return f"""
CREATE TABLE {table} AS
WITH base AS (
    SELECT i,
        {amount} AS amount,
        {category} AS category,
        {_pick(u(6), CHANNELS, [0.55, 0.4, 0.05])} AS channel,
        {u(8)} AS u_present,
        {u(9)} AS u_fraud
    FROM range({rows}) AS r(i)
), rows AS (
    SELECT *, channel <> 'online' AND u_present < 0.95 AS card_present FROM base
)
SELECT
    'tx_' || lpad(CAST({day_base} + i - CASE WHEN {hit(3)} AND i > 0 THEN 1 ELSE 0 END AS VARCHAR), 12, '0')
        AS transaction_id,
    CASE WHEN {hit(1)} THEN NULL ELSE 'acct_' || lpad(CAST(hash(i, 1) % 200000 AS VARCHAR), 7, '0') END AS account_id,
    'm_' || lpad(CAST(hash(i, 2) % 20000 AS VARCHAR), 5, '0') AS merchant_id,
    CASE WHEN {hit(1)} THEN NULL ELSE amount END AS amount,
    {_pick(u(7), CURRENCIES, [0.6, 0.2, 0.15, 0.05])} AS currency,
    CASE WHEN {hit(2)} THEN 'crypto' ELSE category END AS merchant_category,
    channel,
    {countries}[1 + CAST(hash(i, 10) % {len(COUNTRIES)} AS BIGINT)] AS country,
    card_present,
    TIMESTAMPTZ '{DAY.isoformat()} 00:00:00+00'
        + to_microseconds(CAST(i * 86400000000 // {rows} AS BIGINT))
        + CASE WHEN {hit(4)} THEN INTERVAL 2 DAY ELSE INTERVAL 0 DAY END AS event_time,
    u_fraud < 1 / (1 + exp(-(-5.0 + 0.3 * ln(1 + amount) + CASE WHEN card_present THEN 0 ELSE 1.2 END
        + CASE WHEN category IN ('electronics', 'gaming') THEN 0.8 ELSE 0 END))) AS is_fraud
FROM rows
"""


def generate(path: str, rows: int, parquet: str | None) -> dict[str, Any]:
    """Write the batch into a new DuckDB file (and a Parquet copy); return the time and sizes."""
    import duckdb

    started = time.perf_counter()
    with duckdb.connect(path, config={"memory_limit": MEMORY_LIMIT, "preserve_insertion_order": False}) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(generation_sql(rows))
        if parquet:
            con.execute(f"COPY {STAGING} TO '{parquet}' (FORMAT parquet, COMPRESSION zstd)")
        con.execute("CHECKPOINT")
    return {"generate_s": time.perf_counter() - started, "db_mib": os.path.getsize(path) / 2**20,
            "parquet_mib": os.path.getsize(parquet) / 2**20 if parquet else None}


# --- the sides (each in its own process) -----------------------------------------------------------------------


def bench_contract():  # -> Contract
    """The example contract, split by rows (policy ``rows``) and allowing up to 1e9 rows (see the module docstring)."""
    from dataclasses import replace

    from guardrails.contract import load_contract
    from guardrails.contract.model import QuarantinePolicy, RowCountRule, Threshold

    contract = load_contract(CONTRACT)
    rules = tuple(
        replace(r, threshold=Threshold("mustBeBetween", (100, 1_000_000_000))) if isinstance(r, RowCountRule) else r
        for r in contract.rules
    )
    return replace(contract, policy=QuarantinePolicy.ROWS, rules=rules)


def _counts(outcome) -> dict[str, int]:  # noqa: ANN001 - a CheckOutcome
    return {r.rule_id: int(r.failing_rows) for r in outcome.rules if r.kind not in ("type", "row_count")}


def side_duckdb(path: str) -> dict[str, Any]:
    """guard_table on the staged table: audit in DuckDB, publish and quarantine in one transaction."""
    started = time.perf_counter()
    import guardrails.engines._audit  # noqa: F401 - ibis and duckdb: imported here so the import is timed as such
    import ibis.backends.duckdb  # noqa: F401 - ibis loads a backend on first connect; count it as import too
    from guardrails.quarantine import QuarantineStore, TableTarget, guard_table

    imported = time.perf_counter()
    contract = bench_contract()
    store_dir = tempfile.mkdtemp(prefix="guardrails-bench-store-")
    try:
        guarded = guard_table(contract, STAGING, TableTarget(f"duckdb://{path}?table={TARGET}"),
                              store=QuarantineStore(store_dir), as_of=AS_OF, keep_staging=True,
                              memory_limit=MEMORY_LIMIT)
    finally:
        shutil.rmtree(store_dir, ignore_errors=True)
    done = time.perf_counter()
    audit_s = float(guarded.outcome.metrics.get("duration_seconds", 0.0))
    return {
        "import_s": imported - started, "engine_s": done - imported, "audit_s": audit_s,
        "counts": _counts(guarded.outcome), "published": guarded.rows_published,
        "quarantined": guarded.rows_quarantined, "status": guarded.outcome.status.value,
    }


def side_polars(path: str) -> dict[str, Any]:
    """validate on the Parquet copy, split on the rejected-row mask, write the two halves as Parquet."""
    started = time.perf_counter()
    import polars as pl

    from guardrails.validation import validate

    imported = time.perf_counter()
    contract = bench_contract()
    out = tempfile.mkdtemp(prefix="guardrails-bench-polars-")
    try:
        frame = pl.read_parquet(path)
        read = time.perf_counter()
        result = validate(contract, frame, as_of=AS_OF)
        audited = time.perf_counter()
        mask = result.rejected_rows
        assert mask is not None, result.outcome.message
        valid, invalid = frame.filter(~mask), frame.filter(mask)
        valid.write_parquet(Path(out) / "valid.parquet")
        invalid.write_parquet(Path(out) / "quarantine.parquet")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    done = time.perf_counter()
    return {
        "import_s": imported - started, "engine_s": done - imported, "read_s": read - imported,
        "audit_s": audited - read, "counts": _counts(result.outcome), "published": valid.height,
        "quarantined": invalid.height, "status": result.outcome.status.value,
    }


def floor_sql() -> tuple[str, str]:
    """(the aggregate of every rule's failing count, the rejected-row predicate) in hand-written DuckDB SQL.

    Both read the duplicated ids from the temporary table ``dup_ids``; the warning rules (country nulls, the
    composite key) are counted but do not reject rows, as in the contract.
    """
    from bench.contract import CATEGORIES as CATS
    from bench.contract import CHANNELS as CHANS
    from bench.contract import CURRENCIES as CURS
    from bench.contract import REQUIRED

    def values(items: list[str]) -> str:
        return ", ".join(f"'{v}'" for v in items)

    as_of, oldest = AS_OF.isoformat(), (AS_OF - MAX_AGE).isoformat()
    rules = {f"{c}.not_null": f"{c} IS NULL" for c in REQUIRED} | {
        "transaction_id.pattern": "NOT regexp_full_match(transaction_id, '^tx_[0-9]{12}$')",
        "transaction_id.unique": "transaction_id IN (SELECT transaction_id FROM dup_ids)",
        "account_id.pattern": "NOT regexp_full_match(account_id, '^acct_[0-9]{7}$')",
        "merchant_id.length": "length(merchant_id) <> 7",
        "amount.range": "(amount < 0 OR amount > 50000 OR isnan(amount))",
        "currency.allowed_values": f"currency NOT IN ({values(CURS)})",
        "merchant_category.allowed_values": f"merchant_category NOT IN ({values(CATS)})",
        "channel.allowed_values": f"channel NOT IN ({values(CHANS)})",
        "country.pattern": "NOT regexp_full_match(country, '^[A-Z]{2}$')",
        "event_time.not_in_future": f"event_time > TIMESTAMPTZ '{as_of}'",
        "event_time.max_age": f"event_time < TIMESTAMPTZ '{oldest}'",
    }
    warnings = {
        "country.not_null": "country IS NULL",
        "transactions.unique": "(account_id, event_time, amount) IN (SELECT * FROM dup_keys)",
    }
    counts = ",\n".join(f"count(*) FILTER (WHERE {e}) AS \"{rid}\"" for rid, e in (rules | warnings).items())
    rejected = " OR ".join(f"coalesce({e}, false)" for e in rules.values())
    return f"SELECT {counts} FROM {STAGING}", rejected


def side_floor(path: str) -> dict[str, Any]:
    """Hand-written DuckDB SQL: every rule's count in one aggregate, then the split (no guardrails, no ibis)."""
    started = time.perf_counter()
    import duckdb

    imported = time.perf_counter()
    counts_sql, rejected = floor_sql()
    with duckdb.connect(path, config={"memory_limit": MEMORY_LIMIT}) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE TEMP TABLE dup_ids AS SELECT transaction_id FROM {STAGING} "
                    "WHERE transaction_id IS NOT NULL GROUP BY ALL HAVING count(*) > 1")
        con.execute(f"CREATE TEMP TABLE dup_keys AS SELECT account_id, event_time, amount FROM {STAGING} "
                    "WHERE account_id IS NOT NULL AND event_time IS NOT NULL AND amount IS NOT NULL "
                    "GROUP BY ALL HAVING count(*) > 1")
        row = con.execute(counts_sql)
        names = [d[0] for d in row.description]
        counts = dict(zip(names, (int(v) for v in row.fetchone()), strict=True))
        audited = time.perf_counter()
        con.execute("BEGIN TRANSACTION")
        con.execute(f"CREATE OR REPLACE TABLE floor_valid AS SELECT * FROM {STAGING} WHERE NOT ({rejected})")
        con.execute(f"CREATE OR REPLACE TABLE floor_quarantine AS SELECT * FROM {STAGING} WHERE {rejected}")
        con.execute("COMMIT")
        published = con.execute("SELECT count(*) FROM floor_valid").fetchone()[0]
        quarantined = con.execute("SELECT count(*) FROM floor_quarantine").fetchone()[0]
    done = time.perf_counter()
    return {
        "import_s": imported - started, "engine_s": done - imported, "audit_s": audited - imported,
        "counts": counts, "published": int(published), "quarantined": int(quarantined), "status": "n/a",
    }


SIDE_RUNNERS = {"duckdb": side_duckdb, "polars": side_polars, "floor": side_floor}


def child(side: str, path: str) -> None:
    """Run one side and print its figures as the last JSON line (`run_worker` reads it)."""
    figures = SIDE_RUNNERS[side](path)
    figures["peak_rss_mib"] = _status_kib("VmHWM") / 1024
    print(json.dumps(figures))


# --- the harness --------------------------------------------------------------------------------------------


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.engines", *args]


def _reset(path: Path) -> None:
    """Drop what a previous run published, so every run starts from the staged table alone (not timed)."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        for table in (TARGET, f"{TARGET}_quarantine", "floor_valid", "floor_quarantine"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute("CHECKPOINT")


def _remove(*paths: Path) -> None:
    for path in paths:
        for p in (path, Path(f"{path}.wal"), Path(f"{path}.tmp")):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


def _timeout(rows: int) -> float:
    return 600 + rows / 2_000  # generous: 10M rows took over 5 min at load 17 on the shared 2 cores


def _run(side: str, path: Path, rows: int) -> dict[str, Any]:
    figures = run_worker(_command("--side", side, str(path)), timeout=_timeout(rows), cwd=ROOT, env=child_environment())
    if "error" in figures:
        raise RuntimeError(f"{side} at {rows:,} rows failed: {figures['error']}")
    # Each run as it completes (stderr): a long run interrupted still leaves its finished figures.
    print(json.dumps({"rows": rows, "side": side, "load": os.getloadavg(), **figures}), file=sys.stderr, flush=True)
    return figures


def bench(
    rows_list: list[int], sides: list[str], data_dir: Path | None = None, repeat: int = 3
) -> dict[str, Any]:
    """Generate each size, run each side (fresh processes, best of `repeat` by wall time), delete the files."""
    data_dir = Path(data_dir or tempfile.gettempdir())
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    loads: dict[int, list[float]] = {}
    for rows in rows_list:
        free = shutil.disk_usage(data_dir).free
        if free < rows * BYTES_PER_ROW:
            raise SystemExit(f"{rows:,} rows need about {rows * BYTES_PER_ROW / 2**30:.0f} GiB in {data_dir}; "
                             f"{free / 2**30:.0f} GiB free")
        here = [s for s in sides if s == "duckdb" or rows <= IN_MEMORY_MAX_ROWS]
        db = data_dir / f"guardrails-bench-{os.getpid()}-{rows}.duckdb"
        parquet = data_dir / f"guardrails-bench-{os.getpid()}-{rows}.parquet"
        _remove(db, parquet)
        try:
            made = run_worker(_command("--generate", str(db), str(rows), str(parquet) if "polars" in here else ""),
                              timeout=_timeout(rows), cwd=ROOT, env=child_environment())
            if "error" in made:
                raise RuntimeError(f"generating {rows:,} rows failed: {made['error']}")
            print(json.dumps({"rows": rows, "generated": made, "load": os.getloadavg()}), file=sys.stderr, flush=True)
            runs: dict[str, list[dict[str, Any]]] = {s: [] for s in here}
            for _ in range(1 if rows >= ONCE_FROM_ROWS else repeat):
                for side in here:  # interleaved, so load drift hits every side alike
                    _reset(db)
                    runs[side].append(_run(side, parquet if side == "polars" else db, rows))
            loads[rows] = [round(x, 2) for x in os.getloadavg()]
        finally:
            _remove(db, parquet)
        best = {s: min(r, key=lambda f: f["wall_seconds"]) for s, r in runs.items()}
        found = disagreements({s: {"counts": f["counts"], "statuses": {}} for s, f in best.items()})
        splits = {s: (f["published"], f["quarantined"]) for s, f in best.items()}
        if len(set(splits.values())) > 1:
            found.append(f"published/quarantined: {splits}")
        problems += [f"{rows:,}: {p}" for p in found]
        for side, f in best.items():
            records.append({
                "rows": rows, "side": side, "runs": len(runs[side]), "wall_s": f["wall_seconds"],
                "engine_s": f["engine_s"], "audit_s": f["audit_s"], "import_s": f["import_s"],
                "peak_rss_mib": f["peak_rss_mib"], "published": f["published"], "quarantined": f["quarantined"],
                "counts": f["counts"], "agree": "yes" if not found else "NO", "generate_s": made["generate_s"],
                "db_mib": made["db_mib"], "parquet_mib": made["parquet_mib"],
            })
    return {"records": records, "table": table(records), "disagreements": problems, "load_average": loads,
            "cpus": os.cpu_count(), "memory_limit": MEMORY_LIMIT}


ENGINE_LABEL = {"duckdb": "guardrails, DuckDB (guard_table)", "polars": "guardrails, polars (validate + split)",
                "floor": "hand-written DuckDB SQL"}


def table(records: list[dict[str, Any]]) -> str:
    """The figures as a Markdown table (the README's scaling table pastes it)."""
    lines = [
        "| rows | engine | end to end (s) | engine alone (s) | of which audit (s) | peak RSS (MiB) | quarantined | runs | agree |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['rows']:,} | {ENGINE_LABEL[r['side']]} | {r['wall_s']:.1f} | {r['engine_s']:.1f} | {r['audit_s']:.1f} "
            f"| {r['peak_rss_mib']:,.0f} | {r['quarantined']:,} | {r['runs']} | {r['agree']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its table; returns the figures (for `bench.run`)."""
    parser = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000, 100_000_000])
    parser.add_argument("--sides", nargs="+", choices=SIDES, default=list(SIDES))
    parser.add_argument("--data-dir", type=Path, default=None, help="where the DuckDB and Parquet files go (temp)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side below 100M rows; the fastest counts")
    parser.add_argument("--side", nargs=2, metavar=("SIDE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=3, metavar=("DB", "ROWS", "PARQUET"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        child(*args.side)
        return {}
    if args.generate:
        db, rows, parquet = args.generate
        print(json.dumps(generate(db, int(rows), parquet or None)))
        return {}
    figures = bench(args.rows, args.sides, args.data_dir, args.repeat)
    print(figures["table"])
    print(f"\nDuckDB memory_limit {figures['memory_limit']}; load average after each size {figures['load_average']} "
          f"on {figures['cpus']} cores")
    for problem in figures["disagreements"]:
        print(f"DISAGREE {problem}")
    return figures


if __name__ == "__main__":
    main()
