"""Simulations with known truth (fixed seeds, `bench.performance.simulate`): the estimate tracks realized performance
under covariate shift, concept drift is caught and named while the data drift check passes, a change in the label
rate alone is prior shift, and too few mature labels is insufficient, never a pass."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from sklearn.isotonic import IsotonicRegression

from bench.performance import simulate
from guardrails.checks import check_drift
from guardrails.checks.performance import Calibration, Diagnosis, Metric, PerformanceSpec, assess_performance
from guardrails.checks.performance._estimate import calibration_error
from guardrails.outcome import CheckStatus, Severity, Verdict
from guardrails.profile import build_profile

DAY = datetime(2026, 10, 1, tzinfo=UTC)
AS_OF = DAY + timedelta(days=60)  # every simulated day is mature
TOLERANCE = 0.03
"""How close the estimate stays to the realized value under covariate shift (the stated tolerance)."""

SPEC = PerformanceSpec(
    key="transaction_id", prediction="score", label="is_fraud", prediction_time="event_time",
    label_time="label_time", label_maturity=timedelta(days=30), period=timedelta(days=1),
    metrics=(Metric.PRECISION, Metric.RECALL, Metric.F1, Metric.ROC_AUC), min_labels=500,
)


@pytest.fixture(scope="module")
def reference() -> pl.DataFrame:
    """20,000 labelled reference predictions: the world the model was calibrated in."""
    return simulate(20_000, seed=100)


def predictions_and_labels(days: list[pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Logged predictions, and the labels that arrived: chargebacks (positives) only, as for fraud."""
    frame = pl.concat(days)
    return (frame.select("transaction_id", "score", "event_time", "x1", "x2"),
            frame.filter(pl.col("is_fraud")).select("transaction_id", "is_fraud", "label_time"))


def test_under_covariate_shift_the_estimate_tracks_the_realized_value(reference: pl.DataFrame) -> None:
    """Inputs shifted by -0.5 to +1.5 sd, concept unchanged: estimate within 0.03 of realized, never concept drift."""
    shifts = [0.0, 0.5, 1.0, 1.5, -0.5]
    days = [simulate(10_000, seed=i, day=DAY + timedelta(days=i), shift=s, first_key=i * 10_000)
            for i, s in enumerate(shifts)]
    predictions, labels = predictions_and_labels(days)
    report = assess_performance(predictions, SPEC, labels, reference, as_of=AS_OF)
    assert report.estimate.ran and len(report.periods) == 5
    for period in report.periods:
        assert period.judged
        for metric in SPEC.metrics:
            result = period.metric(metric)
            assert abs(result.estimated.value - result.realized.value) < TOLERANCE, (period.period, metric)
        assert period.diagnosis in (Diagnosis.HEALTHY, Diagnosis.COVARIATE_SHIFT), period.period
    assert report.periods[0].diagnosis is Diagnosis.HEALTHY
    assert report.periods[3].diagnosis is Diagnosis.COVARIATE_SHIFT  # 1.5 sd: recall roughly doubles
    assert report.diagnosis is Diagnosis.COVARIATE_SHIFT and "quarantine" in report.containment


def test_a_concept_change_with_unchanged_inputs_is_caught_and_named(reference: pl.DataFrame) -> None:
    """Outcome follows -x1 from day 3: data drift passes, realized performance fails, the diagnosis is concept drift."""
    days = [simulate(10_000, seed=10 + i, day=DAY + timedelta(days=i), flip=i >= 2, first_key=i * 10_000)
            for i in range(4)]
    predictions, labels = predictions_and_labels(days)
    drift = check_drift(predictions.filter(pl.col("event_time") >= DAY + timedelta(days=2)).select("x1", "x2"),
                        build_profile(reference.select("x1", "x2")))
    assert drift.status is CheckStatus.PASSED  # the inputs look exactly as before

    report = assess_performance(predictions, SPEC, labels, reference, drift, as_of=AS_OF)
    assert report.verdict is Verdict.FAIL and report.outcome.severity is Severity.ERROR
    assert [p.diagnosis for p in report.periods] == [Diagnosis.HEALTHY, Diagnosis.HEALTHY,
                                                     Diagnosis.CONCEPT_DRIFT, Diagnosis.CONCEPT_DRIFT]
    changed = report.periods[2]
    assert abs(changed.metric(Metric.PRECISION).estimated.value - changed.metric(Metric.PRECISION).reference) < 0.05
    assert changed.metric(Metric.PRECISION).realized.value < 0.2
    assert report.diagnosis is Diagnosis.CONCEPT_DRIFT
    assert "Roll back" in report.containment and "retrain" in report.containment
    assert any("input drift check passed" in line for line in report.evidence)
    assert report.outcome.metrics["diagnosis"] == "concept_drift"
    failed = {r.rule_id for r in report.outcome.failed_rules}
    assert "performance.precision.2026-10-03" in failed and "performance.precision.2026-10-01" not in failed


