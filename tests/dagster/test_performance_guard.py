"""The model guard sensor acting on a failed realized-performance check, on a real Dagster instance (real runs, the
real `build_performance_check`, real check history) and a real MLflow SQLite store: concept drift fails the version
that served, covariate shift holds promotion, insufficient labels change nothing.

The pipeline: `predictions` (the log: key, score, event time, model version; v1 served day 1, v2 day 2),
`chargebacks` (labels that arrived later, positives only) and `reference` (labelled validation predictions), with
the performance check on `predictions` watched as a model check.
"""

# No `from __future__ import annotations`: Dagster resolves config classes from runtime annotations.

from datetime import UTC, datetime, timedelta

import dagster as dg
import polars as pl
import pytest
from mlflow import MlflowClient

from bench.performance import START, simulate
from guardrails.checks.performance import PerformanceSpec
from guardrails.dagster._guard_events import CheckRole, EvaluationClass, classify
from guardrails.dagster.history import read_check_history
from guardrails.dagster.ml import build_performance_check
from guardrails.dagster.models import (
    MODEL_ACTION_KIND_KEY,
    MODEL_ACTION_REASON_KEY,
    MODEL_VERSION_KEY,
    MODEL_VERSION_PINNED_KEY,
    ModelRegistryResource,
    build_model_guard_sensor,
)
from guardrails.models import MoveAction, Verdict, VerdictStatus

pytestmark = pytest.mark.slow  # a pipeline run, calibration and MLflow versions per test (~5 s)

SPEC = PerformanceSpec(
    key="transaction_id", prediction="score", label="is_fraud", prediction_time="event_time",
    label_time="label_time", label_maturity=timedelta(days=30), model_version="model_version", min_labels=500,
)
MATURE = START + timedelta(days=61)
STATE: dict = {}
"""How v2's day was generated (``flip``: concept drift, ``shift``: covariate shift) and the check's ``as_of``."""


def _world() -> pl.DataFrame:
    v1 = simulate(6_000, seed=1).with_columns(model_version=pl.lit(1))
    v2 = simulate(6_000, seed=2, day=START + timedelta(days=1), first_key=6_000, **STATE.get("day", {}))
    return pl.concat([v1, v2.with_columns(model_version=pl.lit(2))])


@dg.asset
def predictions() -> pl.DataFrame:
    return _world().select("transaction_id", "score", "event_time", "model_version")


@dg.asset
def chargebacks() -> pl.DataFrame:
    return _world().filter(pl.col("is_fraud")).select("transaction_id", "is_fraud", "label_time")


@dg.asset
def reference() -> pl.DataFrame:
    return simulate(20_000, seed=100).select("score", "is_fraud")


PERFORMANCE = build_performance_check(predictions, spec=SPEC, labels=chargebacks, reference_data=reference,
                                      as_of=lambda context: STATE.get("as_of", MATURE))
SENSOR = build_model_guard_sensor(model_checks=["predictions:performance"], model_asset="predictions")


@pytest.fixture(scope="module")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real SQLite-backed MLflow store."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def registry(mlflow_uri: str, request: pytest.FixtureRequest, tmp_path) -> ModelRegistryResource:  # noqa: ANN001
    """A registered model of its own per test with v1 and v2 passed, v2 serving as champion."""
    name = f"fraud-{request.node.name}"[:60]
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    client.create_registered_model(name)
    resource = ModelRegistryResource(tracking_uri=mlflow_uri, model_name=name)
    guard = resource.get_guard(actor="test")
    for _ in range(2):
        version = int(client.create_model_version(name, source=str(tmp_path)).version)
        guard.record_verdict(version, Verdict(status=VerdictStatus.PASSED, at=datetime.now(UTC)))
        assert guard.promote(version, reason="validated").ok
    STATE.clear()
    return resource


def run_and_tick(instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict) -> dg.SensorResult:
    """Materialize the log, labels and reference with the performance check, then one guard tick."""
    assert dg.materialize([predictions, chargebacks, reference, PERFORMANCE], instance=instance,
                          resources=resources, raise_on_error=False).success
    defs = dg.Definitions(sensors=[SENSOR], resources={"model_registry": registry})
    context = dg.build_sensor_context(instance=instance, resources={"model_registry": registry})
    result = defs.get_sensor_def(SENSOR.name).evaluate_tick(context)
    for event in result.asset_events:
        instance.report_runless_asset_event(event)
    return result


