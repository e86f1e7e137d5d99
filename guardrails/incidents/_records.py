"""The plain records an incident report is built from, free of any orchestrator vocabulary.

Adapters fill them: the Dagster gatherer turns check history entries and run records into `Evaluation` and
`RunSummary`; quarantine manifests (`guardrails.quarantine.QuarantineManifest`) and alias moves
(`guardrails.models.AliasMove`) are used as they are; `BreakerTrip` comes from the incident state store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from guardrails._time import datetime_or_none, iso_or_none
from guardrails.models import AliasMove
from guardrails.outcome import CheckOutcome, CheckStatus
from guardrails.quarantine import QuarantineManifest




@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    """One finished evaluation of one check on one asset (a batch audited, or a release re-validated).

    `passed` is the verdict; an evaluation that could not run (outcome status ``error``) is a failure too
    (fail closed). `run_id` is empty for runless evaluations; `release` marks the re-validation a release recorded
    (in a run of its own), as opposed to a run of the pipeline.
    `run_started_at` is when the run that produced the batch started: the earliest moment the bad data was in
    the pipeline, from which time to detect is measured. `partition` is the partition the verdict is about
    (None for an unpartitioned asset: one partition). `contract_path` and `quarantine_store` are the contract
    file and the quarantine store the evaluation used, when it recorded them (release commands name them).
    `from_manifest` marks a failure read from a quarantine manifest because no failed evaluation was recorded.
    """

    asset_key: str
    check_name: str
    timestamp: datetime
    passed: bool
    run_id: str = ""
    run_status: str | None = None
    run_started_at: datetime | None = None
    outcome: CheckOutcome | None = None
    batch_id: str | None = None
    partition: str | None = None
    severity: str | None = None
    description: str | None = None
    contract_path: str | None = None
    quarantine_store: str | None = None
    from_manifest: bool = False
    release: bool = False

    @property
    def could_not_run(self) -> bool:
        return self.outcome is not None and self.outcome.status is CheckStatus.ERROR

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset_key": self.asset_key,
            "check_name": self.check_name,
            "timestamp": self.timestamp.isoformat(),
            "passed": self.passed,
            "run_id": self.run_id,
            "run_status": self.run_status,
            "run_started_at": iso_or_none(self.run_started_at),
            "outcome": self.outcome.to_dict() if self.outcome is not None else None,
            "batch_id": self.batch_id,
            "partition": self.partition,
            "severity": self.severity,
            "description": self.description,
            "contract_path": self.contract_path,
            "quarantine_store": self.quarantine_store,
            "from_manifest": self.from_manifest,
            "release": self.release,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        outcome = data.get("outcome")
        return cls(
            asset_key=data["asset_key"],
            check_name=data["check_name"],
            timestamp=datetime.fromisoformat(data["timestamp"]),
            passed=bool(data["passed"]),
            run_id=data.get("run_id") or "",
            run_status=data.get("run_status"),
            run_started_at=datetime_or_none(data.get("run_started_at")),
            outcome=CheckOutcome.from_dict(outcome) if outcome else None,
            batch_id=data.get("batch_id"),
            partition=data.get("partition"),
            severity=data.get("severity"),
            description=data.get("description"),
            contract_path=data.get("contract_path"),
            quarantine_store=data.get("quarantine_store"),
            from_manifest=bool(data.get("from_manifest", False)),
            release=bool(data.get("release", False)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSummary:
    """What a run set out to materialize and what it did: the difference is what a failure kept from consumers."""

    run_id: str
    status: str
    started_at: datetime | None = None
    ended_at: datetime | None = None
    planned_assets: tuple[str, ...] = ()
    materialized_assets: tuple[str, ...] = ()
    step_started_at: Mapping[str, datetime] = field(default_factory=dict)
    """When the step that produces each planned asset started (asset user string -> time): the moment a batch
    of that asset came into being, from which time to contain is measured."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "planned_assets", tuple(self.planned_assets))
        object.__setattr__(self, "materialized_assets", tuple(self.materialized_assets))

    @property
    def not_materialized(self) -> tuple[str, ...]:
        done = set(self.materialized_assets)
        return tuple(a for a in self.planned_assets if a not in done)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoppedInstigator:
    """A schedule or sensor the circuit breaker stopped, with what is needed to start it again."""

    kind: str  # "schedule" | "sensor"
    name: str
    origin_id: str
    selector_id: str
    previous_status: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "origin_id": self.origin_id,
                "selector_id": self.selector_id, "previous_status": self.previous_status}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoppedInstigator:
        return cls(**{k: data[k] for k in ("kind", "name", "origin_id", "selector_id", "previous_status")})


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerTrip:
    """The circuit breaker opened for an asset: when, why, what it stopped, and when someone re-armed it."""

    asset_key: str
    tripped_at: datetime
    reason: str
    stopped: tuple[StoppedInstigator, ...] = ()
    rearmed_at: datetime | None = None
    rearmed_by: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "stopped", tuple(self.stopped))

    @property
    def active(self) -> bool:
        return self.rearmed_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset_key": self.asset_key,
            "tripped_at": self.tripped_at.isoformat(),
            "reason": self.reason,
            "stopped": [s.to_dict() for s in self.stopped],
            "rearmed_at": iso_or_none(self.rearmed_at),
            "rearmed_by": self.rearmed_by,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BreakerTrip:
        return cls(
            asset_key=data["asset_key"],
            tripped_at=datetime.fromisoformat(data["tripped_at"]),
            reason=data["reason"],
            stopped=tuple(StoppedInstigator.from_dict(s) for s in data.get("stopped", ())),
            rearmed_at=datetime_or_none(data.get("rearmed_at")),
            rearmed_by=data.get("rearmed_by", ""),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentRecords:
    """Everything known about the recent past, as gathered by an adapter; the report builder's only input.

    `contract_paths` maps contract ids to the files they live in, so release commands can name the file;
    `model_name` names the registered model whose alias history `alias_moves` is. `notes` says which sources
    could not be read and why (e.g. the model registry was unreachable), so the report says it is incomplete.
    """

    evaluations: tuple[Evaluation, ...] = ()
    manifests: tuple[QuarantineManifest, ...] = ()
    alias_moves: tuple[AliasMove, ...] = ()
    runs: tuple[RunSummary, ...] = ()
    breaker_trips: tuple[BreakerTrip, ...] = ()
    model_name: str | None = None
    contract_paths: Mapping[str, str] = field(default_factory=dict)
    quarantine_location: str | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("evaluations", "manifests", "alias_moves", "runs", "breaker_trips", "notes"):
            value: Sequence[Any] = getattr(self, name)
            object.__setattr__(self, name, tuple(value))
