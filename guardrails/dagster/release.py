"""Release a quarantined batch of a guarded asset and tell Dagster, as a run would have.

`QuarantineStore.release` re-validates the batch against the (fixed) contract and publishes it exactly once;
here publishing means handing the table to the asset's IO manager for the batch's partition. When this call
published the batch, a short run of its own (`guardrails_release`, tagged ``guardrails/release=<batch id>``)
records a materialization of that partition and a passing evaluation of the contract check, both naming the
batch id. A run rather than runless events: Dagster keeps one runless evaluation per check and partition, so a
partition released twice could not be recorded twice. A refused or claimed batch records nothing.

Two things make a release safe to run and to retry:

* It never overwrites newer data: when the partition was materialized after the batch was quarantined (a
  corrected batch ran), or the store's publish record says so, the release is refused as ``superseded``, naming
  both batches. ``force=True`` releases anyway; the materialization and evaluation then say which batch it
  overwrote (``guardrails/forced_over``).
* A retry completes the record: the store marks the batch released before Dagster hears of it, so if the
  instance failed in between, a retry finds it ``already_released``. It then records whatever the partition
  lacks (the materialization naming this release, the passing evaluation targeting it), says so in the message,
  and publishes nothing again. When the partition has been materialized by another batch since, it records
  nothing: that batch is the partition's data now.

Example:
    >>> release_guarded_batch(instance, clean_transactions, "clean_transactions.2026-11-03", fixed_contract,
    ...                       store=store, io_manager=ParquetIOManager(base_dir="warehouse"))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from guardrails.contract.model import Contract
from guardrails.dagster import metadata as md
from guardrails.dagster._compat import evaluation_target
from guardrails.dagster._recording import Recorder, record_in_run
from guardrails.dagster._scope import _has_time_window
from guardrails.dagster.history import read_check_history
from guardrails.outcome import CheckOutcome
from guardrails.quarantine import (
    PublishedVia,
    PublishRecord,
    QuarantineError,
    QuarantineManifest,
    QuarantineStore,
    ReleaseResult,
    ReleaseStatus,
)

RELEASE_JOB = "guardrails_release"
"""The run each release is recorded in (its materialization and passing evaluation), tagged with the batch."""
RELEASE_TAG = "guardrails/release"
PARTITION_TAG = "guardrails/partition"
FORCED_OVER_KEY = "guardrails/forced_over"
"""On a forced release: the newer publish it overwrote (batch, time, run)."""


def release_guarded_batch(
    instance: dg.DagsterInstance,
    assets_def: dg.AssetsDefinition,
    batch_id: str,
    contract: Contract,
    *,
    store: QuarantineStore,
    io_manager: dg.IOManager,
    as_of: datetime | None = None,
    force: bool = False,
) -> ReleaseResult:
    """Re-validate a quarantined batch of a `guarded_asset`, store it through `io_manager`, record it in Dagster.

    Args:
        instance: the Dagster instance the asset's runs are recorded in.
        assets_def: the guarded asset the batch was quarantined by (``defs.resolve_assets_def(key)``).
        batch_id: the quarantine batch id (``guardrails/batch_id`` on the failed check).
        contract: the current (fixed) contract; the batch must have been guarded by the same contract id.
        store: the quarantine store the batch is kept in.
        io_manager: the asset's IO manager instance; receives the batch as a polars frame, once.
        as_of: judge the batch as of this time; default the end of its time-window partition, else now.
        force: release even when a newer batch was published to the partition since (recorded as forced).

    Returns:
        The store's `ReleaseResult`: ``released`` (recorded in Dagster), ``already_released`` (its message says
        which missing records this call completed, if any), ``superseded``, ``refused`` or ``claimed``.

    Raises:
        QuarantineError: unknown or purged batch, another contract, or a batch the asset did not quarantine.
    """
    key = assets_def.key
    spec = _contract_check_spec(assets_def, contract)
    manifest = store.show(batch_id)
    partition = _partition_of(manifest, key)
    partitions_def = assets_def.partitions_def
    if as_of is None and partition is not None and _has_time_window(partitions_def):
        as_of = partitions_def.time_window_for_partition_key(partition).end  # type: ignore[union-attr]
    written: dict[str, dg.MetadataValue] = {}

    def publish(table: Any) -> str:
        import polars as pl

        context = dg.build_output_context(asset_key=key, partition_key=partition, asset_partitions_def=partitions_def)
        io_manager.handle_output(context, pl.from_arrow(table))
        written.update(context.get_logged_metadata())
        path = written.get("path")
        return str(path.value) if path is not None else f"IO manager {type(io_manager).__name__}"

    latest = _latest_materialization(instance, key, partition)
    materialized = [_as_publish(latest, manifest)] if latest is not None else []
    released = store.release(batch_id, contract, as_of=as_of, publish=publish, force=force,
                             also_published=materialized)
    if released.status is ReleaseStatus.RELEASED and released.outcome is not None:
        _record(instance, spec, partition, released, released.outcome, written)
    elif released.status is ReleaseStatus.ALREADY_RELEASED:
        return _complete(instance, spec, partition, released, latest)
    return released


def _latest_materialization(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None
) -> dg.EventLogRecord | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None), limit=1
    ).records
    return records[0] if records else None


def _as_publish(record: dg.EventLogRecord, manifest: QuarantineManifest) -> PublishRecord:
    """Dagster's latest materialization of the partition, as a publish the store can judge the release against."""
    batch = record.asset_materialization.metadata.get(md.BATCH_ID_KEY) if record.asset_materialization else None
    return PublishRecord(
        source=manifest.source,
        batch_id=str(batch.value) if batch is not None else f"(materialization {record.storage_id})",
        content_hash=None,
        published_at=datetime.fromtimestamp(record.timestamp, tz=UTC),
        via=PublishedVia.HOST,
        run_id=record.run_id or None,
    )


