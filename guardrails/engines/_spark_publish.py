"""Publishing a Spark-written partition by one atomic rename: readers see no partition or the whole of it.

Spark writes a directory of part files, task by task; a reader listing the directory halfway through, or after a
crash, would see some of them. So the guard never writes where readers look. It writes to a *staging* directory
beside the dataset (``<parent>/.<dataset>.staging/<token>/``, same filesystem, hidden: Spark, Hive and Arrow skip
names starting with ``.`` or ``_``), and publishes with one ``os.rename`` of the staged directory to
``<dataset>/<partition>``. POSIX makes that rename atomic; HDFS has the same guarantee for a directory rename.
Object stores (S3, GCS, ABFS without HNS) have no rename at all (a "rename" copies object by object), which is why
a table format (Delta, Iceberg, Hudi) exists there; this module refuses any path that is not local.

A crash before the rename leaves only the hidden staging directory (swept by the next guard of the same dataset
once its writer has provably ended); a crash after it leaves the partition published whole. Publishing is
idempotent: the partition carries a ``_guardrails_batch`` marker naming its batch, so a retry of the same batch finds
it published and does nothing, and a different batch never overwrites it (`PartitionExistsError`).

Releasing rows into a partition that already exists (the valid rows of the same batch were published when it was
guarded) adds them as one file, moved in by one rename of a file named after the batch: atomic, and idempotent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from datetime import UTC, datetime

from guardrails._atomic import fsync_dir, write_bytes_atomic, write_text_atomic
from guardrails.quarantine._claim import DEFAULT_CLAIM_LEASE, Claim, ClaimVerdict, judge, this_process

SOURCE_PREFIX = "spark:"
"""A manifest ``source`` starting with this names the partition directory (``spark:file:///lake/tx/date=...``)."""
MARKER = "_guardrails_batch"
"""The file in a published partition naming the batch it holds (``_``: readers skip it)."""
STAGING_SUFFIX = ".staging"
OWNER = "_owner.json"
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:=+-]{0,199}")


class PartitionExistsError(RuntimeError):
    """The partition is already published by another batch; nothing was written over it.

    Attributes:
        partition_dir: the published directory. batch_id: the batch it holds (None when it has no marker).
    """

    def __init__(self, partition_dir: str, batch_id: str | None, wanted: str) -> None:
        self.partition_dir, self.batch_id, self.wanted = partition_dir, batch_id, wanted
        holder = f"batch {batch_id}" if batch_id else "data guardrails did not publish (no marker)"
        super().__init__(
            f"{partition_dir} already holds {holder}; batch {wanted} was not published over it "
            "(delete the partition first to replace it)"
        )


@dataclass(frozen=True, slots=True)
class SparkParquetTarget:
    """A Parquet dataset on a local (or HDFS-like) filesystem, one directory per partition.

    Example:
        >>> target = SparkParquetTarget("/lake/transactions")
        >>> target.partition_dir("date=2026-11-20"), target.staging_root
        ('/lake/transactions/date=2026-11-20', '/lake/.transactions.staging')

    Raises:
        ValueError: the path is empty or a URL of a filesystem without atomic rename.
    """

    root: str

    def __post_init__(self) -> None:
        root = os.fspath(self.root)
        if root.startswith("file://"):
            root = root[len("file://"):]
        if not root.strip() or "://" in root:
            raise ValueError(
                f"target: expected a local directory (a filesystem with atomic rename), got {self.root!r}; object "
                "stores have no atomic rename and need a table format (Delta, Iceberg), which guardrails does not write"
            )
        object.__setattr__(self, "root", os.path.abspath(root).rstrip("/") or "/")

    def partition_dir(self, partition: str) -> str:
        """The directory of `partition` (one path segment, e.g. ``date=2026-11-20``)."""
        return f"{self.root}/{checked_partition(partition)}"

    @property
    def staging_root(self) -> str:
        """Where batches are staged: a hidden sibling of the dataset, so on its filesystem, never read as data."""
        parent, name = os.path.split(self.root)
        return f"{parent}/.{name}{STAGING_SUFFIX}"

    def uri(self, partition: str) -> str:
        return Path(self.partition_dir(partition)).as_uri()


