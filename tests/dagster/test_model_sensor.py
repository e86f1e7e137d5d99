"""The model guard sensor on real Dagster instances (real runs, a real guarded asset, real check history) and a real
MLflow SQLite store: each kind of failure gets its own action, and only the versions it involves are touched.

The pipeline: `transactions` (guarded by the example contract: a bad batch is quarantined before storage) ->
`features` (stored; a `drift` check judges it after publish) -> `model` (registers a version that records the
`features` batch it saw, promotes it through the guard; its `evaluation` check names the version it judged).
"""

# No `from __future__ import annotations`: Dagster resolves config classes from runtime annotations.

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from mlflow import MlflowClient

from definitions.data import Defect, generate_transactions
from guardrails.checks import FreshnessSettings, check_freshness
from guardrails.dagster import guarded_asset
from guardrails.dagster.lineage import materialized_batch
from guardrails.dagster.ml._freshness import record_freshness
from guardrails.dagster.models import (
    MODEL_ACTION_KIND_KEY,
    MODEL_ACTION_STATUS_KEY,
    MODEL_BATCH_KEY,
    MODEL_HOLD_KEY,
    MODEL_VERSION_KEY,
    MODEL_VERSION_PINNED_KEY,
    ModelRegistryResource,
    build_model_guard_sensor,
    build_model_pin_sensor,
)
from guardrails.models import Lineage, MoveAction, Verdict, VerdictStatus
from tests.dagster.conftest import CONTRACT, recent_day

pytestmark = pytest.mark.slow  # each test runs two to four pipeline runs and registers MLflow versions (~10 s)

ROWS = 300
DAYS = dg.StaticPartitionsDefinition(["d1", "d2", "d3"])
CONTRACT_CHECK = "transactions_contract"
STATE: dict = {}
"""What the next run does: ``defect`` per partition, ``drift`` (fail the drift check), ``auc`` (the evaluation)."""


@guarded_asset(contract=str(CONTRACT), partitions_def=DAYS)
def transactions(context: dg.AssetExecutionContext) -> pl.DataFrame:
    return generate_transactions(recent_day(), rows=ROWS, defect=STATE.get("defect", {}).get(context.partition_key))


@dg.asset(partitions_def=DAYS)
def features(transactions: pl.DataFrame) -> pl.DataFrame:
    return transactions.select("transaction_id", "amount")


@dg.asset_check(asset=features)
def drift() -> dg.AssetCheckResult:
    bad = STATE.get("drift", False)
    return dg.AssetCheckResult(passed=not bad, severity=dg.AssetCheckSeverity.ERROR,
                               description="PSI 0.41 on amount" if bad else "PSI 0.01")


@dg.asset(partitions_def=DAYS, deps=[features], check_specs=[dg.AssetCheckSpec("evaluation", asset="model")])
def model(context: dg.AssetExecutionContext, model_registry: ModelRegistryResource) -> dg.MaterializeResult:
    """Register a version that records the features batch it saw; promote it; judge what serves afterwards."""
    client = MlflowClient(tracking_uri=model_registry.tracking_uri, registry_uri=model_registry.tracking_uri)
    source = str(Path(model_registry.tracking_uri.removeprefix("sqlite:///")).parent / "model")
    version = int(client.create_model_version(model_registry.model_name, source=source).version)
    guard = model_registry.get_guard(actor="test-run")
    batch = materialized_batch(context.instance, "features", context.partition_key)
    guard.record_lineage(version, Lineage(trained_on=(batch,), evaluated_on=(batch,)))
    guard.record_verdict(version, Verdict(status=VerdictStatus.PASSED, at=datetime.now(UTC)))
    guard.promote(version, reason=context.partition_key)
    serving = guard.status().alias_version
    auc = STATE.get("auc", 0.8)
    return dg.MaterializeResult(check_results=[dg.AssetCheckResult(
        check_name="evaluation", passed=auc >= 0.6, severity=dg.AssetCheckSeverity.WARN,  # noqa: PLR2004
        description=f"v{serving} ROC AUC {auc}", metadata={MODEL_VERSION_KEY: serving},
    )])


