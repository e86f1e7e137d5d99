"""Without flags, `incident`, `quarantine` and `history` find the store and contract a real guarded run recorded."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from typer.testing import CliRunner

from definitions.data import Defect, generate_transactions
from guardrails.cli import app
from guardrails.dagster import QuarantineResource, guarded_asset
from tests.dagster.conftest import CONTRACT, ParquetIOManager, recent_day

ROWS = 300
runner = CliRunner()


@dataclass(frozen=True)
class Recorded:
    """A DAGSTER_HOME whose guarded asset `transactions` quarantined one batch into `store`, away from the cwd."""

    home: Path
    store: Path
    batch_id: str


def _run_guarded(store: Path, warehouse: Path, *, name: str = "transactions") -> None:
    """A bad batch (future timestamps) of a guarded asset, quarantined in a run recorded at $DAGSTER_HOME."""

    @guarded_asset(contract=str(CONTRACT), name=name)
    def transactions() -> pl.DataFrame:
        return generate_transactions(recent_day(), rows=ROWS, defect=Defect.FUTURE_TIMESTAMPS)

    resources = {"quarantine": QuarantineResource(location=str(store)),
                 "io_manager": ParquetIOManager(base_dir=str(warehouse))}
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize([transactions], instance=instance, resources=resources, raise_on_error=False)
    assert not result.success  # quarantined: the run failed


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recorded:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # the default SQLite storage, quietly
    store = tmp_path / "pipeline" / "quarantine"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("GUARDRAILS_QUARANTINE", raising=False)
    _run_guarded(store, tmp_path / "warehouse")
    workdir = tmp_path / "on_call"  # no .guardrails/quarantine here: only the recording can lead to the store
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return Recorded(home=home, store=store, batch_id="transactions")


def test_incident_without_flags_reports_the_batch_the_run_quarantined(recorded: Recorded) -> None:
    """`guardrails incident` reads the store the run recorded, so the quarantined batch is in the report."""
    markdown = runner.invoke(app, ["incident"])
    assert markdown.exit_code == 1, markdown.output  # the incident is open
    assert "nothing was held back" not in markdown.stdout
    assert f"`{recorded.batch_id}`" in markdown.stdout
    report = json.loads(runner.invoke(app, ["incident", "--json"]).stdout)
    [incident] = report["incidents"]
    assert incident["impact"]["batches_quarantined"] == [recorded.batch_id]
    assert incident["impact"]["rows_quarantined"] == ROWS
    assert report["notes"] == []


def test_quarantine_commands_without_store_find_the_recorded_store(recorded: Recorded) -> None:
    """`quarantine list` and `show` without --store read the store the instance recorded, and say where it is."""
    listing = runner.invoke(app, ["quarantine", "list"])
    assert listing.exit_code == 0, listing.output
    assert recorded.batch_id in listing.stdout and recorded.store.as_uri() in listing.stdout
    shown = runner.invoke(app, ["quarantine", "show", recorded.batch_id, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["rows_quarantined"] == ROWS


def test_flag_then_environment_then_recording_then_default(recorded: Recorded, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """--store beats $GUARDRAILS_QUARANTINE, which beats the recorded store; with neither nor an instance: the default."""
    flag_store, env_store = tmp_path / "flag", tmp_path / "env"
    monkeypatch.setenv("GUARDRAILS_QUARANTINE", str(env_store))
    by_flag = runner.invoke(app, ["quarantine", "list", "--store", str(flag_store)])
    assert f"no batches in {flag_store}" in by_flag.stdout
    by_env = runner.invoke(app, ["quarantine", "list"])
    assert f"no batches in {env_store}" in by_env.stdout
    monkeypatch.delenv("GUARDRAILS_QUARANTINE")
    monkeypatch.delenv("DAGSTER_HOME")
    by_default = runner.invoke(app, ["quarantine", "list"])
    assert "no batches in .guardrails/quarantine" in by_default.stdout


def test_an_unreadable_recorded_store_is_named_loudly(recorded: Recorded) -> None:
    """When the recorded store is gone, each command names it on stderr (and incident in its notes), never silence."""
    shutil.rmtree(recorded.store)
    uri = recorded.store.as_uri()

    listing = runner.invoke(app, ["quarantine", "list"])
    assert listing.exit_code == 2
    assert f"warning: the quarantine store {uri} recorded by transactions / transactions_contract" in listing.stderr
    assert "no batches" not in listing.stdout

    report = runner.invoke(app, ["incident", "--json"])
    assert report.exit_code == 1, report.output
    assert uri in report.stderr and len(report.stderr.strip().splitlines()) == 1
    [note] = json.loads(report.stdout)["notes"]
    assert uri in note and "cannot be read" in note
    assert f"Incomplete: the quarantine store {uri}" in runner.invoke(app, ["incident"]).stdout


def test_a_relative_dagster_home_works_as_typed(recorded: Recorded, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """`DAGSTER_HOME=dagster_home guardrails ...` (relative, as the README types it) reads the instance."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", "dagster_home")
    history = runner.invoke(app, ["history", "transactions", "--json"])
    assert history.exit_code == 0, history.output
    latest = json.loads(history.stdout)[0]
    assert (latest["quarantine_store"], latest["contract_path"]) == (recorded.store.as_uri(), str(CONTRACT))
    human = runner.invoke(app, ["history", "transactions"])
    assert f"quarantine store recorded: {recorded.store.as_uri()}" in human.stdout
    assert recorded.batch_id in runner.invoke(app, ["quarantine", "list"]).stdout
    assert runner.invoke(app, ["incident", "--json"]).exit_code == 1
    rearm = runner.invoke(app, ["incident", "rearm", "transactions", "--state-dir", str(tmp_path / "state")])
    assert rearm.exit_code == 0, rearm.output


def test_several_recorded_stores_are_listed_together_and_shown_by_batch(recorded: Recorded, tmp_path: Path) -> None:
    """With two recorded stores `list` reads both (with a store column); `show` finds the one holding the batch."""
    other = tmp_path / "other" / "quarantine"
    _run_guarded(other, tmp_path / "warehouse", name="payments")

    listing = runner.invoke(app, ["quarantine", "list", "--json"])
    assert listing.exit_code == 0, listing.output
    assert {m["batch_id"] for m in json.loads(listing.stdout)} == {"transactions", "payments"}
    table = runner.invoke(app, ["quarantine", "list"]).stdout
    assert "store" in table and other.as_uri() in table and recorded.store.as_uri() in table
    shown = runner.invoke(app, ["quarantine", "show", "payments", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["batch_id"] == "payments"
    missing = runner.invoke(app, ["quarantine", "show", "nowhere"])
    assert missing.exit_code == 2 and "is in none of the quarantine stores" in missing.stderr
    report = json.loads(runner.invoke(app, ["incident", "--json"]).stdout)
    assert sorted(b for i in report["incidents"] for b in i["impact"]["batches_quarantined"]) == ["payments",
                                                                                                 "transactions"]


@pytest.mark.parametrize("command", [["quarantine", "list"], ["incident"], ["history", "transactions"]])
def test_an_unreadable_dagster_home_is_one_clear_line(command: list[str], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A $DAGSTER_HOME that cannot be opened exits 2 with one line naming it, not a traceback or an empty answer."""
    monkeypatch.delenv("GUARDRAILS_QUARANTINE", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "no_such_home"))
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert result.stderr.startswith("guardrails: cannot open the Dagster instance at $DAGSTER_HOME=")
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