def checked_partition(partition: str) -> str:
    """`partition` if it is one safe path segment (``date=2026-11-20``), else ValueError saying what is allowed."""
    if not isinstance(partition, str) or not _SEGMENT.fullmatch(partition) or ".." in partition:
        raise ValueError(
            f"partition: expected one path segment of letters, digits and '_.:=+-' (e.g. 'date=2026-11-20'), "
            f"got {partition!r}"
        )
    return partition


def published_batch(partition_dir: str) -> str | None:
    """The batch a published partition holds, from its marker; None when there is no marker (or no partition)."""
    try:
        return json.loads(Path(partition_dir, MARKER).read_text())["batch_id"]
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(f"{partition_dir}/{MARKER} is not a guardrails marker: {exc}") from exc


class Staging:
    """One guard's staging directory: Spark writes into `path(name)`; `publish` renames one of them into place.

    Created with an owner file (pid and process start time), so that `sweep` removes the staging directories of
    writers that have ended (crashed) and never one that is still writing.
    """

    def __init__(self, target: SparkParquetTarget) -> None:
        self.target = target
        self.dir = f"{target.staging_root}/{uuid.uuid4().hex}"
        os.makedirs(self.dir)
        # The same identity a release claim records (pid and start time): `sweep` judges it the same way.
        owner = Claim.new("stage", "guardrails", this_process(), datetime.now(UTC), DEFAULT_CLAIM_LEASE)
        write_bytes_atomic(f"{self.dir}/{OWNER}", owner.to_json())

    def path(self, name: str) -> str:
        """A directory (not yet existing) inside this staging area for Spark to write."""
        return f"{self.dir}/{name}"

    def publish_partition(self, name: str, partition: str, batch_id: str) -> str:
        """Rename the staged directory `name` to the partition: atomic; idempotent for the same batch.

        Raises:
            PartitionExistsError: another batch (or data without a marker) holds the partition.
        """
        staged, final = self.path(name), self.target.partition_dir(partition)
        write_text_atomic(f"{staged}/{MARKER}", json.dumps({"batch_id": batch_id}))
        fsync_dir(staged)
        os.makedirs(self.target.root, exist_ok=True)
        try:
            os.rename(staged, final)  # atomic on POSIX and HDFS; fails if `final` exists and is not empty
        except OSError:
            if not os.path.isdir(final):
                raise
            holder = published_batch(final)
            if holder != batch_id:
                raise PartitionExistsError(final, holder, batch_id) from None
            return final  # a retry of the same batch: published already
        fsync_dir(self.target.root)
        return final

    def publish_file(self, name: str, partition: str, file_name: str) -> str:
        """Move the one Parquet file Spark wrote under `name` into the (existing or new) partition as `file_name`.

        One file appears by one rename (atomic); a retry finds it there and does nothing.
        """
        files = [f for f in os.listdir(self.path(name)) if f.endswith(".parquet") and not f.startswith((".", "_"))]
        if len(files) != 1:
            raise RuntimeError(f"expected one Parquet file staged in {self.path(name)}, found {len(files)}")
        final_dir = self.target.partition_dir(partition)
        os.makedirs(final_dir, exist_ok=True)
        final = f"{final_dir}/{file_name}"
        if not os.path.exists(final):
            os.rename(f"{self.path(name)}/{files[0]}", final)
            fsync_dir(final_dir)
        return final

    def discard(self) -> None:
        """Delete this staging directory (after a publish, or after a failure: nothing in it was visible)."""
        shutil.rmtree(self.dir, ignore_errors=True)


def sweep(target: SparkParquetTarget) -> list[str]:
    """Delete staging directories whose writer has ended (a crash before its publish); returns what was removed.

    Judged like a release claim: a writer on this machine that has ended, or one elsewhere whose lease (an hour)
    has expired; a staging directory of a process still running here is left alone.
    """
    removed: list[str] = []
    try:
        names = os.listdir(target.staging_root)
    except FileNotFoundError:
        return removed
    here, now = this_process(), datetime.now(UTC)
    for name in names:
        path = f"{target.staging_root}/{name}"
        try:
            owner = Claim.from_json(Path(path, OWNER).read_bytes(), lease=DEFAULT_CLAIM_LEASE)
        except (OSError, ValueError):
            continue  # not ours, or still being created: leave it
        if judge(owner, here, now).verdict is ClaimVerdict.STALE:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
