"""`assess_performance` on hand-made predictions and labels: maturity, late labels, coverage and delay, the three
situations kept apart (failed, insufficient, could not run), and the report's JSON round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from guardrails.checks import PerformanceReport, PerformanceSpec, assess_performance
from guardrails.checks.performance import Diagnosis, Metric
from guardrails.outcome import CheckKind, CheckStatus, Verdict

T0 = datetime(2026, 10, 1, tzinfo=UTC)
SPEC = PerformanceSpec(key="id", prediction="score", label="fraud", prediction_time="at", label_time="arrived",
                       label_maturity=timedelta(days=30), metrics=(Metric.PRECISION, Metric.RECALL),
                       reference_metrics={"precision": 0.5, "recall": 0.5}, min_labels=4)


def predictions(scores: list[float], *, start: int = 0, at: datetime = T0) -> pl.DataFrame:
    return pl.DataFrame({"id": range(start, start + len(scores)), "score": scores, "at": [at] * len(scores)})


def labels(rows: list[tuple[int, bool, datetime]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"id": pl.Int64, "fraud": pl.Boolean, "arrived": pl.Datetime("us", "UTC")},
                        orient="row")


def test_a_mature_unit_without_a_label_is_a_negative_and_a_late_label_is_ignored() -> None:
    """Four mature units: one chargeback in time, one 40 days late (ignored, counted late), two never: precision 1/2."""
    frame = predictions([0.9, 0.8, 0.2, 0.1])
    arrived = labels([(0, True, T0 + timedelta(days=3)), (1, True, T0 + timedelta(days=40)),
                      (99, True, T0 + timedelta(days=1))])
    report = assess_performance(frame, SPEC, arrived, as_of=T0 + timedelta(days=45))
    precision = report.metrics[Metric.PRECISION]
    assert precision.realized.value == 0.5 and precision.realized.n == 2
    assert report.metrics[Metric.RECALL].realized.value == 1.0
    stats = report.labels
    assert (stats.predictions, stats.labelled, stats.late_labels, stats.unmatched_labels, stats.mature) == (4, 1, 1, 1, 4)
    assert stats.coverage == 0.25 and stats.median_delay_seconds == 3 * 86_400


def test_immature_units_are_not_judged_whatever_arrived() -> None:
    """At day 10 nothing is mature: a chargeback already in does not make the others negatives; insufficient."""
    frame = predictions([0.9, 0.8, 0.2, 0.1])
    report = assess_performance(frame, SPEC, labels([(0, True, T0 + timedelta(days=3))]),
                                as_of=T0 + timedelta(days=10))
    assert report.verdict is Verdict.INSUFFICIENT and report.periods[0].mature == 0
    assert report.metrics[Metric.PRECISION].realized is None
    assert report.outcome.rules[0].rule_id == "performance.labels"


def test_a_fall_beyond_the_margin_fails_and_a_pass_passes() -> None:
    """Realized precision 0 against a reference of 0.5 fails at error; the reference data's own labels pass."""
    frame = predictions([0.9] * 50 + [0.1] * 50)
    none_fraud = assess_performance(frame, SPEC, labels([]), as_of=T0 + timedelta(days=31))
    assert none_fraud.verdict is Verdict.FAIL and none_fraud.outcome.blocks_publication
    assert none_fraud.metrics[Metric.PRECISION].status is CheckStatus.FAILED
    good = labels([(i, True, T0 + timedelta(days=1)) for i in range(50)])
    passing = assess_performance(frame, SPEC, good, as_of=T0 + timedelta(days=31))
    assert passing.verdict is Verdict.PASS and passing.outcome.kind is CheckKind.PERFORMANCE
    assert passing.outcome.metrics["realized.precision"] == 1.0


def test_labels_may_come_with_the_predictions() -> None:
    """With no labels frame, the label and label-time columns are read from the predictions."""
    frame = predictions([0.9, 0.8, 0.2, 0.1]).with_columns(
        fraud=pl.Series([True, None, False, None]), arrived=pl.lit(T0 + timedelta(days=2)))
    report = assess_performance(frame, SPEC, as_of=T0 + timedelta(days=31))
    assert report.metrics[Metric.PRECISION].realized.value == 0.5
    assert report.labels.labelled == 2


