"""Which orchestrator's records `guardrails history` and `guardrails incident` read, and the Airflow client they use.

Airflow when ``--airflow URL`` is given, or when ``$GUARDRAILS_AIRFLOW_URL`` is set and ``$DAGSTER_HOME`` is not;
Dagster (the instance at ``$DAGSTER_HOME``) otherwise. A home that names Dagster wins over the environment's Airflow
URL, so setting both never changes what an existing Dagster command reads; ``--airflow`` always wins.
Airflow's credentials come from the environment only (never a flag, which would land in shell history):
``$GUARDRAILS_AIRFLOW_TOKEN``, or ``$GUARDRAILS_AIRFLOW_USERNAME`` and ``$GUARDRAILS_AIRFLOW_PASSWORD``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from guardrails.cli.render import print_error

if TYPE_CHECKING:
    from guardrails.airflow._rest import AirflowApi

EXIT_ERROR = 2
URL_ENV = "GUARDRAILS_AIRFLOW_URL"  # guardrails.airflow._rest.URL_ENV (imported lazily: httpx is not needed otherwise)

AirflowOption = Annotated[
    str | None,
    typer.Option(
        "--airflow",
        metavar="URL",
        help="Read Airflow's records through its REST API at URL (http://host:8080) instead of Dagster's. Default: "
        "$GUARDRAILS_AIRFLOW_URL when $DAGSTER_HOME is not set. Credentials: $GUARDRAILS_AIRFLOW_TOKEN, or "
        "$GUARDRAILS_AIRFLOW_USERNAME and $GUARDRAILS_AIRFLOW_PASSWORD.",
    ),
]


def airflow_url(given: str | None) -> str | None:
    """The Airflow URL to read from, or None to read Dagster (see the module docstring)."""
    if given:
        return given
    if os.environ.get("DAGSTER_HOME"):
        return None
    return os.environ.get(URL_ENV) or None


def open_airflow(url: str) -> AirflowApi:
    """The REST client for `url` with the environment's credentials; exit 2 with one line when they are missing."""
    from guardrails.airflow._rest import AirflowApi, AirflowNotConfigured

    try:
        api = AirflowApi.from_env({**os.environ, URL_ENV: url})
    except AirflowNotConfigured as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_ERROR) from exc
    assert api is not None  # the URL is set
    return api


def exit_unreadable(url: str, exc: Exception) -> NoReturn:
    """Airflow could not be read (unreachable, refused, no such asset): one line naming it, exit 2."""
    from guardrails.airflow._rest import AirflowApiError

    text = str(exc) if isinstance(exc, AirflowApiError | LookupError) else f"{type(exc).__name__}: {exc}"
    print_error(f"cannot read Airflow's records at {url}: {text}")
    raise typer.Exit(EXIT_ERROR) from exc
