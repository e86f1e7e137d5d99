"""An incident's hypotheses read a failed performance outcome: concept drift is named with its containment (roll
back or retrain), a covariate shift points at the data (quarantine or fall back), and insufficient labels at nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from bench.performance import simulate
from guardrails.checks import PerformanceSpec, assess_performance
from guardrails.checks.performance import Metric
from guardrails.incidents import Cause, Evaluation, rank_hypotheses

DAY = datetime(2026, 10, 1, tzinfo=UTC)
SPEC = PerformanceSpec(key="transaction_id", prediction="score", label="is_fraud", prediction_time="event_time",
                       label_maturity=timedelta(days=30), metrics=(Metric.PRECISION, Metric.RECALL, Metric.ROC_AUC),
                       reference_metrics={"precision": 0.68, "recall": 0.35, "roc_auc": 0.86})


def hypotheses(frame: pl.DataFrame, as_of: datetime) -> list:
    report = assess_performance(frame, SPEC, reference_data=simulate(20_000, seed=9), as_of=as_of)
    failure = Evaluation(asset_key="scored_transactions", check_name="performance", timestamp=as_of, passed=False,
                         outcome=report.outcome)
    return list(rank_hypotheses([failure], []))


def test_concept_drift_is_the_first_hypothesis_with_its_containment() -> None:
    """A failed check diagnosed as concept drift ranks `concept_drift` first and says to roll back or retrain."""
    [top, *_] = hypotheses(simulate(5_000, seed=1, day=DAY, flip=True), DAY + timedelta(days=40))
    assert top.cause is Cause.CONCEPT_DRIFT and top.title.startswith("Concept drift")
    assert any(line.startswith("containment: Concept drift") and "Roll back" in line for line in top.evidence)


def test_a_covariate_shift_points_at_the_data() -> None:
    """Inputs moved (performance fell with the estimate): the hypothesis is drift, contained by quarantine."""
    shifted = simulate(5_000, seed=2, day=DAY, shift=-1.5)
    [top, *_] = hypotheses(shifted, DAY + timedelta(days=40))
    assert top.cause is Cause.DRIFT
    assert any("quarantine" in line for line in top.evidence)


def test_labels_not_mature_yet_point_at_nothing() -> None:
    """An insufficient performance outcome is no evidence: no hypothesis."""
    assert hypotheses(simulate(5_000, seed=3, day=DAY), DAY + timedelta(days=5)) == []
