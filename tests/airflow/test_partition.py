"""Airflow 3.2+ partitioned assets: a guarded task names its run's partition key everywhere, and a partitioned DAG
downstream is queued for that key and sees it.

``dag.test()`` cannot give a run a partition key (Airflow 3.3 creates its run without one), so a partitioned run
is made as Airflow makes it: triggered with a key (`airflow.api.common.trigger_dag`, what ``airflow dags trigger``
and the REST API call), the consumer's run created from its pending partition by the scheduler's own method, and
each run's tasks executed by the task runner ``dag.test()`` uses (`run_queued`). A ``dag.test()`` run of the
same partitioned DAG shows the fallback: no key, so the logical day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow.sdk")

import pyarrow.parquet as pq
from sqlalchemy import select

from definitions.data import Defect
from guardrails.quarantine import QuarantineState, QuarantineStore
from definitions.airflow_demo import xcom_value as _xcom

pytestmark = pytest.mark.xdist_group("airflow")


def run_queued(dag: Any, run_id: str) -> Any:
    """Run a queued DAG run's tasks to the end as ``dag.test()`` does (no scheduler, no executor); the run."""
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun
    from airflow.sdk.definitions.dag import _run_task
    from airflow.settings import Session
    from airflow.utils.state import DagRunState, TaskInstanceState

    session = Session()
    dag_run = session.scalar(select(DagRun).where(DagRun.dag_id == dag.dag_id, DagRun.run_id == run_id))
    dag_run.dag = DBDagBag().get_dag_for_run(dag_run, session=session)
    dag_run.set_state(DagRunState.RUNNING)
    session.commit()
    steps = 0
    while dag_run.state == DagRunState.RUNNING:
        steps += 1  # a step runs every ready task: a two-task run needs three, fifty means a task can never run
        assert steps <= 50, f"{dag_run} still running: {dag_run.get_task_instances(session=session)}"
        session.expire_all()
        schedulable, _ = dag_run.update_state(session=session)
        for ti in schedulable:
            ti.try_number += 1
            ti.state = TaskInstanceState.SCHEDULED
        session.commit()
        for ti in dag_run.get_task_instances(state=[TaskInstanceState.SCHEDULED], session=session):
            try:
                _run_task(ti=ti, task=dag.task_dict[ti.task_id])
            except Exception:  # noqa: BLE001 - a failed task is the run's state, as in dag.test()
                pass
    session.close()
    return dag_run


@pytest.fixture(scope="module")
def partitioned(airflow_db: Path) -> tuple[Any, Any]:
    """The landing and features DAGs serialized to the metadata DB, the consumer unpaused (as it would be deployed)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    from tests.airflow.partitioned_dag import FEATURES, features, landing

    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    for bundle in manager.get_all_dag_bundles():
        bundle.initialize()
        sync_bag_to_db(BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name),
                       bundle.name, bundle.version)
    with create_session() as session:
        session.get(DagModel, FEATURES).is_paused = False
    return landing, features


def _trigger(dag: Any, key: str, conf: dict[str, Any] | None = None) -> Any:
    """A manual run of `dag` for partition `key` (no logical date), run to the end."""
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.utils.types import DagRunTriggeredByType

    queued = trigger_dag(dag.dag_id, triggered_by=DagRunTriggeredByType.TEST, partition_key=key, conf=conf or {})
    return run_queued(dag, queued.run_id)


def _schedule_consumers() -> list[tuple[str, str]]:
    """The scheduler's step that turns pending asset partitions into consumer runs; (dag id, run id) created."""
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        dag_ids = SchedulerJobRunner(job=Job())._create_dagruns_for_partitioned_asset_dags(session)
        session.flush()
        runs = session.scalars(select(DagRun).where(DagRun.dag_id.in_(dag_ids), DagRun.state == "queued")).all()
        return [(run.dag_id, run.run_id) for run in runs]


def _events(dag_run: Any) -> list[tuple[str | None, dict[str, Any]]]:
    """(partition key, extra) of every asset event the run's tasks recorded."""
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.scalars(select(AssetEvent).where(
            AssetEvent.source_dag_id == dag_run.dag_id, AssetEvent.source_run_id == dag_run.run_id)).all()
        return [(event.partition_key, dict(event.extra)) for event in events]




def _pending_partitions(dag_id: str) -> list[str]:
    from airflow.models.asset import AssetPartitionDagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        return list(session.scalars(select(AssetPartitionDagRun.partition_key).where(
            AssetPartitionDagRun.target_dag_id == dag_id)))


def _yesterday() -> date:
    """A recent partition, as a scheduled run lands it (judged as of the run's start, now: its rows are all past)."""
    return (datetime.now(UTC) - timedelta(days=1)).date()


