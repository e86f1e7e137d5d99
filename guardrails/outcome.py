"""The one result type every check returns.

A check measures, judges against a policy, and returns a `CheckOutcome`: frozen, JSON-serializable without
loss, and free of any orchestrator vocabulary. Adapters (Dagster, Airflow, CLI) translate it at the edge.

Three situations stay apart: the data failed (`CheckStatus.FAILED`), the check could not run
(`CheckStatus.ERROR`, with the cause in `error`), and misconfiguration (raised as `ContractError` at load
time, never an outcome). Every check turns its rule results into a status with the one `judge` below, and
each outcome carries a `Verdict` (pass, fail, inconclusive, insufficient, error) for the checks to come.

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
from collections.abc import Iterable, Mapping
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


class Verdict(StrEnum):
    """What a check concluded, in the vocabulary shared by every check and adapter.

    `pass` and `fail` are verdicts on the data; `error` means the check could not run (fail closed);
    `inconclusive` (the evidence does not decide yet, e.g. a canary still collecting) and `insufficient` (not
    enough data to judge at all, e.g. drift with no reference yet) mean "no verdict yet". On a `CheckOutcome`
    those two are always ``status=failed`` at ``severity=warning``: never shown as passed (never green in a UI),
    never blocking publication.
    """

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    INSUFFICIENT = "insufficient"
    ERROR = "error"


_NOT_YET = (Verdict.INCONCLUSIVE, Verdict.INSUFFICIENT)
_VERDICT_OF_STATUS = {CheckStatus.PASSED: Verdict.PASS, CheckStatus.FAILED: Verdict.FAIL, CheckStatus.ERROR: Verdict.ERROR}


class CheckKind(StrEnum):
    """The family of check that produced an outcome."""

    CONTRACT = "contract"
    GREAT_EXPECTATIONS = "great_expectations"
    FRESHNESS = "freshness"
    DRIFT = "drift"
    PARITY = "parity"
    MODEL = "model"
    FAIRNESS = "fairness"
    CANARY = "canary"
    PERFORMANCE = "performance"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleResult:
    """The verdict of one rule: how many rows broke it and whether that is tolerated.

    `observed` is the measured value the threshold judged (a row count, a percentage, a row total, a
    statistic); `expected` describes the threshold in words (e.g. ``"= 0 rows"``, ``"between 1000 and 5000"``).

    `ran` is False for a rule that was *not run* at all: the contract names an engine guardrails does not have
    (``type: custom`` with ``engine: soda``). Such a rule has status ``error`` (it was not evaluated) and its
    message gives the reason; build it with `not_run`, which applies the caller's policy for unrun rules.
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
    ran: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", str(self.kind))  # a contract's `RuleKind` travels as its plain string
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "status", CheckStatus(self.status))


UNRUN_POLICY_KEY = "unrun_policy"
"""Outcome metric naming the policy an outcome with unrun rules was judged under: `FAIL_CLOSED` or `ALLOW_UNRUN`."""
UNRUN_RULES_KEY = "unrun_rules"
"""Outcome metric: how many rules were not run (present only when some were)."""
FAIL_CLOSED, ALLOW_UNRUN = "fail_closed", "allow_unrun"


def not_run(
    rule_id: str, kind: str, columns: tuple[str, ...], severity: Severity, reason: str, *, allow_unrun: bool
) -> RuleResult:
    """The result of a rule guardrails cannot run at all (an engine it does not have), under the unrun policy.

    Fail closed (the default): the rule keeps its severity, so an error-severity rule that was not run fails its
    check at error (`judge`) and blocks publication, exactly as a rule that could not run. `allow_unrun=True`
    (``guardrails validate --allow-unrun``): the rule is recorded at warning severity, so the check is reported
    incomplete (failed at warning, never green) but does not block. Either way ``ran`` is False, status is
    ``error`` and the message gives the reason and the policy, so history shows which policy judged the batch.

    Example:
        >>> r = not_run("orders.soda", "custom", (), Severity.ERROR, "engine 'soda' is not supported",
        ...             allow_unrun=True)
        >>> r.status.value, r.severity.value, r.ran
        ('error', 'warning', False)
        >>> [s.value for s in judge([r])]
        ['failed', 'warning']
    """
    if allow_unrun and severity is Severity.ERROR:
        severity, policy = Severity.WARNING, "; allowed by allow_unrun: recorded as a warning, not blocking"
    elif allow_unrun:
        policy = ""
    else:
        policy = "; fails closed (allow_unrun to accept)" if severity is Severity.ERROR else ""
    return RuleResult(
        rule_id=rule_id, kind=kind, columns=columns, severity=severity, status=CheckStatus.ERROR,
        message=f"not run: {reason}{policy}", ran=False,
    )


