"""The contract engine on the example data: every named defect is caught by the right rule with the exact count."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import numpy as np
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest

from definitions.data import Defect, defect_rows, generate_transactions
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity
from guardrails.validation import validate

from .conftest import AS_OF, DAY, ROWS

HITS = defect_rows(ROWS, Defect.NULLS)


def _duplicated_rows(path) -> int:
    """Rows whose transaction id occurs more than once, counted in plain Python (independent of polars)."""
    ids = pq.read_table(path, columns=["transaction_id"]).column(0).to_pylist()
    counts = Counter(ids)
    return sum(n for n in counts.values() if n > 1)


EXPECTED = {
    Defect.NULLS: {"amount.not_null": HITS, "account_id.not_null": HITS},
    Defect.OUT_OF_RANGE_AMOUNTS: {"amount.range": HITS},
    Defect.UNKNOWN_CATEGORIES: {"merchant_category.allowed_values": HITS},
    Defect.FUTURE_TIMESTAMPS: {"event_time.not_in_future": HITS},
}


def test_clean_batch_passes_every_rule(contract, batch_file) -> None:
    """A clean batch passes all rules, rejects no row and carries no sample."""
    result = validate(contract, batch_file(None), as_of=AS_OF)
    assert result.outcome.status is CheckStatus.PASSED
    assert [r.rule_id for r in result.outcome.rules] == [r.rule_id for r in contract.rules]
    assert all(r.failing_rows == 0 for r in result.outcome.rules)
    assert result.rejected_rows is not None and len(result.rejected_rows) == ROWS and not result.rejected_rows.any()
    assert result.outcome.sample == () and result.outcome.metrics["failing_rows"] == 0


@pytest.mark.parametrize("defect", list(EXPECTED), ids=str)
def test_row_defect_is_caught_by_its_rule_with_exact_count(contract, batch_file, defect: Defect) -> None:
    """Each row-level defect fails exactly its rules with the injected row count, and nothing else fails."""
    result = validate(contract, batch_file(defect), as_of=AS_OF)
    failing = {r.rule_id: r.failing_rows for r in result.outcome.rules if r.failing_rows}
    assert failing == EXPECTED[defect]
    assert {r.rule_id for r in result.outcome.failed_rules} == set(EXPECTED[defect])
    assert result.outcome.status is CheckStatus.FAILED and result.outcome.severity is Severity.ERROR
    assert int(result.rejected_rows.sum()) == HITS == result.outcome.metrics["failing_rows"]


def test_duplicate_ids_fail_every_row_of_each_duplicated_group(contract, batch_file) -> None:
    """All rows sharing a transaction id fail uniqueness (not only the repeats), matching a Python count."""
    path = batch_file(Defect.DUPLICATE_IDS)
    result = validate(contract, path, as_of=AS_OF)
    unique = next(r for r in result.outcome.rules if r.rule_id == "transaction_id.unique")
    assert unique.status is CheckStatus.FAILED
    assert unique.failing_rows == _duplicated_rows(path) > HITS
    assert int(result.rejected_rows.sum()) == unique.failing_rows


def test_schema_change_errors_rules_on_the_lost_column_without_crashing_others(contract, batch_file) -> None:
    """A renamed, retyped column fails its type rule, its row rules cannot run (ERROR), the rest still run."""
    result = validate(contract, batch_file(Defect.SCHEMA_CHANGE), as_of=AS_OF)
    by_id = {r.rule_id: r for r in result.outcome.rules}
    assert by_id["amount.type"].status is CheckStatus.FAILED and "missing" in by_id["amount.type"].message
    for rule_id in ("amount.not_null", "amount.range", "transactions.unique"):
        assert by_id[rule_id].status is CheckStatus.ERROR and "'amount' is missing" in by_id[rule_id].message
    assert by_id["transaction_id.pattern"].status is CheckStatus.PASSED
    assert result.outcome.status is CheckStatus.FAILED and result.outcome.severity is Severity.ERROR
    assert result.rejected_rows is None


def test_wrong_type_makes_dependent_rules_error_but_not_null_still_counts(contract) -> None:
    """amount sent as text: type FAILED, range ERROR (cannot compare text), not-null still counted."""
    frame = generate_transactions(DAY, 500, defect=Defect.NULLS).with_columns(pl.col("amount").cast(pl.String))
    by_id = {r.rule_id: r for r in validate(contract, frame, as_of=AS_OF).outcome.rules}
    assert by_id["amount.type"].status is CheckStatus.FAILED and "number" in by_id["amount.type"].message
    assert by_id["amount.range"].status is CheckStatus.ERROR
    assert by_id["amount.not_null"].failing_rows == defect_rows(500, Defect.NULLS)


def test_corrupt_file_is_an_error_outcome_not_an_exception(contract, batch_file) -> None:
    """A truncated Parquet file yields status ERROR naming the file, with the exception type and message, and no mask."""
    path = batch_file(Defect.CORRUPT_FILE)
    result = validate(contract, path, as_of=AS_OF)
    assert result.outcome.status is CheckStatus.ERROR and result.outcome.blocks_publication
    assert result.outcome.error.startswith("ArrowInvalid: Parquet magic bytes not found")
    assert result.outcome.message == f"cannot read {path}"
    assert result.rejected_rows is None and result.outcome.rows is None


def test_unsupported_input_type_is_an_error_outcome(contract) -> None:
    """Handing the engine something that is not a batch is reported, not raised."""
    result = validate(contract, [{"amount": 1}])  # type: ignore[arg-type]
    assert result.outcome.status is CheckStatus.ERROR and result.outcome.error.startswith("TypeError:")


def test_row_count_failure_makes_the_batch_unsplittable(contract) -> None:
    """Too few rows fails the table-level row count rule, so no row mask is offered."""
    result = validate(contract, generate_transactions(DAY, 50), as_of=AS_OF)
    row_count = next(r for r in result.outcome.rules if r.kind == "row_count")
    assert row_count.status is CheckStatus.FAILED and row_count.observed == 50
    assert result.rejected_rows is None and result.outcome.blocks_publication


def test_warning_failures_do_not_reject_rows(contract) -> None:
    """Country nulls above 1% fail a warning rule: outcome FAILED/warning, publication not blocked, mask all False."""
    frame = generate_transactions(DAY, 1_000).with_columns(
        pl.when(pl.int_range(pl.len()) % 10 == 0).then(None).otherwise(pl.col("country")).alias("country")
    )
    result = validate(contract, frame, as_of=AS_OF)
    rule = next(r for r in result.outcome.rules if r.rule_id == "country.not_null")
    assert rule.status is CheckStatus.FAILED and rule.observed == pytest.approx(10.0) and rule.failing_rows == 100
    assert rule.expected == "< 1 %"
    assert result.outcome.severity is Severity.WARNING and not result.outcome.blocks_publication
    assert not result.rejected_rows.any()


def test_sample_is_capped_and_names_key_rules_and_row(contract, batch_file) -> None:
    """The sample holds at most sample_size rows, each with the primary key, offending values, rules and index."""
    path = batch_file(Defect.NULLS)
    result = validate(contract, path, as_of=AS_OF, sample_size=5)
    frame = pl.read_parquet(path)
    assert len(result.outcome.sample) == 5
    for row in result.outcome.sample:
        assert row["_rules"] == ["account_id.not_null", "amount.not_null"]
        assert row["transaction_id"] == frame["transaction_id"][row["_row"]]
        assert row["amount"] is None and frame["amount"][row["_row"]] is None
    assert CheckOutcome.from_json(result.outcome.to_json()) == result.outcome
    json.loads(result.outcome.to_json())


def test_as_of_moves_the_time_rules(contract, batch_file) -> None:
    """Judged a day early every event is in the future; judged 31 days late every event is too old."""
    path = batch_file(None)
    early = {r.rule_id: r.failing_rows for r in validate(contract, path, as_of=AS_OF - timedelta(days=2)).outcome.rules}
    late = {r.rule_id: r.failing_rows for r in validate(contract, path, as_of=AS_OF + timedelta(days=32)).outcome.rules}
    assert early["event_time.not_in_future"] == ROWS and early["event_time.max_age"] == 0
    assert late["event_time.max_age"] == ROWS and late["event_time.not_in_future"] == 0


@pytest.mark.parametrize("kind", ["arrow", "pandas", "lazy", "path"])
def test_every_input_kind_gives_the_same_counts(contract, batch_file, kind: str) -> None:
    """Arrow tables, pandas frames, LazyFrames and Parquet paths are judged exactly like a polars DataFrame."""
    path = batch_file(Defect.NULLS)
    reference = validate(contract, pl.read_parquet(path), as_of=AS_OF)
    data = {
        "arrow": lambda: pq.read_table(path),
        "pandas": lambda: pd.read_parquet(path),
        "lazy": lambda: pl.scan_parquet(path),
        "path": lambda: path,
    }[kind]()
    result = validate(contract, data, as_of=AS_OF)
    assert result.outcome.rules == reference.outcome.rules
    assert np.array_equal(result.rejected_rows, reference.rejected_rows)


def test_outcome_carries_contract_identity_and_metrics(contract, batch_file) -> None:
    """The outcome names the contract id and version, the as-of time and the row metrics."""
    outcome = validate(contract, batch_file(Defect.UNKNOWN_CATEGORIES), as_of=AS_OF).outcome
    assert outcome.kind is CheckKind.CONTRACT
    assert (outcome.contract_id, outcome.contract_version) == (contract.id, contract.version)
    assert outcome.as_of == AS_OF and outcome.rows == ROWS and outcome.metrics["rows"] == ROWS
    assert outcome.metrics["failed_rules"] == 1 and outcome.duration_seconds >= 0
    assert "merchant_category.allowed_values (200 rows)" in outcome.message


def test_arrow_type_polars_cannot_import_is_an_error_outcome() -> None:
    """A decimal256 column (polars would panic on import) yields status ERROR naming the column, not a crash."""
    import decimal

    import pyarrow as pa

    from guardrails.contract.model import Contract, NotNullRule

    contract = Contract(id="c", version="1", name="c", table="t", rules=(NotNullRule(rule_id="d.not_null", column="d"),))
    table = pa.table({"d": pa.array([decimal.Decimal("1.5")], pa.decimal256(40, 2))})
    result = validate(contract, table)
    assert result.outcome.status is CheckStatus.ERROR and result.outcome.error.startswith("UnreadableBatchError:")
    assert "'d'" in result.outcome.error and "decimal256(40, 2)" in result.outcome.error
    assert result.rejected_rows is None
