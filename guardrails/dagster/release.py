"""Release a quarantined batch of a guarded asset and tell Dagster, as a run would have.

`QuarantineStore.release` re-validates the batch against the (fixed) contract and publishes it exactly once;
here publishing means handing the table to the asset's IO manager for the batch's partition. Only when this call
published the batch does the instance get a runless materialization of that partition and a passing evaluation
of the contract check, both naming the batch id. A refused, already released or claimed batch records nothing.

Example:
    >>> release_guarded_batch(instance, clean_transactions, "clean_transactions.2026-11-03", fixed_contract,
    ...                       store=store, io_manager=ParquetIOManager(base_dir="warehouse"))  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dagster as dg

from guardrails.contract.model import Contract
from guardrails.dagster import metadata as md
from guardrails.dagster._scope import _has_time_window
from guardrails.outcome import CheckOutcome
from guardrails.quarantine import QuarantineError, QuarantineStore, ReleaseResult, ReleaseStatus

RELEASED_TO_KEY = "guardrails/released_to"
"""Where the release published the batch (the IO manager's ``path`` metadata, or a description)."""


def release_guarded_batch(
    instance: dg.DagsterInstance,
    assets_def: dg.AssetsDefinition,
    batch_id: str,
    contract: Contract,
    *,
    store: QuarantineStore,
    io_manager: dg.IOManager,
    as_of: datetime | None = None,
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

    Returns:
        The store's `ReleaseResult`; Dagster events were recorded only if its status is ``released``.

    Raises:
        QuarantineError: unknown or purged batch, another contract, or a batch the asset did not quarantine.
    """
    key = assets_def.key
    spec = _contract_check_spec(assets_def, contract)
    partition = _partition_of(store, batch_id, key)
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

    released = store.release(batch_id, contract, as_of=as_of, publish=publish)
    if released.status is ReleaseStatus.RELEASED and released.outcome is not None:
        _record(instance, spec, partition, released, released.outcome, written)
    return released


def _contract_check_spec(assets_def: dg.AssetsDefinition, contract: Contract) -> dg.AssetCheckSpec:
    specs = [s for s in assets_def.check_specs if _text(s.metadata.get(md.CONTRACT_ID_KEY)) == contract.id]
    if len(specs) != 1:
        raise ValueError(f"{assets_def.key.to_user_string()} has no guarded_asset check for contract {contract.id}")
    return specs[0]


def _text(value: Any) -> Any:
    return getattr(value, "value", value)


def _partition_of(store: QuarantineStore, batch_id: str, key: dg.AssetKey) -> str | None:
    """The partition the batch was quarantined for, read from its manifest's source (``dagster:<asset>[<p>]``)."""
    source = store.show(batch_id).source
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


def _record(
    instance: dg.DagsterInstance, spec: dg.AssetCheckSpec, partition: str | None, released: ReleaseResult,
    outcome: CheckOutcome, written: dict[str, dg.MetadataValue],
) -> None:
    from dagster._core.definitions.asset_checks.asset_check_evaluation import (
        AssetCheckEvaluationTargetMaterializationData,
    )

    batch_id = released.batch_id
    shared: dict[str, Any] = {
        md.BATCH_ID_KEY: dg.MetadataValue.text(batch_id),
        md.CONTRACT_VERSION_KEY: dg.MetadataValue.text(outcome.contract_version or ""),
        RELEASED_TO_KEY: dg.MetadataValue.text(released.released_to or ""),
        **({md.PARTITION_KEY: dg.MetadataValue.text(partition)} if partition is not None else {}),
    }
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key=spec.asset_key,
            partition=partition,
            description=f"Released from quarantine ({batch_id}) after the contract fix",
            metadata={**written, **shared},
        )
    )
    [record] = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=spec.asset_key, asset_partitions=[partition] if partition else None), limit=1
    ).records
    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(
            asset_key=spec.asset_key,
            check_name=spec.name,
            passed=outcome.passed,
            metadata={**md.outcome_metadata(outcome), **shared},
            target_materialization_data=AssetCheckEvaluationTargetMaterializationData(
                storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
            ),
            description=f"Re-validated on release of {batch_id} against contract v{outcome.contract_version}",
            blocking=spec.blocking,
            partition=partition,
        )
    )
