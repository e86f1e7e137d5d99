"""The reasons column of a split: every broken rule listed, in SQL that grows linearly with the failed rules."""

from __future__ import annotations

import pytest

ibis = pytest.importorskip("ibis")
pa = pytest.importorskip("pyarrow")

from guardrails.engines._audit import _joined  # noqa: E402


def _parts(table, n: int):  # noqa: ANN001, ANN202
    return [ibis.ifelse(table[f"c{i}"] > 0, ibis.literal(f"r{i}"), ibis.null("string")) for i in range(n)]


def test_reasons_sql_grows_linearly_with_the_rules() -> None:
    """Twelve failed rules compile to about six times the SQL of two (a nested CASE doubled it per rule)."""
    table = ibis.table({f"c{i}": "int64" for i in range(12)}, name="t")
    sizes = [len(ibis.to_sql(table.mutate(r=_joined(_parts(table, n))), dialect=d)) for d in ("duckdb", "postgres")
             for n in (2, 12)]
    assert sizes[1] < 10 * sizes[0] and sizes[3] < 10 * sizes[2]


def test_reasons_list_the_broken_rules_in_order_and_are_null_when_none() -> None:
    """Each row gets the ids of the rules it broke, comma-separated in rule order; a row that broke none, NULL."""
    con = ibis.duckdb.connect()
    table = con.create_table("t", pa.table({"c0": [1, 1, 0, 0], "c1": [1, 0, 1, 0], "c2": [1, 0, 0, 0]}))
    assert table.mutate(r=_joined(_parts(table, 3))).r.to_list() == ["r0, r1, r2", "r0", "r1", None]
