"""`build_canary_check`: the canary judged in a real Dagster run, with its per-metric table in the metadata."""

from __future__ import annotations

import doctest
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest

import guardrails.dagster.ml._canary as canary_module
from guardrails.dagster import outcome_from_metadata
from guardrails.dagster.ml import CANARY_METRICS_KEY, CANARY_VERDICT_KEY, build_canary_check
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, Verdict
from tests.dagster.conftest import REPO

SPEC = REPO / "expectations" / "fraud_model.canary.yaml"


def observations(units: int, worse: float, seed: int = 0) -> pl.DataFrame:
    """Scored transactions with matured outcomes: the candidate `worse` by that share on every metric."""
    rng = np.random.default_rng(seed)
    candidate = rng.random(units) >= 0.5
    flagged = rng.poisson(3, units)
    return pl.DataFrame({
        "variant": np.where(candidate, "candidate", "control"),
        "clicked": rng.random(units) < np.where(candidate, 0.05 * (1 - worse), 0.05),
        "true_positive": rng.binomial(flagged, np.where(candidate, 0.6 * (1 - worse), 0.6)),
        "flagged": flagged,
        "latency_ms": np.round(rng.gamma(4, 20, units) * np.where(candidate, 1 + worse, 1.0)),
        "matured": np.ones(units, dtype=bool),
    })


def _evaluation(instance: dg.DagsterInstance, check: str = "canary") -> dg.AssetCheckEvaluation:
    [record] = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey("scored_transactions"), check), limit=1)
    return record.evaluation


def test_worse_candidate_fails_at_error_with_a_metric_table(instance, resources):
    """A candidate 20% worse fails the check at ERROR; the table has one row per metric with its verdict."""
    @dg.asset
    def scored_transactions() -> pl.DataFrame:
        return observations(100_000, 0.2)

    result = dg.materialize([scored_transactions, build_canary_check(scored_transactions, spec=SPEC)],
                            instance=instance, resources=resources)
    stored = _evaluation(instance)
    assert not stored.passed and stored.severity is dg.AssetCheckSeverity.ERROR
    assert stored.metadata[CANARY_VERDICT_KEY].value == "fail"
    rows = {r.data["metric"]: r.data for r in stored.metadata[CANARY_METRICS_KEY].records}
    assert set(rows) == {"ctr", "precision", "latency_p95"}
    assert rows["precision"]["verdict"] == "fail" and rows["precision"]["sequential_upper"] < rows["precision"][
        "threshold"]
    assert stored.metadata["guardrails/canary/precision.estimate"].value < 0
    outcome = outcome_from_metadata(stored.metadata)
    assert outcome.kind is CheckKind.CANARY and outcome.verdict is Verdict.FAIL
    assert result.success  # not blocking: recorded, the run goes on


def test_small_canary_is_an_inconclusive_warning_read_through_a_loader(instance, resources, tmp_path: Path):
    """Observations read by a loader; 600 units are inconclusive: a WARN failure with units still needed."""
    log = tmp_path / "serving_log.parquet"
    observations(600, 0.0).write_parquet(log)

    @dg.asset
    def scored_transactions() -> None:
        return None

    check = build_canary_check(scored_transactions, spec=SPEC, observations=lambda context: log)
    dg.materialize([scored_transactions, check], instance=instance, resources=resources)
    stored = _evaluation(instance)
    assert not stored.passed and stored.severity is dg.AssetCheckSeverity.WARN
    assert stored.metadata[CANARY_VERDICT_KEY].value == "inconclusive"
    rows = stored.metadata[CANARY_METRICS_KEY].records
    assert all(r.data["verdict"] == "inconclusive" and (r.data["units_needed"] or 0) > 0 for r in rows)


def test_loader_failure_means_could_not_run(instance, resources):
    """A loader that raises gives a failed ERROR evaluation whose verdict is error."""
    @dg.asset
    def scored_transactions() -> None:
        return None

    def broken(context):
        raise OSError("serving log unreachable")

    dg.materialize([scored_transactions, build_canary_check(scored_transactions, spec=SPEC, observations=broken)],
                   instance=instance, resources=resources)
    stored = _evaluation(instance)
    assert not stored.passed and stored.metadata[CANARY_VERDICT_KEY].value == "error"
    assert "serving log unreachable" in (outcome_from_metadata(stored.metadata).error or "")


def test_malformed_spec_fails_at_definition_time(tmp_path: Path):
    """A bad spec raises ContractError (file, line, field) when the check is built, not in a run."""
    bad = tmp_path / "bad.canary.yaml"
    bad.write_text(SPEC.read_text().replace("power: 0.8", "power: 3"))
    with pytest.raises(ContractError, match=r"bad.canary.yaml:8: canary.power"):
        build_canary_check("scored_transactions", spec=bad)


def test_docstring_example_runs(monkeypatch):
    """The builder's docstring example passes from the repository root."""
    monkeypatch.chdir(REPO)
    assert doctest.testmod(canary_module).failed == 0
