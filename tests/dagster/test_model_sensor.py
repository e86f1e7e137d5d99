"""The model pin sensor on a real Dagster instance (real runs, real check history) and a real MLflow SQLite store."""

# No `from __future__ import annotations`: Dagster resolves config classes from runtime annotations.

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from mlflow import MlflowClient

from guardrails.dagster.models import (
    MODEL_ACTION_STATUS_KEY,
    MODEL_VERSION_PINNED_KEY,
    ModelRegistryResource,
    build_model_pin_sensor,
)
from guardrails.models import MoveAction, Verdict, VerdictStatus


class FeatureConfig(dg.Config):
    bad: bool = False


@dg.asset
def features(config: FeatureConfig) -> dict[str, bool]:
    return {"bad": config.bad}


@dg.asset_check(asset=features)
def contract(features: dict[str, bool]) -> dg.AssetCheckResult:
    description = "3 rows broke amount.range" if features["bad"] else ""
    return dg.AssetCheckResult(passed=not features["bad"], description=description)


def run_features(instance: dg.DagsterInstance, *, bad: bool) -> None:
    result = dg.materialize(
        [features, contract],
        instance=instance,
        run_config={"ops": {"features": {"config": {"bad": bad}}}},
        raise_on_error=False,
    )
    assert result.success


@pytest.fixture(scope="module")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real SQLite-backed MLflow store with a tiny saved model to register versions of."""
    import mlflow

    class Constant(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):  # noqa: ANN001, ARG002
            return [0.0] * len(model_input)

    root = tmp_path_factory.mktemp("mlflow")
    mlflow.pyfunc.save_model(str(root / "model"), python_model=Constant(), pip_requirements=[])
    return f"sqlite:///{root / 'mlflow.db'}"


@pytest.fixture
def registry(mlflow_uri: str, request: pytest.FixtureRequest) -> ModelRegistryResource:
    """A model with three passed versions and the champion alias on v3, as a Dagster resource."""
    name = f"fraud-{request.node.name}"
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    client.create_registered_model(name)
    source = str(Path(mlflow_uri.removeprefix("sqlite:///")).parent / "model")
    resource = ModelRegistryResource(tracking_uri=mlflow_uri, model_name=name)
    guard = resource.get_guard(actor="test")
    for _ in range(3):
        client.create_model_version(name, source=source)
    for version in (1, 2, 3):
        guard.record_verdict(version, Verdict(status=VerdictStatus.PASSED, at=datetime.now(UTC)))
    guard.promote(3)
    return resource


def tick(instance: dg.DagsterInstance, registry: ModelRegistryResource, cursor: str | None):  # noqa: ANN201
    """One sensor tick the way the daemon runs it (`evaluate_tick`), with the resource from the definitions."""
    sensor = build_model_pin_sensor(asset="features", check_name="contract")
    defs = dg.Definitions(assets=[features], asset_checks=[contract], sensors=[sensor],
                          resources={"model_registry": registry})
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"model_registry": registry})
    return defs.get_sensor_def(sensor.name).evaluate_tick(context)


def test_sensor_pins_the_model_once_when_the_check_fails(
    instance: dg.DagsterInstance, registry: ModelRegistryResource
) -> None:
    """A failed check evaluation pins the champion back to v2 once; later failures move nothing and keep v2 passed."""
    guard = registry.get_guard()
    assert "no evaluation yet" in tick(instance, registry, None).skip_message

    run_features(instance, bad=False)
    passed = tick(instance, registry, None)
    assert "passed" in passed.skip_message and passed.cursor and not passed.asset_events
    assert guard.status().alias_version == 3

    run_features(instance, bad=True)
    pinned = tick(instance, registry, passed.cursor)
    assert pinned.cursor and pinned.cursor != passed.cursor
    assert guard.status().alias_version == 2 and guard.status().pinned
    (observation,) = pinned.asset_events
    assert observation.asset_key == dg.AssetKey("features")
    assert observation.metadata[MODEL_VERSION_PINNED_KEY].value == 2
    assert observation.metadata[MODEL_ACTION_STATUS_KEY].value == "applied"
    pin = guard.status().pin
    assert pin.check == "features:contract" and "3 rows broke amount.range" in pin.reason

    assert "already handled" in tick(instance, registry, pinned.cursor).skip_message

    run_features(instance, bad=True)
    again = tick(instance, registry, pinned.cursor)
    assert again.asset_events[0].metadata[MODEL_ACTION_STATUS_KEY].value == "no_op"
    assert [e.action for e in guard.history()] == [MoveAction.PROMOTE, MoveAction.PIN]
    # The second bad day is laid on the version the pin recorded as failing, never on the pinned good v2.
    status = guard.status()
    assert status.alias_version == 2 and status.version(2).verdict.passed
    assert not status.version(3).verdict.passed


def test_sensor_fails_the_tick_when_the_registry_is_down(
    instance: dg.DagsterInstance, registry: ModelRegistryResource
) -> None:
    """With the tracking server unreachable the tick fails loudly and moves nothing, so the next tick retries."""
    from tests.models.conftest import free_port

    run_features(instance, bad=True)
    dead = ModelRegistryResource(tracking_uri=f"http://127.0.0.1:{free_port()}", model_name=registry.model_name,
                                 timeout_seconds=1, max_retries=0)
    with pytest.raises(dg.Failure, match="nothing moved"):
        tick(instance, dead, None)
    assert registry.get_guard().status().alias_version == 3
