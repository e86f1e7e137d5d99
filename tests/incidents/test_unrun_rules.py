"""A rule that was not run (an engine guardrails does not have) is no evidence about the data in incident reports."""

from __future__ import annotations

from datetime import UTC, datetime

from guardrails.incidents._hypotheses import rank_hypotheses
from guardrails.incidents._records import Evaluation
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity, judge, not_run

T = datetime(2026, 11, 3, tzinfo=UTC)


def _failure(*rules: RuleResult) -> Evaluation:
    status, severity = judge(rules)
    outcome = CheckOutcome(check="c", kind=CheckKind.CONTRACT, status=status, severity=severity, rows=10,
                           rules=rules, started_at=T, finished_at=T)
    return Evaluation(asset_key="a", check_name="c", timestamp=T, passed=False, outcome=outcome)


def test_an_unrun_rule_is_not_read_as_a_schema_change() -> None:
    """Only the unrun rule failed: no cause is suggested (a rule that could not run on the data would be one)."""
    unrun = not_run("orders.soda", "custom", (), Severity.ERROR, "engine 'soda'", allow_unrun=False)
    could_not = RuleResult(rule_id="amount.range", kind="range", columns=("amount",), severity=Severity.ERROR,
                           status=CheckStatus.ERROR, message="column 'amount' is missing")
    assert rank_hypotheses([_failure(unrun)], []) == ()
    assert [h.cause.value for h in rank_hypotheses([_failure(unrun, could_not)], [])] == ["schema_change"]
