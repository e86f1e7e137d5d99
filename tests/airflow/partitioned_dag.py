"""The example's transactions and features as Airflow 3.2+ partitioned assets (the DAGs `test_partition` runs).

    guardrails_partitioned_landing (CronPartitionTimetable, key = the day)  --transactions asset-->
    guardrails_partitioned_features (PartitionedAssetTimetable on that asset: one run per partition key)

The landing task plays the delivery of the run's partition (``partition_date``; a run without a key, such as
``dag.test()``'s, lands the day that ended at its logical date) and is guarded by ``transactions.odcs.yaml``; the
features task reads the file the triggering asset event names (its ``extra["target"]``) and is guarded by
``transaction_features.odcs.yaml``. A run's conf ``{"defect": "<name>"}`` lands a bad batch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from airflow.sdk import DAG, Asset, CronPartitionTimetable, PartitionedAssetTimetable, task

from definitions.airflow_dag import ACCOUNTS, ROWS
from definitions.data import Defect, generate_transactions
from definitions.features import build_features
from definitions.settings import DemoSettings

LANDING = "guardrails_partitioned_landing"
FEATURES = "guardrails_partitioned_features"
KEY_FORMAT = "%Y-%m-%d"


def build(settings: DemoSettings) -> tuple[DAG, DAG]:
    """The landing and features DAGs on `settings`' locations (under ``<home>/partitioned``)."""
    root = settings.home / "partitioned"
    quarantine = str(root / "quarantine")
    transactions = Asset(name="partitioned_transactions", uri=f"file://{root}/warehouse/transactions")
    features = Asset(name="partitioned_transaction_features", uri=f"file://{root}/warehouse/transaction_features")
    start = datetime(2026, 11, 1, tzinfo=UTC)

    with DAG(LANDING, schedule=CronPartitionTimetable("0 0 * * *", timezone="UTC", key_format=KEY_FORMAT),
             start_date=start, catchup=False, tags=["guardrails", "partitioned"]) as landing:

        @task.guarded(contract=settings.contracts_dir / "transactions.odcs.yaml",
                      target=str(root / "warehouse" / "transactions" / "date={partition}"),
                      asset=transactions, quarantine=quarantine)
        def land_transactions(partition_date: datetime | None = None, logical_date: datetime | None = None,
                              dag_run: Any = None) -> pl.DataFrame:
            """The partition's transactions as delivered; a run without a key delivers the day that ended at its
            logical date (a daily trigger at midnight)."""
            if partition_date is None:
                assert logical_date is not None, "a run with neither a partition key nor a logical date"
                partition_date = logical_date - timedelta(days=1)
            defect = (dag_run.conf or {}).get("defect")
            return generate_transactions(partition_date.date(), rows=ROWS, accounts=ACCOUNTS,
                                         defect=Defect(defect) if defect else None)

        land_transactions()

    with DAG(FEATURES, schedule=PartitionedAssetTimetable(assets=transactions), start_date=start, catchup=False,
             tags=["guardrails", "partitioned"]) as consumer:

        @task.guarded(contract=settings.contracts_dir / "transaction_features.odcs.yaml",
                      target=str(root / "warehouse" / "transaction_features" / "date={partition}"),
                      asset=features, quarantine=quarantine)
        def transaction_features(triggering_asset_events: Any = None) -> pl.DataFrame:
            """Features of the published partition the triggering event names."""
            [event] = triggering_asset_events[transactions]
            return build_features(pl.read_parquet(event.extra["target"]))

        transaction_features()

    return landing, consumer


landing, features = build(DemoSettings.from_env())
