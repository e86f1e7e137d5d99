"""Incidents follow partitions on a real instance: a 14-day backfill through `guarded_asset` with two bad days.

One in-process Dagster instance (temporary SQLite), real runs of a daily-partitioned guarded asset
(tests/incidents/partitioned.py), real Parquet files and quarantine store under tmp_path. The story: days 6 and 7
are bad and quarantined while the good days around them pass; day 6 is re-run good (its held batch is now
superseded); day 7 is released against the fixed contract (the release records a passing re-validation).
Reports are read from the instance at each step, through `gather_incident_records` and the CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
import pytest
from typer.testing import CliRunner

from definitions.demo import end_of, fixed_contract
from definitions.resources import ParquetIOManager
from guardrails.cli import app as cli
from guardrails.contract import load_contract
from guardrails.dagster import release_guarded_batch
from guardrails.dagster.incidents import gather_incident_records
from guardrails.incidents import EventKind, Incident, IncidentState, build_incident_report
from guardrails.quarantine import QuarantineStore, QuarantineState, ReleaseStatus
from tests.incidents import partitioned
from tests.incidents.partitioned import ASSET, CHECK

pytestmark = pytest.mark.slow

DAYS = [f"2026-11-{d:02d}" for d in range(1, 15)]
BAD = (DAYS[5], DAYS[6])


@dataclass(frozen=True)
class Backfill:
    """The instance and store after each step of the story, and the incident as reported after each."""

    instance: dg.DagsterInstance
    store: QuarantineStore
    run_ids: dict[str, str]
    after_backfill: Incident
    after_rerun: Incident
    after_release: Incident
    exit_codes: tuple[int, int, int]


def report_now(instance: dg.DagsterInstance, store: QuarantineStore) -> tuple[Incident, ...]:
    return build_incident_report(gather_incident_records(instance, [ASSET], store=store)).incidents


@pytest.fixture(scope="module")
def backfill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfill]:
    home = tmp_path_factory.mktemp("backfill")
    store = QuarantineStore(home / "quarantine")
    defs = partitioned.build_location(home / "quarantine", home / "warehouse")
    runner = CliRunner()
    command = ["incident", "--asset", ASSET, "--store", str(home / "quarantine"), "--state-dir", str(home / "state")]
    with dg.instance_for_test(temp_dir=str(tmp_path_factory.mktemp("dagster_home"))) as instance:
        run_ids = {}
        for day in DAYS:
            result = partitioned.run_day(defs, instance, day, "unknown_categories" if day in BAD else "")
            assert result.success is (day not in BAD)
            run_ids[day] = result.run_id
        [after_backfill] = report_now(instance, store)
        codes = [runner.invoke(cli, command).exit_code]
        rerun = partitioned.run_day(defs, instance, BAD[0])
        assert rerun.success
        run_ids["rerun"] = rerun.run_id
        [after_rerun] = report_now(instance, store)
        codes.append(runner.invoke(cli, command).exit_code)
        contract = fixed_contract(partitioned.CONTRACT, home / "contracts" / "transactions.odcs.yaml")
        [held] = [m for m in store.list() if m.run_id == run_ids[BAD[1]]]
        released = release_guarded_batch(
            instance, defs.resolve_assets_def(ASSET), held.batch_id, load_contract(contract), store=store,
            io_manager=ParquetIOManager(base_dir=str(home / "warehouse")), as_of=end_of(BAD[1]))
        assert released.status is ReleaseStatus.RELEASED, released.message
        [after_release] = report_now(instance, store)
        codes.append(runner.invoke(cli, command).exit_code)
        yield Backfill(instance=instance, store=store, run_ids=run_ids, after_backfill=after_backfill,
                       after_rerun=after_rerun, after_release=after_release, exit_codes=tuple(codes))


def test_later_good_days_do_not_resolve_the_two_bad_days(backfill: Backfill) -> None:
    """After the backfill the two bad days are one open incident: the seven good days after them resolve nothing."""
    incident = backfill.after_backfill
    assert incident.check_name == CHECK
    assert incident.state is IncidentState.OPEN and incident.resolved_at is None
    assert incident.impact.partitions == BAD
    assert incident.failing_runs == tuple(backfill.run_ids[d] for d in BAD)
    assert backfill.exit_codes[0] == 1
    commands = [a.command for a in incident.actions if a.command]
    assert [c.split()[:4] for c in commands] == [["guardrails", "quarantine", "release", b]
                                                 for b in incident.impact.batches_still_quarantined]


def test_a_good_rerun_of_one_bad_day_leaves_the_other_open(backfill: Backfill) -> None:
    """Re-running day 6 good clears that partition only: the incident stays open on day 7, exit code 1."""
    incident = backfill.after_rerun
    assert incident.state is IncidentState.OPEN and backfill.exit_codes[1] == 1
    passed = [e for e in incident.timeline if e.kind is EventKind.PASSED]
    assert [e.run_id for e in passed] == [backfill.run_ids["rerun"]]
    assert passed[0].summary.endswith("1 failed partition still to pass")


def test_releasing_the_last_bad_day_resolves_it_with_both_in_its_impact(backfill: Backfill) -> None:
    """The release of day 7 resolves the incident; both batches are in its impact; day 6's is to be purged."""
    incident = backfill.after_release
    manifests = {m.run_id: m for m in backfill.store.list()}
    first, second = (manifests[backfill.run_ids[d]] for d in BAD)
    assert incident.state is IncidentState.RESOLVED and backfill.exit_codes[2] == 0
    assert incident.resolved_at == second.release_outcome.finished_at
    assert incident.impact.partitions == BAD
    assert incident.impact.batches_quarantined == (first.batch_id, second.batch_id)
    assert incident.impact.batches_still_quarantined == (first.batch_id,)
    assert incident.impact.batches_released == (second.batch_id,)
    assert first.state is QuarantineState.QUARANTINED
    [follow_up] = [a for a in incident.actions if a.command]
    assert follow_up.action.startswith(f"superseded: purge batch {first.batch_id}")
    assert follow_up.command == f"guardrails quarantine purge {first.batch_id} --store {backfill.store.root}"


def test_timeline_is_in_time_order_and_contain_runs_from_the_step(backfill: Backfill) -> None:
    """The timeline starts at the first failure and runs in time order; time to contain is step start to manifest."""
    incident = backfill.after_release
    timeline = incident.timeline
    assert timeline[0].kind is EventKind.FIRST_FAILURE
    assert [e.at for e in timeline] == sorted(e.at for e in timeline)
    assert [e.kind for e in timeline] == [EventKind.FIRST_FAILURE, EventKind.QUARANTINED, EventKind.FAILURE,
                                          EventKind.QUARANTINED, EventKind.PASSED, EventKind.PASSED,
                                          EventKind.RELEASED]
    run_id = backfill.run_ids[BAD[0]]
    [step_start] = backfill.instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_START).records
    started = datetime.fromtimestamp(step_start.event_log_entry.timestamp, tz=UTC)
    manifest = next(m for m in backfill.store.list() if m.run_id == run_id)
    assert incident.step_started_at == started
    assert incident.time_to_contain == manifest.quarantined_at - started
    assert incident.time_to_contain.total_seconds() > 0.001
