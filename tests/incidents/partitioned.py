"""A daily-partitioned guarded asset for the partition tests: fourteen days, any of them bad on request.

Small batches (`ROWS`), stored by the example's Parquet IO manager, quarantined in a real store; each day is one
in-process run of the asset's job on the instance the test passes in.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from definitions.data import Defect, generate_transactions
from definitions.resources import ParquetIOManager
from guardrails.dagster import QuarantineResource, guarded_asset

CONTRACT = Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml"
ASSET = "daily_transactions"
CHECK = "transactions_contract"
JOB = "daily_ingest"
ROWS = 120
DAYS = dg.DailyPartitionsDefinition(start_date="2026-11-01", end_date="2026-11-15")


class DayConfig(dg.Config):
    """Which defect the upstream sends for this day (empty: a good batch)."""

    defect: str = ""


@guarded_asset(contract=CONTRACT, name=ASSET, partitions_def=DAYS)
def daily_transactions(context: dg.AssetExecutionContext, config: DayConfig) -> pl.DataFrame:
    """The partition's day of transactions, bad when asked."""
    day = date.fromisoformat(context.partition_key)
    return generate_transactions(day, ROWS, defect=Defect(config.defect) if config.defect else None)


def build_location(quarantine_dir: str | Path, warehouse_dir: str | Path) -> dg.Definitions:
    return dg.Definitions(
        assets=[daily_transactions],
        jobs=[dg.define_asset_job(JOB, selection=[ASSET])],
        resources={"quarantine": QuarantineResource(location=str(quarantine_dir)),
                   "io_manager": ParquetIOManager(base_dir=str(warehouse_dir))},
    )


def run_day(definitions: dg.Definitions, instance: dg.DagsterInstance, day: str,
            defect: str = "") -> dg.ExecuteInProcessResult:
    """One run of the job for one day's partition, good or bad."""
    return definitions.resolve_job_def(JOB).execute_in_process(
        run_config={"ops": {ASSET: {"config": {"defect": defect}}},
                    "loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        instance=instance, partition_key=day, raise_on_error=False,
    )
