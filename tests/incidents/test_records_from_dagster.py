"""What the Dagster adapter reads into incident records beyond check history: held batches no evaluation tells of,
and the contract file and quarantine store an evaluation recorded.

Real instances (temporary SQLite), real runs of the daily-partitioned guarded asset (tests/incidents/partitioned.py),
a real quarantine store under tmp_path and a real HTTP webhook. A database that fails during a bad run is played
by running that day on a second instance: the batch lands in the shared store, the instance under report never
hears of the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from typer.testing import CliRunner

from guardrails.cli import app as cli
from guardrails.dagster import metadata as md
from guardrails.dagster.incidents import build_incident_sensor, gather_incident_records
from guardrails.incidents import EventKind, IncidentRecords, IncidentState, build_incident_report
from guardrails.quarantine import QuarantineManifest, QuarantineStore
from tests.incidents import partitioned
from tests.incidents.partitioned import ASSET, CHECK
from tests.incidents._webhook import Webhook

pytestmark = pytest.mark.slow

GOOD, BAD = "2026-11-01", "2026-11-02"


def instance_at(home: Path) -> Any:
    """A test instance (SQLite storage) in its own directory under tmp_path."""
    home.mkdir(parents=True)
    return dg.instance_for_test(temp_dir=str(home))


def test_a_held_batch_without_a_failed_evaluation_opens_the_incident_and_alerts(
    tmp_path: Path, webhook: Webhook
) -> None:
    """A batch quarantined by a run the instance never recorded is a failure of its asset and partition: the
    report and the CLI show it open, and the incident sensor sends the open message."""
    store_dir = tmp_path / "quarantine"
    defs = partitioned.build_location(store_dir, tmp_path / "warehouse")
    with instance_at(tmp_path / "lost") as lost:
        bad = partitioned.run_day(defs, lost, BAD, "unknown_categories")
    with instance_at(tmp_path / "home") as instance:
        assert partitioned.run_day(defs, instance, GOOD).success
        [held] = QuarantineStore(store_dir).list()
        assert held.run_id == bad.run_id and instance.get_run_record_by_id(bad.run_id) is None

        records = gather_incident_records(instance, [ASSET], store=QuarantineStore(store_dir))
        [incident] = build_incident_report(records).incidents
        assert (incident.asset_key, incident.check_name, incident.state) == (ASSET, CHECK, IncidentState.OPEN)
        assert incident.impact.partitions == (BAD,) and incident.impact.batches_still_quarantined == (held.batch_id,)
        assert incident.detected_at == held.outcome.finished_at and incident.contained_at == held.quarantined_at
        assert [c.rule_id for c in incident.checks] == [r.rule_id for r in held.failed_rules]
        first = incident.timeline[0]
        assert first.kind is EventKind.FIRST_FAILURE and first.batch_id == held.batch_id
        assert "no evaluation was recorded" in first.summary

        result = CliRunner().invoke(cli, ["incident", "--store", str(store_dir), "--state-dir", str(tmp_path / "s")])
        assert result.exit_code == 1 and incident.id in result.output

        sensor = build_incident_sensor([ASSET], state_dir=tmp_path / "sensor_state", webhook_url=webhook.url,
                                       quarantine_location=str(store_dir))
        skip = sensor(dg.build_sensor_context(instance=instance))
        assert skip.skip_message.startswith("1 open incident(s); attached 1, sent 1 message(s)")
        [message] = webhook.received
        assert "OPENED" in message["text"] and incident.id in message["text"] and ASSET in message["text"]


def test_a_recorded_failure_is_not_read_twice_from_its_manifest(tmp_path: Path) -> None:
    """When the failed evaluation was recorded, its manifest adds no second failure."""
    store_dir = tmp_path / "quarantine"
    defs = partitioned.build_location(store_dir, tmp_path / "warehouse")
    with instance_at(tmp_path / "home") as instance:
        partitioned.run_day(defs, instance, BAD, "unknown_categories")
        records = gather_incident_records(instance, [ASSET], store=QuarantineStore(store_dir))
        assert [(e.passed, e.from_manifest) for e in records.evaluations] == [(False, False)]


def record_failure(instance: dg.DagsterInstance, held: QuarantineManifest, partition: str, metadata: dict) -> None:
    """The failed contract-check evaluation of a held batch's partition, as a guarded run records it (plus `metadata`)."""
    instance.report_runless_asset_event(dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(ASSET), check_name=CHECK, passed=False, partition=partition,
        metadata={**md.outcome_metadata(held.outcome), md.BATCH_ID_KEY: dg.MetadataValue.text(held.batch_id),
                  **metadata},
        severity=dg.AssetCheckSeverity.ERROR,
    ))


def test_release_command_names_the_contract_and_store_the_evaluation_recorded(tmp_path: Path) -> None:
    """The contract path and store recorded on the failed evaluation become the release command's arguments;
    without them the contracts directory and the listing store are used, then a placeholder."""
    store_dir = tmp_path / "quarantine"
    defs = partitioned.build_location(store_dir, tmp_path / "warehouse")
    contract = tmp_path / "contracts dir" / "transactions.odcs.yaml"
    with instance_at(tmp_path / "lost") as lost:
        partitioned.run_day(defs, lost, BAD, "unknown_categories")
    [held] = QuarantineStore(store_dir).list()
    with instance_at(tmp_path / "home") as instance:
        record_failure(instance, held, BAD, {
            md.CONTRACT_PATH_KEY: dg.MetadataValue.path(str(contract)),
            "guardrails/quarantine_store": dg.MetadataValue.text("s3://lake/quarantine"),
        })
        records = gather_incident_records(instance, [ASSET], store=QuarantineStore(store_dir),
                                          contracts_dir=partitioned.CONTRACT.parent)
        [failure] = records.evaluations
        assert (failure.contract_path, failure.quarantine_store) == (str(contract), "s3://lake/quarantine")
        assert release_command(records) == (f"guardrails quarantine release {held.batch_id} --contract '{contract}' "
                                             f"--store s3://lake/quarantine --as-of {held.outcome.as_of.isoformat()}")

    with instance_at(tmp_path / "bare") as instance:
        record_failure(instance, held, BAD, {})
        records = gather_incident_records(instance, [ASSET], store=QuarantineStore(store_dir),
                                          contracts_dir=partitioned.CONTRACT.parent)
        assert release_command(records).startswith(
            f"guardrails quarantine release {held.batch_id} --contract {partitioned.CONTRACT} --store {store_dir} ")
        records = gather_incident_records(instance, [ASSET], store=QuarantineStore(store_dir))
        assert f"--contract <contract.odcs.yaml> --store {store_dir} " in release_command(records)


def release_command(records: IncidentRecords) -> str:
    [incident] = build_incident_report(records).incidents
    [command] = [a.command for a in incident.actions if a.command and " release " in a.command]
    return command