def test_a_change_in_the_label_rate_alone_is_prior_shift(reference: pl.DataFrame) -> None:
    """Positives resampled to three times the rate, P(x | y) unchanged: the ranking holds, the diagnosis is prior shift."""
    base = float(reference["is_fraud"].mean())
    days = [simulate(10_000, seed=30, day=DAY, first_key=0),
            simulate(10_000, seed=31, day=DAY + timedelta(days=1), positive_rate=3 * base, first_key=10_000)]
    predictions, labels = predictions_and_labels(days)
    report = assess_performance(predictions, SPEC, labels, reference, as_of=AS_OF)
    shifted = report.periods[1]
    assert shifted.label_rate == pytest.approx(3 * base, rel=0.02)
    assert abs(shifted.metric(Metric.ROC_AUC).realized.value - shifted.metric(Metric.ROC_AUC).reference) < 0.05
    assert shifted.diagnosis is Diagnosis.PRIOR_SHIFT
    assert report.periods[0].diagnosis is Diagnosis.HEALTHY


def test_too_few_mature_labels_is_insufficient_never_a_pass(reference: pl.DataFrame) -> None:
    """400 mature units (min_labels 500), or none mature yet: verdict insufficient, a warning, estimates still shown."""
    predictions, labels = predictions_and_labels([simulate(400, seed=40, day=DAY)])
    small = assess_performance(predictions, SPEC, labels, reference, as_of=AS_OF)
    assert small.verdict is Verdict.INSUFFICIENT
    assert (small.outcome.status, small.outcome.severity) == (CheckStatus.FAILED, Severity.WARNING)
    assert not small.outcome.blocks_publication and "insufficient" in small.outcome.message
    assert small.diagnosis is Diagnosis.NOT_JUDGED

    predictions, labels = predictions_and_labels([simulate(5_000, seed=41, day=DAY)])
    early = assess_performance(predictions, SPEC, labels, reference, as_of=DAY + timedelta(days=10))
    assert early.verdict is Verdict.INSUFFICIENT and early.periods[0].mature == 0
    assert early.metrics[Metric.PRECISION].estimated.value == pytest.approx(0.68, abs=0.05)
    assert early.metrics[Metric.PRECISION].realized is None


def test_a_badly_calibrated_reference_stops_the_estimate_and_says_why() -> None:
    """Platt scaling cannot bend to an outcome that is not monotone in the score: the estimate could not run."""
    rng = np.random.default_rng(50)
    score = rng.uniform(size=5_000)
    u_shaped = rng.uniform(size=5_000) < np.where(np.abs(score - 0.5) > 0.3, 0.9, 0.05)
    odd = pl.DataFrame({"score": score, "is_fraud": u_shaped})
    predictions, labels = predictions_and_labels([simulate(2_000, seed=51, day=DAY)])
    report = assess_performance(predictions, replace(SPEC, calibration=Calibration.SIGMOID), labels, odd,
                                as_of=AS_OF)
    assert not report.estimate.ran and report.estimate.reference_ece > SPEC.max_calibration_error
    assert "out-of-fold ECE" in report.estimate.reason and "estimate could not run" in report.outcome.message
    assert report.metrics[Metric.PRECISION].estimated is None
    assert report.verdict in (Verdict.PASS, Verdict.FAIL)  # the realized check still runs


def test_a_reference_too_small_to_calibrate_on_stops_the_estimate() -> None:
    """200 labelled reference rows: the out-of-fold isotonic calibration is too noisy to estimate from."""
    predictions, labels = predictions_and_labels([simulate(2_000, seed=52, day=DAY)])
    report = assess_performance(predictions, SPEC, labels, simulate(200, seed=3), as_of=AS_OF)
    assert not report.estimate.ran and report.estimate.reference_ece > 0.05


def test_in_sample_isotonic_calibration_would_flatter_the_reference() -> None:
    """Why the calibration is cross-fitted: isotonic evaluated where it was fit shows a far smaller ECE."""
    frame = simulate(2_000, seed=60)
    score, outcome = frame["score"].to_numpy(), frame["is_fraud"].to_numpy().astype(float)
    in_sample = calibration_error(IsotonicRegression(out_of_bounds="clip").fit(score, outcome).predict(score), outcome)
    report = assess_performance(frame.select("transaction_id", "score", "event_time", "is_fraud"),
                                replace(SPEC, label_time=None), reference_data=frame, as_of=AS_OF)
    assert report.estimate.ran and report.estimate.reference_ece > 3 * in_sample
