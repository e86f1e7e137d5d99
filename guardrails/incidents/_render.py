"""Render an incident report as Markdown (to paste into a postmortem, or show in Dagster) and as JSON.

Table cells hold text from data and contracts (offending values, rule messages, batch ids): control characters
are written as escapes, Markdown and HTML syntax is escaped (a value can neither become a link, emphasis or an
HTML tag, nor break the table), and each cell is cut at 1 KiB. Prose lines, whose text is built with our own
Markdown (code spans), get control characters escaped and are cut at 4 KiB.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from guardrails._text import MESSAGE_CHARS, cap_text, markdown_cell, visible
from guardrails.incidents._build import format_duration
from guardrails.incidents._types import Incident, IncidentReport, IncidentState


def _at(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def _line(text: str) -> str:
    """Prose from records: one line, control characters visible, at most 4 KiB."""
    return visible(cap_text(text, MESSAGE_CHARS), keep="")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(markdown_cell(c) for c in row) + " |" for row in rows)
    return lines


def incident_markdown(incident: Incident, *, level: int = 1) -> str:
    """One incident as Markdown; `level` is the heading level of its title (sections are one deeper)."""
    h, hh = "#" * level, "#" * (level + 1)
    resolved = _at(incident.resolved_at) + " UTC" if incident.resolved_at else "not yet"
    lines = [
        f"{h} Incident {_line(incident.id)}: {_line(incident.title)}",
        "",
        f"**State:** {incident.state.value.upper()} · **Severity:** {incident.severity} · "
        f"**Detected:** {_at(incident.detected_at)} UTC · **Resolved:** {resolved}",
        "",
        f"**Time to detect:** {format_duration(incident.time_to_detect)} · "
        f"**Time to contain:** {format_duration(incident.time_to_contain) if incident.contained_at else 'not contained'} · "
        f"**Time to resolve:** {format_duration(incident.time_to_resolve) if incident.resolved_at else 'open'}",
        "",
        f"{hh} Summary (SBAR)",
        "",
        f"- **Situation:** {_line(incident.sbar.situation)}",
        f"- **Background:** {_line(incident.sbar.background)}",
        f"- **Assessment:** {_line(incident.sbar.assessment)}",
        f"- **Recommendation:** {_line(incident.sbar.recommendation)}",
        "",
        f"{hh} Timeline (UTC)",
        "",
        *_table(("time", "event", "details"),
                ((_at(e.at), e.kind.value.replace("_", " "), e.summary) for e in incident.timeline)),
        "",
        f"{hh} Impact",
        "",
        *_impact_lines(incident),
        "",
        f"{hh} Checks that fired",
        "",
        *_table(
            ("check", "rule", "columns", "severity", "failed", "failing rows", "observed", "expected", "examples"),
            (
                (c.check_name, c.rule_id, ", ".join(c.columns), c.severity, f"{c.times}x",
                 _rows(c.failing_rows, c.rows), "" if c.observed is None else f"{c.observed:g}",
                 c.expected or c.message, ", ".join(c.examples))
                for c in incident.checks
            ),
        ),
        "",
        f"{hh} Hypotheses (ranked)",
        "",
    ]
    if incident.hypotheses:
        for rank, hypothesis in enumerate(incident.hypotheses, 1):
            lines.append(f"{rank}. **{_line(hypothesis.title)}** (score {hypothesis.score:.2f})")
            lines.extend(f"   - {_line(line)}" for line in hypothesis.evidence)
    else:
        lines.append("No hypothesis: the failing checks carry no rule details.")
    lines += ["", f"{hh} Follow-up actions", ""]
    for action in incident.actions:
        lines.append(f"- [ ] {_line(action.action)}" + (f"  \n  `{_line(action.command)}`" if action.command else ""))
    return "\n".join(lines) + "\n"


def _rows(failing: int, rows: int | None) -> str:
    if not failing:
        return ""
    return f"{failing:,} of {rows:,}" if rows else f"{failing:,}"


def _impact_lines(incident: Incident) -> list[str]:
    impact = incident.impact
    lines = [f"- Failed evaluations: {impact.failed_evaluations} (in {impact.failed_runs} run(s))"]
    if impact.partitions:
        lines.append("- Partitions failed: " + ", ".join(f"`{p}`" for p in impact.partitions))
    if impact.batches_quarantined:
        lines.append(f"- Batches quarantined: {len(impact.batches_quarantined)} ({impact.rows_quarantined:,} rows): "
                     + ", ".join(f"`{b}`" for b in impact.batches_quarantined))
        lines.append("- Still quarantined: " + (", ".join(f"`{b}`" for b in impact.batches_still_quarantined) or "none"))
        lines.append("- Released: " + (", ".join(f"`{b}`" for b in impact.batches_released) or "none"))
    else:
        lines.append("- Batches quarantined: none")
    lines.append("- Downstream assets not materialized: "
                 + (", ".join(f"`{a}`" for a in impact.downstream_not_materialized) or "none known"))
    if impact.model_versions_pinned:
        lines.append("- Model versions pinned: " + "; ".join(impact.model_versions_pinned))
        lines.append(f"- Serving alias pinned for: {format_duration(impact.champion_pinned_for)}"
                     + (" (still pinned)" if impact.champion_still_pinned else ""))
    else:
        lines.append("- Model versions pinned: none")
    if incident.breaker_tripped:
        lines.append("- Circuit breaker: tripped (feeding schedules/sensors stopped)")
    return lines


def report_markdown(report: IncidentReport) -> str:
    """The whole report: a header with the scope and counts, what could not be read, then each incident."""
    scope = [f"asset `{report.asset}`" if report.asset else "all assets"]
    if report.since:
        scope.append(f"since {_at(report.since)} UTC")
    open_count = sum(1 for i in report.incidents if i.state is IncidentState.OPEN)
    lines = [
        "# Guardrails incident report",
        "",
        f"Generated {_at(report.generated_at)} UTC for {', '.join(scope)}: "
        f"{len(report.incidents)} incident(s), {open_count} open.",
        "",
    ]
    lines.extend(line for note in report.notes for line in (f"> Incomplete: {_line(note)}", ""))
    if not report.incidents:
        lines.append("No incidents: every check on record passed, or nothing has run yet.")
        return "\n".join(lines) + "\n"
    return "\n".join(lines) + "\n" + "\n".join(incident_markdown(i, level=2) for i in report.incidents)


def report_json(report: IncidentReport, **dumps_kwargs: Any) -> str:
    """The report as JSON (ISO timestamps, durations in seconds)."""
    return json.dumps(report.to_dict(), allow_nan=False, **dumps_kwargs)
