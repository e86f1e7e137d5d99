"""The examples in the adapter's docstrings run as written (from the repository root, like a code location)."""

from __future__ import annotations

import doctest
import importlib

import pytest

from tests.dagster.conftest import REPO

MODULES = [
    "guardrails.dagster._scope",
    "guardrails.dagster.asset",
    "guardrails.dagster.automation",
    "guardrails.dagster.checks",
    "guardrails.dagster.history",
    "guardrails.dagster.resources",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch):
    """Every docstring example in the module passes."""
    monkeypatch.chdir(REPO)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