def test_a_prediction_without_a_time_is_counted_and_left_out() -> None:
    """A null prediction time gives the unit neither a period nor maturity: counted apart, the rest judged."""
    frame = predictions([0.9, 0.8, 0.2, 0.1]).with_columns(
        at=pl.Series([T0, None, T0, T0], dtype=pl.Datetime("us", "UTC")))
    report = assess_performance(frame, SPEC, labels([(0, True, T0)]), as_of=T0 + timedelta(days=31))
    assert report.labels.missing_times == 1 and report.labels.predictions == 3
    assert report.outcome.metrics["missing_prediction_times"] == 1 and report.periods[0].mature == 3


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (predictions([0.5, 0.6]).drop("at"), "'at'"),
        (predictions([0.5, 1.6]), "outside [0, 1]"),
        (predictions([0.5]).with_columns(pl.col("at").cast(pl.String)), "expected a datetime"),
        (predictions([]), "0 rows"),
    ],
)
def test_unusable_predictions_mean_the_check_could_not_run(frame: pl.DataFrame, reason: str) -> None:
    """A missing column, a score that is no probability, a text time or no rows: verdict error, with the cause."""
    report = assess_performance(frame, SPEC, labels([]), as_of=T0 + timedelta(days=31))
    assert report.verdict is Verdict.ERROR and report.outcome.status is CheckStatus.ERROR
    assert reason in report.outcome.error


def test_no_reference_value_for_a_judged_metric_cannot_run() -> None:
    """A judged metric with no reference value and no reference data to measure it on: could not run, naming it."""
    spec = PerformanceSpec(key="id", prediction="score", label="fraud", prediction_time="at",
                           label_maturity=timedelta(days=1), metrics=(Metric.F1,))
    report = assess_performance(predictions([0.5]), spec, labels([]), as_of=T0 + timedelta(days=2))
    assert report.verdict is Verdict.ERROR and "no reference value for f1" in report.outcome.error


def test_reference_metrics_default_to_the_reference_data() -> None:
    """Without `reference_metrics`, each judged metric's reference is its value on the labelled reference data."""
    spec = PerformanceSpec(key="id", prediction="score", label="fraud", prediction_time="at",
                           label_maturity=timedelta(days=1), metrics=(Metric.PRECISION,), min_labels=2)
    reference = pl.DataFrame({"score": [0.9, 0.9, 0.9, 0.9, 0.1], "fraud": [True, True, True, False, False]})
    frame = predictions([0.9, 0.9]).with_columns(fraud=pl.Series([True, True]), arrived=pl.lit(T0))
    report = assess_performance(frame, spec, reference_data=reference, as_of=T0 + timedelta(days=2))
    assert report.metrics[Metric.PRECISION].reference == 0.75


def test_the_report_survives_a_json_round_trip() -> None:
    """`PerformanceReport.from_json(report.to_json())` equals the report, intervals, diagnosis and outcome included."""
    frame = predictions([0.9] * 30 + [0.1] * 30)
    good = labels([(i, True, T0 + timedelta(days=1)) for i in range(20)])
    report = assess_performance(frame, SPEC, good, as_of=T0 + timedelta(days=31))
    assert report.diagnosis is Diagnosis.HEALTHY and report.periods[0].judged
    assert PerformanceReport.from_json(report.to_json()) == report


def test_with_a_model_version_column_each_version_is_judged_and_the_failing_one_is_named() -> None:
    """v1's predictions are right and v2's wrong: the report is v2's failure, naming v2 and every version's verdict;
    a log without the column could not be measured."""
    from dataclasses import replace

    spec = replace(SPEC, model_version="version")
    good = predictions([0.9, 0.8, 0.2, 0.1]).with_columns(version=pl.lit(1))
    bad = predictions([0.9, 0.8, 0.2, 0.1], start=4).with_columns(version=pl.lit(2))
    arrived = labels([(0, True, T0), (1, True, T0), (6, True, T0), (7, True, T0)])
    report = assess_performance(pl.concat([good, bad]), spec, arrived, as_of=T0 + timedelta(days=45))
    assert report.verdict is Verdict.FAIL and report.outcome.metrics["model_version"] == 2  # noqa: PLR2004
    assert report.outcome.metrics["versions"] == {"1": "pass", "2": "fail"}
    assert report.outcome.message.startswith("model version 2: ")
    missing = assess_performance(good.drop("version"), spec, arrived, as_of=T0 + timedelta(days=45))
    assert missing.verdict is Verdict.ERROR and "version" in missing.outcome.message
