"""Shared pieces of the write-audit-publish-in-the-engine tests: a small contract, staging helpers, real databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

CONTRACT_YAML = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:test:engine-wap:tx
name: tx
version: 1.0.0
status: active
schema:
  - name: tx
    physicalName: tx
    properties:
      - name: id
        logicalType: integer
        required: true
        primaryKey: true
        primaryKeyPosition: 1
      - name: day
        logicalType: string
        required: true
      - name: amount
        logicalType: number
        required: true
        logicalTypeOptions:
          minimum: 0
"""

ROWS: tuple[tuple[int, str, float | None], ...] = (
    (1, "2026-11-03", 5.0),
    (2, "2026-11-03", -1.0),  # amount below the minimum
    (3, "2026-11-03", 7.5),
    (4, "2026-11-03", None),  # amount missing
    (5, "2026-11-03", 12.0),
    (6, "2026-11-03", 0.0),
)
BAD_IDS = {2, 4}
GOOD_IDS = {1, 3, 5, 6}
PG = "postgresql://postgres@127.0.0.1:5432"


def write_contract(directory: Path, *, policy: str = "rows") -> Path:
    path = directory / "tx.odcs.yaml"
    quarantine = f"customProperties:\n  - property: quarantinePolicy\n    value: {policy}\n"
    path.write_text(CONTRACT_YAML + quarantine)
    return path


def execute(database: str, *statements: str) -> list[tuple[Any, ...]]:
    """Run statements on `database` (a DuckDB file path or a PostgreSQL URI) and commit; rows of the last one."""
    if database.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(database, autocommit=True) as con:
            rows: list[tuple[Any, ...]] = []
            for statement in statements:
                cursor = con.execute(statement)
                rows = cursor.fetchall() if cursor.description else []
            return rows
    import duckdb

    con = duckdb.connect(database)
    try:
        rows = []
        for statement in statements:
            rows = con.execute(statement).fetchall()
        return rows
    finally:
        con.close()


def stage(database: str, name: str = "tx_staging", rows: Sequence[tuple[int, str, float | None]] = ROWS) -> str:
    """Create the staging table `name` holding `rows` (id, day, amount); returns its name."""
    values = ", ".join(f"({i}, '{d}', {'NULL' if a is None else a})" for i, d, a in rows)
    execute(database, f'DROP TABLE IF EXISTS "{name}"',
            f'CREATE TABLE "{name}" (id BIGINT, day VARCHAR, amount DOUBLE PRECISION)',
            f'INSERT INTO "{name}" VALUES {values}')
    return name


def ids(database: str, table: str, where: str = "") -> list[int]:
    return sorted(r[0] for r in execute(database, f'SELECT id FROM "{table}" {where}'))


def exists(database: str, table: str) -> bool:
    if database.startswith("postgresql://"):
        return bool(execute(database, f"SELECT 1 FROM pg_tables WHERE tablename = '{table}'"))
    return bool(execute(database, f"SELECT 1 FROM duckdb_tables() WHERE table_name = '{table}'"))


def uri(database: str, table: str) -> str:
    """The engine URI of `table` in `database`."""
    if database.startswith("postgresql://"):
        return f"{database}?table={table}"
    return f"duckdb://{database}?table={table}"  # duckdb:///abs/path.duckdb: the path is absolute


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database (created and dropped here), as a URI."""
    psycopg = pytest.importorskip("psycopg")
    name = f"engine_wap_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=3) as con:
            con.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    try:
        yield f"{PG}/{name}"
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["duckdb", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A real database of each engine: a DuckDB file path, or a fresh PostgreSQL database's URI."""
    if request.param == "duckdb":
        return str(tmp_path / "warehouse.duckdb")
    return request.getfixturevalue("postgres_database")
