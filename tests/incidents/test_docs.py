"""The examples in the incident modules' docstrings run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "guardrails.incidents",
    "guardrails.incidents._breaker",
    "guardrails.incidents._build",
    "guardrails.incidents._hypotheses",
    "guardrails.incidents._state",
    "guardrails.dagster.incidents",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    """Every docstring example in the module passes, and there is at least one."""
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
