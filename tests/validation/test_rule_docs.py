"""The docstring examples of the SQL/custom rule modules and of the one judge hold, and SQL agrees with polars."""

from __future__ import annotations

import doctest
import importlib

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guardrails.contract import Contract, NotNullRule, RangeRule, Threshold
from guardrails.contract.model import SqlRule
from guardrails.validation import validate

MODULES = ["guardrails.outcome", "guardrails.contract._sql", "guardrails.validation._sql"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    """Every example in the module's docstrings runs and prints what it shows."""
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)), min_size=0, max_size=60))
def test_sql_counts_agree_with_the_polars_rules(values: list[float | None]) -> None:
    """A SQL count of nulls and of negatives equals the failing rows of the equivalent library rules."""
    contract = Contract(id="c", version="1", name="c", table="t", rules=(
        NotNullRule(rule_id="nn", column="x"),
        RangeRule(rule_id="range", column="x", minimum=0),
        SqlRule(rule_id="sql_nulls", table="t", query="SELECT COUNT(*) FROM t WHERE x IS NULL",
                threshold=Threshold("mustBe", 0)),
        SqlRule(rule_id="sql_negatives", table="t", query="SELECT COUNT(*) FROM t WHERE x < 0",
                threshold=Threshold("mustBe", 0)),
    ))
    rules = {r.rule_id: r for r in validate(contract, pl.DataFrame({"x": values}, schema={"x": pl.Float64})).outcome.rules}
    assert rules["sql_nulls"].observed == rules["nn"].failing_rows
    assert rules["sql_negatives"].observed == rules["range"].failing_rows
    assert rules["sql_nulls"].status is rules["nn"].status and rules["sql_negatives"].status is rules["range"].status
