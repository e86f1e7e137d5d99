"""`guardrails history ASSET`: the check executions Dagster recorded for an asset, newest first.

Reads the instance `$DAGSTER_HOME` points at (SQLite or PostgreSQL, whatever its dagster.yaml says; a relative
path is taken from the working directory) through `guardrails.dagster.history`, so the outcome shown is the one
the check produced (rule counts, sample), with the quarantine store and contract file the run recorded.
Exit codes: 0 printed (even if checks failed: this command reports, it does not judge), 2 could not read.
"""

from __future__ import annotations

from typing import Annotated

import typer

from guardrails.cli.options import open_instance
from guardrails.cli.render import console, print_error, print_json, status_text, table
from guardrails.outcome import CheckStatus

EXIT_OK, EXIT_ERROR = 0, 2


def history_command(
    asset: Annotated[str, typer.Argument(help="Asset key, path parts separated by '/' (e.g. raw/transactions).")],
    check: Annotated[str | None, typer.Option("--check", help="Only this check (default: every check of the asset).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many executions.")] = 20,
    partition: Annotated[str | None, typer.Option("--partition", help="Only executions of this partition.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the entries (with full outcomes) as JSON.")] = False,
) -> None:
    """Print the latest check executions of ASSET with status, run, batch and failing rules."""
    from guardrails.dagster.history import read_check_history

    with open_instance() as instance:
        try:
            entries = read_check_history(instance, asset, check, limit=limit, partition=partition)
        except Exception as exc:  # an unreadable event log is "could not run", reported in one line
            print_error(f"cannot read check history from $DAGSTER_HOME={instance.root_directory}: "
                        f"{type(exc).__name__}: {exc}")
            raise typer.Exit(EXIT_ERROR) from exc
    if json_output:
        print_json([entry.to_dict() for entry in entries])
        return
    if not entries:
        console.print(f"no check executions recorded for {asset}" + (f" / {check}" if check else ""))
        return
    listing = table(
            f"check history of {asset}",
            ("when (UTC)", "check", "partition", "result", "rows", "failed rules", "batch", "run"),
            (
                (
                    e.timestamp.strftime("%Y-%m-%d %H:%M:%S"),
                    e.check_name,
                    e.partition,
                    _result(e.passed, e.status, e.outcome)
                    + ("" if e.passed or not e.severity else f" · {e.severity.lower()}"),
                    e.outcome.rows if e.outcome is not None else None,
                    _failed(e.outcome),
                    e.batch_id,
                    f"{e.run_id[:8]} {e.run_status or ''}".strip(),
                )
                for e in entries
            ),
        )
    for column in listing.columns:
        column.no_wrap = column.header in ("when (UTC)", "check", "partition", "batch", "run")  # copied into commands
    console.print(listing)
    for label, values in (("quarantine store", [e.quarantine_store for e in entries]),
                          ("contract", [e.contract_path for e in entries])):
        recorded = list(dict.fromkeys(v for v in values if v))
        if recorded:
            console.print(f"{label} recorded: {', '.join(recorded)}", soft_wrap=True, markup=False)


def _result(passed: bool | None, status: str, outcome) -> str:
    if outcome is not None and outcome.error:
        return status_text(CheckStatus.ERROR)
    if passed is None:
        return status.lower()  # planned or running: no verdict yet
    return status_text(CheckStatus.PASSED if passed else CheckStatus.FAILED)


def _failed(outcome) -> str:
    if outcome is None:
        return ""
    failed = outcome.failed_rules
    shown = ", ".join(f"{r.rule_id} ({r.failing_rows})" for r in failed[:3])
    return shown + (f" +{len(failed) - 3}" if len(failed) > 3 else "")

