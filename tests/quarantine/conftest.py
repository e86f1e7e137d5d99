"""Fixtures for the quarantine tests: the example contract and generator, real stores under tmp_path."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from guardrails.contract import (
    Contract,
    NotNullRule,
    QuarantinePolicy,
    RangeRule,
    RowCountRule,
    Threshold,
    load_contract,
)
from guardrails.quarantine import QuarantineStore

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONTRACT = ROOT / "expectations" / "transactions.odcs.yaml"


@pytest.fixture(scope="session")
def contract() -> Contract:
    """The example transactions contract (policy `batch`)."""
    return load_contract(EXAMPLE_CONTRACT)


@pytest.fixture(scope="session")
def rows_contract(contract: Contract) -> Contract:
    """The example contract under the `rows` policy."""
    return dataclasses.replace(contract, policy=QuarantinePolicy.ROWS)


@pytest.fixture
def store(tmp_path: Path) -> QuarantineStore:
    return QuarantineStore(tmp_path / "quarantine")


@pytest.fixture(scope="session")
def amount_contract() -> Callable[..., Contract]:
    """A factory of small contracts over an `id` and an `amount` column (see `make_amount_contract`)."""
    return make_amount_contract


def make_amount_contract(
    policy: QuarantinePolicy = QuarantinePolicy.BATCH, *, minimum: float = 0, min_rows: int = 1, version: str = "1"
) -> Contract:
    """A small contract: `id` not null, `amount` not null and >= `minimum`, at least `min_rows` rows."""
    return Contract(
        id="urn:test:amounts",
        version=version,
        name="amounts",
        table="amounts",
        policy=policy,
        primary_key=("id",),
        rules=(
            NotNullRule(rule_id="id.not_null", column="id"),
            NotNullRule(rule_id="amount.not_null", column="amount"),
            RangeRule(rule_id="amount.range", column="amount", minimum=minimum),
            RowCountRule(rule_id="amounts.row_count", threshold=Threshold("mustBeGreaterOrEqualTo", min_rows)),
        ),
    )
