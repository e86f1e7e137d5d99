"""Dagster events stay small whatever the batch holds: samples and messages are capped, every event is under
1 MiB and says what it cut, while the quarantined batch keeps every byte."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import polars as pl

import guardrails.dagster.metadata as md
from guardrails.dagster import guarded_asset, outcome_from_metadata
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity
from guardrails.quarantine import QuarantineStore

MIB = 1024 * 1024
ROWS = 80
MEGABYTE = "m" * 1_000_000
CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:test:notes
name: notes
version: 1.0.0
status: active
customProperties:
  - property: sampleSize
    value: 200
schema:
  - name: notes
    properties:
      - name: id
        logicalType: integer
        required: true
        primaryKey: true
        primaryKeyPosition: 1
      - name: note
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [ok]
            mustBe: 0
"""


def test_docstring_examples_run() -> None:
    """The metadata module's docstring examples pass as written."""
    result = doctest.testmod(md)
    assert result.failed == 0 and result.attempted > 0


def test_megabyte_values_make_no_event_over_one_mebibyte(instance, resources, tmp_path: Path) -> None:
    """80 rows of 1 MB strings through a guarded asset: every event of the run, read back from the instance, is
    under 1 MiB, the check's outcome says how many sample rows it dropped, and quarantine keeps the full strings."""
    contract = tmp_path / "notes.odcs.yaml"
    contract.write_text(CONTRACT)

    @guarded_asset(contract=str(contract))
    def notes() -> pl.DataFrame:
        return pl.DataFrame({"id": list(range(ROWS)), "note": [MEGABYTE] * ROWS})

    result = dg.materialize([notes], instance=instance, resources=resources, raise_on_error=False)
    assert not result.success

    sizes = {e.dagster_event_type: len(dg.serialize_value(e)) for e in instance.all_logs(result.run_id)}
    assert max(sizes.values()) < MIB, sizes
    [record] = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey("notes"), "notes_contract"), limit=1
    )
    assert len(dg.serialize_value(record.event)) < MIB
    outcome = outcome_from_metadata(record.event.dagster_event.event_specific_data.metadata)
    assert outcome.status is CheckStatus.FAILED and outcome.rules
    assert 0 < len(outcome.sample) < ROWS
    assert outcome.metrics["sample_rows_dropped"] == ROWS - len(outcome.sample)
    assert all(row["note"].endswith("…[cut 998,976 chars]") for row in outcome.sample)
    [observation] = instance.fetch_observations(dg.AssetKey("notes"), limit=1).records
    assert len(dg.serialize_value(observation.event_log_entry)) < MIB

    kept = QuarantineStore(resources["quarantine"].location).read("notes")
    assert kept.num_rows == ROWS and set(kept.column("note").to_pylist()) == {MEGABYTE}


def _huge_outcome() -> CheckOutcome:
    """An outcome no check of ours builds: an uncapped sample, a 2 MB error, 5,000 rules with long messages."""
    now = datetime(2026, 11, 21, tzinfo=UTC)
    rules = tuple(
        RuleResult(rule_id=f"r{i}", kind="custom", columns=("note",), severity=Severity.ERROR,
                   status=CheckStatus.FAILED, failing_rows=1, message="why " * 100)
        for i in range(5_000)
    )
    return CheckOutcome(check="custom", kind=CheckKind.CONTRACT, status=CheckStatus.ERROR, severity=Severity.ERROR,
                        started_at=now, finished_at=now, rows=30, rules=rules, error="e" * 2_000_000,
                        sample=tuple({"id": i, "note": MEGABYTE} for i in range(30)))


def test_outcome_metadata_of_an_uncapped_outcome_stays_under_one_mebibyte() -> None:
    """Whatever outcome is translated, its metadata is under 1 MiB and every entry cut says so in words."""
    metadata = md.outcome_metadata(_huge_outcome())
    assert sum(len(dg.serialize_value(v)) for v in metadata.values()) < MIB
    assert metadata[md.ERROR_KEY].value.endswith("…[cut 1,995,904 chars]")
    cut = [key for key, value in metadata.items() if str(getattr(value, "value", "")).startswith(md.CUT_MARKER)]
    assert cut, "5,000 rules of 400 characters cannot all fit: the largest entry must be cut and say so"
    assert md.OUTCOME_KEY in cut and outcome_from_metadata(metadata) is None


