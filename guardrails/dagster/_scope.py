"""Where one audit happens: which asset, which partition, which run, judged as of when, under which batch id.

Kept apart from the asset factory because guarded assets and contract checks share it, and because the
as-of rule is a decision worth one place: a time-window partition is judged at its window's end, so a backfill
of last March is held to last March's clock (``notInFuture``/``maxAge``), not today's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import dagster as dg

from guardrails._text import fit_with_hash
from guardrails.quarantine import MAX_BATCH_ID

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SOURCE = re.compile(r"dagster:(?P<asset>[^\[\]]+)(?:\[(?P<partition>.+)\])?")


def asset_partition_of_source(source: str) -> tuple[str, str | None] | None:
    """The asset and partition a manifest's source names (the inverse of `AuditScope.source`); None for a batch
    no guarded asset quarantined.

    Example:
        >>> asset_partition_of_source("dagster:raw/tx[2026-11-20]"), asset_partition_of_source("cli:tx.parquet")
        (('raw/tx', '2026-11-20'), None)
    """
    match = _SOURCE.fullmatch(source)
    return (match["asset"], match["partition"]) if match else None


@dataclass(frozen=True, slots=True)
class AuditScope:
    """The identity of one audited batch inside a Dagster step."""

    asset_key: dg.AssetKey
    run_id: str
    partition_key: str | None
    as_of: datetime | None
    is_range: bool = False

    @property
    def batch_id(self) -> str:
        """``<asset path>[.<partition>]``: the quarantine id asked for.

        No run id on purpose: a retried or re-executed run that quarantines the same bytes lands on the same
        batch (the store is idempotent by content), while different bad data for the same asset/partition gets
        ``<id>~2``, ``~3``... from the store. The run id is in the manifest and the metadata.

        Example:
            >>> AuditScope(dg.AssetKey(["raw", "tx"]), "0f3c9a77-1111", "2026-11-20", None).batch_id
            'raw.tx.2026-11-20'
        """
        parts = [*self.asset_key.path]
        if self.partition_key is not None:
            parts.append(self.partition_key)
        readable = ".".join(_UNSAFE.sub("_", part).strip("_.") or "_" for part in parts)
        return fit_with_hash(readable, MAX_BATCH_ID)  # too long for a file name: a prefix and a hash of the whole

    @property
    def single_partition_key(self) -> str | None:
        """The partition key when the step covers exactly one partition (not a ``start..end`` range)."""
        return self.partition_key if self.partition_key is not None and not self.is_range else None

    @property
    def source(self) -> str:
        """What the quarantine manifest records as the batch's origin, e.g. ``dagster:raw/tx[2026-11-20]``."""
        partition = f"[{self.partition_key}]" if self.partition_key is not None else ""
        return f"dagster:{self.asset_key.to_user_string()}{partition}"

    @classmethod
    def from_context(cls, context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext, asset_key: dg.AssetKey,
                     partitions_def: dg.PartitionsDefinition | None) -> AuditScope:
        """The scope of the running step; a partition key range (single-run backfill) is one ``start..end`` batch."""
        op_context = context.op_execution_context
        partition_key: str | None = None
        is_range = False
        as_of: datetime | None = None
        if op_context.has_partition_key:
            partition_key = op_context.partition_key
        elif op_context.has_partition_key_range:
            key_range = op_context.partition_key_range
            is_range = key_range.start != key_range.end
            partition_key = f"{key_range.start}..{key_range.end}" if is_range else key_range.start
        if partition_key is not None and _has_time_window(partitions_def):
            as_of = op_context.partition_time_window.end
        return cls(asset_key=asset_key, run_id=op_context.run_id, partition_key=partition_key, as_of=as_of,
                   is_range=is_range)


def _has_time_window(partitions_def: dg.PartitionsDefinition | None) -> bool:
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return True
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        dims = [d for d in partitions_def.partitions_defs if isinstance(d.partitions_def, dg.TimeWindowPartitionsDefinition)]
        return len(dims) == 1
    return False
