"""`audit_location`: a contract judged over a table URI or Parquet path in an engine; never raises for the data.

The one routine behind ``guardrails validate CONTRACT URI`` (and any adapter that is handed a location rather than
an ibis table): parse, connect, read, audit, disconnect, and redact the location's credentials from every text
of the outcome (drivers echo connection strings in their errors).
"""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime

from guardrails.contract.model import Contract
from guardrails.engines._connect import DEFAULT_MEMORY_LIMIT, connect, read_table
from guardrails.engines._uri import TableLocation
from guardrails.outcome import CheckKind, CheckOutcome
from guardrails.validation._engine import CHECK_NAME
from guardrails.validation._frames import error_line

PARQUET_DUCKDB_BYTES = 256 * 1024**2
"""Above this many bytes of Parquet, ``guardrails validate`` reads a file through DuckDB rather than polars.

Measured on the example contract at 10M rows (139 MB of Parquet; README, "Validating tables where they live"):
polars holds the columns in memory, peak RSS 3.4 GiB (about 24x the compressed Parquet), while DuckDB streamed
the same file in 1.3 GiB, at 0.88x polars' wall time on a clean batch and 1.83x on a corrupt one. 256 MiB of Parquet is about 6 GiB of
polars RSS: the size from which a batch stops fitting comfortably beside other work on a 24 GiB machine, and
DuckDB, bounded by its `memory_limit`, becomes the safer default.
"""


def parquet_bytes(path: str | os.PathLike[str]) -> int:
    """The size of a Parquet file, or of every file under a directory (0 when it cannot be read)."""
    try:
        if os.path.isdir(path):
            return sum(f.stat().st_size for f in os.scandir(path) if f.is_file()) + sum(
                parquet_bytes(d.path) for d in os.scandir(path) if d.is_dir()
            )
        return os.stat(path).st_size
    except OSError:
        return 0


def audit_location(
    contract: Contract,
    location: TableLocation,
    *,
    as_of: datetime | None = None,
    sample_size: int | None = None,
    allow_unrun: bool = False,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    engine: str | None = None,
) -> CheckOutcome:
    """The outcome of `contract` on the table at `location`, judged in its engine (read-only for DuckDB files).

    ``engine="spark"`` reads a Parquet location through Spark (the active session, else a local one); a Spark
    session is left running (it may be the caller's), where other backends are disconnected.

    A table that cannot be reached or read is an outcome with status ERROR (``cannot read <redacted URI>``).
    """
    from guardrails.engines._audit import audit_table

    started = datetime.now(UTC)
    backend = None
    try:
        try:
            if engine == "spark" or location.backend == "pyspark":
                from guardrails.engines._spark_session import connect_spark

                backend = connect_spark(location)
            else:
                backend = connect(location, memory_limit=memory_limit, read_only=location.backend == "duckdb")
            table = read_table(backend, location)
        except ImportError:
            raise
        except Exception as exc:  # unreachable database, missing file or table: fail closed, keep the cause
            outcome = CheckOutcome.could_not_run(
                CHECK_NAME, CheckKind.CONTRACT, error_line(exc), started_at=started, message=f"cannot read {location}",
                contract_id=contract.id, contract_version=contract.version, as_of=as_of or started,
            )
        else:
            outcome = audit_table(contract, table, as_of=as_of, sample_size=sample_size,
                                  allow_unrun=allow_unrun).outcome
    finally:
        if backend is not None and backend.name != "pyspark":
            try:
                backend.disconnect()
            except Exception:  # noqa: S110 - closing a connection that already failed changes no verdict
                pass
    return redacted(outcome, location)


def redacted(outcome: CheckOutcome, location: TableLocation) -> CheckOutcome:
    """`outcome` with `location`'s credentials removed from its message, error and rule messages."""
    rules = tuple(dataclasses.replace(r, message=location.redact(r.message)) for r in outcome.rules)
    return dataclasses.replace(
        outcome, message=location.redact(outcome.message),
        error=None if outcome.error is None else location.redact(outcome.error), rules=rules,
    )
