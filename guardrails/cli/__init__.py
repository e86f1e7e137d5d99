"""The `guardrails` command line: one adapter over the core, with human tables by default and `--json` everywhere.

Each topic lives in its own module exposing a Typer `app`, registered here. Exit codes: 0 passed, 1 a check
failed, 2 the command could not run (bad input, unreachable store); `canary` adds 3, inconclusive.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

import typer

from guardrails.cli.canary import canary_command
from guardrails.cli.contract import app as contract_app
from guardrails.cli.evidence import app as evidence_app
from guardrails.cli.fairness import fairness_command
from guardrails.cli.history import history_command
from guardrails.cli.incident import app as incident_app
from guardrails.cli.models import app as models_app
from guardrails.cli.performance import performance_command
from guardrails.cli.quarantine import app as quarantine_app
from guardrails.cli.validate import validate_command

app = typer.Typer(
    name="guardrails",
    help="Keep bad data and bad models out of production ML pipelines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)



def _print_version(requested: bool) -> None:
    if requested:
        typer.echo(f"guardrails {version('pipeline-guardrails')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Keep bad data and bad models out of production ML pipelines."""


app.command("validate")(validate_command)
app.add_typer(contract_app, name="contract")
app.add_typer(quarantine_app, name="quarantine")
app.command("history")(history_command)
app.add_typer(models_app, name="models")
app.add_typer(incident_app, name="incident")
app.command("fairness")(fairness_command)
app.command("canary")(canary_command)
app.command("performance")(performance_command)
app.add_typer(evidence_app, name="evidence")


def main() -> None:
    """Console-script entry point."""
    app()
