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


@pytest.fixture
def quarantined(instance, resources, contract_path) -> tuple[dg.AssetsDefinition, str]:
    """A daily guarded asset whose `DAY` batch carried an unknown merchant category and was quarantined."""
    daily = dg.DailyPartitionsDefinition(start_date="2026-09-01")

    @guarded_asset(contract=str(contract_path), partitions_def=daily)
    def transactions(context: dg.AssetExecutionContext) -> pl.DataFrame:
        return generate_transactions(date.fromisoformat(context.partition_key), rows=ROWS,
                                     defect=Defect.UNKNOWN_CATEGORIES)

    result = dg.materialize([transactions], instance=instance, resources=resources, partition_key=DAY,
                            raise_on_error=False)
    assert not result.success
    [evaluation] = result.get_asset_check_evaluations()
    return transactions, evaluation.metadata["guardrails/batch_id"].value


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
