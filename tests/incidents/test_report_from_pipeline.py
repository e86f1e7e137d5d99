"""The incident report built from the example pipeline's real history: good, bad, bad, release, good days.

Every expected value is read from the records themselves (run records, check outcomes, manifests), never
typed in, so the assertions test how the report groups and measures, not what one run happened to produce.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dagster import DagsterEventType
from typer.testing import CliRunner

from definitions.data import Defect, defect_rows
from definitions.settings import REPOSITORY_ROOT
from guardrails.cli import app as cli
from guardrails.dagster import outcome_from_metadata
from guardrails.dagster.incidents import gather_incident_records
from guardrails.incidents import (
    Cause,
    EventKind,
    IncidentRecords,
    IncidentReport,
    IncidentState,
    build_incident_report,
    report_json,
    report_markdown,
)
from guardrails.quarantine import QuarantineState
from tests.incidents._history import ASSET, BAD_1, BAD_2, DOWNSTREAM, ROWS, History

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).parent / "golden"
CONTRACT_FILE = REPOSITORY_ROOT / "expectations" / "transactions.odcs.yaml"


@pytest.fixture(scope="module")
def records(history: History) -> IncidentRecords:
    return gather_incident_records(history.instance, store=history.store, contracts_dir=CONTRACT_FILE.parent)


@pytest.fixture(scope="module")
def report(records: IncidentRecords) -> IncidentReport:
    return build_incident_report(records)


def failed_outcome(history: History, day: str):
    evaluation = next(e for e in history.results[day].get_asset_check_evaluations() if e.asset_key.to_user_string() == ASSET)
    return outcome_from_metadata(evaluation.metadata)


def manifest_of(history: History, day: str):
    return next(m for m in history.store.list() if m.run_id == history.results[day].run_id)


def downstream_of_the_guard(history: History) -> set[str]:
    """Every asset of the example's daily job after the guard (the job is landing -> guard -> the rest)."""
    from definitions.definitions import build_definitions

    job = build_definitions(history.settings).resolve_job_def("daily_pipeline")
    names = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert set(DOWNSTREAM) <= names
    return names - {"raw_transactions", ASSET}


def as_it_was_after(records: IncidentRecords, moment: datetime) -> IncidentRecords:
    """The records as they stood at `moment`: later evaluations dropped, releases not yet done."""
    def unreleased(m):
        kept = tuple(t for t in m.history if t.at <= moment)
        return m.evolve(state=QuarantineState.QUARANTINED, history=kept, released_at=None, release_outcome=None,
                        released_to=None)
    return replace(records, evaluations=tuple(e for e in records.evaluations if e.timestamp <= moment),
                   manifests=tuple(unreleased(m) for m in records.manifests if m.quarantined_at <= moment))


def normalized(markdown: str) -> str:
    """Markdown with what changes from run to run (times, ids, durations, paths, user) replaced by placeholders."""
    text = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "<TIME>", markdown)
    text = text.replace(str(REPOSITORY_ROOT), "<REPO>")
    text = re.sub(r"\binc-[0-9a-f]{10}\b", "inc-<ID>", text)
    text = re.sub(r"\brun [0-9a-f]{8}\b", "run <RUN>", text)
    text = re.sub(r"\b\d+(?:\.\d+)? (?:ms|s|min|h|d)(?: \d+ (?:s|min|h))?\b", "<DURATION>", text)
    text = re.sub(r"\[by [^\]]+\]", "[by <ACTOR>]", text)
    return re.sub(r"/tmp/[^\s`]+/(quarantine)", r"<TMP>/\1", text)


def assert_golden(name: str, markdown: str) -> None:
    path = GOLDEN / name
    text = normalized(markdown)
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.write_text(text)
        if not os.environ.get("UPDATE_GOLDEN"):
            pytest.fail(f"golden file {path} written; review it and re-run")
    assert text == path.read_text()


