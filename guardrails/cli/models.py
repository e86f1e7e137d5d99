"""`guardrails models ...`: see and steer the model guard (verdicts, lineage, serving alias, pin, hold, reconcile,
alias history).

Exit codes: 0 the registry is in the asked-for state (changed now or already so), 1 the guard refused (pinned,
held, unverified or unclean version, no good version to fall back to), 2 the command could not run (no or
unreachable tracking server, unknown model, a registry error: the message says where the alias was observed).
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Annotated

import typer

from guardrails.cli.render import console, line, print_error, print_json, styled, table
from guardrails.models import (
    ActionResult,
    ActionStatus,
    AliasMove,
    BatchRef,
    ModelGuard,
    ModelVersionState,
    MoveAction,
    RegistryError,
    Verdict,
    VerdictStatus,
)

EXIT_OK, EXIT_REFUSED, EXIT_ERROR = 0, 1, 2
EXIT_CODES = {
    ActionStatus.APPLIED: EXIT_OK,
    ActionStatus.NO_OP: EXIT_OK,
    ActionStatus.REFUSED: EXIT_REFUSED,
    ActionStatus.ERROR: EXIT_ERROR,
}
ACTION_STYLE = {
    ActionStatus.APPLIED: "green",
    ActionStatus.NO_OP: "cyan",
    ActionStatus.REFUSED: "red",
    ActionStatus.ERROR: "magenta",
}

app = typer.Typer(
    help="Model guard: verdicts and lineage of MLflow model versions, the serving alias, pins, holds, the "
    "reconciler and the alias history.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="The registered model name.")]
TrackingUri = Annotated[
    str | None,
    typer.Option("--tracking-uri", envvar="MLFLOW_TRACKING_URI", help="MLflow tracking URI (env MLFLOW_TRACKING_URI)."),
]
Alias = Annotated[str, typer.Option("--alias", help="The serving alias the guard moves.")]
Timeout = Annotated[int, typer.Option("--timeout", min=1, help="Seconds per registry request before giving up.")]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
By = Annotated[str | None, typer.Option("--by", help="Who acts, recorded in the history (default: cli:<user>).")]
LockUrl = Annotated[
    str | None,
    typer.Option("--lock-url", envvar="GUARDRAILS_MODEL_LOCK_URL",
                 help="The lock guards of the model share: a postgresql:// URL (advisory lock, for guards on several "
                 "hosts) or a directory (default: chosen from the tracking URI)."),
]


def _guard(name: str, tracking_uri: str | None, alias: str, timeout: int, lock_url: str | None = None) -> ModelGuard:
    if not tracking_uri:
        print_error("no tracking server: pass --tracking-uri or set MLFLOW_TRACKING_URI")
        raise typer.Exit(EXIT_ERROR)
    from guardrails.models import MlflowModelRegistry

    try:
        registry = MlflowModelRegistry(tracking_uri, timeout_seconds=timeout, lock_url=lock_url)
        return ModelGuard(registry, name, alias=alias, actor=f"cli:{getpass.getuser()}")
    except ValueError as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_ERROR) from exc


def _v(version: int | None) -> str:
    return "" if version is None else f"v{version}"


def _finish(result: ActionResult, json_output: bool) -> None:
    """Print an action result (one line, or JSON) and exit with its code."""
    if json_output:
        print_json(result.to_dict())
    else:
        style = ACTION_STYLE[result.status]
        console.print(line(styled(result.status.value, style), f"  {result.message}"), soft_wrap=True)
        if result.error and result.error != result.message:
            console.print(line(styled("cause:", "magenta"), f" {result.error}"), soft_wrap=True)
        if result.status is ActionStatus.ERROR:
            seen = _v(result.observed_version) or "(unset or unknown)"
            console.print(line(styled("observed:", "magenta"), f" alias {result.alias!r} on {seen}"),
                          soft_wrap=True)
    raise typer.Exit(EXIT_CODES[result.status])


@app.command("status")
def status_command(
    name: Name, tracking_uri: TrackingUri = None, alias: Alias = "champion", timeout: Timeout = 5,
    json_output: Json = False,
) -> None:
    """Show NAME's versions with verdicts, lineage cleanliness and whether the alias may rest on each (and if not,
    why: failed, unclean, unverified, awaiting canary), where the alias points, the pin and the hold."""
    guard = _guard(name, tracking_uri, alias, timeout)
    try:
        status = guard.status()
    except RegistryError as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_ERROR) from exc
    if json_output:
        print_json(status.to_dict())
        return
    pin = status.pin
    headline = line(f"{name}  ·  {alias} -> {_v(status.alias_version) or '(unset)'}")
    if pin:
        headline += line("  ·  ", styled("pinned", "red"),
                         f" on v{pin.version} since {pin.at:%Y-%m-%d %H:%M} by {pin.by}: {pin.reason}")
    else:
        headline += "  ·  not pinned"
    hold = status.hold
    if hold:
        failing = ", ".join(f"{f.check}[{f.partition if f.partition is not None else '-'}]" for f in hold.failing)
        headline += line("  ·  ", styled("held", "yellow"),
                         f" since {hold.at:%Y-%m-%d %H:%M} by {hold.by}: {hold.reason} (failing: {failing or '-'})"
                         + (f" incident {hold.incident}" if hold.incident else ""))
    else:
        headline += "  ·  not held"
    console.print(headline, soft_wrap=True)
    for condemnation in status.condemned:
        console.print(line(styled("condemned", "red"), f" batch {condemnation.batch.label}"
                           f" ({condemnation.check or 'check'}): {condemnation.reason}"), soft_wrap=True)
    aliases_of: dict[int, list[str]] = {}
    for alias_name, version in status.aliases.items():
        aliases_of.setdefault(version, []).append(alias_name)
    console.print(
        table(
            None,
            ("version", "status", "verdict", "lineage", "eligible", "checks", "run", "at", "reason", "aliases"),
            (
                (
                    f"v{v.version}",
                    v.status,
                    v.verdict.status.value if v.verdict else "unverified",
                    _lineage_cell(v),
                    "yes" if v.eligible else f"no: {v.ineligible_because}",
                    ", ".join(v.verdict.checks) if v.verdict else "",
                    v.verdict.run_id if v.verdict else "",
                    f"{v.verdict.at:%Y-%m-%d %H:%M}" if v.verdict and v.verdict.at else "",
                    v.verdict.reason if v.verdict else "",
                    ", ".join(sorted(aliases_of.get(v.version, []))),
                )
                for v in sorted(status.versions, key=lambda v: -v.version)
            ),
        )
    )


@app.command("history")
def history_command(
    name: Name, tracking_uri: TrackingUri = None, alias: Alias = "champion", timeout: Timeout = 5,
    json_output: Json = False,
) -> None:
    """Show every recorded alias move, pin, hold and observation of NAME, oldest first."""
    guard = _guard(name, tracking_uri, alias, timeout)
    try:
        history = guard.history()
    except RegistryError as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_ERROR) from exc
    if json_output:
        print_json([entry.to_dict() for entry in history])
        return
    console.print(table(f"alias history of {name}", ("#", "when", "action", "alias", "from", "to", "why", "check",
                                                     "run", "by"), (_row(e) for e in history)))


def _lineage_cell(version: ModelVersionState) -> str:
    if not version.clean:
        return "UNCLEAN: " + ", ".join(b.label for b in version.tainted_by)
    if version.lineage is None:
        return "not recorded"
    count = len(version.lineage.batches)
    return f"clean ({count} batch{'es' if count != 1 else ''})"


def _row(entry: AliasMove) -> tuple[str, ...]:
    return (
        str(entry.seq),
        f"{entry.at:%Y-%m-%d %H:%M:%S}",
        entry.action.value,
        entry.alias,
        _v(entry.from_version) or "(unset)",
        _v(entry.to_version) or ("(removed)" if entry.action is MoveAction.RETIRE else "(unset)"),
        entry.reason,
        entry.check or "",
        entry.run_id or "",
        entry.by,
    )


@app.command("promote")
def promote_command(
    name: Name,
    version: Annotated[int, typer.Argument(help="The version to serve.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, recorded in the history.")] = "",
    by: By = None,
    tracking_uri: TrackingUri = None, alias: Alias = "champion", timeout: Timeout = 5, json_output: Json = False,
    lock_url: LockUrl = None,
) -> None:
    """Point the alias at VERSION, if its verdict passed, its lineage is clean and NAME is neither pinned nor held."""
    _finish(_guard(name, tracking_uri, alias, timeout, lock_url).promote(version, reason=reason, by=by), json_output)


@app.command("pin")
def pin_command(
    name: Name,
    reason: Annotated[str, typer.Option("--reason", help="Why, recorded on the pin and in the history.")],
    failing_version: Annotated[
        int | None,
        typer.Option("--failing-version", help="The version that failed (default: the one the alias points at, "
                     "or while pinned the version the pin recorded as failing)."),
    ] = None,
    check: Annotated[str | None, typer.Option("--check", help="The check that failed.")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="The run that found the failure.")] = None,
    by: By = None,
    tracking_uri: TrackingUri = None, alias: Alias = "champion", timeout: Timeout = 5, json_output: Json = False,
    lock_url: LockUrl = None,
) -> None:
    """Mark the failing version failed, move the alias to the highest passed clean version, and pin it there."""
    guard = _guard(name, tracking_uri, alias, timeout, lock_url)
    if failing_version is None:
        try:
            status = guard.status()
        except RegistryError as exc:
            print_error(str(exc))
            raise typer.Exit(EXIT_ERROR) from exc
        # While pinned the alias is on the good fallback version; the failure is still the pin's failing version.
        failing_version = status.pin.failing_version if status.pin is not None else status.alias_version
        if failing_version is None:
            print_error(f"alias {alias!r} of {name!r} is not set: pass --failing-version")
            raise typer.Exit(EXIT_ERROR)
    _finish(guard.pin(failing_version, reason=reason, check=check, run_id=run_id, by=by), json_output)


@app.command("unpin")
def unpin_command(
    name: Name,
    reason: Annotated[str, typer.Option("--reason", help="Why the pin is released, recorded in the history.")],
    by: By = None,
    tracking_uri: TrackingUri = None, alias: Alias = "champion", timeout: Timeout = 5, json_output: Json = False,
    lock_url: LockUrl = None,
) -> None:
    """Release NAME's pin so promotion works again (the alias stays where it is)."""
    _finish(_guard(name, tracking_uri, alias, timeout, lock_url).unpin(reason=reason, by=by), json_output)


