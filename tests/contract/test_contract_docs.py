"""The worked examples in the contract modules' docstrings run and stay true."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = [
    "guardrails.contract._patterns",
    "guardrails.contract._source",
    "guardrails.contract._structure",
    "guardrails.contract._yaml",
    "guardrails.contract.custom_properties",
    "guardrails.contract.durations",
    "guardrails.contract.lint",
    "guardrails.contract.loader",
    "guardrails.contract.model",
    "guardrails.errors",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every docstring example in the module passes (run from the project root, where the example lives)."""
    monkeypatch.chdir(ROOT)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
