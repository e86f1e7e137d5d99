"""`guardrails validate CONTRACT DATA`: validate a Parquet file or a table against an ODCS contract or a GX suite.

DATA is a Parquet file or directory, or a table URI (``duckdb:///file.duckdb?table=tx``,
``postgresql://user@host/db?table=tx``) audited where it lives (`guardrails.engines`); ``--engine`` picks how a
Parquet file is read (default: polars up to `PARQUET_DUCKDB_BYTES`, DuckDB above). Credentials in a URI are
redacted in every output.

Exit codes: 0 passed (warnings allowed), 1 a blocking rule failed, 2 the check could not run.

A contract rule guardrails cannot run (``type: custom`` for an engine such as soda) makes the check incomplete:
said on stderr, and failing closed (exit 1) unless ``--allow-unrun`` records such rules as warnings (exit 0 if
nothing else blocks). The outcome's metrics name the policy used (``unrun_policy``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from polars.exceptions import PanicException

from guardrails.cli.render import print_error, print_json, print_outcome
from guardrails.cli.options import AsOfOption
from guardrails.contract.loader import load_with_warnings
from guardrails.contract.model import Contract
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus
from guardrails.validation import error_line, read_parquet, validate, validate_expectation_suite

from guardrails._text import visible  # noqa: I001 - kept apart from the imports above to ease merging
from guardrails.cli.options import AllowUnrunOption
from guardrails.engines import TableLocation, TableUriError, parse_table_uri
from guardrails.engines._run import PARQUET_DUCKDB_BYTES, audit_location, parquet_bytes

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def exit_code(outcome: CheckOutcome) -> int:
    """0 when nothing blocks publication, 1 for a blocking failure, 2 when the check could not run."""
    if outcome.status is CheckStatus.ERROR:
        return EXIT_ERROR
    return EXIT_FAILED if outcome.blocks_publication else EXIT_PASSED


def validate_command(
    contract: Annotated[Path, typer.Argument(help="An ODCS contract (*.odcs.yaml) or a Great Expectations suite (*.json).")],
    data: Annotated[str, typer.Argument(
        help="A Parquet file (or a directory of them), or a table URI: duckdb:///file.duckdb?table=NAME, "
        "postgresql://user@host:5432/db?table=NAME.")],
    as_of: AsOfOption = None,
    params: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="NAME=VALUE",
            help="A Great Expectations suite parameter ($PARAMETER), repeatable; ISO times become timestamps.",
        ),
    ] = None,
    table: Annotated[
        str | None,
        typer.Option("--table", help="The table (schema object) DATA holds, when CONTRACT describes several."),
    ] = None,
    all_rules: Annotated[bool, typer.Option("--all-rules", help="List passing rules too, not only failures.")] = False,
    allow_unrun: AllowUnrunOption = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
    engine: Annotated[
        Engine | None,
        typer.Option("--engine", help="How a Parquet file is read: polars (in memory), duckdb (streamed) or spark "
                     "(the active session, else local[1]; needs the [spark] extra and Java). "
                     "Default: polars up to 256 MiB of Parquet, duckdb above. Table URIs run in their own database."),
    ] = None,
) -> None:
    """Validate DATA against CONTRACT and print per-rule failing counts and a sample of failing rows."""
    started, as_of = datetime.now(UTC), as_of or datetime.now(UTC)
    suite = contract.suffix == ".json"
    try:
        location = parse_table_uri(data)
        chosen = _engine_for(location, engine, suite=suite)
        loaded = None if suite else _load(contract, table)
    except (ContractError, OSError, TableUriError) as exc:  # misconfiguration: say where, run nothing
        print_error(str(exc))
        if json_output:
            print_json({"error": str(exc), **{k: getattr(exc, k, None) for k in ("path", "line", "field")}})
        raise typer.Exit(EXIT_ERROR) from exc
    if suite:
        outcome = _run_suite(contract, Path(data), as_of=as_of, parameters=_suite_parameters(params or []),
                             started=started)
    elif chosen == "polars":
        # The engine reads the file itself: polars scans only the columns the contract names, after refusing
        # (from the footer) what it cannot read; no Arrow table in between.
        outcome = validate(loaded, Path(location.connection), as_of=as_of, allow_unrun=allow_unrun).outcome
    else:
        try:
            outcome = audit_location(loaded, location, as_of=as_of, allow_unrun=allow_unrun, engine=chosen)
        except ImportError as exc:  # the [engines] extra is missing: a setup problem, said in one line
            print_error(str(exc))
            raise typer.Exit(EXIT_ERROR) from exc
    if outcome.status is CheckStatus.ERROR:
        hint = "; pass it with --param NAME=VALUE" if outcome.error and "SuiteParameterError" in outcome.error else ""
        print_error(f"{outcome.message}: {outcome.error}{hint}")
    if outcome.unrun_rules:
        print_error(_incomplete_line(outcome, allow_unrun))
    if json_output:
        print_json(outcome.to_dict())
    elif outcome.status is not CheckStatus.ERROR or outcome.rows is not None:
        print_outcome(outcome, all_rules=all_rules)
    raise typer.Exit(exit_code(outcome))


class Engine(StrEnum):
    """Where ``guardrails validate`` runs the contract over a Parquet file."""

    POLARS = "polars"
    DUCKDB = "duckdb"
    SPARK = "spark"


def _engine_for(location: TableLocation, engine: Engine | None, *, suite: bool) -> str:
    """The engine DATA is judged in: a table URI's own, or for Parquet the one asked for or chosen by size.

    Raises:
        TableUriError: a table URI with a GX suite (suites run on Parquet in memory) or with ``--engine`` naming
            another engine.
    """
    if location.backend == "parquet":
        if suite or engine is not None:
            return Engine.POLARS if suite else engine  # type: ignore[return-value]
        return Engine.DUCKDB if parquet_bytes(location.connection) > PARQUET_DUCKDB_BYTES else Engine.POLARS
    if suite:
        raise TableUriError(location.redacted, "a Great Expectations suite runs on a Parquet file, not a table URI")
    if engine is not None and engine != location.backend and (engine, location.backend) != ("spark", "pyspark"):
        raise TableUriError(location.redacted, f"--engine {engine} reads Parquet files; a {location.backend} "
                            "table is audited in its own database (drop --engine)")
    return location.backend


def _load(contract: Path, table: str | None) -> Contract:
    """The contract DATA is validated against; a file of several tables and no ``--table`` names them all."""
    loaded = load_with_warnings(contract, table=table)
    if loaded.errors:
        ambiguous = len(loaded.errors) == 1 and loaded.errors[0].field == "schema"
        if table is None and len(loaded.tables) > 1 and ambiguous:
            raise ContractError(
                contract, "schema", expected="--table naming the table DATA holds",
                got=f"{len(loaded.tables)} tables: " + ", ".join(loaded.tables), line=loaded.errors[0].line,
            )
        raise loaded.errors[0]
    assert loaded.contract is not None
    return loaded.contract


def _run_suite(
    suite: Path, data: Path, *, as_of: datetime, parameters: dict[str, object], started: datetime
) -> CheckOutcome:
    """A GX suite over DATA, read by the same reader as contracts (so the same inputs are refused the same way)."""
    try:
        frame = read_parquet(data)
    except (Exception, PanicException) as exc:  # any unreadable input is a "could not run", never a traceback
        return CheckOutcome.could_not_run(
            suite.name,
            CheckKind.GREAT_EXPECTATIONS,
            error_line(exc),
            started_at=started,
            as_of=as_of,
            message=f"cannot read {data}",
        )
    return validate_expectation_suite(suite, frame, as_of=as_of, parameters=parameters)


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


def _incomplete_line(outcome: CheckOutcome, allow_unrun: bool) -> str:
    """One line saying the check is incomplete, which rules were not run, and the policy applied."""
    unrun = outcome.unrun_rules
    names = ", ".join(visible(r.rule_id, keep="") for r in unrun[:5]) + (f" and {len(unrun) - 5} more" if len(unrun) > 5 else "")
    policy = (
        "recorded as warnings (--allow-unrun)" if allow_unrun
        else "failing closed; pass --allow-unrun to record them as warnings"
    )
    return f"validation incomplete: {len(unrun)} rule(s) not run ({names}): {policy}"
