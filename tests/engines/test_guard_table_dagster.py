"""A Dagster asset that stages a table: audited and published inside DuckDB, recorded as a frame asset is."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ibis")
dg = pytest.importorskip("dagster")

from guardrails.contract import load_contract  # noqa: E402
from guardrails.dagster import QuarantineResource, guarded_table_asset  # noqa: E402
from guardrails.dagster import metadata as md  # noqa: E402
from guardrails.quarantine import QuarantineStore, TableTarget, guard_table  # noqa: E402
from tests.engines.wap import (  # noqa: E402
    BAD_IDS,
    GOOD_IDS,
    ROWS,
    execute,
    exists,
    ids,
    stage,
    uri,
    write_contract,
)

DAYS = dg.StaticPartitionsDefinition(["2026-11-02", "2026-11-03"])


def _asset(database: str, contract: Path) -> dg.AssetsDefinition:
    @guarded_table_asset(contract=contract, target=uri(database, "tx"), partition_column="day", name="tx",
                         partitions_def=DAYS)
    def tx(context: dg.AssetExecutionContext) -> str:
        day = context.partition_key
        rows = [(i, day, a) for i, _, a in ROWS]
        return stage(database, f"tx_staging_{day.replace('-', '_')}", rows)  # its connection is closed on return

    return tx


def test_table_asset_publishes_in_the_engine_and_records_the_check(tmp_path: Path) -> None:
    """A materialization splits the staged table in DuckDB and records the check, materialization and quarantine."""
    database = str(tmp_path / "warehouse.duckdb")
    asset = _asset(database, write_contract(tmp_path))
    store = tmp_path / "quarantine"
    with dg.instance_for_test() as instance:
        result = dg.materialize([asset], instance=instance, partition_key="2026-11-03",
                                resources={"quarantine": QuarantineResource(location=str(store))})
        assert result.success
        assert set(ids(database, "tx")) == GOOD_IDS and set(ids(database, "tx_quarantine")) == BAD_IDS

        materialization = instance.get_latest_materialization_event(dg.AssetKey("tx")).asset_materialization
        assert materialization.partition == "2026-11-03"
        assert materialization.metadata[md.ROWS_PUBLISHED_KEY].value == 4
        assert materialization.metadata[md.ROWS_QUARANTINED_KEY].value == 2
        [check] = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("tx"), "tx_contract"), limit=5)
        evaluation = check.event.dagster_event.event_specific_data
        assert evaluation.passed is False and evaluation.severity is dg.AssetCheckSeverity.WARN
        assert evaluation.partition == "2026-11-03"
        [observation] = instance.fetch_observations(dg.AssetKey("tx"), limit=5).records
        assert observation.asset_observation.tags[md.QUARANTINE_TAG] == "tx.2026-11-03"
    [manifest] = QuarantineStore(store).list()
    assert manifest.source == "dagster:tx[2026-11-03]" and manifest.rows_quarantined == 2


def test_batch_policy_fails_the_run_and_publishes_nothing(tmp_path: Path) -> None:
    """Under the batch policy a failing staged table fails the run; the target gets nothing, the check fails."""
    database = str(tmp_path / "warehouse.duckdb")
    asset = _asset(database, write_contract(tmp_path, policy="batch"))
    with dg.instance_for_test() as instance:
        result = dg.materialize([asset], instance=instance, partition_key="2026-11-03", raise_on_error=False,
                                resources={"quarantine": QuarantineResource(location=str(tmp_path / "q"))})
        assert not result.success
        assert instance.get_latest_materialization_event(dg.AssetKey("tx")) is None
        [check] = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("tx"), "tx_contract"), limit=5)
        assert check.event.dagster_event.event_specific_data.severity is dg.AssetCheckSeverity.ERROR
    assert ids(database, "tx_quarantine") == sorted(GOOD_IDS | BAD_IDS)
    assert not exists(database, "tx") or ids(database, "tx") == []


def test_partitioned_table_asset_needs_a_partition_column(tmp_path: Path) -> None:
    """A partitioned table asset without a partition column is refused when defined (it would replace the table)."""
    with pytest.raises(ValueError, match="partition_column"):
        guarded_table_asset(contract=write_contract(tmp_path), target=uri(str(tmp_path / "w.duckdb"), "tx"),
                            partitions_def=DAYS)


def test_duckdb_target_gets_a_pool_per_file(tmp_path: Path) -> None:
    """A DuckDB table asset is in the pool of its file, so an instance pool limit of 1 serializes its writers."""
    asset = _asset(str(tmp_path / "warehouse.duckdb"), write_contract(tmp_path))
    assert asset.op.pool == f"duckdb:{tmp_path / 'warehouse.duckdb'}"


_HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS held AS SELECT 1 AS x").fetchall()
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def test_one_writer_per_duckdb_file(tmp_path: Path) -> None:
    """While another process writes the file, a guard without patience fails and publishes nothing; one that waits
    for the lock publishes once the other process is done (what parallel Dagster steps on one file meet)."""
    database = str(tmp_path / "warehouse.duckdb")
    contract = load_contract(write_contract(tmp_path))
    target = TableTarget(uri(database, "tx"), partition_column="day")
    stage(database)
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, database, "3"], stdout=subprocess.PIPE, text=True,
                              env={**os.environ})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(ConnectionError, match="(?i)lock"):
            guard_table(contract, "tx_staging", target, store=QuarantineStore(tmp_path / "q"), partition="2026-11-03",
                        lock_wait=0)
        started = time.monotonic()
        guarded = guard_table(contract, "tx_staging", target, store=QuarantineStore(tmp_path / "q"),
                              partition="2026-11-03", lock_wait=30)
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert guarded.rows_published == 4 and set(ids(database, "tx")) == GOOD_IDS
    assert waited > 0.5  # it did wait for the other writer


def test_docstring_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The module's example defines a table asset as written (from the repository root, like a code location)."""
    import doctest

    import guardrails.dagster.table as module

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0


