"""The example's fairness gate on promotion: a candidate that widens the champion's gap is tagged failed and not
promoted, on a real instance and MLflow store; its scored rows carry the label and the segments."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from definitions import assets
from guardrails.models import MoveAction

pytestmark = pytest.mark.slow
DAYS = ("2026-11-01", "2026-11-02")
"""The demo's first two days: v2 (trained on the second) flags online transactions well above other channels,
a gap v1 did not have (measured: selection-rate gap by channel 0.077 against v1's 0.004)."""


def run_day(defs: dg.Definitions, instance: dg.DagsterInstance, day: str, *, gate: bool) -> dg.ExecuteInProcessResult:
    config = {"ops": {"raw_transactions": {"config": {"defect": ""}},
                      "fraud_model": {"config": {"fairness_gate": gate}}}}
    return defs.resolve_job_def("daily_pipeline").execute_in_process(
        run_config=config, instance=instance, partition_key=day, raise_on_error=False)


@pytest.fixture(scope="module")
def gated(demo_defs: dg.Definitions, instance: dg.DagsterInstance) -> tuple[dg.ExecuteInProcessResult, object]:
    assert run_day(demo_defs, instance, DAYS[0], gate=False).success
    result = run_day(demo_defs, instance, DAYS[1], gate=True)
    return result, demo_defs.resources["model_registry"].get_guard(actor="test")


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, object]:
    [event] = [m for m in result.get_asset_materialization_events() if m.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_candidate_widening_a_gap_is_failed_and_not_promoted(gated) -> None:
    """v2 widens the channel gap v1 had: v2 is tagged failed naming the gap and the champion, which stays on v1."""
    result, guard = gated
    status = guard.status()
    assert status.alias_version == 1
    v2 = status.version(2)
    assert v2 is not None and v2.failed
    assert "by channel" in v2.verdict.reason and "widened" in v2.verdict.reason and "champion v1" in v2.verdict.reason
    assert [(m.action, m.to_version) for m in guard.history()] == [(MoveAction.PROMOTE, 1)]  # the alias never left v1
    model = _metadata(result, "fraud_model")
    assert model["fairness"] == "fail" and model["promoted_to"] == "none"


def test_scored_rows_carry_label_and_segments(gated, demo_settings) -> None:
    """The scored day keeps is_fraud, country and channel next to fraud_score, scored by the champion (v1)."""
    result, _ = gated
    scored = pl.read_parquet(demo_settings.warehouse_dir / "scored_transactions" / f"{DAYS[1]}.parquet")
    assert {"fraud_score", "is_fraud", "country", "channel"} <= set(scored.columns)
    assert scored["country"].null_count() == 0 and scored["channel"].null_count() == 0
    assert set(scored["model_version"].unique()) == {1}
    assert _metadata(result, "scored_transactions")["model_version"] == 1
