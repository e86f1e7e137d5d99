"""The example's model guard on a real instance and a real MLflow SQLite store: lineage, verdicts, guarded promotion,
and the model guard sensor acting on what each failure means.

One story per module (the fixtures build on each other): two good days (v1, v2, each recording the feature batch
it saw), a bad batch (quarantined: promotion held, champion stays on v2, nothing tagged), a good day while held (v3
passes but is not promoted), the bad day fixed upstream (the hold releases itself), the good day again (v4
promoted), then a day whose labels no model can learn (v4 fails its evaluation: champion to v3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import dagster as dg
import numpy as np
import polars as pl
import pytest

from definitions import assets, ml
from definitions.data import Defect
from definitions.resources import LandingZone
from definitions.settings import DemoSettings
from guardrails.dagster.models import MODEL_VERSION_KEY
from guardrails.models import VERDICT_TAG, ModelGuard, ModelStatus, MoveAction

ROWS = 3_000
DAYS = ("2026-11-05", "2026-11-11", "2026-11-07", "2026-11-12", "2026-11-13")
"""Two good days, a bad batch, a good day (twice: held, then released), a day with shuffled labels."""
PIPELINE = [assets.raw_transactions, assets.clean_transactions, assets.transaction_features, assets.fraud_model,
            assets.scored_transactions]


class NoisyLabels(LandingZone):
    """An upstream producer whose fraud labels are shuffled: a valid batch no model can score well on."""

    def land_transactions(self, day: date, *, rows: int, accounts: int, defect: Defect | None = None):  # noqa: ANN201
        path, frame = super().land_transactions(day, rows=rows, accounts=accounts, defect=defect)
        shuffled = frame.with_columns(pl.Series("is_fraud", np.random.default_rng(0).permutation(frame["is_fraud"])))
        shuffled.write_parquet(path)
        return path, shuffled


@dataclass(frozen=True)
class Day:
    """A run of the daily job and the model as it stood right after it."""

    result: dg.ExecuteInProcessResult
    status: ModelStatus
    version_tags: dict[int, dict[str, str]]


def guard_of(defs: dg.Definitions) -> ModelGuard:
    return defs.resources["model_registry"].get_guard(actor="test")


def run_day(defs: dg.Definitions, instance: dg.DagsterInstance, day: str, *, defect: Defect | None = None,
            resources: dict | None = None) -> Day:
    # 3,000-row days leave the countries under the fairness spec's min_group_size: the gate (not under test here)
    # could not judge them and would hold every candidate, so it is off for these days.
    config = {"ops": {"raw_transactions": {"config": {"rows": ROWS, "defect": defect.value if defect else ""}},
                      "fraud_model": {"config": {"fairness_gate": False}}}}
    if resources is None:
        result = defs.resolve_job_def("daily_pipeline").execute_in_process(
            run_config=config, instance=instance, partition_key=day, raise_on_error=False)
    else:
        result = dg.materialize(PIPELINE, instance=instance, partition_key=day, run_config=config,
                                resources={**defs.resources, **resources}, raise_on_error=False)
    from mlflow import MlflowClient

    guard = guard_of(defs)
    uri = defs.resources["model_registry"].tracking_uri
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    tags = {int(v.version): dict(v.tags) for v in client.search_model_versions(f"name='{guard.name}'")}
    return Day(result=result, status=guard.status(), version_tags=tags)


def tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None):  # noqa: ANN201
    """One evaluation of the model guard sensor as the daemon runs it (its observations recorded as the daemon does)."""
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs, resources=defs.resources)
    result = defs.resolve_sensor_def(ml.model_guard_sensor.name).evaluate_tick(context)
    for event in result.asset_events:
        instance.report_runless_asset_event(event)
    return result


@pytest.fixture(scope="module")
def good_days(demo_defs, instance) -> tuple[Day, Day, str | None]:
    first, second = run_day(demo_defs, instance, DAYS[0]), run_day(demo_defs, instance, DAYS[1])
    return first, second, tick(demo_defs, instance, None).cursor


@pytest.fixture(scope="module")
def bad_batch(good_days, demo_defs, instance):  # noqa: ANN001, ANN201
    """The third day's batch is quarantined; the model guard sensor ticks twice."""
    day = run_day(demo_defs, instance, DAYS[2], defect=Defect.NULLS)
    first = tick(demo_defs, instance, good_days[2])
    after_first = guard_of(demo_defs).status()
    second = tick(demo_defs, instance, first.cursor)
    return day, first, after_first, second


