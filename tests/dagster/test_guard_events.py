"""What one check evaluation means for the model: the model guard sensor's classification, case by case."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from guardrails.dagster import metadata as md
from guardrails.dagster._guard_events import MODEL_VERSION_KEY, CheckRole, EvaluationClass, classify
from guardrails.dagster.history import CheckHistoryEntry
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity, Verdict

AT = datetime(2026, 11, 3, tzinfo=UTC)


def entry(*, passed: bool, severity: str = "ERROR", outcome: CheckOutcome | None = None, target: int | None = None,
          **metadata: object) -> CheckHistoryEntry:
    return CheckHistoryEntry(asset_key="a", check_name="c", run_id="r", status="FAILED", run_status="SUCCESS",
                             timestamp=AT, partition="2026-11-03", passed=passed, severity=severity,
                             outcome=outcome, target_storage_id=target, metadata=metadata, execution_id=1)


def outcome(kind: CheckKind, status: CheckStatus = CheckStatus.FAILED, verdict: Verdict | None = None) -> CheckOutcome:
    result = CheckOutcome(check="c", kind=kind, status=status, severity=Severity.ERROR, started_at=AT, finished_at=AT)
    return result.evolve(verdict=verdict, severity=Severity.WARNING) if verdict is not None else result


@pytest.mark.parametrize(
    ("evaluation", "role", "expected"),
    [
        (entry(passed=True), CheckRole.DATA, EvaluationClass.PASSED),
        (entry(passed=False, **{md.ROWS_QUARANTINED_KEY: 250}), CheckRole.DATA, EvaluationClass.QUARANTINED),
        (entry(passed=False, severity="WARN", target=7, **{md.ROWS_QUARANTINED_KEY: 3}), CheckRole.DATA,
         EvaluationClass.IGNORED),  # row-level quarantine: the stored rest passed
        (entry(passed=False, outcome=outcome(CheckKind.FRESHNESS)), CheckRole.DATA, EvaluationClass.NO_BATCH),
        (entry(passed=False, severity="WARN", outcome=outcome(CheckKind.FRESHNESS)), CheckRole.DATA,
         EvaluationClass.IGNORED),
        (entry(passed=False, target=7, outcome=outcome(CheckKind.DRIFT)), CheckRole.DATA, EvaluationClass.STORED_BATCH),
        (entry(passed=False, severity="WARN", target=7), CheckRole.DATA, EvaluationClass.IGNORED),
        (entry(passed=False, target=7, outcome=outcome(CheckKind.DRIFT, CheckStatus.ERROR)), CheckRole.DATA,
         EvaluationClass.NO_BATCH),  # could not run: the batch is unjudged, not condemned
        (entry(passed=False, severity="WARN", target=7, outcome=outcome(CheckKind.DRIFT, verdict=Verdict.INSUFFICIENT)),
         CheckRole.DATA, EvaluationClass.IGNORED),
        (entry(passed=False), CheckRole.DATA, EvaluationClass.NO_BATCH),
        (entry(passed=False, severity="WARN", **{MODEL_VERSION_KEY: 4}), CheckRole.MODEL, EvaluationClass.MODEL),
        (entry(passed=False, model_version=4), CheckRole.MODEL, EvaluationClass.MODEL),
        (entry(passed=False), CheckRole.MODEL, EvaluationClass.NO_BATCH),  # no version named: blame none
    ],
)
def test_each_evaluation_gets_the_action_its_meaning_calls_for(
    evaluation: CheckHistoryEntry, role: CheckRole, expected: EvaluationClass
) -> None:
    """Quarantined or late -> hold; stored and failed -> condemn; the model's own -> its version; warnings -> none."""
    classified = classify(evaluation, role)
    assert classified.kind is expected
    if expected is EvaluationClass.MODEL:
        assert classified.version == 4  # noqa: PLR2004


def test_freshness_holds_on_no_partition() -> None:
    """A freshness failure judges the asset as a whole: its hold names no partition, so any later pass releases it."""
    stale = classify(entry(passed=False, outcome=outcome(CheckKind.FRESHNESS)), CheckRole.DATA)
    assert stale.partition is None
    assert classify(entry(passed=False, **{md.ROWS_QUARANTINED_KEY: 1}), CheckRole.DATA).partition == "2026-11-03"


def test_a_classified_evaluation_carries_its_evaluation_time() -> None:
    """The time the sensor gives `hold(at=...)` and `release_hold(at=...)` is when Dagster recorded the evaluation."""
    later = datetime(2026, 11, 3, 10, 3, tzinfo=UTC)
    evaluation = CheckHistoryEntry(asset_key="a", check_name="c", run_id="r", status="SUCCEEDED", run_status="SUCCESS",
                                   timestamp=later, partition="2026-11-03", passed=True, execution_id=2)
    assert classify(evaluation, CheckRole.DATA).at == later
    assert classify(entry(passed=False), CheckRole.DATA).at == AT
