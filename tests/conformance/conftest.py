"""Session fixtures for the conformance suite: the table written once as Parquet, the rows-policy contract, and
one real Dagster instance (creating one costs seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from tests.conformance.fixtures import CONTRACT, FIXTURES


@pytest.fixture(scope="session")
def conformance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("conformance")


@pytest.fixture(scope="session")
def batches(conformance_dir: Path) -> dict[str, Path]:
    """Every fixture's batch, written once: name -> Parquet path."""
    return {f.name: f.write(conformance_dir / "batches" / f"{f.name}.parquet") for f in FIXTURES}


@pytest.fixture(scope="session")
def contracts(conformance_dir: Path) -> dict[str, Path]:
    """The example contract under each policy: ``batch`` (as shipped) and ``rows`` (`quarantinePolicy: rows`)."""
    text = CONTRACT.read_text()
    shipped = "  - property: quarantinePolicy\n    value: batch\n"
    assert shipped in text, "the example contract no longer declares quarantinePolicy: batch"
    rows = conformance_dir / "transactions.rows.odcs.yaml"
    rows.write_text(text.replace(shipped, shipped.replace("batch", "rows")))
    return {"batch": CONTRACT, "rows": rows}


@pytest.fixture(scope="session")
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance
