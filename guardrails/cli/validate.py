"""`guardrails validate CONTRACT DATA`: validate a Parquet file against an ODCS contract or a GX suite.

Exit codes: 0 passed (warnings allowed), 1 a blocking rule failed, 2 the check could not run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import pyarrow.parquet as pq
import typer

from guardrails.cli.render import print_error, print_json, print_outcome
from guardrails.contract import load_contract
from guardrails.errors import ContractError
from guardrails.outcome import CheckOutcome, CheckStatus
from guardrails.validation import validate, validate_expectation_suite

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def exit_code(outcome: CheckOutcome) -> int:
    """0 when nothing blocks publication, 1 for a blocking failure, 2 when the check could not run."""
    if outcome.status is CheckStatus.ERROR:
        return EXIT_ERROR
    return EXIT_FAILED if outcome.blocks_publication else EXIT_PASSED


def validate_command(
    contract: Annotated[Path, typer.Argument(help="An ODCS contract (*.odcs.yaml) or a Great Expectations suite (*.json).")],
    data: Annotated[Path, typer.Argument(help="A Parquet file (or a directory of Parquet files).")],
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            parser=datetime.fromisoformat,
            metavar="ISO-TIME",
            help="Judge time rules (not in the future, max age) as of this ISO 8601 time (default: now, UTC).",
        ),
    ] = None,
    params: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="NAME=VALUE",
            help="A Great Expectations suite parameter ($PARAMETER), repeatable; ISO times become timestamps.",
        ),
    ] = None,
    all_rules: Annotated[bool, typer.Option("--all-rules", help="List passing rules too, not only failures.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Validate DATA against CONTRACT and print per-rule failing counts and a sample of failing rows."""
    try:
        table = pq.read_table(data)
    except Exception as exc:  # any unreadable input is a "could not run", never a traceback
        print_error(f"cannot read {data}: {type(exc).__name__}: {exc}")
        raise typer.Exit(EXIT_ERROR) from exc
    as_of = as_of or datetime.now(UTC)
    try:
        if contract.suffix == ".json":
            outcome = validate_expectation_suite(contract, table, as_of=as_of, parameters=_suite_parameters(params or []))
        else:
            outcome = validate(load_contract(contract), table, as_of=as_of).outcome
    except (ContractError, OSError) as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_ERROR) from exc
    if outcome.error and "SuiteParameterError" in outcome.error:
        print_error(f"{outcome.error}; pass it with --param NAME=VALUE")
    if json_output:
        print_json(outcome.to_dict())
    else:
        print_outcome(outcome, all_rules=all_rules)
    raise typer.Exit(exit_code(outcome))


def _suite_parameters(pairs: list[str]) -> dict[str, object]:
    """``["max_age_cutoff=2026-10-22T00:00:00Z", "n=3"]`` -> typed values (ISO times as pandas Timestamps)."""
    import pandas as pd

    values: dict[str, object] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--param")
        try:
            values[name] = pd.Timestamp(datetime.fromisoformat(raw))
        except ValueError:
            values[name] = _number_or_text(raw)
    return values


def _number_or_text(raw: str) -> object:
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass  # not this kind; try the next, and keep the text if none fits
    return raw
