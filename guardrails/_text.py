"""Text that comes from data or a contract: shown literally, and small enough to show and record.

A batch can hold anything: a terminal escape, a carriage return that hides the start of a line, a 1 MB string.
Two rules keep that harmless wherever such text reaches a person (terminal, Markdown report, Dagster UI):

- `visible` writes control characters as escapes (``\\x1b``), so data can neither restyle a terminal nor hide
  text behind a carriage return or a bidirectional override;
- `markdown_cell` also escapes Markdown and HTML syntax, for text from data placed in a Markdown table;
- `cap_text` / `cap_value` / `cap_records` bound what is *shown and recorded* (a value, a sample, an event) and
  say what they cut. The data itself (a quarantined batch) is never cut: only its description is.

Example:
    >>> visible("\\x1b[31mred\\r")
    '\\\\x1b[31mred\\\\r'
    >>> cap_text("abcdef", 4)
    'abcd…[cut 2 chars]'
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

VALUE_CHARS = 1024
"""Longest value (a cell of a sample, a message) shown or recorded before it is cut."""

MESSAGE_CHARS = 4096
"""Longest message (an exception text, an error) shown or recorded before it is cut."""

SAMPLE_BYTES = 64 * 1024
"""Largest failing-row sample (as JSON) an outcome carries: further rows are dropped, and counted."""

EVENT_BYTES = 1024 * 1024
"""Largest metadata one Dagster event may carry: the largest entries are cut first, saying so."""

# Characters that start Markdown or HTML syntax inside a line: code, emphasis, strikethrough, raw HTML and
# autolinks, entities, a link's "](", table pipes; an underscore only where it can open or close emphasis.
_MARKDOWN = re.compile(r"[\\`*~<>&|]|\]\(|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_CUT = re.compile(r"…\[cut [\d,]+ chars\]\Z")
_ESCAPED_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# C0 controls, DEL and C1 controls (ESC starts ANSI sequences; CSI \x9b is an 8-bit ESC [), and the Unicode
# format characters that reorder or hide text (bidirectional embeddings, overrides and isolates).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(char: str) -> str:
    if char in _ESCAPED_NAMED:
        return _ESCAPED_NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, keep: str = "\n\t") -> str:
    """`text` with every control character written as a visible escape, except those in `keep`.

    Example:
        >>> visible("a\\tb\\x07", keep="")
        'a\\\\tb\\\\x07'
    """
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escape(m.group()), text)


def cap_text(text: str, limit: int = VALUE_CHARS) -> str:
    """At most `limit` characters of `text`, then a marker saying how many were cut; text already cut stays as is."""
    if len(text) <= limit:
        return text
    already = _CUT.search(text)
    if already is not None and already.start() <= limit:
        return text
    return f"{text[:limit]}…[cut {len(text) - limit:,} chars]"


def cap_value(value: Any, limit: int = VALUE_CHARS) -> Any:
    """A JSON-safe value bounded to about `limit` characters: long text is cut; a long list or mapping
    becomes its JSON text, cut (so one cell never carries a megabyte)."""
    if isinstance(value, str):
        return cap_text(value, limit)
    if isinstance(value, list | tuple | dict):
        encoded = json.dumps(value, default=str)
        return value if len(encoded) <= limit else cap_text(encoded, limit)
    return value


def cap_records(
    records: Iterable[Mapping[str, Any]], *, value_chars: int = VALUE_CHARS, total_bytes: int = SAMPLE_BYTES
) -> tuple[tuple[dict[str, Any], ...], int]:
    """The records with each value capped, as many as fit in `total_bytes` of JSON, and how many were dropped.

    Example:
        >>> rows, dropped = cap_records([{"s": "x" * 5000}] * 3, value_chars=10, total_bytes=100)
        >>> rows[0]["s"], len(rows), dropped
        ('xxxxxxxxxx…[cut 4,990 chars]', 2, 1)
    """
    kept: list[dict[str, Any]] = []
    size, dropped = 2, 0  # the enclosing brackets
    for record in records:
        if dropped:
            dropped += 1
            continue
        capped = {key: cap_value(value, value_chars) for key, value in record.items()}
        grown = size + len(json.dumps(capped, default=str)) + 2  # the separating comma and space
        if grown > total_bytes:
            dropped = 1
            continue
        kept.append(capped)
        size = grown
    return tuple(kept), dropped


def markdown_cell(value: Any, limit: int = VALUE_CHARS) -> str:
    """`value` as literal Markdown text on one line (a table cell): at most `limit` characters, control
    characters visible, Markdown and HTML syntax escaped, so it can neither become a link, emphasis or an HTML
    tag, nor break the table.

    Example:
        >>> markdown_cell("<b>|x*\\n# h")
        '\\\\<b\\\\>\\\\|x\\\\* # h'
    """
    text = cap_text("" if value is None else str(value), limit)
    return _MARKDOWN.sub(lambda m: "\\" + m.group(), visible(text.replace("\n", " "), keep=""))


def fit_with_hash(text: str, limit: int, *, identity: str | None = None, separator: str = "-") -> str:
    """`text` if it has at most `limit` characters; else a readable prefix, `separator` and 16 hex digits of the
    sha256 of `identity` (default `text`), `limit` characters in all, so two long names never end up the same.

    Example:
        >>> fit_with_hash("short", 10), fit_with_hash("x" * 40, 30)
        ('short', 'xxxxxxxxxxxxx-bd913ff68243d41b')
    """
    if len(text) <= limit:
        return text
    digest = hashlib.sha256((text if identity is None else identity).encode()).hexdigest()[:16]
    return f"{text[: limit - len(digest) - len(separator)]}{separator}{digest}"
