"""`guardrails validate CONTRACT DATA`: validate a Parquet file against an ODCS contract or a GX suite.

Exit codes: 0 passed (warnings allowed), 1 a blocking rule failed, 2 the check could not run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.parquet as pq
import typer

from guardrails.cli.render import print_error, print_json, print_outcome
from guardrails.cli.options import AsOfOption
from guardrails.contract import load_contract
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus
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
    as_of: AsOfOption = None,
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
    started, as_of = datetime.now(UTC), as_of or datetime.now(UTC)
    suite = contract.suffix == ".json"
    try:
        loaded = None if suite else load_contract(contract)
    except (ContractError, OSError) as exc:  # misconfiguration: say where, run nothing
        print_error(str(exc))
        if json_output:
            print_json({"error": str(exc), **{k: getattr(exc, k, None) for k in ("path", "line", "field")}})
        raise typer.Exit(EXIT_ERROR) from exc
    try:
        table = _read_parquet(data)
    except Exception as exc:  # any unreadable input is a "could not run", never a traceback
        outcome = CheckOutcome.could_not_run(
            loaded.table if loaded else contract.name,
            CheckKind.GREAT_EXPECTATIONS if suite else CheckKind.CONTRACT,
            f"{type(exc).__name__}: {exc}",
            started_at=started,
            contract_id=loaded.id if loaded else None,
            contract_version=loaded.version if loaded else None,
            as_of=as_of,
            message=f"cannot read {data}",
        )
        print_error(f"cannot read {data}: {outcome.error}")
    else:
        if suite:
            parameters = _suite_parameters(params or [])
            outcome = validate_expectation_suite(contract, table, as_of=as_of, parameters=parameters)
        else:
            outcome = validate(loaded, table, as_of=as_of).outcome
        if outcome.error and "SuiteParameterError" in outcome.error:
            print_error(f"{outcome.error}; pass it with --param NAME=VALUE")
    if json_output:
        print_json(outcome.to_dict())
    elif outcome.status is not CheckStatus.ERROR or outcome.rows is not None:
        print_outcome(outcome, all_rules=all_rules)
    raise typer.Exit(exit_code(outcome))


def _read_parquet(path: Path) -> pa.Table:
    """A Parquet file, or every Parquet file in a directory; an empty directory is an error, not 0 columns."""
    if path.is_dir() and not any(path.rglob("*.parquet")):
        raise FileNotFoundError(f"no Parquet files in directory {path}")
    return pq.read_table(path)


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
