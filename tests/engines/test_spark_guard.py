"""Write-audit-publish on Spark local[1]: audit in Spark, quarantine with reasons, publish a partition by one rename.

Every test runs on the one session-scoped SparkSession (`tests.engines.spark_backend.spark`), on real Parquet
directories under ``tmp_path`` and a real `QuarantineStore`; the reference is the in-memory guard (`guard_batch`).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from definitions.data import Defect, generate_transactions
from guardrails.contract import load_contract
from guardrails.contract.model import Contract, QuarantinePolicy
from guardrails.cli import app
from guardrails.engines import (
    REASONS_COLUMN as REASONS,
    PartitionExistsError,
    SparkParquetTarget,
    guard_spark_parquet,
    release_spark_parquet,
)
from guardrails.engines._spark_publish import MARKER, sweep
from guardrails.quarantine import QuarantineState, QuarantineStore, ReleaseStatus, guard_batch
from tests.engines.spark_backend import SPARK, spark  # noqa: F401

pytestmark = [SPARK, pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:.*(copy keyword|infer_string).*")]

REPO = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 21, tzinfo=UTC)
PARTITION = "date=2026-11-20"
ROWS = 300


@pytest.fixture(scope="module")
def contracts() -> dict[str, Contract]:
    from dataclasses import replace

    shipped = load_contract(REPO / "expectations" / "transactions.odcs.yaml")
    return {"batch": replace(shipped, policy=QuarantinePolicy.BATCH),
            "rows": replace(shipped, policy=QuarantinePolicy.ROWS)}


def _staged(tmp_path: Path, defect: Defect | None, name: str = "incoming") -> Path:
    """The producer's batch as a directory of two Parquet files (as Spark or a writer would stage it)."""
    frame = generate_transactions(DAY, rows=ROWS, defect=defect)
    directory = tmp_path / name
    directory.mkdir()
    half = frame.height // 2
    frame[:half].write_parquet(directory / "part-0.parquet")
    frame[half:].write_parquet(directory / "part-1.parquet")
    return directory


def _published(target: Path) -> pl.DataFrame:
    """What a reader of the dataset sees (hidden and ``_`` files skipped, as Spark and Arrow skip them)."""
    files = sorted(p for p in target.rglob("*.parquet") if not any(s.startswith((".", "_")) for s in
                                                                   p.relative_to(target).parts))
    return pl.concat([pl.read_parquet(f) for f in files]) if files else pl.DataFrame()


def test_a_clean_batch_is_published_whole_by_one_rename(
    spark: Any, contracts: dict[str, Contract], tmp_path: Path
) -> None:
    """A batch that passes lands as the partition directory, marked with its batch, and nothing is kept."""
    store = QuarantineStore(tmp_path / "q")
    guarded = guard_spark_parquet(contracts["rows"], _staged(tmp_path, None), tmp_path / "lake" / "tx", PARTITION,
                                  store, spark=spark, as_of=AS_OF)
    assert guarded.outcome.passed and guarded.manifest is None
    assert guarded.published_to == str(tmp_path / "lake" / "tx" / PARTITION)
    assert _published(tmp_path / "lake" / "tx").height == ROWS == guarded.rows_published
    assert (tmp_path / "lake" / "tx" / PARTITION / MARKER).exists()
    assert not os.listdir(SparkParquetTarget(str(tmp_path / "lake" / "tx")).staging_root)  # staging cleaned up


@pytest.mark.parametrize(("defect", "rule"), [(Defect.OUT_OF_RANGE_AMOUNTS, "amount.range"),
                                             (Defect.DUPLICATE_IDS, "transaction_id.unique")], ids=["range", "unique"])
def test_rows_policy_splits_as_the_in_memory_guard(
    spark: Any, contracts: dict[str, Contract], tmp_path: Path, defect: Defect, rule: str
) -> None:
    """Under the rows policy Spark publishes and keeps exactly the rows `guard_batch` does, with a reasons column."""
    staged = _staged(tmp_path, defect)
    reference = guard_batch(str(staged), contracts["rows"], QuarantineStore(tmp_path / "ref"), as_of=AS_OF)
    store = QuarantineStore(tmp_path / "q")
    guarded = guard_spark_parquet(contracts["rows"], staged, tmp_path / "lake", PARTITION, store, spark=spark,
                                  as_of=AS_OF)
    assert reference.published is not None and reference.manifest is not None and guarded.manifest is not None
    assert guarded.rows_published == reference.published.num_rows > 0
    published = _published(tmp_path / "lake")
    assert sorted(published["transaction_id"]) == sorted(reference.published.column("transaction_id").to_pylist())
    kept = pl.from_arrow(store.read(guarded.batch_id))
    assert sorted(kept["transaction_id"]) == sorted(
        pl.from_arrow(QuarantineStore(tmp_path / "ref").read(reference.batch_id))["transaction_id"]
    )
    assert all(rule in reasons.split(", ") for reasons in kept[REASONS].to_list())  # every kept row says why
    assert guarded.manifest.rows_quarantined + guarded.rows_published == ROWS
    listed = CliRunner().invoke(app, ["quarantine", "list", "--store", str(tmp_path / "q"), "--json"])
    assert [entry["batch_id"] for entry in json.loads(listed.stdout)] == [guarded.batch_id]
    assert {r.rule_id: r.failing_rows for r in guarded.outcome.rules} == {
        r.rule_id: r.failing_rows for r in reference.outcome.rules if r.kind != "sql"
    }


