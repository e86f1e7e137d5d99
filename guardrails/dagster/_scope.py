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

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class AuditScope:
    """The identity of one audited batch inside a Dagster step."""

    asset_key: dg.AssetKey
    run_id: str
    partition_key: str | None
    as_of: datetime | None

    @property
    def batch_id(self) -> str:
        """``<asset path>[.<partition>].<run id prefix>``: unique per asset, partition and run; stable on step retry.

        Example:
            >>> AuditScope(dg.AssetKey(["raw", "tx"]), "0f3c9a77-1111", "2026-11-20", None).batch_id
            'raw.tx.2026-11-20.0f3c9a77'
        """
        parts = [*self.asset_key.path]
        if self.partition_key is not None:
            parts.append(self.partition_key)
        parts.append(self.run_id.split("-")[0])
        return ".".join(_UNSAFE.sub("_", part).strip("_") or "_" for part in parts)

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
        as_of: datetime | None = None
        if op_context.has_partition_key:
            partition_key = op_context.partition_key
        elif op_context.has_partition_key_range:
            key_range = op_context.partition_key_range
            partition_key = key_range.start if key_range.start == key_range.end else f"{key_range.start}..{key_range.end}"
        if partition_key is not None and _has_time_window(partitions_def):
            as_of = op_context.partition_time_window.end
        return cls(asset_key=asset_key, run_id=op_context.run_id, partition_key=partition_key, as_of=as_of)


def _has_time_window(partitions_def: dg.PartitionsDefinition | None) -> bool:
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return True
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        dims = [d for d in partitions_def.partitions_defs if isinstance(d.partitions_def, dg.TimeWindowPartitionsDefinition)]
        return len(dims) == 1
    return False
