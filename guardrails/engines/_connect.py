"""`connect` and `read_table`: a `TableLocation` opened as an ibis backend and table.

- DuckDB files: ``ibis.duckdb.connect(path, memory_limit=...)``. DuckDB allows one writing process per file (any
  number of readers when every process opens it ``read_only``); `memory_limit` bounds the engine's own memory
  (it spills to a temporary directory beyond it), so a large table cannot take the machine.
- PostgreSQL: ``ibis.postgres.connect`` with the URI's user, password, host, port, database and parameters
  (``sslmode``...); the ``?table=`` parameter never reaches the driver.
- Parquet files and directories: read by an in-memory DuckDB (`memory_limit` applies), hive ``key=value``
  directories becoming columns, as the polars reader does.
- Spark (``spark:///?table=db.tx``): the active SparkSession, else a local one (`guardrails.engines._spark_session`);
  a Parquet path given to a Spark backend is read by Spark.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from guardrails._extras import require_extra
from guardrails.engines._uri import TableLocation

DEFAULT_MEMORY_LIMIT = "4GB"
"""DuckDB's memory bound when the caller gives none: a sixth of this 24 GiB machine, well above what the example
contract needs at 10M rows (see the README's engine figures)."""


class EngineUnavailableError(RuntimeError):
    """The backend a location names cannot be used here (its extra is not installed, or it has no connector)."""


def _ibis() -> Any:
    return require_extra("ibis", "engines", "validating tables in an engine (guardrails.engines)")


def connect(location: TableLocation, *, memory_limit: str = DEFAULT_MEMORY_LIMIT, read_only: bool = False) -> Any:
    """An ibis backend connected to where `location` lives.

    Args:
        location: from `parse_table_uri`.
        memory_limit: DuckDB's ``memory_limit`` (DuckDB files and Parquet); ignored by other backends.
        read_only: open a DuckDB file read-only (several processes may read it at once; none may then write).

    Raises:
        ImportError: ibis or the backend's driver is not installed (the message names the extra).
        EngineUnavailableError: the backend has no connector here.
        Exception: the driver's own error when the database cannot be reached; pass its text through
            `location.redact` before showing it.
    """
    ibis = _ibis()
    if location.backend == "duckdb":
        require_extra("duckdb", "engines", "DuckDB tables")
        if not read_only:
            Path(location.connection).parent.mkdir(parents=True, exist_ok=True)
        return ibis.duckdb.connect(location.connection, read_only=read_only, memory_limit=memory_limit)
    if location.backend == "parquet":
        require_extra("duckdb", "engines", "Parquet through DuckDB")
        return ibis.duckdb.connect(memory_limit=memory_limit)
    if location.backend == "postgres":
        require_extra("psycopg", "engines", "PostgreSQL tables")
        parts = urlsplit(location.connection)
        kwargs: dict[str, Any] = dict(parse_qsl(parts.query))
        kwargs.update(
            host=parts.hostname or None, port=parts.port or 5432, database=unquote(parts.path.lstrip("/")),
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )
        return ibis.postgres.connect(**kwargs)
    if location.backend == "pyspark":
        from guardrails.engines._spark_session import connect_spark

        return connect_spark(location)
    raise EngineUnavailableError(f"no connector for the {location.backend} backend yet ({location.redacted})")


def read_table(backend: Any, location: TableLocation) -> Any:
    """The ibis table `location` names on `backend` (a Parquet file or directory is registered as a view).

    Raises:
        the backend's error when the table does not exist.
    """
    if location.backend == "parquet" and backend.name == "pyspark":
        return backend.read_parquet(location.connection)  # Spark reads hive directories and skips _/. files itself
    if location.backend == "parquet":
        path = location.connection
        source = os.path.join(path, "**", "*.parquet") if os.path.isdir(path) else path
        return backend.read_parquet(source, table_name="guardrails_batch", hive_partitioning=os.path.isdir(path))
    assert location.table is not None
    if location.schema:
        return backend.table(location.table, database=location.schema)
    return backend.table(location.table)
