"""``guardrails performance SPEC PREDICTIONS [LABELS]``: realized performance on matured labels, the label-free
estimate, and which drift explains a change.

Exit codes: 0 pass, 1 fail, 2 could not run (a bad spec, an unreadable file, a column missing), 3 insufficient
(no period has enough mature labels yet).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from guardrails.cli.options import EXIT_ERROR, VERDICT_EXIT_CODES, AsOfOption, exit_misconfigured
from guardrails.cli.render import console, line, print_error, print_json, status_text, styled, table
from guardrails.errors import ContractError
from guardrails.outcome import CheckOutcome, CheckStatus

if TYPE_CHECKING:  # the check (polars, numpy, scipy) is imported when the command runs: other commands start faster
    from guardrails.checks.performance import MetricValue, PerformanceReport



def performance_command(
    spec: Annotated[Path, typer.Argument(help="A performance spec (expectations/*.performance.yaml).")],
    predictions: Annotated[Path, typer.Argument(help="Logged predictions: a Parquet file or directory.")],
    labels: Annotated[
        Path | None, typer.Argument(help="Labels that arrived (Parquet); default: read from PREDICTIONS.")
    ] = None,
    reference_data: Annotated[
        Path | None,
        typer.Option("--reference-data", metavar="REF",
                     help="Labelled reference predictions (Parquet): the estimate's calibration, the diagnosis, and "
                          "reference metrics the spec does not give."),
    ] = None,
    drift: Annotated[
        Path | None,
        typer.Option("--drift", metavar="OUTCOME_JSON",
                     help="The input-drift outcome of the same data (JSON, e.g. from a drift check), as evidence."),
    ] = None,
    as_of: AsOfOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Judge realized performance on matured labels, estimate it where labels are not in, and diagnose a change."""
    from guardrails.checks.performance import assess_performance, load_performance_spec

    try:
        loaded = load_performance_spec(spec)
        drift_outcome = CheckOutcome.from_json(drift.read_text()) if drift is not None else None
    except (ContractError, OSError, ValueError, KeyError) as exc:
        message = str(exc) if isinstance(exc, ContractError | OSError) else f"{drift}: not a check outcome ({exc})"
        exit_misconfigured(exc, json_output=json_output, message=message)
    for path in (predictions, labels, reference_data):
        if path is not None and not path.exists():
            print_error(f"{path}: no such file or directory")
            raise typer.Exit(EXIT_ERROR)
    report = assess_performance(str(predictions), loaded, None if labels is None else str(labels),
                                None if reference_data is None else str(reference_data), drift_outcome,
                                as_of=as_of if as_of is None else _aware(as_of))
    if report.outcome.status is CheckStatus.ERROR:
        print_error(report.outcome.message)
    if json_output:
        print_json(report.to_dict())
    elif report.outcome.status is not CheckStatus.ERROR:  # could not run: the one line above says why
        _print(report)
    raise typer.Exit(VERDICT_EXIT_CODES[report.verdict])


def _aware(moment: datetime) -> datetime:
    from guardrails._time import as_utc

    return as_utc(moment)


def _value(measured: MetricValue | None, *, interval: bool = True) -> str:
    if measured is None or measured.value is None:
        return "–"
    text = f"{measured.value:.3f}"
    if interval and measured.low is not None and measured.high is not None:
        text += f" [{measured.low:.3f}, {measured.high:.3f}]"
    return text


def _print(report: PerformanceReport) -> None:
    from guardrails.checks.performance import Diagnosis

    outcome = report.outcome
    console.print(line(status_text(outcome.status), f"  {outcome.check}  ·  verdict {report.verdict.value}  ·  "
                       f"{outcome.rows or 0:,} predictions  ·  {outcome.duration_seconds:.2f}s"))
    if outcome.message:
        console.print(outcome.message)
    if report.labels is not None:
        stats = report.labels
        delay = (f", median delay {stats.median_delay_seconds / 86400:.1f} d"
                 if stats.median_delay_seconds is not None else "")
        console.print(f"labels: {stats.labelled:,} joined ({stats.coverage:.1%} of predictions){delay}; "
                      f"{stats.mature:,} mature units; {stats.late_labels:,} late; {stats.unmatched_labels:,} unmatched")
    estimate = report.estimate
    if estimate.ran:
        console.print(f"estimate: {estimate.calibration} calibration on {estimate.reference_rows:,} reference rows "
                      f"(out-of-fold ECE {estimate.reference_ece:.3f}); covers "
                      f"{', '.join(m.value for m in estimate.covers)}")
    elif outcome.status is not CheckStatus.ERROR:
        console.print(line(styled("estimate could not run:", "yellow"), f" {estimate.reason}"))
    rows = []
    for period in report.periods:
        for m in period.metrics:
            if m.status is None and m.estimated is None and not period.judged:
                continue
            verdict = status_text(m.status) if m.status is not None else styled("not judged", "dim")
            rows.append((period.period, m.metric.value, "" if m.reference is None else f"{m.reference:.3f}",
                         "" if m.bound is None else f"{m.bound:.3f}", _value(m.realized), _value(m.estimated),
                         verdict, f"{period.mature:,}/{period.predictions:,}"))
    if rows:
        console.print(table(f"per period ({report.confidence:.0%} intervals)",
                            ("period", "metric", "reference", "bound", "realized", "estimated", "status",
                             "mature/all"), rows))
    if report.diagnosis is not Diagnosis.NOT_JUDGED:
        colour = "green" if report.diagnosis is Diagnosis.HEALTHY else "red"
        console.print(line(styled(f"diagnosis: {report.diagnosis.value}", colour)))
        for evidence in report.evidence[:8]:
            console.print(f"  - {evidence}")
        console.print(report.containment)

