"""Build an `IncidentReport` from plain records: group failures into incidents, then tell each one's story.

Grouping rule, per (asset, check), in time order: a failed evaluation (a failed verdict, or a check that could
not run) opens an incident when none is open; a failure of any partition of the same asset and check while it is
open joins it; it resolves when every partition that failed in it has a later passing evaluation (a good re-run,
or a release re-validated against a fixed contract). A pass of another partition never resolves it. An
unpartitioned asset is one partition, so there the next pass resolves it. Everything else (quarantined batches,
alias moves, breaker trips, runs) is attached to the incident it belongs to: by run id or batch id first, by time
window otherwise.
"""

from __future__ import annotations

import hashlib
import shlex
from urllib.parse import urlparse
from urllib.request import url2pathname
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from guardrails.incidents._hypotheses import rank_hypotheses
from guardrails.incidents._records import BreakerTrip, Evaluation, IncidentRecords
from guardrails.incidents._types import (
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
from guardrails.models import AliasMove, MoveAction
from guardrails.outcome import CheckStatus
from guardrails.quarantine import QuarantineManifest, QuarantineState

MAX_EXAMPLES = 5


@dataclass(slots=True)
class FailureRun:
    """The evaluations of one incident while it is being grouped (mutable scratch, never returned).

    `passes` are the passing evaluations that cleared a failed partition, in time order, each with how many
    failed partitions were left after it; the last of them is `closed_by` once none is left.
    """

    asset_key: str
    check_name: str
    failures: list[Evaluation] = field(default_factory=list)
    passes: list[tuple[Evaluation, int]] = field(default_factory=list)
    closed_by: Evaluation | None = None
    last_pass_before: Evaluation | None = None

    @property
    def partitions(self) -> tuple[str | None, ...]:
        """The partitions that failed in the incident, in order of their first failure (None: unpartitioned)."""
        return tuple(dict.fromkeys(e.partition for e in self.failures))


def group_failures(evaluations: Iterable[Evaluation]) -> list[FailureRun]:
    """Incidents per (asset, check): open on a failure, joined by failures of any partition, resolved when every
    partition that failed at error severity (held back, or could not run) has passed since.

    A warning holds nothing back, so a warning-only partition needs no re-run: an incident of warnings alone resolves
    on the check's next pass, whatever its partition (e.g. the first day's drift check, with no reference yet).

    Example:
        >>> from datetime import datetime, timezone
        >>> day = lambda d: datetime(2026, 11, d, tzinfo=timezone.utc)
        >>> verdicts = [("p1", False), ("p2", False), ("p3", True), ("p1", True), ("p2", True), ("p3", False)]
        >>> runs = group_failures(Evaluation(asset_key="a", check_name="c", timestamp=day(i + 1), passed=ok,
        ...                                  partition=p) for i, (p, ok) in enumerate(verdicts))
        >>> [(r.partitions, r.closed_by.partition if r.closed_by else None) for r in runs]
        [(('p1', 'p2'), 'p2'), (('p3',), None)]
    """
    by_check: dict[tuple[str, str], list[Evaluation]] = {}
    for evaluation in evaluations:
        by_check.setdefault((evaluation.asset_key, evaluation.check_name), []).append(evaluation)
    grouped: list[FailureRun] = []
    for (asset, check), items in sorted(by_check.items()):
        current: FailureRun | None = None
        failing: set[str | None] = set()  # partitions of the open incident with no pass since their last failure
        last_pass: Evaluation | None = None
        for evaluation in sorted(items, key=lambda e: e.timestamp):
            if not evaluation.passed:
                if current is None:
                    current = FailureRun(asset, check, last_pass_before=last_pass)
                    grouped.append(current)
                current.failures.append(evaluation)
                if _is_error(evaluation):
                    failing.add(evaluation.partition)
                continue
            last_pass = evaluation
            if current is not None and (evaluation.partition in failing or not failing):
                failing.discard(evaluation.partition)
                current.passes.append((evaluation, len(failing)))
                if not failing:
                    current.closed_by = evaluation
                    current = None
    return grouped


def incident_id(asset_key: str, check_name: str, first_failure: Evaluation) -> str:
    """A stable id: the same first failure always names the same incident (notifications rely on it)."""
    seed = f"{asset_key}|{check_name}|{first_failure.run_id}|{first_failure.timestamp.isoformat()}"
    return "inc-" + hashlib.sha256(seed.encode()).hexdigest()[:10]


def build_incident_report(
    records: IncidentRecords,
    *,
    now: datetime | None = None,
    asset: str | None = None,
    since: datetime | None = None,
) -> IncidentReport:
    """Group the records' evaluations into incidents and describe each: SBAR, timeline, impact, causes, actions.

    Args:
        records: what the adapter gathered (evaluations, manifests, alias moves, runs, breaker trips).
        now: the report's clock (durations of open incidents run to it); default the current UTC time.
        asset: only incidents on this asset (user string, e.g. ``clean_transactions``).
        since: only incidents still open at, or active after, this time.

    Returns:
        The incidents, newest first.
    """
    now = now or datetime.now(UTC)
    incidents = []
    groups = group_failures(records.evaluations)
    failing_runs = frozenset(e.run_id for g in groups for e in g.failures if e.run_id)
    for run in groups:
        if asset is not None and run.asset_key != asset:
            continue
        end = run.closed_by.timestamp if run.closed_by else None
        if since is not None and end is not None and end < since:
            continue
        incidents.append(_incident(run, records, now, failing_runs))
    incidents.sort(key=lambda i: (i.detected_at, i.id), reverse=True)
    return IncidentReport(generated_at=now, incidents=tuple(incidents), asset=asset, since=since,
                          notes=records.notes)


def _incident(run: FailureRun, records: IncidentRecords, now: datetime, all_failing_runs: frozenset[str]) -> Incident:
    first = run.failures[0]
    failing_runs = tuple(dict.fromkeys(e.run_id for e in run.failures if e.run_id))
    detected = first.timestamp
    started = first.run_started_at or (first.outcome.started_at if first.outcome else None) or detected
    started = min(started, detected)
    end = run.closed_by.timestamp if run.closed_by else now
    summaries = {r.run_id: r for r in records.runs}
    step_started = summaries[first.run_id].step_started_at.get(run.asset_key) if first.run_id in summaries else None

    manifests = _manifests_of(run, records.manifests, failing_runs, all_failing_runs, started, end)
    moves = _moves_of(records.alias_moves, failing_runs, all_failing_runs, started, end)
    trips = [t for t in records.breaker_trips if t.asset_key == run.asset_key and started <= t.tripped_at <= end]
    containment = [m.quarantined_at for m in manifests]
    containment += [m.at for m in moves if m.action is MoveAction.PIN]
    containment += [t.tripped_at for t in trips]
    contained = min(containment) if containment else None

    fired = _fired_checks(run.failures)
    hypotheses = rank_hypotheses(run.failures, fired)
    impact = _impact(run, manifests, moves, records, failing_runs, now)
    state = IncidentState.RESOLVED if run.closed_by else IncidentState.OPEN
    actions = _actions(run, state, manifests, moves, trips, records, hypotheses)
    severity = "error" if any(_is_error(e) for e in run.failures) else "warning"
    incident = Incident(
        id=incident_id(run.asset_key, run.check_name, first),
        asset_key=run.asset_key,
        check_name=run.check_name,
        state=state,
        severity=severity,
        started_at=started,
        detected_at=detected,
        contained_at=contained,
        resolved_at=run.closed_by.timestamp if run.closed_by else None,
        last_failure_at=run.failures[-1].timestamp,
        sbar=Sbar(situation="", background="", assessment="", recommendation=""),
        timeline=_timeline(run, manifests, moves, trips, records.model_name),
        impact=impact,
        checks=fired,
        hypotheses=hypotheses,
        actions=actions,
        failing_runs=failing_runs,
        breaker_tripped=bool(trips),
        step_started_at=step_started if step_started is not None and step_started <= detected else None,
    )
    return replace(incident, sbar=_sbar(incident, run, now))


def _manifests_of(
    run: FailureRun, manifests: Sequence[QuarantineManifest], runs: Sequence[str], all_failing_runs: frozenset[str],
    start: datetime, end: datetime,
) -> list[QuarantineManifest]:
    """The quarantines of the incident's failures.

    A manifest naming a failing run belongs to that run's incident only. One naming no failing run belongs here
    when it names one of the failures' batches and was written inside the incident: a batch id is reused for
    the same asset and partition (an identical batch quarantined again finds its old manifest), so an older
    manifest under the same id is an earlier batch's story, not this incident's.
    """
    batch_ids = {e.batch_id for e in run.failures if e.batch_id}
    mine = []
    for manifest in manifests:
        if manifest.run_id and manifest.run_id in all_failing_runs:
            belongs = manifest.run_id in runs
        else:
            belongs = manifest.batch_id in batch_ids and start <= manifest.quarantined_at <= end
        if belongs:
            mine.append(manifest)
    return mine


def _is_error(evaluation: Evaluation) -> bool:
    if evaluation.outcome is not None:
        return evaluation.outcome.blocks_publication
    return (evaluation.severity or "ERROR").upper() == "ERROR"


def _moves_of(
    moves: Sequence[AliasMove], runs: Sequence[str], all_failing_runs: frozenset[str], start: datetime, end: datetime
) -> list[AliasMove]:
    """Pins and promotions of the incident and the unpin that lifted each pin.

    A move naming a failing run belongs to that run's incident only (an incident overlapping in time does not
    claim another's pin); a move naming no failing run belongs to the incidents whose window it falls in.
    """
    ordered = sorted(moves, key=lambda m: (m.at, m.seq))
    mine: list[AliasMove] = []
    pinned = False
    for move in ordered:
        if move.run_id and move.run_id in all_failing_runs:
            belongs = move.run_id in runs
        else:
            belongs = start <= move.at <= end
        if move.action is MoveAction.UNPIN:
            if pinned:
                mine.append(move)
                pinned = False
        elif belongs:
            mine.append(move)
            pinned = pinned or move.action is MoveAction.PIN
    return mine


def _fired_checks(failures: Sequence[Evaluation]) -> tuple[FiredCheck, ...]:
    fired: dict[tuple[str, str], FiredCheck] = {}
    order: list[tuple[str, str]] = []
    for evaluation in failures:
        outcome = evaluation.outcome
        if outcome is None:
            rows: list[FiredCheck] = [FiredCheck(
                check_name=evaluation.check_name, rule_id=evaluation.check_name, kind="check",
                columns=(), severity=(evaluation.severity or "error").lower(), times=1,
                message=evaluation.description or "")]
        elif outcome.status is CheckStatus.ERROR:
            rows = [FiredCheck(
                check_name=evaluation.check_name, rule_id="(check could not run)", kind="error", columns=(),
                severity=outcome.severity.value, times=1, rows=outcome.rows,
                message=outcome.error or outcome.message)]
        else:
            rows = [
                FiredCheck(
                    check_name=evaluation.check_name, rule_id=r.rule_id, kind=r.kind, columns=r.columns,
                    severity=r.severity.value, times=1, failing_rows=r.failing_rows, rows=outcome.rows,
                    observed=r.observed, expected=r.expected, message=r.message,
                    examples=_examples(outcome.sample, r.rule_id, r.columns),
                )
                for r in outcome.failed_rules
            ]
        for row in rows:
            key = (row.check_name, row.rule_id)
            previous = fired.get(key)
            if previous is None:
                fired[key] = row
                order.append(key)
                continue
            examples = tuple(dict.fromkeys((*previous.examples, *row.examples)))[:MAX_EXAMPLES]
            fired[key] = FiredCheck(
                check_name=row.check_name, rule_id=row.rule_id, kind=row.kind, columns=row.columns,
                severity="error" if "error" in (row.severity, previous.severity) else row.severity,
                times=previous.times + 1, failing_rows=max(previous.failing_rows, row.failing_rows),
                rows=row.rows if row.rows is not None else previous.rows, observed=row.observed,
                expected=row.expected, message=row.message or previous.message, examples=examples,
            )
    return tuple(sorted((fired[k] for k in order), key=lambda f: (-f.times, -f.failing_rows, f.rule_id)))


def _examples(sample: Sequence[object], rule_id: str, columns: Sequence[str]) -> tuple[str, ...]:
    """Distinct offending values of the rule's first column, from the failing-row sample."""
    if not columns:
        return ()
    values: list[str] = []
    for row in sample:
        if not isinstance(row, dict) or rule_id not in (row.get("_rules") or ()) or columns[0] not in row:
            continue
        text = repr(row[columns[0]])
        if text not in values:
            values.append(text)
        if len(values) >= MAX_EXAMPLES:
            break
    return tuple(values)


def _impact(
    run: FailureRun, manifests: Sequence[QuarantineManifest], moves: Sequence[AliasMove],
    records: IncidentRecords, failing_runs: Sequence[str], now: datetime,
) -> Impact:
    runs = {r.run_id: r for r in records.runs}
    downstream: list[str] = []
    for run_id in failing_runs:
        summary = runs.get(run_id)
        if summary is None:
            continue
        downstream.extend(a for a in summary.not_materialized if a != run.asset_key and a not in downstream)
    pinned_for = timedelta(0)
    pinned_at: datetime | None = None
    versions: list[str] = []
    model = records.model_name or "model"
    for move in moves:
        if move.action is MoveAction.PIN:
            versions.append(f"{model} {_version(move.to_version)} (@{move.alias}, was {_version(move.from_version)})")
            pinned_at = pinned_at or move.at
        elif move.action is MoveAction.UNPIN and pinned_at is not None:
            pinned_for += move.at - pinned_at
            pinned_at = None
    still_pinned = pinned_at is not None
    if still_pinned:
        pinned_for += now - pinned_at  # type: ignore[operator]
    return Impact(
        failed_evaluations=len(run.failures),
        failed_runs=len(failing_runs),
        partitions=tuple(p for p in run.partitions if p is not None),
        batches_quarantined=tuple(m.batch_id for m in manifests),
        rows_quarantined=sum(m.rows_quarantined or 0 for m in manifests),
        batches_still_quarantined=tuple(m.batch_id for m in manifests if m.state is QuarantineState.QUARANTINED),
        batches_released=tuple(m.batch_id for m in manifests if m.state is QuarantineState.RELEASED),
        downstream_not_materialized=tuple(downstream),
        model_versions_pinned=tuple(versions),
        champion_pinned_for=pinned_for if versions else None,
        champion_still_pinned=still_pinned,
    )


def _version(version: int | None) -> str:
    """``v3``, or ``unset`` for an alias that pointed nowhere (never ``vNone``)."""
    return f"v{version}" if version is not None else "unset"


def _timeline(
    run: FailureRun, manifests: Sequence[QuarantineManifest], moves: Sequence[AliasMove],
    trips: Sequence[BreakerTrip], model: str | None,
) -> tuple[TimelineEvent, ...]:
    events: list[TimelineEvent] = []
    for index, evaluation in enumerate(run.failures):
        events.append(TimelineEvent(
            at=evaluation.timestamp, kind=EventKind.FIRST_FAILURE if index == 0 else EventKind.FAILURE,
            summary=_failure_summary(evaluation), run_id=evaluation.run_id or None, batch_id=evaluation.batch_id,
        ))
    for passing, left in run.passes:
        how = "release re-validation" if passing.release or not passing.run_id else f"run {passing.run_id[:8]}"
        outcome = "incident resolved" if not left else f"{left} failed partition{'s' if left != 1 else ''} still to pass"
        events.append(TimelineEvent(
            at=passing.timestamp, kind=EventKind.PASSED,
            summary=f"{passing.check_name} passed ({how}{_partition(passing)}); {outcome}",
            run_id=passing.run_id or None, batch_id=passing.batch_id,
        ))
    for manifest in manifests:
        for step in manifest.history:
            kind = {QuarantineState.QUARANTINED: EventKind.QUARANTINED, QuarantineState.RELEASED: EventKind.RELEASED,
                    QuarantineState.PURGED: EventKind.PURGED}[step.state]
            rows = f"{manifest.rows_quarantined:,} rows" if manifest.rows_quarantined is not None else "rows unknown"
            summary = {
                EventKind.QUARANTINED: f"batch {manifest.batch_id} quarantined ({rows}): {manifest.reason}",
                EventKind.RELEASED: f"batch {manifest.batch_id} released ({rows}): {step.reason}",
                EventKind.PURGED: f"batch {manifest.batch_id} purged: {step.reason}",
            }[kind]
            events.append(TimelineEvent(at=step.at, kind=kind, summary=summary + _actor(step.actor),
                                        run_id=manifest.run_id, batch_id=manifest.batch_id))
    for move in moves:
        # Holds, failures, condemnations, reverts, reconciles and observations have no kind of their own yet: the
        # summary names the action (move.action.value), the kind only groups them with alias moves.
        kind = {MoveAction.PIN: EventKind.ALIAS_PINNED, MoveAction.UNPIN: EventKind.ALIAS_UNPINNED}.get(
            move.action, EventKind.ALIAS_PROMOTED)
        where = f"{model or 'model'}@{move.alias}"
        change = (f"{_version(move.from_version)} -> {_version(move.to_version)}" if move.moved
                  else f"stays on {_version(move.to_version)}")
        events.append(TimelineEvent(at=move.at, kind=kind, run_id=move.run_id,
                                    summary=f"{where} {move.action.value}: {change} ({move.reason})" + _actor(move.by)))
    for trip in trips:
        stopped = ", ".join(f"{s.kind} {s.name}" for s in trip.stopped) or "nothing to stop"
        events.append(TimelineEvent(at=trip.tripped_at, kind=EventKind.BREAKER_TRIPPED,
                                    summary=f"circuit breaker tripped ({trip.reason}); stopped {stopped}"))
        if trip.rearmed_at is not None:
            events.append(TimelineEvent(at=trip.rearmed_at, kind=EventKind.BREAKER_REARMED,
                                        summary="circuit breaker re-armed" + _actor(trip.rearmed_by)))
    order = {kind: i for i, kind in enumerate(EventKind)}
    return tuple(sorted(events, key=lambda e: (e.at, order[e.kind])))


def _actor(actor: str) -> str:
    return f" [by {actor}]" if actor else ""


def _partition(evaluation: Evaluation) -> str:
    return f", partition {evaluation.partition}" if evaluation.partition else ""


def _failure_summary(evaluation: Evaluation) -> str:
    where = f"run {evaluation.run_id[:8]}" if evaluation.run_id else "runless"
    where += _partition(evaluation)
    if evaluation.from_manifest:
        where += "; read from the quarantine manifest, no evaluation was recorded"
    outcome = evaluation.outcome
    if outcome is None:
        return f"{evaluation.check_name} failed ({where}): {evaluation.description or 'no details'}"
    if outcome.status is CheckStatus.ERROR:
        return f"{evaluation.check_name} could not run ({where}): {outcome.error or outcome.message}"
    failed = outcome.failed_rules
    rules = ", ".join(f"{r.rule_id} ({r.failing_rows:,} rows)" if r.failing_rows else r.rule_id for r in failed[:4])
    more = f" and {len(failed) - 4} more" if len(failed) > 4 else ""
    rows = f" of {outcome.rows:,} rows" if outcome.rows is not None else ""
    return f"{evaluation.check_name} failed ({where}){rows}: {rules}{more}"


def _store_argument(location: str) -> str:
    """A store location as a person types it: a local ``file://`` URI as its plain path, any other URI as is.

    Example:
        >>> _store_argument("file:///srv/guardrails/quarantine"), _store_argument("s3://bucket/q")
        ('/srv/guardrails/quarantine', 's3://bucket/q')
    """
    parsed = urlparse(location)
    return url2pathname(parsed.path) if parsed.scheme == "file" and parsed.netloc in ("", "localhost") else location


def _actions(
    run: FailureRun, state: IncidentState, manifests: Sequence[QuarantineManifest], moves: Sequence[AliasMove],
    trips: Sequence[BreakerTrip], records: IncidentRecords, hypotheses: Sequence[Hypothesis],
) -> tuple[FollowUp, ...]:
    actions: list[FollowUp] = []
    if state is IncidentState.OPEN and hypotheses:
        actions.append(FollowUp(action=f"Confirm the likely cause with the upstream owner: {hypotheses[0].title}; "
                                "fix the producer, or change the contract in a reviewed PR if the new data is legitimate"))
    for manifest in manifests:
        if manifest.state is not QuarantineState.QUARANTINED:
            continue
        failure = _failure_of(run, manifest)
        recorded_store = (failure.quarantine_store if failure else None) or records.quarantine_location
        store = f" --store {shlex.quote(_store_argument(recorded_store))}" if recorded_store else ""
        superseded = next((p for p, _ in run.passes if failure is not None and p.partition == failure.partition
                           and p.run_id and not p.release and p.timestamp > manifest.quarantined_at), None)
        if superseded is not None:
            actions.append(FollowUp(
                action=f"superseded: purge batch {manifest.batch_id}; a good re-run (run {superseded.run_id[:8]}"
                       f"{_partition(superseded)}) replaced it, so the held data is no longer needed",
                command=f"guardrails quarantine purge {manifest.batch_id}{store}",
            ))
            continue
        contract = _contract_path(failure, manifest, records)
        as_of = manifest.outcome.as_of
        when = f" --as-of {as_of.isoformat()}" if as_of is not None else ""
        actions.append(FollowUp(
            action=f"Release batch {manifest.batch_id} once the upstream or the contract is fixed (re-checked, published once)",
            command=f"guardrails quarantine release {manifest.batch_id} --contract {contract}{store}{when}",
        ))
    pins = [m for m in moves if m.action is MoveAction.PIN]
    unpinned = any(m.action is MoveAction.UNPIN and m.at >= pins[-1].at for m in moves) if pins else True
    if not unpinned:
        model = records.model_name or "<model>"
        actions.append(FollowUp(
            action=f"Unpin {model}@{pins[-1].alias} once a version passes its checks again (automatic promotion resumes)",
            command=f"guardrails models unpin {model} --alias {pins[-1].alias} --reason \"incident resolved\"",
        ))
    for trip in trips:
        if trip.active:
            actions.append(FollowUp(
                action=f"Re-arm the circuit breaker on {run.asset_key} (restarts the stopped schedules/sensors)",
                command=f"guardrails incident rearm {run.asset_key}",
            ))
    if state is IncidentState.RESOLVED and not actions:
        actions.append(FollowUp(action="Nothing left to undo; write the postmortem from this report"))
    return tuple(actions)


def _failure_of(run: FailureRun, manifest: QuarantineManifest) -> Evaluation | None:
    """The failure that quarantined the batch: the one naming it, else the one from its run."""
    named = [e for e in run.failures if e.batch_id == manifest.batch_id]
    same_run = [e for e in run.failures if manifest.run_id and e.run_id == manifest.run_id]
    return (named or same_run or [None])[-1]


def _contract_path(failure: Evaluation | None, manifest: QuarantineManifest, records: IncidentRecords) -> str:
    """The contract file to release against: the one the evaluation recorded, else the file of the manifest's
    contract id in the contracts directory, else a placeholder to fill in."""
    path = (failure.contract_path if failure else None) or records.contract_paths.get(manifest.contract_id or "")
    return shlex.quote(path) if path else "<contract.odcs.yaml>"


def format_duration(value: timedelta | None) -> str:
    """A short human duration: ``850 ms``, ``42 s``, ``3 min 5 s``, ``2 h 4 min``, ``1 d 3 h``.

    Example:
        >>> format_duration(timedelta(minutes=3, seconds=5)), format_duration(timedelta(days=1, hours=3))
        ('3 min 5 s', '1 d 3 h')
    """
    if value is None:
        return "-"
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{max(seconds, 0) * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _at(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _sbar(incident: Incident, run: FailureRun, now: datetime) -> Sbar:
    impact = incident.impact
    n = impact.failed_evaluations
    partitions = len(impact.partitions)
    across = f" across {partitions} partitions" if partitions > 1 else ""
    situation = (f"`{incident.check_name}` on `{incident.asset_key}` failed {n} evaluation"
                 f"{'s' if n != 1 else ''}{across} ({impact.failed_runs} run{'s' if impact.failed_runs != 1 else ''}) "
                 f"since {_at(incident.detected_at)}; ")
    if incident.state is IncidentState.OPEN:
        situation += f"the incident is OPEN ({format_duration(now - incident.started_at)} so far)."
    else:
        situation += (f"RESOLVED at {_at(incident.resolved_at)} "  # type: ignore[arg-type]
                      f"after {format_duration(incident.time_to_resolve)}.")
    outcome = next((e.outcome for e in run.failures if e.outcome is not None), None)
    guarded_by = "its check"
    if outcome is not None and outcome.contract_id:
        version = f" v{outcome.contract_version}" if outcome.contract_version else ""
        guarded_by = f"contract `{outcome.contract_id}`{version}"
    last_pass = (f"last passed at {_at(run.last_pass_before.timestamp)}" if run.last_pass_before
                 else "no earlier passing evaluation on record")
    contained = (f"contained {format_duration(incident.time_to_contain)} after the step that produced the batch started"
                 if incident.contained_at else "nothing was held back (no quarantine, pin or breaker)")
    background = (f"`{incident.asset_key}` is guarded by {guarded_by}; {last_pass}. Detected "
                  f"{format_duration(incident.time_to_detect)} after the bad batch entered the pipeline; {contained}.")
    parts = []
    if incident.hypotheses:
        top = incident.hypotheses[0]
        parts.append(f"Most likely: {top.title} (score {top.score:.2f}).")
    if impact.batches_quarantined:
        held = len(impact.batches_still_quarantined)
        parts.append(f"{len(impact.batches_quarantined)} batch(es), {impact.rows_quarantined:,} rows quarantined"
                     f" ({held} still held).")
    if impact.downstream_not_materialized:
        parts.append("Not materialized downstream: " + ", ".join(f"`{a}`" for a in impact.downstream_not_materialized) + ".")
    if impact.model_versions_pinned:
        parts.append(f"Serving alias pinned for {format_duration(impact.champion_pinned_for)}"
                     f"{' and still pinned' if impact.champion_still_pinned else ''}.")
    if incident.breaker_tripped:
        parts.append("The circuit breaker stopped the feeding schedules/sensors.")
    assessment = " ".join(parts) or "No automatic action was taken."
    steps = [a.action for a in incident.actions[:2]]
    steps[1:] = [step[0].lower() + step[1:] for step in steps[1:]]
    more = len(incident.actions) - len(steps)
    recommendation = "; then ".join(steps) + (f" ({more} more follow-up(s) below)." if more > 0 else ".")
    return Sbar(situation=situation, background=background, assessment=assessment, recommendation=recommendation)