def test_dagster_release_of_a_table_batch_publishes_to_its_table(tmp_path: Path) -> None:
    """`release_guarded_batch` of a table asset's batch publishes it into the table once and records it in Dagster."""
    from guardrails.dagster import release_guarded_batch

    database = str(tmp_path / "warehouse.duckdb")
    contract_path = write_contract(tmp_path)
    asset = _asset(database, contract_path)
    store = QuarantineStore(tmp_path / "quarantine")
    with dg.instance_for_test() as instance:
        assert dg.materialize([asset], instance=instance, partition_key="2026-11-03",
                              resources={"quarantine": QuarantineResource(location=store.root)}).success
        execute(database, 'UPDATE "tx_quarantine" SET amount = 3.0')
        kwargs = {"store": store, "io_manager": dg.InMemoryIOManager()}  # not used: the rows go to their table
        released = release_guarded_batch(instance, asset, "tx.2026-11-03", load_contract(contract_path), **kwargs)
        again = release_guarded_batch(instance, asset, "tx.2026-11-03", load_contract(contract_path), **kwargs)

        assert released.released_to == f"{TableTarget(uri(database, 'tx')).redacted}[2026-11-03]"
        assert again.status.value == "already_released"
        latest = instance.get_latest_materialization_event(dg.AssetKey("tx")).asset_materialization
        assert latest.metadata[md.BATCH_ID_KEY].value == "tx.2026-11-03" and "Released" in latest.description
    assert ids(database, "tx") == sorted(GOOD_IDS | BAD_IDS)


def _run_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance_overrides: dict, hold_seconds: float = 8
) -> tuple[tuple[bool, list[str], str], str]:
    """Both assets of `dagster_duckdb_defs` into one DuckDB file, on the multiprocess executor; (result, database).

    Each body holds the file `hold_seconds`, so that without a limit the two steps surely overlap."""
    database = str(tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("GUARDRAILS_WAP_DB", database)
    monkeypatch.setenv("GUARDRAILS_WAP_CONTRACT", str(write_contract(tmp_path)))
    monkeypatch.setenv("GUARDRAILS_WAP_HOLD", str(hold_seconds))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))
    from tests.engines import dagster_duckdb_defs

    job = dg.reconstructable(dagster_duckdb_defs.both)
    with dg.instance_for_test(overrides=instance_overrides) as instance:
        with dg.execute_job(job, instance=instance, raise_on_error=False) as result:
            failures = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
            errors = " ".join(e.event_specific_data.error.to_string() for e in result.all_events
                              if e.event_type_value == "STEP_FAILURE")
            return (result.success, failures, errors), database


def test_multiprocess_executor_puts_two_writers_on_one_duckdb_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two table assets on one DuckDB file, in parallel processes: the second body cannot open the locked file."""
    (success, failures, errors), _ = _run_both(tmp_path, monkeypatch, {})
    assert not success and len(failures) == 1, failures
    assert "could not set lock on file" in errors.lower()


def test_a_pool_limit_of_one_serializes_the_files_writers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the file's pool limited to one step at a time, both assets are staged, audited and published."""
    overrides = {"concurrency": {"pools": {"default_limit": 1, "granularity": "op"}}}
    # a short hold: serialized steps never overlap, so the hold only adds time (the test above shows the overlap)
    (success, failures, _), database = _run_both(tmp_path, monkeypatch, overrides, hold_seconds=2)
    assert success and failures == []
    assert set(ids(database, "tx_a")) == GOOD_IDS and set(ids(database, "tx_b")) == GOOD_IDS
