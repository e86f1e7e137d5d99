"""Every use of Dagster's private modules and tables, in one room: the versions we support are named here.

Dagster's public API (``import dagster as dg``) covers most of the adapter. What it lacks, we take from
``dagster._core`` here and nowhere else, each through a named function that says why it is needed and since
which Dagster version it is known to work, so a Dagster upgrade that moves one of them breaks this module only
(and `tests/dagster/test_compat.py`, which exercises each function on a real instance and checks that no other
guardrails module imports ``dagster._``). CI runs the Dagster tests on the oldest and the newest supported minor
(``make test-oldest-dagster``).

GraphQL offers none of these to a process holding only a `DagsterInstance`: its check-history and
start/stop-instigator calls need a loaded workspace (a webserver), which the CLI and sensors do not have.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.definitions.sensor_definition import SensorType
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.remote_origin import RemoteInstigatorOrigin, RemoteRepositoryOrigin
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    ScheduleInstigatorData,
    SensorInstigatorData,
)
from dagster._core.storage.asset_check_execution_record import (
    COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES,
    AssetCheckExecutionRecord,
)
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_select

SUPPORTED_DAGSTER = ">=1.12.20,<1.14"
"""The Dagster releases this module is tested against (pyproject.toml pins the same range). The floor is the first
release with everything the adapter uses: check evaluations that carry a partition (1.12.13) and
``build_output_context(asset_partitions_def=...)`` for releasing a partition (1.12.20)."""

CheckExecutionRecord = AssetCheckExecutionRecord
"""One row of a check's execution history (``.key``, ``.run_id``, ``.status``, ``.evaluation``, ``.partition``,
``.create_timestamp``), for annotations outside this module."""

RepositoryOrigin = RemoteRepositoryOrigin
"""How the instance names a code location's repository (the key of its schedules' and sensors' stored state)."""

RUNNING = InstigatorStatus.RUNNING.value
STOPPED = InstigatorStatus.STOPPED.value
DECLARED_IN_CODE = InstigatorStatus.DECLARED_IN_CODE.value
"""A schedule's or sensor's status values as the instance stores them (DECLARED_IN_CODE: nothing stored, the
``default_status`` in code decides)."""


def evaluation_target(
    *, storage_id: int, run_id: str, timestamp: float
) -> AssetCheckEvaluationTargetMaterializationData:
    """The materialization an `AssetCheckEvaluation` judged, for its ``target_materialization_data``.

    Needed because `AssetCheckEvaluation` is public but the type of this argument is not exported; without it the
    UI cannot tie a check outcome (a release, a runless freshness verdict, a partition's check) to the data it
    judged. Known to work from Dagster 1.12.20.
    """
    return AssetCheckEvaluationTargetMaterializationData(storage_id=storage_id, run_id=run_id, timestamp=timestamp)


def give_signature(fn: Callable[..., Any], signature: inspect.Signature) -> None:
    """Make Dagster see `signature` as `fn`'s parameters, resource annotations included.

    Needed because Dagster 1.13 reads a decorated function's resource parameters from an explicit
    ``__signature__`` while Dagster 1.12 reads them from ``__annotations__`` (``typing.get_type_hints``); a
    compute function built at run time (a guarded asset's) must carry both. Known to work from Dagster 1.12.20.
    """
    fn.__signature__ = signature  # type: ignore[attr-defined]
    fn.__annotations__ = {
        name: param.annotation for name, param in signature.parameters.items() if param.annotation is not param.empty
    }
    if signature.return_annotation is not signature.empty:
        fn.__annotations__["return"] = signature.return_annotation


def check_execution_history(
    instance: dg.DagsterInstance,
    check_key: dg.AssetCheckKey,
    *,
    limit: int,
    completed_only: bool = False,
    partition: str | None = None,
    before_id: int | None = None,
) -> Sequence[AssetCheckExecutionRecord]:
    """The latest `limit` executions of one check, newest first (only finished ones with `completed_only`; only
    those Dagster recorded on `partition` with it; only those whose execution row id is below `before_id`, to
    page back through the history).

    Needed because the public instance API reads only a check's latest evaluation
    (`get_latest_asset_check_evaluation_record`); the history is on the event-log storage, an attribute of the
    public instance that works on SQLite and PostgreSQL alike. Known to work from Dagster 1.12.20
    (``partition_filter`` and `PartitionKeyFilter` appeared in 1.12.13 with partitioned check evaluations).
    """
    return instance.event_log_storage.get_asset_check_execution_history(
        check_key,
        limit=limit,
        cursor=before_id,
        status=COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES if completed_only else None,
        partition_filter=PartitionKeyFilter(key=partition) if partition is not None else None,
    )


