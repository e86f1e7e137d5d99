"""`guardrails quarantine list|show|release|purge`: inspect and resolve quarantined batches.

The store is ``--store`` (a directory or an fsspec URL), else ``$GUARDRAILS_QUARANTINE``, else the stores the
Dagster instance at ``$DAGSTER_HOME`` recorded (`guardrails.cli.options.choose_stores`), else
``.guardrails/quarantine``. When the instance recorded several stores, ``list`` reads them all and
``show``/``release``/``purge`` use the one holding the batch; a recorded store that cannot be read is named in a
warning on stderr. Exit codes: 0 done (or nothing to do), 1 the release was refused because the data still fails
its contract or a newer batch was published since (``--force`` overrides that), or a purge was declined, 2 the
command could not run (unknown batch, unreadable store, bad contract file, data that still cannot be read), 3 the
batch is released (published once) but its release could not be recorded in Airflow (see below).

Airflow: releasing a batch an Airflow task quarantined also records an event on the task's asset through Airflow's
REST API (``POST /api/v2/assets/events``, extra ``guardrails_release``) when ``$GUARDRAILS_AIRFLOW_URL`` is set
(with ``$GUARDRAILS_AIRFLOW_TOKEN``, or ``$GUARDRAILS_AIRFLOW_USERNAME`` and ``$GUARDRAILS_AIRFLOW_PASSWORD``). If
Airflow cannot be reached the data is still published, once; the command says the event was not recorded and exits
3; running it again (or ``--record-only``, which needs no contract) records it, never twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any, TypeVar

import fsspec
import typer

from guardrails.cli.render import console, err_console, line, print_error, print_json, print_outcome, styled, table
from guardrails.cli.options import STORE_ENV, STORE_HELP, AsOfOption, StoreChoice, choose_stores
from guardrails.contract import load_contract
from guardrails.contract.model import Contract
from guardrails.errors import GuardrailsError
from guardrails.outcome import CheckStatus
from guardrails.quarantine import QuarantineManifest, QuarantineState, QuarantineStore, ReleaseResult, ReleaseStatus

EXIT_OK, EXIT_REFUSED, EXIT_ERROR, EXIT_NOT_RECORDED = 0, 1, 2, 3
T = TypeVar("T")

app = typer.Typer(
    name="quarantine",
    help="List, inspect, release (re-check and publish exactly once) and purge quarantined batches.",
    no_args_is_help=True,
)

StoreOption = Annotated[str | None, typer.Option("--store", envvar=STORE_ENV, show_default=False, help=STORE_HELP)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]
BatchArgument = Annotated[str, typer.Argument(help="The batch id (see `guardrails quarantine list`).")]


@app.command("list")
def list_command(
    store: StoreOption = None,
    state: Annotated[
        QuarantineState | None, typer.Option("--state", help="Only batches in this state.", case_sensitive=False)
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List the batches in the store, oldest first: state, rows kept, when and why they were quarantined.

    A batch whose manifest is broken (truncated, edited by hand) is listed apart with its directory and the reason,
    whatever `--state` asks for; in `--json` it is an entry with state "broken", its path and the reason.
    Without --store or $GUARDRAILS_QUARANTINE, every store the $DAGSTER_HOME instance recorded is listed (with a
    store column when there are several); --json is then the manifests of all of them.
    """
    locations = _stores(store).locations
    listings = [(location, _run(lambda location=location: _open(location).scan(state))) for location in locations]
    found = sorted(((location, m) for location, listing in listings for m in listing.manifests),
                   key=lambda pair: pair[1].quarantined_at)
    broken = [b for _, listing in listings for b in listing.broken]
    if json_output:
        print_json([m.to_dict() for _, m in found] + [b.to_dict() for b in broken])
        return
    where = ", ".join(locations)
    if not found:
        nothing = f"no {state.value + ' ' if state else ''}batches in {where}"
        if not broken and not all(_exists(location) for location in locations):
            nothing += " (there is no store there yet: check --store or $GUARDRAILS_QUARANTINE)"
        console.print(nothing)
    else:
        several = len(locations) > 1
        listing_table = table(
            f"{len(found)} batch{'es' if len(found) != 1 else ''} in {where}",
            ("batch", "state", "rows kept", "quarantined (UTC)", "reason", *(("store",) if several else ())),
            (
                (m.batch_id, m.state.value, _rows(m), m.quarantined_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
                 m.reason, *((location,) if several else ()))
                for location, m in found
            ),
        )
        for column in listing_table.columns[:4]:
            column.no_wrap = True  # ids are copied into the next command: never fold them
        console.print(listing_table)
    if broken:
        count = len(broken)
        console.print(
            table(
                f"{count} broken batch{'es' if count != 1 else ''} (its manifest cannot be trusted: nothing was read)",
                ("batch directory", "reason"),
                ((b.path, b.reason) for b in broken),
            )
        )


