"""Real engines for the tests: a DuckDB file under a temporary directory and a fresh PostgreSQL database.

`ENGINES` names the engines the conformance table runs on; each has a session fixture ``<name>_engine`` returning
an `Engine` (load a frame as a table, and the URI a user would type for it). To add an engine (Spark), append its
name to `ENGINES` and define its ``<name>_engine`` fixture next to these: every conformance case then runs on it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.engines.spark_backend import SPARK, spark, spark_engine  # noqa: F401 - the Spark engine's fixtures

ENGINES: list[str] = ["duckdb", "postgres", "spark"]
"""The engines every conformance case runs on (the polars engine is the reference)."""

PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}


@dataclass(frozen=True)
class Engine:
    """One engine under test: `load(name, frame)` stores `frame` as table `name` and returns it as an ibis table;
    `uri(name)` is the table URI the CLI reads it by."""

    name: str
    backend: Any
    load: Callable[[str, pl.DataFrame], Any]
    uri: Callable[[str], str]


def _safe(name: str) -> str:
    return "t_" + "".join(c if c.isalnum() else "_" for c in name).lower()


@pytest.fixture(scope="session")
def duckdb_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A DuckDB file under a temporary directory, written through ibis' `create_table` (the pinned sqlglot)."""
    import ibis

    path = tmp_path_factory.mktemp("duckdb_engine") / "engine.duckdb"
    backend = ibis.duckdb.connect(str(path), memory_limit="1GB", threads=1)

    def load(name: str, frame: pl.DataFrame) -> Any:
        return backend.create_table(_safe(name), frame.to_arrow(), overwrite=True)

    yield Engine("duckdb", backend, load, lambda name: f"duckdb:///{path}?table={_safe(name)}")
    backend.disconnect()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database named ``engine_exec_<random>``, dropped afterwards (URL without password)."""
    psycopg = pytest.importorskip("psycopg")
    name = f"engine_exec_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(**PG_ADMIN, autocommit=True)
    except psycopg.OperationalError as exc:  # pragma: no cover - the server is part of the test machine
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@pytest.fixture(scope="session")
def postgres_engine(postgres_database: str) -> Iterator[Engine]:
    """The fresh database through ibis' PostgreSQL backend; frames are loaded with `create_table`."""
    import ibis

    backend = ibis.postgres.connect(host="127.0.0.1", port=5432, user="postgres",
                                    database=postgres_database.rsplit("/", 1)[1])

    def load(name: str, frame: pl.DataFrame) -> Any:
        # PostgreSQL has no unsigned, categorical or null-typed columns: store them as the nearest type it has.
        frame = frame.with_columns(
            pl.col(c).cast(pl.String) for c, t in frame.schema.items() if isinstance(t, pl.Categorical | pl.Enum)
        )
        return backend.create_table(_safe(name), frame.to_arrow(), overwrite=True)

    yield Engine("postgres", backend, load, lambda name: f"{postgres_database}?table={_safe(name)}")
    backend.disconnect()


@pytest.fixture(
    scope="session",
    # One xdist worker owns the JVM: every Spark case in one group (tests.engines.spark_backend.SPARK).
    params=[pytest.param(name, marks=SPARK if name == "spark" else ()) for name in ENGINES],
)
def engine(request: pytest.FixtureRequest) -> Engine:
    """Each engine of `ENGINES` in turn."""
    return request.getfixturevalue(f"{request.param}_engine")


def write_duckdb(path: Path, name: str, frame: pl.DataFrame) -> str:
    """`frame` written as table `name` of a new DuckDB file at `path`; the table URI that reads it."""
    import ibis

    backend = ibis.duckdb.connect(str(path))
    backend.create_table(name, frame.to_arrow(), overwrite=True)
    backend.disconnect()
    return f"duckdb:///{path}?table={name}"
