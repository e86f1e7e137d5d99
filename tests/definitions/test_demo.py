"""`make demo` end to end in a temporary home, twice: the same story, exit 0 both times."""

from __future__ import annotations

from pathlib import Path

import pytest

from definitions import demo
from definitions.settings import DEFECT_ENV, HOME_ENV, TRACKING_URI_ENV
from guardrails.quarantine import QuarantineState, QuarantineStore

pytestmark = pytest.mark.slow


def test_demo_tells_the_story_and_is_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo quarantines the bad day, releases it after the contract fix, and a second run still exits 0."""
    home = tmp_path / "demo"
    monkeypatch.setenv(HOME_ENV, str(home))
    monkeypatch.delenv(TRACKING_URI_ENV, raising=False)
    monkeypatch.setenv(DEFECT_ENV, "nulls")  # the demo decides defects itself
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))  # the demo sets it; restore it afterwards
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", "WARNING")

    assert demo.main() == 0
    first = capsys.readouterr().out
    assert "merchant_category.allowed_values" in first and "250" in first
    assert "Released clean_transactions.2026-11-03" in first
    (manifest,) = QuarantineStore(home / "quarantine").list()
    assert manifest.state is QuarantineState.RELEASED
    assert (home / "warehouse" / "scored_transactions" / f"{demo.BAD_DAY}.parquet").exists()
    assert (home / "mlflow.db").exists() and (home / "dagster_home").is_dir()

    assert demo.main() == 0
    second = capsys.readouterr().out
    assert "already released" in second
    assert len(QuarantineStore(home / "quarantine").list()) == 1  # the retried bad day is not duplicated
