"""Which stored batch is this: one answer for the model's lineage and for the guard that condemns a batch.

A model version's lineage names the batches it saw (`guardrails.models.BatchRef`); a later check that condemns a
stored batch must name it the same way, or the guard would not find the versions that saw it. Both sides call
`materialized_batch`, which names a batch by its Dagster materialization:

- ``batch_id``: the materialization's data version (``dagster/data_version``; Dagster writes one on every
  materialization, derived from the code version and the inputs' versions, or the user's own). It tells two
  materializations of one partition apart, which is what a condemnation must do.
- ``content_hash``: SHA-256 of the stored file when the materialization's metadata names one (``path``), as
  evidence anyone can recompute; None otherwise.
- ``run_id``: the run that stored it; ``contract_id``/``contract_version`` when the caller knows the contract.

Example:
    >>> import dagster as dg
    >>> with dg.instance_for_test() as instance:
    ...     materialized_batch(instance, "transaction_features", "2026-11-02") is None
    True
"""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from guardrails.models import BatchRef
from guardrails.models._batches import file_sha256

DATA_VERSION_TAG = "dagster/data_version"
"""The tag Dagster writes on every materialization with its data version."""
PATH_METADATA_KEY = "path"
"""The metadata key an IO manager (the example's, Dagster's file-based ones) names the stored file under."""


def materialized_batch(
    instance: dg.DagsterInstance,
    asset: dg.AssetKey | str,
    partition: str | None,
    *,
    storage_id: int | None = None,
    before: datetime | None = None,
    contract_id: str | None = None,
    contract_version: str | None = None,
) -> BatchRef | None:
    """The `BatchRef` of one materialization of `asset` (`partition`), or None when there is none.

    Args:
        instance: where the materializations are recorded.
        asset: the asset key (or its user string, ``transaction_features``).
        partition: the partition, None for an unpartitioned asset.
        storage_id: that exact materialization (an evaluation's target); else the latest one.
        before: only materializations recorded before this moment (what a check evaluated then could judge).
        contract_id / contract_version: the contract the batch is held to, recorded on the reference.
    """
    key = asset if isinstance(asset, dg.AssetKey) else dg.AssetKey.from_user_string(asset)
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=key,
            asset_partitions=[partition] if partition is not None else None,
            storage_ids=[storage_id] if storage_id is not None else None,
            before_timestamp=before.timestamp() if before is not None else None,
        ),
        limit=1,
    ).records
    if not records:
        return None
    [record] = records
    materialization = record.asset_materialization
    if materialization is None:  # an event record that is not a materialization: nothing to name
        return None
    path = materialization.metadata.get(PATH_METADATA_KEY)
    return BatchRef(
        asset=key.to_user_string(),
        partition=materialization.partition if materialization.partition is not None else partition,
        batch_id=(materialization.tags or {}).get(DATA_VERSION_TAG) or f"storage-{record.storage_id}",
        content_hash=file_sha256(str(path.value)) if path is not None else None,
        contract_id=contract_id,
        contract_version=contract_version,
        run_id=record.run_id or None,
    )
