"""The model guard's vocabulary: verdicts, pins, alias moves and the typed results of guard actions.

Everything here is a frozen dataclass that survives a JSON round trip, so the CLI, the Dagster adapter and an
incident report can show the same facts without parsing prose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from guardrails._time import datetime_or_none, iso_or_none


class VerdictStatus(StrEnum):
    """What the guardrails concluded about one model version."""

    PASSED = "passed"
    FAILED = "failed"


class MoveAction(StrEnum):
    """Why an alias history entry was written."""

    PROMOTE = "promote"
    PIN = "pin"
    UNPIN = "unpin"
    HOLD = "hold"
    """Automatic promotion held (or more failing partitions joined the hold); the alias did not move."""
    UNHOLD = "unhold"
    """The hold was released: by hand, or because every failing partition passed again."""
    FAIL = "fail"
    """A version failed (its own checks); the alias moved off it (or stayed, when it was not on it)."""
    CONDEMN = "condemn"
    """A stored batch was condemned; the alias moved off the versions whose lineage includes it."""
    REVERT = "revert"
    """A promote found its version failed or unclean right after setting the alias, and moved it back."""
    RECONCILE = "reconcile"
    """The reconciler moved the alias off a failed or unclean version."""
    OBSERVED = "observed"
    """The alias was found on a version no recorded entry put it on (a move the guard did not make, or a
    set-alias delivered after the guard gave up on it); recorded as seen, not made."""
    CHALLENGE = "challenge"
    """A candidate started serving a share of traffic under a challenger alias (a canary); the entry's `alias` is
    the challenger alias, not the guarded one."""
    RETIRE = "retire"
    """A challenger alias was removed from its candidate (the canary ended): no more traffic reaches it;
    `to_version` is None."""


class ActionStatus(StrEnum):
    """How a guard action ended.

    `APPLIED`: the registry changed as asked. `NO_OP`: it was already in that state, nothing was written.
    `REFUSED`: the guard said no (a pin is active, the version is unverified, no version passed) and moved
    nothing. `ERROR`: the registry could not be reached or failed; nothing (further) was moved (fail closed).
    """

    APPLIED = "applied"
    NO_OP = "no_op"
    REFUSED = "refused"
    ERROR = "error"


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchRef:
    """One batch a model version saw: asset key, partition, which materialization, and which contract judged it.

    Identity: ``(asset, partition)`` names the partition; with `batch_id` (or, failing that, `content_hash`) it
    names one batch of it. Condemning a `BatchRef` with an id distrusts only versions that saw that exact batch;
    without one, every version that saw any batch of that partition (or of the asset, when `partition` is None).

    Example:
        >>> BatchRef(asset="clean_transactions", partition="2026-11-03", batch_id="b-7").label
        'clean_transactions[2026-11-03]#b-7'
    """

    asset: str
    partition: str | None = None
    batch_id: str | None = None
    content_hash: str | None = None
    contract_id: str | None = None
    contract_version: str | None = None
    run_id: str | None = None

    def __post_init__(self) -> None:
        if not self.asset:
            raise ValueError("asset: expected an asset key such as 'clean_transactions', got ''")

    @property
    def identity(self) -> str | None:
        """The batch's own id: `batch_id`, else `content_hash`, else None (the partition only)."""
        return self.batch_id or self.content_hash

    @property
    def label(self) -> str:
        """A short human name: ``asset[partition]#id``."""
        text = self.asset + (f"[{self.partition}]" if self.partition is not None else "")
        return text + (f"#{self.identity}" if self.identity else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BatchRef:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True, kw_only=True)
