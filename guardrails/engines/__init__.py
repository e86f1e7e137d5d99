"""The contract executed where the table lives: DuckDB, PostgreSQL (and Spark) through ibis.

One rule form (the typed contract's rules), two executors: polars expressions in memory
(`guardrails.validation`), and ibis expressions pushed down to an engine (this package). No rule is written
twice: the engine compiler asks the polars compiler whether a rule can run, reuses its value coercions and
messages, and the outcome is assembled by the polars engine's own routines and judge.

- `parse_table_uri(uri) -> TableLocation`: ``duckdb:///file.duckdb?table=tx``,
  ``postgresql://user:pw@host/db?table=schema.tx``, or a Parquet path; credentials redacted in every output.
- `connect(location, *, memory_limit=..., read_only=False)`: an ibis backend; `read_table(backend, location)`.
- `audit_table(contract, table, *, as_of=None, sample_size=None, allow_unrun=False) -> TableAudit`: the outcome
  (shaped as `validate`'s), the rejected-row predicate and one violation predicate per failed row rule;
  `TableAudit.split(table) -> (valid, invalid)` and `TableAudit.flagged(table)` (a rejected flag and the ids of
  the rules each row broke) are the safe way to filter on them.
- `violation(rule, table, as_of)`: one rule's ibis predicate (True where a row violates it, never null).
- Spark (the ``[spark]`` extra): `guard_spark_parquet(contract, df_or_dir, target, partition, store)` audits in
  Spark and publishes a Parquet partition by one atomic rename (`SparkParquetTarget`: local filesystems), keeping
  rejected rows in the `QuarantineStore`; `release_spark_parquet` re-validates in Spark and publishes once;
  `local_spark_session()` is a ``local[1]`` session for one machine.

Imports are lazy: ``import guardrails`` and ``import guardrails.engines`` never import ibis.

Example:
    >>> from guardrails.engines import parse_table_uri
    >>> parse_table_uri("postgresql://etl:hunter2@db/warehouse?table=tx").redacted
    'postgresql://etl:***@db/warehouse?table=tx'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guardrails.engines._uri import TableLocation, TableUriError, is_table_uri, parse_table_uri

if TYPE_CHECKING:
    from guardrails.engines._audit import REASONS_COLUMN, REJECTED_COLUMN, TableAudit, audit_table
    from guardrails.engines._compile import violation
    from guardrails.engines._connect import DEFAULT_MEMORY_LIMIT, EngineUnavailableError, connect, read_table
    from guardrails.engines._spark_guard import GuardedSparkBatch, guard_spark_parquet, release_spark_parquet
    from guardrails.engines._spark_publish import PartitionExistsError, SparkParquetTarget
    from guardrails.engines._spark_session import local_spark_session

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "EngineUnavailableError",
    "GuardedSparkBatch",
    "PartitionExistsError",
    "REASONS_COLUMN",
    "REJECTED_COLUMN",
    "SparkParquetTarget",
    "TableAudit",
    "TableLocation",
    "TableUriError",
    "audit_table",
    "connect",
    "guard_spark_parquet",
    "is_table_uri",
    "local_spark_session",
    "parse_table_uri",
    "read_table",
    "release_spark_parquet",
    "violation",
]

_LAZY = {
    "TableAudit": "guardrails.engines._audit",
    "REASONS_COLUMN": "guardrails.engines._audit",
    "REJECTED_COLUMN": "guardrails.engines._audit",
    "audit_table": "guardrails.engines._audit",
    "violation": "guardrails.engines._compile",
    "DEFAULT_MEMORY_LIMIT": "guardrails.engines._connect",
    "EngineUnavailableError": "guardrails.engines._connect",
    "connect": "guardrails.engines._connect",
    "read_table": "guardrails.engines._connect",
    # Spark (the [spark] extra): write-audit-publish by atomic rename, and a local session.
    "GuardedSparkBatch": "guardrails.engines._spark_guard",
    "guard_spark_parquet": "guardrails.engines._spark_guard",
    "release_spark_parquet": "guardrails.engines._spark_guard",
    "PartitionExistsError": "guardrails.engines._spark_publish",
    "SparkParquetTarget": "guardrails.engines._spark_publish",
    "local_spark_session": "guardrails.engines._spark_session",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'guardrails.engines' has no attribute {name!r}")
    import importlib

    if not module.endswith("_connect"):  # the executors need ibis itself: say which extra installs it
        from guardrails._extras import require_extra

        require_extra("ibis", "engines", f"guardrails.engines.{name}")
    return getattr(importlib.import_module(module), name)
