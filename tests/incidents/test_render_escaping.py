"""The Markdown incident report shows text from data literally: no raw control characters, no Markdown or HTML
that a value could inject, no table broken by a pipe, and no megabyte cell."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from guardrails.incidents import Evaluation, IncidentRecords, build_incident_report, report_markdown
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity

T0 = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)
HOSTILE = ("\x1b[31mred", "<img src=x onerror=alert(1)>", "[click](http://evil)", "**bold**", "a|b")


def _report(message: str) -> str:
    rule = RuleResult(rule_id="note.allowed_values", kind="allowed_values", columns=("note",), severity=Severity.ERROR,
                      status=CheckStatus.FAILED, failing_rows=len(HOSTILE), message=message)
    sample = tuple({"id": i, "note": value, "_rules": ["note.allowed_values"]} for i, value in enumerate(HOSTILE))
    outcome = CheckOutcome(check="c", kind=CheckKind.CONTRACT, status=CheckStatus.FAILED, severity=Severity.ERROR,
                           rows=10, rules=(rule,), sample=sample, started_at=T0, finished_at=T0)
    evaluation = Evaluation(asset_key="a", check_name="c", timestamp=T0, passed=False, run_id="r", outcome=outcome)
    return report_markdown(build_incident_report(IncidentRecords(evaluations=(evaluation,)), now=T0 + timedelta(1)))


def test_hostile_values_are_escaped_in_the_checks_table() -> None:
    """Offending values and rule messages appear escaped: no ESC, no live tag, link or emphasis, one table row."""
    markdown = _report("bad\r\x1b[2Kvalue <b>")
    assert "\x1b" not in markdown and "\r" not in markdown
    [row] = [line for line in markdown.splitlines() if line.startswith("| c | note.allowed_values")]
    assert re.search(r"(?<!\\)[<>]", row) is None and "\\<img src=x onerror=alert(1)\\>" in row
    assert re.search(r"(?<!\\)\]\(", row) is None and "\\*\\*bold\\*\\*" in row
    assert "a\\|b" in row and len(re.findall(r"(?<!\\)\|", row)) == 10  # nine cells: no value split the row


def test_a_huge_message_is_cut_in_its_cell() -> None:
    """A 5,000-character rule message takes at most about 1 KiB of its table row, saying how much was cut."""
    [row] = [line for line in _report("y" * 5000).splitlines() if line.startswith("| c | note.allowed_values")]
    assert "y" * 1024 + "…[cut 3,976 chars]" in row and "y" * 1025 not in row


def test_message_line_breaks_cannot_forge_report_lines() -> None:
    """A newline in a rule message stays inside its cell instead of starting a new Markdown line."""
    markdown = _report("fine\n## Forged heading")
    assert "\n## Forged heading" not in markdown
