"""The incident loop on a real instance: alerts once per open/resolve, reports attached once, the breaker.

A small code location (tests/incidents/location.py: one guarded asset, a schedule and a sensor feeding it) is
run batch by batch on a real Dagster instance, and `watch_incidents` is called after every batch the way the
incident sensor would call it. The webhook is a real HTTP server on a free loopback port. The breaker stops the
schedule and sensor through the instance and the test reads their state back the way the daemon does, from
the code location loaded as a workspace.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.scheduler.instigation import InstigatorStatus
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

from typer.testing import CliRunner

from definitions.demo import fixed_contract
from guardrails.cli import app as cli
from guardrails.dagster.breaker import feeding_instigators, rearm_breaker
from guardrails.dagster.incidents import (
    INCIDENT_ID_KEY,
    INCIDENT_REPORT_KEY,
    INCIDENT_STATE_KEY,
    build_incident_sensor,
    watch_incidents,
)
from guardrails.incidents import BreakerPolicy, EventKind, IncidentState, IncidentStateStore, WebhookNotifier
from guardrails.quarantine import QuarantineStore
from tests.incidents import location
from tests.incidents._history import release_batch
from tests.incidents._webhook import Webhook

pytestmark = pytest.mark.slow

LOCATION_NAME = "incidents_test"
CHECK = "transactions_contract"


@dataclass
class Site:
    """A real instance, the location's definitions, its workspace view, and the stores."""

    instance: dg.DagsterInstance
    defs: dg.Definitions
    repository: Any
    store: QuarantineStore
    state: IncidentStateStore
    contract_fix: Path


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    quarantine = tmp_path / "quarantine"
    monkeypatch.setenv("GUARDRAILS_QUARANTINE", str(quarantine))
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(python_file=location.__file__, attribute="defs",
                             working_directory=str(Path(location.__file__).parents[2])),
        location_name=LOCATION_NAME,
    )
    (tmp_path / "dagster_home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as workspace:
            code_location = workspace.create_request_context().get_code_location(LOCATION_NAME)
            repository = code_location.get_repository("__repository__")
            yield Site(
                instance=instance, defs=location.build_location(str(quarantine)), repository=repository,
                store=QuarantineStore(quarantine), state=IncidentStateStore(tmp_path / "state"),
                contract_fix=fixed_contract(location.CONTRACT, tmp_path / "contracts" / "transactions.odcs.yaml"),
            )


def daemon_status(site: Site, kind: str, name: str) -> InstigatorStatus:
    """The status the scheduler/sensor daemon would act on (stored state, else the default in code)."""
    remote = site.repository.get_schedule(name) if kind == "schedule" else site.repository.get_sensor(name)
    stored = site.instance.get_instigator_state(remote.get_remote_origin_id(), remote.selector_id)
    return remote.get_current_instigator_state(stored).status


def test_notifier_sends_exactly_one_open_and_one_resolve_message(site: Site, webhook: Webhook) -> None:
    """Good, bad, bad, release, good: one message when the incident opens, one when it resolves, none in between."""
    notifier = WebhookNotifier(webhook.url, site.state, backoff_seconds=0.01)

    def step(defect: str | None = None) -> Any:
        if defect is not None:
            location.run_batch(site.defs, site.instance, defect)
        return watch_incidents(site.instance, [location.ASSET], state=site.state, store=site.store, notifier=notifier)

    assert step("").notifications == ()
    opened = step("unknown_categories")
    assert [(n.event, n.delivered) for n in opened.notifications] == [("opened", True)]
    incident = opened.report.incidents[0]
    assert opened.attached == (incident.id,)
    assert step("unknown_categories").notifications == ()
    assert len(webhook.received) == 1
    cli_run = CliRunner().invoke(cli, ["incident", "--asset", location.ASSET, "--format", "table",
                                       "--store", str(site.store.uri.removeprefix("file://"))])
    assert cli_run.exit_code == 1, cli_run.output  # an open incident: scripts can page on the exit code
    assert incident.id in cli_run.output and "open" in cli_run.output
    for manifest in site.store.list():
        release_batch(site.instance, site.store, manifest.batch_id, site.contract_fix,
                      asset=location.ASSET, check=CHECK)
    resolved = step()
    assert [(n.event, n.delivered) for n in resolved.notifications] == [("resolved", True)]
    assert resolved.report.incidents[0].state is IncidentState.RESOLVED
    assert step("").notifications == ()

    assert [m["text"].split(":", 2)[1] for m in webhook.received] == ["rotating_light", "white_check_mark"]
    first = webhook.received[0]["text"]
    assert incident.id in first and location.ASSET in first and CHECK in first
    assert "1 batch(es) quarantined (400 rows)" in first
    assert "RESOLVED" in webhook.received[1]["text"] and incident.id in webhook.received[1]["text"]
    assert resolved.attached == (f"{incident.id}:resolved",)
    observations = site.instance.fetch_observations(dg.AssetKey(location.ASSET), limit=50, ascending=True).records
    attached = [o.asset_observation for o in observations if INCIDENT_ID_KEY in o.asset_observation.metadata]
    assert [(a.metadata[INCIDENT_ID_KEY].value, a.metadata[INCIDENT_STATE_KEY].value) for a in attached] == [
        (incident.id, "open"), (incident.id, "resolved")]
    opened_md, resolved_md = (a.metadata[INCIDENT_REPORT_KEY].value for a in attached)
    assert opened_md.startswith(f"# Incident {incident.id}") and "merchant_category.allowed_values" in opened_md
    assert "**State:** OPEN" in opened_md and "**State:** RESOLVED" in resolved_md


def test_breaker_trips_exactly_at_n_and_stops_the_feeds_until_rearmed(site: Site) -> None:
    """With N=3 the breaker stays closed after two failed batches, trips on the third, stops the schedule and the
    sensor that feed the asset, says so in the incident, trips only once, and re-arming restarts both."""
    schedule = site.repository.get_schedule(location.SCHEDULE)
    site.instance.start_schedule(schedule)
    feeds = {location.ASSET: feeding_instigators(site.defs, location.ASSET)}
    assert sorted((f.kind, f.name) for f in feeds[location.ASSET]) == [
        ("schedule", location.SCHEDULE), ("sensor", location.SENSOR)]
    policy = BreakerPolicy(consecutive_failures=3)

    def step(defect: str | None) -> Any:
        if defect is not None:
            location.run_batch(site.defs, site.instance, defect)
        return watch_incidents(site.instance, [location.ASSET], state=site.state, store=site.store, policy=policy,
                               feeds=feeds, repository_origin=site.repository.get_remote_origin())

    step("")
    for _ in range(2):
        assert step("nulls").trips == ()
    assert daemon_status(site, "schedule", location.SCHEDULE) is InstigatorStatus.RUNNING
    assert daemon_status(site, "sensor", location.SENSOR) is InstigatorStatus.DECLARED_IN_CODE

    tripped = step("nulls")
    assert len(tripped.trips) == 1
    trip = tripped.trips[0]
    assert trip.reason == "3 consecutive failed batches (limit 3)"
    assert sorted((s.kind, s.name, s.previous_status) for s in trip.stopped) == [
        ("schedule", location.SCHEDULE, "RUNNING"), ("sensor", location.SENSOR, "DECLARED_IN_CODE")]
    assert daemon_status(site, "schedule", location.SCHEDULE) is InstigatorStatus.STOPPED
    assert daemon_status(site, "sensor", location.SENSOR) is InstigatorStatus.STOPPED
    incident = tripped.report.incidents[0]
    assert incident.breaker_tripped and incident.impact.failed_evaluations == 3
    assert [e.kind for e in incident.timeline].count(EventKind.BREAKER_TRIPPED) == 1
    assert any(a.command == f"guardrails incident rearm {location.ASSET}" for a in incident.actions)
    assert incident.contained_at is not None and incident.contained_at <= trip.tripped_at

    assert step(None).trips == ()  # still 3 failures in a row, but an open breaker does not trip again

    rearmed = rearm_breaker(site.instance, location.ASSET, state=site.state, by="oncall@test")
    assert rearmed is not None and rearmed.rearmed_by == "oncall@test"
    assert daemon_status(site, "schedule", location.SCHEDULE) is InstigatorStatus.RUNNING
    assert daemon_status(site, "sensor", location.SENSOR) is InstigatorStatus.DECLARED_IN_CODE
    assert rearm_breaker(site.instance, location.ASSET, state=site.state) is None
    after = step("nulls")  # failures before the re-arm no longer count: one failure is not three
    assert after.trips == ()
    assert [e.kind for e in after.report.incidents[0].timeline].count(EventKind.BREAKER_REARMED) == 1


def test_incident_sensor_runs_the_loop(site: Site, webhook: Webhook, tmp_path: Path) -> None:
    """The sensor built for an asset attaches the report, sends the open message and trips the breaker at N=1;
    evaluated outside a daemon it has no code location origin, so it stops nothing and the trip says so."""
    sensor = build_incident_sensor([location.ASSET], state_dir=tmp_path / "sensor_state", webhook_url=webhook.url,
                                   quarantine_location=str(site.store.uri.removeprefix("file://")),
                                   policy=BreakerPolicy(consecutive_failures=1))
    location.run_batch(site.defs, site.instance, "duplicate_ids")
    repository = dg.Definitions.merge(site.defs, dg.Definitions(sensors=[sensor])).get_repository_def()
    context = dg.build_sensor_context(instance=site.instance, repository_def=repository)
    skip = sensor(context)
    assert "1 open incident(s); attached 1, sent 1 message(s), tripped 1 breaker(s)" == skip.skip_message
    trip = IncidentStateStore(tmp_path / "sensor_state").active_trip(location.ASSET)
    assert trip is not None and trip.stopped == ()  # no code location origin outside the daemon: says so
    assert "feeds not stopped" in trip.reason
    assert len(webhook.received) == 1 and "duplicate" in webhook.received[0]["text"].lower()
