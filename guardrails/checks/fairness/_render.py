"""A fairness report as Markdown: the gaps, worst first, then the flagged and too-small segments.

Segment values come from data: each is escaped and capped (`guardrails._text.markdown_cell`).
"""

from __future__ import annotations

from guardrails._text import markdown_cell
from guardrails.checks.fairness._report import FairnessGap, FairnessReport, SegmentStatus
from guardrails.outcome import Verdict

_ICON = {Verdict.PASS: "✅ pass", Verdict.FAIL: "❌ fail", Verdict.INSUFFICIENT: "⚠️ insufficient",
         Verdict.ERROR: "⛔ error"}
_ORDER = {Verdict.ERROR: 0, Verdict.FAIL: 1, Verdict.INSUFFICIENT: 2, Verdict.PASS: 3}


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def _segment(value: str | None) -> str:
    return "*null*" if value is None else markdown_cell(value)


def render_fairness_markdown(report: FairnessReport, *, top: int = 20) -> str:
    """Gaps (verdict, difference with its interval, ratio, the pair) and the segments flagged or too small.

    Example:
        >>> from datetime import datetime, UTC
        >>> from guardrails.outcome import CheckOutcome, CheckKind
        >>> t = datetime(2026, 1, 1, tzinfo=UTC)
        >>> outcome = CheckOutcome(check="fairness", kind=CheckKind.FAIRNESS, status="passed", severity="error",
        ...                        started_at=t, finished_at=t)
        >>> gap = FairnessGap(column="country", metric="precision", verdict="pass", segments_judged=2,
        ...                   segments_too_small=0, difference=0.02, difference_lower=0.0, difference_upper=0.04,
        ...                   ratio=0.97, low_segment="<b>", high_segment="US")
        >>> print(render_fairness_markdown(FairnessReport(outcome=outcome, gaps=(gap,))))
        | column | metric | verdict | difference [interval] | ratio | lowest | highest | vs champion |
        |---|---|---|---|---:|---|---|---|
        | country | precision | ✅ pass | 0.02 [0, 0.04] | 0.97 | \\<b\\> | US | – |
    """
    lines = ["| column | metric | verdict | difference [interval] | ratio | lowest | highest | vs champion |",
             "|---|---|---|---|---:|---|---|---|"]
    ranked = sorted(report.gaps, key=lambda g: (_ORDER[g.verdict], -(g.difference or 0.0)))
    for gap in ranked[:top]:
        lines.append(_gap_row(gap))
    if len(ranked) > top:
        lines.append(f"| … {len(ranked) - top} more | | | | | | | |")
    noted = [s for s in report.segments if s.flag or s.status is SegmentStatus.TOO_SMALL]
    if noted:
        lines += ["", "| column | segment | metric | value | rows | denominator | note |", "|---|---|---|---:|---:|---:|---|"]
        for s in noted[:top]:
            note = f"shown {s.flag} (p={s.p_adjusted:.2g})" if s.flag else "too small to judge"
            lines.append(f"| {markdown_cell(s.column)} | {_segment(s.segment)} | {s.metric} | {_number(s.value)} | "
                         f"{s.rows:,} | {s.denominator:,} | {note} |")
        if len(noted) > top:
            lines.append(f"| … {len(noted) - top} more | | | | | | |")
    return "\n".join(lines)


def _gap_row(gap: FairnessGap) -> str:
    interval = f" [{_number(gap.difference_lower)}, {_number(gap.difference_upper)}]" if gap.difference is not None else ""
    champion = "–"
    if gap.champion_verdict is not None:
        champion = _ICON[gap.champion_verdict]
        if gap.widening is not None:
            champion += f" {gap.widening:+.3g} [{_number(gap.widening_lower)}, {_number(gap.widening_upper)}]"
    return (f"| {markdown_cell(gap.column)} | {gap.metric} | {_ICON[gap.verdict]} | {_number(gap.difference)}{interval} "
            f"| {_number(gap.ratio)} | {_segment(gap.low_segment)} | {_segment(gap.high_segment)} | {champion} |")
