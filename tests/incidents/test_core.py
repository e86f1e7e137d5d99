"""The pure incident core on hand-built records: grouping, alias moves, hypotheses, breaker policy, state."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrails.incidents import (
    BreakerPolicy,
    BreakerTrip,
    Cause,
    Evaluation,
    EventKind,
    IncidentRecords,
    IncidentState,
    IncidentStateStore,
    StoppedInstigator,
    build_incident_report,
    format_duration,
    group_failures,
    judge_breaker,
    report_json,
    report_markdown,
)
from guardrails.models import AliasMove, MoveAction
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity

T0 = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def rule(rule_id: str, kind: str, column: str, rows: int, severity: Severity = Severity.ERROR, **extra) -> RuleResult:
    return RuleResult(rule_id=rule_id, kind=kind, columns=(column,) if column else (), severity=severity,
                      status=CheckStatus.FAILED, failing_rows=rows, **extra)


def outcome(*rules: RuleResult, kind: CheckKind = CheckKind.CONTRACT, rows: int = 1000, minute: float = 0,
            status: CheckStatus = CheckStatus.FAILED, error: str | None = None, sample=()) -> CheckOutcome:
    severity = Severity.ERROR if any(r.severity is Severity.ERROR for r in rules) or error else Severity.WARNING
    return CheckOutcome(check="c", kind=kind, status=status, severity=severity, rows=rows, rules=rules,
                        started_at=at(minute), finished_at=at(minute), error=error, sample=sample,
                        contract_id="urn:tx", contract_version="1.0.0")


def evaluation(minute: float, passed: bool, *, asset: str = "a", check: str = "c", result: CheckOutcome | None = None,
               run: str | None = None) -> Evaluation:
    return Evaluation(asset_key=asset, check_name=check, timestamp=at(minute), passed=passed,
                      run_id=run if run is not None else f"run-{asset}-{check}-{minute}", outcome=result)


def move(seq: int, action: MoveAction, minute: float, from_v: int | None, to_v: int, run: str | None = None) -> AliasMove:
    return AliasMove(id=f"m{seq}", seq=seq, action=action, alias="champion", from_version=from_v, to_version=to_v,
                     reason=action.value, run_id=run, at=at(minute), by="dagster:model_sensor")


@given(st.lists(st.booleans(), max_size=40))
def test_grouping_matches_the_maximal_runs_of_failures(verdicts: list[bool]) -> None:
    """Each maximal run of consecutive failures is one incident, closed iff a pass follows it."""
    evaluations = [evaluation(i, ok) for i, ok in enumerate(verdicts)]
    runs, current = [], 0
    for ok in verdicts:
        if not ok:
            current += 1
        elif current:
            runs.append(current)
            current = 0
    if current:
        runs.append(current)
    grouped = group_failures(evaluations)
    assert [len(g.failures) for g in grouped] == runs
    assert [g.closed_by is not None for g in grouped] == [True] * (len(runs) - 1) + [bool(verdicts) and verdicts[-1]] * bool(runs)
    report = build_incident_report(IncidentRecords(evaluations=tuple(reversed(evaluations))), now=at(100))
    assert len({i.id for i in report.incidents}) == len(runs)
    assert len(report.open) == (1 if verdicts and not verdicts[-1] else 0)


def test_checks_and_assets_are_grouped_independently() -> None:
    """A pass of one check never closes another check's incident, on the same or another asset."""
    evaluations = [evaluation(0, False, check="contract"), evaluation(1, True, check="drift"),
                   evaluation(2, True, asset="b", check="contract"), evaluation(3, False, check="contract")]
    [incident] = build_incident_report(IncidentRecords(evaluations=tuple(evaluations)), now=at(10)).incidents
    assert (incident.check_name, incident.state, incident.impact.failed_evaluations) == ("contract", IncidentState.OPEN, 2)


def test_pin_and_unpin_measure_how_long_the_champion_was_pinned() -> None:
    """A pin by an incident's run contains it; the unpin that follows ends the pinned time; unrelated moves stay out."""
    bad = outcome(rule("amount.range", "range", "amount", 40), minute=10)
    evaluations = (evaluation(0, True), evaluation(10, False, result=bad, run="r1"), evaluation(70, True))
    moves = (move(0, MoveAction.PROMOTE, -60, 1, 2), move(1, MoveAction.PIN, 12, 3, 2, run="r1"),
             move(2, MoveAction.UNPIN, 130, 2, 2))
    report = build_incident_report(IncidentRecords(evaluations=evaluations, alias_moves=moves, model_name="fraud"), now=at(200))
    [incident] = report.incidents
    assert incident.contained_at == at(12) and incident.time_to_contain == timedelta(minutes=2)
    assert incident.impact.model_versions_pinned == ("fraud v2 (@champion, was v3)",)
    assert incident.impact.champion_pinned_for == timedelta(minutes=118)
    assert not incident.impact.champion_still_pinned
    assert [e.kind for e in incident.timeline] == [EventKind.FIRST_FAILURE, EventKind.ALIAS_PINNED, EventKind.PASSED,
                                                   EventKind.ALIAS_UNPINNED]
    assert not any(a.command and "unpin" in a.command for a in incident.actions)


