"""The drift policy around a stored reference (`judge_drift`) and batches given as Parquet paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from guardrails.checks import (
    DriftSettings,
    FreshnessSettings,
    ParitySettings,
    assess_drift,
    check_freshness,
    check_parity,
    judge_drift,
)
from guardrails.outcome import CheckKind, CheckStatus, Severity
from guardrails.profile import ProfileStore

SETTINGS = DriftSettings(min_reference_rows=10, min_current_rows=10)


def amounts(seed: int, *, shift: float = 0.0, n: int = 2_000) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({"amount": rng.normal(shift, 1, n), "channel": rng.choice(["pos", "web"], n)})


def test_no_reference_yet_is_a_warning_failure_never_a_pass(tmp_path) -> None:
    """With no accepted batch in the store, the outcome fails at WARNING as "insufficient reference"."""
    report = judge_drift(amounts(1), ProfileStore(tmp_path), "tx", SETTINGS)
    outcome = report.outcome
    assert (outcome.status, outcome.severity, outcome.kind) == (CheckStatus.FAILED, Severity.WARNING, CheckKind.DRIFT)
    assert outcome.message.startswith("insufficient reference") and outcome.rules[0].rule_id == "drift.reference"
    assert report.reference_batches == () and report.reference_rows is None


def test_unreadable_reference_is_an_error_that_names_the_file(tmp_path) -> None:
    """A corrupt batch file makes the check "could not run": ERROR, with the file in the error, never a pass."""
    store = ProfileStore(tmp_path)
    store.accept("tx", amounts(1), batch_name="2026-10-01")
    (store.directory("tx") / "2026-10-01.profile.json").write_text("{not json")
    store.merged_path("tx").unlink(missing_ok=True)
    report = judge_drift(amounts(2), store, "tx", SETTINGS, batch_name="2026-10-02")
    assert report.outcome.status is CheckStatus.ERROR and report.outcome.severity is Severity.ERROR
    assert "2026-10-01.profile.json" in report.outcome.error and report.reference_batches is None


def test_the_batch_under_audit_is_left_out_of_its_reference(tmp_path) -> None:
    """A re-run of an accepted, shifted batch is judged against the other batches, so its drift still shows."""
    store = ProfileStore(tmp_path)
    store.accept("tx", amounts(1), batch_name="2026-10-01")
    store.accept("tx", amounts(2, shift=3.0), batch_name="2026-10-02")
    report = judge_drift(amounts(2, shift=3.0), store, "tx", SETTINGS, batch_name="2026-10-02")
    assert report.outcome.status is CheckStatus.FAILED and report.outcome.severity is Severity.ERROR
    assert report.reference_batches == ("2026-10-01",) and report.reference_rows == 2_000
    same = judge_drift(amounts(3), store, "tx", SETTINGS, batch_name="2026-10-03", window=1)
    assert same.reference_batches == ("2026-10-02",) and same.outcome.status is CheckStatus.FAILED


def test_a_batch_that_cannot_be_read_is_an_error_not_an_exception(tmp_path) -> None:
    """A batch path with no Parquet files is reported as "could not run" with the reason."""
    store = ProfileStore(tmp_path / "profiles")
    store.accept("tx", amounts(1), batch_name="2026-10-01")
    (tmp_path / "empty").mkdir()
    report = judge_drift(tmp_path / "empty", store, "tx", SETTINGS)
    assert report.outcome.status is CheckStatus.ERROR and "no Parquet files" in report.outcome.error
    assert report.reference_rows == 2_000


def test_drift_freshness_and_parity_read_parquet_paths_as_validate_does(tmp_path) -> None:
    """A Parquet file or a directory of them gives the same outcome as the frame it holds."""
    frame = amounts(4).with_row_index("id").with_columns(
        event_time=pl.lit(datetime(2026, 10, 1, 12, tzinfo=UTC)))
    frame.write_parquet(tmp_path / "batch.parquet")
    (tmp_path / "dataset").mkdir()
    frame.head(1_000).write_parquet(tmp_path / "dataset" / "part-0.parquet")
    frame.tail(1_000).write_parquet(tmp_path / "dataset" / "part-1.parquet")
    reference = SETTINGS.build_reference(amounts(5))

    expected = assess_drift(frame, reference, SETTINGS).outcome
    sla = FreshnessSettings(column="event_time", latency=timedelta(hours=1))
    as_of = datetime(2026, 10, 1, 13, 30, tzinfo=UTC)
    fresh = check_freshness(frame, sla, as_of=as_of)
    parity = ParitySettings(keys=("id",), features=("amount", "channel"))
    for path in (tmp_path / "batch.parquet", str(tmp_path / "dataset")):
        drift = assess_drift(path, reference, SETTINGS).outcome
        assert drift.status is expected.status and drift.metrics["psi.amount"] == pytest.approx(
            expected.metrics["psi.amount"])
        freshness = check_freshness(path, sla, as_of=as_of)
        assert freshness.status is fresh.status and freshness.metrics["data_age_seconds"] == 5_400
        assert check_parity(path, frame, parity).status is CheckStatus.PASSED
