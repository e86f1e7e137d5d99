"""`guardrails canary SPEC DATA`: exit codes 0 pass, 1 fail, 2 could not run, 3 inconclusive; tables and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from guardrails.cli import app

SPEC = "expectations/fraud_model.canary.yaml"
runner = CliRunner()


def observations(tmp_path: Path, units: int, *, worse: float = 0.0, split: float = 0.5, ctr_margin_ok: bool = False,
                 seed: int = 0) -> Path:
    """A Parquet file of per-unit observations for the example spec."""
    rng = np.random.default_rng(seed)
    candidate = rng.random(units) >= split
    flagged = rng.poisson(3, units)
    frame = pl.DataFrame({
        "variant": np.where(candidate, "candidate", "control"),
        "clicked": rng.random(units) < np.where(candidate, 0.3 * (1 - worse), 0.3),
        "true_positive": rng.binomial(flagged, np.where(candidate, 0.6 * (1 - worse), 0.6)),
        "flagged": flagged,
        "latency_ms": np.round(rng.gamma(4, 20, units) * np.where(candidate, 1 + worse, 1.0)),
        "matured": np.ones(units, dtype=bool),
    })
    path = tmp_path / f"canary-{units}-{worse}-{split}.parquet"
    frame.write_parquet(path)
    return path


def spec_with(tmp_path: Path, **replacements: str) -> Path:
    text = Path(SPEC).read_text()
    for old, new in replacements.items():
        text = text.replace(old, new)
    path = tmp_path / "fraud_model.canary.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("units", "worse", "split", "code", "word"), [
    (600, 0.0, 0.5, 3, "inconclusive"),
    (100_000, 0.2, 0.5, 1, "fail"),
    (20_000, 0.0, 0.6, 2, "error"),
])
def test_exit_codes_follow_the_verdict(tmp_path: Path, units: int, worse: float, split: float, code: int,
                                       word: str) -> None:
    """Inconclusive exits 3, a worse candidate 1, a sample-ratio mismatch 2; the headline names the verdict."""
    result = runner.invoke(app, ["canary", SPEC, str(observations(tmp_path, units, worse=worse, split=split))])
    assert result.exit_code == code, result.output
    assert any(line.startswith(f"{word}  fraud_model") for line in result.output.splitlines()), result.output


def test_a_good_candidate_passes_with_exit_zero_and_a_metric_table(tmp_path: Path) -> None:
    """An equal candidate with 400,000 units passes every metric: exit 0 and one table row per metric."""
    spec = spec_with(tmp_path, **{"margin: {relative: 0.05}": "margin: {relative: 0.1}"})
    result = runner.invoke(app, ["canary", str(spec), str(observations(tmp_path, 400_000))])
    assert result.exit_code == 0, result.output
    for name in ("ctr (critical)", "precision", "latency_p95"):
        assert name in result.output


def test_json_report_round_trips_with_verdicts(tmp_path: Path) -> None:
    """`--json` prints the whole report: verdict, per-metric intervals, margins and units needed."""
    result = runner.invoke(app, ["canary", SPEC, str(observations(tmp_path, 600)), "--json"])
    assert result.exit_code == 3, result.output
    report = json.loads(result.output)
    assert report["verdict"] == "inconclusive" and report["outcome"]["kind"] == "canary"
    assert {m["name"] for m in report["metrics"]} == {"ctr", "precision", "latency_p95"}
    assert all("sequential" in m and "fixed_n" in m and "units_needed" in m for m in report["metrics"])


def test_bad_spec_exits_two_with_file_line_and_field(tmp_path: Path) -> None:
    """A spec with an invalid alpha is refused before any data is read: exit 2, one line naming where."""
    spec = spec_with(tmp_path, **{"alpha: 0.05": "alpha: 5"})
    result = runner.invoke(app, ["canary", str(spec), str(tmp_path / "absent.parquet")])
    assert result.exit_code == 2
    assert f"{spec}:7: canary.alpha: expected a number strictly between 0 and 0.5, got 5" in result.output


def test_unreadable_data_exits_two(tmp_path: Path) -> None:
    """A data file that does not exist is "could not run" (exit 2), not a traceback."""
    result = runner.invoke(app, ["canary", SPEC, str(tmp_path / "absent.parquet")])
    assert result.exit_code == 2 and "Traceback" not in result.output
