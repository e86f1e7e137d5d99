"""Which materializations of an asset *passed*: the fact freshness and the reference profile both rest on.

Dagster's own notion of "latest materialization" ignores quality. Here a materialization passes when no check
evaluated against it (its latest evaluation per check) failed at ERROR severity; warnings do not count, and
neither does the freshness check itself (it judges time, not the batch). A quarantined batch is never a
materialization at all (`guarded_asset` yields none), and a stored batch whose blocking contract check failed
(`build_contract_checks`) is a failed one: neither makes an asset fresh or enters a reference profile.

An evaluation is tied to a materialization by its target materialization's run (or its own run, when Dagster
recorded no target), and by partition when both name one; runless evaluations (no run) are tied to nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

from guardrails.dagster.history import read_check_history

HISTORY_LIMIT = 200
"""How many recent check executions are read to judge the latest materializations (per check)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MaterializationVerdict:
    """One materialization and the checks that failed against it at ERROR severity (empty: it passed)."""

    asset_key: dg.AssetKey
    run_id: str
    storage_id: int
    timestamp: datetime
    partition: str | None
    failed_checks: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failed_checks


def materialization_verdicts(
    instance: dg.DagsterInstance,
    asset_key: dg.AssetKey,
    *,
    partition: str | None = None,
    limit: int = 20,
    ignore_checks: Iterable[str] = (),
) -> list[MaterializationVerdict]:
    """The latest `limit` materializations of `asset_key` (of one `partition`, if given), newest first, judged."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition] if partition is not None else None),
        limit=limit,
    ).records
    if not records:
        return []
    ignored = set(ignore_checks)
    latest: dict[tuple[str, str, str | None], bool] = {}
    for entry in read_check_history(instance, asset_key, limit=HISTORY_LIMIT):  # newest first
        run = entry.target_materialization_run_id or entry.run_id
        if entry.check_name in ignored or not run or entry.passed is None:
            continue  # runless, planned-only, or not about the batch
        failed = entry.passed is False and entry.severity == dg.AssetCheckSeverity.ERROR.value
        latest.setdefault((entry.check_name, run, entry.partition), failed)

    def failures(run_id: str, partition_key: str | None) -> tuple[str, ...]:
        return tuple(sorted({
            name for (name, run, part), failed in latest.items()
            if failed and run == run_id and (part is None or partition_key is None or part == partition_key)
        }))

    return [
        MaterializationVerdict(
            asset_key=asset_key,
            run_id=record.run_id,
            storage_id=record.storage_id,
            timestamp=datetime.fromtimestamp(record.timestamp, tz=UTC),
            partition=record.partition_key,
            failed_checks=failures(record.run_id, record.partition_key) if record.run_id else (),
        )
        for record in records
    ]


def last_passing_materialization(
    instance: dg.DagsterInstance,
    asset_key: dg.AssetKey,
    *,
    partition: str | None = None,
    ignore_checks: Iterable[str] = (),
    limit: int = 20,
) -> MaterializationVerdict | None:
    """The newest materialization that passed its checks (among the latest `limit`), or None."""
    verdicts = materialization_verdicts(instance, asset_key, partition=partition, limit=limit,
                                        ignore_checks=ignore_checks)
    return next((v for v in verdicts if v.passed), None)
