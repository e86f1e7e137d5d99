"""Smoke test of the canary benchmark: on 20,000 units both sides run in fresh processes and agree on the verdict."""

from __future__ import annotations

from bench import canary


def test_canary_bench_runs_both_sides_and_reports_a_row(tmp_path) -> None:
    """assess_canary and the CLI give the same verdict on the generated file; the table row has the figures."""
    figures = canary.bench(20_000, tmp_path, repeat=1)
    assert figures["verdict"] == figures["cli_verdict"] and figures["units"] == 20_000
    assert set(figures["metrics"]) == {"ctr", "precision", "error_rate", "latency_p95", "score"}
    assert figures["seconds"] > 0 and figures["cli_seconds"] > figures["seconds"]
    assert figures["table"].startswith("| 20,000 | 5 |")