SENSOR = build_model_guard_sensor(
    data_checks=[f"transactions:{CONTRACT_CHECK}", "transactions:freshness", "features:drift"],
    model_checks=["model:evaluation"],
    model_asset="model",
)


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
    """An empty registered model of its own per test, as the Dagster resource."""
    name = f"fraud-{request.node.name}"[:60]
    MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri).create_registered_model(name)
    STATE.clear()
    return ModelRegistryResource(tracking_uri=mlflow_uri, model_name=name)


def run(instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict, partition: str,
        *, only: list | None = None) -> dg.ExecuteInProcessResult:
    """Materialize the pipeline (or `only` some of it) for one partition."""
    return dg.materialize(
        [transactions, features, drift, model], instance=instance, partition_key=partition,
        resources={**resources, "model_registry": registry}, raise_on_error=False,
        selection=only,
    )


def tick(instance: dg.DagsterInstance, registry: ModelRegistryResource, cursor: str | None,
         sensor: dg.SensorDefinition = SENSOR) -> dg.SensorResult:
    """One sensor tick as the daemon runs it (`evaluate_tick`); the observations are recorded as the daemon does."""
    defs = dg.Definitions(sensors=[sensor], resources={"model_registry": registry})
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"model_registry": registry})
    result = defs.get_sensor_def(sensor.name).evaluate_tick(context)
    for event in result.asset_events:
        instance.report_runless_asset_event(event)
    return result


def two_good_days(instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict) -> str | None:
    """v1 (d1) and v2 (d2) registered, passed and promoted; the sensor has seen it all. Returns its cursor."""
    assert run(instance, registry, resources, "d1").success and run(instance, registry, resources, "d2").success
    first = tick(instance, registry, None)
    assert not first.asset_events and registry.get_guard().status().alias_version == 2  # noqa: PLR2004
    return first.cursor


def verdicts(registry: ModelRegistryResource) -> dict[int, str]:
    return {v.version: v.verdict.status.value for v in registry.get_guard().status().versions}


def test_quarantined_batch_holds_promotion_blames_no_version_and_a_later_pass_releases_it(
    instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict
) -> None:
    """A quarantined batch holds promotion with its reason, tags nothing, moves nothing; its partition passing again
    releases the hold, and ticks in between change nothing."""
    guard = registry.get_guard()
    cursor = two_good_days(instance, registry, resources)
    STATE["defect"] = {"d3": Defect.OUT_OF_RANGE_AMOUNTS}
    assert not run(instance, registry, resources, "d3").success  # quarantined: nothing downstream ran

    held = tick(instance, registry, cursor)
    status = guard.status()
    assert status.alias_version == 2 and verdicts(registry) == {1: "passed", 2: "passed"}  # noqa: PLR2004
    assert status.hold is not None
    assert [(f.check, f.partition) for f in status.hold.failing] == [(f"transactions:{CONTRACT_CHECK}", "d3")]
    # The hold keeps when the failure was evaluated (in the run), not when the sensor placed it (the tick).
    (failure,) = status.hold.failing
    assert failure.at is not None and failure.at < status.hold.at
    assert "quarantined before storage" in status.hold.reason and "transactions.d3" in status.hold.reason
    (observation,) = held.asset_events
    assert observation.asset_key == dg.AssetKey("transactions") and observation.partition == "d3"
    assert observation.metadata[MODEL_ACTION_KIND_KEY].value == "hold"
    assert "d3" in observation.metadata[MODEL_HOLD_KEY].value
    assert "held" in observation.description and "quarantined" in observation.description
    assert "nothing to do" in tick(instance, registry, held.cursor).skip_message  # already handled

    STATE["defect"] = {}
    assert run(instance, registry, resources, "d3", only=[transactions.key]).success  # the upstream fixed it
    released = tick(instance, registry, held.cursor)
    (release,) = released.asset_events
    assert release.metadata[MODEL_ACTION_KIND_KEY].value == "release_hold"
    assert release.metadata[MODEL_HOLD_KEY].value == "none"
    assert guard.status().hold is None and guard.status().alias_version == 2  # noqa: PLR2004
    assert [e.action for e in guard.history()] == [MoveAction.PROMOTE, MoveAction.PROMOTE, MoveAction.HOLD,
                                                   MoveAction.UNHOLD]
    assert verdicts(registry) == {1: "passed", 2: "passed"}


