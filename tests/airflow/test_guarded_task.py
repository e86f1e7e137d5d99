"""`@task.guarded` on real Airflow 3: ``dag.test()`` of the example DAG on a migrated SQLite metadata DB.

A good day publishes to the target and records an asset event whose extra is the outcome; a bad day is
quarantined (manifest, XCom), fails its task and the run, leaves the target unwritten, and downstream is
``upstream_failed``; `guardrails quarantine release` then publishes it to the recorded target once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow.sdk")

import pyarrow.parquet as pq
from sqlalchemy import select
from typer.testing import CliRunner

from definitions.data import Defect, defect_rows
from guardrails.cli import app
from guardrails.quarantine import QuarantineState, QuarantineStore
from definitions.airflow_demo import xcom_value as _xcom

pytestmark = pytest.mark.xdist_group("airflow")

CONTRACTS = Path(__file__).resolve().parents[2] / "expectations"


def _run(logical_date: datetime, conf: dict[str, Any] | None = None) -> Any:
    from definitions.airflow_dag import dag

    return dag.test(logical_date=logical_date, run_conf=conf)


def _states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def _asset_events(dag_run: Any, table: str) -> list[Any]:
    """The extras of the events the run recorded on the asset of `table`'s target (its default asset)."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.scalars(
            select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri.endswith(f"/airflow/warehouse/{table}"), AssetEvent.source_run_id == dag_run.run_id)
        ).all()
        return [dict(event.extra) for event in events]




def test_good_day_is_published_with_its_outcome_on_the_asset_event(airflow_db: Path, example_home: Path) -> None:
    """A batch that honours its contract is written to the target and its asset event's extra is the outcome."""
    dag_run = _run(datetime(2026, 11, 4, tzinfo=UTC))

    assert str(dag_run.state) == "success"
    assert _states(dag_run) == {"clean_transactions": "success", "transaction_features": "success",
                                "train_fraud_model": "success", "promote_fraud_model": "success"}
    target = example_home / "airflow/warehouse/transactions/date=2026-11-03/data.parquet"
    assert pq.read_metadata(target).num_rows == 2_000
    [extra] = _asset_events(dag_run, "transactions")
    assert extra["status"] == "passed" and extra["quarantined"] is False
    assert extra["batch_id"] == "transactions.2026-11-03"
    assert extra["partition"] == "2026-11-03"
    assert extra["as_of"] == "2026-11-04T00:00:00+00:00"
    assert extra["contract_version"] == "1.2.0"
    assert extra["rows_published"] == 2_000 and extra["rows_quarantined"] == 0
    assert len(extra["rules"]) >= 10
    assert {(rule["status"], rule["failing_rows"]) for rule in extra["rules"].values()} == {("passed", 0)}
    assert extra["target"] == f"file://{target}"
    assert _xcom(dag_run, "clean_transactions", "return_value") == extra
    [features] = _asset_events(dag_run, "transaction_features")
    assert features["status"] == "passed"


def test_bad_day_is_quarantined_fails_the_run_and_is_released_to_its_target(
    airflow_db: Path, example_home: Path
) -> None:
    """A bad batch is quarantined, fails its task (downstream upstream_failed, run failed), writes nothing to the
    target and no asset event; the CLI release re-checks it and publishes it to the recorded target once."""
    dag_run = _run(datetime(2026, 11, 5, tzinfo=UTC), {"defect": Defect.FUTURE_TIMESTAMPS.value})

    assert str(dag_run.state) == "failed"
    assert _states(dag_run) == {"clean_transactions": "failed", "transaction_features": "upstream_failed",
                                "train_fraud_model": "upstream_failed", "promote_fraud_model": "upstream_failed"}
    target = example_home / "airflow/warehouse/transactions/date=2026-11-04/data.parquet"
    assert not target.exists()
    assert _asset_events(dag_run, "transactions") == []
    record = _xcom(dag_run, "clean_transactions", "guardrails_outcome")
    assert record["status"] == "failed" and record["quarantined"] is True
    assert record["batch_id"] == "transactions.2026-11-04"
    assert record["rows_quarantined"] == 2_000
    assert record["failed_rules"] == ["event_time.not_in_future"]
    failing = defect_rows(2_000, Defect.FUTURE_TIMESTAMPS)
    assert record["rules"]["event_time.not_in_future"] == {
        "status": "failed", "severity": "error", "failing_rows": failing, "observed": float(failing), "ran": True}
    store = QuarantineStore(example_home / "quarantine")
    manifest = store.show("transactions.2026-11-04")
    assert manifest.state is QuarantineState.QUARANTINED
    assert manifest.source == f"target:file://{target}"
    assert manifest.run_id == dag_run.run_id

    # Two days later the producer's fast clock is no longer in the future: the release passes and publishes once.
    args = ["quarantine", "release", "transactions.2026-11-04", "--contract", str(CONTRACTS / "transactions.odcs.yaml"),
            "--store", str(example_home / "quarantine"), "--as-of", "2026-11-07T00:00:00+00:00"]
    released = CliRunner().invoke(app, args)
    assert released.exit_code == 0, released.output
    assert pq.read_metadata(target).num_rows == 2_000
    assert store.show("transactions.2026-11-04").released_to == f"file://{target}"
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and "already released" in again.output
