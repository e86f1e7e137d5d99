"""The Great Expectations 1.x engine: the example suite runs through GX's own API and agrees with our engine."""

from __future__ import annotations

import json

import polars as pl
import pytest

from definitions.data import Defect, generate_transactions
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity
from guardrails.validation import validate, validate_expectation_suite

from .conftest import AS_OF, DAY, GX_SUITE_PATH

PARAMETERS = {"max_age_cutoff": "2026-10-22T00:00:00+00:00"}
ROWS = 2_000
pytestmark = pytest.mark.slow  # importing great_expectations alone takes 14-40 s on the shared 2 cores


def run(frame, **kwargs) -> CheckOutcome:
    import pandas as pd

    params = {"max_age_cutoff": pd.Timestamp(PARAMETERS["max_age_cutoff"])}
    return validate_expectation_suite(GX_SUITE_PATH, frame, as_of=AS_OF, parameters=params, **kwargs)


def test_committed_suite_is_what_gx_exports() -> None:
    """expectations/transactions.gx.json is exactly the suite the bench builds with GX's API (no hand edits)."""
    from bench.contract import transactions_expectation_suite

    committed = json.loads(GX_SUITE_PATH.read_text())
    assert json.loads(json.dumps(transactions_expectation_suite(), default=str)) == committed


@pytest.mark.parametrize(
    "defect", [None, Defect.NULLS, Defect.OUT_OF_RANGE_AMOUNTS, Defect.UNKNOWN_CATEGORIES, Defect.DUPLICATE_IDS,
               Defect.FUTURE_TIMESTAMPS], ids=str,
)
def test_gx_agrees_with_the_engine_on_each_defect(contract, defect: Defect | None) -> None:
    """GX's unexpected counts equal our failing rows for every rule both express, on every example defect."""
    frame = generate_transactions(DAY, ROWS, defect=defect)
    ours = {r.rule_id: r for r in validate(contract, frame, as_of=AS_OF).outcome.rules}
    theirs = run(frame)
    assert theirs.kind is CheckKind.GREAT_EXPECTATIONS and theirs.rows == ROWS
    compared = [r for r in theirs.rules if r.rule_id in ours and r.kind != "expect_column_to_exist"]
    assert len(compared) >= 18
    assert {r.rule_id: r.failing_rows for r in compared} == {r.rule_id: ours[r.rule_id].failing_rows for r in compared}
    assert {r.rule_id: r.status for r in compared} == {r.rule_id: ours[r.rule_id].status for r in compared}
    assert theirs.status is (CheckStatus.PASSED if defect is None else CheckStatus.FAILED)


def test_gx_outcome_maps_severity_sample_and_round_trips() -> None:
    """Warning expectations map to warning, failing rows are sampled with their key, the outcome is JSON-safe."""
    frame = generate_transactions(DAY, ROWS, defect=Defect.UNKNOWN_CATEGORIES).with_columns(
        pl.when(pl.int_range(pl.len()) % 20 == 0).then(None).otherwise(pl.col("country")).alias("country")
    )
    outcome = run(frame, key_columns=["transaction_id"], sample_size=5)
    by_id = {r.rule_id: r for r in outcome.rules}
    assert by_id["country.not_null"].severity is Severity.WARNING and by_id["country.not_null"].status is CheckStatus.FAILED
    assert by_id["merchant_category.allowed_values"].severity is Severity.ERROR
    assert outcome.severity is Severity.ERROR and len(outcome.sample) == 5
    for row in outcome.sample:
        assert row["transaction_id"] == frame["transaction_id"][row["_row"]] and row["_rules"]
    assert CheckOutcome.from_json(outcome.to_json()) == outcome


def test_schema_change_makes_expectations_error_not_crash() -> None:
    """Expectations on a vanished column become ERROR rules; the outcome is FAILED and blocks publication."""
    outcome = run(generate_transactions(DAY, 300, defect=Defect.SCHEMA_CHANGE))
    by_id = {r.rule_id: r for r in outcome.rules}
    assert by_id["amount.range"].status is CheckStatus.ERROR and by_id["amount.type"].status is CheckStatus.FAILED
    assert outcome.status is CheckStatus.FAILED and outcome.blocks_publication


def test_unreadable_suite_is_misconfiguration_and_bad_data_is_an_error_outcome(tmp_path) -> None:
    """A broken suite file raises ContractError naming it; data GX cannot take is an ERROR outcome."""
    broken = tmp_path / "broken.gx.json"
    broken.write_text('{"name": "x", "expectations": [{"type": "expect_nothing_real", "kwargs": {}}]}')
    with pytest.raises(ContractError, match="broken.gx.json"):
        validate_expectation_suite(broken, pl.DataFrame({"a": [1]}))
    with pytest.raises(ContractError, match="missing.json"):
        validate_expectation_suite(tmp_path / "missing.json", pl.DataFrame({"a": [1]}))
    outcome = validate_expectation_suite(GX_SUITE_PATH, [1, 2, 3])
    assert outcome.status is CheckStatus.ERROR and outcome.error.startswith("TypeError:")