def test_a_pin_still_held_counts_to_now_and_asks_for_an_unpin() -> None:
    """While the champion stays pinned the report counts up to `now` and gives the exact unpin command."""
    evaluations = (evaluation(10, False, result=outcome(rule("x.not_null", "not_null", "x", 5)), run="r1"),)
    moves = (move(1, MoveAction.PIN, 11, 3, 2, run="r1"),)
    [incident] = build_incident_report(
        IncidentRecords(evaluations=evaluations, alias_moves=moves, model_name="fraud"), now=at(71)).incidents
    assert incident.impact.champion_pinned_for == timedelta(hours=1) and incident.impact.champion_still_pinned
    assert 'guardrails models unpin fraud --alias champion --reason "incident resolved"' in [a.command for a in incident.actions]


def test_a_promotion_from_an_unset_alias_says_unset_never_vnone() -> None:
    """The first promotion of a model (the alias pointed nowhere) reads "unset -> v1" in the timeline."""
    evaluations = (evaluation(10, False, result=outcome(rule("x.not_null", "not_null", "x", 5)), run="r1"),
                   evaluation(70, True))
    moves = (move(1, MoveAction.PROMOTE, 20, None, 1),)
    report = build_incident_report(IncidentRecords(evaluations=evaluations, alias_moves=moves, model_name="fraud"),
                                   now=at(80))
    [incident] = report.incidents
    [promoted] = [e for e in incident.timeline if e.kind is EventKind.ALIAS_PROMOTED]
    assert promoted.summary.startswith("fraud@champion promote: unset -> v1 (")
    assert "vNone" not in report_markdown(report) and "vNone" not in report_json(report)


def test_hypotheses_rank_schema_change_above_its_side_effects() -> None:
    """A failed type rule outranks the range failures it causes; warnings-only causes score lower."""
    schema = outcome(rule("amount.type", "type", "amount", 0, message="expected double, got string"),
                     rule("amount.range", "range", "amount", 1000),
                     rule("note.length", "length", "note", 3, severity=Severity.WARNING))
    partial = outcome(rule("amount.range", "range", "amount", 10))
    evaluations = (evaluation(0, False, result=schema), evaluation(1, False, result=partial))
    [incident] = build_incident_report(IncidentRecords(evaluations=evaluations), now=at(5)).incidents
    ranked = [(h.cause, h.score) for h in incident.hypotheses]
    assert ranked == [(Cause.OUT_OF_RANGE, 0.8), (Cause.SCHEMA_CHANGE, 0.5), (Cause.FORMAT_CHANGE, 0.21)]
    assert "`amount`" in incident.hypotheses[1].title
    assert any("expected double, got string" in line for line in incident.hypotheses[1].evidence)


@pytest.mark.parametrize(
    ("result", "cause"),
    [
        (outcome(rule("amount.not_null", "not_null", "amount", 900)), Cause.NULL_FLOOD),
        (outcome(rule("category.allowed_values", "allowed_values", "category", 50)), Cause.UNKNOWN_CATEGORIES),
        (outcome(rule("id.unique", "unique", "id", 20)), Cause.DUPLICATES),
        (outcome(rule("event_time.not_in_future", "not_in_future", "event_time", 7)), Cause.FUTURE_TIMESTAMPS),
        (outcome(rule("freshness.data_age", "freshness", "event_time", 0), kind=CheckKind.FRESHNESS), Cause.STALE_SOURCE),
        (outcome(rule("drift.amount", "drift", "amount", 0, observed=0.31), kind=CheckKind.DRIFT), Cause.DRIFT),
        (outcome(status=CheckStatus.ERROR, error="not a Parquet file"), Cause.UNREADABLE_INPUT),
        (outcome(rule("auc", "canary", "", 0), kind=CheckKind.MODEL), Cause.MODEL_REGRESSION),
    ],
)
def test_each_kind_of_failure_points_at_its_cause(result: CheckOutcome, cause: Cause) -> None:
    """The rule kind (or the check kind, or the check not running) that failed names the first hypothesis."""
    [incident] = build_incident_report(IncidentRecords(evaluations=(evaluation(0, False, result=result),)), now=at(1)).incidents
    assert incident.hypotheses[0].cause is cause


