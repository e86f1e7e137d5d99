"""Read a check's history back from a `DagsterInstance` as our `CheckOutcome`s (core `CheckHistoryEntry`s).

It reads Dagster's non-public check history through `guardrails.dagster._compat` (which names the Dagster
versions supported), on any SQL event-log storage (SQLite, PostgreSQL). Each evaluation written by
guardrails carries the whole outcome as JSON under ``guardrails/outcome``, so the outcome comes back exactly
as the check produced it; evaluations written by other checks still appear, with `outcome` None.

Example:
    >>> import dagster as dg
    >>> with dg.instance_for_test() as instance:
    ...     read_check_history(instance, "raw/transactions")
    []
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

from guardrails.dagster import metadata as md
from guardrails.dagster._compat import CheckExecutionRecord, check_execution_history, checks_with_executions
from guardrails.history import CheckHistoryEntry


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedStore:
    """A quarantine store that guarded runs on an instance wrote to, as their latest evaluations recorded it.

    `checks` names the checks (``asset / check``) whose latest recording names this store; `recorded_at` is the
    newest of those evaluations.
    """

    uri: str
    checks: tuple[str, ...]
    recorded_at: datetime


def check_names(instance: dg.DagsterInstance, asset: dg.AssetKey | str) -> list[str]:
    """Names of the checks that have executions recorded for `asset` (sorted)."""
    return sorted(key.name for key in checks_with_executions(instance, _key(asset)))


def recorded_quarantine_stores(instance: dg.DagsterInstance, *, recent: int = 10) -> tuple[RecordedStore, ...]:
    """The quarantine stores the instance's guarded checks recorded, the most recently recorded first.

    Cheap by design (the CLI calls it on every command): one query lists the checks with executions, then each
    check's latest `recent` completed evaluations are read, newest first, and the first that names a store
    (``guardrails/quarantine_store``) counts. Evaluations that name none (a release, another kind of check)
    are passed over, so a check's latest run decides even when a release was recorded after it.
    """
    found: dict[str, list[tuple[datetime, str]]] = {}
    for check_key in checks_with_executions(instance):
        for record in check_execution_history(instance, check_key, limit=recent, completed_only=True):
            evaluation = record.evaluation if isinstance(record.evaluation, dg.AssetCheckEvaluation) else None
            value = evaluation.metadata.get(md.QUARANTINE_STORE_KEY) if evaluation is not None else None
            if value is not None:
                moment = datetime.fromtimestamp(record.create_timestamp, tz=UTC)
                name = f"{check_key.asset_key.to_user_string()} / {check_key.name}"
                found.setdefault(str(value.value), []).append((moment, name))
                break
    stores = [
        RecordedStore(uri=uri, checks=tuple(sorted(name for _, name in seen)), recorded_at=max(m for m, _ in seen))
        for uri, seen in found.items()
    ]
    return tuple(sorted(stores, key=lambda s: (s.recorded_at, s.uri), reverse=True))


def read_check_history(
    instance: dg.DagsterInstance,
    asset: dg.AssetKey | str,
    check_name: str | None = None,
    *,
    limit: int = 20,
    partition: str | None = None,
) -> list[CheckHistoryEntry]:
    """The latest `limit` executions of one check (or of every check on `asset`), newest first.

    Args:
        instance: the Dagster instance (``DagsterInstance.get()`` reads ``$DAGSTER_HOME``).
        asset: an `AssetKey` or a user string (``raw/transactions``).
        check_name: one check; None reads every check recorded for the asset.
        limit: at most this many entries (per check, then the merged list is cut to `limit`).
        partition: only executions of this partition (Dagster records the partition only for partitioned
            check specs; guarded assets also name it in their metadata, which this filter reads too).
    """
    key = _key(asset)
    names = [check_name] if check_name else check_names(instance, key)
    records: list[CheckExecutionRecord] = []
    for name in names:
        records.extend(check_execution_history(
            instance, dg.AssetCheckKey(key, name), limit=limit if partition is None else max(limit * 10, 100)
        ))
    run_statuses = _run_statuses(instance, {r.run_id for r in records})
    entries = [_entry(record, run_statuses.get(record.run_id)) for record in records]
    if partition is not None:
        entries = [e for e in entries if e.partition == partition]
    entries.sort(key=lambda e: e.timestamp, reverse=True)
    return entries[:limit]


def read_check_history_after(
    instance: dg.DagsterInstance,
    check: dg.AssetCheckKey,
    *,
    after_id: int,
    page: int = 100,
) -> list[CheckHistoryEntry]:
    """Every execution of `check` whose row id is above `after_id`, oldest first, planned ones included.

    A sensor that must act on every evaluation (not only the latest) keeps the highest id it handled and reads
    what came after it here; it pages back from the newest row, `page` rows a query.
    """
    records: list[CheckExecutionRecord] = []
    before: int | None = None
    while True:
        batch = check_execution_history(instance, check, limit=page, before_id=before)
        fresh = [r for r in batch if r.id > after_id]
        records.extend(fresh)
        if len(fresh) < len(batch) or len(batch) < page:
            break
        before = batch[-1].id
    run_statuses = _run_statuses(instance, {r.run_id for r in records if r.run_id})
    return [_entry(record, run_statuses.get(record.run_id)) for record in sorted(records, key=lambda r: r.id)]


def _entry(record: CheckExecutionRecord, run_status: str | None) -> CheckHistoryEntry:
    # A PLANNED record carries an AssetCheckEvaluationPlanned (no verdict, no metadata): no evaluation yet.
    evaluation = record.evaluation if isinstance(record.evaluation, dg.AssetCheckEvaluation) else None
    metadata = dict(evaluation.metadata) if evaluation is not None else {}
    outcome = md.outcome_from_metadata(metadata)
    batch = metadata.get(md.BATCH_ID_KEY)
    partition = record.partition or (evaluation.partition if evaluation is not None else None)
    if partition is None and md.PARTITION_KEY in metadata:
        partition = metadata[md.PARTITION_KEY].value
    target = evaluation.target_materialization_data if evaluation is not None else None
    store = metadata.get(md.QUARANTINE_STORE_KEY)
    contract_path = metadata.get(md.CONTRACT_PATH_KEY)
    released_to = metadata.get(md.RELEASED_TO_KEY)
    return CheckHistoryEntry(
        asset_key=record.key.asset_key.to_user_string(),
        check_name=record.key.name,
        run_id=record.run_id,
        status=record.status.value,
        run_status=run_status,
        timestamp=datetime.fromtimestamp(record.create_timestamp, tz=UTC),
        partition=partition,
        passed=evaluation.passed if evaluation is not None else None,
        severity=evaluation.severity.value if evaluation is not None else None,
        description=evaluation.description if evaluation is not None else None,
        batch_id=batch.value if batch is not None else None,
        target_materialization_run_id=target.run_id if target is not None else None,
        outcome=outcome,
        quarantine_store=store.value if store is not None else None,
        contract_path=contract_path.value if contract_path is not None else None,
        released_to=released_to.value if released_to is not None else None,
        execution_id=record.id,
        target_storage_id=target.storage_id if target is not None else None,
        metadata={key: getattr(value, "value", value) for key, value in metadata.items()},
    )


def _run_statuses(instance: dg.DagsterInstance, run_ids: set[str]) -> dict[str, str]:
    if not run_ids:
        return {}
    records = instance.get_run_records(dg.RunsFilter(run_ids=sorted(run_ids)))
    return {r.dagster_run.run_id: r.dagster_run.status.value for r in records}


def _key(asset: dg.AssetKey | str | Sequence[str]) -> dg.AssetKey:
    if isinstance(asset, dg.AssetKey):
        return asset
    if isinstance(asset, str):
        return dg.AssetKey.from_user_string(asset)
    return dg.AssetKey(list(asset))
