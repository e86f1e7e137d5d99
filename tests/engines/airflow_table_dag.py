"""An Airflow DAG whose guarded task stages a batch as a DuckDB table (for `test_guard_table_airflow`).

Built from ``engine_wap.json`` in the DAGs folder: ``{"database", "quarantine", "policy_contract"}``. The task stages
the day's rows in the target's DuckDB file and returns the staging table's name; the guard audits it there and
publishes it in one transaction.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG
from airflow.timetables.interval import CronDataIntervalTimetable

from guardrails.airflow import GuardedOperator
from guardrails.quarantine import TableTarget
from tests.engines.wap import ROWS, stage, uri

DAG_ID = "guardrails_engine_wap"


def _stage(database: str, data_interval_start: Any = None, **_: Any) -> str:
    day = data_interval_start.date().isoformat()
    return stage(database, "tx_staging", [(i, day, a) for i, _, a in ROWS])  # the connection is closed on return


def build(spec: dict[str, Any]) -> DAG:
    with DAG(DAG_ID, schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
             start_date=datetime(2026, 11, 1, tzinfo=UTC), catchup=False) as dag:
        GuardedOperator(
            task_id="stage_transactions",
            python_callable=_stage,
            op_args=[spec["database"]],
            contract=spec["contract"],
            target=TableTarget(uri(spec["database"], "tx"), partition_column="day"),
            quarantine=spec["quarantine"],
        )
    return dag


def build_from_file(path: Path) -> DAG:
    return build(json.loads(path.read_text()))