def test_a_partitioned_run_names_its_key_everywhere_and_the_consumer_runs_for_it(
    partitioned: tuple[Any, Any], example_home: Path
) -> None:
    """The run's partition key is the batch id's, the target's, the record's and the asset event's, and the
    partitioned consumer gets a run for that key whose guarded task records the same partition."""
    landing, features = partitioned
    key = _yesterday().isoformat()

    dag_run = _trigger(landing, key)

    assert str(dag_run.state) == "success"
    record = _xcom(dag_run, "land_transactions", "return_value")
    assert record["partition"] == key and record["batch_id"] == f"transactions.{key}"
    assert record["status"] == "passed" and record["rows_published"] == 2_000
    assert datetime.fromisoformat(record["as_of"]) == dag_run.start_date  # no data interval: the run's start
    target = example_home / f"partitioned/warehouse/transactions/date={key}/data.parquet"
    assert record["target"] == f"file://{target}" and pq.read_metadata(target).num_rows == 2_000
    assert _events(dag_run) == [(key, record)]
    assert _pending_partitions(features.dag_id) == [key]

    [(consumer_dag, consumer_run_id)] = _schedule_consumers()
    consumer = run_queued(features, consumer_run_id)

    assert consumer_dag == features.dag_id and consumer.partition_key == key
    assert str(consumer.state) == "success"
    features_record = _xcom(consumer, "transaction_features", "return_value")
    assert features_record["partition"] == key and features_record["batch_id"] == f"transaction_features.{key}"
    assert features_record["rows_in"] == 2_000
    assert _events(consumer) == [(key, features_record)]


def test_a_bad_partition_is_quarantined_under_its_key_and_queues_no_consumer(
    partitioned: tuple[Any, Any], example_home: Path
) -> None:
    """A bad batch of a partitioned run is kept under ``<table>.<key>`` with the key in its manifest's source and
    record; nothing is published, no event is recorded, so no consumer run is queued for the key."""
    landing, features = partitioned
    key = (_yesterday() - timedelta(days=1)).isoformat()

    dag_run = _trigger(landing, key, {"defect": Defect.NULLS.value})

    assert str(dag_run.state) == "failed"
    record = _xcom(dag_run, "land_transactions", "guardrails_outcome")
    assert record["partition"] == key and record["quarantined"] is True
    manifest = QuarantineStore(example_home / "partitioned/quarantine").show(f"transactions.{key}")
    assert manifest.state is QuarantineState.QUARANTINED and manifest.run_id == dag_run.run_id
    target = example_home / f"partitioned/warehouse/transactions/date={key}"
    assert manifest.source == f"target:file://{target}/data.parquet"
    assert not target.exists()
    assert _events(dag_run) == []
    assert key not in _pending_partitions(features.dag_id)


def test_dag_test_of_a_partitioned_dag_has_no_key_and_falls_back_to_the_logical_day(
    partitioned: tuple[Any, Any],
) -> None:
    """``dag.test()`` gives a partitioned DAG's run no key: the partition is the logical day, the event has no key,
    and Airflow logs that the partitioned consumer was not queued."""
    from airflow.models.log import Log
    from airflow.utils.session import create_session

    landing, features = partitioned
    day = datetime.combine(_yesterday() - timedelta(days=2), datetime.min.time(), tzinfo=UTC)

    dag_run = landing.test(logical_date=day)  # lands the day before, judged as of the run's start: the logical date

    assert str(dag_run.state) == "success" and dag_run.partition_key is None
    record = _xcom(dag_run, "land_transactions", "return_value")
    assert record["partition"] == day.date().isoformat()
    assert _events(dag_run) == [(None, record)]
    assert day.date().isoformat() not in _pending_partitions(features.dag_id)
    with create_session() as session:
        assert session.scalar(select(Log).where(Log.event == "missing partition key", Log.run_id == dag_run.run_id))


def test_a_partition_key_comes_before_the_data_interval() -> None:
    """A run with both a key and a data interval is partitioned by its key and judged as of the interval's end."""
    from types import SimpleNamespace

    from guardrails.airflow import TaskScope

    start, end = datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)
    dag_run = SimpleNamespace(run_id="manual__x", start_date=datetime(2026, 11, 9, tzinfo=UTC),
                              partition_key="eu|2026-11-03")
    context = {"ti": SimpleNamespace(dag_id="fraud", task_id="clean"), "run_id": "manual__x", "dag_run": dag_run,
               "partition_key": "eu|2026-11-03", "logical_date": start, "data_interval_start": start,
               "data_interval_end": end}

    scope = TaskScope.from_context(context)

    assert (scope.partition, scope.as_of) == ("eu|2026-11-03", end)
    assert scope.batch_id("transactions") == "transactions.eu_2026-11-03"
