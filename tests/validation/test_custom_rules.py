"""ODCS ``type: custom`` rules: Great Expectations ones run through GX; other engines are not run, by policy.

One contract holds a GX rule that passes, one that fails on a known row, one GX cannot build, and a soda rule;
GX is imported once per module (it costs seconds).
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

from guardrails.contract import lint_contract, load_contract
from guardrails.contract.model import CustomRule
from guardrails.contract.model import Contract
from guardrails.outcome import ALLOW_UNRUN, FAIL_CLOSED, UNRUN_POLICY_KEY, UNRUN_RULES_KEY, CheckStatus, Severity
from guardrails.quarantine import QuarantineStore, guard_batch
from guardrails.validation import validate

FRAME = pl.DataFrame({"id": ["a", "b", "c", "d"], "amount": [1.0, None, 3.0, 4.0]})
"""Four rows, one null amount."""

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: custom-rules
version: 1.0.0
schema:
  - name: orders
    properties:
      - name: id
        logicalType: string
        required: true
      - name: amount
        logicalType: number
        quality:
          - type: custom
            name: amount_present
            engine: great-expectations
            implementation:
              type: expect_column_values_to_not_be_null
              kwargs: {column: amount}
    quality:
      - type: custom
        name: row_count
        engine: greatExpectations
        implementation: |
          type: expect_table_row_count_to_be_between
          kwargs:
            minValue: 1
            maxValue: 10
      - type: custom
        name: not_an_expectation
        engine: great-expectations
        implementation: {type: expect_the_moon, kwargs: {}}
      - type: custom
        name: soda_duplicates
        engine: soda
        severity: error
        implementation: |
          type: duplicate_percent
          columns: [id]
          must_be_less_than: 1.0
"""


@pytest.fixture(scope="module")
def contract_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("custom") / "custom.odcs.yaml"
    path.write_text(CONTRACT)
    return path


@pytest.fixture(scope="module")
def contract(contract_path: Path) -> Contract:
    return load_contract(contract_path)


@pytest.fixture(scope="module")
def judged(contract: Contract) -> dict[bool, object]:
    """The outcome under each unrun policy (GX runs once per policy)."""
    return {allow: validate(contract, FRAME, allow_unrun=allow).outcome for allow in (False, True)}