def judge(rules: Iterable[RuleResult], *, could_run: bool = True) -> tuple[CheckStatus, Severity]:
    """The one rule that turns a check's rule results into its (status, severity); every check calls it.

    - The check itself could not run (input unreadable, empty, nothing to join on, a store down): ``(error,
      error)``, failing closed, whatever rules it produced.
    - Otherwise every rule that did not pass counts as failed, *including a rule that could not run* (rule status
      ``error``: the column it reads is missing or has another type): ``(failed, error)`` if any of them has
      severity error, ``(failed, warning)`` if all are warnings.
    - Nothing failed: ``(passed, error)`` (a passed outcome carries the default severity, error).

    Why a rule that could not run fails its check rather than erroring it: the check did run and read the batch,
    and what it found (a column gone or retyped) is a fact about the data, i.e. a schema change, exactly what
    contract validation reports for the same batch. Erroring the whole check would instead say "we know nothing
    about this batch", which incident hypotheses read as unreadable input; so the same missing column would get
    two diagnoses depending on which check saw it. The rule keeps status ``error`` (and its message says why),
    so reports still tell "could not be evaluated" from "evaluated and broken", and it keeps its own severity:
    a warning rule that cannot run warns, as it would have had it run and failed.

    A rule that was *not run* (``ran=False``: an engine guardrails does not have) is judged the same way, as a
    rule that could not run: the policy for such rules is applied once, when `not_run` builds its result (fail
    closed keeps its severity; allow-unrun records it as a warning), so this judge needs no second rule for it.

    Example:
        >>> missing = RuleResult(rule_id="drift.amount", kind="drift", columns=("amount",),
        ...                      severity=Severity.ERROR, status=CheckStatus.ERROR, message="missing")
        >>> [s.value for s in judge([missing])], [s.value for s in judge([missing], could_run=False)]
        (['failed', 'error'], ['error', 'error'])
    """
    if not could_run:
        return CheckStatus.ERROR, Severity.ERROR
    failed = [r for r in rules if r.status is not CheckStatus.PASSED]
    if not failed:
        return CheckStatus.PASSED, Severity.ERROR
    return CheckStatus.FAILED, (
        Severity.ERROR if any(r.severity is Severity.ERROR for r in failed) else Severity.WARNING
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOutcome:
    """One check run on one batch: status, per-rule counts, a capped sample, metrics and timings.

    `severity` is the severity of the most severe failed rule (or the check's own, when it errored or has
    no rules). `sample` holds up to N failing rows as JSON-safe dicts, each with the primary key columns and
    a ``"_rules"`` entry naming the rules the row broke. `metrics` are named numbers or short strings the
    adapters show as-is (e.g. ``{"rows": 1000, "psi.amount": 0.03}``).

    `verdict` defaults to the one its status implies (passed -> pass, failed -> fail, error -> error); give
    `Verdict.INCONCLUSIVE` or `Verdict.INSUFFICIENT` on a failed, warning-severity outcome to say "no verdict
    yet". A verdict that contradicts the status or severity is refused with a ValueError.
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
    verdict: Verdict | None = None  # type: ignore[assignment]  # always a Verdict once built

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", CheckKind(self.kind))
        object.__setattr__(self, "status", CheckStatus(self.status))
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "sample", tuple(self.sample))
        implied = _VERDICT_OF_STATUS[self.status]
        verdict = implied if self.verdict is None else Verdict(self.verdict)
        if verdict in _NOT_YET:
            consistent = self.status is CheckStatus.FAILED and self.severity is Severity.WARNING
        else:
            consistent = verdict is implied
        if not consistent:
            raise ValueError(
                f"CheckOutcome {self.check!r}: verdict {verdict.value!r} contradicts status {self.status.value!r} "
                f"at severity {self.severity.value!r}; expected verdict {implied.value!r}"
                + (" (inconclusive/insufficient need status 'failed' at severity 'warning')" if verdict in _NOT_YET
                   else "")
            )
        object.__setattr__(self, "verdict", verdict)

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
        status, severity = judge((), could_run=False)
        return cls(
            check=check,
            kind=kind,
            status=status,
            severity=severity,
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
    def unrun_rules(self) -> tuple[RuleResult, ...]:
        """Rules that were not run at all (an engine guardrails does not have): the check is incomplete."""
        return tuple(r for r in self.rules if not r.ran)

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def evolve(self, **changes: Any) -> CheckOutcome:
        """A copy with some fields changed (outcomes are never mutated).

        Changing the status or severity without naming a verdict derives the verdict again from the new status.
        """
        if ("status" in changes or "severity" in changes) and "verdict" not in changes:
            changes["verdict"] = None
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
            verdict=data.get("verdict"),  # absent in JSON written before verdicts: derived from the status
        )

    @classmethod
    def from_json(cls, text: str) -> CheckOutcome:
        return cls.from_dict(json.loads(text))
