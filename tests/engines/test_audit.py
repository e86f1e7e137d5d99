"""`audit_table` in DuckDB: reasons per row, splits that add up, rules it does not run, and tables that vanish."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from guardrails.contract.model import Contract, CustomRule, NotNullRule, RangeRule, SqlRule, Threshold, UniqueRule
from guardrails.engines import REASONS_COLUMN, REJECTED_COLUMN, audit_table
from guardrails.outcome import CheckStatus, Severity

ibis = pytest.importorskip("ibis")

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
RULES = (
    NotNullRule(rule_id="x.not_null", column="x"),
    RangeRule(rule_id="x.range", column="x", minimum=0),
    UniqueRule(rule_id="id.unique", column="id"),
    RangeRule(rule_id="y.range", column="y", maximum=10, severity=Severity.WARNING),
)


def _contract(*rules: Any) -> Contract:
    return Contract(id="c", version="1", name="c", table="t", primary_key=("id",), rules=(*RULES, *rules))


@pytest.fixture
def backend() -> Iterator[Any]:
    con = ibis.duckdb.connect(threads=1)
    yield con
    con.disconnect()


@pytest.fixture
def table(backend: Any) -> Any:
    return backend.create_table("t", pa.table({
        "id": [1, 2, 2, 3, 4], "x": [1.0, -1.0, 5.0, None, 2.0], "y": [0, 0, 0, 0, 99],
    }))


def test_flagged_names_the_rules_each_row_broke(table: Any) -> None:
    """Each rejected row carries the failed rules it broke; a warning-only row is kept but still named."""
    audit = audit_table(_contract(), table, as_of=AS_OF)
    rows = audit.flagged(table).order_by("id").select("id", REJECTED_COLUMN, REASONS_COLUMN).to_pyarrow().to_pylist()
    assert [(r["id"], r[REJECTED_COLUMN], r[REASONS_COLUMN]) for r in rows] == [
        (1, False, None),
        (2, True, "x.range, id.unique"),
        (2, True, "id.unique"),
        (3, True, "x.not_null"),
        (4, False, "y.range"),
    ]


def test_split_partitions_the_table(table: Any) -> None:
    """Valid plus invalid rows are the table's rows, and the invalid count is the failing_rows metric."""
    audit = audit_table(_contract(), table, as_of=AS_OF)
    valid, invalid = audit.split(table)
    assert sorted(valid.id.to_pyarrow().to_pylist()) == [1, 4]
    assert invalid.count().to_pyarrow().as_py() == audit.outcome.metrics["failing_rows"] == 3


def test_sql_and_custom_rules_are_not_run_and_fail_closed(table: Any) -> None:
    """SQL and custom rules are recorded not run; failing closed makes the table unsplittable, allow_unrun warns."""
    extra = (SqlRule(rule_id="t.sql", query="SELECT 1", threshold=Threshold("mustBe", 1), table="t"),
             CustomRule(rule_id="t.soda", engine="soda", implementation="x"))
    closed = audit_table(_contract(*extra), table, as_of=AS_OF)
    allowed = audit_table(_contract(*extra), table, as_of=AS_OF, allow_unrun=True)
    unrun = {r.rule_id: (r.ran, r.severity) for r in closed.outcome.rules if not r.ran}
    assert unrun == {"t.sql": (False, Severity.ERROR), "t.soda": (False, Severity.ERROR)}
    assert closed.rejected is None
    assert allowed.rejected is not None
    assert {r.severity for r in allowed.outcome.rules if not r.ran} == {Severity.WARNING}
    assert closed.outcome.metrics["unrun_rules"] == 2


def test_a_dropped_table_is_an_error_outcome_not_an_exception(backend: Any, table: Any) -> None:
    """A table dropped before the audit gives status ERROR, a one-line error, and no split."""
    backend.drop_table("t")
    audit = audit_table(_contract(), table, as_of=AS_OF)
    assert audit.outcome.status is CheckStatus.ERROR
    assert audit.rejected is None
    assert audit.outcome.error and "\n" not in audit.outcome.error


def test_a_missing_column_makes_its_rules_error_and_the_table_unsplittable(backend: Any) -> None:
    """A rule on an absent column cannot run (status error, polars' message) and the table is refused whole."""
    table = backend.create_table("u", pa.table({"id": [1], "y": [1]}))
    audit = audit_table(_contract(), table, as_of=AS_OF)
    results = {r.rule_id: (r.status, r.message) for r in audit.outcome.rules}
    assert results["x.range"] == (CheckStatus.ERROR, "column 'x' is missing")
    assert audit.rejected is None
