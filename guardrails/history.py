"""A check's history, free of any orchestrator: one `CheckHistoryEntry` per execution, whoever recorded it.

Each adapter reads its host's records into this one type, so `guardrails history` prints (and ``--json`` writes)
the same columns and keys whichever orchestrator ran the check, and the incident report reads both alike:

* Dagster (`guardrails.dagster.history`): asset check executions from the event log; the outcome is stored whole
  in the evaluation's metadata.
* Airflow (`guardrails.airflow.records`): the guarded task's asset events (a published batch; the outcome record is
  the event's extra) and its failed task instances (a quarantined batch; the outcome record is in XCom), read
  through the REST API; the full outcome comes from the quarantine manifest when the store holds it.

`merge_newest_first` merges several newest-first streams of entries (read page by page) into one, cut to a limit.

Example:
    >>> from datetime import UTC, datetime
    >>> day = lambda d: datetime(2026, 11, d, tzinfo=UTC)
    >>> entry = lambda d, p: CheckHistoryEntry(asset_key="tx", check_name="c", run_id=f"r{d}", status="SUCCEEDED",
    ...                                         run_status="success", timestamp=day(d), partition=p, passed=True)
    >>> published, quarantined = [entry(5, "a"), entry(3, "b")], [entry(4, "a"), entry(2, "a")]
    >>> [e.run_id for e in merge_newest_first([published, quarantined], limit=2, partition="a")]
    ['r5', 'r4']
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from guardrails.outcome import CheckOutcome

__all__ = ["FAILED", "PLANNED", "SUCCEEDED", "CheckHistoryEntry", "merge_newest_first"]

PLANNED, SUCCEEDED, FAILED = "PLANNED", "SUCCEEDED", "FAILED"
"""An execution's `status`, in Dagster's vocabulary (which every adapter uses): no verdict yet, or the check ran and
its data passed (``SUCCEEDED``) or failed (``FAILED``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckHistoryEntry:
    """One execution of a check on an asset: the host's facts (run, status, time) plus our outcome when we wrote it.

    `status` is ``PLANNED`` (no verdict recorded: the run died first, or is still going), ``SUCCEEDED`` or
    ``FAILED``; `run_status` is the host's word for the run (Dagster ``SUCCESS``/``FAILURE``, Airflow
    ``success``/``failed``), None when the run is gone. `batch_id` names the quarantined or published batch of a
    guarded asset; `quarantine_store` (absolute URI) and `contract_path` (absolute) say where the guarded run kept
    bad batches and which contract file judged it; `released_to` is set on the execution a release recorded (where
    it published the batch). `severity` is ``ERROR`` for a verdict that blocked publication, ``WARN`` otherwise.

    The rest is one host's bookkeeping, None for the other: `target_materialization_run_id` (the run whose stored
    batch a Dagster check judged), `execution_id` and `target_storage_id` (Dagster's row ids; Airflow's asset event
    id is `execution_id` for a published batch). `metadata` is what the host recorded with the execution (Dagster
    metadata values, or the Airflow outcome record), for readers that need more than these fields.
    """

    asset_key: str
    check_name: str
    run_id: str
    status: str
    run_status: str | None
    timestamp: datetime
    partition: str | None = None
    passed: bool | None = None
    severity: str | None = None
    description: str | None = None
    batch_id: str | None = None
    target_materialization_run_id: str | None = None
    outcome: CheckOutcome | None = None
    quarantine_store: str | None = None
    contract_path: str | None = None
    released_to: str | None = None
    execution_id: int | None = None
    target_storage_id: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (the CLI's ``--json``): the same keys whichever host recorded the execution."""
        return {
            "asset_key": self.asset_key,
            "check_name": self.check_name,
            "run_id": self.run_id,
            "status": self.status,
            "run_status": self.run_status,
            "timestamp": self.timestamp.isoformat(),
            "partition": self.partition,
            "passed": self.passed,
            "severity": self.severity,
            "description": self.description,
            "batch_id": self.batch_id,
            "target_materialization_run_id": self.target_materialization_run_id,
            "outcome": self.outcome.to_dict() if self.outcome is not None else None,
            "released_to": self.released_to,
            "quarantine_store": self.quarantine_store,
            "contract_path": self.contract_path,
        }


def merge_newest_first(
    streams: Iterable[Iterable[CheckHistoryEntry]], *, limit: int, partition: str | None = None
) -> list[CheckHistoryEntry]:
    """The newest `limit` entries of several streams that are each newest first, of one `partition` when given.

    Streams are consumed lazily, so a stream that reads its host page by page reads only the pages it needs.
    """
    merged = heapq.merge(*streams, key=lambda e: e.timestamp, reverse=True)
    wanted = (e for e in merged if partition is None or e.partition == partition)
    return list(islice(wanted, limit))
