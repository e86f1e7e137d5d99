"""Check history reads back our outcomes, losslessly, from SQLite and PostgreSQL instances, and the CLI prints it."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from definitions.data import Defect, generate_transactions
from guardrails.cli import app as cli
from guardrails.dagster import CheckHistoryEntry, QuarantineResource, guarded_asset, read_check_history
from guardrails.dagster.history import recorded_quarantine_stores
from guardrails.outcome import CheckStatus
from guardrails.quarantine import QuarantineStore
from tests.dagster.conftest import ParquetIOManager, recent_day

ROWS = 300
CHECK = "transactions_contract"


def _good_then_bad(instance: dg.DagsterInstance, tmp_path: Path, contract_path: Path) -> tuple[str, str]:
    state: dict = {}

    @guarded_asset(contract=str(contract_path))
    def transactions() -> pl.DataFrame:
        return generate_transactions(recent_day(), rows=ROWS, defect=state.get("defect"))

    resources = {"quarantine": QuarantineResource(location=str(tmp_path / "quarantine")),
                 "io_manager": ParquetIOManager(base_dir=str(tmp_path / "warehouse"))}
    good = dg.materialize([transactions], instance=instance, resources=resources)
    state["defect"] = Defect.FUTURE_TIMESTAMPS
    bad = dg.materialize([transactions], instance=instance, resources=resources, raise_on_error=False)
    return good.run_id, bad.run_id


def _assert_history(entries: list[CheckHistoryEntry], good_run: str, bad_run: str, quarantine: Path) -> None:
    assert [e.run_id for e in entries] == [bad_run, good_run]
    bad, good = entries
    assert (bad.check_name, bad.status, bad.run_status, bad.passed) == (CHECK, "FAILED", "FAILURE", False)
    assert (good.status, good.run_status, good.passed) == ("SUCCEEDED", "SUCCESS", True)
    assert bad.batch_id == "transactions" and bad.target_materialization_run_id is None
    assert good.target_materialization_run_id == good_run
    # Lossless: the outcome read from the event log equals the one the quarantine manifest embeds.
    assert bad.outcome == QuarantineStore(quarantine).show(bad.batch_id).outcome
    assert bad.outcome.status is CheckStatus.FAILED
    assert [r.rule_id for r in bad.outcome.failed_rules] == ["event_time.not_in_future"]
    assert good.outcome.passed and good.outcome.rows == ROWS


def test_history_on_sqlite(instance, tmp_path, contract_path):
    """On a SQLite instance history returns both runs, newest first, with our outcomes and run statuses."""
    good_run, bad_run = _good_then_bad(instance, tmp_path, contract_path)
    entries = read_check_history(instance, "transactions", CHECK)
    _assert_history(entries, good_run, bad_run, tmp_path / "quarantine")
    assert read_check_history(instance, "transactions") == entries  # every check of the asset
    assert read_check_history(instance, "transactions", CHECK, limit=1) == entries[:1]
    assert read_check_history(instance, "nothing/here") == []


@pytest.mark.postgres
def test_history_on_postgres(pg_instance, tmp_path, contract_path):
    """On a PostgreSQL-backed instance history reads the same outcomes back."""
    good_run, bad_run = _good_then_bad(pg_instance, tmp_path, contract_path)
    _assert_history(read_check_history(pg_instance, "transactions", CHECK), good_run, bad_run, tmp_path / "quarantine")


@pytest.mark.postgres
def test_cli_history_reads_dagster_home(postgres_url, pg_instance, tmp_path, contract_path, monkeypatch):
    """`guardrails history` reads the instance $DAGSTER_HOME configures and prints a table or JSON."""
    good_run, bad_run = _good_then_bad(pg_instance, tmp_path, contract_path)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump({"storage": {"postgres": {"postgres_url": postgres_url}}}))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    runner = CliRunner()

    as_json = runner.invoke(cli, ["history", "transactions", "--check", CHECK, "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert [d["run_id"] for d in data] == [bad_run, good_run]
    assert data[0]["outcome"]["rules"] and data[0]["batch_id"] == "transactions"

    human = runner.invoke(cli, ["history", "transactions", "--limit", "1"], env={"COLUMNS": "250"})
    assert human.exit_code == 0, human.output
    assert "event_time.not_in_future" in human.output and bad_run[:8] in human.output
    assert good_run[:8] not in human.output


def test_cli_history_without_dagster_home_is_a_clear_error(monkeypatch):
    """Without $DAGSTER_HOME the command exits 2 with one line saying what to set."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    result = CliRunner().invoke(cli, ["history", "transactions"])
    assert result.exit_code == 2
    assert "DAGSTER_HOME" in result.output