def test_two_bad_days_form_one_incident_closed_by_the_release(history: History, report: IncidentReport) -> None:
    """The two bad days are one incident; it resolves when the second day's release passes, not the first's."""
    assert len(report.incidents) == 1
    incident = report.incidents[0]
    assert (incident.asset_key, incident.check_name) == (ASSET, "transactions_contract")
    assert incident.state is IncidentState.RESOLVED
    assert incident.failing_runs == (history.results[BAD_1].run_id, history.results[BAD_2].run_id)
    assert incident.impact.partitions == (BAD_1, BAD_2)
    assert incident.resolved_at == manifest_of(history, BAD_2).release_outcome.finished_at


def test_times_to_detect_contain_and_resolve_come_from_the_records(history: History, report: IncidentReport) -> None:
    """Detection is the failed check's finish, measured from the bad run's start; containment the quarantine,
    measured from the start of the guard's step."""
    incident = report.incidents[0]
    run = history.instance.get_run_record_by_id(history.results[BAD_1].run_id)
    started = datetime.fromtimestamp(run.start_time, tz=UTC)
    assert incident.started_at == started
    assert incident.detected_at == failed_outcome(history, BAD_1).finished_at
    assert incident.contained_at == manifest_of(history, BAD_1).quarantined_at
    step = next(r.event_log_entry for r in history.instance.get_records_for_run(
        run.dagster_run.run_id, of_type=DagsterEventType.STEP_START).records if r.event_log_entry.step_key == ASSET)
    assert incident.step_started_at == datetime.fromtimestamp(step.timestamp, tz=UTC) > started
    assert incident.time_to_detect > timedelta(0)
    assert incident.time_to_contain == manifest_of(history, BAD_1).quarantined_at - incident.step_started_at
    assert timedelta(0) < incident.time_to_contain < timedelta(seconds=run.end_time - run.start_time)
    assert incident.time_to_resolve == manifest_of(history, BAD_2).release_outcome.finished_at - started
    assert incident.last_failure_at == failed_outcome(history, BAD_2).finished_at


def test_timeline_tells_the_story_in_order(history: History, report: IncidentReport) -> None:
    """Failures, quarantines, each day's passing re-validation and its release appear once each, in time order."""
    timeline = report.incidents[0].timeline
    assert [e.at for e in timeline] == sorted(e.at for e in timeline)
    assert [e.kind for e in timeline] == [
        EventKind.FIRST_FAILURE, EventKind.QUARANTINED, EventKind.FAILURE, EventKind.QUARANTINED,
        EventKind.PASSED, EventKind.RELEASED, EventKind.PASSED, EventKind.RELEASED,
    ]
    quarantined = [e for e in timeline if e.kind is EventKind.QUARANTINED]
    assert [e.batch_id for e in quarantined] == [manifest_of(history, BAD_1).batch_id, manifest_of(history, BAD_2).batch_id]
    assert [e.at for e in quarantined] == [manifest_of(history, d).quarantined_at for d in (BAD_1, BAD_2)]
    released = [e.at for e in timeline if e.kind is EventKind.RELEASED]
    assert released == [manifest_of(history, d).released_at for d in (BAD_1, BAD_2)]


def test_impact_counts_rows_batches_and_what_did_not_materialize(history: History, report: IncidentReport) -> None:
    """Both batches were quarantined whole (batch policy) and released; the bad runs never built the downstream."""
    impact = report.incidents[0].impact
    assert impact.failed_evaluations == 2 and impact.failed_runs == 2
    assert sorted(impact.batches_quarantined) == sorted(history.quarantined)
    assert impact.rows_quarantined == 2 * ROWS
    assert impact.batches_still_quarantined == ()
    assert sorted(impact.batches_released) == sorted(history.quarantined)
    assert sorted(impact.downstream_not_materialized) == sorted(downstream_of_the_guard(history))
    assert impact.model_versions_pinned == () and impact.champion_pinned_for is None


def test_fired_check_and_first_hypothesis_name_the_new_category(report: IncidentReport) -> None:
    """The allowed-values rule fired on both days with the defect's row count, and 'crypto' is the evidence."""
    incident = report.incidents[0]
    [fired] = incident.checks
    assert (fired.rule_id, fired.times) == ("merchant_category.allowed_values", 2)
    assert fired.failing_rows == defect_rows(ROWS, Defect.UNKNOWN_CATEGORIES) and fired.rows == ROWS
    assert fired.examples == ("'crypto'",)
    top = incident.hypotheses[0]
    assert top.cause is Cause.UNKNOWN_CATEGORIES and "`merchant_category`" in top.title
    assert any("'crypto'" in line for line in top.evidence)
    assert "Unknown categories" in incident.sbar.assessment


