"""Running the contract on a table without ever raising, and describing the verdict in one line."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pyarrow as pa

from guardrails.contract.model import Contract
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity
from guardrails.validation import ContractValidation, validate


def audit(
    contract: Contract, table: pa.Table | pl.DataFrame, *, as_of: datetime | None, allow_unrun: bool = False
) -> ContractValidation:
    """Validate `table`; an engine failure becomes an ERROR outcome (fail closed) that keeps the exception's text.

    `allow_unrun` is `validate`'s policy for rules guardrails cannot run (default: fail closed).
    """
    started = datetime.now(UTC)
    try:
        return validate(contract, table, as_of=as_of, allow_unrun=allow_unrun)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - the check could not run: an outcome with the cause, never a crash
        # BaseException, not Exception: polars reports some Arrow types it cannot import (e.g. decimal256) with a
        # Rust panic, which pyo3 raises as PanicException, a BaseException.
        error = f"validation could not run: {type(exc).__name__}: {exc}"
        outcome = error_outcome(contract, error, started=started, as_of=as_of, rows=len(table))
        return ContractValidation(outcome=outcome, rejected_rows=None)


def error_outcome(
    contract: Contract, error: str, *, started: datetime, as_of: datetime | None, rows: int | None = None
) -> CheckOutcome:
    """The outcome of a contract check that could not run (unreadable input, engine failure): status ERROR."""
    return CheckOutcome.could_not_run(
        "contract",
        CheckKind.CONTRACT,
        error,
        started_at=started,
        rows=rows,
        contract_id=contract.id,
        contract_version=contract.version,
        as_of=as_of,
        message="the contract check could not run; the batch is kept as it arrived",
    )


def describe(outcome: CheckOutcome, *, shown: int = 5) -> str:
    """One line saying why an outcome blocks publication.

    Example: ``"2 blocking rules failed: amount.range (250 rows), amount.type (column is missing)"``.
    """
    if outcome.status is CheckStatus.ERROR:
        return f"the check could not run: {outcome.error or outcome.message}"
    blocking = [r for r in outcome.failed_rules if r.severity is Severity.ERROR]
    if not blocking:
        return "no blocking failure" if outcome.status is CheckStatus.PASSED else "only warnings failed"
    listed = ", ".join(f"{r.rule_id} ({_count(r)})" for r in blocking[:shown])
    more = f" and {len(blocking) - shown} more" if len(blocking) > shown else ""
    noun = "rule" if len(blocking) == 1 else "rules"
    return f"{len(blocking)} blocking {noun} failed: {listed}{more}"


def _count(rule: RuleResult) -> str:
    if rule.status is CheckStatus.ERROR:
        return f"could not run: {rule.message}" if rule.message else "could not run"
    if rule.failing_rows == 0 and rule.message:  # a table-level rule: its message says what is wrong
        return rule.message
    return f"{rule.failing_rows:,} {'row' if rule.failing_rows == 1 else 'rows'}"
