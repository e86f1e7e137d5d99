"""Regex patterns in a contract: compiled by the engine that runs them, and checked against the portable subset.

The polars engine runs every pattern with Rust's `regex` crate, which has no lookaround, backreferences,
atomic groups or ``\\Z``; Python's `re` compiles all of those, so only compiling with the engine itself tells
at load time whether a pattern will run. Rust also refuses patterns whose compiled form passes 10 MB
(``a{100000}{100000}``) within milliseconds, so a size bomb is refused at load, not in every batch.

Beyond what Rust compiles, a pattern is either in the portable subset (the README's "Data contracts"
section) and means the same in Rust, Python `re`, Java (Spark), RE2 (DuckDB) and PostgreSQL ``~``, or it is not:

- errors: Rust accepts it but reads it differently from the other engines, so the author's intent is lost
  silently: possessive quantifiers (``a++`` is ``(a+)+`` in Rust, possessive in Python and Java) and
  ``\\<`` / ``\\>`` (word boundaries in Rust, the literal ``<`` / ``>`` everywhere else);
- warnings: Rust runs it as meant, but another engine refuses it or reads it differently (``\\b``, ``\\A``,
  ``\\z``, inline flags, named groups, ``\\p{..}``, POSIX and nested classes, counts above 255, ...).

Example:
    >>> engine_error("(?=a)b")
    'look-around, including look-ahead and look-behind, is not supported at position 0'
    >>> [(f.level, f.construct) for f in portability_findings("[A-Z]{2}[[:digit:]]++")]
    [('warning', '[:digit:]'), ('error', '++')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# Bounded repetition counts up to PostgreSQL's limit (RE2 allows 1000, Rust, Python and Java more).
MAX_PORTABLE_COUNT = 255

_QUANTIFIER = re.compile(r"\{(\d+)(,(\d*))?\}")


@dataclass(frozen=True, slots=True)
class PatternFinding:
    """A construct outside the portable subset: where it is, what it is, why it matters, and how bad."""

    level: Literal["error", "warning"]
    position: int
    construct: str
    reason: str


def engine_error(pattern: str) -> str | None:
    """Why polars (Rust `regex`) refuses `pattern`, as it would run in a rule, or None if it compiles.

    The rule runs ``\\A(?:pattern)\\z``; the pattern is compiled alone as well, so an unbalanced ``a)(?:b``
    that the wrapping would happen to close is refused, and positions refer to the pattern as written.
    """
    import polars as pl  # here, not at module level: the contract package imports without the engine

    for candidate in (pattern, rf"\A(?:{pattern})\z"):
        try:
            pl.select(pl.lit("").str.contains(candidate))
        except pl.exceptions.ComputeError as exc:
            return _engine_message(str(exc))
    return None


def _engine_message(text: str) -> str:
    """The Rust regex error's own words (``error: ...``) and the caret's position, from polars' message."""
    lines = text.splitlines()
    reason = next((line.removeprefix("error: ") for line in lines if line.startswith("error: ")), None)
    if reason is None:  # not a parse error: "Compiled regex exceeds size limit of 10485760 bytes."
        return lines[0].removeprefix("regex error: ").rstrip(".")
    caret = next((line for line in lines if line.strip() and set(line.strip()) == {"^"}), None)
    return f"{reason} at position {caret.index('^') - 4}" if caret is not None else reason


def portability_findings(pattern: str) -> list[PatternFinding]:
    """Every construct of `pattern` (one Rust compiles) outside the portable subset, in pattern order."""
    return _Scan(pattern).findings()


class _Scan:
    """One left-to-right pass over a pattern Rust has already parsed (so it is well formed)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.found: list[PatternFinding] = []

    def findings(self) -> list[PatternFinding]:
        text, i = self.pattern, 0
        while i < len(text):
            char = text[i]
            if char == "\\":
                i = self._escape(i)
            elif char == "[":
                i = self._class(i)
            elif char == "(" and text.startswith("(?", i) and not text.startswith("(?:", i):
                end = text.index(">" if text.startswith(("(?P<", "(?<"), i) else ")", i)
                end = min(end, text.index(":", i)) if ":" in text[i:end] else end
                self._warn(i, text[i : end + 1], "inline flags and named groups are not understood by every engine")
                i = end + 1
            elif char in "*+?" or char == "{" and _QUANTIFIER.match(text, i):
                i = self._quantifier(i)
            else:
                if char == "{":
                    self._warn(i, "{", "a literal { must be escaped as \\{ in Java")
                i += 1
        return self.found

    def _escape(self, i: int) -> int:
        """Check the escape at `i`; return the index after it."""
        text = self.pattern
        letter = text[i + 1]
        end = i + 2
        if letter in "pPxu" and text.startswith("{", end):
            end = text.index("}", end) + 1
        construct = text[i:end]
        if letter in "<>":
            self._error(i, construct, "a word boundary in Rust, the literal character in Python, Java and SQL "
                        f"engines; write {letter} unescaped")
        elif letter in "AzZ":
            self._warn(i, construct, "\\A and \\z differ between engines (Python before 3.14 has no \\z, "
                       "PostgreSQL reads \\Z as the end); a pattern matches the whole value anyway")
        elif letter in "bB":
            self._warn(i, construct, "a backspace in PostgreSQL, and ASCII-only in Java and RE2")
        elif letter.isalnum() and letter not in "dDwWsSntr":
            self._warn(i, construct, "an escape outside the portable subset")
        return end

    def _class(self, i: int) -> int:
        """Check the character class opening at `i` (nested classes included); return the index after it."""
        text, depth = self.pattern, 0
        while i < len(text):
            if text[i] == "[":
                if depth:
                    end = text.index(":]", i) + 2 if text.startswith("[:", i) else i + 2
                    self._warn(i, text[i:end], "a nested or POSIX class, read differently by Python and Java")
                depth += 1
                i += 2 if text.startswith("[^", i) else 1
                i += 1 if text.startswith("]", i) else 0  # a leading ] is a literal
            elif text[i] == "]":
                depth -= 1
                i += 1
                if not depth:
                    return i
            elif text[i] == "\\":
                i = self._escape(i)
            elif text[i : i + 2] in ("&&", "--", "~~"):
                self._warn(i, text[i : i + 2], "a class set operation in Rust, literal characters in Python")
                i += 2
            else:
                i += 1
        return i

    def _quantifier(self, i: int) -> int:
        """Check the quantifier at `i` and whatever follows it; return the index after them."""
        text = self.pattern
        counted = _QUANTIFIER.match(text, i) if text[i] == "{" else None
        end = counted.end() if counted else i + 1
        if counted and any(int(c) > MAX_PORTABLE_COUNT for c in (counted.group(1), counted.group(3)) if c):
            self._warn(i, text[i:end], f"PostgreSQL allows counts up to {MAX_PORTABLE_COUNT}")
        following = text[end : end + 1]
        if following == "+":
            self._error(i, text[i : end + 1], "possessive in Python 3.11+ and Java, a repeated repetition in Rust; "
                        "drop the second +")
            return end + 1
        if following == "?":
            return end + 1  # lazy: a whole-value match exists or not, whatever the greed
        if following == "*" or following == "{" and _QUANTIFIER.match(text, end):
            self._warn(end, following, "a quantifier of a quantifier, refused by Python and Java")
        return end

    def _warn(self, position: int, construct: str, reason: str) -> None:
        self.found.append(PatternFinding("warning", position, construct, reason))

    def _error(self, position: int, construct: str, reason: str) -> None:
        self.found.append(PatternFinding("error", position, construct, reason))
