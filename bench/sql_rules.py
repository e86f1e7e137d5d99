"""What a ``type: sql`` quality rule costs on a large batch: registration in DuckDB, the query, end to end.

The example contract (`expectations/transactions.odcs.yaml`) is judged over the example's transactions batch
(`definitions.data`) with and without two SQL rules; the batch is an in-memory polars frame, so reading is not
measured. Registration of the frame in DuckDB should be zero-copy: the table shows its time and the peak-RSS
growth it causes, next to the time of the same hand-off in the older Arrow layout (large strings), which copies.

    python -m bench.sql_rules                 # 1M rows, best of 3
    python -m bench.sql_rules --rows 10000000
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
from datetime import UTC, date, datetime

import polars as pl

from definitions.data import generate_transactions
from guardrails.contract import Threshold, load_contract
from guardrails.contract.model import SqlRule
from guardrails.validation import validate
from guardrails.validation._sql import connect, run_sql_rules

DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 21, tzinfo=UTC)
RULES = (
    SqlRule(rule_id="negatives", query="SELECT COUNT(*) FROM transactions WHERE amount < 0", table="transactions",
            threshold=Threshold("mustBe", 0)),
    SqlRule(rule_id="per_category", table="transactions", threshold=Threshold("mustBeGreaterThan", 0),
            query="SELECT MIN(n) FROM (SELECT merchant_category, COUNT(*) n FROM transactions GROUP BY 1)"),
)


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def _rss_mb() -> float:
    """The current resident set (Linux), which a copy of the batch would grow."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = generate_transactions(DAY, rows=args.rows)
    contract = load_contract("expectations/transactions.odcs.yaml")
    with_sql = dataclasses.replace(contract, rules=(*contract.rules, *RULES))
    validate(contract, frame, as_of=AS_OF)  # warm up polars and the imports

    con = connect()
    con.execute("SELECT 1").fetchall()  # the database's own start-up is not the batch's cost
    before = _rss_mb()
    started = time.perf_counter()
    con.register("transactions", frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    register = time.perf_counter() - started
    grown = _rss_mb() - before
    copied = _best(lambda: frame.to_arrow(), args.repeat)
    query = [_best(lambda r=r: con.execute(r.query).fetchall(), args.repeat) for r in RULES]
    con.close()

    plain = _best(lambda: validate(contract, frame, as_of=AS_OF), args.repeat)
    sql = _best(lambda: validate(with_sql, frame, as_of=AS_OF), args.repeat)
    alone = _best(lambda: run_sql_rules(RULES, frame, table="transactions"), args.repeat)
    outcome = validate(with_sql, frame, as_of=AS_OF).outcome
    assert all(r.status.value == "passed" for r in outcome.rules if r.kind == "sql"), outcome.message

    print(f"{args.rows:,} rows, {frame.width} columns, best of {args.repeat}")
    print(f"  register in DuckDB (string views)     {register * 1000:8.1f} ms   RSS +{grown:.0f} MB (batch {frame.estimated_size() / 2**20:.0f} MB)")
    print(f"  the older Arrow layout (copies)       {copied * 1000:8.1f} ms")
    for rule, seconds in zip(RULES, query, strict=True):
        print(f"  query {rule.rule_id:<31} {seconds * 1000:8.1f} ms")
    print(f"  run_sql_rules (connect, register, 2)  {alone * 1000:8.1f} ms")
    print(f"  validate, contract alone              {plain * 1000:8.1f} ms")
    print(f"  validate, contract + 2 SQL rules      {sql * 1000:8.1f} ms   (+{(sql - plain) * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
