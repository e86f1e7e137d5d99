"""`guardrails fairness SPEC DATA [--champion DATA] [--json]`: judge per-segment gaps of a scored batch.

Exit codes: 0 pass, 1 a gap (or a widening of the champion's gap) failed, 2 the check could not run (bad spec,
unreadable data, a missing prediction or label column), 3 insufficient (too few segments large enough to judge).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.cli.options import VERDICT_EXIT_CODES, VERDICT_STYLE, exit_misconfigured
from guardrails.cli.render import console, line, print_error, print_json, styled, table
from guardrails.errors import ContractError
from guardrails.outcome import Verdict

if TYPE_CHECKING:
    from guardrails.checks.fairness import FairnessReport

# The check is imported when the command runs: importing `guardrails.checks` loads scipy (drift), which no other
# command should pay for at start-up.

SEGMENT_CHARS = 80
"""Longest segment value shown in a table cell (values come from data)."""


def fairness_command(
    spec: Annotated[Path, typer.Argument(help="A fairness spec (expectations/*.fairness.yaml).")],
    data: Annotated[Path, typer.Argument(help="The candidate's scored rows: a Parquet file or directory.")],
    champion: Annotated[
        Path | None,
        typer.Option("--champion", metavar="DATA",
                     help="The champion's scored rows (Parquet), or its report saved with --json: the candidate may "
                          "not widen the champion's gaps by more than champion_tolerance."),
    ] = None,
    all_segments: Annotated[bool, typer.Option("--all-segments", help="List every segment, not only those flagged "
                                                                      "or too small.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Judge the gaps in selection rate, precision, recall and false positive rate across DATA's segments."""
    from guardrails.checks.fairness import assess_fairness, load_fairness_spec

    try:
        loaded = load_fairness_spec(spec)
        baseline = _champion(champion)
    except (ContractError, OSError, ValueError) as exc:
        exit_misconfigured(exc, json_output=json_output)
    report = assess_fairness(data, loaded, champion=baseline)
    if report.verdict is Verdict.ERROR:
        print_error(f"{report.outcome.message}")
    if json_output:
        print_json(report.to_dict())
    else:
        print_report(report, all_segments=all_segments)
    raise typer.Exit(VERDICT_EXIT_CODES[report.verdict])


def _champion(path: Path | None) -> Any:
    """A saved report (``*.json``, from ``--json``) gives recorded gaps; anything else is scored data."""
    from guardrails.checks.fairness import FairnessReport

    if path is None:
        return None
    if path.suffix == ".json":
        try:
            return FairnessReport.from_json(path.read_text(encoding="utf-8"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: not a fairness report saved with --json ({type(exc).__name__}: {exc})") from exc
    return path


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


def _segment(value: str | None) -> str:
    return "(null)" if value is None else cap_text(value, SEGMENT_CHARS)


def print_report(report: FairnessReport, *, all_segments: bool = False) -> None:
    """A headline, one row per gap (worst first), and the segments flagged, too small (or all)."""
    from guardrails.checks.fairness import SegmentStatus

    outcome = report.outcome
    rows = f"{outcome.rows:,} rows" if outcome.rows is not None else "rows unknown"
    unscored = outcome.metrics.get("rows_unscored")
    extra = f" ({unscored:,} unscored)" if isinstance(unscored, int) and unscored else ""
    console.print(line(styled(report.verdict.value, VERDICT_STYLE[report.verdict]),
                       f"  {outcome.contract_id or outcome.check}  ·  {rows}{extra}  ·  {outcome.duration_seconds:.2f}s"))
    if outcome.error:
        console.print(line(styled("could not run:", "magenta"), " ", cap_text(outcome.error, MESSAGE_CHARS)))
        return
    console.print(cap_text(outcome.message, MESSAGE_CHARS))
    order = {Verdict.ERROR: 0, Verdict.FAIL: 1, Verdict.INSUFFICIENT: 2, Verdict.PASS: 3, Verdict.INCONCLUSIVE: 2}
    gaps = sorted(report.gaps, key=lambda g: (order[g.verdict], -(g.difference or 0.0)))
    console.print(table(None, ("column", "metric", "verdict", "difference", "interval", "ratio", "lowest", "highest",
                               "segments", "vs champion"), (
        (g.column, g.metric, styled(g.verdict.value, VERDICT_STYLE[g.verdict]), _number(g.difference),
         f"[{_number(g.difference_lower)}, {_number(g.difference_upper)}]" if g.difference is not None else "",
         _number(g.ratio), _segment(g.low_segment) if g.difference is not None else "",
         _segment(g.high_segment) if g.difference is not None else "",
         f"{g.segments_judged} judged, {g.segments_too_small} too small",
         "" if g.champion_verdict is None else (
             f"{g.champion_verdict.value} {g.widening:+.3g} [{_number(g.widening_lower)}, {_number(g.widening_upper)}]"
             if g.widening is not None else g.champion_verdict.value))
        for g in gaps)))
    shown = [s for s in report.segments if all_segments or s.flag or s.status is SegmentStatus.TOO_SMALL]
    if shown:
        title = "segments" if all_segments else "segments flagged or too small to judge"
        console.print(table(title, ("column", "segment", "metric", "value", "interval", "rows", "denominator",
                                    "status", "p (adjusted)", "flag"), (
            (s.column, _segment(s.segment), s.metric, _number(s.value),
             f"[{_number(s.lower)}, {_number(s.upper)}]" if s.value is not None else "", f"{s.rows:,}",
             f"{s.denominator:,}", s.status.value, _number(s.p_adjusted), s.flag)
            for s in shown)))