def test_gx_implementation_is_read_as_an_expectation(contract: Contract) -> None:
    """YAML text or a mapping becomes {type, kwargs}; camelCase kwargs (the ODCS example) become GX's snake_case."""
    rules = {r.rule_id: r for r in contract.rules if isinstance(r, CustomRule)}
    assert rules["row_count"].implementation == {
        "type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1, "max_value": 10}}
    assert rules["amount_present"].columns == ("amount",)


def test_gx_rules_pass_and_fail_with_gx_counts(judged: dict[bool, object]) -> None:
    """The row-count expectation passes on 4 rows; the not-null one fails on exactly the one null amount."""
    rules = {r.rule_id: r for r in judged[False].rules}  # type: ignore[attr-defined]
    assert (rules["row_count"].status, rules["row_count"].observed) == (CheckStatus.PASSED, 4.0)
    assert (rules["amount_present"].status, rules["amount_present"].failing_rows) == (CheckStatus.FAILED, 1)
    assert rules["amount_present"].kind == "custom" and rules["amount_present"].ran


def test_an_expectation_gx_cannot_build_is_that_rules_could_not_run(judged: dict[bool, object]) -> None:
    """An unknown expectation type errors only its own rule, saying GX cannot build it; it is not 'not run'."""
    rules = {r.rule_id: r for r in judged[False].rules}  # type: ignore[attr-defined]
    broken = rules["not_an_expectation"]
    assert broken.status is CheckStatus.ERROR and broken.ran and "cannot build it" in broken.message
    assert rules["row_count"].status is CheckStatus.PASSED


def test_unknown_engine_is_not_run_and_fails_closed_by_default(judged: dict[bool, object]) -> None:
    """A soda rule is listed as not run at error severity; the outcome says incomplete and records the policy."""
    outcome = judged[False]
    soda = next(r for r in outcome.rules if r.rule_id == "soda_duplicates")  # type: ignore[attr-defined]
    assert (soda.status, soda.severity, soda.ran) == (CheckStatus.ERROR, Severity.ERROR, False)
    assert "engine 'soda'" in soda.message
    assert outcome.metrics[UNRUN_RULES_KEY] == 1 and outcome.metrics[UNRUN_POLICY_KEY] == FAIL_CLOSED  # type: ignore[attr-defined]
    assert "incomplete: 1 rule not run (soda_duplicates), failing closed" in outcome.message  # type: ignore[attr-defined]
    assert [r.rule_id for r in outcome.unrun_rules] == ["soda_duplicates"]  # type: ignore[attr-defined]


def test_allow_unrun_records_the_rule_as_a_warning(judged: dict[bool, object]) -> None:
    """With unrun rules allowed the soda rule is a warning and the policy is recorded; other rules are unchanged."""
    closed, allowed = judged[False], judged[True]
    soda = next(r for r in allowed.rules if r.rule_id == "soda_duplicates")  # type: ignore[attr-defined]
    assert (soda.status, soda.severity, soda.ran) == (CheckStatus.ERROR, Severity.WARNING, False)
    assert allowed.metrics[UNRUN_POLICY_KEY] == ALLOW_UNRUN  # type: ignore[attr-defined]
    others = lambda o: {r.rule_id: r.status for r in o.rules if r.rule_id != "soda_duplicates"}  # noqa: E731
    assert others(closed) == others(allowed)


def test_guard_batch_publishes_only_when_unrun_rules_are_allowed(contract: Contract, tmp_path: Path) -> None:
    """Through guard_batch, a batch whose only problem is an unrun rule is quarantined by default, published if allowed."""
    only_unrun = Contract(id="c", version="1", name="c", table="orders",
                          rules=tuple(r for r in contract.rules if r.rule_id == "soda_duplicates"))
    store = QuarantineStore(str(tmp_path / "q"))
    closed = guard_batch(FRAME, only_unrun, store)
    allowed = guard_batch(FRAME, only_unrun, store, allow_unrun=True)
    assert (closed.published, closed.manifest.rows_quarantined) == (None, 4)  # type: ignore[union-attr]
    assert closed.outcome.metrics[UNRUN_POLICY_KEY] == FAIL_CLOSED
    assert (allowed.published.num_rows, allowed.manifest) == (4, None)  # type: ignore[union-attr]
    assert (allowed.outcome.status, allowed.outcome.severity) == (CheckStatus.FAILED, Severity.WARNING)
    assert allowed.outcome.metrics[UNRUN_POLICY_KEY] == ALLOW_UNRUN


def test_lint_warns_about_the_unrun_rule(contract_path: Path) -> None:
    """`contract lint` loads the file and warns, on the engine's line, that the soda rule will not run."""
    report = lint_contract(contract_path)
    [warning] = [w for w in report.warnings if w.field.endswith(".engine")]
    assert report.ok and warning.field == "schema[0].quality[2].engine" and warning.line == 35
    assert "not run" in warning.message and "--allow-unrun" in warning.message


def test_without_gx_gx_rules_could_not_run_and_say_which_extra(
    contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With GX not importable, GX rules could not run (naming the [gx] extra); the soda rule is still 'not run'."""
    monkeypatch.setitem(sys.modules, "great_expectations", None)
    rules = {r.rule_id: r for r in validate(contract, FRAME).outcome.rules}
    assert rules["row_count"].status is CheckStatus.ERROR and rules["row_count"].ran
    assert "needs the [gx] extra" in rules["row_count"].message
    assert not rules["soda_duplicates"].ran