def test_open_snapshot_lists_exact_release_commands(history: History, records: IncidentRecords) -> None:
    """Seen right after the second bad day, the incident is open and names one release command per held batch."""
    moment = manifest_of(history, BAD_2).quarantined_at
    report = build_incident_report(as_it_was_after(records, moment), now=moment)
    [incident] = report.incidents
    assert incident.state is IncidentState.OPEN and incident.resolved_at is None
    commands = [a.command for a in incident.actions if a.command]
    store = history.settings.quarantine_dir
    assert commands == [
        f"guardrails quarantine release {manifest_of(history, day).batch_id} --contract {CONTRACT_FILE} "
        f"--store {store} --as-of {manifest_of(history, day).outcome.as_of.isoformat()}"
        for day in (BAD_1, BAD_2)
    ]
    assert "OPEN" in incident.sbar.situation
    assert_golden("pipeline_open.md", report_markdown(report))


def test_markdown_shape_matches_the_golden_file(report: IncidentReport) -> None:
    """The resolved report renders to the reviewed Markdown shape (timestamps, ids and durations normalized)."""
    assert_golden("pipeline_resolved.md", report_markdown(report))


def test_json_carries_the_same_facts(report: IncidentReport) -> None:
    """The JSON form has the incident's state, durations in seconds and the timeline, and parses back."""
    data = json.loads(report_json(report))
    [incident] = data["incidents"]
    model = report.incidents[0]
    assert incident["id"] == model.id and incident["state"] == "resolved" and data["open"] == 0
    assert incident["time_to_detect_seconds"] == model.time_to_detect.total_seconds()
    assert [e["kind"] for e in incident["timeline"]] == [e.kind.value for e in model.timeline]
    assert incident["impact"]["rows_quarantined"] == 2 * ROWS


def test_filters_by_asset_and_since(records: IncidentRecords, report: IncidentReport) -> None:
    """--asset keeps only that asset's incidents; --since drops incidents resolved before it."""
    resolved = report.incidents[0].resolved_at
    assert build_incident_report(records, asset="raw_transactions").incidents == ()
    assert len(build_incident_report(records, asset=ASSET).incidents) == 1
    assert build_incident_report(records, since=resolved + timedelta(seconds=1)).incidents == ()
    assert len(build_incident_report(records, since=resolved).incidents) == 1


def test_cli_prints_the_report_from_dagster_home(history: History, tmp_path: Path, report: IncidentReport) -> None:
    """`guardrails incident` reads $DAGSTER_HOME and the store; markdown by default, JSON on request, exit 0 when resolved."""
    runner = CliRunner()
    common = ["incident", "--store", str(history.settings.quarantine_dir), "--state-dir", str(tmp_path)]
    markdown = runner.invoke(cli, [*common, "--asset", ASSET])
    assert markdown.exit_code == 0, markdown.output
    assert markdown.output.startswith("# Guardrails incident report")
    assert f"## Incident {report.incidents[0].id}" in markdown.output
    as_json = runner.invoke(cli, [*common, "--format", "json", "--since", "7d"])
    assert as_json.exit_code == 0, as_json.output
    assert [i["id"] for i in json.loads(as_json.output)["incidents"]] == [report.incidents[0].id]
    rearm = runner.invoke(cli, ["incident", "rearm", ASSET, "--state-dir", str(tmp_path)])
    assert rearm.exit_code == 0 and "not open" in rearm.output
    bad = runner.invoke(cli, [*common, "--since", "yesterday"])
    assert bad.exit_code == 2 and "24h or 7d" in bad.output


