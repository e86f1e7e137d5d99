"""The one result type every check returns.

A check measures, judges against a policy, and returns a `CheckOutcome`: frozen, JSON-serializable without
loss, and free of any orchestrator vocabulary. Adapters (Dagster, Airflow, CLI) translate it at the edge.

Three situations stay apart: the data failed (`CheckStatus.FAILED`), the check could not run
(`CheckStatus.ERROR`, with the cause in `error`), and misconfiguration (raised as `ContractError` at load
time, never an outcome).

Example:
    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> rule = RuleResult(rule_id="amount.range", kind="range", columns=("amount",),
    ...                   severity=Severity.ERROR, status=CheckStatus.FAILED, failing_rows=3)
    >>> outcome = CheckOutcome(check="contract", kind=CheckKind.CONTRACT, status=CheckStatus.FAILED,
    ...                        severity=Severity.ERROR, rows=100, rules=(rule,),
    ...                        started_at=t, finished_at=t)
    >>> CheckOutcome.from_json(outcome.to_json()) == outcome
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

JsonScalar = str | int | float | bool | None
"""A value that survives a JSON round trip unchanged (finite floats only)."""


class CheckStatus(StrEnum):
    """Whether the data passed, failed, or the check could not run at all (fail closed)."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"


class Severity(StrEnum):
    """How much a failure matters: `error` blocks publication, `warning` is recorded only."""

    ERROR = "error"
    WARNING = "warning"


class CheckKind(StrEnum):
    """The family of check that produced an outcome."""

    CONTRACT = "contract"
    GREAT_EXPECTATIONS = "great_expectations"
    FRESHNESS = "freshness"
    DRIFT = "drift"
    PARITY = "parity"
    MODEL = "model"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleResult:
    """The verdict of one rule: how many rows broke it and whether that is tolerated.

    `observed` is the measured value the threshold judged (a row count, a percentage, a row total, a
    statistic); `expected` describes the threshold in words (e.g. ``"= 0 rows"``, ``"between 1000 and 5000"``).
    """

    rule_id: str
    kind: str
    columns: tuple[str, ...]
    severity: Severity
    status: CheckStatus
    failing_rows: int = 0
    observed: float | None = None
    expected: str = ""
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "status", CheckStatus(self.status))


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOutcome:
    """One check run on one batch: status, per-rule counts, a capped sample, metrics and timings.

    `severity` is the severity of the most severe failed rule (or the check's own, when it errored or has
    no rules). `sample` holds up to N failing rows as JSON-safe dicts, each with the primary key columns and
    a ``"_rules"`` entry naming the rules the row broke. `metrics` are named numbers or short strings the
    adapters show as-is (e.g. ``{"rows": 1000, "psi.amount": 0.03}``).
    """

    check: str
    kind: CheckKind
    status: CheckStatus
    severity: Severity
    started_at: datetime
    finished_at: datetime
    rows: int | None = None
    rules: tuple[RuleResult, ...] = ()
    sample: tuple[Mapping[str, Any], ...] = ()
    metrics: Mapping[str, JsonScalar] = field(default_factory=dict)
    contract_id: str | None = None
    contract_version: str | None = None
    as_of: datetime | None = None
    message: str = ""
    error: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", CheckKind(self.kind))
        object.__setattr__(self, "status", CheckStatus(self.status))
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "sample", tuple(self.sample))

    @classmethod
    def could_not_run(
        cls,
        check: str,
        kind: CheckKind,
        error: str,
        *,
        started_at: datetime,
        message: str,
        contract_id: str | None = None,
        contract_version: str | None = None,
        as_of: datetime | None = None,
        rows: int | None = None,
    ) -> CheckOutcome:
        """The outcome of a check that could not run (unreadable input, store down): ERROR, failing closed."""
        return cls(
            check=check,
            kind=kind,
            status=CheckStatus.ERROR,
            severity=Severity.ERROR,
            started_at=started_at,
            finished_at=datetime.now(started_at.tzinfo),
            rows=rows,
            contract_id=contract_id,
            contract_version=contract_version,
            as_of=as_of,
            message=message,
            error=error,
        )

    @property
    def passed(self) -> bool:
        return self.status is CheckStatus.PASSED

    @property
    def blocks_publication(self) -> bool:
        """True when this outcome must keep the batch from consumers: an error-severity failure, or no verdict."""
        if self.status is CheckStatus.ERROR:
            return True
        return self.status is CheckStatus.FAILED and self.severity is Severity.ERROR

    @property
    def failed_rules(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.rules if r.status is not CheckStatus.PASSED)

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def evolve(self, **changes: Any) -> CheckOutcome:
        """A copy with some fields changed (outcomes are never mutated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("started_at", "finished_at", "as_of"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value is not None else None
        data["rules"] = [dict(asdict(r), columns=list(r.columns)) for r in self.rules]
        data["sample"] = [dict(row) for row in self.sample]
        data["metrics"] = dict(self.metrics)
        return data

    def to_json(self, **dumps_kwargs: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **dumps_kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckOutcome:
        def when(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(value) if value is not None else None

        return cls(
            check=data["check"],
            kind=CheckKind(data["kind"]),
            status=CheckStatus(data["status"]),
            severity=Severity(data["severity"]),
            started_at=when("started_at"),  # type: ignore[arg-type]
            finished_at=when("finished_at"),  # type: ignore[arg-type]
            rows=data.get("rows"),
            rules=tuple(RuleResult(**dict(r, columns=tuple(r["columns"]))) for r in data.get("rules", ())),
            sample=tuple(dict(row) for row in data.get("sample", ())),
            metrics=dict(data.get("metrics", {})),
            contract_id=data.get("contract_id"),
            contract_version=data.get("contract_version"),
            as_of=when("as_of"),
            message=data.get("message", ""),
            error=data.get("error"),
        )

    @classmethod
    def from_json(cls, text: str) -> CheckOutcome:
        return cls.from_dict(json.loads(text))