@app.command("show")
def show_command(
    batch_id: BatchArgument, store: StoreOption = None, json_output: JsonOption = False
) -> None:
    """Show one batch: where it came from, its rows, its history, and the outcome that quarantined it."""
    location = _store_of(batch_id, store)
    manifest = _run(lambda: _open(location).show(batch_id))
    if json_output:
        print_json(manifest.to_dict())
        return
    console.print(
        table(
            f"batch {manifest.batch_id}",
            ("field", "value"),
            (
                ("state", manifest.state.value),
                ("source", manifest.source or "-"),
                ("rows", _rows(manifest)),
                ("policy", manifest.policy.value),
                ("contract", _contract(manifest)),
                ("run", manifest.run_id or "-"),
                ("data", f"{manifest.data_file} ({manifest.data_format.value}, {manifest.data_bytes:,} bytes)"),
                ("content sha256", manifest.content_hash),
                ("reason", manifest.reason),
                ("released to", manifest.released_to or "-"),
            ),
        )
    )
    console.print(
        table(
            "history",
            ("at", "state", "actor", "reason"),
            (
                (step.at.isoformat(timespec="seconds"), step.state.value, step.actor, step.reason)
                for step in manifest.history
            ),
        )
    )
    print_outcome(manifest.outcome)


@app.command("release")
def release_command(
    batch_id: BatchArgument,
    contract: Annotated[
        Path | None, typer.Option("--contract", help="The batch's contract file, as it is now (*.odcs.yaml).")
    ] = None,
    store: StoreOption = None,
    as_of: AsOfOption = None,
    table: Annotated[
        str | None, typer.Option("--table", help="The batch's table, when the contract file describes several.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Release even over a newer batch published since (recorded in its history).")
    ] = False,
    json_output: JsonOption = False,
    break_claim: Annotated[
        bool,
        typer.Option(
            "--break-claim",
            help="Take the batch's claim even if it is not provably stale (held on another host, lease running). "
            "Only after making sure that release is dead: it may have published already.",
        ),
    ] = False,
    record_only: Annotated[
        bool,
        typer.Option("--record-only", help="Publish nothing: only record an earlier release of an Airflow batch as "
                     "an asset event in Airflow ($GUARDRAILS_AIRFLOW_URL), if it is not recorded yet."),
    ] = False,
) -> None:
    """Re-check a batch against the current contract and, if nothing blocks it, publish it exactly once.

    A batch an Airflow task quarantined is also recorded as an event of its asset in Airflow (see the module help).
    """
    location = _store_of(batch_id, store)
    if record_only:
        _record_only(batch_id, location, json_output)
        return
    if contract is None:
        print_error("--contract is required (the batch's contract file), unless --record-only")
        raise typer.Exit(EXIT_ERROR)
    result = _run(lambda: _release(_open(location), batch_id, load_contract(contract, table=table), as_of=as_of,
                                   break_claim=break_claim, force=force))
    event = _record_in_airflow(result.manifest) if result.released else None
    if json_output:
        print_json({**result.to_dict(), "airflow_event": event.to_dict() if event is not None else None})
    else:
        style = {ReleaseStatus.RELEASED: "green", ReleaseStatus.ALREADY_RELEASED: "green"}.get(result.status, "red")
        console.print(line(styled(result.status.value, style), f"  {result.batch_id}: {result.message}"))
        if result.outcome is not None and result.status is not ReleaseStatus.ALREADY_RELEASED:
            print_outcome(result.outcome)
        _say_event(batch_id, event)
    if event is not None and not event.recorded:
        raise typer.Exit(EXIT_NOT_RECORDED)
    if result.status is ReleaseStatus.SUPERSEDED:
        raise typer.Exit(EXIT_REFUSED)
    if result.status is ReleaseStatus.REFUSED:
        refused_by_data = result.outcome is not None and result.outcome.status is not CheckStatus.ERROR
        raise typer.Exit(EXIT_REFUSED if refused_by_data else EXIT_ERROR)
    raise typer.Exit(EXIT_ERROR if result.status is ReleaseStatus.CLAIMED else EXIT_OK)


