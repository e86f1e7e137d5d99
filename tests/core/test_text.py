"""guardrails._text: control characters become visible escapes; values, samples and messages are capped."""

from __future__ import annotations

import doctest
import json

from hypothesis import given
from hypothesis import strategies as st

import guardrails._text as text_module
from guardrails._text import SAMPLE_BYTES, VALUE_CHARS, cap_records, cap_text, cap_value, visible


def test_docstring_examples_run() -> None:
    """The module's docstring examples pass as written."""
    result = doctest.testmod(text_module)
    assert result.failed == 0 and result.attempted > 0


def test_visible_escapes_ansi_carriage_return_c1_and_bidi() -> None:
    """ESC, CR, BEL, the 8-bit CSI and a right-to-left override are written as escapes; newline and tab stay."""
    shown = visible("\x1b[31mred\r\x07\x9b1m\u202eevil\n\tok")
    assert shown == "\\x1b[31mred\\r\\x07\\x9b1m\\u202eevil\n\tok"


@given(st.text())
def test_visible_leaves_no_control_character(raw: str) -> None:
    """Whatever the input, the shown text holds no C0/C1 control except newline and tab."""
    shown = visible(raw)
    assert not any((ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in shown)


def test_cap_text_says_how_much_was_cut() -> None:
    """A megabyte string keeps its first 1,024 characters and names the number cut."""
    capped = cap_text("x" * 1_048_576)
    assert capped == "x" * VALUE_CHARS + "…[cut 1,047,552 chars]"
    assert cap_text("short") == "short"


def test_cap_value_bounds_lists_and_keeps_small_ones() -> None:
    """A long list becomes its cut JSON text; a short list, numbers and None pass unchanged."""
    assert cap_value([1, 2]) == [1, 2] and cap_value(3.5) == 3.5 and cap_value(None) is None
    long = cap_value(["y" * 100] * 100)
    assert isinstance(long, str) and long.startswith('["yyy') and "…[cut " in long and len(long) < VALUE_CHARS + 40


def test_cap_records_keeps_the_sample_under_the_budget_and_counts_dropped_rows() -> None:
    """A hundred rows of 1 MB strings become at most 64 KiB of JSON, each value cut, the rest counted as dropped."""
    megabyte = "z" * 1_000_000
    rows = [{"id": i, "s": megabyte} for i in range(100)]
    kept, dropped = cap_records(rows)
    assert len(json.dumps(kept)) <= SAMPLE_BYTES
    assert len(kept) + dropped == 100 and dropped > 0
    assert [r["id"] for r in kept] == list(range(len(kept)))
    assert all(r["s"].endswith("…[cut 998,976 chars]") for r in kept)


def test_cap_records_leaves_a_small_sample_alone() -> None:
    """A sample already within every cap comes back equal, with nothing dropped."""
    rows = [{"id": 1, "_rules": ["a.range"], "_row": 0}]
    assert cap_records(rows) == (tuple(rows), 0)


def test_capping_twice_changes_nothing() -> None:
    """A value or sample already capped comes back unchanged, its marker naming the original cut."""
    once = cap_text("x" * 5000, 100)
    assert cap_text(once, 100) == once
    rows, _ = cap_records([{"s": "y" * 10**6}] * 100)
    assert cap_records(rows) == (rows, 0)