def test_batch_policy_keeps_the_whole_batch_and_publishes_nothing(
    spark: Any, contracts: dict[str, Contract], tmp_path: Path
) -> None:
    """Under the batch policy a blocking failure keeps every row (with reasons) and creates no partition."""
    store = QuarantineStore(tmp_path / "q")
    guarded = guard_spark_parquet(contracts["batch"], _staged(tmp_path, Defect.NULLS), tmp_path / "lake", PARTITION,
                                  store, spark=spark, as_of=AS_OF)
    assert guarded.published_to is None and guarded.rows_published == 0
    assert guarded.manifest is not None and guarded.manifest.rows_quarantined == ROWS
    assert not (tmp_path / "lake" / PARTITION).exists()


def test_a_retry_of_the_same_batch_publishes_once(spark: Any, contracts: dict[str, Contract], tmp_path: Path) -> None:
    """Guarding the same staged files twice gives the same batch id, one manifest and one copy of the rows."""
    staged, store = _staged(tmp_path, Defect.UNKNOWN_CATEGORIES), QuarantineStore(tmp_path / "q")
    first = guard_spark_parquet(contracts["rows"], staged, tmp_path / "lake", PARTITION, store, spark=spark,
                                as_of=AS_OF)
    again = guard_spark_parquet(contracts["rows"], staged, tmp_path / "lake", PARTITION, store, spark=spark,
                                as_of=AS_OF)
    assert again.batch_id == first.batch_id and len(store.list()) == 1
    assert _published(tmp_path / "lake").height == first.rows_published


def test_another_batch_never_overwrites_a_published_partition(
    spark: Any, contracts: dict[str, Contract], tmp_path: Path
) -> None:
    """A different batch for a partition that is already published is refused, and the partition is untouched."""
    store = QuarantineStore(tmp_path / "q")
    guard_spark_parquet(contracts["rows"], _staged(tmp_path, None), tmp_path / "lake", PARTITION, store, spark=spark,
                        as_of=AS_OF, batch_id="tx.one")
    with pytest.raises(PartitionExistsError, match="tx.one"):
        guard_spark_parquet(contracts["rows"], _staged(tmp_path, None, "other"), tmp_path / "lake", PARTITION, store,
                            spark=spark, as_of=AS_OF, batch_id="tx.two")
    assert _published(tmp_path / "lake").height == ROWS


def test_a_write_that_fails_midway_leaves_nothing_visible(
    spark: Any, contracts: dict[str, Contract], tmp_path: Path
) -> None:
    """A Spark job that dies after some part files were written publishes nothing, keeps nothing, leaves no staging."""
    from pyspark.sql import functions as F

    frame = spark.read.parquet(str(_staged(tmp_path, None))).repartition(4, "transaction_id")
    # A real fault in the guard's staging write: the last task raises after the first tasks have written their files.
    poisoned = frame.withColumn(
        "merchant_category",
        F.when(F.spark_partition_id() == 3, F.raise_error(F.lit("disk gone"))).otherwise(F.col("merchant_category")),
    )
    store, target = QuarantineStore(tmp_path / "q"), SparkParquetTarget(str(tmp_path / "lake"))
    with pytest.raises(Exception, match="disk gone"):
        guard_spark_parquet(contracts["rows"], poisoned, target, PARTITION, store, spark=spark, as_of=AS_OF,
                            batch_id="tx.2026-11-20")
    assert not Path(target.partition_dir(PARTITION)).exists()
    assert _published(tmp_path / "lake").height == 0
    assert store.list() == [] and not os.listdir(target.staging_root)


