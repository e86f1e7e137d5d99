"""Terminal rendering shared by every CLI command: outcomes as rich tables, or JSON with `--json`.

Everything printed here may come from data or a contract, so no string is ever read as rich markup or emoji
codes (``[/]`` or ``:100:`` in a value print as themselves), control characters are shown as escapes (``\\x1b``),
and long values are cut (see `guardrails._text`). Styling is applied only to `rich.text.Text` built here
(`styled`, `line`), never parsed out of a string.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console, ConsoleDimensions
from rich.highlighter import JSONHighlighter
from rich.table import Table
from rich.text import Text

from guardrails._text import MESSAGE_CHARS, SAMPLE_BYTES, VALUE_CHARS, cap_records, cap_text, visible
from guardrails.outcome import CheckOutcome, CheckStatus

PIPED_WIDTH = 200
"""Columns used when output is not a terminal (a pipe, a log, CI): wide enough that ids never fold."""


class _Console(Console):
    """A rich Console for text from data: strings are literal, control characters visible, width follows `COLUMNS`.

    Rich pins 80 columns on dumb or piped terminals (CI logs, `| less`, captured test output), which folds
    batch ids and rule names across lines, where nobody can copy or grep them.
    """

    def render_str(self, text: str, **kwargs: Any) -> Text:
        # Every str printed, in a table cell or title too, passes here: escape control characters (rich itself
        # strips only a few and lets ESC through, so data could restyle or rewrite the terminal).
        return super().render_str(visible(text), **kwargs)

    @property
    def size(self) -> ConsoleDimensions:
        measured = super().size
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit():
            return ConsoleDimensions(int(columns), measured.height)
        return measured if self.is_terminal else ConsoleDimensions(PIPED_WIDTH, measured.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


def make_console(*, stderr: bool = False) -> Console:
    """The one way to build a console: no markup, no emoji codes, no highlighting of strings."""
    return _Console(stderr=stderr, markup=False, emoji=False, highlight=False)


console = make_console()
err_console = make_console(stderr=True)

STATUS_STYLE = {CheckStatus.PASSED: "green", CheckStatus.FAILED: "red", CheckStatus.ERROR: "magenta"}


# JSON escapes C0 controls itself; these it leaves raw (C1 controls such as the 8-bit CSI, bidi overrides).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def print_error(message: str) -> None:
    """One clear line on stderr, never wrapped (paths and field names stay greppable)."""
    err_console.print(f"guardrails: {cap_text(message, MESSAGE_CHARS)}", soft_wrap=True)


def print_json(data: Any) -> None:
    """Print machine-readable output (stable keys, ISO timestamps) to stdout; no raw control character."""
    text = json.dumps(data, default=str, indent=2, ensure_ascii=False)
    text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)  # only ever inside strings: valid JSON
    if not console.is_terminal:  # piped: plain text (rich renders each line as a segment: seconds for 150k chars)
        console.file.write(text + "\n")
        console.file.flush()
        return
    console.print(JSONHighlighter()(Text(text)), soft_wrap=True)


def styled(text: str, style: str) -> Text:
    """`text` shown literally in `style`."""
    return Text(visible(text), style=style)


def line(*parts: str | Text) -> Text:
    """One line from pieces: `Text` keeps its style, a str is shown literally (it may come from data)."""
    return Text.assemble(*(part if isinstance(part, Text) else visible(part) for part in parts))


def status_text(status: CheckStatus) -> Text:
    return styled(status.value, STATUS_STYLE[status])


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A plain rich table; `Text` cells keep their style, other cells are shown as str(), cut at 1 KiB."""
    out = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*(cell if isinstance(cell, Text) else _cell(cell) for cell in row))
    return out


def print_outcome(outcome: CheckOutcome, *, all_rules: bool = False) -> None:
    """A headline, one row per failed rule (every rule with `all_rules`), and the failing-row sample."""
    subject = outcome.contract_id or outcome.check
    version = f" v{outcome.contract_version}" if outcome.contract_version else ""
    rows = f"{outcome.rows:,} rows" if outcome.rows is not None else "rows unknown"
    console.print(
        line(
            status_text(outcome.status),
            f"  {subject}{version}  ·  {rows}  ·  {outcome.duration_seconds:.2f}s"
            + (f"  ·  as of {outcome.as_of.isoformat()}" if outcome.as_of else ""),
        )
    )
    if outcome.error:
        console.print(line(styled("could not run:", "magenta"), " ", cap_text(outcome.error, MESSAGE_CHARS)))
    if outcome.message:
        console.print(cap_text(outcome.message, MESSAGE_CHARS))
    rules = outcome.rules if all_rules else outcome.failed_rules
    if rules:
        console.print(
            table(
                None,
                ("rule", "columns", "severity", "status", "failing rows", "observed", "expected", "why"),
                (
                    (
                        r.rule_id,
                        ", ".join(r.columns),
                        r.severity.value,
                        status_text(r.status),
                        f"{r.failing_rows:,}",
                        "" if r.observed is None else f"{r.observed:g}",
                        r.expected,
                        r.message,
                    )
                    for r in sorted(rules, key=lambda r: (r.status is CheckStatus.PASSED, r.rule_id))
                ),
            )
        )
    if outcome.sample:
        dropped = outcome.metrics.get("sample_rows_dropped")
        more = f"; {dropped:,} more dropped to keep the sample small" if isinstance(dropped, int) and dropped else ""
        print_records(f"sample of failing rows ({len(outcome.sample)}{more})", outcome.sample)


def print_records(title: str, records: Sequence[Mapping[str, Any]]) -> None:
    """Rows of dicts as a table whose columns are the union of their keys, in first-seen order.

    At most 64 KiB of rows are shown (each value cut at 1 KiB), whatever the records hold: a manifest written
    before samples were capped still prints a screenful, not megabytes.
    """
    shown, dropped = cap_records(records, value_chars=VALUE_CHARS, total_bytes=SAMPLE_BYTES)
    if dropped:
        title = f"{title}, {dropped:,} not shown"
    columns: dict[str, None] = {}
    for record in shown:
        columns.update(dict.fromkeys(record))
    console.print(table(title, list(columns), ([record.get(c) for c in columns] for record in shown)))


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = ", ".join(map(str, value))
    return "" if value is None else cap_text(str(value), VALUE_CHARS)
