"""`lint_contract`: every error and warning in a contract file, without raising (``guardrails contract lint``).

Errors are exactly what `load_contract` would raise. Warnings are things that load but are probably not what
the author meant: a column with no check besides its type, a regex outside the portable pattern subset (it
runs in polars, but not the same in every engine; one polars cannot run is an error), allowed values of mixed types, ``required: true`` next to a ``nullValues`` rule that tolerates
nulls, ``severity: info`` (treated as warning), a recorded-but-unchecked string ``format``, nested fields
that are not checked, percentages outside 0..100, the legacy boolean ``exclusiveMaximum``.

Example:
    >>> report = lint_contract("expectations/transactions.odcs.yaml")
    >>> report.ok, len(report.errors), [w.field for w in report.warnings]
    (True, 0, ['schema[0].properties[10]'])
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any, Literal

from guardrails.contract.loader import load_with_warnings
from guardrails.contract.model import Contract
from guardrails.errors import ContractError

__all__ = ["LintIssue", "LintReport", "lint_contract"]


@dataclass(frozen=True, slots=True)
class LintIssue:
    """One finding: where (line, field path), what was expected and what arrived, and the one-line message."""

    level: Literal["error", "warning"]
    field: str
    line: int | None
    expected: str
    got: str
    hint: str
    message: str

    @classmethod
    def from_error(cls, error: ContractError, level: Literal["error", "warning"]) -> LintIssue:
        message = f"{error.field}: expected {error.expected}, got {error.got}"
        message += f" ({error.hint})" if error.hint else ""
        return cls(level, error.field, error.line, error.expected, error.got, error.hint, message)


@dataclass(frozen=True, slots=True)
class LintReport:
    """What `lint_contract` found in one file; `contract` is set when the file loads (no errors)."""

    path: str
    errors: tuple[LintIssue, ...]
    warnings: tuple[LintIssue, ...]
    contract: Contract | None = None

    @property
    def ok(self) -> bool:
        """True when the contract loads (warnings allowed)."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the contract itself is summarized by id, version, table and rule ids)."""
        contract = None
        if self.contract is not None:
            contract = {
                "id": self.contract.id,
                "version": self.contract.version,
                "table": self.contract.table,
                "rules": [r.rule_id for r in self.contract.rules],
            }
        return {
            "path": self.path,
            "ok": self.ok,
            "errors": [asdict(e) for e in self.errors],
            "warnings": [asdict(w) for w in self.warnings],
            "contract": contract,
        }


def lint_contract(path: str | os.PathLike[str], *, table: str | None = None) -> LintReport:
    """Check a contract file and report every error and warning, in file order.

    The errors are those of `load_contract`, the drift, parity and freshness settings included (the loader
    parses them into typed settings), so a bad threshold shows up here rather than when a check first runs.
    """
    loaded = load_with_warnings(path, table=table)
    errors = list(loaded.errors)

    def order(issue: LintIssue) -> int:
        return issue.line if issue.line is not None else 0

    return LintReport(
        path=os.fspath(path),
        errors=tuple(sorted((LintIssue.from_error(e, "error") for e in errors), key=order)),
        warnings=tuple(sorted((LintIssue.from_error(w, "warning") for w in loaded.warnings), key=order)),
        contract=loaded.contract if not errors else None,
    )
