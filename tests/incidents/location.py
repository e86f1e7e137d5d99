"""A small code location for the breaker and alert tests: one guarded asset fed by a schedule and a sensor.

Loaded two ways: `build_location(quarantine_dir)` for running jobs in-process, and as a workspace
(``defs`` below, via `InProcessCodeLocationOrigin`) so the breaker stops the very schedule and sensor the
daemon would tick. The quarantine location is read from ``GUARDRAILS_QUARANTINE`` when loaded as a workspace.
"""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl

from definitions.data import Defect, generate_transactions
from guardrails.dagster import QuarantineResource, guarded_asset

CONTRACT = Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml"
ASSET = "landed_transactions"
JOB = "ingest"
SCHEDULE = "ingest_schedule"
SENSOR = "landing_sensor"
ROWS = 400


class LandingConfig(dg.Config):
    """Which defect the upstream sends this run (empty: a good batch)."""

    defect: str = ""


@guarded_asset(contract=CONTRACT, name=ASSET)
def landed_transactions(config: LandingConfig) -> pl.DataFrame:
    """Yesterday's transactions (inside the contract's max-age window as of now), bad when asked."""
    day = (datetime.now(UTC) - timedelta(days=1)).date()
    return generate_transactions(day, ROWS, defect=Defect(config.defect) if config.defect else None)


ingest = dg.define_asset_job(JOB, selection=[ASSET])


@dg.sensor(job=ingest, name=SENSOR, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def landing_sensor() -> dg.SkipReason:
    """Stands in for a sensor that watches a landing bucket (declared running in code, never started by hand)."""
    return dg.SkipReason("nothing landed")


def build_location(quarantine_dir: str) -> dg.Definitions:
    return dg.Definitions(
        assets=[landed_transactions],
        jobs=[ingest],
        schedules=[dg.ScheduleDefinition(name=SCHEDULE, job=ingest, cron_schedule="0 * * * *")],
        sensors=[landing_sensor],
        resources={"quarantine": QuarantineResource(location=quarantine_dir)},
    )


defs = build_location(os.environ.get("GUARDRAILS_QUARANTINE", ".guardrails/quarantine"))


def run_batch(definitions: dg.Definitions, instance: dg.DagsterInstance, defect: str = "") -> dg.ExecuteInProcessResult:
    """One run of the ingest job (a batch), good or bad."""
    return definitions.resolve_job_def(JOB).execute_in_process(
        run_config={"ops": {ASSET: {"config": {"defect": defect}}},
                    "loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        instance=instance, raise_on_error=False,
    )
