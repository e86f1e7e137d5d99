"""`guardrails history --airflow`: a real api-server's records of a good and a quarantined ``dag.test()`` day.

The good day is an asset event whose extra is the outcome record; the quarantined day a failed task instance whose
XCom holds the record, with the whole outcome read from the quarantine manifest. The entries have the keys the
Dagster reader writes for the same batches, and the same verdicts, rules and counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow.sdk")

from typer.testing import CliRunner

from guardrails.airflow.records import AssetNotFound, find_asset, read_check_history
from guardrails.cli import app
from guardrails.quarantine import QuarantineStore
from tests.airflow.records_days import ASSET, ASSET_NAME, DAG_ID, FAILING_ROWS, ROWS, RecordedDays, recorded_days

pytestmark = pytest.mark.xdist_group("airflow")

BAD_BATCH = "transactions.2026-11-04"


@pytest.fixture(scope="module")
def days(api_server: Any) -> RecordedDays:
    return recorded_days()


def _cli(api_server: Any, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    for name, value in api_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return CliRunner().invoke(app, list(args))


def test_history_lists_the_quarantined_and_the_published_day_newest_first(api_server: Any, days: RecordedDays) -> None:
    """The bad day (failed task, XCom record) comes first as FAILED with its rule counts, then the good day's asset
    event as SUCCEEDED, then the day whose task failed without a verdict as PLANNED; partitions, batches, runs and run
    states are Airflow's."""
    with api_server.client() as api:
        entries = read_check_history(api, ASSET)

    assert [e.run_id for e in entries] == [days.bad_run, days.good_run, days.crashed_run]
    assert {e.asset_key for e in entries} == {ASSET_NAME}
    bad, good, crashed = entries
    assert (bad.check_name, bad.status, bad.passed, bad.severity, bad.run_status) == (
        "clean_transactions", "FAILED", False, "ERROR", "failed")
    assert (bad.partition, bad.batch_id) == ("2026-11-04", BAD_BATCH)
    assert [(r.rule_id, r.failing_rows) for r in bad.outcome.failed_rules] == [
        ("event_time.not_in_future", FAILING_ROWS)]
    # The whole outcome (sample, messages) comes from the manifest of this run's quarantine.
    assert bad.outcome == QuarantineStore(days.quarantine).show(BAD_BATCH).outcome
    assert bad.outcome.sample and bad.quarantine_store == f"file://{days.quarantine}"
    assert f"{ROWS} rows quarantined as {BAD_BATCH}" in bad.description  # the batch policy holds it whole
    assert (good.status, good.passed, good.severity, good.run_status) == ("SUCCEEDED", True, "WARN", "success")
    assert (good.partition, good.batch_id, good.outcome.rows) == ("2026-11-03", "transactions.2026-11-03", ROWS)
    assert good.outcome.failed_rules == () and len(good.outcome.rules) >= 10
    assert good.target_materialization_run_id == days.good_run and good.execution_id is not None
    assert bad.timestamp > good.timestamp
    # A guarded task that failed before its verdict: no outcome, listed as planned (as Dagster lists a check whose
    # run died first), with the run's state and the partition its data interval names.
    assert (crashed.status, crashed.passed, crashed.outcome, crashed.run_status, crashed.partition) == (
        "PLANNED", None, None, "failed", "2026-11-05")


def test_partition_limit_and_check_filters(api_server: Any, days: RecordedDays) -> None:
    """--partition keeps one day, --limit cuts the newest, --check names the guarded task (another task: nothing)."""
    with api_server.client() as api:
        assert [e.run_id for e in read_check_history(api, ASSET, partition="2026-11-03")] == [days.good_run]
        assert [e.run_id for e in read_check_history(api, ASSET, limit=1)] == [days.bad_run]
        assert len(read_check_history(api, ASSET, "clean_transactions")) == 3
        assert read_check_history(api, ASSET, "transaction_features") == []
        assert read_check_history(api, ASSET, partition="2026-10-01") == []
        assert [e.run_id for e in read_check_history(api, ASSET, partition="2026-11-05")] == [days.crashed_run]


def test_asset_is_found_by_a_unique_suffix_and_an_unknown_one_is_named(api_server: Any, days: RecordedDays) -> None:
    """A path suffix unique to one asset finds it; a name Airflow does not have raises AssetNotFound naming it."""
    with api_server.client() as api:
        asset = find_asset(api, "records_home/airflow/warehouse/transactions")
        assert asset.name == ASSET_NAME and (DAG_ID, "clean_transactions") in asset.producers
        with pytest.raises(AssetNotFound, match="no asset named 'nowhere/at_all'"):
            find_asset(api, "nowhere/at_all")


