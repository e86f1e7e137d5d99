"""Fixtures for the Dagster adapter tests: real instances (temporary SQLite, a fresh PostgreSQL database),
a real Parquet IO manager writing under tmp_path, the example contract and the example data generator."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from guardrails.dagster import QuarantineResource

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO / "expectations" / "transactions.odcs.yaml"
PG_URL = "postgresql://postgres@127.0.0.1:5432/{db}"  # the ordinary URL: SQLAlchemy 2.1 picks psycopg 3


def recent_day() -> date:
    """A business day inside the contract's 30-day ``maxAge`` window when judged as of now."""
    return (datetime.now(UTC) - timedelta(days=1)).date()


class ParquetIOManager(dg.ConfigurableIOManager):
    """A real IO manager: one Parquet file per asset (and partition) under `base_dir`."""

    base_dir: str

    def _path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        key = context.asset_key.path
        name = context.asset_partition_key if context.has_asset_partitions else "data"
        return Path(self.base_dir, *key, f"{name}.parquet")

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        if obj is None:
            return
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        obj.write_parquet(path)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        return pl.read_parquet(self._path(context))


def stored(base_dir: Path, *key: str, partition: str = "data") -> pl.DataFrame | None:
    """What the IO manager stored for an asset (partition), or None if it never received anything."""
    path = Path(base_dir, *key, f"{partition}.parquet")
    return pl.read_parquet(path) if path.exists() else None


@pytest.fixture
def contract_path() -> Path:
    return CONTRACT


@pytest.fixture(scope="session")
def _sqlite_instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def instance(_sqlite_instance: dg.DagsterInstance) -> dg.DagsterInstance:
    """A real instance on temporary SQLite storage, wiped before each test (creating one costs seconds)."""
    _sqlite_instance.wipe()
    return _sqlite_instance


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this session, dropped afterwards."""
    psycopg2 = pytest.importorskip("psycopg2")
    name = f"guardrails_dagster_{secrets.token_hex(4)}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.format(db=name)
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@pytest.fixture(scope="session")
def _pg_instance(postgres_url: str) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test(overrides={"storage": {"postgres": {"postgres_url": postgres_url}}}) as inst:
        yield inst


@pytest.fixture
def pg_instance(_pg_instance: dg.DagsterInstance) -> dg.DagsterInstance:
    """A DagsterInstance whose run and event-log storage is PostgreSQL (a fresh database), wiped per test."""
    _pg_instance.wipe()
    return _pg_instance


@pytest.fixture
def resources(tmp_path: Path) -> dict[str, object]:
    return {
        "quarantine": QuarantineResource(location=str(tmp_path / "quarantine")),
        "io_manager": ParquetIOManager(base_dir=str(tmp_path / "warehouse")),
    }
