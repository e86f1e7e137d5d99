"""Two table assets writing one DuckDB file, for the executor tests (`test_guard_table_dagster`).

Reconstructable (the multiprocess executor imports it in each step's process): the file, the contract and how long
each body holds its DuckDB connection come from the environment.
"""

from __future__ import annotations

import os
import time

import dagster as dg
import duckdb

from guardrails.dagster import QuarantineResource, guarded_table_asset
from tests.engines.wap import ROWS, uri

DATABASE = os.environ.get("GUARDRAILS_WAP_DB", "/nonexistent/warehouse.duckdb")
CONTRACT = os.environ.get("GUARDRAILS_WAP_CONTRACT", "expectations/transactions.odcs.yaml")
HOLD = float(os.environ.get("GUARDRAILS_WAP_HOLD", "0"))


def _staged(name: str) -> str:
    """Stage the rows in `name`, holding the file's write lock `HOLD` seconds (a long load), then let it go."""
    con = duckdb.connect(DATABASE)
    try:
        values = ", ".join(f"({i}, '{d}', {'NULL' if a is None else a})" for i, d, a in ROWS)
        con.execute(f'CREATE OR REPLACE TABLE "{name}" (id BIGINT, day VARCHAR, amount DOUBLE)').fetchall()
        con.execute(f'INSERT INTO "{name}" VALUES {values}').fetchall()
        time.sleep(HOLD)
    finally:
        con.close()
    return name


def _asset(table: str) -> dg.AssetsDefinition:
    @guarded_table_asset(contract=CONTRACT, target=uri(DATABASE, table), name=table, check_name=f"{table}_contract")
    def body() -> str:
        return _staged(f"{table}_staging")

    return body


ASSETS = [_asset("tx_a"), _asset("tx_b")]


def both() -> dg.JobDefinition:
    """Both assets in one job (its executor is chosen by the caller's run config)."""
    defs = dg.Definitions(assets=ASSETS, jobs=[dg.define_asset_job("both", ASSETS, executor_def=dg.multiprocess_executor)],
                          resources={"quarantine": QuarantineResource(location=os.path.dirname(DATABASE) + "/q")})
    return defs.resolve_job_def("both")