@app.command("purge")
def purge_command(
    batch_id: BatchArgument,
    store: StoreOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Delete a batch's data for good; its manifest stays as a tombstone (counts and history, no sample rows)."""
    location = _store_of(batch_id, store)
    quarantine = _run(lambda: _open(location))
    manifest = _run(lambda: quarantine.show(batch_id))
    if not yes and manifest.state is not QuarantineState.PURGED:
        if not typer.confirm(f"Delete the data of {batch_id} ({_rows(manifest)}) for good?", err=True):
            err_console.print("not purged")
            raise typer.Exit(EXIT_REFUSED)
    _run(lambda: quarantine.purge(batch_id))
    purged = _run(lambda: quarantine.show(batch_id))
    if json_output:
        print_json(purged.to_dict())
    else:
        console.print(f"purged {batch_id}: data deleted, tombstone manifest kept")


def _record_in_airflow(manifest: QuarantineManifest) -> Any:
    """Record a released Airflow batch in Airflow (`ReleaseEventResult`); None when it is not an Airflow batch or
    no Airflow is configured (a note on stderr then says no event was recorded)."""
    from guardrails.airflow._release_event import ReleaseEventResult, came_from_airflow, record_release_event
    from guardrails.airflow._rest import AirflowApi, AirflowNotConfigured

    if not came_from_airflow(manifest):
        return None
    try:
        api = AirflowApi.from_env()
    except AirflowNotConfigured as exc:
        return ReleaseEventResult(recorded=False, message=f"cannot record the release in Airflow: {exc}")
    if api is None:
        err_console.print(f"guardrails: note: {manifest.batch_id} came from Airflow; set $GUARDRAILS_AIRFLOW_URL to "
                          "record its release as an asset event", soft_wrap=True, markup=False)
        return None
    with api:
        return record_release_event(api, manifest)


def _say_event(batch_id: str, event: Any) -> None:
    if event is None:
        return
    if event.recorded:
        console.print(line(styled("recorded", "green"), f"  in Airflow: {event.message}"))
        return
    err_console.print(f"guardrails: the release of {batch_id} is published but NOT recorded in Airflow: "
                      f"{event.message}; once Airflow is reachable run: guardrails quarantine release {batch_id} "
                      "--record-only", soft_wrap=True, markup=False)


def _record_only(batch_id: str, location: str, json_output: bool) -> None:
    """``--record-only``: record an earlier release in Airflow; exit 0 recorded, 3 not, 2 not released/not Airflow."""
    manifest = _run(lambda: _open(location).show(batch_id))
    if manifest.state is not QuarantineState.RELEASED:
        print_error(f"batch {batch_id} is {manifest.state.value}: there is no release to record (release it first)")
        raise typer.Exit(EXIT_ERROR)
    event = _record_in_airflow(manifest)
    if event is None:
        print_error(f"batch {batch_id} was not guarded by an Airflow task, or $GUARDRAILS_AIRFLOW_URL is not set: "
                    "nothing to record")
        raise typer.Exit(EXIT_ERROR)
    if json_output:
        print_json(event.to_dict())
    else:
        _say_event(batch_id, event)
    raise typer.Exit(EXIT_OK if event.recorded else EXIT_NOT_RECORDED)


def _stores(given: str | None) -> StoreChoice:
    """The stores to read (see `choose_stores`); each unreadable recorded store is a warning line on stderr,
    and exit 2 when none is left to read."""
    choice = choose_stores(given)
    for warning in choice.warnings:
        err_console.print(f"guardrails: warning: {warning}", soft_wrap=True, markup=False)
    if not choice.locations:
        err_console.print("guardrails: no quarantine store to read: every store $DAGSTER_HOME recorded is unreadable",
                          soft_wrap=True, markup=False)
        raise typer.Exit(EXIT_ERROR)
    return choice


def _store_of(batch_id: str, given: str | None) -> str:
    """The one store to act on: the given or only one, else the recorded store that holds `batch_id`."""
    locations = _stores(given).locations
    if len(locations) == 1:
        return locations[0]
    holding = [location for location in locations
               if any(m.batch_id == batch_id for m in _run(lambda location=location: _open(location).list()))]
    if len(holding) == 1:
        return holding[0]
    where = ", ".join(holding or locations)
    problem = "is in several" if holding else "is in none"
    err_console.print(f"guardrails: batch {batch_id} {problem} of the quarantine stores $DAGSTER_HOME recorded "
                      f"({where}); pass --store", soft_wrap=True, markup=False)
    raise typer.Exit(EXIT_ERROR)


def _release(store: QuarantineStore, batch_id: str, contract: Contract, **options: Any) -> ReleaseResult:
    """Release through the store, or through Spark for a batch the Spark guard kept (re-validated and published
    there: to its partition, not to ``_released/``)."""
    from guardrails.engines._spark_publish import SOURCE_PREFIX

    if store.show(batch_id).source.startswith(SOURCE_PREFIX):
        from guardrails.engines._spark_guard import release_spark_parquet  # needs the [spark] extra

        return release_spark_parquet(store, batch_id, contract, **options)
    return store.release(batch_id, contract, **options)


def _open(location: str) -> QuarantineStore:
    try:
        return QuarantineStore(location)
    except (ValueError, ImportError) as exc:  # an unknown URL protocol, or its fsspec backend is not installed
        raise GuardrailsError(f"cannot open the quarantine store {location}: {exc}") from exc


def _run(action: Callable[[], T]) -> T:
    """Run a store operation; a GuardrailsError or an I/O failure becomes one clear line and exit code 2."""
    try:
        return action()
    except (GuardrailsError, OSError) as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_ERROR) from exc


def _rows(manifest: QuarantineManifest) -> str:
    kept = "?" if manifest.rows_quarantined is None else f"{manifest.rows_quarantined:,}"
    total = "?" if manifest.rows_in is None else f"{manifest.rows_in:,}"
    return f"{kept} of {total}"


def _contract(manifest: QuarantineManifest) -> str:
    if manifest.contract_id is None:
        return "-"
    return f"{manifest.contract_id} v{manifest.contract_version}" if manifest.contract_version else manifest.contract_id


def _exists(location: str) -> bool:
    """Whether the store's root exists, so a mistyped --store is not mistaken for an empty quarantine."""
    filesystem, root = fsspec.core.url_to_fs(location)
    return bool(filesystem.exists(root))