@pytest.mark.slow
def test_good_days_record_lineage_verdicts_and_promote_through_the_guard(good_days, demo_defs) -> None:
    """Each good day's version records the feature batch it saw, gets a passed verdict and becomes champion."""
    first, second, _ = good_days
    assert first.result.success and first.status.alias_version == 1
    assert first.version_tags[1][VERDICT_TAG] == "passed"
    assert second.status.alias_version == 2 and second.version_tags[2][VERDICT_TAG] == "passed"
    checks = {e.check_name: e for e in second.result.get_asset_check_evaluations() if e.asset_key == assets.fraud_model.key}
    assert checks["evaluation_roc_auc"].passed and checks["model_signature"].passed
    assert checks["model_signature"].metadata["model_version"].value == 2
    assert checks["evaluation_roc_auc"].metadata[MODEL_VERSION_KEY].value == 2
    lineage = guard_of(demo_defs).lineage(2)
    [batch] = lineage.trained_on
    assert lineage.evaluated_on == (batch,)
    assert (batch.asset, batch.partition, batch.contract_version) == ("transaction_features", DAYS[1], "1.0.0")
    assert batch.contract_id == "urn:datacontract:payments:transaction_features"
    assert batch.batch_id and batch.content_hash.startswith("sha256:") and batch.run_id == second.result.run_id
    assert guard_of(demo_defs).versions_that_saw(batch) == (2,)


@pytest.mark.slow
def test_bad_batch_upstream_holds_promotion_and_blames_no_version(bad_batch, demo_defs) -> None:
    """A quarantined batch: one tick holds promotion with its reason, champion stays on v2, no verdict changes;
    a second tick does nothing."""
    day, first, after_first, second = bad_batch
    assert not day.result.success and day.status.alias_version == 2  # the run alone moves nothing
    assert after_first.alias_version == 2 and after_first.hold is not None and after_first.pin is None
    assert [(f.check, f.partition) for f in after_first.hold.failing] == [
        ("clean_transactions:transactions_contract", DAYS[2])]
    assert "quarantined before storage" in after_first.hold.reason
    [observation] = first.asset_events
    assert observation.asset_key == assets.clean_transactions.key
    verdicts = {v.version: v.verdict.passed for v in guard_of(demo_defs).status().versions}
    assert verdicts == {1: True, 2: True}
    assert not second.asset_events and guard_of(demo_defs).status().alias_version == 2
    assert [m.action for m in guard_of(demo_defs).history()] == [MoveAction.PROMOTE, MoveAction.PROMOTE,
                                                                 MoveAction.HOLD]


@pytest.mark.slow
def test_the_hold_releases_itself_and_a_failed_evaluation_fails_that_version(
    bad_batch, demo_defs, instance, demo_settings: DemoSettings
) -> None:
    """Held, a good v3 is not promoted; the bad day fixed upstream releases the hold, v4 is promoted; a day v4
    fails evaluation on fails v4 alone and moves champion to v3."""
    guard = guard_of(demo_defs)
    cursor = bad_batch[1].cursor
    held = run_day(demo_defs, instance, DAYS[3])
    assert held.status.alias_version == 2 and held.version_tags[3][VERDICT_TAG] == "passed"  # noqa: PLR2004
    model = next(m for m in held.result.get_asset_materialization_events() if m.asset_key == assets.fraud_model.key)
    assert model.materialization.metadata["promoted_to"].value == "none"  # refused while held

    fixed = dg.materialize([assets.raw_transactions, assets.clean_transactions], instance=instance,
                           partition_key=DAYS[2], resources=demo_defs.resources,
                           run_config={"ops": {"raw_transactions": {"config": {"rows": ROWS}}}})
    assert fixed.success
    released = tick(demo_defs, instance, cursor)
    assert [e.metadata["guardrails/model_action_kind"].value for e in released.asset_events] == ["release_hold"]
    assert guard.status().hold is None
    good = run_day(demo_defs, instance, DAYS[3])
    assert good.status.alias_version == 4  # noqa: PLR2004

    noisy = run_day(demo_defs, instance, DAYS[4],
                    resources={"landing": NoisyLabels(directory=str(demo_settings.landing_dir))})
    [evaluation] = [e for e in noisy.result.get_asset_check_evaluations() if e.check_name == "evaluation_roc_auc"]
    assert not evaluation.passed and evaluation.metadata[MODEL_VERSION_KEY].value == 4  # noqa: PLR2004
    assert noisy.status.alias_version == 4 and noisy.version_tags[5][VERDICT_TAG] == "failed"  # noqa: PLR2004

    ticked = tick(demo_defs, instance, released.cursor)
    assert [e.metadata["guardrails/model_action_kind"].value for e in ticked.asset_events] == ["fail_version"]
    assert guard.status().alias_version == 3  # noqa: PLR2004
    verdicts = {v.version: v.verdict.passed for v in guard.status().versions}
    assert verdicts == {1: True, 2: True, 3: True, 4: False, 5: False}
    assert [(m.action, m.from_version, m.to_version) for m in guard.history()] == [
        (MoveAction.PROMOTE, None, 1), (MoveAction.PROMOTE, 1, 2), (MoveAction.HOLD, 2, 2), (MoveAction.UNHOLD, 2, 2),
        (MoveAction.PROMOTE, 2, 4), (MoveAction.FAIL, 4, 3)]
    again = tick(demo_defs, instance, ticked.cursor)
    assert not again.asset_events and guard.status().alias_version == 3  # noqa: PLR2004
