"""Every entry point gives the same verdict on the same batch: status, per-rule counts, rows published and kept.

The core (`guard_batch`) is the reference; the CLI (`guardrails validate --json`, in process) and a Dagster
`guarded_asset` (materialized on a real instance, one run per fixture) are compared with it. The Airflow adapter
and the pushed-down engines join the table when they arrive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from typer.testing import CliRunner

from guardrails.cli import app
from guardrails.contract import load_contract
from guardrails.dagster import QuarantineResource, guarded_asset, outcome_from_metadata
from guardrails.dagster import metadata as md
from guardrails.outcome import CheckOutcome, CheckStatus, Severity
from guardrails.quarantine import QuarantineStore, guard_batch
from tests.conformance.fixtures import AS_OF, DAY, FIXTURES, PARTITION, Fixture

TABLE_RULE_KINDS = frozenset({"type", "row_count"})
"""Rule kinds judged on the whole table: a failure of one at error severity cannot be split row by row."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an entry point reports about one batch, reduced to what every entry point must agree on."""

    status: CheckStatus
    rows: int | None
    rules: dict[str, tuple[CheckStatus, int]]
    published: int
    quarantined: int

    @classmethod
    def of(cls, outcome: CheckOutcome, *, published: int, quarantined: int) -> Verdict:
        return cls(
            status=outcome.status,
            rows=outcome.rows,
            rules={r.rule_id: (r.status, r.failing_rows) for r in outcome.rules},
            published=published,
            quarantined=quarantined,
        )

    @property
    def judged(self) -> tuple[CheckStatus, int | None, dict[str, tuple[CheckStatus, int]]]:
        """The verdict on the data: status, rows read and per-rule status and failing rows."""
        return self.status, self.rows, self.rules

    @property
    def settled(self) -> tuple[int, int]:
        """What became of the rows: (published, quarantined)."""
        return self.published, self.quarantined


def core_verdict(path: Path, contract: Path, store: Path) -> Verdict:
    """`guard_batch` on the file: rows published, and rows the manifest says it keeps."""
    guarded = guard_batch(path, load_contract(contract), QuarantineStore(str(store)), as_of=AS_OF)
    kept = guarded.manifest.rows_quarantined if guarded.manifest is not None else 0
    # None (the manifest does not know) is reported as 0, as the Dagster asset reports an unknown count.
    return Verdict.of(guarded.outcome, published=guarded.rows_published, quarantined=kept or 0)


def cli_verdict(fixture: Fixture, path: Path, contract: Path) -> Verdict:
    """`guardrails validate CONTRACT FILE --json --as-of T`; the rows it would publish derived as the core does."""
    result = CliRunner().invoke(app, ["validate", str(contract), str(path), "--json", "--as-of", AS_OF.isoformat()])
    assert result.exit_code in (0, 1, 2), result.output
    outcome = CheckOutcome.from_dict(json.loads(result.stdout))
    published, quarantined = _settled_rows(outcome, fixture.policy)
    return Verdict.of(outcome, published=published, quarantined=quarantined)


def _settled_rows(outcome: CheckOutcome, policy: str) -> tuple[int, int]:
    """(published, quarantined) as `guard_batch` settles an outcome under `policy` (see its docstring)."""
    rows = outcome.rows or 0
    if not outcome.blocks_publication:
        return rows, 0
    blocking = [r for r in outcome.failed_rules if r.severity is Severity.ERROR]
    splittable = (
        policy == "rows"
        and outcome.status is CheckStatus.FAILED
        and all(r.kind not in TABLE_RULE_KINDS and r.status is CheckStatus.FAILED for r in blocking)
        and int(outcome.metrics.get("failing_rows") or 0) > 0
    )
    if not splittable:
        return 0, rows
    rejected = int(outcome.metrics["failing_rows"])  # type: ignore[arg-type]
    return rows - rejected, rejected


_DAGSTER_BATCH: dict[str, Path] = {}
"""The path the guarded assets return on their next run (one run per fixture, in this process)."""


def _guarded_assets(contracts: dict[str, Path]) -> dict[str, dg.AssetsDefinition]:
    """One daily-partitioned guarded asset per policy; the partition's end is `AS_OF`, the time it is judged at."""
    partitions = dg.DailyPartitionsDefinition(start_date=DAY.replace(day=1).isoformat())
    assets = {}
    for policy, contract in contracts.items():

        @guarded_asset(contract=str(contract), name=f"transactions_{policy}", partitions_def=partitions)
        def landed() -> Path:
            return _DAGSTER_BATCH["path"]

        assets[policy] = landed
    return assets


