"""Dagster and Airflow classify the same evaluation identically: both translate into the core's `GuardEvent` and
call the one `classify`.

Each row is a real audit (`guard_batch` on a day of the example's transactions, by policy and defect) or a model's
own judgement (evaluation, canary); the Airflow side is the real outcome record (`outcome_record`) and the gate's
event (`model_event`), the Dagster side the check history entry as the guarded asset and the checks record it
(severity ERROR and no materialization when nothing was published; WARN on the stored batch otherwise).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow.sdk")
pytest.importorskip("dagster")

import polars as pl

from definitions.data import Defect, generate_transactions
from guardrails.airflow._publish import outcome_record
from guardrails.airflow._scope import TaskScope
from guardrails.airflow.models import guard_event, model_event
from guardrails.contract import load_contract
from guardrails.contract.model import QuarantinePolicy
from guardrails.dagster import metadata as md
from guardrails.dagster._guard_events import CANARY_VERDICT_KEY, CHALLENGER_ALIAS_KEY, MODEL_VERSION_KEY
from guardrails.dagster._guard_events import classify as classify_dagster
from guardrails.dagster.history import CheckHistoryEntry
from guardrails.models import CheckRole, EvaluationClass, classify
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity
from guardrails.quarantine import GuardedBatch, QuarantineStore, guard_batch

CONTRACT = Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml"
DAY = date(2026, 11, 3)
AS_OF = datetime(2026, 11, 4, tzinfo=UTC)
SCOPE = TaskScope("fraud", "clean", "scheduled__2026-11-04", "2026-11-03", AS_OF)


def _batch(defect: str | None) -> pl.DataFrame:
    frame = generate_transactions(DAY, rows=400, accounts=300,
                                  defect=Defect(defect) if defect and defect != "country_nulls" else None)
    if defect == "country_nulls":  # a warning-only rule fails (country nulls above 1%)
        frame = frame.with_columns(country=pl.when(pl.int_range(pl.len()) % 10 == 0).then(None)
                                   .otherwise(pl.col("country")))
    return frame


def _audit(tmp_path: Path, policy: str, defect: str | None) -> tuple[GuardedBatch, dict[str, Any]]:
    contract = replace(load_contract(CONTRACT), policy=QuarantinePolicy(policy))
    store = QuarantineStore(tmp_path / "quarantine")
    guarded = guard_batch(_batch(defect), contract, store, batch_id="transactions.2026-11-03", source="test",
                          run_id=SCOPE.run_id, as_of=AS_OF)
    record = outcome_record(guarded, contract, SCOPE, store)
    if guarded.published is not None:
        record["target"] = "file:///lake/transactions/2026-11-03"
    return guarded, record


def _dagster_data_entry(guarded: GuardedBatch, record: dict[str, Any]) -> CheckHistoryEntry:
    """The guarded asset's contract evaluation as Dagster records it (`guardrails.dagster.asset`)."""
    published = guarded.published is not None
    metadata: dict[str, Any] = {md.ROWS_QUARANTINED_KEY: record["rows_quarantined"],
                                md.BATCH_ID_KEY: record["batch_id"]}
    if guarded.manifest is not None:
        metadata[md.QUARANTINE_LOCATION_KEY] = "file:///quarantine/transactions.2026-11-03"
    return CheckHistoryEntry(
        asset_key="transactions", check_name="contract", run_id=SCOPE.run_id,
        status="SUCCEEDED" if guarded.outcome.passed else "FAILED", run_status="SUCCESS" if published else "FAILURE",
        timestamp=guarded.outcome.finished_at, partition=SCOPE.partition,
        passed=guarded.outcome.passed if published else False, severity="WARN" if published else "ERROR",
        batch_id=record["batch_id"], outcome=guarded.outcome, target_storage_id=7 if published else None,
        metadata=metadata,
    )


