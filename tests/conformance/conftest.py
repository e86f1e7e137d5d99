"""Session fixtures for the conformance suite: the table written once as Parquet, the rows-policy contract, and
one real Dagster instance (creating one costs seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from tests.conformance.fixtures import CONTRACT, CONTRACT_VARIANTS, FIXTURES


@pytest.fixture(scope="session")
def conformance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("conformance")


@pytest.fixture(scope="session")
def batches(conformance_dir: Path) -> dict[str, Path]:
    """Every fixture's batch, written once: name -> Parquet path."""
    return {f.name: f.write(conformance_dir / "batches" / f"{f.name}.parquet") for f in FIXTURES}


SQL_RULES = """\
      - type: sql
        name: no_negative_amount
        query: SELECT COUNT(*) FROM {model} WHERE amount < 0
        mustBe: 0
      - type: sql
        name: amount_total
        query: SELECT SUM("amount") FROM transactions
        mustBeGreaterThan: 0
"""
"""Two ``type: sql`` rules: one fails on negative amounts, both cannot run when `amount` is gone."""

UNRUN_RULE = """\
      - type: custom
        name: soda_duplicates
        engine: soda
        implementation: |
          type: duplicate_percent
          columns: [transaction_id]
          must_be_less_than: 1.0
"""
"""A ``type: custom`` rule for an engine guardrails does not have: never run."""


@pytest.fixture(scope="session")
def contracts(conformance_dir: Path) -> dict[str, Path]:
    """The example contract in each variant: ``batch`` (as shipped), ``rows`` (`quarantinePolicy: rows`), ``sql``
    (plus `SQL_RULES`), ``unrun`` and ``unrun_allowed`` (plus `UNRUN_RULE`), keyed as `CONTRACT_VARIANTS`."""
    text = CONTRACT.read_text()
    shipped = "  - property: quarantinePolicy\n    value: batch\n"
    assert shipped in text, "the example contract no longer declares quarantinePolicy: batch"
    table_quality = "\n    quality:\n"
    assert text.count(table_quality) == 1, "the example contract no longer has one table-level quality list"

    def variant(name: str, changed: str) -> Path:
        path = conformance_dir / f"transactions.{name}.odcs.yaml"
        path.write_text(changed)
        return path

    unrun = variant("unrun", text.replace(table_quality, table_quality + UNRUN_RULE))
    found = {
        "batch": CONTRACT,
        "rows": variant("rows", text.replace(shipped, shipped.replace("batch", "rows"))),
        "sql": variant("sql", text.replace(table_quality, table_quality + SQL_RULES)),
        "unrun": unrun,
        "unrun_allowed": unrun,
    }
    assert tuple(found) == CONTRACT_VARIANTS
    return found


@pytest.fixture(scope="session")
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance
