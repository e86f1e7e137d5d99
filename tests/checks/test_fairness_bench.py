"""bench/fairness.py runs end to end at a small size, and guardrails and fairlearn agree on every value there."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.slow  # four fresh processes (guardrails twice, the CLI, fairlearn): about 15 s on a busy machine
def test_the_fairness_benchmark_runs_and_agrees_with_fairlearn(tmp_path: Path) -> None:
    """A 20,000-row run produces every figure, the CLI gives a verdict, and the 45 per-segment values agree."""
    pytest.importorskip("fairlearn")
    from bench import fairness

    figures = fairness.main(["--rows", "20000", "--small-rows", "5000", "--data-dir", str(tmp_path)])
    assert "error" not in figures["guardrails_large"] and figures["guardrails_large"]["rows"] == 20_000
    assert figures["cli_large"]["verdict"] in ("pass", "fail", "insufficient")
    assert figures["values_compared"] == 45 and figures["max_abs_difference"] < 1e-12
    assert figures["fairlearn_over_guardrails"] > 0