def _is_release_of(record: dg.EventLogRecord, batch_id: str) -> bool:
    metadata = record.asset_materialization.metadata if record.asset_materialization else {}
    batch = metadata.get(md.BATCH_ID_KEY)
    return batch is not None and batch.value == batch_id and md.RELEASED_TO_KEY in metadata


def _complete(
    instance: dg.DagsterInstance, spec: dg.AssetCheckSpec, partition: str | None, released: ReleaseResult,
    latest: dg.EventLogRecord | None,
) -> ReleaseResult:
    """Record what Dagster lacks of an earlier release (the instance failed after the store marked it released)."""
    manifest, outcome = released.manifest, released.manifest.release_outcome
    if outcome is None or manifest.released_at is None:
        return released
    where = f"partition {partition}" if partition is not None else spec.asset_key.to_user_string()
    if latest is not None and not _is_release_of(latest, released.batch_id):
        if datetime.fromtimestamp(latest.timestamp, tz=UTC) > manifest.released_at:
            return released  # another batch was materialized since: it is the partition's data, not this one
        latest = None  # an older materialization: this release never reached Dagster
    if latest is None:
        _record(instance, spec, partition, released, outcome, {})
        return replace(released, message=f"{released.message}; recorded its missing materialization and passing "
                                         f"{spec.name} evaluation of {where} in Dagster")
    history = read_check_history(instance, spec.asset_key, spec.name, partition=partition, limit=20)
    if any(e.passed and e.target_materialization_run_id == latest.run_id for e in history):
        return released  # the release's materialization has its passing evaluation
    _evaluate(instance, spec, partition, released, outcome, latest)
    return replace(released, message=f"{released.message}; recorded its missing passing {spec.name} evaluation of "
                                     f"{where} in Dagster")


def _contract_check_spec(assets_def: dg.AssetsDefinition, contract: Contract) -> dg.AssetCheckSpec:
    specs = [s for s in assets_def.check_specs if _text(s.metadata.get(md.CONTRACT_ID_KEY)) == contract.id]
    if len(specs) != 1:
        raise ValueError(f"{assets_def.key.to_user_string()} has no guarded_asset check for contract {contract.id}")
    return specs[0]


def _text(value: Any) -> Any:
    return getattr(value, "value", value)