def test_examples_come_from_the_failing_sample() -> None:
    """Offending values of a rule's column are taken from the sample rows that broke that rule."""
    sample = ({"id": 1, "category": "crypto", "_rules": ["category.allowed_values"]},
              {"id": 2, "category": "nft", "_rules": ["category.allowed_values"]},
              {"id": 3, "category": "grocery", "_rules": ["id.unique"]})
    result = outcome(rule("category.allowed_values", "allowed_values", "category", 2), sample=sample)
    [incident] = build_incident_report(IncidentRecords(evaluations=(evaluation(0, False, result=result),)), now=at(1)).incidents
    assert incident.checks[0].examples == ("'crypto'", "'nft'")


def test_evaluations_without_our_outcome_still_form_incidents() -> None:
    """A failed check written by someone else (no outcome) is reported with its description and no hypothesis."""
    foreign = Evaluation(asset_key="a", check_name="row_count", timestamp=at(0), passed=False, run_id="r",
                         severity="WARN", description="fewer rows than yesterday")
    [incident] = build_incident_report(IncidentRecords(evaluations=(foreign,)), now=at(1)).incidents
    assert incident.severity == "warning" and incident.hypotheses == ()
    assert incident.checks[0].message == "fewer rows than yesterday"
    assert "No hypothesis" in report_markdown(build_incident_report(IncidentRecords(evaluations=(foreign,)), now=at(1)))


def test_breaker_trip_is_part_of_the_incident_until_rearmed() -> None:
    """A trip inside the incident window shows in the timeline, contains it, and asks for a re-arm until re-armed."""
    evaluations = tuple(evaluation(m, False, result=outcome(rule("x.not_null", "not_null", "x", 1))) for m in (0, 1, 2))
    stopped = (StoppedInstigator(kind="schedule", name="daily", origin_id="o", selector_id="s", previous_status="RUNNING"),)
    trip = BreakerTrip(asset_key="a", tripped_at=at(2.5), reason="3 consecutive failed batches (limit 3)", stopped=stopped)
    [incident] = build_incident_report(IncidentRecords(evaluations=evaluations, breaker_trips=(trip,)), now=at(5)).incidents
    assert incident.breaker_tripped and incident.contained_at == at(2.5)
    assert "guardrails incident rearm a" in [a.command for a in incident.actions]
    rearmed = replace(trip, rearmed_at=at(4), rearmed_by="oncall")
    [incident] = build_incident_report(IncidentRecords(evaluations=evaluations, breaker_trips=(rearmed,)), now=at(5)).incidents
    assert [e.kind for e in incident.timeline][-1] is EventKind.BREAKER_REARMED
    assert "guardrails incident rearm a" not in [a.command for a in incident.actions]


@given(st.lists(st.booleans(), min_size=1, max_size=30), st.integers(min_value=1, max_value=8))
def test_breaker_trips_exactly_when_the_trailing_failures_reach_n(verdicts: list[bool], n: int) -> None:
    """With a consecutive-failures policy the breaker trips iff the latest N batches all failed."""
    evaluations = [evaluation(i, ok) for i, ok in enumerate(verdicts)]
    trailing = len(verdicts) - (max((i for i, ok in enumerate(verdicts) if ok), default=-1) + 1)
    verdict = judge_breaker(BreakerPolicy(consecutive_failures=n), evaluations)
    assert verdict.consecutive_failures == trailing
    assert verdict.tripped is (trailing >= n)


def test_breaker_rate_policy_needs_a_full_window_and_forgets_before_rearm() -> None:
    """A failure-rate policy trips only on a full window at or over the rate; failures before `after` are ignored."""
    policy = BreakerPolicy(consecutive_failures=None, failure_rate=0.5, window=4)
    pattern = [False, True, False, True]
    assert not judge_breaker(policy, [evaluation(i, ok) for i, ok in enumerate(pattern[:3])]).tripped
    verdict = judge_breaker(policy, [evaluation(i, ok) for i, ok in enumerate(pattern)])
    assert verdict.tripped and verdict.reason == "2 of the last 4 batches failed (limit 50%)"
    assert not judge_breaker(policy, [evaluation(i, ok) for i, ok in enumerate(pattern)], after=at(1)).tripped
    runless = [Evaluation(asset_key="a", check_name="c", timestamp=at(i), passed=False) for i in range(5)]
    assert judge_breaker(BreakerPolicy(consecutive_failures=1), runless).consecutive_failures == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"consecutive_failures": 0}, "consecutive_failures"), ({"failure_rate": 1.5}, "failure_rate"),
     ({"window": 0}, "window"), ({"consecutive_failures": None}, "consecutive_failures, failure_rate")],
)
def test_breaker_policy_rejects_bad_settings_naming_the_field(kwargs: dict, field: str) -> None:
    """Out-of-range or missing thresholds raise at construction, naming the field."""
    with pytest.raises(ValueError, match=field):
        BreakerPolicy(**kwargs)