class Lineage:
    """What a model version saw: the batches it was trained on and those it was evaluated on."""

    trained_on: tuple[BatchRef, ...] = ()
    evaluated_on: tuple[BatchRef, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "trained_on", tuple(self.trained_on))
        object.__setattr__(self, "evaluated_on", tuple(self.evaluated_on))

    @property
    def batches(self) -> tuple[BatchRef, ...]:
        """Every batch, trained-on first, each once."""
        return tuple(dict.fromkeys((*self.trained_on, *self.evaluated_on)))

    def to_dict(self) -> dict[str, Any]:
        return {"trained_on": [b.to_dict() for b in self.trained_on],
                "evaluated_on": [b.to_dict() for b in self.evaluated_on]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lineage:
        return cls(trained_on=tuple(BatchRef.from_dict(b) for b in data.get("trained_on", ())),
                   evaluated_on=tuple(BatchRef.from_dict(b) for b in data.get("evaluated_on", ())))


@dataclass(frozen=True, slots=True, kw_only=True)
class Condemnation:
    """A stored batch that a later check condemned: every version whose lineage includes it is distrusted."""

    batch: BatchRef
    reason: str
    check: str | None = None
    run_id: str | None = None
    at: datetime
    by: str

    def to_dict(self) -> dict[str, Any]:
        return {"batch": self.batch.to_dict(), "reason": self.reason, "check": self.check, "run_id": self.run_id,
                "at": iso_or_none(self.at), "by": self.by}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Condemnation:
        at = datetime_or_none(data["at"])
        if at is None:
            raise ValueError("at: a condemnation records when it was made, got none")
        return cls(batch=BatchRef.from_dict(data["batch"]), reason=data.get("reason", ""), check=data.get("check"),
                   run_id=data.get("run_id"), at=at, by=data.get("by", ""))


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldFailure:
    """One failing (check, partition) that keeps a hold on; `partition` None for a failure with no batch
    (freshness: the data did not arrive). `at`: when the failing evaluation ran (``hold(at=...)``; the guard's
    clock when not given); only a pass evaluated at or after it releases the pair."""

    check: str
    partition: str | None = None
    run_id: str | None = None
    at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(asdict(self), at=iso_or_none(self.at))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HoldFailure:
        return cls(check=data["check"], partition=data.get("partition"), run_id=data.get("run_id"),
                   at=datetime_or_none(data.get("at")))


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    """Automatic promotion is held: the alias stays where it is and `promote` is refused until released.

    Released when every entry of `failing` has a later passing evaluation (`ModelGuard.release_hold`, the same
    rule as an incident's resolution) or by hand (`ModelGuard.unhold`).
    """

    reason: str
    incident: str | None = None
    run_id: str | None = None
    at: datetime
    by: str
    failing: tuple[HoldFailure, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "failing", tuple(self.failing))

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "incident": self.incident, "run_id": self.run_id, "at": iso_or_none(self.at),
                "by": self.by, "failing": [f.to_dict() for f in self.failing]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Hold:
        return cls(reason=data.get("reason", ""), incident=data.get("incident"), run_id=data.get("run_id"),
                   at=datetime_or_none(data["at"]), by=data.get("by", ""),  # type: ignore[arg-type]
                   failing=tuple(HoldFailure.from_dict(f) for f in data.get("failing", ())))


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The guardrails' verdict on a model version: passed or failed, which checks, which run, when and why."""

    status: VerdictStatus
    checks: tuple[str, ...] = ()
    run_id: str | None = None
    at: datetime | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", VerdictStatus(self.status))
        object.__setattr__(self, "checks", tuple(self.checks))

    @property
    def passed(self) -> bool:
        return self.status is VerdictStatus.PASSED

    def to_dict(self) -> dict[str, Any]:
        return dict(asdict(self), status=self.status.value, checks=list(self.checks), at=iso_or_none(self.at))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        return cls(
            status=VerdictStatus(data["status"]),
            checks=tuple(data.get("checks", ())),
            run_id=data.get("run_id"),
            at=datetime_or_none(data.get("at")),
            reason=data.get("reason", ""),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelVersionState:
    """One registered version as the guard sees it: number, registry status, verdict, lineage, cleanliness, and
    the checks it must pass before the alias may rest on it.

    `lineage` is None when none was recorded (the version is then clean as far as anyone knows); `tainted_by`
    lists the condemned batches its lineage includes. `requires` are the checks whose ``pass`` the alias needs
    (``guardrails.requires`` on the version or the model, e.g. ``("canary",)`` once a canary started); `checks`
    holds each check's last recorded verdict on the version (``guardrails.check.<check>``, e.g.
    ``{"canary": "inconclusive"}``).

    Example:
        >>> state = ModelVersionState(version=3, status="READY", verdict=Verdict(status="passed"),
        ...                           requires=("canary",), checks={"canary": "inconclusive"})
        >>> state.eligible, state.unmet, state.ineligible_because
        (False, ('canary',), 'awaiting canary (inconclusive so far)')
    """

    version: int
    status: str
    verdict: Verdict | None = None
    run_id: str | None = None
    created_at: datetime | None = None
    lineage: Lineage | None = None
    tainted_by: tuple[BatchRef, ...] = ()
    requires: tuple[str, ...] = ()
    checks: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tainted_by", tuple(self.tainted_by))
        object.__setattr__(self, "requires", tuple(dict.fromkeys(self.requires)))
        object.__setattr__(self, "checks", dict(self.checks))

    @property
    def clean(self) -> bool:
        """True when no batch in the version's lineage has been condemned."""
        return not self.tainted_by

    @property
    def failed(self) -> bool:
        """True when the version failed: its verdict failed, or its lineage includes a condemned batch."""
        return (self.verdict is not None and not self.verdict.passed) or not self.clean

    @property
    def unmet(self) -> tuple[str, ...]:
        """The required checks with no recorded ``pass`` on this version (``("canary",)`` while its canary runs)."""
        return tuple(c for c in self.requires if self.checks.get(c) != "pass")

    @property
    def blocked(self) -> bool:
        """True when the alias must not rest here: the version failed, or a check it requires has not passed."""
        return self.failed or bool(self.unmet)

    @property
    def eligible(self) -> bool:
        """True when the alias may point here: the version is READY, its verdict passed, its lineage is clean and
        every check it requires passed. The one rule every alias move (promote, pin, fallback, reconcile) uses."""
        return (self.status == "READY" and self.verdict is not None and self.verdict.passed and self.clean
                and not self.unmet)

    @property
    def ineligible_because(self) -> str:
        """Why the alias may not point here, in a few words (``awaiting canary``, ``failed``, ...); '' if it may."""
        if self.status != "READY":
            return f"registry status {self.status}"
        if not self.clean:
            return "unclean lineage"
        if self.verdict is None:
            return "unverified"
        if not self.verdict.passed:
            return "failed"
        if unmet := self.unmet:
            return "; ".join(f"awaiting {c}" + (f" ({self.checks[c]} so far)" if self.checks.get(c) else "")
                             for c in unmet)
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "status": self.status,
            "verdict": self.verdict.to_dict() if self.verdict else None,
            "run_id": self.run_id,
            "created_at": iso_or_none(self.created_at),
            "lineage": self.lineage.to_dict() if self.lineage else None,
            "clean": self.clean,
            "tainted_by": [b.to_dict() for b in self.tainted_by],
            "requires": list(self.requires),
            "checks": dict(self.checks),
            "unmet": list(self.unmet),
            "eligible": self.eligible,
            "ineligible_because": self.ineligible_because,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Pin:
    """An active pin: the alias is held on `version` (moved there from `from_version`) until someone unpins it.

    `key` is the idempotency key of the pin (failing version and the triggering check run); `history_id`
    names the history entry that records it, so an interrupted pin can be completed on retry.
    """

    alias: str
    version: int
    from_version: int | None
    failing_version: int
    reason: str
    check: str | None = None
    run_id: str | None = None
    at: datetime
    by: str
    key: str
    history_id: str

    def to_dict(self) -> dict[str, Any]:
        return dict(asdict(self), at=iso_or_none(self.at))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pin:
        return cls(**dict(data, at=datetime_or_none(data["at"])))


@dataclass(frozen=True, slots=True, kw_only=True)
class AliasMove:
    """One entry of the alias history: which alias went from which version to which, why, when, and by whom.

    `seq` orders entries (each action reads the log and appends at the next position); `id` is unique and
    deterministic for a given (seq, action, alias, from, to), so two concurrent identical actions write the
    same entry once. A pin that finds the alias already on the best good version, and an unpin, are recorded
    too, with ``from_version == to_version``; `moved` tells real moves apart.
    """

    id: str
    seq: int
    action: MoveAction
    alias: str
    from_version: int | None
    to_version: int | None
    reason: str
    check: str | None = None
    run_id: str | None = None
    at: datetime
    by: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", MoveAction(self.action))

    @property
    def moved(self) -> bool:
        return self.from_version != self.to_version

    def to_dict(self) -> dict[str, Any]:
        return dict(asdict(self), action=self.action.value, at=iso_or_none(self.at))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AliasMove:
        return cls(**dict(data, action=MoveAction(data["action"]), at=datetime_or_none(data["at"])))


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelStatus:
    """A registered model's guard state: versions with verdicts and lineage, the alias, pin, hold, condemned batches."""

    name: str
    alias: str
    alias_version: int | None
    versions: tuple[ModelVersionState, ...]
    pin: Pin | None = None
    aliases: Mapping[str, int] = field(default_factory=dict)
    hold: Hold | None = None
    condemned: tuple[Condemnation, ...] = ()

    @property
    def pinned(self) -> bool:
        return self.pin is not None

    @property
    def held(self) -> bool:
        return self.hold is not None

    def version(self, number: int) -> ModelVersionState | None:
        return next((v for v in self.versions if v.version == number), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "alias": self.alias,
            "alias_version": self.alias_version,
            "pinned": self.pinned,
            "pin": self.pin.to_dict() if self.pin else None,
            "held": self.held,
            "hold": self.hold.to_dict() if self.hold else None,
            "condemned": [c.to_dict() for c in self.condemned],
            "aliases": dict(self.aliases),
            "versions": [v.to_dict() for v in self.versions],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionResult:
    """Fields every guard action reports: how it ended, a one-line message, the cause of an error.

    `observed_version` is where the alias was actually seen when the action ended. After a registry error it is
    read back over the guard's settle window, so ERROR either means nothing moved or says what did (a set-alias
    can land after the client gave up); None when it could not be read.
    """

    model: str
    alias: str
    status: ActionStatus
    message: str
    error: str | None = None
    move: AliasMove | None = None
    observed_version: int | None = None

    @property
    def ok(self) -> bool:
        """True when the registry is in the asked-for state (applied now or already so)."""
        return self.status in (ActionStatus.APPLIED, ActionStatus.NO_OP)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:  # type: ignore[attr-defined]
            value = getattr(self, name)
            data[name] = ActionResult._plain(value)
        data["status"] = self.status.value
        return data

    @staticmethod
    def _plain(value: Any) -> Any:
        if hasattr(value, "to_dict"):
            return value.to_dict()
        if isinstance(value, tuple):
            return [ActionResult._plain(v) for v in value]
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class PromoteResult(ActionResult):
    """The outcome of asking to point the alias at `version`."""

    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PinResult(ActionResult):
    """The outcome of pinning after `failing_version` failed: where the alias went and the pin now held."""

    failing_version: int
    pin: Pin | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnpinResult(ActionResult):
    """The outcome of releasing a pin; `released` is the pin that was lifted."""

    released: Pin | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldResult(ActionResult):
    """The outcome of `hold`, `release_hold` or `unhold`: the hold now in force (None once released)."""

    hold: Hold | None = None
    released: Hold | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FailResult(ActionResult):
    """The outcome of a model's own failure: `version` tagged failed, the alias moved off it if it was there."""

    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CondemnResult(ActionResult):
    """The outcome of condemning a stored batch: the versions whose lineage includes it, now tagged failed."""

    batch: BatchRef
    failed_versions: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconcileResult(ActionResult):
    """The outcome of one reconcile: the out-of-band move it recorded (`observed`) and the repair it made (`move`)."""

    observed: AliasMove | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChallengerResult(ActionResult):
    """The outcome of starting or ending a candidate's canary: `alias` is the challenger alias it moved or removed."""

    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CanaryResult(ActionResult):
    """The outcome of judging a candidate by its canary (`ModelGuard.judge_canary`).

    `verdict` is the canary's (``pass``, ``fail``, ``inconclusive``, ``error``); `steps` are the guard actions it
    took, in order (a fail: `FailResult` then `ChallengerResult`; a pass: `PromoteResult` then, when the candidate
    was promoted, `ChallengerResult`; nothing for inconclusive or error). `move` is the champion alias's move.
    """

    version: int
    verdict: str
    challenger: str
    steps: tuple[ActionResult, ...] = ()
