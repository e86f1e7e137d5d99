"""Write-audit-publish inside DuckDB and PostgreSQL: split, quarantine, retries, release, crash safety, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("ibis")

from guardrails.contract import load_contract  # noqa: E402
from guardrails.contract.model import QuarantinePolicy, RangeRule  # noqa: E402
from guardrails.quarantine import (  # noqa: E402
    DataFormat,
    QuarantineError,
    QuarantineStore,
    ReleaseStatus,
    TableTarget,
    guard_table,
)
from tests.engines.wap import (  # noqa: E402
    BAD_IDS,
    GOOD_IDS,
    ROWS,
    database,  # noqa: F401  (fixture)
    execute,
    exists,
    ids,
    postgres_database,  # noqa: F401  (fixture)
    stage,
    uri,
    write_contract,
)

DAY = "2026-11-03"


def _target(database: str, **kwargs: object) -> TableTarget:
    return TableTarget(uri(database, "tx"), partition_column="day", **kwargs)  # type: ignore[arg-type]


def test_rows_policy_splits_in_one_transaction(database: str, tmp_path: Path) -> None:
    """Valid rows reach the target, rejected rows the quarantine table with their reasons; together, the staged rows."""
    contract = load_contract(write_contract(tmp_path))
    store = QuarantineStore(tmp_path / "q")
    guarded = guard_table(contract, stage(database), _target(database), store=store, partition=DAY, run_id="r1")

    assert (guarded.rows_in, guarded.rows_published, guarded.rows_quarantined) == (6, 4, 2)
    assert set(ids(database, "tx")) == GOOD_IDS
    assert set(ids(database, "tx_quarantine")) == BAD_IDS
    reasons = dict(execute(database, 'SELECT id, "_guardrails_reasons" FROM "tx_quarantine"'))
    assert reasons == {2: "amount.range", 4: "amount.not_null"}
    tagged = execute(database, 'SELECT DISTINCT "_guardrails_batch_id", "_guardrails_partition" FROM "tx_quarantine"')
    assert tagged == [(guarded.batch_id, DAY)]
    assert not exists(database, "tx_staging")  # dropped in the same transaction
    [manifest] = store.list()
    assert manifest == guarded.manifest
    assert (manifest.batch_id, manifest.rows_in, manifest.rows_quarantined, manifest.rows_published) == (
        f"tx.{DAY}", 6, 2, 4)
    assert manifest.data_format is DataFormat.ENGINE_TABLE and manifest.contract_id == contract.id
    assert {r.rule_id for r in manifest.failed_rules} == {"amount.range", "amount.not_null"}
    assert "password" not in manifest.source and manifest.source.endswith(f"?table=tx[{DAY}]")


def test_batch_policy_quarantines_whole_and_leaves_the_target(database: str, tmp_path: Path) -> None:
    """Under the batch policy a failing batch goes whole to the quarantine table; the target keeps what it had."""
    contract = load_contract(write_contract(tmp_path, policy="batch"))
    store = QuarantineStore(tmp_path / "q")
    guard_table(contract, stage(database, rows=[(9, "2026-11-02", 1.0)]), _target(database), store=store,
                partition="2026-11-02")
    guarded = guard_table(contract, stage(database), _target(database), store=store, partition=DAY)

    assert guarded.published is None and guarded.rows_quarantined == 6
    assert ids(database, "tx") == [9]
    assert set(ids(database, "tx_quarantine")) == GOOD_IDS | BAD_IDS
    reasons = {r[0] for r in execute(database, 'SELECT DISTINCT "_guardrails_reasons" FROM "tx_quarantine"')}
    assert reasons == {"amount.not_null, amount.range"}
    assert store.show(guarded.batch_id).rows_quarantined == 6


def test_retry_replaces_its_partition_and_nothing_else(database: str, tmp_path: Path) -> None:
    """Guarding the same partition twice leaves one copy of its rows, and other partitions untouched."""
    contract = load_contract(write_contract(tmp_path))
    store = QuarantineStore(tmp_path / "q")
    guard_table(contract, stage(database, rows=[(9, "2026-11-02", 1.0)]), _target(database), store=store,
                partition="2026-11-02")
    first = guard_table(contract, stage(database), _target(database), store=store, partition=DAY)
    second = guard_table(contract, stage(database), _target(database), store=store, partition=DAY)

    assert second.batch_id == first.batch_id  # same rows: the same batch, its manifest reused
    assert ids(database, "tx") == sorted(GOOD_IDS | {9})
    assert ids(database, "tx_quarantine") == sorted(BAD_IDS)
    assert len(store.list()) == 1


def test_clean_batch_is_published_whole(database: str, tmp_path: Path) -> None:
    """A batch that passes goes whole into a target that did not exist yet; nothing is quarantined."""
    contract = load_contract(write_contract(tmp_path))
    store = QuarantineStore(tmp_path / "q")
    good = [r for r in ROWS if r[0] in GOOD_IDS]
    guarded = guard_table(contract, stage(database, rows=good), _target(database), store=store, partition=DAY)

    assert guarded.manifest is None and guarded.rows_published == 4
    assert set(ids(database, "tx")) == GOOD_IDS
    assert not exists(database, "tx_quarantine") and store.list() == []


def test_rows_outside_the_partition_are_refused(database: str, tmp_path: Path) -> None:
    """Staged rows of another partition are refused before anything is written (a retry could not replace them)."""
    contract = load_contract(write_contract(tmp_path))
    with pytest.raises(ValueError, match="1 staged rows"):
        guard_table(contract, stage(database, rows=[*ROWS, (7, "2026-11-04", 1.0)]), _target(database),
                    store=QuarantineStore(tmp_path / "q"), partition=DAY)
    assert not exists(database, "tx") and exists(database, "tx_staging")


def test_release_revalidates_in_the_engine_and_publishes_once(database: str, tmp_path: Path) -> None:
    """A release refuses rows that still fail, publishes them once fixed, and a second release publishes nothing."""
    contract = load_contract(write_contract(tmp_path))
    store = QuarantineStore(tmp_path / "q")
    guarded = guard_table(contract, stage(database), _target(database), store=store, partition=DAY)

    refused = store.release(guarded.batch_id, contract)
    assert refused.status is ReleaseStatus.REFUSED and set(ids(database, "tx")) == GOOD_IDS

    execute(database, 'UPDATE "tx_quarantine" SET amount = 1.0')  # the upstream fix, applied to the kept rows
    released = store.release(guarded.batch_id, contract)
    assert released.status is ReleaseStatus.RELEASED, released.message
    assert released.released_to == f"{_target(database).redacted}[{DAY}]"
    assert ids(database, "tx") == sorted(GOOD_IDS | BAD_IDS)
    stamped = execute(database, 'SELECT COUNT(*) FROM "tx_quarantine" WHERE "_guardrails_released_at" IS NOT NULL')
    assert stamped == [(2,)]

    again = store.release(guarded.batch_id, contract)
    assert again.status is ReleaseStatus.ALREADY_RELEASED
    assert ids(database, "tx") == sorted(GOOD_IDS | BAD_IDS)


def test_release_of_a_whole_batch_replaces_its_partition(database: str, tmp_path: Path) -> None:
    """A batch quarantined whole is released into its partition under a relaxed contract, replacing older rows."""
    contract = load_contract(write_contract(tmp_path, policy="batch"))
    store = QuarantineStore(tmp_path / "q")
    execute(database, 'CREATE TABLE "tx" (id BIGINT, day VARCHAR, amount DOUBLE PRECISION)',
            f"INSERT INTO \"tx\" VALUES (99, '{DAY}', 1.0), (98, '2026-11-02', 1.0)")
    guarded = guard_table(contract, stage(database), _target(database), store=store, partition=DAY)
    relaxed = replace(contract, rules=tuple(
        RangeRule(rule_id="amount.range", column="amount", minimum=-10) if r.rule_id == "amount.range" else r
        for r in contract.rules if r.rule_id != "amount.not_null"))

    released = store.release(guarded.batch_id, relaxed)
    assert released.status is ReleaseStatus.RELEASED, released.message
    assert ids(database, "tx") == sorted(GOOD_IDS | BAD_IDS | {98})


def test_failed_second_insert_leaves_neither_half(database: str, tmp_path: Path) -> None:
    """When the quarantine insert violates a constraint, the target gets none of the valid rows; a retry completes."""
    contract = load_contract(write_contract(tmp_path))
    store = QuarantineStore(tmp_path / "q")
    execute(database, 'CREATE TABLE "tx_quarantine" (id BIGINT, day VARCHAR, amount DOUBLE PRECISION CHECK (amount >= 0), '
            '"_guardrails_batch_id" VARCHAR, "_guardrails_partition" VARCHAR, "_guardrails_reasons" VARCHAR, '
            '"_guardrails_quarantined_at" TIMESTAMP WITH TIME ZONE, "_guardrails_released_at" TIMESTAMP WITH TIME ZONE)')
    with pytest.raises(QuarantineError, match="rolled back"):
        guard_table(contract, stage(database), _target(database), store=store, partition=DAY)

    assert not exists(database, "tx") or ids(database, "tx") == []
    assert ids(database, "tx_quarantine") == []
    assert exists(database, "tx_staging")  # the batch is still staged: the run can be retried
    [manifest] = store.list()
    refused = store.release(manifest.batch_id, contract)
    assert refused.status is ReleaseStatus.REFUSED and "never committed" in (refused.outcome.error or "")

    execute(database, 'DROP TABLE "tx_quarantine"')  # the fix
    retried = guard_table(contract, "tx_staging", _target(database), store=store, partition=DAY)
    assert retried.batch_id == manifest.batch_id
    assert set(ids(database, "tx")) == GOOD_IDS and set(ids(database, "tx_quarantine")) == BAD_IDS


_KILLED_GUARD = """
import sys
from guardrails.contract import load_contract
from guardrails.quarantine import QuarantineStore, TableTarget, guard_table
contract = load_contract(sys.argv[1])
guard_table(contract, "tx_staging", TableTarget(sys.argv[2], partition_column="day"),
            store=QuarantineStore(sys.argv[3]), partition="2026-11-03")
