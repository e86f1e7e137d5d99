"""One read of a model as the guard sees it (`_Snapshot`), and the words the guard uses to describe it.

Pure: no registry calls here, so the eligibility rule (`ModelVersionState.eligible`: READY, verdict passed,
lineage clean, every required check passed) lives in one place, every alias move (promote, pin, fail, condemn,
reconcile) targets "the highest eligible version", and the messages of every action describe versions, holds and
aliases the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from guardrails.models._registry import ModelRegistry, RegisteredModelRecord
from guardrails.models._tags import history_from_tags, hold_from_tags, pin_from_tags
from guardrails.models._types import AliasMove, Condemnation, Hold, ModelVersionState, Pin


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """One consistent-enough read of the model: tags, aliases, every version with verdict, lineage, taint,
    required checks and check verdicts."""

    model: RegisteredModelRecord
    versions: tuple[ModelVersionState, ...]
    alias: str
    condemned: dict[str, Condemnation] = field(default_factory=dict)

    @property
    def pin(self) -> Pin | None:
        return pin_from_tags(self.model.tags)

    @property
    def hold(self) -> Hold | None:
        return hold_from_tags(self.model.tags)

    @property
    def alias_version(self) -> int | None:
        return self.model.aliases.get(self.alias)

    @property
    def history(self) -> tuple[AliasMove, ...]:
        return history_from_tags(self.model.tags)

    @property
    def next_seq(self) -> int:
        return max((e.seq for e in self.history), default=0) + 1

    @property
    def pin_complete(self) -> bool:
        pin = self.pin
        return (
            pin is not None
            and self.alias_version == pin.version
            and any(e.id == pin.history_id for e in self.history)
        )

    def version(self, number: int) -> ModelVersionState | None:
        return next((v for v in self.versions if v.version == number), None)

    def best(self, *, excluding: Iterable[int] = ()) -> int | None:
        """The highest eligible version (READY, passed, clean, required checks passed), or None."""
        skip = set(excluding)
        return max((v.version for v in self.versions if v.eligible and v.version not in skip), default=None)

    @property
    def alias_on_blocked(self) -> bool:
        """True when the alias rests on a version that failed, whose lineage includes a condemned batch, or that
        awaits a required check (a canary candidate moved there by hand)."""
        if self.alias_version is None:
            return False
        current = self.version(self.alias_version)
        return current is not None and current.blocked


def _v(version: int | None) -> str:
    return f"v{version}" if version is not None else "(unset)"


def _ineligible(name: str, number: int, version: ModelVersionState | None) -> str:
    """Why the alias may not point at this version, or '' if it may."""
    if version is None:
        return f"{name!r} has no version {number}"
    if version.status != "READY":
        return f"{name!r} v{number} is {version.status}, not READY"
    if version.verdict is None:
        return f"{name!r} v{number} has no guardrail verdict (unverified); record a passed verdict first"
    if not version.verdict.passed:
        return f"{name!r} v{number} failed its guardrails ({version.verdict.reason or 'no reason recorded'})"
    if not version.clean:
        return f"{name!r} v{number} is unclean: its {_why(version)}"
    if missing := version.unmet:
        seen = ", ".join(f"{c}: {version.checks.get(c) or 'not judged yet'}" for c in missing)
        return f"{name!r} v{number} needs a pass of {', '.join(missing)} before promotion ({seen})"
    return ""


def _default_settle(registry: ModelRegistry) -> float:
    budget = float(getattr(registry, "call_budget_seconds", 5.0))
    uri = str(getattr(registry, "registry_uri", None) or getattr(registry, "tracking_uri", None) or "")
    if uri and not uri.startswith(("http://", "https://", "databricks")):
        return min(budget, 1.0)
    return budget


def _at(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds") if moment != datetime.min else "(unknown)"


def _parts(partitions: Iterable[str | None]) -> str:
    names = [p if p is not None else "(no partition)" for p in partitions]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"[{shown}]"


def _failing(hold: Hold) -> str:
    if not hold.failing:
        return "no failing partition recorded"
    by_check: dict[str, list[str | None]] = {}
    for failure in hold.failing:
        by_check.setdefault(failure.check, []).append(failure.partition)
    return "; ".join(f"{check} {_parts(parts)}" for check, parts in by_check.items())


def _why(version: ModelVersionState | None) -> str:
    """Why a version may not serve: its failed verdict's reason, or the condemned batches in its lineage."""
    if version is None:
        return "does not exist"
    if version.tainted_by:
        return "lineage includes condemned batch " + ", ".join(b.label for b in version.tainted_by)
    if version.verdict is not None and not version.verdict.passed:
        return f"failed: {version.verdict.reason or 'no reason recorded'}"
    if version.unmet:
        return version.ineligible_because
    return "passed"
