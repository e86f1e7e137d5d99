"""Releasing a quarantined partition of a guarded asset stores it once through the IO manager and records it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from definitions.data import Defect, generate_transactions
from definitions.demo import fixed_contract
from guardrails.contract import load_contract
from guardrails.dagster import guarded_asset, read_check_history, release_guarded_batch
from guardrails.outcome import CheckStatus
from guardrails.quarantine import QuarantineError, QuarantineState, QuarantineStore, ReleaseStatus

ROWS = 300
DAY = "2026-09-03"
CHECK = "transactions_contract"
KEY = dg.AssetKey("transactions")


class RecordingIOManager(dg.IOManager):
    """A real Parquet IO manager that also remembers every write it was asked to do."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.writes: list[tuple[str | None, int]] = []

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        partition = context.asset_partition_key if context.has_asset_partitions else None
        path = Path(self.base_dir, *context.asset_key.path, f"{partition or 'data'}.parquet")
        path.parent.mkdir(parents=True, exist_ok=True)
        obj.write_parquet(path)
        self.writes.append((partition, obj.height))
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path))})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        raise NotImplementedError("the release only writes")


def _daily_transactions(contract_path: Path, defects: list[Defect]) -> dg.AssetsDefinition:
    """A daily guarded asset; each run lands the next batch of `defects` (a good batch once they run out)."""
    daily = dg.DailyPartitionsDefinition(start_date="2026-09-01")

    @guarded_asset(contract=str(contract_path), partitions_def=daily)
    def transactions(context: dg.AssetExecutionContext) -> pl.DataFrame:
        return generate_transactions(date.fromisoformat(context.partition_key), rows=ROWS,
                                     defect=defects.pop(0) if defects else None)

    return transactions


def _quarantine(instance, resources, contract_path) -> tuple[dg.AssetsDefinition, str]:
    """The `DAY` batch of a daily guarded asset carried an unknown merchant category and was quarantined."""
    transactions = _daily_transactions(contract_path, [Defect.UNKNOWN_CATEGORIES])
    result = dg.materialize([transactions], instance=instance, resources=resources, partition_key=DAY,
                            raise_on_error=False)
    assert not result.success
    [evaluation] = result.get_asset_check_evaluations()
    return transactions, evaluation.metadata["guardrails/batch_id"].value


@pytest.fixture
def quarantined(instance, resources, contract_path) -> tuple[dg.AssetsDefinition, str]:
    """A daily guarded asset whose `DAY` batch carried an unknown merchant category and was quarantined."""
    return _quarantine(instance, resources, contract_path)


def _materializations(instance: dg.DagsterInstance) -> list:
    return list(instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=KEY), limit=10).records)


def test_release_after_contract_fix_stores_once_and_records_materialization_and_passing_check(
    instance, quarantined, tmp_path, contract_path
):
    """A released partition is written once by the IO manager, materialized and its check passes, naming the batch."""
    assets_def, batch_id = quarantined
    store = QuarantineStore(tmp_path / "quarantine")
    contract = load_contract(fixed_contract(contract_path, tmp_path / "fixed" / contract_path.name))
    io_manager = RecordingIOManager(tmp_path / "released")

    released = release_guarded_batch(instance, assets_def, batch_id, contract, store=store, io_manager=io_manager)

    assert released.status is ReleaseStatus.RELEASED, released.message
    assert io_manager.writes == [(DAY, ROWS)]
    path = tmp_path / "released" / "transactions" / f"{DAY}.parquet"
    assert pl.read_parquet(path).height == ROWS
    assert released.released_to == str(path)
    assert store.show(batch_id).state is QuarantineState.RELEASED
    [materialization] = _materializations(instance)
    assert materialization.partition_key == DAY
    assert materialization.asset_materialization.metadata["guardrails/batch_id"].value == batch_id
    assert DAY in instance.get_materialized_partitions(KEY)
    [entry, failed] = read_check_history(instance, KEY, CHECK, partition=DAY)
    assert failed.passed is False and entry.passed is True
    assert entry.batch_id == batch_id
    assert entry.outcome.status is CheckStatus.PASSED and entry.outcome.contract_version == contract.version
    [record] = instance.event_log_storage.get_asset_check_execution_history(dg.AssetCheckKey(KEY, CHECK), limit=1)
    assert record.evaluation.target_materialization_data.storage_id == materialization.storage_id
    assert record.evaluation.metadata["guardrails/released_to"].value == str(path)


def test_second_release_is_a_no_op(instance, quarantined, tmp_path, contract_path):
    """Releasing an already released batch writes nothing again and records nothing new in Dagster."""
    assets_def, batch_id = quarantined
    store = QuarantineStore(tmp_path / "quarantine")
    contract = load_contract(fixed_contract(contract_path, tmp_path / "fixed" / contract_path.name))
    io_manager = RecordingIOManager(tmp_path / "released")
    first = release_guarded_batch(instance, assets_def, batch_id, contract, store=store, io_manager=io_manager)

    again = release_guarded_batch(instance, assets_def, batch_id, contract, store=store, io_manager=io_manager)

    assert first.status is ReleaseStatus.RELEASED
    assert again.status is ReleaseStatus.ALREADY_RELEASED and again.released_to == first.released_to
    assert io_manager.writes == [(DAY, ROWS)]
    assert len(_materializations(instance)) == 1
    assert [e.passed for e in read_check_history(instance, KEY, CHECK)] == [True, False]


