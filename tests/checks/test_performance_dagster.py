"""`build_performance_check` on a real Dagster instance: the per-metric table, the diagnosis, and fail-closed inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import polars as pl
import pytest

from bench.performance import simulate
from guardrails.dagster import outcome_from_metadata
from guardrails.dagster.ml import PERFORMANCE_DIAGNOSIS_KEY, PERFORMANCE_METRICS_KEY, build_performance_check
from guardrails.outcome import CheckKind, Verdict

DAY = datetime(2026, 10, 1, tzinfo=UTC)
SPEC = "expectations/transactions.performance.yaml"


def _log() -> pl.DataFrame:
    """Two days of scored transactions with their eventual outcomes; the second day's concept has changed."""
    return pl.concat([simulate(3_000, seed=1, day=DAY),
                      simulate(3_000, seed=2, day=DAY + timedelta(days=1), flip=True, first_key=3_000)])


@dg.asset
def scored_transactions() -> pl.DataFrame:
    return _log().select("transaction_id", "score", "event_time")


@dg.asset
def chargebacks() -> pl.DataFrame:
    return _log().filter(pl.col("is_fraud")).select("transaction_id", "is_fraud", "label_time")


def _as_of(context: dg.AssetCheckExecutionContext) -> datetime:
    return DAY + timedelta(days=45)


def test_the_check_fails_on_concept_drift_with_a_per_metric_table() -> None:
    """Labels from an asset, reference from a loader: failed at ERROR, table rows per period and metric, diagnosis."""
    check = build_performance_check(
        scored_transactions, spec=SPEC, labels=chargebacks, as_of=_as_of,
        reference_data=lambda context: simulate(20_000, seed=3).select("score", "is_fraud"))
    with dg.instance_for_test() as instance:
        result = dg.materialize([scored_transactions, chargebacks, check], instance=instance, raise_on_error=False)
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity is dg.AssetCheckSeverity.ERROR
    outcome = outcome_from_metadata(evaluation.metadata)
    assert outcome.kind is CheckKind.PERFORMANCE and outcome.verdict is Verdict.FAIL
    assert outcome.metrics["diagnosis"] == "concept_drift"
    rows = [r.data for r in evaluation.metadata[PERFORMANCE_METRICS_KEY].records]
    latest = {r["metric"]: r for r in rows if r["period"] == "2026-10-02"}
    assert latest["precision"]["status"] == "failed (error)" and latest["precision"]["interval"] == "wilson"
    assert latest["precision"]["estimated"] == pytest.approx(0.68, abs=0.06)
    assert latest["precision"]["reference"] == 0.80 and latest["precision"]["bound"] == pytest.approx(0.75)
    assert "concept drift" in evaluation.metadata[PERFORMANCE_DIAGNOSIS_KEY].value
    assert evaluation.metadata["guardrails/performance/realized.precision"].value < 0.2


def test_an_input_that_cannot_be_read_fails_closed() -> None:
    """A labels loader that raises makes the check fail at ERROR, saying it could not run."""
    def broken(context: dg.AssetCheckExecutionContext) -> pl.DataFrame:
        raise OSError("chargeback table unreachable")

    check = build_performance_check(scored_transactions, spec=SPEC, labels=broken, as_of=_as_of)
    with dg.instance_for_test() as instance:
        result = dg.materialize([scored_transactions, check], instance=instance, raise_on_error=False)
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity is dg.AssetCheckSeverity.ERROR
    assert "chargeback table unreachable" in evaluation.description


def test_too_few_mature_labels_warns_and_never_passes() -> None:
    """Ten days after the predictions nothing is mature: a WARN failure (insufficient), not a pass."""
    check = build_performance_check(scored_transactions, spec=SPEC, labels=chargebacks,
                                    as_of=lambda context: DAY + timedelta(days=10))
    with dg.instance_for_test() as instance:
        result = dg.materialize([scored_transactions, chargebacks, check], instance=instance)
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity is dg.AssetCheckSeverity.WARN
    assert outcome_from_metadata(evaluation.metadata).verdict is Verdict.INSUFFICIENT