@app.command("verdict")
def verdict_command(
    name: Name,
    version: Annotated[int, typer.Argument(help="The version judged.")],
    status: Annotated[VerdictStatus, typer.Option("--status", help="passed or failed.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")] = "",
    check: Annotated[list[str] | None, typer.Option("--check", help="A check behind the verdict (repeatable).")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="The run that produced the verdict.")] = None,
    tracking_uri: TrackingUri = None, alias: Alias = "champion", timeout: Timeout = 5, json_output: Json = False,
    lock_url: LockUrl = None,
) -> None:
    """Record a guardrail verdict on VERSION by hand (e.g. vouch for a known-good version before a pin).

    A failed verdict is the model's own failure: it is written first, then the alias is moved off VERSION to the
    highest passed clean version if it was there (exit 1 if no such version exists).
    """
    guard = _guard(name, tracking_uri, alias, timeout, lock_url)
    verdict = Verdict(status=status, checks=tuple(check or ()), run_id=run_id, at=datetime.now(UTC), reason=reason)
    if verdict.status is VerdictStatus.FAILED:
        result = guard.fail_version(version, reason=reason, check=(check or [None])[0], run_id=run_id)
        if json_output:
            print_json(dict(result.to_dict(), verdict=verdict.to_dict()))
            raise typer.Exit(EXIT_CODES[result.status])
        _finish(result, json_output)
    try:
        guard.record_verdict(version, verdict)
    except RegistryError as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_ERROR) from exc
    if json_output:
        print_json({"model": name, "version": version, "verdict": verdict.to_dict()})
    else:
        console.print(f"{name} v{version}: verdict {verdict.status.value}" + (f" ({reason})" if reason else ""),
                      soft_wrap=True)


