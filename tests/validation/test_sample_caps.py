"""The failing-row sample an outcome carries is capped at the source (1 KiB a value, 64 KiB in all, dropped rows
counted), by both engines, while the verdict and the rejected rows still cover every row."""

from __future__ import annotations

import json

import polars as pl
import pytest

from guardrails.contract import AllowedValuesRule, Contract
from guardrails.validation import validate, validate_expectation_suite

MEGABYTE = "m" * 1_000_000
CUT = "m" * 1024 + "…[cut 998,976 chars]"
ROWS = 100


def _frame() -> pl.DataFrame:
    return pl.DataFrame({"id": list(range(ROWS)), "note": [MEGABYTE] * ROWS})


def test_engine_sample_is_capped_and_says_how_many_rows_it_dropped() -> None:
    """100 failing rows of 1 MB with sample size 100: each value is cut, the sample is at most 64 KiB of JSON,
    the dropped rows are counted, and all 100 rows are still rejected."""
    contract = Contract(id="c", version="1", name="c", table="t", primary_key=("id",),
                        rules=(AllowedValuesRule(rule_id="note.allowed", column="note", values=("ok",)),))
    validation = validate(contract, _frame(), sample_size=ROWS)
    outcome = validation.outcome
    assert outcome.rules[0].failing_rows == ROWS and int(validation.rejected_rows.sum()) == ROWS
    assert len(json.dumps(list(outcome.sample))) <= 64 * 1024
    assert all(row["note"] == CUT for row in outcome.sample)
    assert outcome.metrics["sample_rows_dropped"] == ROWS - len(outcome.sample) > 0


def test_engine_sample_within_the_caps_has_no_dropped_metric() -> None:
    """A small sample is kept whole and the outcome carries no `sample_rows_dropped` metric."""
    contract = Contract(id="c", version="1", name="c", table="t",
                        rules=(AllowedValuesRule(rule_id="note.allowed", column="note", values=("ok",)),))
    outcome = validate(contract, pl.DataFrame({"note": ["ok", "[/]"]})).outcome
    assert [row["note"] for row in outcome.sample] == ["[/]"] and "sample_rows_dropped" not in outcome.metrics


@pytest.mark.slow  # importing great_expectations takes 14-40 s on the shared cores
def test_great_expectations_sample_values_are_capped() -> None:
    """A GX suite flagging 1 MB values puts them in the sample cut to 1 KiB, saying how much was cut."""
    suite = {"name": "notes", "expectations": [
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "note", "value_set": ["ok"]}}]}
    outcome = validate_expectation_suite(suite, _frame().to_pandas(), key_columns=("id",), sample_size=ROWS)
    assert outcome.sample and all(row["note"] == CUT for row in outcome.sample)
    assert len(json.dumps(list(outcome.sample))) <= 64 * 1024
