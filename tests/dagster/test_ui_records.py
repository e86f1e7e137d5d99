"""What the Dagster UI reads from our records: partitioned check specs, per-partition statuses, a clean failure.

The UI shows a check's Partition column only when its spec has a partitions definition, aggregates a partitioned
check's status over its per-partition statuses (any failed partition shows "Failed"), and prints the error of a
failed step. These tests read the same records the UI's GraphQL reads.
"""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionResolvedStatus
from dagster._core.storage.asset_check_state import AssetCheckState, bulk_update_asset_check_state

from definitions.data import Defect, generate_transactions
from guardrails.checks import FreshnessSettings
from guardrails.dagster import build_contract_checks, guarded_asset
from guardrails.dagster.ml import build_freshness_checks, build_freshness_sensor
from guardrails.quarantine import QuarantineStore
from tests.dagster.conftest import recent_day

daily = dg.DailyPartitionsDefinition(start_date="2026-09-01")
FRESHNESS = FreshnessSettings(frequency=timedelta(hours=1))


def _guarded(contract_path, defects: dict[str, Defect], **asset_kwargs) -> dg.AssetsDefinition:
    @guarded_asset(contract=str(contract_path), partitions_def=daily, **asset_kwargs)
    def transactions(context: dg.AssetExecutionContext) -> pl.DataFrame:
        day = context.partition_key
        return generate_transactions(date.fromisoformat(day), rows=300, defect=defects.get(day))

    return transactions


def _partition_statuses(
    instance: dg.DagsterInstance, key: dg.AssetCheckKey, partitions_def: dg.PartitionsDefinition
) -> dict[AssetCheckExecutionResolvedStatus, set[str]]:
    """Per-partition statuses of a check, computed as the UI's GraphQL ``partitionStatuses`` computes them."""
    state = bulk_update_asset_check_state(instance, [(key, partitions_def)], {key: AssetCheckState.empty()})[key]
    return {status: set(subset.subset_value.get_partition_keys()) for status, subset in state.subsets.items()
            if not subset.is_empty}


def test_contract_check_specs_are_partitioned_like_their_asset_without_warnings(contract_path):
    """The guard's and `build_contract_checks`' specs carry the asset's partitions (the UI's Partition column)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Dagster's preview warning for partitioned check specs stays inside
        guarded = _guarded(contract_path, {})
        [checks] = build_contract_checks([guarded], contract=str(contract_path), check_name="stored_contract")

    assert [spec.partitions_def for spec in guarded.check_specs] == [daily]
    assert [spec.partitions_def for spec in checks.check_specs] == [daily]


def test_quarantine_fails_the_step_once_with_a_plain_failure(instance, resources, contract_path):
    """A quarantine is a data failure: the step is not retried under a retry policy and its error has no cause."""
    day = recent_day().isoformat()
    transactions = _guarded(contract_path, {day: Defect.UNKNOWN_CATEGORIES},
                            retry_policy=dg.RetryPolicy(max_retries=2))

    result = dg.materialize([transactions], instance=instance, resources=resources, partition_key=day,
                            raise_on_error=False)

    assert not result.success
    kinds = [e.event_type_value for e in result.all_events]
    assert "STEP_UP_FOR_RETRY" not in kinds and kinds.count("STEP_FAILURE") == 1
    [failure] = [e.step_failure_data for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.user_failure_data.description.startswith("transactions: nothing published")
    assert failure.error.cause is None and failure.error.context is None
    assert [m.batch_id for m in QuarantineStore(resources["quarantine"].location).list()] == [f"transactions.{day}"]


def test_runless_freshness_names_the_partition_it_judged_so_the_check_status_agrees(instance, resources,
                                                                                     contract_path):
    """A sensor's freshness evaluation is recorded on the partition it judged, so the per-partition status the
    UI aggregates agrees with it: a quarantined day released later is not left "execution failed"."""
    good, bad = "2026-10-01", "2026-10-02"
    transactions = _guarded(contract_path, {bad: Defect.UNKNOWN_CATEGORIES})
    checks = build_freshness_checks([transactions], settings=FRESHNESS)
    dg.materialize([transactions, *checks], instance=instance, resources=resources, partition_key=good)
    quarantined = dg.materialize([transactions, *checks], instance=instance, resources=resources, partition_key=bad,
                                 raise_on_error=False)
    assert not quarantined.success  # the freshness check of the bad day was planned, and never ran
    # The batch is released (as `release_guarded_batch` records it): a runless materialization of the bad day.
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=transactions.key, partition=bad))
    released_at = datetime.fromtimestamp(instance.fetch_materializations(transactions.key, limit=1).records[0].timestamp,
                                         tz=UTC)

    sensor = build_freshness_sensor([transactions], settings=FRESHNESS, clock=lambda: released_at + timedelta(minutes=5))
    sensor.evaluate_tick(dg.build_sensor_context(instance=instance))

    [check_key] = checks[0].check_keys
    [latest] = instance.event_log_storage.get_asset_check_execution_history(check_key, limit=1)
    assert latest.evaluation.passed and latest.evaluation.partition == bad
    statuses = _partition_statuses(instance, check_key, daily)
    assert statuses == {AssetCheckExecutionResolvedStatus.SUCCEEDED: {good, bad}}


def test_runless_stale_freshness_names_the_partition_that_is_due(instance, resources, contract_path):
    """A stale asset's runless evaluation fails the newest partition due by then (the one remediation would run)."""
    transactions = _guarded(contract_path, {})
    as_of = datetime(2026, 10, 5, 5, tzinfo=UTC)
    sensor = build_freshness_sensor([transactions], settings=FRESHNESS, clock=lambda: as_of)
    sensor.evaluate_tick(dg.build_sensor_context(instance=instance))

    key = dg.AssetCheckKey(transactions.key, "freshness")
    [latest] = instance.event_log_storage.get_asset_check_execution_history(key, limit=1)
    assert not latest.evaluation.passed and latest.evaluation.partition == "2026-10-04"
    assert _partition_statuses(instance, key, daily) == {AssetCheckExecutionResolvedStatus.FAILED: {"2026-10-04"}}


def test_repeated_runless_freshness_on_one_partition_is_recorded_every_tick(instance, resources, contract_path):
    """Dagster stores one runless evaluation per check partition: later ticks on that partition still record."""
    day = "2026-10-01"
    transactions = _guarded(contract_path, {})
    dg.materialize([transactions], instance=instance, resources=resources, partition_key=day)
    materialized = instance.fetch_materializations(transactions.key, limit=1).records[0].timestamp
    for minutes in (5, 10, 15):
        at = datetime.fromtimestamp(materialized, tz=UTC) + timedelta(minutes=minutes)
        build_freshness_sensor([transactions], settings=FRESHNESS, clock=lambda at=at: at).evaluate_tick(
            dg.build_sensor_context(instance=instance))

    history = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(transactions.key, "freshness"), limit=10)
    assert [(r.evaluation.passed, r.evaluation.partition) for r in history] == [(True, None), (True, None), (True, day)]
