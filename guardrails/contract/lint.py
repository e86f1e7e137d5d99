"""`lint_contract`: every error and warning in a contract file, without raising (``guardrails contract lint``).

Errors are exactly what `load_contract` would raise. Warnings are things that load but are probably not what
the author meant: a column with no check besides its type, a regex outside the portable pattern subset (it
runs in polars, but not the same in every engine; one polars cannot run is an error), allowed values of mixed types, ``required: true`` next to a ``nullValues`` rule that tolerates
nulls, ``severity: info`` (treated as warning), a recorded-but-unchecked string ``format``, nested fields
that are not checked, percentages outside 0..100, the legacy boolean ``exclusiveMaximum``, an ODCS v2 field
name (``isNullable``, ``isUnique``: read as the v3 field it names), a table with no properties yet.

Every table of the file is linted unless `table` names one; each finding's field path says which
(``schema[1].properties[0]...``).

Example:
    >>> report = lint_contract("expectations/transactions.odcs.yaml")
    >>> report.ok, len(report.errors), [w.field for w in report.warnings], report.tables
    (True, 0, ['schema[0].properties[10]'], ('transactions',))
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
    """What `lint_contract` found in one file.

    When the file loads (no errors), `contracts` holds every table linted, and `contract` the table when
    there is exactly one (the file's only table, or the one `table=` chose). `tables` names the file's
    schema objects whenever the YAML got that far.
    """

    path: str
    errors: tuple[LintIssue, ...]
    warnings: tuple[LintIssue, ...]
    contract: Contract | None = None
    contracts: tuple[Contract, ...] = ()
    tables: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the contract loads (warnings allowed)."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: each table's contract by id, version, table and rule ids (``contract``: the
        only table's, else null; ``contracts``: every table's)."""
        summaries = [
            {"id": c.id, "version": c.version, "table": c.table, "rules": [r.rule_id for r in c.rules]}
            for c in self.contracts
        ]
        return {
            "path": self.path,
            "ok": self.ok,
            "errors": [asdict(e) for e in self.errors],
            "warnings": [asdict(w) for w in self.warnings],
            "tables": list(self.tables),
            "contract": summaries[0] if self.contract is not None else None,
            "contracts": summaries,
        }


def lint_contract(path: str | os.PathLike[str], *, table: str | None = None) -> LintReport:
    """Check a contract file (every table, or only `table`) and report every error and warning, in file order.

    The errors are those of `load_contract_file` (`load_contract` with `table`), the drift, parity and
    freshness settings included (the loader parses them into typed settings), so a bad threshold shows up
    here rather than when a check first runs.
    """
    loaded = load_with_warnings(path, table=table, every_table=table is None)
    errors = list(loaded.errors)
    if errors:
        contracts: tuple[Contract, ...] = ()
    elif loaded.file is not None:
        contracts = loaded.file.contracts
    else:
        assert loaded.contract is not None
        contracts = (loaded.contract,)

    def order(issue: LintIssue) -> int:
        return issue.line if issue.line is not None else 0

    return LintReport(
        path=os.fspath(path),
        errors=tuple(sorted((LintIssue.from_error(e, "error") for e in errors), key=order)),
        warnings=tuple(sorted((LintIssue.from_error(w, "warning") for w in loaded.warnings), key=order)),
        contract=contracts[0] if len(contracts) == 1 else None,
        contracts=contracts,
        tables=loaded.tables,
    )