def test_a_failure_and_its_later_pass_in_one_tick_hold_nothing(
    instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict
) -> None:
    """Handling every evaluation since the cursor, a quarantine already superseded by a pass writes no hold at all."""
    cursor = two_good_days(instance, registry, resources)
    STATE["defect"] = {"d3": Defect.NULLS}
    assert not run(instance, registry, resources, "d3").success
    STATE["defect"] = {}
    assert run(instance, registry, resources, "d3", only=[transactions.key]).success
    result = tick(instance, registry, cursor)
    assert not result.asset_events and registry.get_guard().status().hold is None
    assert [e.action for e in registry.get_guard().history()] == [MoveAction.PROMOTE, MoveAction.PROMOTE]


def test_condemned_stored_batch_fails_exactly_the_versions_that_saw_it(
    instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict
) -> None:
    """Drift failing on the stored d2 features fails v2 (which trained on them) with a reason naming the batch and
    moves champion to v1; v1 never saw it and keeps its passed verdict."""
    guard = registry.get_guard()
    cursor = two_good_days(instance, registry, resources)
    STATE["drift"] = True
    # Judge the stored batch again, later (the latest materialization of `features` is d2's).
    judged = dg.materialize([transactions, features, drift], instance=instance, resources=resources,
                            selection=dg.AssetSelection.checks(drift))
    [evaluation] = judged.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.target_materialization_data is not None

    condemned = tick(instance, registry, cursor)
    (observation,) = condemned.asset_events
    assert observation.metadata[MODEL_ACTION_KIND_KEY].value == "condemn"
    assert observation.metadata[MODEL_VERSION_PINNED_KEY].value == 1
    batch = materialized_batch(instance, "features", "d2")
    assert batch is not None and observation.metadata[MODEL_BATCH_KEY].value == batch.label
    status = guard.status()
    assert status.alias_version == 1 and status.hold is None
    assert verdicts(registry) == {1: "passed", 2: "failed"}
    assert batch.label in status.version(2).verdict.reason and "PSI 0.41" in status.version(2).verdict.reason
    assert guard.history()[-1].action is MoveAction.CONDEMN
    again = tick(instance, registry, condemned.cursor)
    assert not again.asset_events and guard.status().alias_version == 1


def test_model_evaluation_failure_fails_the_version_it_judged(
    instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict
) -> None:
    """The serving v3 scores below the minimum on its day: v3 alone is failed and champion moves to v2."""
    guard = registry.get_guard()
    cursor = two_good_days(instance, registry, resources)
    STATE["auc"] = 0.5
    assert run(instance, registry, resources, "d3").success  # v3 promoted, then judged failing
    result = tick(instance, registry, cursor)
    (observation,) = result.asset_events
    assert observation.asset_key == dg.AssetKey("model")
    assert observation.metadata[MODEL_ACTION_KIND_KEY].value == "fail_version"
    assert observation.metadata[MODEL_ACTION_STATUS_KEY].value == "applied"
    assert guard.status().alias_version == 2 and guard.status().hold is None  # noqa: PLR2004
    assert verdicts(registry) == {1: "passed", 2: "passed", 3: "failed"}
    assert "model:evaluation" in guard.status().version(3).verdict.reason


def test_every_evaluation_since_the_cursor_is_handled_not_only_the_latest(
    instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict
) -> None:
    """A failed evaluation of v3 and, later, a quarantined batch reach one tick: v3 fails and promotion is held."""
    guard = registry.get_guard()
    cursor = two_good_days(instance, registry, resources)
    STATE["auc"] = 0.5
    assert run(instance, registry, resources, "d3").success
    STATE["defect"] = {"d1": Defect.DUPLICATE_IDS}
    assert not run(instance, registry, resources, "d1", only=[transactions.key]).success
    result = tick(instance, registry, cursor)
    assert [e.metadata[MODEL_ACTION_KIND_KEY].value for e in result.asset_events] == ["fail_version", "hold"]
    status = guard.status()
    assert status.alias_version == 2 and verdicts(registry) == {1: "passed", 2: "passed", 3: "failed"}  # noqa: PLR2004
    assert [(f.check, f.partition) for f in status.hold.failing] == [(f"transactions:{CONTRACT_CHECK}", "d1")]


