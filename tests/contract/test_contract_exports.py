"""The public surface of `guardrails.contract`: a curated `__all__` that resolves, and nothing private in it."""

from __future__ import annotations

import guardrails.contract as contract


def test_every_exported_name_resolves_and_none_is_private() -> None:
    """Each name in `__all__` exists, is public, and the loader entry points are among them."""
    for name in contract.__all__:
        assert hasattr(contract, name) and not name.startswith("_")
    assert {"load_contract", "lint_contract", "LintReport", "LintIssue", "parse_duration"} <= set(contract.__all__)
