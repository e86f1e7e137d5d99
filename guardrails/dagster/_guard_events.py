"""What a Dagster check evaluation means for the model: the translation of a check history entry into the core's
`GuardEvent`, classified by `guardrails.models._events` (the one rule shared with the Airflow adapter).

Dagster's facts map as follows: the evaluation's ``ERROR``/``WARN`` severity is the event's severity; a batch was
quarantined when the evaluation's metadata counts quarantined rows (``guardrails/rows_quarantined``) or names a
quarantine location; it was stored when the evaluation targets a materialization (``target_storage_id``); the
execution id orders evaluations.

Example:
    >>> from datetime import UTC, datetime
    >>> from guardrails.dagster.history import CheckHistoryEntry
    >>> entry = CheckHistoryEntry(asset_key="clean_transactions", check_name="contract", run_id="r1",
    ...     status="FAILED", run_status="FAILURE", timestamp=datetime(2026, 11, 3, tzinfo=UTC),
    ...     partition="2026-11-03", passed=False, severity="ERROR", batch_id="clean_transactions.2026-11-03",
    ...     metadata={"guardrails/rows_quarantined": 250})
    >>> classify(entry, CheckRole.DATA).kind.value
    'quarantined'
"""

from __future__ import annotations

from guardrails.dagster import metadata as md
from guardrails.dagster.history import CheckHistoryEntry
from guardrails.models._events import (
    CANARY_VERDICT_KEY,
    CHALLENGER_ALIAS_KEY,
    MODEL_VERSION_KEY,
    PLAIN_MODEL_VERSION_KEY,
    CheckRole,
    Classified,
    EvaluationClass,
    GuardEvent,
    model_version_of,
)
from guardrails.models._events import classify as classify_event
from guardrails.outcome import Severity

__all__ = [
    "CANARY_VERDICT_KEY",
    "CHALLENGER_ALIAS_KEY",
    "MODEL_VERSION_KEY",
    "PLAIN_MODEL_VERSION_KEY",
    "CheckRole",
    "Classified",
    "EvaluationClass",
    "classify",
    "guard_event",
    "model_version_of",
]

_SEVERITY = {"ERROR": Severity.ERROR, "WARN": Severity.WARNING}


def guard_event(entry: CheckHistoryEntry) -> GuardEvent:
    """The core's view of one completed evaluation (`entry.passed` is not None)."""
    rows = entry.metadata.get(md.ROWS_QUARANTINED_KEY)
    counted = isinstance(rows, int) and not isinstance(rows, bool) and rows > 0
    return GuardEvent(
        check=f"{entry.asset_key}:{entry.check_name}",
        passed=bool(entry.passed),
        at=entry.timestamp,
        severity=_SEVERITY.get(entry.severity or ""),
        partition=entry.partition,
        run_id=entry.run_id or None,
        outcome=entry.outcome,
        quarantined=counted or md.QUARANTINE_LOCATION_KEY in entry.metadata,
        stored=entry.target_storage_id is not None,
        batch_id=entry.batch_id,
        description=entry.description,
        metadata=entry.metadata,
        seq=entry.execution_id or 0,
    )


def classify(entry: CheckHistoryEntry, role: CheckRole) -> Classified:
    """Classify one completed evaluation (`entry.passed` is not None) of a check with `role`."""
    return classify_event(guard_event(entry), role)
