"""Options several commands share, and the defaults behind them, defined once so they read the same everywhere.

The quarantine store a command reads is, in this order: ``--store``, ``$GUARDRAILS_QUARANTINE``, the stores the
Dagster instance at ``$DAGSTER_HOME`` recorded (every guarded evaluation names its store), ``.guardrails/quarantine``.
A recorded store that cannot be read is never skipped quietly: `choose_stores` returns a warning naming it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from guardrails.cli.render import print_error, print_json
from guardrails.outcome import Verdict
from guardrails.quarantine._store import DEFAULT_LOCATION as DEFAULT_STORE

if TYPE_CHECKING:
    import dagster as dg

EXIT_ERROR = 2
VERDICT_EXIT_CODES = {Verdict.PASS: 0, Verdict.FAIL: 1, Verdict.ERROR: EXIT_ERROR, Verdict.INCONCLUSIVE: 3,
                      Verdict.INSUFFICIENT: 3}
"""Exit codes of the commands that print a check's verdict (canary, fairness, performance): 3 = no verdict yet."""
VERDICT_STYLE = {Verdict.PASS: "green", Verdict.FAIL: "red", Verdict.ERROR: "magenta",
                 Verdict.INCONCLUSIVE: "yellow", Verdict.INSUFFICIENT: "yellow"}
DAGSTER_HOME_ENV = "DAGSTER_HOME"
STORE_ENV = "GUARDRAILS_QUARANTINE"

AsOfOption = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        parser=datetime.fromisoformat,
        metavar="ISO-TIME",
        help="Judge time rules (not in the future, max age) as of this ISO 8601 time (default: now, UTC); "
        "use the batch's own day for old data.",
    ),
]

AllowUnrunOption = Annotated[
    bool,
    typer.Option(
        "--allow-unrun",
        help="Record contract rules guardrails cannot run (type: custom for an engine such as soda) as warnings "
        "instead of failing closed; the outcome still says the check is incomplete and records the policy.",
    ),
]

STORE_HELP = (
    "The quarantine store: a directory or an fsspec URL (memory://, s3://...). Default: $GUARDRAILS_QUARANTINE, "
    "else the stores the Dagster instance at $DAGSTER_HOME recorded for its guarded assets (when it recorded "
    "several, `quarantine list` and `incident` read them all, show/release/purge the one holding the batch; an "
    f"unreadable one is named in a warning), else {DEFAULT_STORE}."
)


class StoreOrigin(StrEnum):
    """Where a command's quarantine store came from, in order of precedence."""

    GIVEN = "given"
    """``--store``, or ``$GUARDRAILS_QUARANTINE`` (typer prefers the flag)."""
    RECORDED = "recorded"
    """The stores the instance at ``$DAGSTER_HOME`` recorded on its guarded evaluations."""
    DEFAULT = "default"
    """``.guardrails/quarantine``: nothing said otherwise (it may not exist)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreChoice:
    """The quarantine stores a command reads and why those.

    `locations` are the stores to read (several only when the instance recorded several, none when every
    recorded one is unreadable); `warnings` name the recorded stores that cannot be read, one line each, so the
    command can say so on stderr and in its JSON.
    """

    locations: tuple[str, ...]
    origin: StoreOrigin
    warnings: tuple[str, ...] = ()


def choose_stores(given: str | None, instance: dg.DagsterInstance | None = None) -> StoreChoice:
    """The stores to read: `given` (``--store``, ``$GUARDRAILS_QUARANTINE``), else the recorded ones, else the default.

    Args:
        given: the option's value; typer has already preferred the flag over the environment variable.
        instance: the instance to read recorded stores from; None opens ``$DAGSTER_HOME`` if it is set.

    Example: after ``make demo``, ``DAGSTER_HOME=.demo/dagster_home guardrails quarantine list`` reads
    ``file:///.../.demo/quarantine``, the store the demo's runs recorded.
    """
    if given:
        return StoreChoice(locations=(given,), origin=StoreOrigin.GIVEN)
    if instance is None and not os.environ.get(DAGSTER_HOME_ENV):
        return StoreChoice(locations=(DEFAULT_STORE,), origin=StoreOrigin.DEFAULT)
    if instance is None:
        with open_instance() as opened:
            return choose_stores(given, opened)
    from guardrails.dagster.history import recorded_quarantine_stores

    try:
        recorded = recorded_quarantine_stores(instance)
    except Exception as exc:  # an unreadable event log is "could not run": one line naming it, exit 2
        print_error(f"cannot read the quarantine stores recorded at $DAGSTER_HOME={os.environ.get(DAGSTER_HOME_ENV)}: "
                    f"{type(exc).__name__}: {exc}; pass --store or set ${STORE_ENV}")
        raise typer.Exit(EXIT_ERROR) from exc
    if not recorded:
        return StoreChoice(locations=(DEFAULT_STORE,), origin=StoreOrigin.DEFAULT)
    readable: list[str] = []
    warnings: list[str] = []
    for store in recorded:
        problem = _unreadable(store.uri)
        if problem is None:
            readable.append(store.uri)
        else:
            warnings.append(
                f"the quarantine store {store.uri} recorded by {', '.join(store.checks)} in $DAGSTER_HOME cannot be "
                f"read ({problem}); pass --store or set ${STORE_ENV}"
            )
    return StoreChoice(locations=tuple(readable), origin=StoreOrigin.RECORDED, warnings=tuple(warnings))


def _unreadable(uri: str) -> str | None:
    """Why the store at `uri` cannot be read here (None if it can): unknown protocol, missing, or an I/O error."""
    import fsspec

    try:
        filesystem, root = fsspec.core.url_to_fs(uri)
        return None if filesystem.isdir(root) else "it does not exist here"
    except (ValueError, ImportError, OSError) as exc:  # unknown protocol, backend not installed, or I/O failure
        return f"{type(exc).__name__}: {exc}"


def open_instance() -> dg.DagsterInstance:
    """The Dagster instance ``$DAGSTER_HOME`` points at; exit 2 with one line when it is unset or unreadable.

    A relative ``$DAGSTER_HOME`` (``DAGSTER_HOME=.demo/dagster_home``) is taken from the working directory:
    Dagster refuses relative homes, so it is made absolute here, for this process and any it starts.
    """
    import dagster as dg

    home = os.environ.get(DAGSTER_HOME_ENV)
    if not home:
        print_error("DAGSTER_HOME is not set: point it at the Dagster instance directory")
        raise typer.Exit(EXIT_ERROR)
    os.environ[DAGSTER_HOME_ENV] = os.path.abspath(home)
    try:
        return dg.DagsterInstance.get()
    except Exception as exc:  # an unreadable instance is "could not run", reported in one line
        print_error(f"cannot open the Dagster instance at $DAGSTER_HOME={home}: {type(exc).__name__}: {exc}")
        raise typer.Exit(EXIT_ERROR) from exc


def exit_misconfigured(exc: Exception, *, json_output: bool, message: str | None = None) -> NoReturn:
    """A spec or input that does not load is misconfiguration: say where (file, line, field), run nothing, exit 2."""
    text = message or str(exc)
    print_error(text)
    if json_output:
        print_json({"error": text, **{k: getattr(exc, k, None) for k in ("path", "line", "field")}})
    raise typer.Exit(EXIT_ERROR) from exc
