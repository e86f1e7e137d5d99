"""``guardrails contract lint CONTRACT``: every error and warning in a contract file, as a table or JSON.

Every table of the file is linted (``--table NAME``: only that one).

Exit codes: 0 the contract loads (warnings allowed), 1 it has errors, 2 the command itself was misused
(e.g. the file does not exist).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from guardrails.cli.render import console, line, styled, table as render_table
from guardrails.contract.lint import LintReport, lint_contract

app = typer.Typer(help="Check data contract files (ODCS v3).", no_args_is_help=True)


@app.callback()
def contract() -> None:
    """Check data contract files (ODCS v3)."""


@app.command("lint")
def lint(
    contract: Path = typer.Argument(..., exists=True, dir_okay=False, help="An ODCS v3 contract file (*.odcs.yaml)."),
    table: str | None = typer.Option(None, "--table", help="Lint only this schema object (default: every table in the file)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Report every error and warning in CONTRACT; exit 1 if it would not load."""
    report = lint_contract(contract, table=table)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        _print(report)
    raise typer.Exit(0 if report.ok else 1)


def _print(report: LintReport) -> None:
    issues = (*report.errors, *report.warnings)
    if issues:
        out = render_table(
            report.path,
            ("line", "level", "field", "problem"),
            (
                (
                    str(issue.line or ""),
                    styled(issue.level, "red" if issue.level == "error" else "yellow"),
                    issue.field,
                    f"expected {issue.expected}, got {issue.got}" + (f" ({issue.hint})" if issue.hint else ""),
                )
                for issue in sorted(issues, key=lambda i: (i.line or 0, i.level))
            ),
        )
        console.print(out)
    if report.ok:
        first = report.contracts[0]
        if len(report.contracts) == 1:
            tables = f"table {first.table}, {len(first.rules)} rules"
        elif len(report.contracts) <= 6:
            tables = f"{len(report.contracts)} tables (" + ", ".join(
                f"{c.table}: {len(c.rules)} rules" for c in report.contracts) + ")"
        else:  # 68 AdventureWorks tables would not fit on a line
            tables = f"{len(report.contracts)} tables, {sum(len(c.rules) for c in report.contracts)} rules"
        console.print(
            line(
                styled("ok", "green"),
                f"  {report.path}: {first.id} v{first.version}, {tables}, {len(report.warnings)} warning(s)",
            )
        )
    else:
        counts = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        console.print(line(styled("invalid", "red"), f"  {report.path}: {counts}"))
