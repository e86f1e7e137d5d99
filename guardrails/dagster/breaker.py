"""The circuit breaker in Dagster: stop the schedules and sensors that feed a failing asset, re-arm on request.

The judgement is the core's (`guardrails.incidents.judge_breaker`); this module finds the feeds and flips
their instigator state in the instance (through `_compat`), as the UI's stop button does. Dagster keeps a
schedule's or sensor's on/off switch as an `InstigatorState` keyed by its remote origin (code location +
repository + name) and looked up by its selector id; a stored ``STOPPED`` state overrides ``default_status`` in
code, so a stopped feed stays stopped across code reloads and daemon restarts. The remote repository origin comes
from a sensor's context (`code_location_origin`, `repository_name`) or from a loaded workspace
(`RemoteRepository.get_remote_origin()`).

Re-arming restores each stopped feed to what it was (running, or back to its default in code) and resets a
schedule's start time to now, so the scheduler does not backfill the ticks it missed while the breaker was open.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

from guardrails.dagster import _compat as host
from guardrails.incidents import (
    BreakerPolicy,
    BreakerTrip,
    Evaluation,
    IncidentStateStore,
    StoppedInstigator,
    judge_breaker,
)

BREAKER_KEY = "guardrails/breaker"
"""Metadata key of the observation recording a trip or a re-arm (value: ``tripped`` / ``rearmed``)."""
DECLARED_IN_CODE = host.DECLARED_IN_CODE


@dataclass(frozen=True, slots=True, kw_only=True)
class Feed:
    """A schedule or sensor whose runs materialize an asset."""

    kind: str  # "schedule" | "sensor"
    name: str
    running_by_default: bool
    cron_schedule: str | Sequence[str] | None = None
    min_interval: int | None = None
    sensor_type: object | None = None


def feeding_instigators(definitions: dg.Definitions | dg.RepositoryDefinition, asset: dg.AssetKey | str) -> tuple[Feed, ...]:
    """The schedules and sensors whose target job (or asset selection) includes `asset`, by name.

    An automation-condition sensor counts only for assets that have an automation condition.
    """
    repository = definitions.get_repository_def() if isinstance(definitions, dg.Definitions) else definitions
    key = asset if isinstance(asset, dg.AssetKey) else dg.AssetKey.from_user_string(asset)
    jobs = {job.name for job in repository.get_all_jobs() if key in job.asset_layer.selected_asset_keys}
    feeds: list[Feed] = []
    for schedule in repository.schedule_defs:
        if schedule.job_name in jobs:
            feeds.append(Feed(kind="schedule", name=schedule.name, cron_schedule=schedule.cron_schedule,
                              running_by_default=schedule.default_status is dg.DefaultScheduleStatus.RUNNING))
    for sensor in repository.sensor_defs:
        targets = {t.job_name for t in sensor.targets if getattr(t, "job_name", None)}
        selection = sensor.asset_selection
        selected = selection is not None and key in selection.resolve(repository.asset_graph, allow_missing=True)
        if selected and host.is_automation_sensor(sensor):
            # An automation sensor selects everything but only materializes assets with an automation condition;
            # stopping it for any other asset would halt the whole location's declarative automation.
            selected = repository.asset_graph.get(key).automation_condition is not None
        if targets & jobs or selected:
            feeds.append(Feed(kind="sensor", name=sensor.name, min_interval=sensor.minimum_interval_seconds,
                              sensor_type=sensor.sensor_type,
                              running_by_default=sensor.default_status is dg.DefaultSensorStatus.RUNNING))
    return tuple(feeds)


def repository_origin_from_context(context: dg.SensorEvaluationContext) -> host.RepositoryOrigin | None:
    """The repository origin the daemon knows this sensor's code location by (None when run outside a daemon)."""
    if context.code_location_origin is None or context.repository_name is None:
        return None
    return host.repository_origin(context.code_location_origin, context.repository_name)


def stop_feeds(
    instance: dg.DagsterInstance, repository_origin: host.RepositoryOrigin, feeds: Iterable[Feed]
) -> tuple[StoppedInstigator, ...]:
    """Stop every feed that is running (stored as running, or running by default in code); return what stopped."""
    stopped = []
    for feed in feeds:
        origin_id, selector_id = host.instigator_ids(repository_origin, feed.name)
        status = host.stored_instigator_status(instance, origin_id, selector_id)
        running = status == host.RUNNING or (status == host.DECLARED_IN_CODE and feed.running_by_default)
        if not running:
            continue
        host.stop_instigator(instance, repository_origin, feed.name, schedule=feed.kind == "schedule",
                             cron_schedule=feed.cron_schedule, min_interval=feed.min_interval,
                             sensor_type=feed.sensor_type)
        stopped.append(StoppedInstigator(kind=feed.kind, name=feed.name, origin_id=origin_id,
                                         selector_id=selector_id, previous_status=status))
    return tuple(stopped)


def trip_breaker_if_needed(
    instance: dg.DagsterInstance,
    asset: str,
    evaluations: Sequence[Evaluation],
    *,
    policy: BreakerPolicy,
    state: IncidentStateStore,
    feeds: Sequence[Feed] = (),
    repository_origin: host.RepositoryOrigin | None = None,
    now: datetime | None = None,
) -> BreakerTrip | None:
    """Trip `asset`'s breaker when `policy` says so and it is not already open; returns the new trip.

    The trip stops `feeds` (needs `repository_origin`; without it nothing is stopped and the trip says so),
    is stored in `state` (so the incident report shows it and it trips once), and is recorded as an
    observation on the asset.
    """
    if state.active_trip(asset) is not None:
        return None
    verdict = judge_breaker(policy, [e for e in evaluations if e.asset_key == asset], after=state.last_rearm(asset))
    if not verdict.tripped:
        return None
    stopped = stop_feeds(instance, repository_origin, feeds) if repository_origin is not None else ()
    reason = verdict.reason if repository_origin is not None or not feeds else (
        f"{verdict.reason}; feeds not stopped: no code location origin (run it from a sensor or with a workspace)")
    trip = BreakerTrip(asset_key=asset, tripped_at=now or datetime.now(UTC), reason=reason, stopped=stopped)
    if not state.record_trip(trip):
        return None
    _observe(instance, asset, "tripped", f"Circuit breaker tripped: {reason}; stopped "
             + (", ".join(f"{s.kind} {s.name}" for s in stopped) or "nothing"))
    return trip


def rearm_breaker(
    instance: dg.DagsterInstance, asset: str, *, state: IncidentStateStore, by: str | None = None
) -> BreakerTrip | None:
    """Restart what `asset`'s open trip stopped and close the trip; None when the breaker was not open."""
    trip = state.active_trip(asset)
    if trip is None:
        return None
    now = datetime.now(UTC)
    for feed in trip.stopped:
        # one that someone already restarted (or deleted) is left as they chose
        host.restore_instigator(instance, feed.origin_id, feed.selector_id, feed.previous_status, now=now)
    closed = state.record_rearm(asset, now, by or _actor())
    _observe(instance, asset, "rearmed", "Circuit breaker re-armed; restarted "
             + (", ".join(f"{s.kind} {s.name}" for s in trip.stopped) or "nothing"))
    return closed


def _observe(instance: dg.DagsterInstance, asset: str, what: str, description: str) -> None:
    instance.report_runless_asset_event(
        dg.AssetObservation(asset_key=dg.AssetKey.from_user_string(asset), description=description,
                            metadata={BREAKER_KEY: dg.MetadataValue.text(what)})
    )


def _actor() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except Exception:  # no user name in a bare container: the host alone still says where
        return socket.gethostname()
