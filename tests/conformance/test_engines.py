"""The pushed-down engines judge as the polars engine: per-rule verdicts, samples (as sets) and splits.

Every batch of the conformance table that polars can read is loaded into each engine of `ENGINES` (a real DuckDB
file, a real PostgreSQL database; Spark joins by adding itself there) and audited in the engine with
`audit_table`; the in-memory `validate` on the same frame is the reference. Batches that are not a table
(unreadable files) are the Parquet reader's concern, covered by the CLI cases.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from guardrails.contract import load_contract
from guardrails.contract.model import Contract, SqlRule
from guardrails.engines import TableAudit, audit_table
from guardrails.outcome import CheckStatus
from guardrails.validation import ContractValidation, read_parquet, validate
from tests.conformance.fixtures import AS_OF, FIXTURES, Fixture
from tests.engines.backends import (  # noqa: F401
    ENGINES,
    Engine,
    duckdb_engine,
    engine,
    postgres_database,
    postgres_engine,
    spark,
    spark_engine,
)

KEY = "transaction_id"


@dataclass(frozen=True)
class Judged:
    """One fixture judged by polars and by an engine, with the keys each rejected."""

    contract: Contract
    polars: ContractValidation
    audit: TableAudit
    polars_rejected: Counter[Any] | None
    engine_rejected: Counter[Any] | None
    failing_keys: set[Any]


_CACHE: dict[tuple[str, str], Judged | None] = {}


def _judged(fixture: Fixture, engine: Engine, batches: dict[str, Path], contracts: dict[str, Path]) -> Judged | None:
    """The fixture through both engines (cached: the three tests below share one audit), None if not a table."""
    cached = (engine.name, fixture.name)
    if cached not in _CACHE:
        try:
            frame = read_parquet(batches[fixture.name])
        except Exception:  # not a table (corrupt, duplicated columns): the Parquet reader's cases, not the engines'
            _CACHE[cached] = None
            return None
        contract = load_contract(contracts[fixture.policy])
        reference = validate(contract, frame, as_of=AS_OF, allow_unrun=fixture.allow_unrun)
        table = engine.load(fixture.name, frame)
        audit = audit_table(contract, table, as_of=AS_OF, allow_unrun=fixture.allow_unrun)
        polars_rejected = None if reference.rejected_rows is None else Counter(
            frame.filter(pl.Series(reference.rejected_rows))[KEY].to_list()
        )
        engine_rejected = None if audit.rejected is None else Counter(
            audit.split(table)[1][KEY].to_pyarrow().to_pylist()
        )
        failing = [r.rule_id for r in reference.outcome.rules if r.status is CheckStatus.FAILED and r.failing_rows]
        failing_keys = set()
        if failing and audit.violations:
            import ibis

            flagged = table.mutate(_any=ibis.or_(*audit.violations.values()))
            failing_keys = set(flagged.filter(flagged._any)[KEY].to_pyarrow().to_pylist())
        _CACHE[cached] = Judged(contract, reference, audit, polars_rejected, engine_rejected, failing_keys)
    return _CACHE[cached]


def _rules(judged: Judged, outcome_of: str) -> dict[str, tuple[Any, ...]]:
    outcome = judged.polars.outcome if outcome_of == "polars" else judged.audit.outcome
    sql = {r.rule_id for r in judged.contract.rules if isinstance(r, SqlRule)}
    return {
        r.rule_id: (r.status, r.failing_rows, r.observed, r.severity, r.ran, r.message)
        for r in outcome.rules if r.rule_id not in sql
    }


@pytest.mark.parametrize("fixture", FIXTURES, ids=str)
def test_engine_counts_every_rule_as_polars(
    fixture: Fixture, engine: Engine, batches: dict[str, Path], contracts: dict[str, Path]
) -> None:
    """Each rule has the polars engine's status, failing rows, observed value, severity and message in the engine."""
    judged = _judged(fixture, engine, batches, contracts)
    if judged is None:
        pytest.skip("not a table: polars cannot read this batch either")
    assert _rules(judged, engine.name) == _rules(judged, "polars")
    assert judged.audit.outcome.rows == judged.polars.outcome.rows
    if fixture.policy != "sql":  # SQL rules are not pushed down (see below): the overall verdicts differ there
        for field in ("status", "severity", "message"):
            assert getattr(judged.audit.outcome, field) == getattr(judged.polars.outcome, field), field
        assert judged.audit.outcome.metrics["failing_rows"] == judged.polars.outcome.metrics["failing_rows"]


@pytest.mark.parametrize("fixture", FIXTURES, ids=str)
def test_engine_splits_rows_as_polars(
    fixture: Fixture, engine: Engine, batches: dict[str, Path], contracts: dict[str, Path]
) -> None:
    """The rows the engine's predicate rejects are the rows polars' mask rejects (or both say: unsplittable)."""
    judged = _judged(fixture, engine, batches, contracts)
    if judged is None or fixture.policy == "sql":
        pytest.skip("not a table" if judged is None else "SQL rules are not pushed down")
    assert judged.engine_rejected == judged.polars_rejected


@pytest.mark.parametrize("fixture", FIXTURES, ids=str)
def test_engine_samples_as_polars(
    fixture: Fixture, engine: Engine, batches: dict[str, Path], contracts: dict[str, Path]
) -> None:
    """The engine's sample holds the same rows as polars' (as sets), or as many failing rows when capped."""
    judged = _judged(fixture, engine, batches, contracts)
    if judged is None:
        pytest.skip("not a table: polars cannot read this batch either")
    ours = {(row.get(KEY), tuple(row["_rules"])) for row in judged.audit.outcome.sample}
    theirs = {(row.get(KEY), tuple(row["_rules"])) for row in judged.polars.outcome.sample}
    if len(judged.failing_keys) <= judged.contract.sample_size:
        assert ours == theirs
    else:
        assert len(ours) == len(theirs)
        assert {key for key, _ in ours} <= judged.failing_keys
    shown = [{k for k in row if k != "_row"} for row in judged.polars.outcome.sample]
    assert [set(row) for row in judged.audit.outcome.sample] == shown


def test_sql_rules_are_not_run_in_engines(engine: Engine, batches: dict[str, Path], contracts: dict[str, Path]) -> None:
    """A ``type: sql`` rule is not pushed down: not run, failing closed, and the message says where it runs."""
    fixture = next(f for f in FIXTURES if f.name == "clean@sql")
    judged = _judged(fixture, engine, batches, contracts)
    assert judged is not None
    sql = [r for r in judged.audit.outcome.rules if r.kind == "sql"]
    assert sql and all(not r.ran and r.status is CheckStatus.ERROR for r in sql)
    assert "in-memory engine" in sql[0].message
    assert judged.audit.rejected is None  # an error-severity rule that did not run makes the batch unsplittable


def test_the_engine_table_covers_splits_and_unsplittable_batches(
    engine: Engine, batches: dict[str, Path], contracts: dict[str, Path]
) -> None:
    """The engine cases include batches split row by row, batches refused whole, and clean ones."""
    judged = [_judged(f, engine, batches, contracts) for f in FIXTURES]
    kinds = {
        "split": any(j and j.engine_rejected for j in judged),
        "whole": any(j and j.audit.rejected is None for j in judged),
        "clean": any(j and j.audit.outcome.status is CheckStatus.PASSED for j in judged),
    }
    assert kinds == {"split": True, "whole": True, "clean": True}
