"""Lint time grows linearly with the size of a contract: a huge enum or schema is slow only in proportion."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from guardrails.contract import lint_contract

HEADER = "apiVersion: v3.1.0\nkind: DataContract\nid: big\nversion: 1.0.0\nschema:\n  - name: t\n    properties:\n"
# 4x the size; linear work takes about 4x the time, quadratic work 16x. The bound leaves room for the noise of
# a loaded 2-core machine (CPU time, not wall time, so other processes do not count against us).
MAX_RATIO = 6.5
ENUM_VALUES = 20_000


def _enum(n: int) -> str:
    values = "".join(f"          - value: v{i}\n" for i in range(n))
    return HEADER + "      - name: c\n        logicalType: string\n        enum:\n" + values


def _properties(n: int) -> str:
    return HEADER + "".join(f"      - name: c{i}\n        logicalType: integer\n        required: true\n" for i in range(n))


def _cpu_seconds(path: Path, repeat: int = 2) -> float:
    """The least CPU time of `repeat` lints of `path` (the least is the one least disturbed)."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        report = lint_contract(path)
        times.append(time.process_time() - started)
        assert report.ok, report.errors[:1]
    return min(times)


@pytest.mark.parametrize(
    ("document", "small"), [(_enum, 5_000), (_properties, 2_500)], ids=["enum_values", "properties"]
)
def test_lint_time_grows_linearly(tmp_path: Path, document: Callable[[int], str], small: int) -> None:
    """Linting 4x the enum values (or properties) takes well under 16x the time (enums once were quadratic)."""
    small_path, large_path = tmp_path / "small.odcs.yaml", tmp_path / "large.odcs.yaml"
    small_path.write_text(document(small))
    large_path.write_text(document(4 * small))
    ratio = _cpu_seconds(large_path) / _cpu_seconds(small_path)
    assert ratio < MAX_RATIO, f"{4 * small} items took {ratio:.1f}x the time of {small}"


def test_a_large_enum_becomes_one_rule_with_every_value(tmp_path: Path) -> None:
    """A 20,000-value enum loads into one allowed-values rule holding all of them, in order."""
    path = tmp_path / "enum.odcs.yaml"
    path.write_text(_enum(ENUM_VALUES))
    contract = lint_contract(path).contract
    assert contract is not None
    rule = next(r for r in contract.rules if r.rule_id == "c.allowed_values")
    assert rule.values == tuple(f"v{i}" for i in range(ENUM_VALUES))


def test_a_repeated_enum_value_is_an_error_but_an_equal_value_of_another_type_is_not(tmp_path: Path) -> None:
    """In ``[1, 1.0, true, 1.0]`` only the second 1.0 repeats a value (1, 1.0 and true differ in type)."""
    path = tmp_path / "enum.odcs.yaml"
    entries = "".join(f"          - value: {v}\n" for v in ("1", "1.0", "true", "1.0"))
    path.write_text(HEADER + "      - name: c\n        logicalType: number\n        enum:\n" + entries)
    report = lint_contract(path)
    assert [(e.field, e.got) for e in report.errors] == [("schema[0].properties[0].enum[3].value", "1.0 again")]


@pytest.mark.parametrize("enabled", [True, False], ids=["enabled", "disabled"])
def test_loading_leaves_the_cycle_collector_as_it_found_it(tmp_path: Path, enabled: bool) -> None:
    """The collector, paused while a contract is read, is enabled again afterwards only if it was before."""
    path = tmp_path / "enum.odcs.yaml"
    path.write_text(_enum(10))
    was = gc.isenabled()
    try:
        _set_collector(enabled)
        lint_contract(path)
        assert gc.isenabled() is enabled
        (tmp_path / "broken.odcs.yaml").write_text("a: [\n")
        lint_contract(tmp_path / "broken.odcs.yaml")
        assert gc.isenabled() is enabled
    finally:
        _set_collector(was)


def _set_collector(enabled: bool) -> None:
    if enabled:
        gc.enable()
    else:
        gc.disable()
