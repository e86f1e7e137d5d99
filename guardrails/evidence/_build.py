"""Assemble an evidence pack from the records: select what concerns the model in the window, order, join.

Example:
    >>> from datetime import UTC, datetime
    >>> pack = build_evidence_pack(EvidenceRecords(model_name="fraud_detector"), now=datetime(2026, 11, 4, tzinfo=UTC))
    >>> pack.model_name, pack.serving, pack.notes
    ('fraud_detector', (), ())
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from guardrails.evidence._types import EvidencePack, EvidenceRecords, ServingPeriod, VersionEvidence
from guardrails.models import AliasMove


def serving_periods(moves: Iterable[AliasMove], alias: str) -> tuple[ServingPeriod, ...]:
    """The alias's timeline from its history: each version it rested on, from the entry that put it there to the
    next entry that moved it (entries that leave it where it is, holds and no-op pins, do not cut a period)."""
    periods: list[ServingPeriod] = []
    for move in sorted((m for m in moves if m.alias == alias), key=lambda m: (m.seq, m.at)):
        current = periods[-1] if periods else None
        if current is not None and current.end is None and current.version == move.to_version:
            continue
        if current is not None and current.end is None:
            periods[-1] = ServingPeriod(version=current.version, start=current.start, end=move.at,
                                        action=current.action, reason=current.reason, by=current.by)
        if move.to_version is not None:
            periods.append(ServingPeriod(version=move.to_version, start=move.at, end=None,
                                         action=move.action.value, reason=move.reason, by=move.by))
    return tuple(periods)


def _in_window(moment: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or moment >= since) and (until is None or moment <= until)


def _overlaps(period: ServingPeriod, since: datetime | None, until: datetime | None) -> bool:
    return (until is None or period.start <= until) and (since is None or period.end is None or period.end >= since)


def build_evidence_pack(
    records: EvidenceRecords,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> EvidencePack:
    """The pack for `records.model_name` between `since` and `until` (both inclusive; None = unbounded).

    Versions in the pack: those that served in the window, were registered in it, or were judged or scored in it.
    Checks: the model's own (their `model_version` is one of its versions) and those on the assets its versions'
    lineage and scored batches name, or `records.assets`, evaluated in the window. Quarantine manifests: those a
    kept check names, or kept from one of those assets in the window.
    """
    status = records.status
    states = {v.version: v for v in status.versions} if status is not None else {}
    periods = tuple(p for p in serving_periods(records.alias_moves, records.alias) if _overlaps(p, since, until))
    checks = tuple(c for c in records.checks if _in_window(c.evaluation.timestamp, since, until))
    scored = tuple(s for s in records.scored if _in_window(s.at, since, until))
    wanted = {p.version for p in periods} | {s.version for s in scored}
    wanted |= {c.model_version for c in checks if c.model_version is not None}
    wanted |= {n for n, v in states.items() if v.created_at is not None and _in_window(v.created_at, since, until)}
    if since is None and until is None:
        wanted |= set(states)
    if status is not None:  # a check naming a version the registry does not have is another model's
        wanted &= set(states)
    assets = set(records.assets) | {s.asset for s in records.scored}
    for number in wanted:
        lineage = states[number].lineage if number in states else None
        assets |= {b.asset for b in lineage.batches} if lineage is not None else set()
    kept_checks = tuple(sorted(
        (c for c in checks
         if (c.model_version in wanted if c.model_version is not None else c.evaluation.asset_key in assets)),
        key=lambda c: (c.evaluation.timestamp, c.evaluation.asset_key, c.evaluation.check_name),
    ))
    named = {c.evaluation.batch_id for c in kept_checks if c.evaluation.batch_id}
    kept = tuple(k for k in records.kept if k.manifest.batch_id in named
                 or (k.asset in assets and _in_window(k.manifest.quarantined_at, since, until)))
    versions = tuple(
        VersionEvidence(state=states[n], served=any(p.version == n for p in periods),
                        scored=tuple(s for s in scored if s.version == n))
        for n in sorted(wanted) if n in states
    )
    history = tuple(m for m in sorted(records.alias_moves, key=lambda m: m.seq) if _in_window(m.at, since, until))
    fairness = tuple(sorted(
        (f for f in records.segment_metrics if _in_window(f.timestamp, since, until)
         and (f.model_version in wanted if f.model_version is not None else f.asset_key in assets)),
        key=lambda f: f.timestamp,
    ))
    return EvidencePack(
        model_name=records.model_name,
        alias=records.alias,
        generated_at=now or datetime.now(UTC),
        since=since,
        until=until,
        alias_version=status.alias_version if status is not None else None,
        serving=periods,
        versions=versions,
        checks=kept_checks,
        history=history,
        hold=status.hold.to_dict() if status is not None and status.hold is not None else None,
        pin=status.pin.to_dict() if status is not None and status.pin is not None else None,
        condemned=tuple(c.to_dict() for c in status.condemned) if status is not None else (),
        kept=kept,
        fairness=fairness,
        notes=records.notes,
    )
