"""One guarded run inside a task: `guard_batch` judges the batch, this module translates the verdict to Airflow.

Shared by `GuardedOperator` and ``@task.guarded`` (the decorator is the operator with a TaskFlow front), so the
two cannot drift. Nothing here decides what passes: that is `guardrails.quarantine.guard_batch`.

* Something may be published (the batch passed, only warnings failed, or the ``rows`` policy split it): it is
  written to the target first, then the outcome record becomes the extra of the task's asset event and the
  task's return value (XCom ``return_value``).
* Nothing may be published: the batch is in the quarantine store, the outcome record is pushed to XCom under
  ``guardrails_outcome``, and the task fails with `AirflowFailException` (no retry: the same batch would be
  judged the same way), so downstream tasks are ``upstream_failed``, the DAG run fails and alerting fires.
  No asset event is emitted: the target was not written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import pyarrow as pa
from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.airflow._rest import OUTCOME_XCOM_KEY
from guardrails.airflow._scope import TaskScope
from guardrails.airflow.models import ModelWatch, guard_models
from guardrails.contract.model import Contract
from guardrails.outcome import UNRUN_POLICY_KEY, CheckOutcome
from guardrails.quarantine import (
    GuardedBatch,
    GuardedTable,
    ParquetTarget,
    QuarantineError,
    QuarantineStore,
    StagedTable,
    TableTarget,
    guard_batch,
    guard_table,
    publish_parquet,
)
from guardrails.quarantine._layout import DEFAULT_LOCATION

QUARANTINE_ENV = "GUARDRAILS_QUARANTINE"

Publish = Callable[[pa.Table, str], "str | None"]
"""A publish callable: ``publish(table, partition)`` writes the batch whole or not at all; returns where to."""


class BatchQuarantined(AirflowFailException):
    """Nothing was published: the batch is quarantined. `record` is its outcome record (also in XCom).

    An `AirflowFailException`, so the task fails without retrying and failure callbacks (`QuarantineNotifier`)
    get it as ``context["exception"]``.
    """

    def __init__(self, record: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.record = record


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardSpec:
    """What a guarded task audits against and where the outcome goes, fixed when the DAG file is parsed.

    Attributes:
        contract: the loaded contract.
        target: a `ParquetTarget`, a `TableTarget` (the task stages a table; audited and published in the
            database), or a publish callable ``(table, partition) -> where``.
        asset: the asset whose events carry the outcome (a task outlet).
        quarantine: the store's location; None reads ``$GUARDRAILS_QUARANTINE`` at run time, else
            ``.guardrails/quarantine``.
        allow_unrun: judge rules guardrails cannot run (a custom rule of an engine it does not have) as warnings
            instead of failing closed; the outcome records the policy (``unrun_policy``).
        models: the models the batch feeds (`guardrails.airflow.models`): a quarantine holds their promotion,
            a pass releases the hold of its partition.
    """

    contract: Contract
    target: ParquetTarget | TableTarget | Publish
    asset: Asset
    quarantine: str | None = None
    allow_unrun: bool = False
    models: ModelWatch | None = None

    def store(self) -> QuarantineStore:
        return QuarantineStore(self.quarantine or os.environ.get(QUARANTINE_ENV) or DEFAULT_LOCATION)


def guard_and_publish(batch: Any, spec: GuardSpec, context: Mapping[str, Any]) -> dict[str, Any]:
    """Audit `batch`, publish what may be published, and return the outcome record (see the module docstring).

    Raises:
        AirflowFailException: nothing was published; the batch is quarantined (its record is in XCom).
        AirflowException: the quarantine store or the target could not be written (retries apply; nothing was
            published, or the publish is retried whole).
    """
    if batch is None:
        raise AirflowFailException(f"{spec.contract.table}: the task returned no batch (None); nothing to audit")
    scope = TaskScope.from_context(context)
    store = spec.store()
    if isinstance(spec.target, TableTarget):
        return _guard_table(batch, spec, spec.target, scope, store, context)
    target = spec.target if isinstance(spec.target, ParquetTarget) else None
    try:
        guarded = guard_batch(
            batch, spec.contract, store, batch_id=scope.batch_id(spec.contract.table or spec.contract.id),
            source=target.source(scope.partition) if target is not None else scope.source,
            run_id=scope.run_id, as_of=scope.as_of, allow_unrun=spec.allow_unrun,
        )
    except QuarantineError as exc:  # the store cannot be written: fail closed, nothing published
        raise AirflowException(f"nothing published, the quarantine store {store.uri} failed: {exc}") from exc
    record = _task_record(guarded, spec, scope, store)
    if guarded.published is None:
        _quarantined(record, guarded, spec, scope, context, kept_in=store.uri)
    if target is not None:
        where: str | None = publish_parquet(guarded.published, target.uri(scope.partition))
    else:
        where = spec.target(guarded.published, scope.partition)  # type: ignore[operator]
    record["target"] = where if isinstance(where, str) else None
    return _announce(record, guarded.outcome, spec, scope, context)


def _guard_table(
    batch: Any, spec: GuardSpec, target: TableTarget, scope: TaskScope, store: QuarantineStore,
    context: Mapping[str, Any],
) -> dict[str, Any]:
    """The task staged its batch as a table: audit and publish it in the database (`guard_table`), then report as
    for a frame. Without the target's partition column the run replaces the whole target table."""
    if not isinstance(batch, StagedTable | str) or not batch:
        raise AirflowFailException(
            f"{spec.contract.table}: a task guarding into a table returns the staging table's name or a StagedTable, "
            f"got {type(batch).__name__}"
        )
    staged = batch if isinstance(batch, StagedTable) else target.staged(batch)
    partition = scope.partition if target.partition_column is not None else None
    try:
        guarded = guard_table(
            spec.contract, staged, store=store, partition=partition,
            batch_id=scope.batch_id(spec.contract.table or spec.contract.id), source=target.source(partition),
            run_id=scope.run_id, as_of=scope.as_of, allow_unrun=spec.allow_unrun,
        )
    except QuarantineError as exc:  # the store or the transaction failed: nothing published, a retry may succeed
        raise AirflowException(f"nothing published to {target.redacted}: {exc}") from exc
    record = _task_record(guarded, spec, scope, store)
    if guarded.published is None:
        _quarantined(record, guarded, spec, scope, context,
                     kept_in=f"{guarded.quarantine_table} (manifest in {store.uri})")
    record["target"] = guarded.published
    record["quarantine_table"] = guarded.quarantine_table
    return _announce(record, guarded.outcome, spec, scope, context)


