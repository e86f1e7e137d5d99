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
    """One registered version as the guard sees it: its number, registry status and guardrail verdict."""

    version: int
    status: str
    verdict: Verdict | None = None
    run_id: str | None = None
    created_at: datetime | None = None

    @property
    def eligible(self) -> bool:
        """True when the alias may point here: the version is ready and its verdict passed."""
        return self.status == "READY" and self.verdict is not None and self.verdict.passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "status": self.status,
            "verdict": self.verdict.to_dict() if self.verdict else None,
            "run_id": self.run_id,
            "created_at": iso_or_none(self.created_at),
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
    """A registered model's guard state: its versions with verdicts, where the alias points, the pin."""

    name: str
    alias: str
    alias_version: int | None
    versions: tuple[ModelVersionState, ...]
    pin: Pin | None = None
    aliases: Mapping[str, int] = field(default_factory=dict)

    @property
    def pinned(self) -> bool:
        return self.pin is not None

    def version(self, number: int) -> ModelVersionState | None:
        return next((v for v in self.versions if v.version == number), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "alias": self.alias,
            "alias_version": self.alias_version,
            "pinned": self.pinned,
            "pin": self.pin.to_dict() if self.pin else None,
            "aliases": dict(self.aliases),
            "versions": [v.to_dict() for v in self.versions],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionResult:
    """Fields every guard action reports: how it ended, a one-line message, the cause of an error."""

    model: str
    alias: str
    status: ActionStatus
    message: str
    error: str | None = None
    move: AliasMove | None = None

    @property
    def ok(self) -> bool:
        """True when the registry is in the asked-for state (applied now or already so)."""
        return self.status in (ActionStatus.APPLIED, ActionStatus.NO_OP)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:  # type: ignore[attr-defined]
            value = getattr(self, name)
            data[name] = value.to_dict() if hasattr(value, "to_dict") else value
        data["status"] = self.status.value
        return data


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
