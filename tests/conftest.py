"""Shared test configuration: Hypothesis profiles (fast by default, `HYPOTHESIS_PROFILE=thorough` for more)."""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("fast", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))


@pytest.fixture(autouse=True)
def _piped_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI output is rendered as a user's piped output is, whoever runs the tests.

    pytest-xdist workers inherit COLUMNS=80 from the controller while a plain run has none, so without this the
    same table would fold differently under `-n 2`. Tests that care about a width set COLUMNS themselves.
    """
    monkeypatch.delenv("COLUMNS", raising=False)
