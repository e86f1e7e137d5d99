"""The incident report's vocabulary: frozen results, each with a JSON form the CLI's ``--format json`` prints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from guardrails._time import iso_or_none


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


class IncidentState(StrEnum):
    """Open until every partition that failed in it has passed the same check again."""

    OPEN = "open"
    RESOLVED = "resolved"


class EventKind(StrEnum):
    """What a timeline entry records."""

    FIRST_FAILURE = "first_failure"
    FAILURE = "failure"
    PASSED = "passed"
    QUARANTINED = "quarantined"
    RELEASED = "released"
    PURGED = "purged"
    ALIAS_PINNED = "alias_pinned"
    ALIAS_UNPINNED = "alias_unpinned"
    ALIAS_PROMOTED = "alias_promoted"
    BREAKER_TRIPPED = "breaker_tripped"
    BREAKER_REARMED = "breaker_rearmed"


class Cause(StrEnum):
    """Closed set of likely causes the evidence can point at."""

    SCHEMA_CHANGE = "schema_change"
    NULL_FLOOD = "null_flood"
    UNKNOWN_CATEGORIES = "unknown_categories"
    OUT_OF_RANGE = "out_of_range"
    DUPLICATES = "duplicates"
    FORMAT_CHANGE = "format_change"
    VOLUME_CHANGE = "volume_change"
    FUTURE_TIMESTAMPS = "future_timestamps"
    STALE_SOURCE = "stale_source"
    DRIFT = "drift"
    TRAINING_SERVING_SKEW = "training_serving_skew"
    MODEL_REGRESSION = "model_regression"
    CONCEPT_DRIFT = "concept_drift"
    UNREADABLE_INPUT = "unreadable_input"


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineEvent:
    """One dated fact in the incident's story."""

    at: datetime
    kind: EventKind
    summary: str
    run_id: str | None = None
    batch_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "kind": self.kind.value, "summary": self.summary,
                "run_id": self.run_id, "batch_id": self.batch_id}


@dataclass(frozen=True, slots=True, kw_only=True)
class Impact:
    """What the incident cost, in numbers, and what is still held back."""

    failed_evaluations: int
    failed_runs: int
    partitions: tuple[str, ...] = ()
    batches_quarantined: tuple[str, ...] = ()
    rows_quarantined: int = 0
    batches_still_quarantined: tuple[str, ...] = ()
    batches_released: tuple[str, ...] = ()
    downstream_not_materialized: tuple[str, ...] = ()
    model_versions_pinned: tuple[str, ...] = ()
    champion_pinned_for: timedelta | None = None
    champion_still_pinned: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "failed_evaluations": self.failed_evaluations,
            "failed_runs": self.failed_runs,
            "partitions": list(self.partitions),
            "batches_quarantined": list(self.batches_quarantined),
            "rows_quarantined": self.rows_quarantined,
            "batches_still_quarantined": list(self.batches_still_quarantined),
            "batches_released": list(self.batches_released),
            "downstream_not_materialized": list(self.downstream_not_materialized),
            "model_versions_pinned": list(self.model_versions_pinned),
            "champion_pinned_seconds": _seconds(self.champion_pinned_for),
            "champion_still_pinned": self.champion_still_pinned,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FiredCheck:
    """One rule (or a whole check that could not run) that failed during the incident, with its key numbers.

    `times` counts the failing evaluations it failed in; `failing_rows` is the most seen in one evaluation;
    `observed`/`expected` are from the latest failure; `examples` are offending values from the samples.
    """

    check_name: str
    rule_id: str
    kind: str
    columns: tuple[str, ...]
    severity: str
    times: int
    failing_rows: int = 0
    rows: int | None = None
    observed: float | None = None
    expected: str = ""
    message: str = ""
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_name": self.check_name, "rule_id": self.rule_id, "kind": self.kind,
            "columns": list(self.columns), "severity": self.severity, "times": self.times,
            "failing_rows": self.failing_rows, "rows": self.rows, "observed": self.observed,
            "expected": self.expected, "message": self.message, "examples": list(self.examples),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Hypothesis:
    """A likely cause with a score in [0, 1] (share of the evidence it explains, weighted) and the evidence."""

    cause: Cause
    title: str
    score: float
    evidence: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"cause": self.cause.value, "title": self.title, "score": self.score, "evidence": list(self.evidence)}


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUp:
    """A next step; `command` is exact and copy-pastable when the step is a command."""

    action: str
    command: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "command": self.command}


