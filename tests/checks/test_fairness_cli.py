"""`guardrails fairness`: exit codes 0/1/2/3, JSON that reads back as a report, a champion, hostile segment values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from guardrails.checks import FairnessReport
from guardrails.cli import app

REPO = Path(__file__).resolve().parents[2]
SPEC = str(REPO / "expectations" / "transactions.fairness.yaml")
runner = CliRunner()


def scored(path: Path, *, gb_shift: float = 0.0, rows: int = 40_000, countries: tuple[str, ...] = ("US", "GB", "DE"),
           seed: int = 0) -> Path:
    """Scored transactions with the example spec's columns; `gb_shift` raises GB's scores (a biased model)."""
    rng = np.random.default_rng(seed)
    country = rng.choice(countries, rows)
    fraud = rng.random(rows) < 0.1
    score = np.clip(np.where(fraud, 0.85, 0.4) + rng.normal(0, 0.2, rows) + np.where(country == "GB", gb_shift, 0),
                    0, 1)
    pl.DataFrame({"fraud_score": score, "is_fraud": fraud, "country": country,
                  "channel": rng.choice(["online", "pos"], rows)}).write_parquet(path)
    return path


def test_a_fair_model_exits_zero_and_a_biased_one_exits_one(tmp_path: Path) -> None:
    """Equal segments exit 0 with a table of gaps; a model that flags GB more exits 1 naming GB as the outlier."""
    fair = runner.invoke(app, ["fairness", SPEC, str(scored(tmp_path / "fair.parquet"))])
    assert fair.exit_code == 0, fair.output
    assert fair.output.startswith("pass") and "false_positive_rate" in fair.output
    biased = runner.invoke(app, ["fairness", SPEC, str(scored(tmp_path / "biased.parquet", gb_shift=0.2))])
    assert biased.exit_code == 1, biased.output
    assert biased.output.startswith("fail") and "GB" in biased.output and "high" in biased.output


def test_json_output_reads_back_as_the_report_and_serves_as_a_champion(tmp_path: Path) -> None:
    """--json prints the whole report; saved to a file it is a champion's recorded gaps for --champion."""
    result = runner.invoke(app, ["fairness", SPEC, str(scored(tmp_path / "champion.parquet")), "--json"])
    assert result.exit_code == 0, result.output
    report = FairnessReport.from_dict(json.loads(result.stdout))
    assert report.verdict.value == "pass"
    assert {g.key for g in report.gaps} >= {"country.false_positive_rate", "channel.selection_rate"}
    saved = tmp_path / "champion.json"
    saved.write_text(result.stdout)
    candidate = str(scored(tmp_path / "candidate.parquet", gb_shift=0.1, seed=1))
    for champion in (str(saved), str(tmp_path / "champion.parquet")):
        widened = runner.invoke(app, ["fairness", SPEC, candidate, "--champion", champion, "--json"])
        assert widened.exit_code == 1, widened.output
        failed = [r["rule_id"] for r in json.loads(widened.stdout)["outcome"]["rules"] if r["status"] == "failed"]
        assert "fairness.country.selection_rate.vs_champion" in failed


def test_too_few_large_segments_exits_three(tmp_path: Path) -> None:
    """One country only and one channel only: no gap can be judged, so the verdict is insufficient (exit 3)."""
    data = scored(tmp_path / "one.parquet", countries=("US",), rows=5_000)
    frame = pl.read_parquet(data).with_columns(pl.lit("online").alias("channel"))
    frame.write_parquet(data)
    result = runner.invoke(app, ["fairness", SPEC, str(data)])
    assert result.exit_code == 3, result.output
    assert result.output.startswith("insufficient")


@pytest.mark.parametrize("problem", ["bad spec", "missing data", "missing label", "not a report"])
def test_anything_that_stops_the_check_exits_two_with_one_line(tmp_path: Path, problem: str) -> None:
    """A bad spec (file:line: field), unreadable data, a missing label or a bad champion file: exit 2, one line."""
    data = str(scored(tmp_path / "data.parquet", rows=2_000))
    args = ["fairness", SPEC, data]
    if problem == "bad spec":
        bad = tmp_path / "bad.fairness.yaml"
        bad.write_text("fairness:\n  prediction: fraud_score\n  segments: [country]\n  threshold: high\n")
        args = ["fairness", str(bad), data]
        expected = f"{bad}:4: fairness.threshold: expected a finite number"
    elif problem == "missing data":
        args = ["fairness", SPEC, str(tmp_path / "nope.parquet")]
        expected = "could not be measured"
    elif problem == "missing label":
        pl.read_parquet(data).drop("is_fraud").write_parquet(data)
        expected = "column 'is_fraud' is missing"
    else:
        (tmp_path / "champion.json").write_text("{}")
        args = [*args, "--champion", str(tmp_path / "champion.json")]
        expected = "not a fairness report"
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("guardrails:")]
    assert len(errors) == 1 and expected in errors[0], result.stderr


def test_segment_values_from_data_print_as_text(tmp_path: Path) -> None:
    """A segment value holding a terminal escape and rich markup prints escaped and literal, never styled."""
    data = scored(tmp_path / "hostile.parquet", rows=3_000)
    hostile = "\x1b[31m[bold]EVIL[/]:100:"
    pl.read_parquet(data).with_columns(
        pl.when(pl.int_range(pl.len()) < 5).then(pl.lit(hostile)).otherwise(pl.col("country")).alias("country")
    ).write_parquet(data)
    result = runner.invoke(app, ["fairness", SPEC, str(data)])
    assert "\x1b" not in result.output
    assert "\\x1b[31m[bold]EVIL[/]:100:" in result.output  # too small, listed as such, shown literally


def test_the_command_does_not_load_scipy_or_hosts_at_start_up() -> None:
    """Registering `fairness` leaves `guardrails --help` free of scipy, dagster and mlflow imports."""
    script = ("import sys\nfrom guardrails.cli import app\n"
              "print([m for m in ('scipy', 'dagster', 'mlflow') if m in sys.modules])\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.stdout.strip() == "[]"
