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

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from guardrails.contract import load_contract_file
from guardrails.dagster._scope import asset_partition_of_source
from guardrails.dagster.breaker import Feed, feeding_instigators, repository_origin_from_context, trip_breaker_if_needed
from guardrails.dagster.history import CheckHistoryEntry, check_names, read_check_history
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
from guardrails.errors import ContractError
from guardrails.models import AliasMove, RegistryError
from guardrails.quarantine import QuarantineManifest, QuarantineState, QuarantineStore

logger = logging.getLogger("guardrails.incidents")

INCIDENT_ID_KEY = "guardrails/incident_id"
INCIDENT_STATE_KEY = "guardrails/incident_state"
INCIDENT_REPORT_KEY = "guardrails/incident_report"
INCIDENT_TAG = "guardrails/incident"
WEBHOOK_ENV = "GUARDRAILS_WEBHOOK_URL"




def evaluation_from_history(entry: CheckHistoryEntry, run_started_at: datetime | None = None) -> Evaluation | None:
    """Our record of one check execution; None while it has no verdict yet (planned, or its run died first).

    The time is when our check finished (the outcome's `finished_at`, microsecond precision) when the
    evaluation carries an outcome: the history entry's timestamp is when Dagster *created* the row, which for a
    check planned by a run is the run's start, and SQL storages keep it to the second only. The contract file
    and the quarantine store are read from the evaluation's metadata when it recorded them.
    """
    if entry.passed is None:
        return None
    return Evaluation(
        asset_key=entry.asset_key,
        check_name=entry.check_name,
        timestamp=entry.outcome.finished_at if entry.outcome is not None else entry.timestamp,
        passed=bool(entry.passed),
        run_id=entry.run_id or "",
        run_status=entry.run_status,
        run_started_at=run_started_at,
        outcome=entry.outcome,
        batch_id=entry.batch_id,
        partition=entry.partition,
        severity=entry.severity,
        description=entry.description,
        contract_path=entry.contract_path,
        quarantine_store=entry.quarantine_store,
        release=entry.released_to is not None,
    )


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
    asset, partition = named
    return Evaluation(
        asset_key=asset,
        check_name=check_name,
        timestamp=manifest.outcome.finished_at,
        passed=False,
        run_id=manifest.run_id or "",
        run_started_at=run_started_at,
        outcome=manifest.outcome,
        batch_id=manifest.batch_id,
        partition=partition,
        severity="ERROR",
        description=manifest.reason,
        from_manifest=True,
    )


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


def contract_paths(directory: str | os.PathLike[str] | None) -> dict[str, str]:
    """Contract id -> file, for the ``*.odcs.yaml`` files in `directory` (unreadable files are skipped: the
    report then shows a placeholder instead of a path, which is all they are used for)."""
    if directory is None or not Path(directory).is_dir():
        return {}
    found: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.odcs.yaml")):
        try:
            contract_id = load_contract_file(path).id  # bounded reader (a YAML bomb is refused); any number of tables
        except (OSError, ContractError) as exc:
            logger.debug("skipping %s: %s", path, exc)
            continue
        found.setdefault(contract_id, str(path))
    return found


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
    manifests = tuple(store.list()) if store is not None else ()
    unrecorded = _unrecorded_quarantines(manifests, entries, keys if assets is not None else None)
    runs: dict[str, RunSummary] = {}
    failed_run_ids = [e.run_id for e in entries if e.run_id and e.passed is False]
    for run_id in dict.fromkeys([*failed_run_ids, *(m.run_id for m, _ in unrecorded if m.run_id)]):
        summary = run_summary(instance, run_id)
        if summary is not None:
            runs[run_id] = summary
    evaluations = []
    for entry in entries:
        started = runs[entry.run_id].started_at if entry.run_id in runs else None
        evaluation = evaluation_from_history(entry, started)
        if evaluation is not None:
            evaluations.append(evaluation)
    for manifest, asset in unrecorded:
        started = runs[manifest.run_id].started_at if manifest.run_id in runs else None
        derived = evaluation_from_manifest(manifest, _contract_check_name(manifest, asset, evaluations), started)
        if derived is not None:
            evaluations.append(derived)
    alias_moves, notes = _alias_history(model_guard)
    return IncidentRecords(
        evaluations=tuple(evaluations),
        manifests=manifests,
        alias_moves=alias_moves,
        runs=tuple(runs.values()),
        breaker_trips=state.breaker_trips() if state is not None else (),
        model_name=getattr(model_guard, "name", None),
        contract_paths=contract_paths(contracts_dir),
        quarantine_location=_location(store),
        notes=notes,
    )


def _unrecorded_quarantines(
    manifests: Sequence[QuarantineManifest], entries: Sequence[CheckHistoryEntry], assets: Sequence[str] | None,
) -> list[tuple[QuarantineManifest, str]]:
    """Batches still held whose failure no recorded evaluation tells of (none names the batch or its run), each
    with its asset.

    Only batches a guarded asset quarantined (of `assets`, when given) count: the manifest must say which.
    """
    failed = [e for e in entries if e.passed is False]
    named = {e.batch_id for e in failed if e.batch_id}
    by_run = {(e.asset_key, e.run_id) for e in failed if e.run_id}
    unrecorded = []
    for manifest in manifests:
        source = asset_partition_of_source(manifest.source)
        if manifest.state is not QuarantineState.QUARANTINED or source is None:
            continue
        asset = source[0]
        if assets is not None and asset not in assets:
            continue
        if manifest.batch_id in named or (asset, manifest.run_id) in by_run:
            continue
        unrecorded.append((manifest, asset))
    return unrecorded


def _contract_check_name(manifest: QuarantineManifest, asset: str, evaluations: Sequence[Evaluation]) -> str:
    """The check that judges the manifest's contract on `asset`: the latest evaluation of that asset whose
    outcome names the same contract says which; without one, the outcome's own check name."""
    for evaluation in sorted(evaluations, key=lambda e: e.timestamp, reverse=True):
        outcome = evaluation.outcome
        if evaluation.asset_key == asset and outcome is not None and outcome.contract_id == manifest.contract_id:
            return evaluation.check_name
    return manifest.outcome.check


def _alias_history(model_guard: Any | None) -> tuple[tuple[AliasMove, ...], tuple[str, ...]]:
    """The guard's alias history, or none and a note naming the cause when the registry cannot be read."""
    if model_guard is None:
        return (), ()
    try:
        return tuple(model_guard.history()), ()
    except RegistryError as exc:
        return (), (f"model alias history unavailable: {exc}",)


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


def _location(store: QuarantineStore | None) -> str | None:
    if store is None:
        return None
    uri = store.uri
    return uri.removeprefix("file://") if uri.startswith("file://") else uri