def _partition_of(manifest: QuarantineManifest, key: dg.AssetKey) -> str | None:
    """The partition the batch was quarantined for, read from its manifest's source (``dagster:<asset>[<p>]``)."""
    source, batch_id = manifest.source, manifest.batch_id
    prefix = f"dagster:{key.to_user_string()}"
    if not source.startswith(prefix):
        raise QuarantineError(batch_id, f"was quarantined from {source!r}, not by asset {key.to_user_string()}")
    rest = source[len(prefix):]
    if not rest:
        return None
    partition = rest.removeprefix("[").removesuffix("]")
    if ".." in partition:
        raise QuarantineError(batch_id, f"covers the partition range {partition}; release it partition by partition")
    return partition


def _shared(released: ReleaseResult, outcome: CheckOutcome, partition: str | None) -> dict[str, dg.MetadataValue]:
    """Metadata on both the materialization and the evaluation of a release."""
    forced = released.superseded_by
    return {
        md.BATCH_ID_KEY: dg.MetadataValue.text(released.batch_id),
        md.CONTRACT_VERSION_KEY: dg.MetadataValue.text(outcome.contract_version or ""),
        md.RELEASED_TO_KEY: dg.MetadataValue.text(released.released_to or ""),
        **({md.PARTITION_KEY: dg.MetadataValue.text(partition)} if partition is not None else {}),
        **({FORCED_OVER_KEY: dg.MetadataValue.text(forced.describe())} if forced is not None else {}),
    }


def _record(
    instance: dg.DagsterInstance, spec: dg.AssetCheckSpec, partition: str | None, released: ReleaseResult,
    outcome: CheckOutcome, written: dict[str, dg.MetadataValue],
) -> None:
    """One release run: the partition's materialization naming the batch, then the passing evaluation targeting it."""
    forced = released.superseded_by
    how = f"with force, over the newer {forced.describe()}" if forced is not None else "after the contract fix"
    materialization = dg.AssetMaterialization(
        asset_key=spec.asset_key,
        partition=partition,
        description=f"Released from quarantine ({released.batch_id}) {how}",
        metadata={**written, **_shared(released, outcome, partition)},
    )

    def recorder(context: dg.OpExecutionContext) -> Iterator[dg.AssetMaterialization]:
        yield materialization  # stored as it is yielded: the evaluation can target it
        record = _latest_materialization(context.instance, spec.asset_key, partition)
        assert record is not None, "the materialization just recorded is the partition's latest"
        context.log_event(_evaluation(spec, partition, released, outcome, record))

    _record_release(instance, released, partition, recorder)


def _evaluate(
    instance: dg.DagsterInstance, spec: dg.AssetCheckSpec, partition: str | None, released: ReleaseResult,
    outcome: CheckOutcome, target: dg.EventLogRecord,
) -> None:
    """One release run recording only the passing evaluation of an already recorded release materialization."""

    def recorder(context: dg.OpExecutionContext) -> Iterator[dg.AssetMaterialization]:
        context.log_event(_evaluation(spec, partition, released, outcome, target))
        yield from ()

    _record_release(instance, released, partition, recorder)


def _record_release(
    instance: dg.DagsterInstance, released: ReleaseResult, partition: str | None, recorder: Recorder
) -> None:
    tags = {RELEASE_TAG: released.batch_id, **({PARTITION_TAG: partition} if partition else {})}
    record_in_run(instance, RELEASE_JOB, recorder, tags=tags)


def _evaluation(
    spec: dg.AssetCheckSpec, partition: str | None, released: ReleaseResult, outcome: CheckOutcome,
    target: dg.EventLogRecord,
) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=spec.asset_key,
        check_name=spec.name,
        passed=outcome.passed,
        metadata={**md.outcome_metadata(outcome), **_shared(released, outcome, partition)},
        target_materialization_data=evaluation_target(
            storage_id=target.storage_id, run_id=target.run_id, timestamp=target.timestamp
        ),
        description=f"Re-validated on release of {released.batch_id} against contract v{outcome.contract_version}",
        blocking=spec.blocking,
        partition=partition,
    )