def _task_record(
    guarded: GuardedBatch | GuardedTable, spec: GuardSpec, scope: TaskScope, store: QuarantineStore
) -> dict[str, Any]:
    """The outcome record, plus who guarded it and for which asset: what a release needs to find the asset over
    REST (`_release_event`)."""
    record = outcome_record(guarded, spec.contract, scope, store)
    record.update(dag_id=scope.dag_id, task_id=scope.task_id, asset_uri=spec.asset.uri, asset=spec.asset.name)
    return record


def _quarantined(
    record: dict[str, Any], guarded: GuardedBatch | GuardedTable, spec: GuardSpec, scope: TaskScope,
    context: Mapping[str, Any], *, kept_in: str,
) -> NoReturn:
    """Nothing was published: hold the models the batch feeds (before the task fails, so none is promoted while
    this partition stays quarantined), push the record to XCom and fail the task."""
    unheld = guard_models(spec.models, record, guarded.outcome, scope)
    context["ti"].xcom_push(key=OUTCOME_XCOM_KEY, value=record)
    why = guarded.manifest.reason if guarded.manifest is not None else guarded.outcome.message
    models = f"; model guard: promotion NOT held: {'; '.join(unheld)}" if unheld else ""
    raise BatchQuarantined(
        record,
        f"{spec.contract.table} [{scope.partition}]: nothing published; batch {guarded.batch_id} quarantined in "
        f"{kept_in}: {cap_text(why, MESSAGE_CHARS)}{models}",
    )


def _announce(
    record: dict[str, Any], outcome: CheckOutcome, spec: GuardSpec, scope: TaskScope, context: Mapping[str, Any]
) -> dict[str, Any]:
    """After a publish: the models the batch feeds are told (a pass may release their hold), then the asset event
    carries the record. A model guard that could not act fails the task: the data is out, the hold may be stale."""
    if unreleased := guard_models(spec.models, record, outcome, scope):
        raise AirflowException(f"{spec.contract.table} [{scope.partition}]: published, but the model guard could not "
                               f"act: {'; '.join(unreleased)}")
    context["outlet_events"][spec.asset].extra.update(record)
    return record


def outcome_record(
    guarded: GuardedBatch | GuardedTable, contract: Contract, scope: TaskScope, store: QuarantineStore
) -> dict[str, Any]:
    """The outcome as JSON an asset event's extra and XCom can hold: status, per-rule verdicts, ids, counts.

    ``rules`` maps each rule id to its ``status``, ``severity``, ``failing_rows``, ``observed`` value and whether it
    ``ran``; ``unrun_policy`` says how rules that could not run were judged (as Dagster's metadata and the CLI do).

    Error text is cut at 4 KiB; the manifest in the store keeps everything.
    """
    outcome = guarded.outcome
    rows_published = guarded.rows_published
    manifest = guarded.manifest
    rows_quarantined = 0
    if manifest is not None:
        rows_quarantined = manifest.rows_quarantined if manifest.rows_quarantined is not None else max(
            (outcome.rows or 0) - rows_published, 0)
    record: dict[str, Any] = {
        "status": outcome.status.value,
        "passed": outcome.passed,
        "batch_id": guarded.batch_id,
        "partition": scope.partition,
        "run_id": scope.run_id,
        "as_of": scope.as_of.isoformat() if scope.as_of is not None else None,
        "contract_id": contract.id,
        "contract_version": outcome.contract_version or contract.version,
        "rules": {rule.rule_id: {"status": rule.status.value, "severity": rule.severity.value,
                                 "failing_rows": rule.failing_rows, "observed": rule.observed, "ran": rule.ran}
                  for rule in outcome.rules},
        "unrun_policy": outcome.metrics.get(UNRUN_POLICY_KEY),
        "failed_rules": [rule.rule_id for rule in outcome.failed_rules],
        "rows_in": outcome.rows,
        "rows_published": rows_published,
        "rows_quarantined": rows_quarantined,
        "quarantine_store": store.uri,
        "quarantined": manifest is not None,
        "published": guarded.published is not None,
    }
    if outcome.error:
        record["error"] = cap_text(outcome.error, MESSAGE_CHARS)
    if manifest is not None:
        record["reason"] = cap_text(manifest.reason, MESSAGE_CHARS)
    return record
