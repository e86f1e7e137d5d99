"""The incident core follows partitions: an incident resolves only when every partition that failed in it passed.

Hand-built records (no Dagster): the grouping rule, its property, and what a partitioned incident reports
(superseded batches to purge, release commands naming the recorded contract and store, manifests of earlier
batches that share an id, time to contain from the producing step).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from guardrails.contract.model import QuarantinePolicy
from guardrails.incidents import (
    Evaluation,
    EventKind,
    IncidentRecords,
    IncidentState,
    RunSummary,
    build_incident_report,
    group_failures,
)
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity
from guardrails.quarantine import QuarantineManifest, QuarantineState, Transition
from guardrails.quarantine._manifest import DataFormat

T0 = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def failed_outcome(minute: float) -> CheckOutcome:
    rule = RuleResult(rule_id="category.allowed_values", kind="allowed_values", columns=("category",),
                      severity=Severity.ERROR, status=CheckStatus.FAILED, failing_rows=3)
    return CheckOutcome(check="contract", kind=CheckKind.CONTRACT, status=CheckStatus.FAILED, severity=Severity.ERROR,
                        rows=60, rules=(rule,), started_at=at(minute), finished_at=at(minute),
                        contract_id="urn:tx", contract_version="1.0.0")


def day(partition: str | None, minute: float, passed: bool, *, warning: bool = False, **extra) -> Evaluation:
    """One evaluation of check `c` on asset `a` for `partition`, from its own run (a failure at warning severity
    with `warning`: recorded, nothing held back)."""
    outcome = None if passed else failed_outcome(minute)
    if warning and outcome is not None:
        outcome = outcome.evolve(severity=Severity.WARNING)
    return Evaluation(asset_key="a", check_name="c", timestamp=at(minute), passed=passed, partition=partition,
                      run_id=extra.pop("run_id", f"run-{partition}-{minute}"),
                      batch_id=extra.pop("batch_id", f"a.{partition}" if partition else "a"),
                      outcome=outcome, severity="WARN" if warning else None, **extra)


def manifest(batch_id: str, run_id: str | None, minute: float, *, released_at: float | None = None) -> QuarantineManifest:
    """A whole-batch quarantine manifest written at `minute` (and released at `released_at`, if given)."""
    kept = QuarantineManifest(
        batch_id=batch_id, state=QuarantineState.QUARANTINED, content_hash="0" * 64, content_hash_of="arrow_ipc",
        data_file="data-0.parquet", data_format=DataFormat.PARQUET, data_sha256="0" * 64, data_bytes=10,
        source=f"dagster:a[{batch_id.removeprefix('a.')}]", policy=QuarantinePolicy.BATCH, rows_in=60,
        rows_quarantined=60, rows_published=0, reason="1 blocking rule failed", outcome=failed_outcome(minute),
        contract_id="urn:tx", contract_version="1.0.0", run_id=run_id, quarantined_at=at(minute),
        history=(Transition(state=QuarantineState.QUARANTINED, at=at(minute), reason="contract failed"),),
    )
    if released_at is None:
        return kept
    return kept.transition(QuarantineState.RELEASED, at(released_at), "fixed", "oncall", released_at=at(released_at))


def test_a_pass_of_another_partition_never_resolves_the_incident() -> None:
    """Two bad days in a daily backfill stay one open incident through later good days, until both pass."""
    backfill = [day(f"2026-11-{d:02d}", d, d not in (6, 7)) for d in range(1, 15)]
    report = build_incident_report(IncidentRecords(evaluations=tuple(backfill)), now=at(20))
    [incident] = report.incidents
    assert incident.state is IncidentState.OPEN and incident.impact.failed_evaluations == 2
    rerun = day("2026-11-06", 30, True)
    [incident] = build_incident_report(IncidentRecords(evaluations=(*backfill, rerun)), now=at(40)).incidents
    assert incident.state is IncidentState.OPEN
    release = day("2026-11-07", 50, True, run_id="")
    [incident] = build_incident_report(IncidentRecords(evaluations=(*backfill, rerun, release)), now=at(60)).incidents
    assert incident.state is IncidentState.RESOLVED and incident.resolved_at == at(50)
    assert [e.kind for e in incident.timeline] == [EventKind.FIRST_FAILURE, EventKind.FAILURE, EventKind.PASSED,
                                                   EventKind.PASSED]


def test_a_failure_of_another_partition_joins_the_open_incident() -> None:
    """While an incident is open, a failure of any partition of the same asset and check joins it."""
    evaluations = (day("p1", 0, False), day("p2", 1, True), day("p2", 2, False), day("p1", 3, True))
    [run] = group_failures(evaluations)
    assert [e.partition for e in run.failures] == ["p1", "p2"] and run.closed_by is None
    [run] = group_failures((*evaluations, day("p2", 4, True)))
    assert run.closed_by is not None and run.closed_by.timestamp == at(4)


def test_unpartitioned_assets_are_one_partition() -> None:
    """Without partitions the next pass resolves the incident, as before partitions were followed."""
    runs = group_failures([day(None, 0, False), day(None, 1, False), day(None, 2, True), day(None, 3, False)])
    assert [(len(r.failures), r.closed_by is not None) for r in runs] == [(2, True), (1, False)]


def test_warnings_alone_resolve_on_the_next_pass_of_any_partition() -> None:
    """A warning holds nothing back: the first day's warning (no reference yet) resolves when the next day passes,
    while an error of another partition joining it must pass itself."""
    [run] = group_failures([day("p1", 0, False, warning=True), day("p2", 1, True)])
    assert run.closed_by is not None and run.closed_by.partition == "p2"
    [run] = group_failures([day("p1", 0, False, warning=True), day("p2", 1, False), day("p3", 2, True)])
    assert run.closed_by is None
    [run] = group_failures([day("p1", 0, False, warning=True), day("p2", 1, False), day("p2", 2, True)])
    assert run.closed_by is not None and run.closed_by.partition == "p2"


PARTITIONS = st.sampled_from(["p1", "p2", "p3"])


@given(st.lists(st.tuples(PARTITIONS, st.booleans(), st.booleans()), max_size=40))
def test_an_incident_is_resolved_iff_every_failed_partition_has_a_later_pass(
    events: list[tuple[str, bool, bool]],
) -> None:
    """Every failure is in exactly one incident; each resolves at the first moment all its partitions that failed at
    error severity have passed since their last such failure in it (with none, at its next pass); incidents of one
    check never overlap; only the last may be open."""
    evaluations = [day(p, i, ok, warning=warn) for i, (p, ok, warn) in enumerate(events)]
    runs = group_failures(reversed(evaluations))
    assert sorted(e.timestamp for r in runs for e in r.failures) == [e.timestamp for e in evaluations if not e.passed]
    for index, run in enumerate(runs):
        first, end = run.failures[0].timestamp, run.closed_by.timestamp if run.closed_by else None
        window = [e for e in evaluations if e.timestamp >= first and (end is None or e.timestamp <= end)]
        assert [e for e in window if not e.passed] == run.failures
        pending: set[str | None] = set()
        cleared_at = None
        for evaluation in window:
            if not evaluation.passed:
                if evaluation.severity != "WARN":
                    pending.add(evaluation.partition)
            elif evaluation.partition in pending or not pending:
                pending.discard(evaluation.partition)
                if not pending:
                    cleared_at = evaluation.timestamp
        assert (run.closed_by is not None) is (cleared_at is not None)
        assert end == cleared_at
        if index + 1 < len(runs):
            assert end is not None and runs[index + 1].failures[0].timestamp > end


def test_resolved_incident_asks_to_purge_batches_a_good_rerun_superseded() -> None:
    """A batch still held when a good re-run resolved its partition is a "superseded: purge" follow-up, not a release."""
    bad = day("2026-11-06", 10, False, run_id="r6")
    evaluations = (bad, day("2026-11-06", 30, True))
    held = manifest("a.2026-11-06", "r6", 10.5)
    report = build_incident_report(IncidentRecords(evaluations=evaluations, manifests=(held,), quarantine_location="/q"),
                                   now=at(40))
    [incident] = report.incidents
    assert incident.state is IncidentState.RESOLVED
    assert incident.impact.batches_still_quarantined == ("a.2026-11-06",)
    commands = [a.command for a in incident.actions if a.command]
    assert commands == ['guardrails quarantine purge a.2026-11-06 --store /q']
    assert any(a.action.startswith("superseded: purge batch a.2026-11-06") for a in incident.actions)
    assert "release" not in " ".join(commands)


def test_release_command_names_the_recorded_contract_and_store() -> None:
    """The evaluation's recorded contract path and store win over the contracts directory and the listing store."""
    recorded = day("p1", 0, False, run_id="r1", contract_path="/repo/expectations/tx.odcs.yaml",
                   quarantine_store="s3://bucket/quarantine")
    records = IncidentRecords(evaluations=(recorded,), manifests=(manifest("a.p1", "r1", 0.5),),
                              contract_paths={"urn:tx": "expectations/other.odcs.yaml"}, quarantine_location="/q")
    [incident] = build_incident_report(records, now=at(5)).incidents
    [command] = [a.command for a in incident.actions if a.command]
    assert command.startswith("guardrails quarantine release a.p1 --contract /repo/expectations/tx.odcs.yaml "
                              "--store s3://bucket/quarantine")
    unrecorded = IncidentRecords(evaluations=(day("p1", 0, False, run_id="r1"),), manifests=records.manifests,
                                 contract_paths=records.contract_paths, quarantine_location="/q")
    [incident] = build_incident_report(unrecorded, now=at(5)).incidents
    [command] = [a.command for a in incident.actions if a.command]
    assert command.startswith("guardrails quarantine release a.p1 --contract expectations/other.odcs.yaml --store /q")


