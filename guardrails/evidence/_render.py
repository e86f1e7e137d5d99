"""Render an evidence pack as Markdown (for a person: an auditor, a postmortem) and as JSON (for machines).

Every cell holds text from records (reasons, rule messages, batch ids, segment values) and goes through
`markdown_cell`: control characters visible, Markdown/HTML escaped, cut at 1 KiB. Long lists are capped with a
line saying how many rows were left out; the JSON form keeps everything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from guardrails._text import markdown_cell
from guardrails.evidence._types import EvidencePack

MAX_ROWS = 200
"""Rows per Markdown table; the rest are counted, and are in the JSON form."""
MAX_SEGMENT_ROWS = 60
"""Per-segment rows shown per fairness evaluation (flagged and too-small ones are first in the record)."""


def _at(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def _v(version: int | None) -> str:
    return f"v{version}" if version is not None else "-"


def _num(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("-" if value is None else str(value))


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], limit: int = MAX_ROWS) -> list[str]:
    rows = list(rows)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(markdown_cell(c) for c in row) + " |" for row in rows[:limit])
    if len(rows) > limit:
        lines.append(f"\n_{len(rows) - limit} more row(s) not shown; the JSON form (`--format json`) has them all._")
    return lines


def evidence_markdown(pack: EvidencePack) -> str:
    """The pack as one Markdown document: window, serving timeline, versions and lineage, checks, holds and pins,
    quarantined batches, per-segment metrics, and what could not be read."""
    window = f"{_at(pack.since) if pack.since else 'the beginning'} to {_at(pack.until) if pack.until else 'now'} UTC"
    name = markdown_cell(pack.model_name)
    failed = len(pack.failed_checks)
    lines = [
        f"# Evidence pack: {name}",
        "",
        f"- Window: {window}; generated {_at(pack.generated_at)} UTC.",
        f"- Alias `{markdown_cell(pack.alias)}` now on {_v(pack.alias_version)}; "
        f"{len(pack.versions)} version(s), {len(pack.checks)} check evaluation(s) ({failed} failed), "
        f"{len(pack.kept)} quarantined batch(es), {len(pack.fairness)} fairness evaluation(s).",
    ]
    if pack.notes:
        lines.append("- **Incomplete**: " + "; ".join(markdown_cell(n) for n in pack.notes))
    lines += ["", "## Which version served when", ""]
    if pack.serving:
        lines += _table(("version", "from (UTC)", "until (UTC)", "put there by", "reason", "by"),
                        ((_v(p.version), _at(p.start), _at(p.end) if p.end else "still serving", p.action, p.reason,
                          p.by) for p in pack.serving))
    else:
        lines.append("No alias history recorded in the window.")
    lines += ["", "## Versions: verdicts and the data they saw", ""]
    if pack.versions:
        lines += _table(("version", "registered (UTC)", "verdict", "reason", "served in window", "clean"),
                        ((_v(v.state.version), _at(v.state.created_at),
                          v.state.verdict.status.value if v.state.verdict else "none", 
                          v.state.verdict.reason if v.state.verdict else "", "yes" if v.served else "no",
                          "yes" if v.state.clean else "no (" + ", ".join(b.label for b in v.state.tainted_by) + ")")
                         for v in pack.versions))
        lines += ["", "### Lineage and decisions", ""]
        rows = []
        for v in pack.versions:
            lineage = v.state.lineage
            for role, batches in (("trained on", lineage.trained_on if lineage else ()),
                                  ("evaluated on", lineage.evaluated_on if lineage else ())):
                rows += [(_v(v.state.version), role, b.label, b.contract_id or "-", b.contract_version or "-",
                          b.run_id or "-", "-") for b in batches]
            rows += [(_v(v.state.version), "scored", f"{s.asset}[{s.partition}]" if s.partition else s.asset,
                      "-", "-", s.run_id or "-", _num(s.rows)) for s in v.scored]
        lines += _table(("version", "role", "batch", "contract", "contract version", "run", "rows"), rows) if rows \
            else ["No lineage or scored batches recorded."]
    else:
        lines.append("No version of this model in the window.")
    lines += ["", "## Checks and their results", ""]
    if pack.checks:
        lines += _table(("when (UTC)", "asset", "partition", "check", "version", "result", "details"),
                        ((_at(c.evaluation.timestamp), c.evaluation.asset_key, c.evaluation.partition or "-",
                          c.evaluation.check_name, _v(c.model_version),
                          "passed" if c.evaluation.passed else ("could not run" if c.evaluation.could_not_run
                                                                 else "FAILED"),
                          c.evaluation.description or (c.evaluation.outcome.message if c.evaluation.outcome else ""))
                         for c in pack.checks))
    else:
        lines.append("No check evaluations recorded in the window.")
    lines += ["", "## Holds, pins, failures and condemned batches", ""]
    state = []
    if pack.hold:
        state.append(f"- **Promotion held** since {markdown_cell(pack.hold.get('at'))}: "
                     f"{markdown_cell(pack.hold.get('reason'))}")
    if pack.pin:
        state.append(f"- **Pinned** on v{markdown_cell(pack.pin.get('version'))}: "
                     f"{markdown_cell(pack.pin.get('reason'))}")
    state += [f"- Condemned `{markdown_cell(c.get('batch', {}).get('asset'))}` batch: {markdown_cell(c.get('reason'))}"
              for c in pack.condemned]
    lines += state or ["No hold or pin is active; no batch is condemned."]
    lines += ["", "Every alias-history entry in the window (promotions, holds, pins, failures, reverts):", ""]
    lines += _table(("#", "when (UTC)", "action", "from", "to", "check", "reason", "by"),
                    ((m.seq, _at(m.at), m.action.value, _v(m.from_version), _v(m.to_version), m.check or "-",
                      m.reason, m.by) for m in pack.history)) if pack.history else ["(none)"]
    lines += ["", "## Quarantined batches", ""]
    lines += _table(("batch", "asset", "partition", "state", "rows kept", "quarantined (UTC)", "contract", "reason"),
                    ((k.manifest.batch_id, k.asset or "-", k.partition or "-", k.manifest.state.value,
                      _num(k.manifest.rows_quarantined), _at(k.manifest.quarantined_at),
                      f"{k.manifest.contract_id or '-'} {k.manifest.contract_version or ''}".strip(), k.manifest.reason)
                     for k in pack.kept)) if pack.kept else ["No batch of these assets was quarantined in the window."]
    lines += ["", "## Per-segment metrics (fairness)", ""]
    if not pack.fairness:
        lines.append("No fairness evaluation recorded in the window.")
    for f in pack.fairness:
        lines += [f"### {markdown_cell(f.asset_key)} / {markdown_cell(f.check_name)} "
                  f"{markdown_cell(f.partition or '')} ({_v(f.model_version)}): {markdown_cell(f.verdict or '?')}, "
                  f"{_at(f.timestamp)} UTC", ""]
        if f.gaps:
            lines += _table(("column", "metric", "verdict", "gap", "interval", "lowest", "highest", "champion gap",
                             "widening"),
                            ((g.get("column"), g.get("metric"), g.get("verdict"), _num(g.get("difference")),
                              f"[{_num(g.get('difference_lower'))}, {_num(g.get('difference_upper'))}]",
                              g.get("lowest"), g.get("highest"), _num(g.get("champion_difference")),
                              _num(g.get("widening"))) for g in f.gaps))
            lines.append("")
        if f.segments:
            lines += _table(("column", "segment", "metric", "value", "interval", "rows", "status", "flag"),
                            ((s.get("column"), s.get("segment"), s.get("metric"), _num(s.get("value")),
                              f"[{_num(s.get('lower'))}, {_num(s.get('upper'))}]", _num(s.get("rows")),
                              s.get("status"), s.get("flag") or "") for s in f.segments), limit=MAX_SEGMENT_ROWS)
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def evidence_json(pack: EvidencePack, *, indent: int | None = None) -> str:
    """The pack as JSON (every row; text as recorded, for machines)."""
    return json.dumps(pack.to_dict(), indent=indent, default=str)