def test_outcome_within_the_caps_is_recorded_unchanged() -> None:
    """An ordinary outcome round-trips through the metadata exactly: capping changes only what exceeds a cap."""
    now = datetime(2026, 11, 21, tzinfo=UTC)
    rule = RuleResult(rule_id="note.allowed", kind="invalid_values", columns=("note",), severity=Severity.ERROR,
                      status=CheckStatus.FAILED, failing_rows=2, message="2 rows")
    outcome = CheckOutcome(check="contract", kind=CheckKind.CONTRACT, status=CheckStatus.FAILED,
                           severity=Severity.ERROR, started_at=now, finished_at=now, rows=3, rules=(rule,),
                           sample=({"id": 1, "note": "[/]", "_rules": ["note.allowed"], "_row": 1},))
    assert outcome_from_metadata(md.outcome_metadata(outcome)) == outcome


def _contract_with_long_missing_columns(columns: int, name_chars: int) -> str:
    """A contract requiring `columns` columns with `name_chars`-character names that no batch carries."""
    properties = "".join(
        f"      - name: c{i:03d}{'x' * name_chars}\n        logicalType: string\n        required: true\n"
        for i in range(columns)
    )
    return CONTRACT.replace("customProperties:\n  - property: sampleSize\n    value: 200\n", "").replace(
        "      - name: note\n", properties + "      - name: note\n"
    )


def test_hundreds_of_failed_rules_with_long_texts_make_no_event_over_one_mebibyte(instance, resources, tmp_path):
    """300 failing rules whose ids and columns are 3,000 characters long: the quarantine observation and the
    run's failure stay under 1 MiB, saying what they cut, while the store's manifest keeps every rule."""
    contract = tmp_path / "wide.odcs.yaml"
    contract.write_text(_contract_with_long_missing_columns(300, 3_000))

    @guarded_asset(contract=str(contract))
    def notes() -> pl.DataFrame:
        return pl.DataFrame({"id": [1, 2], "note": ["ok", "ok"]})

    result = dg.materialize([notes], instance=instance, resources=resources, raise_on_error=False)
    assert not result.success

    sizes = sorted((len(dg.serialize_value(e)), str(e.dagster_event_type)) for e in instance.all_logs(result.run_id))
    assert sizes[-1][0] < MIB, sizes[-4:]
    [observation] = instance.fetch_observations(dg.AssetKey("notes"), limit=1).records
    metadata = observation.event_log_entry.asset_observation.metadata
    assert metadata[md.BATCH_ID_KEY].value == "notes"
    assert any(str(getattr(v, "value", "")).startswith(md.CUT_MARKER) for v in metadata.values())
    [failure] = [e for e in instance.all_logs(result.run_id) if e.dagster_event_type == dg.DagsterEventType.STEP_FAILURE]
    failure_metadata = failure.dagster_event.step_failure_data.user_failure_data.metadata
    assert failure_metadata[md.BATCH_ID_KEY].value == "notes"
    assert failure_metadata[md.RULES_KEY].value.startswith(md.CUT_MARKER)

    kept = QuarantineStore(resources["quarantine"].location).show("notes")
    assert len(kept.failed_rules) >= 300 and all(len(r.rule_id) > 3_000 for r in kept.failed_rules[:300])


def test_a_check_result_with_huge_tables_and_long_score_names_stays_under_one_mebibyte():
    """A check's own extra metadata (a 2 MB table, 300 scores named after 3,000-character columns) is bounded with
    the outcome: the result is under 1 MiB, the outcome still reads back whole, and every score keeps its own key."""
    from guardrails.dagster._scope import AuditScope
    from guardrails.dagster.checks import outcome_check_result
    from guardrails.dagster.ml._common import scores_metadata

    columns = [f"{i:03d}" + "c" * 3_000 for i in range(300)]
    now = datetime(2026, 11, 21, tzinfo=UTC)
    outcome = CheckOutcome(check="drift", kind=CheckKind.DRIFT, status=CheckStatus.PASSED, severity=Severity.ERROR,
                           started_at=now, finished_at=now, rows=10, metrics={f"psi.{c}": 0.01 for c in columns})
    extra = {"guardrails/drift_columns": dg.MetadataValue.text("x" * 2_000_000),
             **scores_metadata(outcome.metrics, "guardrails/drift/")}
    spec = dg.AssetCheckSpec("drift", asset="features")
    result = outcome_check_result(outcome, spec, AuditScope(dg.AssetKey("features"), "run", None, None), extra=extra)

    assert len(dg.serialize_value(result.metadata)) < MIB
    assert outcome_from_metadata(result.metadata) == outcome
    scores = [k for k in result.metadata if k.startswith("guardrails/drift/")]
    assert len(scores) == 300 and max(map(len, scores)) <= len("guardrails/drift/") + 200
