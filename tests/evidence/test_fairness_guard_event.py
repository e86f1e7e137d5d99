"""The model guard sensor's classification treats a failing fairness check as the model's own failure."""

from __future__ import annotations

from datetime import UTC, datetime

from guardrails.dagster._guard_events import MODEL_VERSION_KEY, CheckRole, EvaluationClass, classify
from guardrails.dagster.history import CheckHistoryEntry
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity

NOW = datetime(2026, 11, 4, tzinfo=UTC)


def _entry(metadata: dict[str, object]) -> CheckHistoryEntry:
    outcome = CheckOutcome(check="fairness", kind=CheckKind.FAIRNESS, status=CheckStatus.FAILED,
                           severity=Severity.ERROR, started_at=NOW, finished_at=NOW,
                           message="selection_rate by channel: gap widened")
    return CheckHistoryEntry(asset_key="scored_transactions", check_name="fairness", run_id="r", status="SUCCEEDED",
                             run_status="SUCCESS", timestamp=NOW, partition="2026-11-04", passed=False,
                             severity="ERROR", outcome=outcome, target_storage_id=7, metadata=metadata)


def test_failing_fairness_check_watched_as_data_fails_the_version_it_names() -> None:
    """Watched among the data checks, a failed fairness check blames its model version, never the scored batch."""
    classified = classify(_entry({MODEL_VERSION_KEY: 4}), CheckRole.DATA)
    assert classified.kind is EvaluationClass.MODEL and classified.version == 4


def test_failing_fairness_check_naming_no_version_blames_none() -> None:
    """Without a version to name, the failure condemns no stored batch (fail closed, no version blamed)."""
    assert classify(_entry({}), CheckRole.DATA).kind is EvaluationClass.NO_BATCH
