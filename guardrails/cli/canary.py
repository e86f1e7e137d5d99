"""`guardrails canary SPEC DATA`: judge a candidate model against the control on per-unit observations.

Exit codes: 0 pass, 1 fail, 2 could not run (bad spec, unreadable data, a missing column, a sample-ratio
mismatch), 3 inconclusive (not enough evidence yet; run it again as outcomes mature).
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from guardrails.cli.options import VERDICT_EXIT_CODES, VERDICT_STYLE, exit_misconfigured
from guardrails.cli.render import console, line, print_error, print_json, styled, table
from guardrails.errors import ContractError
from guardrails.outcome import Verdict

if TYPE_CHECKING:
    from guardrails.checks.canary import CanaryReport



def canary_command(
    spec: Annotated[Path, typer.Argument(help="A canary spec (expectations/*.canary.yaml).")],
    data: Annotated[Path, typer.Argument(help="Per-unit observations: a Parquet file or a directory of them.")],
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", parser=datetime.fromisoformat, metavar="ISO-TIME",
                     help="The time a maturity delay counts back from (default: now, UTC)."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Judge the candidate against the control in DATA as SPEC says: pass, fail or inconclusive, per metric.

    Exit 0 pass, 1 fail, 2 could not run (bad spec, unreadable data, a sample-ratio mismatch), 3 inconclusive.
    """
    from guardrails.checks.canary import assess_canary, load_canary_spec

    try:
        loaded = load_canary_spec(spec)
    except (ContractError, OSError) as exc:
        exit_misconfigured(exc, json_output=json_output)
    report = assess_canary(data, loaded, as_of=as_of)
    if report.verdict is Verdict.ERROR:
        print_error(f"{report.outcome.message}: {report.outcome.error}")
    if json_output:
        print_json(report.to_dict())
    else:
        _print(report, loaded.name)
    raise typer.Exit(VERDICT_EXIT_CODES[report.verdict])


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.4g}"


def _interval(lower: float | None, upper: float | None) -> str:
    return f"[{'-inf' if lower is None else _number(lower)}, {'+inf' if upper is None else _number(upper)}]"


def _print(report: CanaryReport, name: str) -> None:
    verdict = report.verdict
    console.print(line(styled(verdict.value, VERDICT_STYLE[verdict]),
                       f"  {name}  ·  {report.units:,} matured units ({report.units_control:,} control, "
                       f"{report.units_candidate:,} candidate, {report.units_immature:,} not matured)  ·  "
                       f"alpha {report.alpha:g}, power {report.power:g}"
                       + ("" if report.srm_p_value is None else f"  ·  split p {report.srm_p_value:.3g}")))
    if report.outcome.message:
        console.print(report.outcome.message)
    if not report.metrics:
        return
    console.print(table(
        None,
        ("metric", "verdict", "control", "candidate", "Delta", "sequential", "fixed-n", "threshold",
         "units", "units needed"),
        (
            (
                m.name + (" (critical)" if m.critical else ""),
                Text(m.verdict.value, style=VERDICT_STYLE[m.verdict]),
                _number(m.control),
                _number(m.candidate),
                _number(m.estimate),
                _interval(m.sequential.lower, m.sequential.upper),
                _interval(m.fixed_n.lower, m.fixed_n.upper),
                "-" if m.margin is None else f"> {-m.margin:.4g}",
                f"{m.units:,}",
                "-" if m.units_needed is None else f"{m.units_needed:,}",
            )
            for m in report.metrics
        ),
    ))
    for m in report.metrics:
        if m.verdict is not Verdict.PASS:
            console.print(m.message)
