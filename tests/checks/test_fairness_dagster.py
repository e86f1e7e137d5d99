"""The fairness gate as a Dagster asset check on a real instance, with a real Parquet IO manager."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest

from guardrails.dagster import outcome_from_metadata
from guardrails.dagster.ml import FAIRNESS_GAPS_KEY, FAIRNESS_REPORT_KEY, FAIRNESS_SEGMENTS_KEY, build_fairness_checks
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, Verdict
from tests.dagster.conftest import ParquetIOManager

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "expectations" / "transactions.fairness.yaml"


@pytest.fixture(scope="module")
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


def _scored(gb_shift: float, rows: int = 30_000, countries: tuple[str, ...] = ("US", "GB", "DE")) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    country = rng.choice(countries, rows)
    fraud = rng.random(rows) < 0.1
    score = np.where(fraud, 0.85, 0.4) + rng.normal(0, 0.2, rows) + np.where(country == "GB", gb_shift, 0.0)
    return pl.DataFrame({"fraud_score": score, "is_fraud": fraud, "country": country,
                         "channel": rng.choice(["online", "pos"], rows)})


def _run(instance: dg.DagsterInstance, tmp_path: Path, frame: pl.DataFrame, **options: object) -> dg.AssetCheckEvaluation:
    @dg.asset
    def scored_transactions() -> pl.DataFrame:
        return frame

    checks = build_fairness_checks([scored_transactions], spec=SPEC, **options)
    result = dg.materialize([scored_transactions, *checks], instance=instance,
                            resources={"io_manager": ParquetIOManager(base_dir=str(tmp_path))})
    assert result.success  # a non-blocking check records its verdict; it does not fail the run
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def test_a_biased_model_fails_at_error_with_gap_and_segment_tables(instance: dg.DagsterInstance,
                                                                   tmp_path: Path) -> None:
    """GB flagged more often: the check fails at ERROR; its metadata holds the gaps, the segments and a report."""
    evaluation = _run(instance, tmp_path, _scored(gb_shift=0.2))
    assert not evaluation.passed and evaluation.severity is dg.AssetCheckSeverity.ERROR
    outcome = outcome_from_metadata(evaluation.metadata)
    assert outcome.kind is CheckKind.FAIRNESS and outcome.verdict is Verdict.FAIL
    gaps = {(r.data["column"], r.data["metric"]): r.data for r in evaluation.metadata[FAIRNESS_GAPS_KEY].records}
    assert gaps[("country", "selection_rate")]["verdict"] == "fail"
    assert gaps[("country", "selection_rate")]["highest"] == "GB"
    assert gaps[("channel", "selection_rate")]["verdict"] == "pass"
    flagged = [r.data for r in evaluation.metadata[FAIRNESS_SEGMENTS_KEY].records if r.data["flag"]]
    assert {"GB"} <= {r["segment"] for r in flagged} and flagged[0]["flag"] in ("low", "high")
    assert "❌ fail" in evaluation.metadata[FAIRNESS_REPORT_KEY].value
    difference = evaluation.metadata["guardrails/fairness/difference.country.selection_rate"].value
    assert difference == pytest.approx(gaps[("country", "selection_rate")]["difference"])


def test_too_few_segments_is_a_warning_never_a_pass(instance: dg.DagsterInstance, tmp_path: Path) -> None:
    """One country and tiny channels: insufficient, recorded as a failed WARN evaluation."""
    frame = _scored(0.0, rows=3_000, countries=("US",)).with_columns(pl.lit("online").alias("channel"))
    evaluation = _run(instance, tmp_path, frame)
    assert not evaluation.passed and evaluation.severity is dg.AssetCheckSeverity.WARN
    assert outcome_from_metadata(evaluation.metadata).verdict is Verdict.INSUFFICIENT


def test_a_champion_that_cannot_be_read_fails_closed(instance: dg.DagsterInstance, tmp_path: Path) -> None:
    """A champion function that raises makes the check "could not run": failed at ERROR, cause kept."""
    def champion(context: dg.AssetCheckExecutionContext) -> pl.DataFrame:
        raise FileNotFoundError("champion scores for today are not written yet")

    evaluation = _run(instance, tmp_path, _scored(0.0), champion=champion)
    assert not evaluation.passed and evaluation.severity is dg.AssetCheckSeverity.ERROR
    outcome = outcome_from_metadata(evaluation.metadata)
    assert outcome.verdict is Verdict.ERROR and "not written yet" in (outcome.error or "")


def test_a_champion_function_feeds_the_widening_rule(instance: dg.DagsterInstance, tmp_path: Path) -> None:
    """The champion's scores from a function of the context: a candidate widening GB's gap fails vs_champion."""
    evaluation = _run(instance, tmp_path, _scored(gb_shift=0.1), champion=lambda context: _scored(0.0))
    failed = {r.rule_id for r in outcome_from_metadata(evaluation.metadata).failed_rules}
    assert "fairness.country.selection_rate.vs_champion" in failed


def test_a_bad_spec_fails_when_the_definitions_load(tmp_path: Path) -> None:
    """A malformed spec raises `ContractError` with file and line while building the check, not at run time."""
    bad = tmp_path / "bad.fairness.yaml"
    bad.write_text("fairness:\n  prediction: fraud_score\n  segments: []\n")
    with pytest.raises(ContractError, match=r"bad.fairness.yaml:3: fairness.segments"):
        build_fairness_checks(["scored"], spec=bad)


def test_the_builder_docstring_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `build_fairness_checks` docstring example passes as a doctest (from the repository root)."""
    import doctest

    from guardrails.dagster.ml import _fairness

    monkeypatch.chdir(REPO)
    result = doctest.testmod(_fairness)
    assert result.failed == 0 and result.attempted > 0
