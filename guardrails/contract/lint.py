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
from pathlib import Path
from typing import Any, Literal

from guardrails.contract._source import FieldPath, parse_yaml
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

    Beyond what `load_contract` checks, lint also runs the drift, parity and freshness checks' own settings
    parsers on their ``customProperties`` (the loader only checks that those are plain mappings), so a bad
    threshold shows up here rather than when the check is first built.
    """
    loaded = load_with_warnings(path, table=table)
    errors = list(loaded.errors)
    if loaded.contract is not None:
        errors += _check_settings(loaded.contract)

    def order(issue: LintIssue) -> int:
        return issue.line if issue.line is not None else 0

    return LintReport(
        path=os.fspath(path),
        errors=tuple(sorted((LintIssue.from_error(e, "error") for e in errors), key=order)),
        warnings=tuple(sorted((LintIssue.from_error(w, "warning") for w in loaded.warnings), key=order)),
        contract=loaded.contract if not errors else None,
    )


def _check_settings(contract: Contract) -> list[ContractError]:
    """Errors from the checks' own parsers of ``drift``/``parity``/``freshness``, placed on their YAML line."""
    if not {"drift", "parity", "freshness"} & set(contract.custom):
        return []  # nothing to parse, and no need to import the checks (numpy, scipy, polars)
    # Imported here: the checks build on the contract package, so the contract package must not import them
    # at module level; lint is the one place that wants both.
    from guardrails.checks.drift import DriftSettings
    from guardrails.checks.freshness import FreshnessSettings
    from guardrails.checks.parity import ParitySettings

    parsers = {"drift": DriftSettings, "parity": ParitySettings, "freshness": FreshnessSettings}
    lines = _custom_property_lines(contract)
    errors = []
    for key, settings in parsers.items():
        if key not in contract.custom:
            continue
        try:
            settings.from_contract(contract)
        except ContractError as exc:
            errors.append(ContractError(
                exc.path, exc.field, expected=exc.expected, got=exc.got, line=lines.get(key), hint=exc.hint
            ))
    return errors


def _custom_property_lines(contract: Contract) -> dict[str, int]:
    """The line of each contract-level customProperty (the schema object's entry wins, as in the loader)."""
    assert contract.source is not None
    doc = parse_yaml(Path(contract.source).read_text(encoding="utf-8"), contract.source)
    lines: dict[str, int] = {}
    places: list[FieldPath] = [("customProperties",)]
    for index, schema in enumerate(doc.data.get("schema") or []):
        if schema.get("name") == contract.table:
            places.append(("schema", index, "customProperties"))
    for place in places:
        node: Any = doc.data
        for part in place:
            node = node.get(part) if isinstance(node, dict) else (node[part] if isinstance(node, list) else None)
        for index, entry in enumerate(node or []):
            if isinstance(entry, dict) and isinstance(entry.get("property"), str):
                lines[entry["property"]] = doc.lines[(*place, index)]
    return lines
