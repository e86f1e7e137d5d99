"""The conformance table as one Airflow DAG: a guarded task per fixture, no dependencies between them.

One ``dag.test()`` then judges every fixture through the real task runner (a DAG run per fixture would cost a
second or more each). Each task returns its fixture's Parquet path, as a landing task would.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG
from airflow.timetables.interval import CronDataIntervalTimetable

from guardrails.airflow import GuardedOperator

DAG_ID = "guardrails_conformance"


def task_id(fixture: str) -> str:
    """A valid task id for a fixture name (``clean@rows`` -> ``clean__rows``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "__", fixture)


def _landed(path: str) -> str:
    return path


def build(spec: dict[str, Any]) -> DAG:
    """`spec`: ``{"fixtures": [{"name", "path", "contract", "allow_unrun"}], "out": dir}``; stores and targets per
    fixture."""
    out = Path(spec["out"])
    with DAG(DAG_ID, schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
             start_date=datetime(2026, 11, 1, tzinfo=UTC), catchup=False) as dag:
        for fixture in spec["fixtures"]:
            GuardedOperator(
                task_id=task_id(fixture["name"]),
                python_callable=_landed,
                op_args=[fixture["path"]],
                contract=fixture["contract"],
                target=str(out / "target" / task_id(fixture["name"]) / "{partition}"),
                quarantine=str(out / "quarantine" / task_id(fixture["name"])),
                allow_unrun=fixture["allow_unrun"],
            )
    return dag


def build_from_file(path: Path) -> DAG:
    return build(json.loads(path.read_text()))