"""


def test_killed_mid_publish_on_postgres_leaves_neither_half(postgres_database: str, tmp_path: Path) -> None:
    """A guard process killed (SIGKILL) while its transaction inserts into the quarantine table publishes nothing."""
    database = postgres_database
    contract_path = write_contract(tmp_path)
    stage(database)
    # The quarantine table exists with a trigger that stalls the insert: the valid rows are in the open transaction.
    execute(database, textwrap.dedent("""
        CREATE TABLE "tx_quarantine" (id BIGINT, day VARCHAR, amount DOUBLE PRECISION, "_guardrails_batch_id" VARCHAR,
            "_guardrails_partition" VARCHAR, "_guardrails_reasons" VARCHAR,
            "_guardrails_quarantined_at" TIMESTAMP WITH TIME ZONE, "_guardrails_released_at" TIMESTAMP WITH TIME ZONE);
        CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_sleep(60); RETURN NEW; END $$;
        CREATE TRIGGER stall BEFORE INSERT ON "tx_quarantine" FOR EACH ROW EXECUTE FUNCTION stall();
        CREATE TABLE "tx" (id BIGINT, day VARCHAR, amount DOUBLE PRECISION);
        INSERT INTO "tx" VALUES (1, '2026-11-03', 1.0), (98, '2026-11-02', 1.0);
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    guard = subprocess.Popen([sys.executable, "-c", _KILLED_GUARD, str(contract_path), uri(database, "tx"),
                              str(tmp_path / "q")], env=env)
    try:
        deadline = time.monotonic() + 60
        while not execute(database, "SELECT pid FROM pg_stat_activity WHERE query LIKE 'INSERT INTO \"tx_quarantine\"%'"
                          " AND state = 'active'"):
            assert guard.poll() is None, "the guard ended before it reached the quarantine insert"
            assert time.monotonic() < deadline, "the guard never reached the quarantine insert"
            time.sleep(0.1)
        assert ids(database, "tx") == [1, 98]  # the partition deleted and re-filled, not yet visible
        guard.send_signal(signal.SIGKILL)
        guard.wait(timeout=30)
    finally:
        if guard.poll() is None:
            guard.kill()
        execute(database, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    assert ids(database, "tx") == [1, 98] and ids(database, "tx_quarantine") == []  # as before the guard
    assert ids(database, "tx_staging") == sorted(GOOD_IDS | BAD_IDS)


def test_a_password_never_reaches_the_manifest(postgres_database: str, tmp_path: Path) -> None:
    """A target URI with a password is used to connect but recorded without it (trust auth ignores it here)."""
    contract = load_contract(write_contract(tmp_path))
    store = QuarantineStore(tmp_path / "q")
    secret = postgres_database.replace("postgres@", "postgres:s3cr3t-pw@")
    guarded = guard_table(contract, stage(postgres_database), TableTarget(f"{secret}?table=tx", partition_column="day"),
                          store=store, partition=DAY)
    raw = (Path(store.batch_path(guarded.batch_id)) / "manifest.json").read_text()
    kept = store.read(guarded.batch_id)
    assert "s3cr3t" not in raw and b"s3cr3t" not in kept and "s3cr3t" not in guarded.target
    assert json.loads(kept)["uri"].startswith("postgresql://postgres@127.0.0.1:5432/")


def test_cli_lists_shows_and_releases_an_engine_batch(tmp_path: Path) -> None:
    """``guardrails quarantine list/show/release`` handle a DuckDB batch: the release publishes it once."""
    from typer.testing import CliRunner

    from guardrails.cli import app

    database = str(tmp_path / "warehouse.duckdb")
    contract_path = write_contract(tmp_path)
    contract = load_contract(contract_path)
    store = QuarantineStore(tmp_path / "q")
    guarded = guard_table(contract, stage(database), _target(database), store=store, partition=DAY)
    runner = CliRunner()

    listed = runner.invoke(app, ["quarantine", "list", "--store", str(tmp_path / "q"), "--json"])
    assert listed.exit_code == 0, listed.output
    assert guarded.batch_id in listed.output
    shown = runner.invoke(app, ["quarantine", "show", guarded.batch_id, "--store", str(tmp_path / "q")])
    assert shown.exit_code == 0 and "engine_table" in shown.output

    execute(database, 'UPDATE "tx_quarantine" SET amount = 2.0')
    args = ["quarantine", "release", guarded.batch_id, "--contract", str(contract_path), "--store", str(tmp_path / "q")]
    first = runner.invoke(app, args)
    second = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "released" in first.output and "already released" in second.output
    assert ids(database, "tx") == sorted(GOOD_IDS | BAD_IDS)


def test_policy_is_the_contracts(tmp_path: Path) -> None:
    """The contract's policy decides: the same rows under `batch` publish nothing, under `rows` the valid ones."""
    database = str(tmp_path / "w.duckdb")
    contract = load_contract(write_contract(tmp_path))
    store = QuarantineStore(tmp_path / "q")
    whole = guard_table(replace(contract, policy=QuarantinePolicy.BATCH), stage(database), _target(database),
                        store=store, partition=DAY)
    split = guard_table(contract, stage(database), _target(database), store=store, partition=DAY)
    assert (whole.rows_published, split.rows_published) == (0, 4)


def test_duplicate_keys_are_split_by_the_window_predicate(database: str, tmp_path: Path) -> None:
    """Rows sharing a primary key (a window-function rule) are quarantined with their reason, the rest published."""
    contract = load_contract(write_contract(tmp_path))
    store = QuarantineStore(tmp_path / "q")
    rows = [(1, DAY, 1.0), (2, DAY, 2.0), (2, DAY, 3.0), (3, DAY, 4.0)]
    guarded = guard_table(contract, stage(database, rows=rows), _target(database), store=store, partition=DAY)

    assert (guarded.rows_published, guarded.rows_quarantined) == (2, 2)
    assert ids(database, "tx") == [1, 3]
    assert execute(database, 'SELECT DISTINCT id, "_guardrails_reasons" FROM "tx_quarantine"') == [(2, "id.unique")]


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    """A database that cannot be opened raises ConnectionError naming it with the password masked."""
    contract = load_contract(write_contract(tmp_path))
    target = TableTarget("postgresql://postgres:s3cr3t-pw@127.0.0.1:5432/engine_wap_no_such_db?table=tx")
    with pytest.raises(ConnectionError) as raised:
        guard_table(contract, "tx_staging", target, store=QuarantineStore(tmp_path / "q"), lock_wait=0)
    assert "engine_wap_no_such_db" in str(raised.value) and "s3cr3t" not in str(raised.value)
    assert raised.value.__cause__ is None and "***" in str(raised.value)


def test_a_drifted_batch_gets_a_quarantine_table_of_its_own(database: str, tmp_path: Path) -> None:
    """A batch whose columns no longer fit the quarantine table (amount went missing) is kept whole in its own table."""
    contract = load_contract(write_contract(tmp_path))
    store = QuarantineStore(tmp_path / "q")
    guard_table(contract, stage(database), _target(database), store=store, partition=DAY)  # creates tx_quarantine
    execute(database, 'CREATE TABLE "drifted" (id BIGINT, day VARCHAR, amount_cents BIGINT)',
            """INSERT INTO "drifted" VALUES (7, '2026-11-04', 100), (8, '2026-11-04', 200)""")
    guarded = guard_table(contract, "drifted", _target(database), store=store, partition="2026-11-04")

    assert guarded.published is None and guarded.quarantine_table.startswith("tx_quarantine_")
    assert ids(database, guarded.quarantine_table) == [7, 8]
    assert set(ids(database, "tx_quarantine")) == BAD_IDS and set(ids(database, "tx")) == GOOD_IDS
    refused = store.release(guarded.batch_id, contract)
    assert refused.status is ReleaseStatus.REFUSED and "amount" in refused.message


def test_duckdb_memory_limit_is_set_on_the_guards_connection(tmp_path: Path) -> None:
    """The guard's DuckDB connection runs under the memory_limit asked for (here 256 MiB) and still publishes."""
    from guardrails.quarantine import _table

    database = str(tmp_path / "w.duckdb")
    stage(database)
    with _table._connected(_target(database).location, 0, "256MB") as con:
        [(limit,)] = con.con.execute("SELECT current_setting('memory_limit')").fetchall()
    assert limit in ("256.0 MiB", "244.1 MiB")
    contract = load_contract(write_contract(tmp_path))
    guarded = guard_table(contract, "tx_staging", _target(database), store=QuarantineStore(tmp_path / "q"),
                          partition=DAY, memory_limit="256MB")
    assert guarded.rows_published == 4
