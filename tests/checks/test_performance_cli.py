"""`guardrails performance SPEC PREDICTIONS [LABELS]` on real Parquet files: exit codes 0/1/2/3, JSON that reads back
as the report, and one clear line for a bad spec."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from bench.performance import simulate
from guardrails.checks import PerformanceReport
from guardrails.cli import app

runner = CliRunner()
DAY = datetime(2026, 10, 1, tzinfo=UTC)
MATURE = (DAY + timedelta(days=45)).isoformat()
SPEC = """performance:
  key: transaction_id
  prediction: score
  label: is_fraud
  prediction_time: event_time
  label_time: label_time
  label_maturity: 30d
  period: 1d
  metrics: [precision, recall, roc_auc]
  margin: {absolute: 0.05}
  min_labels: 500
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A spec, 2 days of predictions (the second with a concept change), chargebacks, and a labelled reference."""
    root = tmp_path_factory.mktemp("performance_cli")
    frame = pl.concat([simulate(4_000, seed=1, day=DAY),
                       simulate(4_000, seed=2, day=DAY + timedelta(days=1), flip=True, first_key=4_000)])
    paths = {name: root / f"{name}.parquet" for name in ("predictions", "labels", "reference", "steady", "steady_labels")}
    frame.select("transaction_id", "score", "event_time").write_parquet(paths["predictions"])
    frame.filter(pl.col("is_fraud")).select("transaction_id", "is_fraud", "label_time").write_parquet(paths["labels"])
    steady = frame.head(4_000)
    steady.select("transaction_id", "score", "event_time").write_parquet(paths["steady"])
    steady.filter(pl.col("is_fraud")).select("transaction_id", "is_fraud", "label_time").write_parquet(
        paths["steady_labels"])
    simulate(20_000, seed=3).select("score", "is_fraud").write_parquet(paths["reference"])
    paths["spec"] = root / "fraud.performance.yaml"
    paths["spec"].write_text(SPEC)
    return paths


def invoke(*args: str | Path):
    return runner.invoke(app, ["performance", *map(str, args)])


def test_steady_performance_exits_zero(files: dict[str, Path]) -> None:
    """A day that performs as the reference did exits 0, with the per-period table and a healthy diagnosis."""
    result = invoke(files["spec"], files["steady"], files["steady_labels"], "--reference-data", files["reference"],
                    "--as-of", MATURE)
    assert result.exit_code == 0, result.output
    assert "verdict pass" in result.output and "diagnosis: healthy" in result.output


def test_a_concept_change_exits_one_and_says_concept_drift(files: dict[str, Path]) -> None:
    """The flipped day fails (exit 1); the output names concept drift and the containment (roll back or retrain)."""
    result = invoke(files["spec"], files["predictions"], files["labels"], "--reference-data", files["reference"],
                    "--as-of", MATURE)
    assert result.exit_code == 1, result.output
    assert "diagnosis: concept_drift" in result.output and "Roll back" in result.output


def test_json_output_reads_back_as_the_report(files: dict[str, Path]) -> None:
    """``--json`` prints the report; `PerformanceReport.from_dict` reads it back with its verdict and diagnosis."""
    result = invoke(files["spec"], files["predictions"], files["labels"], "--reference-data", files["reference"],
                    "--as-of", MATURE, "--json")
    assert result.exit_code == 1
    report = PerformanceReport.from_dict(json.loads(result.stdout))
    assert report.verdict.value == "fail" and report.diagnosis.value == "concept_drift"
    assert report.estimate.ran and len(report.periods) == 2


def test_too_few_mature_labels_exits_three(files: dict[str, Path]) -> None:
    """Ten days after the predictions nothing is mature: exit 3 (insufficient), never 0."""
    result = invoke(files["spec"], files["predictions"], files["labels"], "--reference-data", files["reference"],
                    "--as-of", (DAY + timedelta(days=10)).isoformat())
    assert result.exit_code == 3, result.output
    assert "insufficient" in result.output


def test_a_bad_spec_exits_two_naming_file_line_and_field(files: dict[str, Path], tmp_path: Path) -> None:
    """A spec with an unknown metric exits 2 with one line: file, line, field."""
    bad = tmp_path / "bad.performance.yaml"
    bad.write_text(SPEC.replace("roc_auc]", "accuracy]"))
    result = invoke(bad, files["predictions"], files["labels"])
    assert result.exit_code == 2
    assert f"{bad}:9: performance.metrics[2]: expected a metric" in result.output


def test_no_reference_and_no_reference_metrics_exits_two(files: dict[str, Path]) -> None:
    """Without reference metrics or reference data nothing can be judged: exit 2 (could not run), saying why."""
    result = invoke(files["spec"], files["predictions"], files["labels"], "--as-of", MATURE)
    assert result.exit_code == 2 and "no reference value for precision" in result.output


def test_a_missing_file_exits_two(files: dict[str, Path], tmp_path: Path) -> None:
    """A predictions path that does not exist exits 2 with one line naming it."""
    result = invoke(files["spec"], tmp_path / "nope.parquet")
    assert result.exit_code == 2 and "nope.parquet: no such file" in result.output


def test_an_input_drift_outcome_is_read_as_evidence(files: dict[str, Path], tmp_path: Path) -> None:
    """``--drift`` takes a drift check's outcome as JSON; a passing one is named in the concept-drift evidence."""
    from guardrails.checks import check_drift
    from guardrails.profile import build_profile

    reference = simulate(5_000, seed=4).select("x1", "x2")
    outcome = check_drift(simulate(5_000, seed=5).select("x1", "x2"), build_profile(reference))
    drift = tmp_path / "drift.json"
    drift.write_text(outcome.to_json())
    result = invoke(files["spec"], files["predictions"], files["labels"], "--reference-data", files["reference"],
                    "--drift", drift, "--as-of", MATURE, "--json")
    report = PerformanceReport.from_dict(json.loads(result.stdout))
    assert any("input drift check passed" in line for line in report.evidence)
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    assert invoke(files["spec"], files["predictions"], "--drift", broken).exit_code == 2


def test_text_from_the_spec_is_shown_escaped(files: dict[str, Path], tmp_path: Path) -> None:
    """A column name carrying a terminal escape, named in the could-not-run line, prints as ``\\x1b``, never raw."""
    spec = tmp_path / "hostile.performance.yaml"
    spec.write_text(SPEC.replace("prediction: score", 'prediction: "\\e[31mscore"'))
    result = invoke(spec, files["predictions"], files["labels"], "--as-of", MATURE)
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\\x1b[31mscore" in result.output
    assert result.output.count("could not be measured") == 1