def test_every_guarded_evaluation_records_its_store_and_contract_as_absolute(instance, tmp_path, contract_path,
                                                                              monkeypatch):
    """Passing and failing evaluations, and the quarantine observation, name the store URI and contract path, absolute."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tx.odcs.yaml").write_text(contract_path.read_text())
    state: dict = {}

    @guarded_asset(contract="tx.odcs.yaml")
    def transactions() -> pl.DataFrame:
        return generate_transactions(recent_day(), rows=ROWS, defect=state.get("defect"))

    resources = {"quarantine": QuarantineResource(location="kept/quarantine"),  # relative to the run's directory
                 "io_manager": ParquetIOManager(base_dir=str(tmp_path / "warehouse"))}
    dg.materialize([transactions], instance=instance, resources=resources)
    state["defect"] = Defect.FUTURE_TIMESTAMPS
    dg.materialize([transactions], instance=instance, resources=resources, raise_on_error=False)

    store_uri = (tmp_path / "kept" / "quarantine").as_uri()
    contract_file = str(tmp_path / "tx.odcs.yaml")
    entries = read_check_history(instance, "transactions", CHECK)
    assert [e.passed for e in entries] == [False, True]
    for entry in entries:
        assert (entry.quarantine_store, entry.contract_path) == (store_uri, contract_file)
        assert entry.to_dict()["quarantine_store"] == store_uri
    [observation] = instance.fetch_observations(dg.AssetKey("transactions"), limit=5).records
    recorded = observation.asset_observation.metadata
    assert recorded["guardrails/quarantine_store"].value == store_uri
    assert recorded["guardrails/contract_path"].value == contract_file
    assert QuarantineStore(store_uri).show(entries[0].batch_id).batch_id == "transactions"  # the URI opens the store


def test_recorded_quarantine_stores_names_each_store_newest_first(instance, tmp_path, contract_path):
    """Each store guarded checks last wrote to is found once, newest first, with the checks that recorded it."""

    @guarded_asset(contract=str(contract_path))
    def first() -> pl.DataFrame:
        return generate_transactions(recent_day(), rows=ROWS)

    @guarded_asset(contract=str(contract_path), check_name="second_contract")
    def second() -> pl.DataFrame:
        return generate_transactions(recent_day(), rows=ROWS, defect=Defect.FUTURE_TIMESTAMPS)

    io = ParquetIOManager(base_dir=str(tmp_path / "warehouse"))
    assert recorded_quarantine_stores(instance) == ()
    dg.materialize([first], instance=instance,
                   resources={"quarantine": QuarantineResource(location=str(tmp_path / "a")), "io_manager": io})
    dg.materialize([second], instance=instance, raise_on_error=False,
                   resources={"quarantine": QuarantineResource(location=str(tmp_path / "b")), "io_manager": io})

    stores = recorded_quarantine_stores(instance)
    assert [(s.uri, s.checks) for s in stores] == [
        ((tmp_path / "b").as_uri(), ("second / second_contract",)),
        ((tmp_path / "a").as_uri(), (f"first / {CHECK}",)),
    ]


@pytest.mark.postgres
def test_recorded_quarantine_stores_on_postgres(pg_instance, tmp_path, contract_path):
    """On a PostgreSQL-backed instance the store a guarded run recorded is read back the same way."""
    _good_then_bad(pg_instance, tmp_path, contract_path)
    [store] = recorded_quarantine_stores(pg_instance)
    assert (store.uri, store.checks) == ((tmp_path / "quarantine").as_uri(), (f"transactions / {CHECK}",))
