"""The one judge: rule results -> a check status, the verdict vocabulary, and every check agreeing on both."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from guardrails.checks import ParitySettings, check_drift, check_parity
from guardrails.contract.model import ColumnTypeRule, Contract, LogicalType, NotNullRule, RangeRule
from guardrails.incidents import Cause, Evaluation, rank_hypotheses
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity, Verdict, judge
from guardrails.profile import build_profile
from guardrails.validation import validate

T = datetime(2026, 11, 20, tzinfo=UTC)
P, F, E = CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.ERROR
ERR, WARN = Severity.ERROR, Severity.WARNING


def rule(status: CheckStatus, severity: Severity = ERR) -> RuleResult:
    return RuleResult(rule_id=f"r.{status}.{severity}", kind="range", columns=("x",), severity=severity, status=status)


@pytest.mark.parametrize(("statuses", "could_run", "expected"), [
    ((), True, (P, ERR)),
    (((P, ERR), (P, WARN)), True, (P, ERR)),
    (((F, WARN),), True, (F, WARN)),
    (((F, WARN), (F, ERR)), True, (F, ERR)),
    (((P, ERR), (F, WARN)), True, (F, WARN)),
    (((E, ERR),), True, (F, ERR)),  # a rule that could not run (missing column): FAILED, not ERROR
    (((E, WARN), (P, ERR)), True, (F, WARN)),  # ... at the rule's own severity
    (((E, WARN), (F, ERR)), True, (F, ERR)),
    ((), False, (E, ERR)),  # the check itself could not run: ERROR, failing closed
    (((P, ERR), (F, WARN)), False, (E, ERR)),
])
def test_judge_rolls_rule_results_into_one_status(statuses, could_run, expected) -> None:
    """Each combination of rule statuses and severities, and the check running or not, gives one (status, severity)."""
    assert judge([rule(s, sev) for s, sev in statuses], could_run=could_run) == expected


# --- the verdict vocabulary -----------------------------------------------------------------------------------


def outcome(status: CheckStatus, severity: Severity, verdict: Verdict | None = None, **fields) -> CheckOutcome:
    return CheckOutcome(check="c", kind=CheckKind.DRIFT, status=status, severity=severity, started_at=T,
                        finished_at=T, verdict=verdict, **fields)


@pytest.mark.parametrize(("status", "severity", "verdict"), [
    (P, ERR, Verdict.PASS), (F, ERR, Verdict.FAIL), (F, WARN, Verdict.FAIL), (E, ERR, Verdict.ERROR),
])
def test_verdict_is_derived_from_the_status_when_not_given(status, severity, verdict) -> None:
    """Without an explicit verdict, passed -> pass, failed -> fail, error -> error."""
    assert outcome(status, severity).verdict is verdict


@pytest.mark.parametrize("verdict", [Verdict.INCONCLUSIVE, Verdict.INSUFFICIENT])
def test_inconclusive_and_insufficient_are_failed_warnings_that_never_block(verdict) -> None:
    """Not enough evidence is passed=False at WARNING severity and never blocks publication."""
    result = outcome(F, WARN, verdict)
    assert result.verdict is verdict and not result.passed and not result.blocks_publication


@pytest.mark.parametrize(("status", "severity", "verdict"), [
    (F, ERR, Verdict.INSUFFICIENT), (P, ERR, Verdict.INCONCLUSIVE), (P, ERR, Verdict.FAIL),
    (F, WARN, Verdict.PASS), (E, ERR, Verdict.FAIL), (F, ERR, Verdict.ERROR),
])
def test_a_verdict_contradicting_the_status_is_refused(status, severity, verdict) -> None:
    """An outcome whose verdict disagrees with its status or severity is rejected when it is built, naming both."""
    with pytest.raises(ValueError, match=f"verdict {verdict.value!r}"):
        outcome(status, severity, verdict)


@pytest.mark.parametrize(("status", "severity", "verdict"), [
    (P, ERR, None), (F, ERR, None), (E, ERR, None), (F, WARN, Verdict.INCONCLUSIVE), (F, WARN, Verdict.INSUFFICIENT),
])
def test_each_verdict_survives_a_json_round_trip(status, severity, verdict) -> None:
    """An outcome with each of the five verdicts comes back from JSON equal, verdict included."""
    original = outcome(status, severity, verdict)
    data = json.loads(original.to_json())
    assert data["verdict"] == original.verdict.value
    assert CheckOutcome.from_json(original.to_json()) == original


def test_json_written_before_verdicts_still_loads() -> None:
    """Outcome JSON without a verdict key (recorded by an older version) loads, its verdict derived."""
    data = json.loads(outcome(F, WARN).to_json())
    del data["verdict"]
    assert CheckOutcome.from_dict(data).verdict is Verdict.FAIL


def test_evolving_the_status_derives_the_verdict_again() -> None:
    """Changing an outcome's status with evolve re-derives its verdict instead of keeping a stale one."""
    assert outcome(F, WARN, Verdict.INSUFFICIENT).evolve(status=P, severity=ERR).verdict is Verdict.PASS


# --- every check judges a missing column the same way ---------------------------------------------------------


def batch(n: int = 2_000) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    return pl.DataFrame({"id": range(n), "amount": rng.normal(100, 10, n), "age": rng.integers(18, 80, n)})


def missing_amount_outcomes() -> dict[str, CheckOutcome]:
    """The outcome of contract validation, drift and parity on one batch that lost its `amount` column."""
    full = batch()
    lost = full.drop("amount")
    contract = Contract(id="t", version="1", name="t", table="t", rules=(
        ColumnTypeRule(rule_id="amount.type", column="amount", logical_type=LogicalType.NUMBER),
        NotNullRule(rule_id="amount.not_null", column="amount"),
        RangeRule(rule_id="amount.range", column="amount", minimum=0),
    ))
    return {
        "contract": validate(contract, lost, as_of=T).outcome,
        "drift": check_drift(lost, build_profile(full)),
        "parity": check_parity(full, lost, ParitySettings(keys=("id",), features=("amount", "age"))),
    }


def test_a_missing_column_gets_the_same_status_in_every_check() -> None:
    """Contract validation, drift and parity all judge a lost column FAILED at ERROR severity, blocking."""
    outcomes = missing_amount_outcomes()
    assert {name: (o.status, o.severity, o.verdict) for name, o in outcomes.items()} == {
        name: (F, ERR, Verdict.FAIL) for name in outcomes
    }
    assert all(o.blocks_publication and o.error is None for o in outcomes.values())
    for name, o in outcomes.items():
        amount = [r for r in o.rules if "amount" in r.columns and r.status is not P]
        assert amount and any(r.status is E for r in amount), name  # the rule that could not run says so


def test_a_missing_column_points_at_the_same_hypothesis_in_contract_and_drift() -> None:
    """The incident hypothesis for a lost column is a schema change in that column, whichever check saw it."""
    outcomes = missing_amount_outcomes()

    def ranked(result: CheckOutcome) -> list[tuple[Cause, str]]:
        failure = Evaluation(asset_key="a", check_name=result.check, timestamp=T, passed=False, outcome=result)
        return [(h.cause, h.title) for h in rank_hypotheses([failure], [])]

    schema_change = [(Cause.SCHEMA_CHANGE, "Schema change upstream in `amount`")]
    assert ranked(outcomes["contract"]) == ranked(outcomes["drift"]) == schema_change
    drift = Evaluation(asset_key="a", check_name="drift", timestamp=T, passed=False, outcome=outcomes["drift"])
    [hypothesis] = rank_hypotheses([drift], [])
    assert "drift.amount could not run: amount: missing from the batch" in hypothesis.evidence
