"""Patterns are compiled at load by the engine that runs them, and checked against the portable subset."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from guardrails.contract import PatternRule, lint_contract, load_contract
from guardrails.contract._patterns import engine_error, portability_findings
from guardrails.errors import ContractError

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "fixtures" / "patterns.yaml").read_text())
FIELD = "schema[0].properties[0].logicalTypeOptions.pattern"
LINE = 11


def _contract(tmp_path: Path, pattern: str) -> Path:
    quoted = "'" + pattern.replace("'", "''") + "'"
    path = tmp_path / "pattern.odcs.yaml"
    path.write_text(
        "apiVersion: v3.1.0\nkind: DataContract\nid: patterns\nversion: 1.0.0\nschema:\n  - name: t\n"
        f"    properties:\n      - name: code\n        logicalType: string\n        logicalTypeOptions:\n"
        f"          pattern: {quoted}\n"
    )
    return path


@pytest.mark.parametrize("case", CASES, ids=[f"{c['lint']}:{c['pattern']}" for c in CASES])
def test_lint_says_what_the_fixture_table_says_about_each_pattern(tmp_path: Path, case: dict[str, Any]) -> None:
    """Each pattern of fixtures/patterns.yaml lints as ok, warning or error, at the pattern's line and field."""
    report = lint_contract(_contract(tmp_path, case["pattern"]))
    findings = {"error": report.errors, "warning": report.warnings}.get(case["lint"], ())
    others = report.warnings if case["lint"] == "error" else report.errors
    if case["lint"] == "ok":
        assert (report.errors, report.warnings) == ((), ())
        return
    assert findings and not [f for f in others if f.field == FIELD]
    assert all((f.line, f.field) == (LINE, FIELD) for f in findings)
    assert case["says"] in findings[0].message, findings[0].message


@pytest.mark.parametrize("case", [c for c in CASES if c["lint"] != "error"], ids=lambda c: c["pattern"])
def test_every_pattern_lint_accepts_runs_in_the_engine(case: dict[str, Any]) -> None:
    """A pattern that lints without error compiles in polars as the rule runs it (a full match)."""
    pl.select(pl.lit("x").str.contains(rf"\A(?:{case['pattern']})\z"))


def test_a_pattern_the_engine_cannot_run_is_refused_at_load_with_file_line_and_field(tmp_path: Path) -> None:
    """`load_contract` refuses a lookahead with the engine's own reason, instead of every batch erroring later."""
    path = _contract(tmp_path, "^(?!test_)acct_[0-9]+$")
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    assert (caught.value.line, caught.value.field) == (LINE, FIELD)
    assert "look-around, including look-ahead and look-behind, is not supported at position 1" in str(caught.value)


def test_a_size_bomb_pattern_is_refused_quickly() -> None:
    """`a{100000}{100000}` is refused by the engine's size limit in well under a second, not compiled for minutes."""
    started = time.perf_counter()
    assert "exceeds size limit" in (engine_error("a{100000}{100000}") or "")
    assert time.perf_counter() - started < 1.0


def test_a_portable_pattern_becomes_a_full_match_rule(tmp_path: Path) -> None:
    """A pattern in the subset loads into a PatternRule carrying the pattern as written."""
    contract = load_contract(_contract(tmp_path, "^[A-Z]{2}-[0-9]{4}$"))
    assert [r.pattern for r in contract.rules if isinstance(r, PatternRule)] == ["^[A-Z]{2}-[0-9]{4}$"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab-^$.*+?{}[]()|\\:<>=!&~,0129PpdwszAbBxi", max_size=14))
def test_any_pattern_the_engine_compiles_is_classified_without_crashing(pattern: str) -> None:
    """The portability scan handles every pattern Rust accepts, and only flags constructs at real positions."""
    if engine_error(pattern) is not None:
        return
    for finding in portability_findings(pattern):
        assert finding.level in ("error", "warning")
        assert pattern[finding.position :].startswith(finding.construct)