@pytest.mark.parametrize(("policy", "defect", "expected"), [
    ("batch", None, EvaluationClass.PASSED),
    ("batch", "future_timestamps", EvaluationClass.QUARANTINED),
    ("batch", "schema_change", EvaluationClass.QUARANTINED),
    ("batch", "country_nulls", EvaluationClass.IGNORED),
    ("rows", "out_of_range_amounts", EvaluationClass.IGNORED),
    ("rows", None, EvaluationClass.PASSED),
])
def test_a_data_check_means_the_same_to_the_model_in_both_hosts(
    tmp_path: Path, policy: str, defect: str | None, expected: EvaluationClass
) -> None:
    """The same audited batch is classified identically from the Airflow outcome record and the Dagster entry."""
    guarded, record = _audit(tmp_path, policy, defect)

    airflow = classify(guard_event(record, guarded.outcome, check="fraud.clean:contract"), CheckRole.DATA)
    dagster = classify_dagster(_dagster_data_entry(guarded, record), CheckRole.DATA)

    assert airflow.kind is expected
    assert (airflow.kind, airflow.why, airflow.partition, airflow.version) == (
        dagster.kind, dagster.why, dagster.partition, dagster.version)
    assert airflow.at == dagster.at


def _outcome(kind: CheckKind, status: CheckStatus, severity: Severity, *, verdict: str | None = None) -> CheckOutcome:
    now = datetime(2026, 11, 4, 1, tzinfo=UTC)
    outcome = CheckOutcome(check=kind.value, kind=kind, status=status, severity=severity, started_at=now,
                           finished_at=now, message=f"{kind.value} {status.value}")
    if verdict == "inconclusive":
        outcome = CheckOutcome(check=kind.value, kind=kind, status=CheckStatus.FAILED, severity=Severity.WARNING,
                               started_at=now, finished_at=now, message="not decided", verdict=verdict)
    return outcome


@pytest.mark.parametrize(("outcome", "challenger", "expected"), [
    (_outcome(CheckKind.MODEL, CheckStatus.FAILED, Severity.ERROR), None, EvaluationClass.MODEL),
    (_outcome(CheckKind.FAIRNESS, CheckStatus.FAILED, Severity.ERROR), None, EvaluationClass.MODEL),
    (_outcome(CheckKind.MODEL, CheckStatus.PASSED, Severity.ERROR), None, EvaluationClass.PASSED),
    (_outcome(CheckKind.CANARY, CheckStatus.PASSED, Severity.ERROR), "challenger", EvaluationClass.CANARY),
    (_outcome(CheckKind.CANARY, CheckStatus.FAILED, Severity.ERROR), "challenger", EvaluationClass.CANARY),
    (_outcome(CheckKind.CANARY, CheckStatus.ERROR, Severity.ERROR), "challenger", EvaluationClass.CANARY),
    (_outcome(CheckKind.CANARY, CheckStatus.FAILED, Severity.WARNING, verdict="inconclusive"), "challenger",
     EvaluationClass.IGNORED),
], ids=lambda v: getattr(v, "value", None) or getattr(v, "message", None) or str(v))
def test_a_model_judgement_means_the_same_in_both_hosts(
    outcome: CheckOutcome, challenger: str | None, expected: EvaluationClass
) -> None:
    """A gate's judgement of v4 (Airflow) and the same evaluation in Dagster's check history get the same class,
    version and reason."""
    airflow = classify(model_event(outcome, check="fraud.gate:evaluation", version=4, run_id="r1",
                                   challenger=challenger), CheckRole.MODEL)
    metadata: dict[str, Any] = {MODEL_VERSION_KEY: 4}
    if challenger is not None:
        metadata |= {CHALLENGER_ALIAS_KEY: challenger, CANARY_VERDICT_KEY: outcome.verdict.value}
    entry = CheckHistoryEntry(asset_key="fraud_model", check_name="evaluation", run_id="r1",
                              status="SUCCEEDED" if outcome.passed else "FAILED", run_status="SUCCESS",
                              timestamp=outcome.finished_at, passed=outcome.passed,
                              severity="ERROR" if outcome.severity is Severity.ERROR else "WARN", outcome=outcome,
                              metadata=metadata)
    dagster = classify_dagster(entry, CheckRole.MODEL)

    assert airflow.kind is expected
    assert (airflow.kind, airflow.why, airflow.version) == (dagster.kind, dagster.why, dagster.version)
