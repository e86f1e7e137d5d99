"""`@guarded_table_asset`: an asset whose body stages its batch as a table; the guard audits it in the database and
publishes it there (write-audit-publish inside the engine, `guardrails.quarantine.guard_table`).

The body writes the batch to a staging table (in the target's DuckDB file or PostgreSQL database) and returns its
name (or a `StagedTable`); no frame comes into Python. The guard then audits the staging table where it is and, in
one transaction, replaces the target's partition with the valid rows and appends the rejected ones, with their
reasons, to the quarantine table. What Dagster records is what `@guarded_asset` records for a frame (the same code:
materialization metadata, the contract check, the quarantine observation, a `Failure` when nothing was published);
there is no IO manager (the output is `Nothing`: the rows are already in the target).

DuckDB allows one writing process per database file. The body must close its connection before it returns, and
two steps guarding into one file at once contend for its lock: the guard waits for it (`lock_wait`, 60 s), but a
body that writes while another step's guard holds the file fails. Run such assets with the in-process executor or
in one concurrency pool of limit 1 (``pool="duckdb:<file>"``); PostgreSQL has no such limit.

Example:
    >>> @guarded_table_asset(contract="expectations/transactions.odcs.yaml",
    ...                      target="duckdb:///srv/warehouse.duckdb?table=transactions")
    ... def transactions() -> str:
    ...     return "transactions_staging"  # the body created it (e.g. CREATE TABLE ... AS SELECT ...)
    >>> [spec.name for spec in transactions.check_specs]
    ['transactions_contract']
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import dagster as dg

from guardrails.contract.model import Contract, QuarantinePolicy
from guardrails.dagster.asset import guarded_asset
from guardrails.quarantine import StagedTable, TableTarget

DUCKDB_POOL_PREFIX = "duckdb:"


def guarded_table_asset(
    *,
    contract: Contract | str | os.PathLike[str],
    target: str | TableTarget,
    partition_column: str | None = None,
    quarantine_table: str | None = None,
    table: str | None = None,
    policy: QuarantinePolicy | str | None = None,
    **guard_kwargs: Any,
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """Decorate a function that stages a batch as a table into an asset guarded and published in the database.

    Args:
        contract, table, policy: as for `guarded_asset`.
        target: the target table's URI (``duckdb:///file.duckdb?table=tx``, ``postgresql://host/db?table=tx``) or
            a `TableTarget`. Credentials in it never reach a manifest or an event.
        partition_column: the target column holding the partition key; required for a partitioned asset (a run
            replaces its partition's rows). Without partitions, a run replaces the whole target table.
        quarantine_table: where rejected rows go (default ``<table>_quarantine``, same database).
        **guard_kwargs: passed to `guarded_asset` (``check_name``, ``allow_unrun``, ...) and on to `dagster.asset`
            (``name``, ``partitions_def``, ``pool``, ...). A DuckDB target gets ``pool="duckdb:<file>"`` unless
            one is given, so that a pool limit of 1 serializes the file's writers.

    The body returns the staging table's name (in the target's database) or a `StagedTable`.

    Raises:
        ValueError: a partitioned asset without `partition_column`, or a target that is not a DuckDB/PostgreSQL table.
    """
    resolved = target if isinstance(target, TableTarget) else TableTarget(
        target, partition_column=partition_column, quarantine_table=quarantine_table)
    if guard_kwargs.get("partitions_def") is not None and resolved.partition_column is None:
        raise ValueError(
            f"guarded_table_asset: the asset is partitioned but {resolved.redacted} has no partition_column: "
            "a run must replace its own partition's rows, not the whole table"
        )
    for owned in ("dagster_type", "io_manager_key"):
        if owned in guard_kwargs:
            raise ValueError(f"guarded_table_asset sets {owned!r} itself: the rows are published by the guard")
    if resolved.location.backend == "duckdb":
        guard_kwargs.setdefault("pool", DUCKDB_POOL_PREFIX + os.path.abspath(resolved.location.connection))

    def decorator(fn: Callable[..., Any]) -> dg.AssetsDefinition:
        @functools.wraps(fn)
        def staged(*args: Any, **kwargs: Any) -> StagedTable:
            return as_staged(fn(*args, **kwargs), resolved)

        return guarded_asset(contract=contract, table=table, policy=policy, dagster_type=dg.Nothing,
                             **guard_kwargs)(staged)

    return decorator


def as_staged(value: Any, target: TableTarget) -> StagedTable:
    """What a table asset's body returned, bound to its target: a `StagedTable`, a table name, or a table URI.

    Raises:
        TypeError: the body returned something else (a frame: use `guarded_asset` for frames).
    """
    if isinstance(value, StagedTable):
        return value
    if isinstance(value, str) and value:
        return target.staged(value)
    raise TypeError(
        f"a guarded table asset's body returns the staging table's name or a StagedTable, got {type(value).__name__}"
        " (for a frame, use @guarded_asset)"
    )
