"""Terminal rendering shared by every CLI command: outcomes as rich tables, or JSON with `--json`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import os

from rich.console import Console, ConsoleDimensions
from rich.table import Table

from guardrails.outcome import CheckOutcome, CheckStatus

PIPED_WIDTH = 200
"""Columns used when output is not a terminal (a pipe, a log, CI): wide enough that ids never fold."""


class _Console(Console):
    """A rich Console whose width follows `COLUMNS` at every print, and is wide when piped.

    Rich pins 80 columns on dumb or piped terminals (CI logs, `| less`, captured test output), which folds
    batch ids and rule names across lines, where nobody can copy or grep them.
    """

    @property
    def size(self) -> ConsoleDimensions:
        measured = super().size
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit():
            return ConsoleDimensions(int(columns), measured.height)
        return measured if self.is_terminal else ConsoleDimensions(PIPED_WIDTH, measured.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


console = _Console(highlight=False)
err_console = _Console(stderr=True, highlight=False)

STATUS_STYLE = {CheckStatus.PASSED: "green", CheckStatus.FAILED: "red", CheckStatus.ERROR: "magenta"}


def print_error(message: str) -> None:
    """One clear line on stderr, never wrapped (paths and field names stay greppable)."""
    err_console.print(f"guardrails: {message}", soft_wrap=True, markup=False)


def print_json(data: Any) -> None:
    """Print machine-readable output (stable keys, ISO timestamps) to stdout."""
    console.print_json(json.dumps(data, default=str))


def status_text(status: CheckStatus) -> str:
    return f"[{STATUS_STYLE[status]}]{status.value}[/]"


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A plain rich table; cells are rendered with str()."""
    out = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*("" if cell is None else str(cell) for cell in row))
    return out


def print_outcome(outcome: CheckOutcome, *, all_rules: bool = False) -> None:
    """A headline, one row per failed rule (every rule with `all_rules`), and the failing-row sample."""
    subject = outcome.contract_id or outcome.check
    version = f" v{outcome.contract_version}" if outcome.contract_version else ""
    rows = f"{outcome.rows:,} rows" if outcome.rows is not None else "rows unknown"
    console.print(
        f"{status_text(outcome.status)}  {subject}{version}  ·  {rows}  ·  {outcome.duration_seconds:.2f}s"
        + (f"  ·  as of {outcome.as_of.isoformat()}" if outcome.as_of else "")
    )
    if outcome.error:
        console.print(f"[magenta]could not run:[/] {outcome.error}")
    if outcome.message:
        console.print(outcome.message)
    rules = outcome.rules if all_rules else outcome.failed_rules
    if rules:
        console.print(
            table(
                None,
                ("rule", "columns", "severity", "status", "failing rows", "observed", "expected", "why"),
                (
                    (
                        r.rule_id,
                        ", ".join(r.columns),
                        r.severity.value,
                        status_text(r.status),
                        f"{r.failing_rows:,}",
                        "" if r.observed is None else f"{r.observed:g}",
                        r.expected,
                        r.message,
                    )
                    for r in sorted(rules, key=lambda r: (r.status is CheckStatus.PASSED, r.rule_id))
                ),
            )
        )
    if outcome.sample:
        print_records(f"sample of failing rows ({len(outcome.sample)})", outcome.sample)


def print_records(title: str, records: Sequence[Mapping[str, Any]]) -> None:
    """Rows of dicts as a table whose columns are the union of their keys, in first-seen order."""
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    console.print(table(title, list(columns), ([_cell(record.get(c)) for c in columns] for record in records)))


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)
