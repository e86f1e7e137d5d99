"""The ibis and sqlglot pair installed is one that works: DuckDB tables can be created, replaced and read."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ibis = pytest.importorskip("ibis")


def test_create_table_and_overwrite_work_on_duckdb(tmp_path: Path) -> None:
    """create_table, overwrite=True and a table from an expression all run (sqlglot >= 30.18 emits a nameless DROP VIEW)."""
    con = ibis.duckdb.connect(str(tmp_path / "pins.duckdb"))
    con.create_table("tx", pa.table({"a": [1, 2]}))
    con.create_table("tx", pa.table({"a": [1, 2, 3]}), overwrite=True)
    con.create_table("big", con.table("tx").filter(ibis._.a > 1), overwrite=True)
    assert (con.table("tx").count().to_pyarrow().as_py(), con.table("big").count().to_pyarrow().as_py()) == (3, 2)


def test_read_parquet_registers_a_view(tmp_path: Path) -> None:
    """read_parquet (a temporary view, replaced on the second call) reads the file's rows."""
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3]}), path)
    con = ibis.duckdb.connect()
    con.read_parquet(str(path), table_name="x")
    assert con.read_parquet(str(path), table_name="x").count().to_pyarrow().as_py() == 3
