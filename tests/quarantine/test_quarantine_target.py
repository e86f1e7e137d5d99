"""A publish target (`ParquetTarget`): where a guarded batch belongs, recorded in its manifest, where release writes."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from guardrails.contract import Contract, QuarantinePolicy, RangeRule
from guardrails.quarantine import ParquetTarget, QuarantineStore, ReleaseStatus, guard_batch, target_of

CONTRACT = Contract(id="urn:tx", version="1", name="tx", table="tx", policy=QuarantinePolicy.BATCH,
                    rules=(RangeRule(rule_id="amount.range", column="amount", minimum=0),))


def test_a_pattern_names_a_file_or_a_directory_and_local_paths_become_absolute(tmp_path: Path) -> None:
    """``.parquet`` patterns are the file; others are a directory receiving data.parquet; ``/`` cannot escape."""
    assert ParquetTarget("s3://lake/tx/{partition}.parquet").uri("2026-11-03") == "s3://lake/tx/2026-11-03.parquet"
    assert ParquetTarget(str(tmp_path / "tx" / "date={partition}/")).uri("a/../b") == (
        f"file://{tmp_path}/tx/date=a___b/data.parquet")


@pytest.mark.parametrize(("pattern", "message"), [
    ("", "empty string"),
    ("/lake/{ds}", "unknown placeholder(s) ds"),
    ("/lake/{partition", "not a valid pattern"),
])
def test_a_bad_pattern_is_refused_when_the_target_is_built(pattern: str, message: str) -> None:
    """Misconfiguration raises at construction, saying what is wrong."""
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ParquetTarget(pattern)


def test_release_publishes_to_the_recorded_target_once_and_never_over_newer_data(tmp_path: Path) -> None:
    """A kept batch whose source names a target is released there; a newer publish to it supersedes the release."""
    store = QuarantineStore(tmp_path / "q")
    target = ParquetTarget(str(tmp_path / "lake" / "date={partition}"))
    bad = guard_batch(pl.DataFrame({"amount": [5.0, -1.0]}), CONTRACT, store, batch_id="tx.2026-11-03",
                      source=target.source("2026-11-03"))
    assert bad.quarantined and target_of(bad.manifest.source) == target.uri("2026-11-03")
    fixed = Contract(id="urn:tx", version="2", name="tx", table="tx", rules=())

    released = store.release("tx.2026-11-03", fixed)

    assert released.status is ReleaseStatus.RELEASED and released.released_to == target.uri("2026-11-03")
    assert pq.read_table(target.uri("2026-11-03")[len("file://"):]).column("amount").to_pylist() == [5.0, -1.0]
    assert store.release("tx.2026-11-03", fixed).status is ReleaseStatus.ALREADY_RELEASED

    guard_batch(pl.DataFrame({"amount": [-2.0]}), CONTRACT, store, batch_id="tx.2026-11-04",
                source=target.source("2026-11-04"))
    guard_batch(pl.DataFrame({"amount": [3.0]}), CONTRACT, store, batch_id="tx.2026-11-04.b",
                source=target.source("2026-11-04"))
    assert store.release("tx.2026-11-04", fixed).status is ReleaseStatus.SUPERSEDED
