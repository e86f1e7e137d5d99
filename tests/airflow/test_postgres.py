"""The example DAG on a PostgreSQL metadata DB: ``airflow db migrate`` and a good and a bad day under ``dag.test()``.

Airflow reads its metadata DB's URL once, when it is imported, so the runs happen in a child process with an
``AIRFLOW_HOME`` of their own (``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgresql+psycopg2://...``, a database this
test creates and drops, migrated there by the function ``airflow db migrate`` calls); the test reads what the runs
recorded back from PostgreSQL through Airflow's own ORM models.
Airflow 3.3 opens the same database through an async engine too (``postgresql+asyncpg``, derived from the URL), so
PostgreSQL needs both drivers: psycopg2 and asyncpg (the Makefile installs them into ``.venv-airflow``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow.sdk")

import psycopg2
import pyarrow.parquet as pq
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from definitions.data import Defect
from guardrails.quarantine import QuarantineState, QuarantineStore

pytestmark = pytest.mark.xdist_group("airflow-postgres")

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
RUNS = """
import json, sys, time
from datetime import UTC, datetime
from airflow.utils.db import upgradedb  # what `airflow db migrate` runs; one child saves importing Airflow twice
started = time.perf_counter()
upgradedb()
migrate = time.perf_counter() - started
from definitions.airflow_dag import dag
good = dag.test(logical_date=datetime(2026, 11, 4, tzinfo=UTC))
bad = dag.test(logical_date=datetime(2026, 11, 5, tzinfo=UTC), run_conf={"defect": sys.argv[2]})
with open(sys.argv[1], "w") as out:
    json.dump({"good": good.run_id, "bad": bad.run_id, "migrate_s": migrate}, out)
"""


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own (``af_pg_...``), dropped afterwards."""
    name = f"af_pg_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=10)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield f"{SERVER}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _child_env(tmp_path: Path, url: str) -> dict[str, str]:
    """The environment of an Airflow of its own: a fresh home, the example DAG only, the PostgreSQL metadata DB."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "fraud_transactions.py").write_text("from definitions.airflow_dag import dag  # the example airflow DAG\n")
    return {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow_home"), "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
            "GUARDRAILS_HOME": str(tmp_path / "guardrails_home")}


def _run(args: list[str], env: dict[str, str]) -> None:
    """Run a child Python with `args` (fails the test with the end of its output)."""
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


def test_the_example_on_a_postgresql_metadata_db(postgres_url: str, tmp_path: Path) -> None:
    """On PostgreSQL a good day is published with its outcome on the asset event, and a bad day is quarantined,
    fails the run with downstream upstream_failed, and leaves the target and the asset unwritten."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel

    _run(["-c", RUNS, str(tmp_path / "runs.json"), Defect.FUTURE_TIMESTAMPS.value], _child_env(tmp_path, postgres_url))
    run_ids = json.loads((tmp_path / "runs.json").read_text())
    print(f"migrating a new PostgreSQL metadata DB: {run_ids['migrate_s']:.1f} s")

    engine = create_engine(postgres_url)
    try:
        with Session(engine) as session:
            assert session.scalar(select(AssetModel.id).limit(1)) is not None  # the DAG's assets are registered
            runs = {run.run_id: run for run in session.scalars(select(DagRun))}
            states = {(ti.run_id, ti.task_id): str(ti.state) for ti in session.scalars(select(TaskInstance))}
            events = [(event.source_run_id, uri, dict(event.extra)) for event, uri in session.execute(
                select(AssetEvent, AssetModel.uri).join(AssetModel, AssetEvent.asset_id == AssetModel.id))]

            def xcom(run_id: str, key: str) -> Any:
                row = session.scalars(select(XComModel).where(
                    XComModel.run_id == run_id, XComModel.task_id == "clean_transactions", XComModel.key == key)).one()
                return XComModel.deserialize_value(row)

            published, quarantined = xcom(run_ids["good"], "return_value"), xcom(run_ids["bad"], "guardrails_outcome")
    finally:
        engine.dispose()

    home = tmp_path / "guardrails_home"
    good, bad = run_ids["good"], run_ids["bad"]
    assert (str(runs[good].state), str(runs[bad].state)) == ("success", "failed")
    assert states == {(good, "clean_transactions"): "success", (good, "transaction_features"): "success",
                      (good, "train_fraud_model"): "success", (good, "promote_fraud_model"): "success",
                      (bad, "clean_transactions"): "failed", (bad, "transaction_features"): "upstream_failed",
                      (bad, "train_fraud_model"): "upstream_failed", (bad, "promote_fraud_model"): "upstream_failed"}
    target = home / "airflow/warehouse/transactions/date=2026-11-03/data.parquet"
    assert pq.read_metadata(target).num_rows == 2_000
    assert published["status"] == "passed" and published["partition"] == "2026-11-03"
    assert published["target"] == f"file://{target}" and published["contract_version"] == "1.2.0"
    assert sorted((run, uri.rsplit("/", 1)[1], extra["status"]) for run, uri, extra in events) == [
        (good, "fraud_detector", "applied"), (good, "transaction_features", "passed"), (good, "transactions", "passed")]
    assert [extra for run, uri, extra in events if uri.endswith("/transactions")] == [published]

    assert quarantined["status"] == "failed" and quarantined["batch_id"] == "transactions.2026-11-04"
    assert quarantined["failed_rules"] == ["event_time.not_in_future"]
    manifest = QuarantineStore(home / "quarantine").show("transactions.2026-11-04")
    assert manifest.state is QuarantineState.QUARANTINED and manifest.run_id == bad
    assert manifest.rows_quarantined == 2_000
    assert not (home / "airflow/warehouse/transactions/date=2026-11-04").exists()
    assert not (home / "airflow/warehouse/transaction_features/date=2026-11-04").exists()
