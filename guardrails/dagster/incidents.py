"""Incidents in Dagster: gather the records from an instance, attach reports to assets, alert, trip the breaker.

The core (`guardrails.incidents`) does the thinking; this module reads Dagster's records through
`guardrails.dagster.history` (the one place that touches the non-public check-history API) and the public
instance API (run records, run events), and writes back through ``instance.report_runless_asset_event``:

* `gather_incident_records`: check evaluations (with the contract file and quarantine store they recorded), the
  runs they failed in (what each planned and did not materialize, when each step started), quarantine
  manifests, alias moves (when a `ModelGuard` is given), breaker trips. A held batch that no recorded failure
  tells of (the database failed during its run) becomes a failure read from its manifest
  (`evaluation_from_manifest`), so the report and the alerts still see it.
* `attach_incident_report`: an `AssetObservation` on the guarded asset whose metadata holds the report as
  Markdown (``guardrails/incident_report``), so it shows in the UI next to the check history.
* `watch_incidents`: one pass of the loop: judge the breaker, build the report, attach each incident's report
  once when it opens and once when it resolves, send open/resolve messages once. `build_incident_sensor` runs it every minute.

Example:
    >>> import dagster as dg
    >>> with dg.instance_for_test() as instance:
    ...     gather_incident_records(instance).evaluations
    ()
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from guardrails.dagster._scope import asset_partition_of_source
from guardrails.dagster.breaker import Feed, feeding_instigators, repository_origin_from_context, trip_breaker_if_needed
from guardrails.dagster.history import CheckHistoryEntry, check_names, read_check_history  # noqa: F401
from guardrails.incidents._gather import (
    assemble_incident_records,
    contract_paths,
    evaluation_from_history,
    manifest_evaluation,
)
from guardrails.incidents import (
    BreakerPolicy,
    BreakerTrip,
    Evaluation,
    Incident,
    IncidentRecords,
    IncidentReport,
    IncidentState,
    IncidentStateStore,
    Notification,
    RunSummary,
    WebhookNotifier,
    build_incident_report,
    incident_markdown,
)
from guardrails.quarantine import QuarantineManifest, QuarantineStore


INCIDENT_ID_KEY = "guardrails/incident_id"
INCIDENT_STATE_KEY = "guardrails/incident_state"
INCIDENT_REPORT_KEY = "guardrails/incident_report"
INCIDENT_TAG = "guardrails/incident"
WEBHOOK_ENV = "GUARDRAILS_WEBHOOK_URL"




def evaluation_from_manifest(
    manifest: QuarantineManifest, check_name: str, run_started_at: datetime | None = None
) -> Evaluation | None:
    """The failure a guarded asset's quarantine manifest tells of, for when no failed evaluation was recorded
    (the instance's database failed during the run, after the batch was kept); None for a batch a guarded asset
    did not quarantine (its source names no Dagster asset). Asset and partition come from the manifest's source
    (``dagster:<asset>[<partition>]``), the time from its guard-time outcome.
    """
    named = asset_partition_of_source(manifest.source)
    if named is None:
        return None
    return manifest_evaluation(manifest, named[0], named[1], check_name, run_started_at)


def guarded_asset_keys(instance: dg.DagsterInstance) -> list[str]:
    """Assets with any check execution on record (user strings, sorted)."""
    keys = [key.to_user_string() for key in instance.get_asset_keys()]
    return sorted(k for k in keys if check_names(instance, k))


def run_summary(instance: dg.DagsterInstance, run_id: str) -> RunSummary | None:
    """What the run planned to materialize, what it did, and when each asset's step started, from its event log
    (None if the run is gone)."""
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        return None
    planned: list[str] = []
    done: list[str] = []
    step_of: dict[str, str] = {}
    step_started: dict[str, datetime] = {}
    events = instance.get_records_for_run(
        run_id, of_type={dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, dg.DagsterEventType.ASSET_MATERIALIZATION,
                         dg.DagsterEventType.STEP_START}
    ).records
    for event in events:
        entry = event.event_log_entry
        dagster_event = entry.dagster_event
        if dagster_event is not None and dagster_event.event_type is dg.DagsterEventType.STEP_START and entry.step_key:
            step_started.setdefault(entry.step_key, datetime.fromtimestamp(entry.timestamp, tz=UTC))
            continue
        if dagster_event is None or dagster_event.asset_key is None:
            continue
        name = dagster_event.asset_key.to_user_string()
        if dagster_event.event_type is dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED and entry.step_key:
            step_of.setdefault(name, entry.step_key)
        target = done if dagster_event.event_type is dg.DagsterEventType.ASSET_MATERIALIZATION else planned
        if name not in target:
            target.append(name)
    return RunSummary(
        run_id=run_id,
        status=record.dagster_run.status.value,
        started_at=_time(record.start_time) or record.create_timestamp,
        ended_at=_time(record.end_time),
        planned_assets=tuple(planned),
        materialized_assets=tuple(done),
        step_started_at={asset: step_started[step] for asset, step in step_of.items() if step in step_started},
    )


def gather_incident_records(
    instance: dg.DagsterInstance,
    assets: Iterable[str | dg.AssetKey] | None = None,
    *,
    store: QuarantineStore | None = None,
    state: IncidentStateStore | None = None,
    model_guard: Any | None = None,
    contracts_dir: str | os.PathLike[str] | None = None,
    limit: int = 200,
) -> IncidentRecords:
    """Everything an incident report needs, read from the instance and the stores.

    Args:
        instance: the Dagster instance (``DagsterInstance.get()`` reads ``$DAGSTER_HOME``).
        assets: the assets to look at (default: every asset with check executions).
        store: the quarantine store whose manifests belong in the report.
        state: the incident state store (breaker trips).
        model_guard: a `guardrails.models.ModelGuard` whose alias history belongs in the report. When the
            registry cannot be read the records carry a note saying so instead of the history: the rest of the
            report must not wait on MLflow.
        contracts_dir: where contract files live, so release commands can name them.
        limit: latest executions read per check.
    """
    keys = [_user(a) for a in assets] if assets is not None else guarded_asset_keys(instance)
    entries = [entry for key in keys for entry in read_check_history(instance, key, limit=limit)]
    return assemble_incident_records(
        entries, tuple(store.list()) if store is not None else (),
        asset_of_manifest=lambda manifest: asset_partition_of_source(manifest.source),
        run_summary=lambda run_id: run_summary(instance, run_id),
        assets=keys if assets is not None else None,
        store=store, state=state, model_guard=model_guard, contracts_dir=contracts_dir,
    )


def attach_incident_report(instance: dg.DagsterInstance, incident: Incident) -> None:
    """Record the incident on its asset: an observation carrying the report as Markdown metadata."""
    instance.report_runless_asset_event(
        dg.AssetObservation(
            asset_key=dg.AssetKey.from_user_string(incident.asset_key),
            description=f"Incident {incident.id} {incident.state.value}: {incident.title}",
            metadata={
                INCIDENT_ID_KEY: dg.MetadataValue.text(incident.id),
                INCIDENT_STATE_KEY: dg.MetadataValue.text(incident.state.value),
                INCIDENT_REPORT_KEY: dg.MetadataValue.md(incident_markdown(incident)),
            },
            tags={INCIDENT_TAG: incident.id},
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentWatch:
    """What one pass of `watch_incidents` saw and did."""

    report: IncidentReport
    attached: tuple[str, ...] = ()
    notifications: tuple[Notification, ...] = ()
    trips: tuple[BreakerTrip, ...] = ()


def watch_incidents(
    instance: dg.DagsterInstance,
    assets: Iterable[str | dg.AssetKey] | None = None,
    *,
    state: IncidentStateStore,
    store: QuarantineStore | None = None,
    notifier: WebhookNotifier | None = None,
    policy: BreakerPolicy | None = None,
    feeds: Mapping[str, Sequence[Feed]] | None = None,
    repository_origin: Any | None = None,
    model_guard: Any | None = None,
    contracts_dir: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
) -> IncidentWatch:
    """One pass: trip breakers that must trip, build the report, attach reports on open/resolve, notify once.

    Safe to call on every sensor tick: attachments and messages are remembered in `state`, a breaker trips
    once until re-armed, and a webhook that is down never raises (the message is retried next pass).
    """
    now = now or datetime.now(UTC)
    records = gather_incident_records(instance, assets, store=store, state=state, model_guard=model_guard,
                                      contracts_dir=contracts_dir)
    trips: list[BreakerTrip] = []
    if policy is not None:
        for asset in sorted({e.asset_key for e in records.evaluations}):
            trip = trip_breaker_if_needed(
                instance, asset, records.evaluations, policy=policy, state=state,
                feeds=(feeds or {}).get(asset, ()), repository_origin=repository_origin, now=now,
            )
            if trip is not None:
                trips.append(trip)
        if trips:
            records = replace(records, breaker_trips=state.breaker_trips())
    report = build_incident_report(records, now=now)
    attached = []
    for incident in report.incidents:
        # Once when it opens, once more when it resolves (the final report, for the postmortem), never per tick.
        key = incident.id if incident.state is IncidentState.OPEN else f"{incident.id}:resolved"
        if incident.state is IncidentState.RESOLVED and not state.attached(incident.id):
            continue  # resolved before anyone watched: nothing was shown open, so there is nothing to close
        if not state.attached(key):
            attach_incident_report(instance, incident)
            state.mark_attached(key, now)
            attached.append(key)
    notifications = notifier.notify(report, now=now) if notifier is not None else ()
    return IncidentWatch(report=report, attached=tuple(attached), notifications=notifications, trips=tuple(trips))


def build_incident_sensor(
    assets: Sequence[str | dg.AssetKey],
    *,
    name: str = "guardrails_incidents",
    state_dir: str | os.PathLike[str] | None = None,
    quarantine_location: str | None = None,
    webhook_url: str | None = None,
    policy: BreakerPolicy | None = None,
    minimum_interval_seconds: int = 60,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """A sensor that runs `watch_incidents` for `assets` every `minimum_interval_seconds`.

    The webhook is `webhook_url`, else ``$GUARDRAILS_WEBHOOK_URL`` (none: no messages); with a `policy` the
    breaker stops the schedules and sensors of this code location that feed a tripped asset.
    """
    keys = [_user(a) for a in assets]

    @dg.sensor(name=name, minimum_interval_seconds=minimum_interval_seconds, default_status=default_status,
               description=f"Incident reports, alerts and circuit breaker for {', '.join(keys)}")
    def incident_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        state = IncidentStateStore(state_dir)
        url = webhook_url or os.environ.get(WEBHOOK_ENV)
        feeds = ({k: tuple(f for f in feeding_instigators(context.repository_def, k) if f.name != name) for k in keys}
                 if policy is not None and context.repository_def is not None else {})
        watch = watch_incidents(
            context.instance, keys, state=state,
            store=QuarantineStore(quarantine_location) if quarantine_location else None,
            notifier=WebhookNotifier(url, state) if url else None,
            policy=policy, feeds=feeds, repository_origin=repository_origin_from_context(context),
        )
        opened = len(watch.report.open)
        return dg.SkipReason(f"{opened} open incident(s); attached {len(watch.attached)}, "
                             f"sent {sum(n.delivered for n in watch.notifications)} message(s), "
                             f"tripped {len(watch.trips)} breaker(s)")

    return incident_sensor


def _user(asset: str | dg.AssetKey) -> str:
    return asset.to_user_string() if isinstance(asset, dg.AssetKey) else asset


def _time(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value is not None else None