def test_release_that_still_fails_stores_and_records_nothing(instance, quarantined, tmp_path, contract_path):
    """Re-validation against the unfixed contract refuses the release: no write, no materialization, no new check."""
    assets_def, batch_id = quarantined
    store = QuarantineStore(tmp_path / "quarantine")
    io_manager = RecordingIOManager(tmp_path / "released")

    refused = release_guarded_batch(instance, assets_def, batch_id, load_contract(contract_path), store=store,
                                    io_manager=io_manager)

    assert refused.status is ReleaseStatus.REFUSED
    assert refused.outcome is not None and refused.outcome.status is CheckStatus.FAILED
    assert io_manager.writes == []
    assert not (tmp_path / "released").exists()
    assert store.show(batch_id).state is QuarantineState.QUARANTINED
    assert _materializations(instance) == []
    [failed] = read_check_history(instance, KEY, CHECK)
    assert failed.passed is False


def test_batch_of_another_asset_is_refused_before_anything_runs(instance, quarantined, tmp_path, contract_path):
    """A batch id the given asset did not quarantine raises, and the batch stays quarantined."""
    assets_def, batch_id = quarantined
    store = QuarantineStore(tmp_path / "quarantine")
    other = guarded_asset(contract=str(contract_path), name="other")(lambda: None)
    contract = load_contract(fixed_contract(contract_path, tmp_path / "fixed" / contract_path.name))

    with pytest.raises(QuarantineError, match="not by asset other"):
        release_guarded_batch(instance, other, batch_id, contract, store=store,
                              io_manager=RecordingIOManager(tmp_path / "released"))

    assert store.show(batch_id).state is QuarantineState.QUARANTINED
    assert _materializations(instance) == []


def _fixed(contract_path: Path, tmp_path: Path):
    return load_contract(fixed_contract(contract_path, tmp_path / "fixed" / contract_path.name))


def test_release_after_a_corrected_run_is_refused_naming_both(
    instance, quarantined, resources, tmp_path, contract_path
):
    """A corrected batch materialized since the quarantine makes the old batch's release `superseded`: no write."""
    assets_def, batch_id = quarantined
    corrected = dg.materialize([assets_def], instance=instance, resources=resources, partition_key=DAY)
    io_manager = RecordingIOManager(tmp_path / "released")
    store = QuarantineStore(tmp_path / "quarantine")

    refused = release_guarded_batch(instance, assets_def, batch_id, _fixed(contract_path, tmp_path), store=store,
                                    io_manager=io_manager)

    assert refused.status is ReleaseStatus.SUPERSEDED and not refused.released
    assert f"(run {corrected.run_id})" in refused.message and f"{batch_id} was quarantined at" in refused.message
    assert io_manager.writes == []
    assert store.show(batch_id).state is QuarantineState.QUARANTINED
    [materialization] = _materializations(instance)
    assert materialization.run_id == corrected.run_id
    assert read_check_history(instance, KEY, CHECK, partition=DAY)[0].run_id == corrected.run_id


def test_a_materialization_the_store_never_saw_also_supersedes(instance, quarantined, tmp_path, contract_path):
    """Dagster's own record of the partition counts: a materialization from elsewhere refuses the release too."""
    assets_def, batch_id = quarantined
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=KEY, partition=DAY))
    io_manager = RecordingIOManager(tmp_path / "released")

    refused = release_guarded_batch(instance, assets_def, batch_id, _fixed(contract_path, tmp_path),
                                    store=QuarantineStore(tmp_path / "quarantine"), io_manager=io_manager)

    assert refused.status is ReleaseStatus.SUPERSEDED, refused.message
    assert refused.superseded_by is not None and refused.superseded_by.via.value == "host"
    assert io_manager.writes == []


def test_forced_release_overwrites_and_says_so_in_dagster(instance, quarantined, resources, tmp_path, contract_path):
    """With force the batch is stored and recorded; its materialization and evaluation name the run it overwrote."""
    assets_def, batch_id = quarantined
    corrected = dg.materialize([assets_def], instance=instance, resources=resources, partition_key=DAY)
    io_manager = RecordingIOManager(tmp_path / "released")

    forced = release_guarded_batch(instance, assets_def, batch_id, _fixed(contract_path, tmp_path),
                                   store=QuarantineStore(tmp_path / "quarantine"), io_manager=io_manager, force=True)

    assert forced.status is ReleaseStatus.RELEASED and io_manager.writes == [(DAY, ROWS)]
    latest = _materializations(instance)[0].asset_materialization
    assert f"(run {corrected.run_id})" in latest.metadata["guardrails/forced_over"].value
    assert "with force" in latest.description
    [record] = instance.event_log_storage.get_asset_check_execution_history(dg.AssetCheckKey(KEY, CHECK), limit=1)
    assert f"(run {corrected.run_id})" in record.evaluation.metadata["guardrails/forced_over"].value


