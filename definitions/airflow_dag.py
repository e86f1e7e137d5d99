"""The example fraud pipeline's data half as an Airflow 3 DAG, guarded by the same contracts as the Dagster one.

    clean_transactions (@task.guarded, transactions.odcs.yaml) ──▶ transaction_features (@task.guarded, features)

`clean_transactions` plays the upstream delivery and returns the day's batch (`definitions.data`); the guard audits
it before anything is written and publishes it to ``<home>/airflow/warehouse/transactions/date=<day>/data.parquet``,
or quarantines it under ``<home>/quarantine`` and fails the task, so `transaction_features` is ``upstream_failed``
and the DAG run fails. `transaction_features` reads the published file, builds the model features and is guarded in
turn by ``transaction_features.odcs.yaml``.

The schedule is a daily data interval (`CronDataIntervalTimetable`): the run for logical date D covers the day
before D, which is the partition (``2026-11-03``) and the as-of time of its checks is the interval's end. A run
triggered with ``{"defect": "<name>"}`` as its conf lands a bad batch (`definitions.data.Defect`).

Locations come from `definitions.settings.DemoSettings` (``$GUARDRAILS_HOME``, ``$GUARDRAILS_CONTRACTS``);
`make airflow-demo` (`definitions.airflow_demo`) runs it headless on a temporary ``AIRFLOW_HOME``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable

from definitions.data import Defect, generate_transactions
from definitions.features import build_features
from definitions.settings import DemoSettings

DAG_ID = "fraud_transactions"
ROWS = 2_000
ACCOUNTS = 1_500


def build_dag(settings: DemoSettings, dag_id: str = DAG_ID) -> DAG:
    """The example DAG on `settings`' locations (the contracts are loaded now, at parse time)."""
    warehouse = settings.home / "airflow" / "warehouse"
    quarantine = str(settings.quarantine_dir)
    with DAG(
        dag_id,
        schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
        start_date=datetime(2026, 11, 1, tzinfo=UTC),
        catchup=False,
        tags=["guardrails", "example"],
        doc_md=__doc__,
    ) as dag:

        @task.guarded(
            contract=settings.contracts_dir / "transactions.odcs.yaml",
            target=str(warehouse / "transactions" / "date={partition}"),
            quarantine=quarantine,
        )
        def clean_transactions(data_interval_start: datetime | None = None, dag_run: Any = None) -> pl.DataFrame:
            """The day's card transactions as delivered (a conf ``defect`` makes them bad in one named way)."""
            defect = (dag_run.conf or {}).get("defect") if dag_run is not None else None
            return generate_transactions(
                data_interval_start.date(), rows=ROWS, accounts=ACCOUNTS, defect=Defect(defect) if defect else None
            )

        @task.guarded(
            contract=settings.contracts_dir / "transaction_features.odcs.yaml",
            target=str(warehouse / "transaction_features" / "date={partition}"),
            quarantine=quarantine,
        )
        def transaction_features(published: dict[str, Any]) -> pl.DataFrame:
            """Model features from the published (audited) transactions; never from a quarantined batch."""
            return build_features(pl.read_parquet(published["target"]))

        transaction_features(clean_transactions())
    return dag


dag = build_dag(DemoSettings.from_env())