def test_state_store_keeps_concurrent_updates() -> None:
    """Threads marking different incidents at once lose none of the updates (locked read-modify-write)."""
    import tempfile

    store = IncidentStateStore(tempfile.mkdtemp())
    threads = [threading.Thread(target=store.mark_notified, args=(f"inc-{i}", "opened", T0)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(store.notified(f"inc-{i}") == {"opened": T0.isoformat()} for i in range(20))


def test_state_store_trips_once_per_asset_until_rearmed(tmp_path: Path) -> None:
    """A second trip of an open breaker is refused; after a re-arm the asset can trip again."""
    store = IncidentStateStore(tmp_path)
    trip = BreakerTrip(asset_key="a", tripped_at=T0, reason="r")
    assert store.record_trip(trip) and not store.record_trip(trip)
    assert store.record_rearm("a", at(5), "oncall").rearmed_at == at(5)
    assert store.active_trip("a") is None and store.last_rearm("a") == at(5)
    assert store.record_trip(BreakerTrip(asset_key="a", tripped_at=at(6), reason="again"))
    (tmp_path / "breakers.json").write_text("{not json")
    with pytest.raises(ValueError, match="breakers.json"):
        store.breaker_trips()


def test_records_and_report_survive_json() -> None:
    """Evaluations and trips round-trip through JSON; the whole report serializes without loss of its facts."""
    result = outcome(rule("x.not_null", "not_null", "x", 5))
    item = evaluation(0, False, result=result)
    assert Evaluation.from_dict(json.loads(json.dumps(item.to_dict()))) == item
    trip = BreakerTrip(asset_key="a", tripped_at=T0, reason="r", rearmed_at=at(1), rearmed_by="me",
                       stopped=(StoppedInstigator(kind="sensor", name="s", origin_id="o", selector_id="x",
                                                  previous_status="RUNNING"),))
    assert BreakerTrip.from_dict(json.loads(json.dumps(trip.to_dict()))) == trip
    report = build_incident_report(IncidentRecords(evaluations=(item,)), now=at(3))
    data = json.loads(report_json(report))
    assert data["incidents"][0]["time_to_detect_seconds"] == 0.0 and data["open"] == 1


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.25, "250 ms"), (4.2, "4.2 s"), (42, "42 s"), (185, "3 min 5 s"), (3600, "1 h"), (7440, "2 h 4 min"),
     (97200, "1 d 3 h")],
)
def test_durations_read_like_a_human_wrote_them(seconds: float, text: str) -> None:
    """Durations are short and scaled: milliseconds, seconds, minutes, hours, days."""
    assert format_duration(timedelta(seconds=seconds)) == text


def test_core_imports_without_dagster() -> None:
    """guardrails.incidents imports in a fresh interpreter where dagster cannot be imported."""
    code = ("import sys\nsys.modules['dagster'] = None\nimport guardrails.incidents\n"
            "assert not [m for m in sys.modules if m.startswith('dagster') and sys.modules[m] is not None]")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_pin_naming_a_run_belongs_to_that_runs_incident_only() -> None:
    """Two incidents overlap in time; the pin that names one incident's run is not claimed by the other."""
    evaluations = (
        evaluation(10, False, asset="a", result=outcome(rule("x.not_null", "not_null", "x", 5), minute=10), run="ra"),
        evaluation(11, False, asset="b", result=outcome(rule("y.range", "range", "y", 5), minute=11), run="rb"),
    )
    moves = (move(1, MoveAction.PIN, 12, 3, 2, run="rb"),)
    report = build_incident_report(IncidentRecords(evaluations=evaluations, alias_moves=moves, model_name="m"), now=at(20))
    pinned = {i.asset_key: i.impact.model_versions_pinned for i in report.incidents}
    assert pinned == {"a": (), "b": ("m v2 (@champion, was v3)",)}