@dataclass(frozen=True, slots=True, kw_only=True)
class Sbar:
    """Situation, background, assessment, recommendation: the summary an on-call engineer reads first."""

    situation: str
    background: str
    assessment: str
    recommendation: str

    def to_dict(self) -> dict[str, Any]:
        return {"situation": self.situation, "background": self.background,
                "assessment": self.assessment, "recommendation": self.recommendation}


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """Failures of one check on one asset, any partition, from the first failure to the pass that closed it.

    `started_at` is when the bad batch entered the pipeline (its run's start, else its check's start);
    `detected_at` the first failing evaluation; `contained_at` the first action that kept the bad data or model
    from consumers (a quarantine, a pin, the breaker); `step_started_at` when the step that produced the first
    bad batch started, from which time to contain is measured (else `started_at`); `resolved_at` the pass that
    left no failed partition (None while open).
    """

    id: str
    asset_key: str
    check_name: str
    state: IncidentState
    severity: str
    started_at: datetime
    detected_at: datetime
    contained_at: datetime | None
    resolved_at: datetime | None
    last_failure_at: datetime
    sbar: Sbar
    timeline: tuple[TimelineEvent, ...]
    impact: Impact
    checks: tuple[FiredCheck, ...]
    hypotheses: tuple[Hypothesis, ...]
    actions: tuple[FollowUp, ...]
    failing_runs: tuple[str, ...] = ()
    breaker_tripped: bool = False
    step_started_at: datetime | None = None

    @property
    def title(self) -> str:
        return f"{self.check_name} failing on {self.asset_key}"

    @property
    def time_to_detect(self) -> timedelta:
        return self.detected_at - self.started_at

    @property
    def time_to_contain(self) -> timedelta | None:
        if self.contained_at is None:
            return None
        return self.contained_at - (self.step_started_at or self.started_at)

    @property
    def time_to_resolve(self) -> timedelta | None:
        return self.resolved_at - self.started_at if self.resolved_at is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "asset_key": self.asset_key,
            "check_name": self.check_name,
            "state": self.state.value,
            "severity": self.severity,
            "started_at": self.started_at.isoformat(),
            "detected_at": self.detected_at.isoformat(),
            "step_started_at": iso_or_none(self.step_started_at),
            "contained_at": iso_or_none(self.contained_at),
            "resolved_at": iso_or_none(self.resolved_at),
            "last_failure_at": self.last_failure_at.isoformat(),
            "time_to_detect_seconds": _seconds(self.time_to_detect),
            "time_to_contain_seconds": _seconds(self.time_to_contain),
            "time_to_resolve_seconds": _seconds(self.time_to_resolve),
            "breaker_tripped": self.breaker_tripped,
            "failing_runs": list(self.failing_runs),
            "sbar": self.sbar.to_dict(),
            "timeline": [e.to_dict() for e in self.timeline],
            "impact": self.impact.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
            "hypotheses": [h.to_dict() for h in self.hypotheses],
            "actions": [a.to_dict() for a in self.actions],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentReport:
    """The incidents found in the records, newest first, what the report covered, and what it could not read."""

    generated_at: datetime
    incidents: tuple[Incident, ...]
    asset: str | None = None
    since: datetime | None = None
    notes: tuple[str, ...] = ()

    @property
    def open(self) -> tuple[Incident, ...]:
        return tuple(i for i in self.incidents if i.state is IncidentState.OPEN)

    def incident(self, incident_id: str) -> Incident:
        """The incident with this id; KeyError naming the known ids otherwise."""
        for item in self.incidents:
            if item.id == incident_id:
                return item
        raise KeyError(f"no incident {incident_id!r}; known: {', '.join(i.id for i in self.incidents) or 'none'}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "asset": self.asset,
            "since": iso_or_none(self.since),
            "open": len(self.open),
            "notes": list(self.notes),
            "incidents": [i.to_dict() for i in self.incidents],
        }
