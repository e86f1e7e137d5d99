"""Where one audit happens inside an Airflow task: which partition, which run, judged as of when, under which id.

Three kinds of run, first match wins:

* **A run with a partition key** (Airflow 3.2+ partitioned assets: a DAG scheduled by ``CronPartitionTimetable``,
  a ``PartitionedAssetTimetable`` consumer, or a run triggered with ``partition_key``): the partition is the run's
  key as Airflow gives it (``context["partition_key"]``), so the batch id, the target path, the outcome record,
  the quarantine manifest and the asset event (whose ``partition_key`` Airflow copies from the run) all name the
  same partition, and a partitioned DAG downstream is queued for it. Such runs usually have no data interval: the
  batch is judged as of the run's start (Airflow does not hand the task the partition's end).
* **A run with a data interval**: a daily interval starting at midnight UTC is ``YYYY-MM-DD``, any other
  interval ``<start>--<end>`` in compact UTC ISO form, and the batch is judged as of the interval's end (a backfill
  of last March is held to last March's clock). Under a trigger timetable (Airflow 3's default for a cron
  ``schedule``) the interval is a single instant: the partition is the logical date (``YYYY-MM-DD`` at midnight)
  and the batch is judged as of the run's start.
* **A run with no logical date** (manual runs in Airflow 3 may have none, and so no data interval): the run is its
  own partition, named by its run id, and is judged as of the run's start time.

A partitioned DAG run without a key (``dag.test()``, which cannot pass one, or a manual trigger that gave none)
falls through to the data interval or the run id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from guardrails._text import fit_with_hash
from guardrails.quarantine import MAX_BATCH_ID

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class TaskScope:
    """The identity of one audited batch inside an Airflow task instance."""

    dag_id: str
    task_id: str
    run_id: str
    partition: str
    as_of: datetime | None

    def batch_id(self, name: str) -> str:
        """``<name>.<partition>``: the quarantine id asked for (no run id: a retry lands on the same batch).

        Example:
            >>> TaskScope("fraud", "clean", "scheduled__2026-11-03", "2026-11-03", None).batch_id("transactions")
            'transactions.2026-11-03'
        """
        readable = ".".join(_UNSAFE.sub("_", part).strip("_.") or "_" for part in (name, self.partition))
        return fit_with_hash(readable, MAX_BATCH_ID)

    @property
    def source(self) -> str:
        """The batch's origin when it has no Parquet target: ``airflow:<dag>.<task>[<partition>]``."""
        return f"airflow:{self.dag_id}.{self.task_id}[{self.partition}]"

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> TaskScope:
        """The scope of the running task instance (see the module docstring for the partition rule)."""
        dag_run = context.get("dag_run")
        run_id = str(context.get("run_id") or getattr(dag_run, "run_id", "") or "")
        ti = context["ti"]
        partition_key = context.get("partition_key") or getattr(dag_run, "partition_key", None)
        logical = _utc(context.get("logical_date"))
        start, end = _utc(context.get("data_interval_start")), _utc(context.get("data_interval_end"))
        started = _utc(getattr(dag_run, "start_date", None)) or datetime.now(UTC)
        window = (start, end) if logical is not None and start is not None and end is not None and end > start else None
        if partition_key:
            partition, as_of = str(partition_key), window[1] if window else started
        elif window:
            partition, as_of = interval_partition(*window), window[1]
        elif logical is not None:  # a trigger timetable (Airflow 3's cron default): the interval is one instant
            partition, as_of = instant_partition(logical), started
        else:
            partition, as_of = run_id, started
        return cls(dag_id=ti.dag_id, task_id=ti.task_id, run_id=run_id, partition=partition, as_of=as_of)


def _utc(value: datetime | None) -> datetime | None:
    """A plain UTC `datetime` (Airflow hands out pendulum's, which the engines do not all accept)."""
    if value is None:
        return None
    return datetime.fromtimestamp(value.timestamp(), UTC)


def instant_partition(at: datetime) -> str:
    """A logical date as a partition key: ``YYYY-MM-DD`` at midnight UTC, else compact UTC ISO.

    Example:
        >>> instant_partition(datetime(2026, 11, 3, tzinfo=UTC))
        '2026-11-03'
        >>> instant_partition(datetime(2026, 11, 3, 6, tzinfo=UTC))
        '20261103T060000'
    """
    at = at.astimezone(UTC)
    midnight = at == at.replace(hour=0, minute=0, second=0, microsecond=0)
    return at.date().isoformat() if midnight else f"{at:%Y%m%dT%H%M%S}"


def interval_partition(start: datetime, end: datetime) -> str:
    """A data interval as a partition key.

    Example:
        >>> interval_partition(datetime(2026, 11, 3, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC))
        '2026-11-03'
        >>> interval_partition(datetime(2026, 11, 3, 6, tzinfo=UTC), datetime(2026, 11, 3, 7, tzinfo=UTC))
        '20261103T060000--20261103T070000'
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    midnight = start == start.replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight and end - start == timedelta(days=1):
        return start.date().isoformat()
    return f"{start:%Y%m%dT%H%M%S}--{end:%Y%m%dT%H%M%S}"
