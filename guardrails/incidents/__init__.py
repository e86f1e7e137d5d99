"""Incident response: drafted incident reports from the record, alerts on open/resolve, a circuit breaker.

Pure core (no Dagster, no MLflow client): adapters gather plain records (check evaluations, runs, quarantine
manifests, alias moves, breaker trips) into `IncidentRecords` (`assemble_incident_records` does it from any host's
check history entries); `build_incident_report` groups the failures of
one check on one asset into incidents (open until every partition that failed has passed again) and describes
each (SBAR summary, timeline, impact, the checks that fired, ranked hypotheses, time to detect/contain, exact
follow-up commands);
`report_markdown`/`report_json` render it. `WebhookNotifier` announces each incident once when it opens and
once when it resolves; `judge_breaker` decides when an asset's feeds must stop; `IncidentStateStore` keeps what
was sent and tripped.

Example:
    >>> from datetime import datetime, timezone
    >>> day = lambda d: datetime(2026, 11, d, 6, tzinfo=timezone.utc)
    >>> evaluations = [Evaluation(asset_key="clean_transactions", check_name="transactions_contract",
    ...                           timestamp=day(d), passed=ok, run_id=f"run{d}")
    ...                for d, ok in ((2, True), (3, False), (4, False), (5, True))]
    >>> report = build_incident_report(IncidentRecords(evaluations=tuple(evaluations)), now=day(6))
    >>> [(i.state.value, i.impact.failed_evaluations, str(i.time_to_resolve)) for i in report.incidents]
    [('resolved', 2, '2 days, 0:00:00')]
"""

from guardrails.incidents._breaker import BreakerPolicy, BreakerVerdict, judge_breaker
from guardrails.incidents._gather import (
    AssetOfManifest,
    assemble_incident_records,
    contract_paths,
    evaluation_from_history,
    manifest_evaluation,
)
from guardrails.incidents._build import build_incident_report, format_duration, group_failures, incident_id
from guardrails.incidents._hypotheses import rank_hypotheses
from guardrails.incidents._notify import Notification, WebhookNotifier
from guardrails.incidents._records import BreakerTrip, Evaluation, IncidentRecords, RunSummary, StoppedInstigator
from guardrails.incidents._render import incident_markdown, report_json, report_markdown
from guardrails.incidents._state import DEFAULT_STATE_DIR, STATE_ENV, IncidentStateStore
from guardrails.incidents._types import (
    Cause,
    EventKind,
    FiredCheck,
    FollowUp,
    Hypothesis,
    Impact,
    Incident,
    IncidentReport,
    IncidentState,
    Sbar,
    TimelineEvent,
)

__all__ = [
    "AssetOfManifest",
    "DEFAULT_STATE_DIR",
    "STATE_ENV",
    "BreakerPolicy",
    "BreakerTrip",
    "BreakerVerdict",
    "Cause",
    "Evaluation",
    "EventKind",
    "FiredCheck",
    "FollowUp",
    "Hypothesis",
    "Impact",
    "Incident",
    "IncidentRecords",
    "IncidentReport",
    "IncidentState",
    "IncidentStateStore",
    "Notification",
    "RunSummary",
    "Sbar",
    "StoppedInstigator",
    "TimelineEvent",
    "WebhookNotifier",
    "assemble_incident_records",
    "build_incident_report",
    "contract_paths",
    "evaluation_from_history",
    "format_duration",
    "group_failures",
    "incident_id",
    "incident_markdown",
    "judge_breaker",
    "manifest_evaluation",
    "rank_hypotheses",
    "report_json",
    "report_markdown",
]