def checks_with_executions(instance: dg.DagsterInstance, asset: dg.AssetKey | None = None) -> list[dg.AssetCheckKey]:
    """The checks with executions recorded (on `asset`, or on any asset), sorted, in one query.

    Needed because Dagster has no call that lists checks without a loaded code location, and the CLI must find the
    checks a pipeline recorded from the instance alone: this reads the asset-check executions table of the SQL
    event-log storage (SQLite and PostgreSQL storages both are `SqlEventLogStorage`). Known to work from
    Dagster 1.12.20.

    Raises:
        TypeError: the instance's event-log storage is not SQL-backed.
    """
    storage = instance.event_log_storage
    if not isinstance(storage, SqlEventLogStorage):
        raise TypeError(f"reading check names needs a SQL event log storage, got {type(storage).__name__}")
    table = AssetCheckExecutionsTable
    query = db_select([table.c.asset_key, table.c.check_name]).distinct()
    if asset is not None:
        query = query.where(table.c.asset_key == asset.to_string())
    with storage.index_connection() as conn:
        rows = conn.execute(query).fetchall()
    return sorted(
        (dg.AssetCheckKey(dg.AssetKey.from_db_string(row[0]), row[1]) for row in rows),
        key=lambda key: (key.asset_key.to_user_string(), key.name),
    )


def repository_origin(code_location_origin: object, repository_name: str) -> RemoteRepositoryOrigin:
    """The repository origin a sensor's context names (`code_location_origin`, `repository_name`).

    Needed to key a schedule's or sensor's stored on/off state, which Dagster files under private origin types.
    Known to work from Dagster 1.12.20.
    """
    return RemoteRepositoryOrigin(code_location_origin, repository_name)  # type: ignore[arg-type]


def is_automation_sensor(sensor: dg.SensorDefinition) -> bool:
    """Whether `sensor` is the daemon's declarative-automation sensor (it materializes only assets that have an
    automation condition, so it feeds no other asset).

    Needed because `SensorDefinition.sensor_type` is public but its enum is not. Known to work from Dagster 1.12.20.
    """
    return sensor.sensor_type is SensorType.AUTO_MATERIALIZE


def instigator_ids(origin: RemoteRepositoryOrigin, name: str) -> tuple[str, str]:
    """The (origin id, selector id) the instance stores the schedule or sensor `name` of `origin` under.

    Needed because those ids are computed by private origin types. Known to work from Dagster 1.12.20.
    """
    instigator = RemoteInstigatorOrigin(origin, name)
    return instigator.get_id(), instigator.get_selector().get_id()


def stored_instigator_status(instance: dg.DagsterInstance, origin_id: str, selector_id: str) -> str:
    """A schedule's or sensor's stored status (`RUNNING`, `STOPPED`), or `DECLARED_IN_CODE` when none is stored.

    Needed because `DagsterInstance.get_instigator_state` returns a private type. Known to work from Dagster 1.12.20.
    """
    stored = instance.get_instigator_state(origin_id, selector_id)
    return stored.status.value if stored is not None else DECLARED_IN_CODE


def stop_instigator(
    instance: dg.DagsterInstance,
    origin: RemoteRepositoryOrigin,
    name: str,
    *,
    schedule: bool,
    cron_schedule: str | Sequence[str] | None = None,
    min_interval: int | None = None,
    sensor_type: object | None = None,
) -> None:
    """Store the schedule (`schedule`) or sensor `name` of `origin` as stopped, the way the UI's stop button does.

    A stored ``STOPPED`` state overrides ``default_status`` in code, so the feed stays stopped across code reloads
    and daemon restarts. Needed because GraphQL's stop mutations need a loaded workspace and the instance's
    instigator-state calls take private types. Known to work from Dagster 1.12.20.
    """
    instigator = RemoteInstigatorOrigin(origin, name)
    stored = instance.get_instigator_state(instigator.get_id(), instigator.get_selector().get_id())
    if stored is not None:
        instance.update_instigator_state(stored.with_status(InstigatorStatus.STOPPED))
        return
    if schedule:
        kind, data = InstigatorType.SCHEDULE, ScheduleInstigatorData(cron_schedule or "")
    else:
        kind = InstigatorType.SENSOR
        data = SensorInstigatorData(min_interval=min_interval, sensor_type=sensor_type)  # type: ignore[arg-type]
    instance.add_instigator_state(InstigatorState(instigator, kind, InstigatorStatus.STOPPED, data))


def restore_instigator(
    instance: dg.DagsterInstance, origin_id: str, selector_id: str, previous_status: str, *, now: datetime
) -> bool:
    """Put a schedule or sensor that is still stored as stopped back to `previous_status`; False if it is not.

    A schedule's start time (a sensor's too) is reset to `now`, so the scheduler does not backfill the ticks it
    missed while stopped. One that someone restarted or deleted meanwhile is left alone. Needed because the
    instance's instigator-state calls take private types. Known to work from Dagster 1.12.20.
    """
    stored = instance.get_instigator_state(origin_id, selector_id)
    if stored is None or stored.status is not InstigatorStatus.STOPPED:
        return False
    restored = stored.with_status(InstigatorStatus(previous_status))
    data = stored.instigator_data
    if isinstance(data, ScheduleInstigatorData):
        restored = restored.with_data(ScheduleInstigatorData(data.cron_schedule, start_timestamp=now.timestamp()))
    elif isinstance(data, SensorInstigatorData):
        restored = restored.with_data(data.with_sensor_start_timestamp(now.timestamp()))
    instance.update_instigator_state(restored)
    return True
