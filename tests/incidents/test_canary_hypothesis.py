"""A failed canary gets an incident hypothesis (model regression); a canary still collecting gets none."""

from __future__ import annotations

from guardrails.checks import assess_canary
from guardrails.incidents import Cause, Evaluation, rank_hypotheses
from guardrails.outcome import Verdict
from tests.checks.test_canary import EXAMPLE, traffic


def evaluation(outcome) -> Evaluation:  # noqa: ANN001
    return Evaluation(asset_key="scored_transactions", check_name="canary", timestamp=outcome.finished_at,
                      passed=False, outcome=outcome)


def test_a_failed_canary_points_at_a_model_regression() -> None:
    """A candidate 10% worse fails its canary; the top hypothesis is a model regression at error weight."""
    report = assess_canary(traffic(200_000, worse=0.1), EXAMPLE)
    assert report.verdict is Verdict.FAIL
    [top, *_] = rank_hypotheses([evaluation(report.outcome)], [])
    assert (top.cause, top.score) == (Cause.MODEL_REGRESSION, 0.8)


def test_an_inconclusive_canary_suggests_nothing() -> None:
    """A canary with too few units is no evidence of any cause."""
    report = assess_canary(traffic(300, worse=0.1), EXAMPLE)
    assert report.verdict is Verdict.INCONCLUSIVE
    assert rank_hypotheses([evaluation(report.outcome)], []) == ()