def test_a_guard_killed_between_write_and_rename_leaves_nothing_visible(
    spark: Any, contracts: dict[str, Contract], tmp_path: Path
) -> None:
    """A process killed after staging a complete partition but before the rename publishes nothing; the next guard
    sweeps its leftovers and publishes the batch."""
    import signal
    import subprocess
    import sys

    target = SparkParquetTarget(str(tmp_path / "lake"))
    staged = _staged(tmp_path, None)
    # The child stages the batch (a complete copy, as Spark would leave it) and is killed before publishing.
    child = (
        "import os, shutil, signal, sys\n"
        "from guardrails.engines._spark_publish import SparkParquetTarget, Staging\n"
        "staging = Staging(SparkParquetTarget(sys.argv[1]))\n"
        "shutil.copytree(sys.argv[2], staging.path('valid'))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
        "staging.publish_partition('valid', 'date=2026-11-20', 'never')\n"
    )
    done = subprocess.run([sys.executable, "-c", child, target.root, str(staged)], env={**os.environ}, check=False)
    assert done.returncode == -signal.SIGKILL
    assert len(os.listdir(target.staging_root)) == 1  # its staged copy is there, hidden
    assert not Path(target.partition_dir(PARTITION)).exists() and _published(tmp_path / "lake").height == 0
    assert len(sweep(target)) == 1
    guarded = guard_spark_parquet(contracts["rows"], staged, target, PARTITION, QuarantineStore(tmp_path / "q"),
                                  spark=spark, as_of=AS_OF)
    assert guarded.rows_published == ROWS == _published(tmp_path / "lake").height


def test_release_revalidates_in_spark_and_publishes_once(
    spark: Any, contracts: dict[str, Contract], tmp_path: Path
) -> None:
    """Kept rows refused under the strict contract are released under a relaxed one, into their partition, once."""
    from dataclasses import replace

    store = QuarantineStore(tmp_path / "q")
    guarded = guard_spark_parquet(contracts["rows"], _staged(tmp_path, Defect.UNKNOWN_CATEGORIES), tmp_path / "lake",
                                  PARTITION, store, spark=spark, as_of=AS_OF)
    assert guarded.manifest is not None
    refused = release_spark_parquet(store, guarded.batch_id, contracts["rows"], spark=spark, as_of=AS_OF)
    assert refused.status is ReleaseStatus.REFUSED
    relaxed = replace(contracts["rows"], rules=tuple(r for r in contracts["rows"].rules
                                                     if r.rule_id != "merchant_category.allowed_values"))
    released = release_spark_parquet(store, guarded.batch_id, relaxed, spark=spark, as_of=AS_OF)
    assert released.status is ReleaseStatus.RELEASED
    assert _published(tmp_path / "lake").height == ROWS
    assert REASONS not in _published(tmp_path / "lake").columns
    again = release_spark_parquet(store, guarded.batch_id, relaxed, spark=spark, as_of=AS_OF)
    assert again.status is ReleaseStatus.ALREADY_RELEASED and _published(tmp_path / "lake").height == ROWS
    assert store.show(guarded.batch_id).state is QuarantineState.RELEASED


def test_object_store_targets_are_refused() -> None:
    """A target without atomic rename (an object store URL) is refused when the target is built."""
    with pytest.raises(ValueError, match="atomic rename"):
        SparkParquetTarget("s3://bucket/lake/tx")


def test_an_unreadable_batch_is_kept_as_it_arrived(spark: Any, contracts: dict[str, Contract], tmp_path: Path) -> None:
    """A directory holding a truncated Parquet file never raises: status error, its bytes kept, nothing published."""
    staged = _staged(tmp_path, None)
    broken = staged / "part-1.parquet"
    broken.write_bytes(broken.read_bytes()[:100])
    store = QuarantineStore(tmp_path / "q")
    guarded = guard_spark_parquet(contracts["rows"], staged, tmp_path / "lake", PARTITION, store, spark=spark,
                                  as_of=AS_OF)
    assert guarded.outcome.status.value == "error" and guarded.published_to is None
    assert guarded.manifest is not None and guarded.manifest.data_format.value == "raw"
    assert not (tmp_path / "lake" / PARTITION).exists()


def test_the_cli_releases_a_spark_batch_into_its_partition(
    spark: Any, contracts: dict[str, Contract], tmp_path: Path
) -> None:
    """``guardrails quarantine release`` re-validates a batch the Spark guard kept in Spark and publishes it to its
    partition (not to the store's ``_released/``), without the reasons column."""
    store = QuarantineStore(tmp_path / "q")
    late = datetime(2027, 6, 1, tzinfo=UTC)  # every event is older than the contract's maxAge then: all rows kept
    guarded = guard_spark_parquet(contracts["batch"], _staged(tmp_path, None), tmp_path / "lake", PARTITION, store,
                                  spark=spark, as_of=late)
    assert guarded.manifest is not None and guarded.published_to is None
    released = CliRunner().invoke(app, ["quarantine", "release", guarded.batch_id, "--store", str(tmp_path / "q"),
                                        "--contract", str(REPO / "expectations" / "transactions.odcs.yaml"),
                                        "--as-of", "2026-11-21T00:00Z", "--json"])
    assert released.exit_code == 0, released.output
    assert json.loads(released.stdout)["status"] == "released"
    published = _published(tmp_path / "lake")
    assert published.height == ROWS and REASONS not in published.columns
    assert not (tmp_path / "q" / "_released").exists()
