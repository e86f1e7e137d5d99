"""The user-facing pandera schema: a real pandera polars schema that judges the example exactly like the engine."""

from __future__ import annotations

import warnings

import pandera.errors
import pandera.polars as pa
import polars as pl
import pytest

from definitions.data import Defect, generate_transactions
from guardrails.outcome import CheckStatus
from guardrails.validation import to_pandera_schema, validate

from .conftest import AS_OF, DAY


def pandera_failures(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> dict[str, int]:
    """Failure-case rows per check name (empty when the frame validates)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            schema.validate(frame, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            return dict(exc.failure_cases.group_by("check").len().iter_rows())
    return {}


def test_schema_mirrors_the_contract(contract) -> None:
    """Every declared column is a pandera Column carrying its rules as named checks; the rest are frame checks."""
    schema = to_pandera_schema(contract, as_of=AS_OF)
    assert isinstance(schema, pa.DataFrameSchema) and list(schema.columns) == [c.column for c in contract.columns]
    names = {c.name for col in schema.columns.values() for c in col.checks} | {c.name for c in schema.checks}
    assert names == {r.rule_id for r in contract.rules}
    assert schema.columns["is_fraud"].required is False and schema.metadata["contract_version"] == contract.version


@pytest.mark.parametrize(
    "defect", [Defect.NULLS, Defect.OUT_OF_RANGE_AMOUNTS, Defect.UNKNOWN_CATEGORIES, Defect.DUPLICATE_IDS,
               Defect.FUTURE_TIMESTAMPS], ids=str,
)
def test_pandera_agrees_with_the_engine_on_each_defect(contract, defect: Defect) -> None:
    """For each example defect, pandera's failure cases per check equal the engine's failing rows per rule."""
    frame = generate_transactions(DAY, 2_000, defect=defect)
    engine = {r.rule_id: r.failing_rows for r in validate(contract, frame, as_of=AS_OF).outcome.rules if r.failing_rows}
    assert pandera_failures(to_pandera_schema(contract, as_of=AS_OF), frame) == engine


def test_schema_change_is_reported_by_pandera_too(contract) -> None:
    """The renamed amount column is a missing-column schema error in pandera, a failed type rule in the engine."""
    frame = generate_transactions(DAY, 500, defect=Defect.SCHEMA_CHANGE)
    failures = pandera_failures(to_pandera_schema(contract, as_of=AS_OF), frame)
    assert "column_in_dataframe" in failures
    assert next(r for r in validate(contract, frame, as_of=AS_OF).outcome.rules if r.rule_id == "amount.type").status is CheckStatus.FAILED


def test_users_can_extend_the_schema_with_their_own_checks(contract) -> None:
    """A custom pandera check added to the compiled schema runs alongside the contract's checks."""
    schema = to_pandera_schema(contract, as_of=AS_OF)
    weekday_only = pa.Check(lambda data: data.lazyframe.select(pl.col(data.key).dt.weekday() < 6), name="weekday_only")
    schema = schema.update_column("event_time", checks=[*schema.columns["event_time"].checks, weekday_only])
    frame = generate_transactions(DAY, 300)  # 2026-11-20 is a Friday
    assert pandera_failures(schema, frame) == {}
    saturday = generate_transactions(DAY.replace(day=14), 300)
    assert pandera_failures(schema, saturday) == {"weekday_only": 300}
