"""Write-audit-publish on Spark: stage the batch, audit it in Spark, publish its partition by one atomic rename.

`guard_spark_parquet` is `guard_batch` for a batch that lives in Spark (a DataFrame, or a directory of Parquet files
the producer wrote), published to a partitioned Parquet dataset on a filesystem with atomic rename (local, HDFS):

1. *stage*: a DataFrame is first written to a hidden staging directory beside the dataset (`_spark_publish`), so the
   audit and the split read one stable snapshot (a DataFrame is a plan: recomputed, it may give other rows);
2. *audit* in Spark through ibis (`audit_table`: one aggregate scan, one per uniqueness rule, a capped sample);
3. *publish*: nothing blocks -> the batch is written to staging and renamed to ``<dataset>/<partition>``; a blocking
   failure under the rows policy -> the rejected rows, with a ``_guardrails_rules`` column naming the rules each
   broke,, go to
   the `QuarantineStore` (one Parquet file, manifest and all, so ``guardrails quarantine list/show`` see them)
   and the valid rows are renamed into the partition; otherwise the whole batch is quarantined, nothing published.

The quarantine is written before the publish (a row is never lost); a crash between the two leaves the batch
quarantined and the partition absent, never half of it, and a retry of the same batch (same id) finds its manifest
and completes the publish. `release_spark_parquet` re-validates the kept rows in Spark and publishes them to their
partition once, through the store's release claim.

What is tested here: Spark ``local[1]`` on a local filesystem. Not tested: clusters, and HDFS (whose directory rename
is atomic too). Object stores have no rename; `SparkParquetTarget` refuses their URLs.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from guardrails.contract.model import Contract, QuarantinePolicy
from guardrails.engines._audit import REASONS_COLUMN, REJECTED_COLUMN, audit_table
from guardrails.engines._spark_publish import (
    SOURCE_PREFIX,
    PartitionExistsError,
    SparkParquetTarget,
    Staging,
    checked_partition,
    published_batch,
    sweep,
)
from guardrails.engines._spark_session import local_spark_session, spark_backend
from guardrails.outcome import CheckOutcome, CheckStatus
from guardrails.quarantine._audit import error_outcome
from guardrails.quarantine._batch import _tar
from guardrails.quarantine._errors import QuarantineError
from guardrails.quarantine._layout import checked_batch_id, derive_batch_id
from guardrails.quarantine._manifest import DataFormat, QuarantineManifest
from guardrails.quarantine._published import PublishLog
from guardrails.quarantine._release import ReleaseResult, contract_for_release
from guardrails.quarantine._store import QuarantineStore
from guardrails.validation._frames import error_line, parquet_files

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

REASONS = REASONS_COLUMN
"""The column of kept rows naming the rules each row broke, comma-separated (`TableAudit.flagged`)."""
RELEASED_FILE = "part-released-{batch_id}.parquet"


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardedSparkBatch:
    """The verdict on a Spark batch and where its rows went.

    Attributes:
        outcome: the contract check's outcome, measured in Spark (shaped as `validate`'s; the sample has no ``_row``).
        batch_id: the batch's id (the quarantine id when anything was kept).
        published_to: the partition directory the valid rows were renamed to, or None when nothing was published.
        rows_published: rows readers of the dataset now see from this batch.
        manifest: the quarantine manifest when anything was kept, else None.
    """

    outcome: CheckOutcome
    batch_id: str
    published_to: str | None
    rows_published: int
    manifest: QuarantineManifest | None

    @property
    def quarantined(self) -> bool:
        return self.manifest is not None


def guard_spark_parquet(
    contract: Contract,
    batch: DataFrame | str | os.PathLike[str],
    target: SparkParquetTarget | str | os.PathLike[str],
    partition: str,
    store: QuarantineStore,
    *,
    spark: SparkSession | None = None,
    batch_id: str | None = None,
    run_id: str | None = None,
    as_of: datetime | None = None,
    sample_size: int | None = None,
    allow_unrun: bool = False,
) -> GuardedSparkBatch:
    """Audit a Spark batch against `contract` and publish what may be published to ``<target>/<partition>``.

    Args:
        contract: the data contract (its `policy` decides batch vs rows).
        batch: a Spark DataFrame, or the path of a Parquet file or directory the producer staged.
        target: the dataset's root directory (a `SparkParquetTarget` or a local path).
        partition: the partition's directory name, e.g. ``date=2026-11-20`` (one path segment).
        store: where kept rows and their manifest go (a local store: Spark reads the kept file back on release).
        spark: the session (default: the active one, else `local_spark_session()`).
        batch_id: an explicit id; default: the contract's table and the hash of the staged files (for a path, a
            retried run lands on the same id; for a DataFrame pass one, e.g. ``tx.2026-11-20``).
        run_id: the pipeline run, recorded in the manifest. as_of, sample_size, allow_unrun: as `audit_table`.

    Raises:
        ValueError: a bad partition name or target. QuarantineError: a bad batch id, or the store cannot be written.
        PartitionExistsError: another batch already holds the partition (nothing is written over it).
    """
    started = datetime.now(UTC)
    target = target if isinstance(target, SparkParquetTarget) else SparkParquetTarget(os.fspath(target))
    checked_partition(partition)
    if batch_id is not None:
        checked_batch_id(batch_id)
    spark = spark or _active_session() or local_spark_session()
    # Plain microsecond timestamps (not INT96) in what we write, so polars and Arrow read them back as written.
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    sweep(target)
    staging = Staging(target)
    try:
        if isinstance(batch, str | os.PathLike):
            source_dir = os.path.abspath(os.fspath(batch))
        else:
            source_dir = staging.path("input")
            batch.write.parquet(source_dir)
        content_hash = files_hash(source_dir)
        batch_id = batch_id or derive_batch_id(content_hash, contract.table or contract.id)
        final = target.partition_dir(partition)
        holder = published_batch(final)
        if os.path.isdir(final) and holder != batch_id:
            raise PartitionExistsError(final, holder, batch_id)
        source = SOURCE_PREFIX + target.uri(partition)
        con = spark_backend(spark)
        view = f"guardrails_batch_{uuid.uuid4().hex}"
        try:
            spark.read.parquet(source_dir).createOrReplaceTempView(view)
        except Exception as exc:  # a corrupt footer, not Parquet at all: the data's problem, kept as it arrived
            error = f"cannot read {source_dir} in Spark: {error_line(exc)}"
            outcome = error_outcome(contract, error, started=started, as_of=as_of)
            return _keep_as_arrived(store, source_dir, outcome, contract, batch_id, content_hash, source, run_id)
        try:
            table = con.table(view)
            audit = audit_table(contract, table, as_of=as_of, sample_size=sample_size, allow_unrun=allow_unrun)
            outcome = audit.outcome
            rows_in = outcome.rows
            if outcome.status is CheckStatus.ERROR:
                return _keep_as_arrived(store, source_dir, outcome, contract, batch_id, content_hash, source, run_id)
            if not outcome.blocks_publication:
                if holder != batch_id:
                    _write(con, table, staging.path("valid"))
                    staging.publish_partition("valid", partition, batch_id)
                _record_publish(store, source, batch_id, content_hash, run_id)
                return GuardedSparkBatch(outcome=outcome, batch_id=batch_id, published_to=final,
                                         rows_published=rows_in or 0, manifest=None)
            import ibis

            # Fail closed as `guard_batch` does: a blocking outcome whose predicate rejects no row is not split.
            split = (contract.policy is QuarantinePolicy.ROWS and audit.rejected is not None
                     and bool(outcome.metrics.get("failing_rows")))
            # The engines' one reasons column (`TableAudit.flagged`); kept whole, every row is flagged.
            marked = (audit if split else replace(audit, rejected=ibis.literal(True))).flagged(table)
            kept = marked.filter(marked[REJECTED_COLUMN]).drop(REJECTED_COLUMN)
            _write(con, kept, staging.path("rejected"), one_file=True)
            payload = _only_parquet(staging.path("rejected")).read_bytes()
            manifest = store.put(
                payload, outcome, batch_id=batch_id, content_hash=content_hash, content_hash_of="bytes",
                data_format=DataFormat.PARQUET, source=source, run_id=run_id, policy=contract.policy, rows_in=rows_in,
            )
            rows_kept = manifest.rows_quarantined or 0
            if not split or rows_in is None or rows_kept >= rows_in:
                return GuardedSparkBatch(outcome=outcome, batch_id=manifest.batch_id, published_to=None,
                                         rows_published=0, manifest=manifest)
            if holder != batch_id:
                valid = marked.filter(~marked[REJECTED_COLUMN]).drop(REJECTED_COLUMN, REASONS)
                _write(con, valid, staging.path("valid"))
                staging.publish_partition("valid", partition, manifest.batch_id)
            _record_publish(store, source, manifest.batch_id, content_hash, run_id)
            return GuardedSparkBatch(outcome=outcome, batch_id=manifest.batch_id, published_to=final,
                                     rows_published=rows_in - rows_kept, manifest=manifest)
        finally:
            spark.catalog.dropTempView(view)
    finally:
        staging.discard()


def release_spark_parquet(
    store: QuarantineStore,
    batch_id: str,
    contract: Contract,
    *,
    spark: SparkSession | None = None,
    as_of: datetime | None = None,
    break_claim: bool = False,
    force: bool = False,
) -> ReleaseResult:
    """Re-validate a batch `guard_spark_parquet` kept, in Spark, and publish it to its partition exactly once.

    The store's release does the rest (claim, supersede check, history): see `QuarantineStore.release`. The rows
    (without their ``_guardrails_rules`` column) are renamed in as the whole partition when it does not exist, else added to
    it as one file named after the batch (``part-released-<batch_id>.parquet``): one rename either way.

    Raises:
        QuarantineError: unknown or purged batch, a batch not kept by `guard_spark_parquet`, or another contract's.
    """
    manifest = store.show(batch_id)
    where = manifest.source[len(SOURCE_PREFIX):] if manifest.source.startswith(SOURCE_PREFIX) else None
    if where is None:
        raise QuarantineError(batch_id, f"was not kept by the Spark guard (source {manifest.source!r})",
                              hint="release it with `guardrails quarantine release`")
    final = Path(url2pathname(urlsplit(where).path))
    target, partition = SparkParquetTarget(str(final.parent)), final.name
    spark = spark or _active_session() or local_spark_session()
    con = spark_backend(spark)

    def revalidate(kept: QuarantineManifest, current: Contract, at: datetime | None) -> tuple[Any, CheckOutcome]:
        path = f"{store.batch_path(kept.batch_id)}/{kept.data_file}"
        frame = spark.read.parquet(store.fs.unstrip_protocol(path))
        frame = frame.drop(REASONS) if REASONS in frame.columns else frame
        view = f"guardrails_release_{uuid.uuid4().hex}"
        frame.createOrReplaceTempView(view)
        audit = audit_table(contract_for_release(kept, current), con.table(view), as_of=at)
        return frame, audit.outcome

    def publish(frame: Any) -> str:
        staging = Staging(target)
        try:
            frame.coalesce(1).write.parquet(staging.path("released"))
            if os.path.isdir(final):
                staging.publish_file("released", partition, RELEASED_FILE.format(batch_id=batch_id))
            else:
                staging.publish_partition("released", partition, batch_id)
        finally:
            staging.discard()
        return target.uri(partition)

    return store.release(batch_id, contract, as_of=as_of, publish=publish, revalidate=revalidate,
                         break_claim=break_claim, force=force)


def _keep_as_arrived(
    store: QuarantineStore, source_dir: str, outcome: CheckOutcome, contract: Contract, batch_id: str,
    content_hash: str, source: str, run_id: str | None,
) -> GuardedSparkBatch:
    """A batch the check could not run on is kept byte for byte (a file as it is, a directory as a tar of its
    Parquet files, as `guard_batch` keeps one), and nothing is published."""
    path = Path(source_dir)
    payload = path.read_bytes() if path.is_file() else _tar(path, parquet_files(path))
    manifest = store.put(payload, outcome, batch_id=batch_id, content_hash=content_hash, content_hash_of="bytes",
                         data_format=DataFormat.RAW, source=source, run_id=run_id, policy=contract.policy)
    return GuardedSparkBatch(outcome=outcome, batch_id=manifest.batch_id, published_to=None, rows_published=0,
                             manifest=manifest)


def files_hash(path: str) -> str:
    """sha256 over each data file's relative path, size and bytes (a file, or every visible file of a directory)."""
    root = Path(path)
    files = [root] if root.is_file() else sorted(
        p for p in root.rglob("*") if p.is_file() and not any(part.startswith((".", "_")) for part in
                                                               p.relative_to(root).parts)
    )
    digest = hashlib.sha256()
    for file in files:
        name = file.name if file == root else file.relative_to(root).as_posix()
        digest.update(f"{name}\0{file.stat().st_size}\0".encode())
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _write(con: Any, expr: Any, path: str, *, one_file: bool = False) -> None:
    frame = con.raw_sql(con.compile(expr))
    (frame.coalesce(1) if one_file else frame).write.parquet(path)


def _only_parquet(directory: str) -> Path:
    [file] = [p for p in Path(directory).iterdir() if p.suffix == ".parquet" and not p.name.startswith((".", "_"))]
    return file


def _active_session() -> SparkSession | None:
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def _record_publish(store: QuarantineStore, source: str, batch_id: str, content_hash: str, run_id: str | None) -> None:
    try:
        PublishLog.of(store).record_guarded(source, batch_id, content_hash, run_id)
    except OSError as exc:
        raise QuarantineError(batch_id, f"cannot record its publish in {store.uri}: {exc}") from exc


__all__ = ["GuardedSparkBatch", "files_hash", "guard_spark_parquet", "release_spark_parquet"]
