"""The examples in the canary modules' docstrings run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["boundaries", "quantiles", "intervals", "srm", "spec", "assess"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    """Every docstring example in guardrails.checks.canary.<name> passes, and there is at least one."""
    result = doctest.testmod(importlib.import_module(f"guardrails.checks.canary.{name}"))
    assert result.failed == 0 and result.attempted > 0
