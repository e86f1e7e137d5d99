"""The performance check's docstring examples run as written."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

MODULES = [
    "guardrails.checks.performance._spec",
    "guardrails.checks.performance._labels",
    "guardrails.checks.performance._metrics",
    "guardrails.checks.performance._assess",
    "guardrails.dagster.ml._performance",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every example in the module's docstrings gives the output it shows (from the repository root)."""
    monkeypatch.chdir(REPO)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
