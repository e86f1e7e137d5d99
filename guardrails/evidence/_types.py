"""The records an evidence pack is assembled from, and the pack itself: frozen, JSON round-trippable.

Adapters fill `EvidenceRecords` (the Dagster one: `guardrails.dagster.evidence.gather_evidence_records`); the
builder (`build_evidence_pack`) only selects, orders and joins them, so the pack says nothing the records do not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from guardrails._time import datetime_or_none, iso_or_none
from guardrails.incidents import Evaluation
from guardrails.models import AliasMove, ModelStatus, ModelVersionState
from guardrails.quarantine import QuarantineManifest


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckEvidence:
    """One check evaluation, with the model version it judged when it names one (a check on the model itself)."""

    evaluation: Evaluation
    model_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"model_version": self.model_version, **self.evaluation.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckEvidence:
        return cls(evaluation=Evaluation.from_dict(data), model_version=data.get("model_version"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoredBatch:
    """A batch of decisions a model version made: which asset partition it scored, when, in which run."""

    asset: str
    partition: str | None
    version: int
    at: datetime
    run_id: str = ""
    rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"asset": self.asset, "partition": self.partition, "version": self.version,
                "at": self.at.isoformat(), "run_id": self.run_id, "rows": self.rows}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoredBatch:
        return cls(asset=data["asset"], partition=data.get("partition"), version=int(data["version"]),
                   at=datetime.fromisoformat(data["at"]), run_id=data.get("run_id") or "", rows=data.get("rows"))


@dataclass(frozen=True, slots=True, kw_only=True)
class KeptBatch:
    """A quarantine manifest with the asset partition it was kept from (the adapter reads that from its source)."""

    asset: str | None
    partition: str | None
    manifest: QuarantineManifest

    def to_dict(self) -> dict[str, Any]:
        return {"asset": self.asset, "partition": self.partition, "manifest": self.manifest.to_dict()}


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentMetrics:
    """The per-segment tables one fairness evaluation recorded (rows as plain mappings, as the check wrote them)."""

    asset_key: str
    check_name: str
    timestamp: datetime
    partition: str | None = None
    model_version: int | None = None
    verdict: str = ""
    gaps: tuple[Mapping[str, Any], ...] = ()
    segments: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "gaps", tuple(dict(g) for g in self.gaps))
        object.__setattr__(self, "segments", tuple(dict(s) for s in self.segments))

    def to_dict(self) -> dict[str, Any]:
        return {"asset_key": self.asset_key, "check_name": self.check_name, "timestamp": self.timestamp.isoformat(),
                "partition": self.partition, "model_version": self.model_version, "verdict": self.verdict,
                "gaps": [dict(g) for g in self.gaps], "segments": [dict(s) for s in self.segments]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentMetrics:
        return cls(asset_key=data["asset_key"], check_name=data["check_name"],
                   timestamp=datetime.fromisoformat(data["timestamp"]), partition=data.get("partition"),
                   model_version=data.get("model_version"), verdict=data.get("verdict", ""),
                   gaps=tuple(data.get("gaps", ())), segments=tuple(data.get("segments", ())))


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceRecords:
    """Everything kept about one registered model and the data around it; the pack builder's only input.

    `status` and `alias_moves` come from the registry (None / empty, with a note, when it could not be read);
    `checks` are evaluations of the model's own checks (`model_version` set) and of the checks on the data around
    it; `assets` names the assets whose checks count as the model's inputs besides those its lineage and scored
    batches name (the Dagster adapter passes every guarded asset of the instance). `kept` are quarantine
    manifests with the asset partition each was kept from.
    """

    model_name: str
    alias: str = "champion"
    status: ModelStatus | None = None
    alias_moves: tuple[AliasMove, ...] = ()
    checks: tuple[CheckEvidence, ...] = ()
    scored: tuple[ScoredBatch, ...] = ()
    kept: tuple[KeptBatch, ...] = ()
    assets: tuple[str, ...] = ()
    segment_metrics: tuple[SegmentMetrics, ...] = ()
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("alias_moves", "checks", "scored", "kept", "assets", "segment_metrics", "notes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


@dataclass(frozen=True, slots=True, kw_only=True)
class ServingPeriod:
    """A version served under the alias from `start` until `end` (None: still serving), put there by `action`."""

    version: int
    start: datetime
    end: datetime | None
    action: str
    reason: str
    by: str

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "start": self.start.isoformat(), "end": iso_or_none(self.end),
                "action": self.action, "reason": self.reason, "by": self.by}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServingPeriod:
        return cls(version=int(data["version"]), start=datetime.fromisoformat(data["start"]),
                   end=datetime_or_none(data.get("end")), action=data["action"], reason=data["reason"],
                   by=data["by"])


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionEvidence:
    """One version: its registry state (verdict, lineage, taint), whether it served in the window, what it scored."""

    state: ModelVersionState
    served: bool = False
    scored: tuple[ScoredBatch, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**self.state.to_dict(), "served_in_window": self.served,
                "scored": [s.to_dict() for s in self.scored]}


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidencePack:
    """Which model decided what, on which data, with which checks, between `since` and `until`.

    `serving` is the alias's timeline (clipped to the window); `versions` the versions that served, were trained,
    judged or scored in it; `checks` every evaluation on those versions, their lineage's batches and their scored
    batches; `history` every alias-history entry in the window (promotions, holds, pins, failures with reasons);
    `kept` the quarantine manifests of the batches involved; `fairness` the per-segment metrics recorded.
    `notes` says which sources could not be read: a pack with notes is incomplete, and says so.
    """

    model_name: str
    alias: str
    generated_at: datetime
    since: datetime | None = None
    until: datetime | None = None
    alias_version: int | None = None
    serving: tuple[ServingPeriod, ...] = ()
    versions: tuple[VersionEvidence, ...] = ()
    checks: tuple[CheckEvidence, ...] = ()
    history: tuple[AliasMove, ...] = ()
    hold: Mapping[str, Any] | None = None
    pin: Mapping[str, Any] | None = None
    condemned: tuple[Mapping[str, Any], ...] = ()
    kept: tuple[KeptBatch, ...] = ()
    fairness: tuple[SegmentMetrics, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def failed_checks(self) -> tuple[CheckEvidence, ...]:
        return tuple(c for c in self.checks if not c.evaluation.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "alias": self.alias,
            "generated_at": self.generated_at.isoformat(),
            "since": iso_or_none(self.since),
            "until": iso_or_none(self.until),
            "alias_version": self.alias_version,
            "serving": [p.to_dict() for p in self.serving],
            "versions": [v.to_dict() for v in self.versions],
            "checks": [c.to_dict() for c in self.checks],
            "history": [m.to_dict() for m in self.history],
            "hold": dict(self.hold) if self.hold else None,
            "pin": dict(self.pin) if self.pin else None,
            "condemned": [dict(c) for c in self.condemned],
            "quarantined": [k.to_dict() for k in self.kept],
            "fairness": [f.to_dict() for f in self.fairness],
            "notes": list(self.notes),
        }