def verdicts(registry: ModelRegistryResource) -> dict[int, str]:
    return {v.version: v.verdict.status.value for v in registry.get_guard().status().versions}


def test_concept_drift_fails_the_version_that_served_and_moves_the_alias(
    instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict
) -> None:
    """v2's day flips the concept (inputs unchanged): the check names v2, the guard fails v2 alone with a reason
    naming concept drift and its containment, and champion moves back to v1."""
    STATE["day"] = {"flip": True}
    result = run_and_tick(instance, registry, resources)
    (evaluation,) = read_check_history(instance, "predictions", "performance")
    assert evaluation.passed is False and evaluation.metadata[MODEL_VERSION_KEY] == 2  # noqa: PLR2004
    assert evaluation.outcome is not None and evaluation.outcome.metrics["diagnosis"] == "concept_drift"
    (observation,) = result.asset_events
    assert observation.metadata[MODEL_ACTION_KIND_KEY].value == "fail_version"
    assert observation.metadata[MODEL_VERSION_PINNED_KEY].value == 1
    reason = observation.metadata[MODEL_ACTION_REASON_KEY].value
    assert "diagnosis concept drift on v2" in reason and "Roll back" in reason
    status = registry.get_guard().status()
    assert status.alias_version == 1 and status.hold is None
    assert verdicts(registry) == {1: "passed", 2: "failed"}
    assert "concept drift" in status.version(2).verdict.reason
    assert registry.get_guard().history()[-1].action is MoveAction.FAIL


def test_covariate_shift_holds_promotion_and_distrusts_no_version(
    instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict
) -> None:
    """v2's day shifts the inputs (concept stable) and precision falls as the estimate predicted: promotion is held
    with the diagnosis in the reason, no version is failed, the alias stays on v2."""
    STATE["day"] = {"shift": -1.5}
    result = run_and_tick(instance, registry, resources)
    (observation,) = result.asset_events
    assert observation.metadata[MODEL_ACTION_KIND_KEY].value == "hold"
    status = registry.get_guard().status()
    assert status.alias_version == 2 and verdicts(registry) == {1: "passed", 2: "passed"}  # noqa: PLR2004
    assert status.hold is not None and "covariate shift" in status.hold.reason
    assert "the inputs changed, not the model" in status.hold.reason


def test_insufficient_labels_change_nothing(
    instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict
) -> None:
    """Judged before any label has matured (verdict insufficient): no action, no hold, no verdict touched."""
    STATE["day"], STATE["as_of"] = {"flip": True}, START + timedelta(days=3)
    result = run_and_tick(instance, registry, resources)
    assert not result.asset_events and "nothing to do" in result.skip_message
    status = registry.get_guard().status()
    assert status.alias_version == 2 and status.hold is None  # noqa: PLR2004
    assert verdicts(registry) == {1: "passed", 2: "passed"}
    assert [e.action for e in registry.get_guard().history()] == [MoveAction.PROMOTE, MoveAction.PROMOTE]


def test_a_performance_dip_within_noise_or_a_data_role_is_classified_by_the_outcome(
    instance: dg.DagsterInstance, resources: dict
) -> None:
    """A performance failure is classified by its diagnosis whatever role the sensor gave the check; a warning is
    ignored."""
    STATE.clear()
    STATE["day"] = {"flip": True}
    assert dg.materialize([predictions, chargebacks, reference, PERFORMANCE], instance=instance,
                          resources=resources).success
    (entry,) = read_check_history(instance, "predictions", "performance")
    assert classify(entry, CheckRole.DATA).kind is EvaluationClass.MODEL
    assert classify(entry, CheckRole.MODEL).version == 2  # noqa: PLR2004
    from dataclasses import replace

    assert classify(replace(entry, severity="WARN"), CheckRole.MODEL).kind is EvaluationClass.IGNORED
