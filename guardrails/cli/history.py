"""`guardrails history ASSET`: the check executions Dagster or Airflow recorded for an asset, newest first.

Dagster: reads the instance `$DAGSTER_HOME` points at (SQLite or PostgreSQL, whatever its dagster.yaml says; a
relative path is taken from the working directory) through `guardrails.dagster.history`, so the outcome shown is the
one the check produced (rule counts, sample), with the quarantine store and contract file the run recorded.

Airflow (``--airflow URL``, or ``$GUARDRAILS_AIRFLOW_URL`` when ``$DAGSTER_HOME`` is not set; see
`guardrails.cli._airflow`): reads the guarded tasks' asset events and failed task instances through the REST API
(`guardrails.airflow.records`); ASSET is the Airflow asset's name or URI (or a unique ``/``-suffix of it) and the
check is the guarded task. The table and ``--json`` have the same columns and keys for both.
Exit codes: 0 printed (even if checks failed: this command reports, it does not judge), 2 could not read.
"""

from __future__ import annotations

import re
from typing import Annotated

import typer

from guardrails.cli._airflow import AirflowOption, airflow_url, exit_unreadable, open_airflow
from guardrails.cli.options import open_instance
from guardrails.cli.render import console, print_error, print_json, status_text, table
from guardrails.history import CheckHistoryEntry
from guardrails.outcome import CheckStatus

EXIT_OK, EXIT_ERROR = 0, 2
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")


def history_command(
    asset: Annotated[str, typer.Argument(help="Asset key, path parts separated by '/' (e.g. raw/transactions); with "
                                         "Airflow the asset's name or URI.")],
    check: Annotated[str | None, typer.Option("--check", help="Only this check (default: every check of the asset); "
                                              "with Airflow a guarded task id.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many executions.")] = 20,
    partition: Annotated[str | None, typer.Option("--partition", help="Only executions of this partition.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the entries (with full outcomes) as JSON.")] = False,
    airflow: AirflowOption = None,
) -> None:
    """Print the latest check executions of ASSET with status, run, batch and failing rules (Dagster or Airflow)."""
    url = airflow_url(airflow)
    entries = (_airflow_history(url, asset, check, limit, partition) if url is not None
               else _dagster_history(asset, check, limit, partition))
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
                    f"{short_run_id(e.run_id)} {e.run_status or ''}".strip(),
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


def _dagster_history(asset: str, check: str | None, limit: int, partition: str | None) -> list[CheckHistoryEntry]:
    from guardrails.dagster.history import read_check_history

    with open_instance() as instance:
        try:
            return read_check_history(instance, asset, check, limit=limit, partition=partition)
        except Exception as exc:  # an unreadable event log is "could not run", reported in one line
            print_error(f"cannot read check history from $DAGSTER_HOME={instance.root_directory}: "
                        f"{type(exc).__name__}: {exc}")
            raise typer.Exit(EXIT_ERROR) from exc


def _airflow_history(
    url: str, asset: str, check: str | None, limit: int, partition: str | None,
) -> list[CheckHistoryEntry]:
    from guardrails.airflow.records import read_check_history

    with open_airflow(url) as api:
        try:
            return read_check_history(api, asset, check, limit=limit, partition=partition)
        except Exception as exc:  # unreachable, refused, no such asset: "could not run", reported in one line
            exit_unreadable(url, exc)


def short_run_id(run_id: str) -> str:
    """A Dagster run id (a UUID) as its first 8 characters, as Dagster's UI shows it; any other id (Airflow's
    ``scheduled__2026-11-04T00:00:00+00:00``) whole, since its head does not tell runs apart."""
    return run_id[:8] if _UUID.fullmatch(run_id) else run_id


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

