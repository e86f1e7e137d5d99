"""Smoke test of the contract benchmark: on 1k rows every engine agrees on every rule, and the harness runs."""

from __future__ import annotations

import pytest

from bench import contract as bench

pytestmark = pytest.mark.slow  # the GX engine imports great_expectations (14-40 s on the shared 2 cores)


@pytest.mark.parametrize("scenario", bench.SCENARIOS)
def test_engines_agree_on_a_small_batch(scenario: str) -> None:
    """floor, guardrails, pandera and GX report the same failing count (or verdict) for every rule."""
    frame = bench.make_batch(1_000, scenario)
    results = {engine: bench.prepare(engine)(frame) for engine in bench.ENGINES}
    assert bench.disagreements(results) == []
    counts = results["floor"]["counts"]
    if scenario == "clean":
        assert not any(counts.values())
    else:
        assert counts["amount.not_null"] == counts["account_id.not_null"] == 50
        assert counts["merchant_category.allowed_values"] == counts["event_time.not_in_future"] == 50
        assert counts["transaction_id.unique"] > 50
    assert set(results["guardrails"]["counts"]) == set(counts)


def test_harness_runs_an_engine_in_a_fresh_process(tmp_path) -> None:
    """The harness writes the batch once, runs an engine in its own child and reads back its figures."""
    path = bench.batch_path(1_000, "corrupt", tmp_path)
    assert bench.batch_path(1_000, "corrupt", tmp_path) == path and path.stat().st_size > 0
    figures = bench.run_engine("floor", path)
    assert figures["counts"]["amount.not_null"] == 50
    assert figures["peak_rss_mib"] > figures["baseline_rss_mib"] > 0 and figures["validate_s"] > 0
    table = bench.table(
        [{"rows": 1_000, "scenario": "corrupt", "engine": "floor", **figures, "time_ratio": 1.0, "rss_ratio": 1.0, "agree": "yes"}]
    )
    assert table.count("\n") == 2 and "| floor |" in table
