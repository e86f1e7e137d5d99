"""The example's model guard on a real instance and a real MLflow SQLite store: verdicts, guarded promotion, and
the pin sensors that move ``champion`` back when a bad batch lands upstream or the serving model fails evaluation.

One story per module (the fixtures build on each other): two good days (v1, v2), a bad batch (pin back to v1),
the release (unpin, a good v3 is promoted), then a day whose labels no model can learn (pin v3 back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import dagster as dg
import numpy as np
import polars as pl
import pytest

from definitions import assets
from definitions.data import Defect
from definitions.resources import LandingZone
from definitions.settings import DemoSettings
from guardrails.models import VERDICT_TAG, ModelGuard, ModelStatus, MoveAction

ROWS = 3_000
DAYS = ("2026-11-05", "2026-11-11", "2026-11-07", "2026-11-12", "2026-11-13")
"""Two good days, a bad batch, a good day (twice: pinned, then unpinned), a day with shuffled labels."""
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
    config = {"ops": {"raw_transactions": {"config": {"rows": ROWS, "defect": defect.value if defect else ""}}}}
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


def tick(defs: dg.Definitions, instance: dg.DagsterInstance, sensor: dg.SensorDefinition, cursor: str | None):  # noqa: ANN201
    """One evaluation of the pin sensor as the daemon runs it, with the code location's resources."""
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs, resources=defs.resources)
    return defs.resolve_sensor_def(sensor.name).evaluate_tick(context)


@pytest.fixture(scope="module")
def good_days(demo_defs, instance) -> tuple[Day, Day]:
    return run_day(demo_defs, instance, DAYS[0]), run_day(demo_defs, instance, DAYS[1])


@pytest.fixture(scope="module")
def bad_batch(good_days, demo_defs, instance):  # noqa: ANN001, ANN201
    """The third day's batch is quarantined; the bad-batch sensor ticks twice."""
    day = run_day(demo_defs, instance, DAYS[2], defect=Defect.NULLS)
    first = tick(demo_defs, instance, assets.pin_model_on_bad_batch, None)
    after_first = guard_of(demo_defs).status()
    second = tick(demo_defs, instance, assets.pin_model_on_bad_batch, first.cursor)
    return day, first, after_first, second


@pytest.mark.slow
def test_good_days_register_verdicts_and_promote_through_the_guard(good_days) -> None:
    """Each good day's version gets a passed verdict and becomes champion through the guard (history: 2 promotes)."""
    first, second = good_days
    assert first.result.success and first.status.alias_version == 1
    assert first.version_tags[1][VERDICT_TAG] == "passed"
    assert second.status.alias_version == 2 and second.version_tags[2][VERDICT_TAG] == "passed"
    checks = {e.check_name: e for e in second.result.get_asset_check_evaluations() if e.asset_key == assets.fraud_model.key}
    assert checks["evaluation_roc_auc"].passed and checks["model_signature"].passed
    assert checks["model_signature"].metadata["model_version"].value == 2


@pytest.mark.slow
def test_bad_batch_upstream_pins_the_champion_back_once(bad_batch, demo_defs) -> None:
    """A quarantined batch: after one tick champion is pinned on v1, v2 is tagged failed; a second tick is a no-op."""
    day, first, after_first, second = bad_batch
    assert not day.result.success and day.status.alias_version == 2  # the run alone moves nothing
    assert after_first.alias_version == 1 and after_first.pinned
    [observation] = first.asset_events
    assert observation.asset_key == assets.clean_transactions.key
    guard = guard_of(demo_defs)
    tags = {v.version: v.verdict for v in guard.status().versions}
    assert not tags[2].passed and tags[1].passed
    pins = [m for m in guard.history() if m.action is MoveAction.PIN]
    assert [(m.from_version, m.to_version) for m in pins] == [(2, 1)]
    assert "already handled" in second.skip_message and not second.asset_events
    assert guard.status().alias_version == 1


@pytest.mark.slow
def test_failing_evaluation_pins_back_and_unpin_restores_promotion(bad_batch, demo_defs, instance, demo_settings:
                                                                   DemoSettings) -> None:
    """Pinned, a good v3 is not promoted; unpinned, v4 is; a day v4 fails evaluation on pins champion to v3."""
    guard = guard_of(demo_defs)
    pinned = run_day(demo_defs, instance, DAYS[3])
    assert pinned.status.alias_version == 1 and pinned.version_tags[3][VERDICT_TAG] == "passed"
    model = next(m for m in pinned.result.get_asset_materialization_events() if m.asset_key == assets.fraud_model.key)
    assert model.materialization.metadata["promoted_to"].value == "none"  # refused while pinned

    guard.unpin(reason="batch released")
    good = run_day(demo_defs, instance, DAYS[3])
    assert good.status.alias_version == 4  # noqa: PLR2004

    noisy = run_day(demo_defs, instance, DAYS[4],
                    resources={"landing": NoisyLabels(directory=str(demo_settings.landing_dir))})
    [evaluation] = [e for e in noisy.result.get_asset_check_evaluations() if e.check_name == "evaluation_roc_auc"]
    assert not evaluation.passed and evaluation.metadata["model_version"].value == 4  # noqa: PLR2004
    assert noisy.status.alias_version == 4 and noisy.version_tags[5][VERDICT_TAG] == "failed"  # noqa: PLR2004

    ticked = tick(demo_defs, instance, assets.pin_model_on_failed_evaluation, None)
    assert ticked.asset_events and guard.status().alias_version == 3  # noqa: PLR2004
    verdicts = {v.version: v.verdict.passed for v in guard.status().versions}
    assert verdicts == {1: True, 2: False, 3: True, 4: False, 5: False}
    pins = [m for m in guard.history() if m.action is MoveAction.PIN]
    assert [(m.from_version, m.to_version) for m in pins] == [(2, 1), (4, 3)]
    again = tick(demo_defs, instance, assets.pin_model_on_failed_evaluation, ticked.cursor)
    assert not again.asset_events and guard.status().alias_version == 3  # noqa: PLR2004
