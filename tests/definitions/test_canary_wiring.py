"""The example's canary on a real Dagster instance and a real SQLite MLflow store: each look serves traffic under
``@champion`` and ``@challenger``, the canary check names the candidate's version, and the `canary_guard` sensor
fails a worse candidate (removing its challenger alias), promotes a better one, and moves nothing in between."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from mlflow import MlflowClient

from definitions.canary import canary_guard_sensor, canary_job, canary_traffic
from guardrails.dagster._guard_events import MODEL_VERSION_KEY, CheckRole, EvaluationClass, classify
from guardrails.dagster.history import read_check_history
from guardrails.models import MoveAction, Verdict, VerdictStatus

pytestmark = pytest.mark.slow  # a few canary looks (40,000 simulated units each) and sensor ticks: ~20 s


def look(defs: dg.Definitions, instance: dg.DagsterInstance, effect: float) -> dg.AssetCheckEvaluation:
    """Serve one look of 40,000 transactions with the candidate's true `effect`; the canary's evaluation."""
    config = {"ops": {canary_traffic.key.path[-1]: {"config": {"candidate_effect": effect, "units": 40_000}}}}
    result = defs.resolve_job_def(canary_job.name).execute_in_process(run_config=config, instance=instance)
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def(canary_guard_sensor.name)
    result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs,
                                                          resources=defs.resources, cursor=cursor))
    for event in result.asset_events:
        instance.report_runless_asset_event(event)
    return result


def test_a_worse_candidate_is_stopped_and_a_better_one_promoted(
    demo_defs: dg.Definitions, demo_settings, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    """fail: v2 failed, @challenger removed, @champion stays on v1; inconclusive: nothing; pass: v3 champion."""
    resource = demo_defs.resources["model_registry"]
    resource.activate()
    client = MlflowClient(tracking_uri=demo_settings.tracking_uri, registry_uri=demo_settings.tracking_uri)
    client.create_registered_model(resource.model_name)
    for _ in range(3):
        client.create_model_version(resource.model_name, source=str(tmp_path))
    guard = resource.get_guard(actor="test")
    guard.record_verdict(1, Verdict(status=VerdictStatus.PASSED, at=datetime.now(UTC)))
    assert guard.promote(1).ok
    assert guard.start_canary(2).ok

    evaluation = look(demo_defs, instance, effect=-0.15)
    assert evaluation.metadata["guardrails/canary_verdict"].value == "fail"
    assert evaluation.metadata[MODEL_VERSION_KEY].value == 2
    first = tick(demo_defs, instance, None)
    status = guard.status()
    assert dict(status.aliases) == {"champion": 1}
    assert status.version(2).failed and "canary" in status.version(2).verdict.reason
    [observation] = first.asset_events
    assert observation.metadata["guardrails/model_action_kind"].value == "judge_canary"

    assert guard.start_canary(3).ok
    decided = None
    cursor = first.cursor
    for _ in range(4):
        evaluation = look(demo_defs, instance, effect=0.10)
        verdict = evaluation.metadata["guardrails/canary_verdict"].value
        cursor = tick(demo_defs, instance, cursor).cursor
        if verdict == "inconclusive":
            assert dict(guard.status().aliases) == {"champion": 1, "challenger": 3}  # nothing moved, still serving
            continue
        decided = verdict
        break
    assert decided == "pass"
    assert dict(guard.status().aliases) == {"champion": 3}
    actions = [(m.action, m.alias) for m in guard.history()]
    assert (MoveAction.RETIRE, "challenger") in actions and actions[-2:] == [
        (MoveAction.PROMOTE, "champion"), (MoveAction.RETIRE, "challenger")]

    history_before = guard.history()
    tick(demo_defs, instance, None)  # a sensor starting over replays every verdict: nothing moves again
    assert guard.history() == history_before and dict(guard.status().aliases) == {"champion": 3}

    entries = [e for e in read_check_history(instance, canary_traffic.key.to_user_string(), "canary")
               if e.passed is not None]
    kinds = {classify(e, CheckRole.MODEL).kind for e in entries}
    assert kinds == {EvaluationClass.CANARY, EvaluationClass.IGNORED}
