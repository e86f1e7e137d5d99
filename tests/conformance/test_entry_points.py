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
import polars as pl
import pytest
from typer.testing import CliRunner

from guardrails.cli import app
from guardrails.contract import load_contract
from guardrails.dagster import QuarantineResource, guarded_asset, outcome_from_metadata
from guardrails.dagster import metadata as md
from guardrails.outcome import ALLOW_UNRUN, FAIL_CLOSED, UNRUN_POLICY_KEY, CheckOutcome, CheckStatus, Severity
from guardrails.quarantine import QuarantineStore, guard_batch
from tests.conformance.fixtures import AS_OF, DAY, FIXTURES, PARTITION, ROWS, Fixture

TABLE_RULE_KINDS = frozenset({"type", "row_count", "sql", "custom"})
"""Rule kinds judged on the whole table: a failure of one at error severity cannot be split row by row."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an entry point reports about one batch, reduced to what every entry point must agree on."""

    status: CheckStatus
    rows: int | None
    rules: dict[str, tuple[CheckStatus, int, float | None, Severity, bool]]
    published: int
    quarantined: int
    unrun_policy: object = None

    @classmethod
    def of(cls, outcome: CheckOutcome, *, published: int, quarantined: int) -> Verdict:
        return cls(
            status=outcome.status,
            rows=outcome.rows,
            rules={r.rule_id: (r.status, r.failing_rows, r.observed, r.severity, r.ran) for r in outcome.rules},
            published=published,
            quarantined=quarantined,
            unrun_policy=outcome.metrics.get(UNRUN_POLICY_KEY),
        )

    @property
    def judged(self) -> tuple[CheckStatus, int | None, dict[str, Any], object]:
        """The verdict on the data: status, rows read, per-rule status, failing rows, observed value, severity and
        whether it ran, and the unrun policy the outcome records."""
        return self.status, self.rows, self.rules, self.unrun_policy

    @property
    def settled(self) -> tuple[int, int]:
        """What became of the rows: (published, quarantined)."""
        return self.published, self.quarantined


def core_verdict(path: Path, contract: Path, store: Path, *, allow_unrun: bool = False) -> Verdict:
    """`guard_batch` on the file: rows published, and rows the manifest says it keeps."""
    guarded = guard_batch(path, load_contract(contract), QuarantineStore(str(store)), as_of=AS_OF,
                          allow_unrun=allow_unrun)
    kept = guarded.manifest.rows_quarantined if guarded.manifest is not None else 0
    # None (the manifest does not know) is reported as 0, as the Dagster asset reports an unknown count.
    return Verdict.of(guarded.outcome, published=guarded.rows_published, quarantined=kept or 0)


def cli_verdict(fixture: Fixture, path: Path, contract: Path) -> Verdict:
    """`guardrails validate CONTRACT FILE --json --as-of T`; the rows it would publish derived as the core does."""
    flags = ["--allow-unrun"] if fixture.allow_unrun else []
    result = CliRunner().invoke(app, ["validate", str(contract), str(path), "--json", "--as-of", AS_OF.isoformat(),
                                      *flags])
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

        @guarded_asset(contract=str(contract), name=f"transactions_{policy}", partitions_def=partitions,
                       allow_unrun=policy == "unrun_allowed")
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
        f.name: core_verdict(batches[f.name], contracts[f.policy], conformance_dir / "core" / f.name,
                             allow_unrun=f.allow_unrun)
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


def test_sql_rules_are_judged_with_known_answers(
    core_verdicts: dict[str, Verdict], batches: dict[str, Path]
) -> None:
    """The SQL rules pass on the clean batch, count exactly the negative amounts, and cannot run without `amount`."""
    clean, corrupt, renamed = (core_verdicts[f"{name}@sql"] for name in ("clean", "out_of_range_amounts", "schema_change"))
    assert clean.status is CheckStatus.PASSED
    assert clean.rules["amount_total"][2] == pytest.approx(float(pl.read_parquet(batches["clean@sql"])["amount"].sum()))
    negatives = pl.read_parquet(batches["out_of_range_amounts@sql"]).filter(pl.col("amount") < 0).height
    assert negatives > 0
    assert corrupt.rules["no_negative_amount"][:3] == (CheckStatus.FAILED, 0, float(negatives))
    assert corrupt.settled == (0, ROWS)
    assert {renamed.rules[r][0] for r in ("no_negative_amount", "amount_total")} == {CheckStatus.ERROR}


def test_unrun_rule_fails_closed_unless_allowed(core_verdicts: dict[str, Verdict]) -> None:
    """An unrun custom rule keeps a clean batch from publication by default, and only warns when allowed."""
    closed, allowed, allowed_nulls = (core_verdicts[n] for n in ("clean@unrun", "clean@unrun_allowed", "nulls@unrun_allowed"))
    assert closed.rules["soda_duplicates"] == (CheckStatus.ERROR, 0, None, Severity.ERROR, False)
    assert (closed.status, closed.settled, closed.unrun_policy) == (CheckStatus.FAILED, (0, ROWS), FAIL_CLOSED)
    assert allowed.rules["soda_duplicates"] == (CheckStatus.ERROR, 0, None, Severity.WARNING, False)
    assert (allowed.status, allowed.settled, allowed.unrun_policy) == (CheckStatus.FAILED, (ROWS, 0), ALLOW_UNRUN)
    assert allowed_nulls.settled == (0, ROWS)  # allowing unrun rules does not excuse the rules that ran


@pytest.mark.parametrize(("name", "code"), [("clean@unrun", 1), ("clean@unrun_allowed", 0), ("clean@sql", 0),
                                            ("out_of_range_amounts@sql", 1)])
def test_cli_exit_code_and_incomplete_line(
    name: str, code: int, batches: dict[str, Path], contracts: dict[str, Path]
) -> None:
    """`guardrails validate` exits 1 on an unrun rule failing closed, 0 with --allow-unrun, and says it is incomplete."""
    fixture = next(f for f in FIXTURES if f.name == name)
    flags = ["--allow-unrun"] if fixture.allow_unrun else []
    result = CliRunner().invoke(app, ["validate", str(contracts[fixture.policy]), str(batches[name]), "--as-of",
                                      AS_OF.isoformat(), *flags])
    assert result.exit_code == code, result.output
    assert ("validation incomplete: 1 rule(s) not run (soda_duplicates)" in result.stderr) == ("unrun" in name)


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
