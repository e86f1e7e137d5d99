"""The public surface of `guardrails.quarantine`: a curated `__all__`, and docstring examples that run."""

from __future__ import annotations

import doctest
import importlib

import pytest

import guardrails.quarantine

MODULES = ["_audit", "_batch", "_claim", "_errors", "_files", "_guard", "_manifest", "_published", "_store", "_target"]


def test_all_lists_exactly_the_public_names() -> None:
    """Every name in `__all__` exists, and every public attribute of the package is in `__all__`."""
    exported = set(guardrails.quarantine.__all__)
    public = {name for name in vars(guardrails.quarantine) if not name.startswith("_")}
    assert all(hasattr(guardrails.quarantine, name) for name in exported)
    assert public == exported


@pytest.mark.parametrize("module", ["__init__", *MODULES])
def test_docstring_examples_run(module: str) -> None:
    """The worked examples in the docstrings are correct (run as doctests)."""
    name = "guardrails.quarantine" + ("" if module == "__init__" else f".{module}")
    target = importlib.import_module(name)
    result = doctest.testmod(target, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