def test_cli_with_an_unreachable_registry_reports_without_the_alias_history(
    history: History, tmp_path: Path, report: IncidentReport
) -> None:
    """With --model and nothing listening at the tracking URI the report still comes, promptly, and names the gap."""
    import mlflow  # noqa: F401 - imported before the clock starts: the bound is on the registry calls, not imports

    runner = CliRunner()
    common = ["incident", "--store", str(history.settings.quarantine_dir), "--state-dir", str(tmp_path),
              "--asset", ASSET, "--model", "fraud_detector", "--tracking-uri", "http://127.0.0.1:9", "--timeout", "1"]
    started = time.monotonic()
    markdown = runner.invoke(cli, common)
    as_json = runner.invoke(cli, [*common, "--json"])
    elapsed = time.monotonic() - started
    assert markdown.exit_code == 0, markdown.output
    assert f"## Incident {report.incidents[0].id}" in markdown.output
    [note] = json.loads(as_json.output)["notes"]
    assert note.startswith("model alias history unavailable: ") and "'fraud_detector'" in note and "127.0.0.1" in note
    assert f"> Incomplete: {note}" in markdown.output
    assert [i["id"] for i in json.loads(as_json.output)["incidents"]] == [report.incidents[0].id]
    assert elapsed < 12, elapsed


def test_the_example_schedule_is_what_the_breaker_would_stop(history: History) -> None:
    """In the example the daily schedule feeds the guarded asset; the automation sensor feeds only the downstream
    assets that have an automation condition, so a breaker on the guarded asset leaves it running."""
    from definitions.definitions import build_definitions
    from guardrails.dagster.breaker import feeding_instigators

    defs = build_definitions(history.settings)
    guard_feeds = {(f.kind, f.name) for f in feeding_instigators(defs, ASSET)}
    assert ("schedule", "daily_pipeline_schedule") in guard_feeds
    assert ("sensor", "default_automation_condition_sensor") not in guard_feeds
    assert ("sensor", "default_automation_condition_sensor") in {
        (f.kind, f.name) for f in feeding_instigators(defs, "transaction_features")}


def test_a_champion_pinned_by_the_bad_run_is_in_the_report(history: History, tmp_path: Path) -> None:
    """A real MLflow registry: the guard pins the champion back when the first bad run fails and it is unpinned
    after the release; the report shows the move, the pinned time and the unpin, read from the alias history."""
    from mlflow import MlflowClient

    from guardrails.models import MlflowModelRegistry, ModelGuard, Verdict, VerdictStatus

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("fraud_detector")
    for _ in range(2):
        client.create_model_version("fraud_detector", source=str(tmp_path))
    bad_run = history.results[BAD_1].run_id
    pinned_at = manifest_of(history, BAD_1).quarantined_at + timedelta(milliseconds=5)
    unpinned_at = manifest_of(history, BAD_2).released_at + timedelta(minutes=3)
    now = [failed_outcome(history, BAD_1).started_at - timedelta(hours=1)]  # the good day's promotion
    guard = ModelGuard(MlflowModelRegistry(uri), "fraud_detector", clock=lambda: now[0])
    for version in (1, 2):
        guard.record_verdict(version, Verdict(status=VerdictStatus.PASSED, checks=("evaluation_roc_auc",), at=now[0]))
    assert guard.promote(2, reason="good day").ok
    now[0] = pinned_at
    pin = guard.pin(2, reason="input batch quarantined", check="transactions_contract", run_id=bad_run)
    assert pin.ok, pin.message
    now[0] = unpinned_at
    assert guard.unpin(reason="incident resolved").ok

    records = gather_incident_records(history.instance, [ASSET], store=history.store, model_guard=guard)
    [incident] = build_incident_report(records, now=unpinned_at + timedelta(hours=1)).incidents
    assert incident.impact.model_versions_pinned == ("fraud_detector v1 (@champion, was v2)",)
    assert incident.impact.champion_pinned_for == unpinned_at - pinned_at
    assert not incident.impact.champion_still_pinned
    kinds = [e.kind for e in incident.timeline]
    assert EventKind.ALIAS_PROMOTED not in kinds  # the good day's promotion is not part of the incident
    assert kinds.index(EventKind.ALIAS_PINNED) == 2 and kinds[-1] is EventKind.ALIAS_UNPINNED
    assert incident.contained_at == manifest_of(history, BAD_1).quarantined_at  # the quarantine came first