def test_an_earlier_batch_sharing_the_id_is_not_part_of_the_incident() -> None:
    """A manifest quarantined (and released) before the incident began, under the same batch id, stays out of it."""
    earlier = manifest("a.p1", "old-run", -100, released_at=-90)
    evaluations = (day("p1", 0, False, run_id="new-run"),)
    runs = (RunSummary(run_id="new-run", status="FAILURE", started_at=at(-1), planned_assets=("a",),
                       step_started_at={"a": at(-0.5)}),)
    [incident] = build_incident_report(IncidentRecords(evaluations=evaluations, manifests=(earlier,), runs=runs),
                                       now=at(5)).incidents
    assert [e.kind for e in incident.timeline] == [EventKind.FIRST_FAILURE]
    assert incident.contained_at is None and incident.impact.batches_quarantined == ()


def test_time_to_contain_runs_from_the_producing_step_to_the_manifest() -> None:
    """Containment is measured from the start of the step that produced the batch to the quarantine manifest."""
    evaluations = (day("p1", 0, False, run_id="r1", run_started_at=at(-3)),)
    runs = (RunSummary(run_id="r1", status="FAILURE", started_at=at(-3), planned_assets=("up", "a"),
                       step_started_at={"up": at(-3), "a": at(-1)}),)
    records = IncidentRecords(evaluations=evaluations, manifests=(manifest("a.p1", "r1", 0.5),), runs=runs)
    [incident] = build_incident_report(records, now=at(5)).incidents
    assert incident.time_to_detect == timedelta(minutes=3)
    assert incident.time_to_contain == timedelta(minutes=1.5)


def test_recorded_contract_store_and_manifest_origin_survive_json() -> None:
    """An evaluation's contract path, quarantine store and manifest origin round-trip through its JSON form."""
    item = day("p1", 0, False, contract_path="/c.odcs.yaml", quarantine_store="s3://q", from_manifest=True)
    assert Evaluation.from_dict(json.loads(json.dumps(item.to_dict()))) == item