def test_freshness_failure_holds_promotion_and_a_fresh_verdict_releases_it(
    instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict
) -> None:
    """A late asset (no batch arrived) holds promotion on no partition and blames no version; fresh again, released."""
    guard = registry.get_guard()
    cursor = two_good_days(instance, registry, resources)
    settings = FreshnessSettings(frequency=timedelta(hours=1))
    now = datetime.now(UTC)
    stale = check_freshness(None, settings, as_of=now, last_passed_at=now - timedelta(days=2))
    assert not stale.passed
    record_freshness(instance, transactions.key, "freshness", stale, None, evaluated_by="test")
    held = tick(instance, registry, cursor)
    status = guard.status()
    assert status.hold is not None and [(f.check, f.partition) for f in status.hold.failing] == [
        ("transactions:freshness", None)]
    assert "did not arrive" in status.hold.reason
    assert status.alias_version == 2 and verdicts(registry) == {1: "passed", 2: "passed"}  # noqa: PLR2004

    fresh = check_freshness(None, settings, as_of=now, last_passed_at=now - timedelta(minutes=5))
    record_freshness(instance, transactions.key, "freshness", fresh, None, evaluated_by="test")
    tick(instance, registry, held.cursor)
    assert guard.status().hold is None


def test_sensor_fails_the_tick_when_the_registry_is_down(
    instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict
) -> None:
    """With the tracking server unreachable the tick fails loudly and moves nothing, so the next tick retries."""
    from tests.models.conftest import free_port

    cursor = two_good_days(instance, registry, resources)
    STATE["auc"] = 0.5
    assert run(instance, registry, resources, "d3").success
    dead = ModelRegistryResource(tracking_uri=f"http://127.0.0.1:{free_port()}", model_name=registry.model_name,
                                 timeout_seconds=1, max_retries=0)
    with pytest.raises(dg.Failure, match="the next tick retries"):
        tick(instance, dead, cursor)
    assert registry.get_guard().status().alias_version == 3  # noqa: PLR2004
    retried = tick(instance, registry, cursor)  # same cursor: the failure is still there to act on
    assert retried.asset_events and registry.get_guard().status().alias_version == 2  # noqa: PLR2004


def test_pin_sensor_name_still_builds_a_lineage_aware_guard(
    instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict
) -> None:
    """`build_model_pin_sensor` keeps its name and signature but no longer blames the champion for a quarantine."""
    sensor = build_model_pin_sensor(asset="transactions", check_name=CONTRACT_CHECK)
    assert sensor.name == f"pin_model_on_transactions_{CONTRACT_CHECK}"
    two_good_days(instance, registry, resources)
    STATE["defect"] = {"d3": Defect.NULLS}
    run(instance, registry, resources, "d3")
    tick(instance, registry, None, sensor)
    status = registry.get_guard().status()
    assert status.hold is not None and status.alias_version == 2 and status.pin is None  # noqa: PLR2004
    assert verdicts(registry) == {1: "passed", 2: "passed"}


def test_quarantine_holds_on_a_postgresql_instance(
    pg_instance: dg.DagsterInstance, registry: ModelRegistryResource, resources: dict
) -> None:
    """The same hold on Dagster's PostgreSQL storage: the history read, the cursor and the action agree."""
    cursor = two_good_days(pg_instance, registry, resources)
    STATE["defect"] = {"d3": Defect.NULLS}
    assert not run(pg_instance, registry, resources, "d3").success
    held = tick(pg_instance, registry, cursor)
    assert [e.metadata[MODEL_ACTION_KIND_KEY].value for e in held.asset_events] == ["hold"]
    assert registry.get_guard().status().hold is not None
