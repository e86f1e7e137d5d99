"""Write-audit-publish: audit a batch before anyone sees it, keep what fails, release it once it passes.

`guard_batch` is the one entry point the Dagster asset, the Airflow operator and the CLI call. It returns what
may be published and, when something failed, the manifest of what the `QuarantineStore` now keeps. Kept
batches are listed, shown, read, released (re-validated against the current contract and published exactly
once) or purged (explicitly, never automatically).

Example:
    >>> import tempfile
    >>> import polars as pl
    >>> from guardrails.contract import Contract, QuarantinePolicy, RangeRule
    >>> contract = Contract(id="urn:tx", version="1", name="tx", table="transactions", policy=QuarantinePolicy.ROWS,
    ...                     rules=(RangeRule(rule_id="amount.range", column="amount", minimum=0),))
    >>> store = QuarantineStore(tempfile.mkdtemp())
    >>> guarded = guard_batch(pl.DataFrame({"amount": [5.0, -1.0, 7.5]}), contract, store)
    >>> guarded.published.num_rows, guarded.manifest.rows_quarantined, guarded.manifest.reason
    (2, 1, '1 blocking rule failed: amount.range (1 row)')
"""

from guardrails.quarantine._errors import ManifestError, QuarantineError
from guardrails.quarantine._guard import GuardedBatch, guard_batch
from guardrails.quarantine._manifest import (
    MANIFEST_SCHEMA_VERSION,
    DataFormat,
    QuarantineManifest,
    QuarantineState,
    Transition,
)
from guardrails.quarantine._published import PublishedVia, PublishRecord
from guardrails.quarantine._store import (
    MAX_BATCH_ID,
    BrokenBatch,
    QuarantineListing,
    QuarantineStore,
    ReleaseResult,
    ReleaseStatus,
    derive_batch_id,
)
from guardrails.quarantine._table import GuardedTable, StagedTable, TableTarget, guard_table
from guardrails.quarantine._target import ParquetTarget, publish_parquet, target_of

__all__ = [
    "MANIFEST_SCHEMA_VERSION",
    "MAX_BATCH_ID",
    "BrokenBatch",
    "DataFormat",
    "GuardedBatch",
    "GuardedTable",
    "ManifestError",
    "ParquetTarget",
    "PublishRecord",
    "PublishedVia",
    "QuarantineError",
    "QuarantineListing",
    "QuarantineManifest",
    "QuarantineState",
    "QuarantineStore",
    "ReleaseResult",
    "ReleaseStatus",
    "StagedTable",
    "TableTarget",
    "Transition",
    "derive_batch_id",
    "guard_batch",
    "guard_table",
    "publish_parquet",
    "target_of",
]