@app.command("unhold")
def unhold_command(
    name: Name,
    reason: Annotated[str, typer.Option("--reason", help="Why the hold is released, recorded in the history.")] = (
        "released by hand"),
    by: By = None,
    tracking_uri: TrackingUri = None, alias: Alias = "champion", timeout: Timeout = 5, json_output: Json = False,
    lock_url: LockUrl = None,
) -> None:
    """Release NAME's hold on automatic promotion by hand (the alias stays where it is)."""
    _finish(_guard(name, tracking_uri, alias, timeout, lock_url).unhold(reason=reason, by=by), json_output)


@app.command("reconcile")
def reconcile_command(
    name: Name, by: By = None,
    tracking_uri: TrackingUri = None, alias: Alias = "champion", timeout: Timeout = 5, json_output: Json = False,
    lock_url: LockUrl = None,
) -> None:
    """Record alias moves nobody recorded ("observed") and move the alias off a failed or unclean version."""
    _finish(_guard(name, tracking_uri, alias, timeout, lock_url).reconcile(by=by), json_output)


@app.command("lineage")
def lineage_command(
    name: Name,
    version: Annotated[int, typer.Argument(help="The version whose lineage to show.")],
    tracking_uri: TrackingUri = None, alias: Alias = "champion", timeout: Timeout = 5, json_output: Json = False,
) -> None:
    """Show the batches VERSION was trained and evaluated on, and which of them were condemned."""
    guard = _guard(name, tracking_uri, alias, timeout)
    try:
        status = guard.status()
    except RegistryError as exc:
        print_error(str(exc))
        raise typer.Exit(EXIT_ERROR) from exc
    state = status.version(version)
    if state is None:
        print_error(f"{name!r} has no version {version}")
        raise typer.Exit(EXIT_ERROR)
    if json_output:
        print_json({"model": name, "version": version, "clean": state.clean,
                    "lineage": state.lineage.to_dict() if state.lineage else None,
                    "tainted_by": [b.to_dict() for b in state.tainted_by]})
        return
    if state.lineage is None:
        console.print(f"{name} v{version}: no lineage recorded", soft_wrap=True)
        return
    tainted = set(state.tainted_by)
    console.print(line(f"{name} v{version}: lineage ", styled("clean", "green") if state.clean
                       else styled("UNCLEAN", "red")), soft_wrap=True)
    rows = [(role, b) for role, batches in (("trained", state.lineage.trained_on),
                                            ("evaluated", state.lineage.evaluated_on)) for b in batches]
    console.print(table(None, ("role", "asset", "partition", "batch", "contract", "run", "condemned"), (
        (role, b.asset, b.partition or "", b.identity or "",
         f"{b.contract_id or ''} {b.contract_version or ''}".strip(), b.run_id or "",
         "yes" if _condemned(b, tainted) else "")
        for role, b in rows)))


def _condemned(batch: BatchRef, tainted: set[BatchRef]) -> bool:
    """Whether a condemnation covers `batch`: the exact batch, or its whole partition (a condemnation without id)."""
    return any(t.asset == batch.asset and t.partition == batch.partition
               and (t.identity is None or t.identity == batch.identity) for t in tainted)
