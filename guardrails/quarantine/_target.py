"""A publish target: the Parquet file a guarded batch belongs at, named by a URI pattern with its partition.

Hosts without an IO manager (Airflow: XCom cannot hold a frame) name where a good batch goes. The guard publishes
there, and the quarantine manifest records the same place as the batch's ``source`` (``target:<uri>``), so
``guardrails quarantine release`` publishes a released batch to the place it belonged, exactly once, and the
store's publish record (keyed by source) refuses to release an old batch over a newer one published since.

A pattern ending in ``.parquet`` names the file; any other pattern names a directory that receives
``data.parquet``. The only placeholder is ``{partition}``.

Example:
    >>> target = ParquetTarget("/lake/transactions/date={partition}")
    >>> target.uri("2026-11-03")
    'file:///lake/transactions/date=2026-11-03/data.parquet'
    >>> target_of(target.source("2026-11-03"))
    'file:///lake/transactions/date=2026-11-03/data.parquet'
"""

from __future__ import annotations

import os
import string
from dataclasses import dataclass

import fsspec
import pyarrow as pa

from guardrails.quarantine._batch import encode_table
from guardrails.quarantine._files import Files

TARGET_SOURCE_PREFIX = "target:"
"""A manifest ``source`` starting with this names the Parquet file the batch is published to."""
DIRECTORY_FILE = "data.parquet"
PLACEHOLDER = "partition"


@dataclass(frozen=True, slots=True)
class ParquetTarget:
    """A Parquet file (or directory) URI pattern; a local path is made absolute when the target is built.

    Raises:
        ValueError: the pattern is empty, malformed, or has a placeholder other than ``{partition}``.
    """

    pattern: str

    def __post_init__(self) -> None:
        if not self.pattern.strip():
            raise ValueError("target: expected a Parquet file or directory URI pattern, got an empty string")
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(self.pattern) if name is not None}
        except ValueError as exc:
            raise ValueError(f"target {self.pattern!r}: not a valid pattern ({exc}); use {{partition}}") from exc
        unknown = sorted(fields - {PLACEHOLDER})
        if unknown:
            raise ValueError(
                f"target {self.pattern!r}: unknown placeholder(s) {', '.join(unknown)}; the only one is {{partition}}"
            )
        if "://" not in self.pattern:
            object.__setattr__(self, "pattern", "file://" + os.path.abspath(self.pattern))

    def uri(self, partition: str | None) -> str:
        """The file for `partition` (a partition with ``/`` or ``..`` in it never escapes the pattern's directory)."""
        safe = (partition or "").replace("/", "_").replace("..", "_")
        rendered = self.pattern.format(partition=safe)
        return rendered if rendered.endswith(".parquet") else f"{rendered.rstrip('/')}/{DIRECTORY_FILE}"

    def source(self, partition: str | None) -> str:
        """What the manifest records as where the batch belongs: ``target:<uri>``."""
        return TARGET_SOURCE_PREFIX + self.uri(partition)


def target_of(source: str | None) -> str | None:
    """The Parquet URI a manifest's ``source`` names as its target, or None when it names none."""
    if source and source.startswith(TARGET_SOURCE_PREFIX):
        return source[len(TARGET_SOURCE_PREFIX):]
    return None


def publish_parquet(data: pa.Table | bytes, uri: str) -> str:
    """Write a table (or Parquet bytes as they are) to `uri` whole or not at all; returns `uri`.

    Readers see the previous file or the new one, never a part (write-then-rename, `Files.write_atomic`).
    """
    fs, path = fsspec.core.url_to_fs(uri)
    payload = data if isinstance(data, bytes) else encode_table(data)[0]
    parent = path.rsplit("/", 1)[0]
    if parent:
        fs.makedirs(parent, exist_ok=True)
    Files(fs).write_atomic(path, payload)
    return uri
