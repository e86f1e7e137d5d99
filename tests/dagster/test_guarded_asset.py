"""A guarded asset audits its batch before the IO manager: good batches are stored, bad ones quarantined."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import polars as pl

from definitions.data import Defect, defect_rows, generate_transactions, write_batch
from guardrails.dagster import OUTCOME_KEY, guarded_asset, outcome_from_metadata
from guardrails.outcome import CheckStatus
from guardrails.quarantine import QuarantineStore
from tests.dagster.conftest import recent_day, stored

ROWS = 400
CHECK = "transactions_contract"


def _pipeline(contract_path: Path, state: dict, *, policy: str | None = None):
    """A guarded landing asset whose batch `state` controls, and a downstream asset recording that it ran."""

    @guarded_asset(contract=str(contract_path), policy=policy)
    def transactions() -> pl.DataFrame:
        if state.get("path"):
            return state["path"]
        return generate_transactions(recent_day(), rows=ROWS, defect=state.get("defect"))

    @dg.asset
    def daily_totals(transactions: pl.DataFrame) -> pl.DataFrame:
        state.setdefault("downstream_saw", []).append(transactions.height)
        return transactions.group_by("currency").agg(pl.col("amount").sum())

    return transactions, daily_totals


def _check_records(instance: dg.DagsterInstance, asset: str = "transactions"):
    key = dg.AssetCheckKey(dg.AssetKey(asset), CHECK)
    return instance.event_log_storage.get_asset_check_execution_history(key, limit=10)


def test_good_batch_is_stored_and_check_passes_on_its_own_materialization(instance, resources, tmp_path, contract_path):
    """A clean batch reaches the IO manager, downstream runs, and the passed check targets this materialization."""
    state: dict = {}
    assets = _pipeline(contract_path, state)
    result = dg.materialize(assets, instance=instance, resources=resources)

    assert result.success
    assert stored(tmp_path / "warehouse", "transactions").height == ROWS
    assert state["downstream_saw"] == [ROWS]
    [record] = _check_records(instance)
    evaluation = record.evaluation
    assert evaluation.passed
    assert evaluation.target_materialization_data.run_id == result.run_id
    outcome = outcome_from_metadata(evaluation.metadata)
    assert outcome.status is CheckStatus.PASSED and outcome.rows == ROWS
    assert evaluation.metadata["guardrails/contract_version"].value == "1.2.0"
    rules = evaluation.metadata["guardrails/rules"]
    assert isinstance(rules, dg.TableMetadataValue) and len(rules.records) == len(outcome.rules)
    assert {c.name for c in rules.schema.columns} >= {"rule_id", "severity", "status", "failing_rows"}
    materialization = instance.get_latest_materialization_event(dg.AssetKey("transactions")).asset_materialization
    assert materialization.metadata["dagster/row_count"].value == ROWS


def test_bad_batch_is_quarantined_never_stored_and_fails_the_run(instance, resources, tmp_path, contract_path):
    """Out-of-range amounts: run FAILED, IO manager keeps the good batch, downstream skipped, all recorded."""
    state: dict = {}
    assets = _pipeline(contract_path, state)
    good = dg.materialize(assets, instance=instance, resources=resources)
    state["defect"] = Defect.OUT_OF_RANGE_AMOUNTS
    bad = dg.materialize(assets, instance=instance, resources=resources, raise_on_error=False)

    # The run is failed, so run_failure_sensor and alerting fire.
    assert not bad.success
    assert instance.get_run_by_id(bad.run_id).status is dg.DagsterRunStatus.FAILURE
    failure = next(e for e in bad.all_events if e.event_type_value == "STEP_FAILURE")
    assert failure.step_failure_data.user_failure_data.metadata["guardrails/batch_id"].value == "transactions"
    # The IO manager never received the bad batch: it still holds the good one; downstream did not run.
    assert stored(tmp_path / "warehouse", "transactions").equals(generate_transactions(recent_day(), rows=ROWS))
    assert state["downstream_saw"] == [ROWS]
    assert "daily_totals" not in {e.step_key for e in bad.all_events if e.event_type_value == "STEP_START"}
    latest = instance.get_latest_materialization_event(dg.AssetKey("transactions"))
    assert latest.run_id == good.run_id

    # The failed check is attributed to the quarantined batch, not to the previous materialization.
    newest, previous = _check_records(instance)
    evaluation = newest.evaluation
    assert newest.run_id == bad.run_id and not evaluation.passed
    assert evaluation.severity is dg.AssetCheckSeverity.ERROR and evaluation.blocking
    assert evaluation.target_materialization_data is None
    assert previous.evaluation.target_materialization_data.run_id == good.run_id
    assert evaluation.metadata["guardrails/batch_id"].value == "transactions"
    assert evaluation.metadata["guardrails/run_id"].value == bad.run_id
    outcome = outcome_from_metadata(evaluation.metadata)
    [failed] = outcome.failed_rules
    assert failed.rule_id == "amount.range" and failed.failing_rows == defect_rows(ROWS, Defect.OUT_OF_RANGE_AMOUNTS)
    assert evaluation.metadata["guardrails/rows_failing"].value == failed.failing_rows
    assert evaluation.metadata["guardrails/rows"].value == ROWS
    sample = evaluation.metadata["guardrails/failing_sample"]
    assert sample.records and all("transaction_id" in r.data for r in sample.records)

    # The quarantine is visible as an observation on the asset carrying the manifest.
    [observation] = [
        r.event_log_entry.asset_observation
        for r in instance.fetch_observations(dg.AssetKey("transactions"), limit=5).records
    ]
    assert observation.tags["guardrails/quarantined"] == "transactions"
    manifest = observation.metadata["guardrails/manifest"].data
    assert manifest["run_id"] == bad.run_id and manifest["rows_quarantined"] == ROWS

    # ... and the store holds the whole batch with a manifest saying why.
    store = QuarantineStore(resources["quarantine"].location)
    kept = store.show("transactions")
    assert kept.rows_quarantined == ROWS and kept.rows_published == 0
    assert [r.rule_id for r in kept.failed_rules] == ["amount.range"]
    assert kept.contract_version == "1.2.0" and kept.run_id == bad.run_id
    assert store.read("transactions").num_rows == ROWS
    assert OUTCOME_KEY in evaluation.metadata


def test_rows_policy_publishes_valid_rows_and_quarantines_the_rest(instance, resources, tmp_path, contract_path):
    """Under the rows policy the valid rows are stored, the invalid ones kept, the run stays green with a warning."""
    state: dict = {"defect": Defect.UNKNOWN_CATEGORIES}
    assets = _pipeline(contract_path, state, policy="rows")
    result = dg.materialize(assets, instance=instance, resources=resources)

    bad_rows = defect_rows(ROWS, Defect.UNKNOWN_CATEGORIES)
    assert result.success
    published = stored(tmp_path / "warehouse", "transactions")
    assert published.height == ROWS - bad_rows
    assert "crypto" not in published["merchant_category"].to_list()
    assert state["downstream_saw"] == [ROWS - bad_rows]
    [record] = _check_records(instance)
    assert not record.evaluation.passed and record.evaluation.severity is dg.AssetCheckSeverity.WARN
    assert record.evaluation.target_materialization_data.run_id == result.run_id
    assert record.evaluation.metadata["guardrails/rows_quarantined"].value == bad_rows
    kept = QuarantineStore(resources["quarantine"].location).show("transactions")
    assert kept.rows_quarantined == bad_rows and kept.rows_published == ROWS - bad_rows


def test_unreadable_file_is_quarantined_as_error(instance, resources, tmp_path, contract_path):
    """A truncated Parquet file: the check could not run (status ERROR), bytes are kept, the run fails."""
    path = write_batch(generate_transactions(recent_day(), rows=ROWS), tmp_path / "in" / "tx.parquet",
                       defect=Defect.CORRUPT_FILE)
    state: dict = {"path": str(path)}
    result = dg.materialize(_pipeline(contract_path, state), instance=instance, resources=resources,
                            raise_on_error=False)

    assert not result.success
    assert stored(tmp_path / "warehouse", "transactions") is None
    [record] = _check_records(instance)
    outcome = outcome_from_metadata(record.evaluation.metadata)
    assert outcome.status is CheckStatus.ERROR and outcome.error
    assert record.evaluation.metadata["guardrails/error"].value == outcome.error
    kept = QuarantineStore(resources["quarantine"].location)
    assert kept.read("transactions") == path.read_bytes()


def test_partitions_are_audited_and_quarantined_independently(instance, resources, tmp_path, contract_path):
    """A bad day is quarantined under its own batch id while a good day is published; as_of is the window end."""
    start = date(2026, 9, 1)  # far older than maxAge (30 days) from today: only the window-end as_of passes it
    daily = dg.DailyPartitionsDefinition(start_date=start.isoformat())
    bad_day = "2026-09-03"

    @guarded_asset(contract=str(contract_path), partitions_def=daily)
    def transactions(context: dg.AssetExecutionContext) -> pl.DataFrame:
        day = date.fromisoformat(context.partition_key)
        return generate_transactions(day, rows=ROWS, defect=Defect.DUPLICATE_IDS if context.partition_key == bad_day else None)

    good = dg.materialize([transactions], instance=instance, resources=resources, partition_key="2026-09-02")
    bad = dg.materialize([transactions], instance=instance, resources=resources, partition_key=bad_day,
                         raise_on_error=False)

    assert good.success and not bad.success
    assert stored(tmp_path / "warehouse", "transactions", partition="2026-09-02").height == ROWS
    assert stored(tmp_path / "warehouse", "transactions", partition=bad_day) is None
    store = QuarantineStore(resources["quarantine"].location)
    assert [m.batch_id for m in store.list()] == [f"transactions.{bad_day}"]
    # One completed check row per partition run (none left PLANNED), each naming its partition.
    rows = {(r.run_id, r.partition, r.status.value) for r in _check_records(instance)}
    assert rows == {(good.run_id, "2026-09-02", "SUCCEEDED"), (bad.run_id, bad_day, "FAILED")}
    records = {r.run_id: r.evaluation for r in _check_records(instance)}
    assert records[good.run_id].target_materialization_data.run_id == good.run_id
    good_outcome = outcome_from_metadata(records[good.run_id].metadata)
    assert good_outcome.passed
    assert good_outcome.as_of == datetime(2026, 9, 3, tzinfo=UTC)
    assert records[bad.run_id].metadata["guardrails/partition"].value == bad_day
    [observation] = instance.fetch_observations(dg.AssetKey("transactions"), limit=5).records
    assert observation.partition_key == bad_day
    materialized = instance.get_materialized_partitions(dg.AssetKey("transactions"))
    assert materialized == {"2026-09-02"}