def test_cli_table_and_json(api_server: Any, days: RecordedDays, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI prints both days (Airflow run ids whole) and --json writes the entries' dicts, exit 0."""
    table = _cli(api_server, monkeypatch, "history", ASSET, "--airflow", api_server.url)
    assert table.exit_code == 0, table.output
    assert days.bad_run in table.output and days.good_run in table.output
    assert "event_time.not_in_future" in table.output and BAD_BATCH in table.output

    # $GUARDRAILS_AIRFLOW_URL alone selects Airflow when $DAGSTER_HOME is unset.
    listed = _cli(api_server, monkeypatch, "history", ASSET, "--json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert [(d["run_id"], d["status"], d["passed"]) for d in data] == [
        (days.bad_run, "FAILED", False), (days.good_run, "SUCCEEDED", True), (days.crashed_run, "PLANNED", None)]


def test_unreachable_airflow_is_one_line_and_exit_2(api_server: Any, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    """An api-server that is not there: one line on stderr naming the URL, exit 2, nothing on stdout."""
    from tests.airflow.api_server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    result = _cli(api_server, monkeypatch, "history", ASSET, "--airflow", url)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and url in result.stderr and "unreachable" in result.stderr


@pytest.mark.parametrize("command", [["incident"], ["incident", "--asset", "warehouse/transactions", "--json"]])
def test_unreachable_airflow_for_the_incident_report(command: list[str], monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    """The incident report from an api-server that is not there: one line naming the URL, exit 2."""
    from tests.airflow.api_server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("GUARDRAILS_AIRFLOW_URL", url)
    monkeypatch.setenv("GUARDRAILS_AIRFLOW_TOKEN", "t0ken")
    monkeypatch.setenv("GUARDRAILS_STATE", str(tmp_path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and url in result.stderr and "t0ken" not in result.stderr


def test_missing_credentials_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """--airflow without a token or a user name and password: one line naming the variables to set, exit 2."""
    for name in ("GUARDRAILS_AIRFLOW_URL", "GUARDRAILS_AIRFLOW_TOKEN", "GUARDRAILS_AIRFLOW_USERNAME",
                 "GUARDRAILS_AIRFLOW_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["history", "transactions", "--airflow", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "GUARDRAILS_AIRFLOW_TOKEN" in result.stderr


def test_json_has_the_dagster_readers_shape_and_verdicts(api_server: Any, days: RecordedDays, tmp_path: Path) -> None:
    """The same good and bad batches guarded by Dagster give entries with the same keys (outcome keys too), and the
    same verdicts, failing rules and counts as Airflow's."""
    import dagster as dg
    import polars as pl

    from definitions.data import Defect, generate_transactions
    from guardrails.dagster import QuarantineResource, guarded_asset
    from guardrails.dagster import read_check_history as read_dagster_history
    from tests.dagster.conftest import ParquetIOManager, recent_day

    defect: dict[str, Defect] = {}

    @guarded_asset(contract=str(Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml"))
    def transactions() -> pl.DataFrame:
        return generate_transactions(recent_day(), rows=ROWS, defect=defect.get("defect"))

    resources = {"quarantine": QuarantineResource(location=str(tmp_path / "quarantine")),
                 "io_manager": ParquetIOManager(base_dir=str(tmp_path / "warehouse"))}
    with dg.instance_for_test() as instance:
        dg.materialize([transactions], instance=instance, resources=resources)
        defect["defect"] = Defect.FUTURE_TIMESTAMPS
        dg.materialize([transactions], instance=instance, resources=resources, raise_on_error=False)
        dagster_entries = read_dagster_history(instance, "transactions")
    with api_server.client() as api:
        airflow_entries = [e for e in read_check_history(api, ASSET) if e.status != "PLANNED"]

    def shape(entry: Any) -> tuple[Any, ...]:
        data = entry.to_dict()
        return tuple(data), tuple(data["outcome"])

    def verdict(entry: Any) -> tuple[Any, ...]:
        return (entry.status, entry.passed, entry.severity, entry.outcome.status, entry.outcome.rows,
                [(r.rule_id, r.status, r.failing_rows) for r in entry.outcome.failed_rules])

    assert [shape(e) for e in airflow_entries] == [shape(e) for e in dagster_entries]
    assert [verdict(e) for e in airflow_entries] == [verdict(e) for e in dagster_entries]
