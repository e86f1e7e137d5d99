"""Two DAGs feeding one asset, for the circuit breaker's tests (written to the test DAGs folder on import).

``guardrails_breaker_land`` guards the day's transactions into ``<root>/breaker_warehouse/transactions`` with a
`CircuitBreakerNotifier` (two consecutive failures trip it); ``guardrails_breaker_backfill`` is a second producer of
the same asset, so a trip must pause both. A run triggered with ``{"defect": "<name>"}`` lands a bad batch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from airflow.sdk import DAG, Asset, task
from airflow.timetables.interval import CronDataIntervalTimetable

from definitions.data import Defect, generate_transactions
from guardrails.airflow.breaker import CircuitBreakerNotifier
from tests.airflow.home import DAGS, ROOT

LAND, BACKFILL, TASK = "guardrails_breaker_land", "guardrails_breaker_backfill", "land_transactions"
CONTRACT = Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml"
WAREHOUSE = ROOT / "breaker_warehouse" / "transactions"
ASSET_URI = f"file://{WAREHOUSE}"
FAILURES = 2


def build() -> tuple[DAG, DAG]:
    schedule = CronDataIntervalTimetable("@daily", timezone="UTC")
    with DAG(LAND, schedule=schedule, start_date=datetime(2026, 11, 1, tzinfo=UTC), catchup=False) as land:

        @task.guarded(contract=CONTRACT, target=str(WAREHOUSE / "date={partition}"),
                      quarantine=str(ROOT / "breaker_quarantine"),
                      on_failure_callback=CircuitBreakerNotifier(consecutive_failures=FAILURES))
        def land_transactions(data_interval_start: datetime | None = None, dag_run: Any = None) -> pl.DataFrame:
            defect = (dag_run.conf or {}).get("defect") if dag_run is not None else None
            return generate_transactions(data_interval_start.date(), rows=500, accounts=400,
                                         defect=Defect(defect) if defect else None)

        land_transactions()
    with DAG(BACKFILL, schedule=None, start_date=datetime(2026, 11, 1, tzinfo=UTC), catchup=False) as backfill:

        @task(outlets=[Asset(ASSET_URI)])
        def backfill_transactions() -> None:
            """A second producer of the asset (never run by the tests)."""

        backfill_transactions()
    return land, backfill


land_dag, backfill_dag = build()
(DAGS / "breaker.py").write_text(
    "# the circuit breaker's test DAGs\nfrom tests.airflow.breaker_dag import land_dag, backfill_dag\n")
