"""`guardrails incident`: a drafted incident report from the record; `guardrails incident rearm`: re-arm a breaker.

Reads the Dagster instance ``$DAGSTER_HOME`` points at (check evaluations, runs) or, with ``--airflow URL`` (or
``$GUARDRAILS_AIRFLOW_URL`` when ``$DAGSTER_HOME`` is not set), Airflow's records through its REST API (the guarded
tasks' asset events, failed task instances and their XCom outcome records, DAG runs; `guardrails.airflow.records`,
where the stores are those the records name unless ``--store`` is given), the quarantine store
(``--store`` / ``$GUARDRAILS_QUARANTINE``, else every store the instance's guarded runs recorded, else
``.guardrails/quarantine``; a recorded store that cannot be read is a warning on stderr and a note in the report),
the incident state (``--state-dir`` / ``$GUARDRAILS_STATE``: breaker trips) and, with ``--model``, the model's
alias history in MLflow (``$MLFLOW_TRACKING_URI``); when the registry cannot be reached within ``--timeout`` the
report is built without that history and says so. Prints Markdown to paste into a postmortem (default), JSON, or
a table. Exit codes: 0 no open incident, 1 at least one incident
is open, 2 the report could not be built (no instance, unreadable store).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from guardrails.cli._airflow import AirflowOption, airflow_url, exit_unreadable, open_airflow
from guardrails.cli.options import STORE_ENV, STORE_HELP, StoreOrigin, choose_stores, open_instance
from guardrails.cli.render import console, print_error, print_json, table

EXIT_OK, EXIT_OPEN, EXIT_ERROR = 0, 1, 2
RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

app = typer.Typer(
    name="incident",
    help="Draft incident reports from check history, quarantine and model records; re-arm circuit breakers.",
)


class ReportFormat(StrEnum):
    MARKDOWN = "markdown"
    JSON = "json"
    TABLE = "table"


def parse_since(value: str) -> datetime:
    """An ISO 8601 time (UTC when no zone is given) or a look-back like ``30m``, ``24h``, ``7d``, ``2w``."""
    match = RELATIVE.match(value.strip())
    if match:
        return datetime.now(UTC) - timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"expected an ISO time or a look-back like 24h or 7d, got {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.callback(invoke_without_command=True)
def incident_command(
    ctx: typer.Context,
    asset: Annotated[str | None, typer.Option("--asset", help="Only incidents on this asset (e.g. clean_transactions).")] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="TIME", help="Only incidents active since TIME (ISO time, or 24h, 7d).")
    ] = None,
    report_format: Annotated[
        ReportFormat, typer.Option("--format", case_sensitive=False, help="markdown (default), json, or table.")
    ] = ReportFormat.MARKDOWN,
    json_output: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the report to this file.")] = None,
    store: Annotated[str | None, typer.Option("--store", envvar=STORE_ENV, help=STORE_HELP)] = None,
    state_dir: Annotated[
        str | None, typer.Option("--state-dir", envvar="GUARDRAILS_STATE", help="Incident state (breaker trips, alerts).")
    ] = None,
    contracts: Annotated[
        str, typer.Option("--contracts", envvar="GUARDRAILS_CONTRACTS", help="Contracts directory (names files in release commands).")
    ] = "expectations",
    model: Annotated[str | None, typer.Option("--model", help="Registered model whose alias history to include.")] = None,
    alias: Annotated[str, typer.Option("--alias", help="The model's serving alias.")] = "champion",
    tracking_uri: Annotated[
        str | None, typer.Option("--tracking-uri", envvar="MLFLOW_TRACKING_URI", help="MLflow tracking URI (with --model).")
    ] = None,
    timeout: Annotated[
        int, typer.Option("--timeout", min=1, help="Seconds per MLflow request (with --model); past it the "
                          "report is built without the alias history and says so.")
    ] = 5,
    airflow: AirflowOption = None,
) -> None:
    """Build the incident report: SBAR summary, timeline, impact, checks that fired, hypotheses, follow-ups."""
    if ctx.invoked_subcommand is not None:
        return
    from guardrails.incidents import build_incident_report, report_json, report_markdown

    fmt = ReportFormat.JSON if json_output else report_format
    moment = parse_since(since) if since else None
    url = airflow_url(airflow)
    if url is not None:  # the report's scope is the asset as Airflow names it (a path given is its file:// URI)
        guard = _model_guard(model, alias, tracking_uri, timeout)
        records, asset = _gather_airflow(url, asset, store, state_dir, contracts, guard)
    else:
        records = _gather(asset, store, state_dir, contracts, model, alias, tracking_uri, timeout)
    report = build_incident_report(records, asset=asset, since=moment)
    if fmt is ReportFormat.JSON:
        text = report_json(report, indent=2)
        print_json(report.to_dict())
    elif fmt is ReportFormat.TABLE:
        text = report_markdown(report)
        _print_table(report)
    else:
        text = report_markdown(report)
        typer.echo(text, nl=False)
    if output is not None:
        output.write_text(text)
    raise typer.Exit(EXIT_OPEN if report.open else EXIT_OK)


@app.command("rearm")
def rearm_command(
    asset: Annotated[str, typer.Argument(help="The asset whose circuit breaker to re-arm.")],
    state_dir: Annotated[
        str | None, typer.Option("--state-dir", envvar="GUARDRAILS_STATE", help="Incident state (breaker trips).")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who re-arms, recorded in the incident (default user@host).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the closed trip as JSON.")] = False,
) -> None:
    """Re-arm ASSET's circuit breaker: restart the schedules/sensors it stopped, count failures afresh.

    For an Airflow asset (its URI), unpause the DAGs the breaker paused, through Airflow's REST API
    ($GUARDRAILS_AIRFLOW_URL with $GUARDRAILS_AIRFLOW_TOKEN, or ..._USERNAME and ..._PASSWORD).
    """
    from guardrails.incidents import IncidentStateStore

    state = IncidentStateStore(state_dir)
    if _rearm_airflow(asset, state, by, json_output):
        return
    from guardrails.dagster.breaker import rearm_breaker

    with open_instance() as instance:
        try:
            trip = rearm_breaker(instance, asset, state=state, by=by)
        except (OSError, ValueError) as exc:
            print_error(f"cannot re-arm {asset}: {exc}")
            raise typer.Exit(EXIT_ERROR) from exc
    if trip is None:
        if json_output:
            print_json(None)
        else:
            console.print(f"the circuit breaker of {asset} is not open: nothing to re-arm")
        raise typer.Exit(EXIT_OK)
    if json_output:
        print_json(trip.to_dict())
        return
    restarted = ", ".join(f"{s.kind} {s.name}" for s in trip.stopped) or "nothing (no feeds were stopped)"
    console.print(f"re-armed the circuit breaker of {asset} (tripped {trip.tripped_at.isoformat(timespec='seconds')}: "
                  f"{trip.reason}); restarted {restarted}")


def _rearm_airflow(asset: str, state: Any, by: str | None, json_output: bool) -> bool:
    """Re-arm an Airflow breaker (its open trip paused DAGs); False when the asset's open trip is not Airflow's."""
    from guardrails.airflow._circuit import is_airflow_trip, paused_names, rearm_breaker
    from guardrails.airflow._rest import AirflowApi, AirflowApiError, AirflowNotConfigured

    try:
        trip = state.active_trip(asset)
    except (OSError, ValueError) as exc:
        print_error(f"cannot re-arm {asset}: {exc}")
        raise typer.Exit(EXIT_ERROR) from exc
    if trip is None and "://" in asset:  # an Airflow asset's URI; Dagster asset keys have no scheme
        if json_output:
            print_json(None)
        else:
            console.print(f"the circuit breaker of {asset} is not open: nothing to re-arm", markup=False, soft_wrap=True)
        return True
    if trip is None or not is_airflow_trip(trip):
        return False
    try:
        api = AirflowApi.from_env()
        if api is None:
            raise AirflowNotConfigured("$GUARDRAILS_AIRFLOW_URL is not set: the paused DAGs cannot be unpaused")
        with api:
            closed = rearm_breaker(api, asset, state=state, by=by)
    except (AirflowApiError, AirflowNotConfigured, OSError, ValueError) as exc:
        print_error(f"cannot re-arm {asset}: {exc}; the breaker stays open")
        raise typer.Exit(EXIT_ERROR) from exc
    if json_output:
        print_json(closed.to_dict() if closed is not None else None)
    elif closed is not None:
        console.print(f"re-armed the circuit breaker of {asset} (tripped {closed.tripped_at.isoformat(timespec='seconds')}"
                      f": {closed.reason}); unpaused {paused_names(closed)}", markup=False, soft_wrap=True)
    return True


def _gather(
    asset: str | None, store: str | None, state_dir: str | None, contracts: str,
    model: str | None, alias: str, tracking_uri: str | None, timeout: int,
) -> Any:
    from guardrails.dagster.incidents import gather_incident_records
    from guardrails.incidents import IncidentStateStore
    from guardrails.quarantine import QuarantineStore

    guard = _model_guard(model, alias, tracking_uri, timeout)
    with open_instance() as instance:
        try:
            choice = choose_stores(store, instance)
            absent_default = choice.origin is StoreOrigin.DEFAULT and not Path(choice.locations[0]).exists()
            stores = [] if absent_default else [QuarantineStore(location) for location in choice.locations]
            records = gather_incident_records(
                instance, [asset] if asset else None, store=stores[0] if stores else None,
                state=IncidentStateStore(state_dir), model_guard=guard, contracts_dir=contracts,
            )
            # Several recorded stores: every one's batches belong in the report (the first names the location).
            manifests = records.manifests + tuple(m for other in stores[1:] for m in other.list())
        except Exception as exc:  # any source that cannot be read makes the report incomplete: say which, exit 2
            print_error(f"cannot build the incident report: {type(exc).__name__}: {exc}")
            raise typer.Exit(EXIT_ERROR) from exc
    for warning in choice.warnings:
        print_error(f"warning: {warning}")
    return replace(records, manifests=manifests, notes=records.notes + choice.warnings)


def _model_guard(model: str | None, alias: str, tracking_uri: str | None, timeout: int) -> Any:
    if not model:
        return None
    if not tracking_uri:
        print_error("--model needs a tracking server: pass --tracking-uri or set MLFLOW_TRACKING_URI")
        raise typer.Exit(EXIT_ERROR)
    from guardrails.models import MlflowModelRegistry, ModelGuard

    return ModelGuard(MlflowModelRegistry(tracking_uri, timeout_seconds=timeout), model, alias=alias)


def _gather_airflow(
    url: str, asset: str | None, store: str | None, state_dir: str | None, contracts: str, guard: Any,
) -> tuple[Any, str | None]:
    """The records from Airflow's REST API and the asset's name there; the stores are `store` when given, else
    those the records name."""
    from guardrails.airflow.records import find_asset, gather_incident_records
    from guardrails.incidents import IncidentStateStore
    from guardrails.quarantine import QuarantineStore

    with open_airflow(url) as api:
        try:
            found = find_asset(api, asset) if asset else None
            records = gather_incident_records(
                api, [found.name] if found is not None else None, stores=[QuarantineStore(store)] if store else [],
                state=IncidentStateStore(state_dir), model_guard=guard, contracts_dir=contracts)
        except Exception as exc:  # any source that cannot be read makes the report incomplete: say which, exit 2
            exit_unreadable(url, exc)
    return records, found.name if found is not None else None


def _print_table(report: Any) -> None:
    from guardrails.incidents import format_duration

    listing = table(
        f"{len(report.incidents)} incident(s), {len(report.open)} open",
        ("incident", "state", "asset / check", "detected (UTC)", "failures", "rows held", "contained in", "likely cause"),
        (
            (i.id, i.state.value, f"{i.asset_key} / {i.check_name}", i.detected_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
             i.impact.failed_evaluations, f"{i.impact.rows_quarantined:,}", format_duration(i.time_to_contain),
             i.hypotheses[0].title if i.hypotheses else "-")
            for i in report.incidents
        ),
    )
    listing.columns[0].no_wrap = True  # ids are copied into other commands: never fold them
    console.print(listing)
    for note in report.notes:
        console.print(f"incomplete: {note}", soft_wrap=True)
