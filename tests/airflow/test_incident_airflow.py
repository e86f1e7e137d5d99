"""`guardrails incident --airflow`: the report drafted from a real api-server's records of a good and a quarantined day.

The quarantined day opens an incident on the clean task's asset that names the failing rule, the held batch and its
rows, the failed DAG run and the downstream asset the failure kept from consumers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("airflow.sdk")

from typer.testing import CliRunner

from definitions.settings import REPOSITORY_ROOT
from guardrails.airflow.records import gather_incident_records
from guardrails.cli import app
from guardrails.incidents import IncidentState, build_incident_report
from tests.airflow.records_days import ASSET, ASSET_NAME, FAILING_ROWS, HOME, ROWS, RecordedDays, recorded_days

pytestmark = pytest.mark.xdist_group("airflow")

BAD_BATCH = "transactions.2026-11-04"
FEATURES = f"file://{HOME}/airflow/warehouse/transaction_features"


@pytest.fixture(scope="module")
def days(api_server: Any) -> RecordedDays:
    return recorded_days()


def test_report_opens_an_incident_naming_the_rule_the_batch_and_the_run(api_server: Any, days: RecordedDays,
                                                                       tmp_path: Any) -> None:
    """One open incident on the asset: the failing rule with its row count, the batch still held (from the store the
    record names), the failed run, and the assets that run did not produce: the features, and the model the example
    DAG trains and gates on them (its gate records on ``model:fraud_detector``)."""
    with api_server.client() as api:
        records = gather_incident_records(api, [ASSET], state=None)
    report = build_incident_report(records)

    [incident] = report.incidents
    assert (incident.asset_key, incident.check_name, incident.state) == (
        ASSET_NAME, "clean_transactions", IncidentState.OPEN)
    assert [(c.rule_id, c.failing_rows) for c in incident.checks] == [("event_time.not_in_future", FAILING_ROWS)]
    assert incident.impact.batches_still_quarantined == (BAD_BATCH,)
    assert incident.impact.rows_quarantined == ROWS  # the batch policy holds the whole batch
    assert incident.impact.partitions == ("2026-11-04",)
    assert incident.failing_runs == (days.bad_run,)
    assert set(incident.impact.downstream_not_materialized) == {FEATURES, "model:fraud_detector"}
    assert [m.batch_id for m in records.manifests] == [BAD_BATCH]


def test_cli_report_in_markdown_and_json_exits_1_while_open(api_server: Any, days: RecordedDays,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI drafts the report from Airflow (--airflow URL): Markdown naming the rule and the batch, JSON with the
    open incident; exit 1 because an incident is open."""
    for name, value in api_server.env().items():
        monkeypatch.setenv(name, value)
    markdown = CliRunner().invoke(app, ["incident", "--asset", ASSET, "--airflow", api_server.url])
    assert markdown.exit_code == 1, markdown.output
    assert "event_time.not_in_future" in markdown.stdout and BAD_BATCH in markdown.stdout

    listed = CliRunner().invoke(app, ["incident", "--asset", ASSET, "--airflow", api_server.url, "--json"])
    assert listed.exit_code == 1, listed.output
    [incident] = json.loads(listed.stdout)["incidents"]
    assert incident["state"] == "open" and incident["asset_key"] == ASSET_NAME


def test_release_recorded_in_airflow_resolves_the_incident(api_server: Any, days: RecordedDays,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Releasing the held batch (as of a day its timestamps are no longer in the future) records an asset event;
    history lists it as a passing release naming where it went, and the incident is resolved.

    Last in this module, and the only test that changes the recorded days: it runs after the other readers."""
    from guardrails.airflow.records import read_check_history

    for name, value in api_server.env().items():
        monkeypatch.setenv(name, value)
    released = CliRunner().invoke(app, [
        "quarantine", "release", BAD_BATCH,
        "--contract", str(REPOSITORY_ROOT / "expectations" / "transactions.odcs.yaml"),
        "--store", str(days.quarantine), "--as-of", "2026-11-07T00:00:00+00:00"])
    assert released.exit_code == 0, released.output

    with api_server.client() as api:
        latest = read_check_history(api, ASSET, limit=1)[0]
        records = gather_incident_records(api, [ASSET])
    assert (latest.batch_id, latest.status, latest.passed) == (BAD_BATCH, "SUCCEEDED", True)
    assert latest.released_to is not None and latest.released_to.endswith("date=2026-11-04/data.parquet")
    [incident] = build_incident_report(records).incidents
    assert incident.state is IncidentState.RESOLVED and incident.impact.batches_released == (BAD_BATCH,)