def dagster_verdict(path: Path, asset: dg.AssetsDefinition, instance: dg.DagsterInstance, store: Path) -> Verdict:
    """A real run of the guarded asset; the verdict as its contract check's evaluation records it."""
    _DAGSTER_BATCH["path"] = path
    result = dg.materialize([asset], instance=instance, partition_key=PARTITION, raise_on_error=False,
                            resources={"quarantine": QuarantineResource(location=str(store))})
    [evaluation] = result.get_asset_check_evaluations()
    metadata: dict[str, Any] = evaluation.metadata
    outcome = outcome_from_metadata(metadata)
    assert outcome is not None, sorted(metadata)
    return Verdict.of(outcome, published=metadata[md.ROWS_PUBLISHED_KEY].value,
                      quarantined=metadata[md.ROWS_QUARANTINED_KEY].value)


@pytest.fixture(scope="module")
def core_verdicts(batches: dict[str, Path], contracts: dict[str, Path], conformance_dir: Path) -> dict[str, Verdict]:
    """The reference: the core's verdict on every fixture."""
    return {
        f.name: core_verdict(batches[f.name], contracts[f.policy], conformance_dir / "core" / f.name)
        for f in FIXTURES
    }


@pytest.fixture(scope="module")
def dagster_verdicts(
    batches: dict[str, Path], contracts: dict[str, Path], dagster_instance: dg.DagsterInstance, conformance_dir: Path
) -> dict[str, Verdict]:
    """The guarded asset's verdict on every fixture: one real run each, shared by the tests that compare them."""
    assets = _guarded_assets(contracts)
    return {
        f.name: dagster_verdict(batches[f.name], assets[f.policy], dagster_instance,
                                conformance_dir / "dagster" / f.name)
        for f in FIXTURES
    }


def test_the_table_covers_every_kind_of_verdict(core_verdicts: dict[str, Verdict]) -> None:
    """The table holds passing, failing and could-not-run batches, and a rows-policy split, so agreement means something."""
    statuses = {v.status for v in core_verdicts.values()}
    assert statuses == set(CheckStatus)
    assert any(v.published and v.quarantined for v in core_verdicts.values())


@pytest.mark.parametrize("fixture", FIXTURES, ids=str)
def test_cli_judges_as_the_core(
    fixture: Fixture, batches: dict[str, Path], contracts: dict[str, Path], core_verdicts: dict[str, Verdict]
) -> None:
    """`guardrails validate --json` reports the core's status, row count and per-rule counts."""
    verdict = cli_verdict(fixture, batches[fixture.name], contracts[fixture.policy])
    assert verdict.judged == core_verdicts[fixture.name].judged


@pytest.mark.parametrize("fixture", FIXTURES, ids=str)
def test_cli_settles_rows_as_the_core(
    fixture: Fixture, batches: dict[str, Path], contracts: dict[str, Path], core_verdicts: dict[str, Verdict]
) -> None:
    """The rows the CLI's outcome publishes and keeps under the policy are the rows the core published and kept."""
    verdict = cli_verdict(fixture, batches[fixture.name], contracts[fixture.policy])
    assert verdict.settled == core_verdicts[fixture.name].settled


@pytest.mark.xdist_group("conformance_dagster")
@pytest.mark.parametrize("fixture", FIXTURES, ids=str)
def test_dagster_guarded_asset_judges_as_the_core(
    fixture: Fixture, dagster_verdicts: dict[str, Verdict], core_verdicts: dict[str, Verdict]
) -> None:
    """A guarded asset's run records the core's status, row count and per-rule counts."""
    assert dagster_verdicts[fixture.name].judged == core_verdicts[fixture.name].judged


@pytest.mark.xdist_group("conformance_dagster")
@pytest.mark.parametrize("fixture", FIXTURES, ids=str)
def test_dagster_guarded_asset_settles_rows_as_the_core(
    fixture: Fixture, dagster_verdicts: dict[str, Verdict], core_verdicts: dict[str, Verdict]
) -> None:
    """A guarded asset's run records the rows the core published and kept."""
    assert dagster_verdicts[fixture.name].settled == core_verdicts[fixture.name].settled