class InstanceFailingIOManager(RecordingIOManager):
    """Stores the batch, then one of the instance's PostgreSQL tables goes away (as a failing database would)."""

    def __init__(self, base_dir: Path, postgres_url: str, table: str) -> None:
        super().__init__(base_dir)
        self.dbname = postgres_url.rsplit("/", 1)[1]
        self.table = table

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        super().handle_output(context, obj)
        _rename_table(self.dbname, self.table, f"{self.table}_unreachable")


def _rename_table(dbname: str, old: str, new: str) -> None:
    import psycopg2

    with psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname=dbname) as connection:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {old} RENAME TO {new}")
    connection.close()


@pytest.mark.parametrize(
    ("table", "missing"),
    [("event_logs", "materialization and passing"), ("asset_check_executions", "passing transactions_contract")],
    ids=["nothing-recorded", "evaluation-lost"],
)
def test_retry_after_the_instance_failed_completes_the_record(
    pg_instance, postgres_url, resources, tmp_path, contract_path, table, missing
):
    """The database fails after the IO manager stored the batch; a retry records what is missing, stores nothing."""
    assets_def, batch_id = _quarantine(pg_instance, resources, contract_path)
    store = QuarantineStore(tmp_path / "quarantine")
    contract = _fixed(contract_path, tmp_path)
    io_manager = InstanceFailingIOManager(tmp_path / "released", postgres_url, table)
    try:
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the database driver raises
            release_guarded_batch(pg_instance, assets_def, batch_id, contract, store=store, io_manager=io_manager)
    finally:
        _rename_table(io_manager.dbname, f"{table}_unreachable", table)
    assert store.show(batch_id).state is QuarantineState.RELEASED
    assert read_check_history(pg_instance, KEY, CHECK, partition=DAY)[0].passed is False
    retry_io = RecordingIOManager(tmp_path / "released")

    retried = release_guarded_batch(pg_instance, assets_def, batch_id, contract, store=store, io_manager=retry_io)

    assert retried.status is ReleaseStatus.ALREADY_RELEASED
    assert f"recorded its missing {missing}" in retried.message
    assert io_manager.writes == [(DAY, ROWS)] and retry_io.writes == []
    [materialization] = _materializations(pg_instance)
    assert materialization.asset_materialization.metadata["guardrails/batch_id"].value == batch_id
    latest = read_check_history(pg_instance, KEY, CHECK, partition=DAY)[0]
    assert latest.passed is True and latest.batch_id == batch_id
    again = release_guarded_batch(pg_instance, assets_def, batch_id, contract, store=store, io_manager=retry_io)
    assert "recorded" not in again.message  # nothing is missing any more
    assert len(_materializations(pg_instance)) == 1


def test_a_partition_released_twice_records_both_releases(instance, resources, tmp_path, contract_path):
    """A partition quarantined, released, then quarantined again with other bad data and released again: each
    release is stored once and recorded (materialization plus passing check) in a run of its own."""
    contract = load_contract(fixed_contract(contract_path, tmp_path / "fixed" / contract_path.name))
    store = QuarantineStore(tmp_path / "quarantine")
    io_manager = RecordingIOManager(tmp_path / "released")
    daily = dg.DailyPartitionsDefinition(start_date="2026-09-01")
    seeds = [7, 8]  # other bad rows the second time: a new batch, not the released one again

    @guarded_asset(contract=str(contract_path), partitions_def=daily)
    def transactions(context: dg.AssetExecutionContext) -> pl.DataFrame:
        return generate_transactions(date.fromisoformat(context.partition_key), rows=ROWS, seed=seeds.pop(0),
                                     defect=Defect.UNKNOWN_CATEGORIES)

    released = []
    for _ in range(2):
        result = dg.materialize([transactions], instance=instance, resources=resources, partition_key=DAY,
                                raise_on_error=False)
        [evaluation] = result.get_asset_check_evaluations()
        batch_id = evaluation.metadata["guardrails/batch_id"].value
        released.append(release_guarded_batch(instance, transactions, batch_id, contract, store=store,
                                              io_manager=io_manager))

    assert [r.status for r in released] == [ReleaseStatus.RELEASED, ReleaseStatus.RELEASED]
    assert released[0].batch_id != released[1].batch_id
    assert io_manager.writes == [(DAY, ROWS), (DAY, ROWS)]
    history = read_check_history(instance, KEY, CHECK, partition=DAY)
    assert [(e.passed, e.batch_id) for e in history] == [
        (True, released[1].batch_id), (False, released[1].batch_id), (True, released[0].batch_id),
        (False, released[0].batch_id),
    ]
    assert released[1].batch_id == f"transactions.{DAY}~2"  # the store's second batch under the taken id
    release_runs = [instance.get_run_by_id(e.run_id) for e in history if e.passed]
    assert [run.job_name for run in release_runs] == ["guardrails_release", "guardrails_release"]
    assert [run.tags["guardrails/release"] for run in release_runs] == [r.batch_id for r in reversed(released)]
