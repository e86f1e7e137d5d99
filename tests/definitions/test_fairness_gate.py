"""The example's fairness gate on promotion (on by default): ordinary candidates are judged and promoted, a candidate
that widens the champion's gap is tagged failed and not promoted, on a real instance and MLflow store; its scored
rows carry the label and the segments."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from definitions import assets
from definitions.demo_fairness import FAIRNESS_DAY, MorningChargebacks
from guardrails.models import MoveAction

pytestmark = pytest.mark.slow
DAYS = ("2026-11-01", "2026-11-02")
"""The demo's first two days, with the default config (gate on). Measured on the 1,250-row evaluation batch: v1
passes on its own (no champion yet); v2 widens v1's selection-rate gap by channel by 0.073 [0.036, 0.109] (v1
flags almost nothing), not shown beyond the 0.05 champion tolerance: promoted."""
SKEWED_DAY = FAIRNESS_DAY
"""Demo chapter 4's day and upstream mistake (morning online chargebacks marked fraud), here the third version:
its candidate v3 widens v2's channel gap far beyond the champion tolerance."""


def run_day(defs: dg.Definitions, instance: dg.DagsterInstance, day: str,
            resources: dict[str, object] | None = None) -> dg.ExecuteInProcessResult:
    selection = [assets.raw_transactions, assets.clean_transactions, assets.transaction_features,
                 assets.fraud_model, assets.scored_transactions]
    return dg.materialize(selection, instance=instance, partition_key=day,
                          resources={**defs.resources, **(resources or {})}, raise_on_error=False)


@pytest.fixture(scope="module")
def gated(demo_defs: dg.Definitions, instance: dg.DagsterInstance, demo_settings) -> tuple[list, object]:
    results = [run_day(demo_defs, instance, day) for day in DAYS]
    skewed = MorningChargebacks(directory=str(demo_settings.landing_dir))
    results.append(run_day(demo_defs, instance, SKEWED_DAY, {"landing": skewed}))
    return results, demo_defs.resources["model_registry"].get_guard(actor="test")


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, object]:
    [event] = [m for m in result.get_asset_materialization_events() if m.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_the_gate_is_on_by_default_and_ordinary_days_promote(gated) -> None:
    """With no config, both ordinary days are judged (every country judged, not insufficient) and promoted."""
    results, guard = gated
    for version, result in enumerate(results[:2], start=1):
        model = _metadata(result, "fraud_model")
        assert model["fairness"] == "pass", model["promotion"]
        assert model["promoted_to"] == "champion"
        judged = {k: v for k, v in model.items() if k.startswith("guardrails/fairness/difference.")}
        assert {k.rsplit(".", 2)[-2] for k in judged} == {"country", "channel"}, f"v{version}: a column not judged"
    assert [(m.action, m.to_version) for m in guard.history()][:2] == [(MoveAction.PROMOTE, 1), (MoveAction.PROMOTE, 2)]


def test_candidate_widening_a_gap_is_failed_and_not_promoted(gated) -> None:
    """v3 widens v2's channel gap: v3 is tagged failed naming the gap and the champion, which stays on v2."""
    results, guard = gated
    status = guard.status()
    assert status.alias_version == 2
    v3 = status.version(3)
    assert v3 is not None and v3.failed
    assert "by channel" in v3.verdict.reason and "widened" in v3.verdict.reason and "champion v2" in v3.verdict.reason
    assert [(m.action, m.to_version) for m in guard.history()] == [(MoveAction.PROMOTE, 1), (MoveAction.PROMOTE, 2)]
    model = _metadata(results[2], "fraud_model")
    assert model["fairness"] == "fail" and model["promoted_to"] == "none"


def test_scored_rows_carry_label_and_segments(gated, demo_settings) -> None:
    """The scored day keeps is_fraud, country and channel next to fraud_score, scored by the champion (v2)."""
    results, _ = gated
    scored = pl.read_parquet(demo_settings.warehouse_dir / "scored_transactions" / f"{SKEWED_DAY}.parquet")
    assert {"fraud_score", "is_fraud", "country", "channel"} <= set(scored.columns)
    assert scored["country"].null_count() == 0 and scored["channel"].null_count() == 0
    assert set(scored["model_version"].unique()) == {2}
    assert _metadata(results[2], "scored_transactions")["model_version"] == 2
