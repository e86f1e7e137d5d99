"""Write-audit-publish in one call: read the batch, validate it, and split it into what may be published and
what is quarantined, according to the contract's policy.

Dagster, Airflow and the CLI all call `guard_batch`; none of them re-implements the decision.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import numpy as np
import pyarrow as pa

from guardrails.contract.model import Contract, QuarantinePolicy
from guardrails.outcome import CheckOutcome
from guardrails.quarantine._audit import audit, error_outcome
from guardrails.quarantine._batch import arrow_hash, load_frame, load_path, sha256_hex
from guardrails.quarantine._errors import QuarantineError
from guardrails.quarantine._manifest import DataFormat, QuarantineManifest
from guardrails.quarantine._published import PublishLog
from guardrails.quarantine._store import QuarantineStore, checked_batch_id, derive_batch_id
from guardrails.validation import ContractValidation

if TYPE_CHECKING:
    from guardrails.quarantine._batch import Batch


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardedBatch:
    """The verdict on one batch and what became of it.

    Attributes:
        outcome: the contract check's outcome (status ERROR when the input could not be read).
        published: what may be handed to consumers: the whole batch, its valid rows (rows policy), or None.
        manifest: the quarantine manifest when anything was quarantined, else None.
        batch_id: the batch's id (the quarantine id when quarantined; the id it would have had otherwise).
    """

    outcome: CheckOutcome
    published: pa.Table | None
    manifest: QuarantineManifest | None
    batch_id: str

    @property
    def quarantined(self) -> bool:
        return self.manifest is not None

    @property
    def rows_published(self) -> int:
        return self.published.num_rows if self.published is not None else 0


def guard_batch(
    batch: Batch | str | os.PathLike[str],
    contract: Contract,
    store: QuarantineStore,
    *,
    batch_id: str | None = None,
    source: str = "",
    run_id: str | None = None,
    as_of: datetime | None = None,
    allow_unrun: bool = False,
) -> GuardedBatch:
    """Audit a batch against `contract` before anyone sees it; quarantine what fails, return what may be published.

    * Nothing blocks publication (passed, or only warnings failed): everything is published, nothing is kept.
    * Policy ``batch`` and a blocking failure: the whole batch is quarantined, `published` is None.
    * Policy ``rows``: rows that broke a failed error-severity row rule are quarantined, the rest are published
      (rows in = rows published + rows quarantined). When the batch cannot be split row by row (a table-level
      rule failed, or the check could not run), the whole batch is quarantined.
    * Unreadable input (corrupt Parquet, not Parquet at all, a frame Arrow cannot represent): never raises;
      the bytes are quarantined as they arrived, the outcome has status ERROR and says why, nothing is published.
      A path that cannot even be opened leaves nothing to keep: the ERROR outcome says so and `manifest` is None.

    A whole batch given as a path is kept byte for byte (the original file). A directory of Parquet files (hive
    ``key=value`` directories too) is one batch, read as the engine reads it: kept whole as one combined Parquet
    file, or, when it cannot be read, as a tar archive of its files byte for byte. The default batch id is the
    contract's table name plus the content hash (of the file's bytes; of every file's path and bytes for a
    directory), so a retried run lands on the same id and is not duplicated.

    Args:
        batch: a pyarrow Table, polars DataFrame/LazyFrame, pandas DataFrame, a Parquet file's path or fsspec URL,
            or a local directory of Parquet files.
        contract: the data contract (its `policy` decides batch vs rows).
        store: where quarantined data goes.
        batch_id: an explicit id (see `QuarantineStore.put` for what happens when it is taken).
        source: where the batch came from (default: the path, for a path).
        run_id: the pipeline run, recorded in the manifest.
        as_of: the time that "not in the future" / "max age" rules are judged against (default: now).
        allow_unrun: treat contract rules guardrails cannot run (``type: custom`` for an engine such as soda) as
            warnings instead of failing closed (the default); the outcome records the policy (``unrun_policy``).

    Raises:
        TypeError: `batch` is not a batch at all.
        QuarantineError: `batch_id` is not a valid id, or the store cannot be written (nothing is published then).
    """
    started = datetime.now(UTC)
    if batch_id is not None:
        checked_batch_id(batch_id)  # a bad id is misconfiguration: fail now, not on the first bad batch
    if isinstance(batch, str | os.PathLike):
        loaded = load_path(batch)
        if isinstance(loaded, str):
            outcome = error_outcome(contract, loaded, started=started, as_of=as_of)
            return GuardedBatch(outcome=outcome, published=None, manifest=None, batch_id=batch_id or "")
    else:
        loaded = load_frame(batch)
    source = source or loaded.source
    if loaded.table is None:
        error = loaded.error or "unreadable input"
        outcome = error_outcome(contract, error, started=started, as_of=as_of, rows=loaded.rows)
        if loaded.raw is None:
            return GuardedBatch(outcome=outcome, published=None, manifest=None, batch_id=batch_id or "")
        content_hash = loaded.content_hash or sha256_hex(loaded.raw)
        manifest = store.put(
            loaded.raw,
            outcome,
            batch_id=batch_id or derive_batch_id(content_hash, contract.table or contract.id),
            content_hash=content_hash,
            content_hash_of=loaded.content_hash_of,
            data_format=loaded.raw_format,
            source=source,
            run_id=run_id,
            policy=contract.policy,
            rows_in=loaded.rows,
        )
        return GuardedBatch(outcome=outcome, published=None, manifest=manifest, batch_id=manifest.batch_id)
    return settle(
        loaded.table,
        audit(contract, loaded.frame if loaded.frame is not None else loaded.table, as_of=as_of,
              allow_unrun=allow_unrun),
        contract,
        store,
        content_hash=loaded.content_hash,
        content_hash_of=loaded.content_hash_of,
        original_parquet=loaded.raw if loaded.raw_format is DataFormat.PARQUET else None,
        batch_id=batch_id,
        source=source,
        run_id=run_id,
    )


def settle(
    table: pa.Table,
    validation: ContractValidation,
    contract: Contract,
    store: QuarantineStore,
    *,
    content_hash: str | None = None,
    content_hash_of: Literal["bytes", "arrow_ipc"] = "arrow_ipc",
    original_parquet: bytes | None = None,
    batch_id: str | None = None,
    source: str = "",
    run_id: str | None = None,
) -> GuardedBatch:
    """Apply the contract's policy to a validated table: publish it, split it, or quarantine it (`guard_batch`'s core).

    `original_parquet` is the file the table was read from: kept instead of a re-encoding when the whole batch goes.
    """
    outcome = validation.outcome
    prefix = contract.table or contract.id
    if not outcome.blocks_publication:
        batch_id = batch_id or derive_batch_id(content_hash or arrow_hash(table), prefix)
        _record_publish(store, source, batch_id, content_hash, run_id)
        return GuardedBatch(outcome=outcome, published=table, manifest=None, batch_id=batch_id)
    content_hash = content_hash or arrow_hash(table)
    batch_id = batch_id or derive_batch_id(content_hash, prefix)
    rejected = _rejected_rows(validation, contract.policy, table.num_rows)
    if rejected is None:
        kept: pa.Table | bytes = original_parquet if original_parquet is not None else table
        published = None
    else:
        kept = table.filter(pa.array(rejected, type=pa.bool_()))
        valid = table.filter(pa.array(~rejected, type=pa.bool_()))
        published = valid if valid.num_rows else None
    manifest = store.put(
        kept,
        outcome,
        batch_id=batch_id,
        content_hash=content_hash,
        content_hash_of=content_hash_of,
        data_format=DataFormat.PARQUET if isinstance(kept, bytes) else None,
        source=source,
        run_id=run_id,
        policy=contract.policy,
        rows_in=table.num_rows,
    )
    if published is not None:
        _record_publish(store, source, manifest.batch_id, content_hash, run_id)
    return GuardedBatch(outcome=outcome, published=published, manifest=manifest, batch_id=manifest.batch_id)


def _record_publish(
    store: QuarantineStore, source: str, batch_id: str, content_hash: str | None, run_id: str | None
) -> None:
    """Note in the store that `batch_id` goes on to `source`, so a release of an older batch cannot overwrite it."""
    try:
        PublishLog.of(store).record_guarded(source, batch_id, content_hash, run_id)
    except OSError as exc:
        raise QuarantineError(batch_id, f"cannot record its publish in {store.uri}: {exc}") from exc


def _rejected_rows(validation: ContractValidation, policy: QuarantinePolicy, rows: int) -> np.ndarray | None:
    """The rows to quarantine under the rows policy, or None when the whole batch must go.

    Fails closed: a blocking outcome whose mask rejects no row (or has the wrong length) cannot be split safely,
    so the whole batch is quarantined rather than published.
    """
    if policy is not QuarantinePolicy.ROWS or validation.rejected_rows is None:
        return None
    mask = np.asarray(validation.rejected_rows, dtype=bool)
    if mask.shape != (rows,) or not mask.any():
        return None
    return mask
