"""Smoke test of the engine benchmark: at 20k rows the three sides agree, split alike, and the files are deleted."""

from __future__ import annotations

import pytest

pytest.importorskip("ibis")

from bench import engines  # noqa: E402


def test_sides_agree_on_counts_and_split(tmp_path) -> None:
    """guard_table on DuckDB, polars and the hand-written SQL report the same counts and the same two halves."""
    db, parquet = tmp_path / "b.duckdb", tmp_path / "b.parquet"
    made = engines.generate(str(db), 20_000, str(parquet))
    assert made["db_mib"] > 0 and made["parquet_mib"] > 0
    results = {side: run(str(parquet if side == "polars" else db)) for side, run in engines.SIDE_RUNNERS.items()}
    assert engines.disagreements({s: {"counts": r["counts"], "statuses": {}} for s, r in results.items()}) == []
    assert len({(r["published"], r["quarantined"]) for r in results.values()}) == 1
    duckdb = results["duckdb"]
    assert duckdb["published"] + duckdb["quarantined"] == 20_000
    # About 5% of rows per defect, drawn by hash: nulls, unknown categories, future times, duplicated ids.
    for rule in ("amount.not_null", "merchant_category.allowed_values", "event_time.not_in_future"):
        assert 700 < duckdb["counts"][rule] < 1_300, rule
    assert duckdb["counts"]["transaction_id.unique"] > 1_000 and duckdb["counts"]["amount.range"] == 0


def test_harness_runs_each_side_in_a_fresh_process_and_deletes_the_files(tmp_path) -> None:
    """The harness generates the rows in a child, times a side in another, tabulates it and leaves no file."""
    figures = engines.bench([20_000], ["floor"], tmp_path, repeat=1)
    [record] = figures["records"]
    assert record["published"] + record["quarantined"] == 20_000 and record["agree"] == "yes"
    assert record["peak_rss_mib"] > 20 and record["wall_s"] >= record["engine_s"] > 0
    assert list(tmp_path.iterdir()) == []
    assert figures["table"].count("\n") == 2 and "| 20,000 | hand-written DuckDB SQL |" in figures["table"]


def test_generation_is_deterministic_sql() -> None:
    """The generator is one CREATE TABLE AS over range(): the same size gives the same SQL, with its row count."""
    sql = engines.generation_sql(1_000)
    assert sql == engines.generation_sql(1_000) and "FROM range(1000)" in sql and sql.count("CREATE TABLE") == 1


def test_the_bench_contract_splits_and_allows_a_hundred_million_rows() -> None:
    """The example contract is split by rows and its row-count bound admits 1e8 rows; its other rules are kept."""
    from guardrails.contract import load_contract
    from guardrails.contract.model import QuarantinePolicy, RowCountRule

    contract, example = engines.bench_contract(), load_contract(engines.CONTRACT)
    assert contract.policy is QuarantinePolicy.ROWS
    [rows] = [r for r in contract.rules if isinstance(r, RowCountRule)]
    assert rows.threshold.accepts(100_000_000) and not rows.threshold.accepts(10)
    assert [r.rule_id for r in contract.rules] == [r.rule_id for r in example.rules]
