"""The one room for Dagster's internals: nothing else imports them, and each use works on a real instance.

These tests run on every supported Dagster minor (``make test-oldest-dagster`` runs them on the oldest).
"""

from __future__ import annotations

import ast
import inspect
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from guardrails.dagster import _compat as host
from guardrails.dagster import QuarantineResource

REPO = Path(__file__).resolve().parents[2]
COMPAT = REPO / "guardrails" / "dagster" / "_compat.py"
DAGSTER_NAMES = {"dg", "dagster"}


def _private_dagster_uses(path: Path) -> list[str]:
    """Where `path` imports a private Dagster module or reads a private attribute of the `dagster` package."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            submodules = [f"dagster.{a.name}" for a in node.names] if node.module == "dagster" else []
            names = [node.module, *submodules]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in DAGSTER_NAMES:
            names = [f"dagster.{node.attr}"]
        found += [f"{path.relative_to(REPO)}:{node.lineno} {name}" for name in names if name.startswith("dagster._")]
    return found


def test_no_module_but_compat_touches_dagster_internals():
    """No guardrails or definitions module other than `_compat` imports `dagster._…` or reads `dg._…`."""
    modules = [p for package in ("guardrails", "definitions") for p in sorted((REPO / package).rglob("*.py"))]
    assert len(modules) > 20
    offending = [use for path in modules if path != COMPAT for use in _private_dagster_uses(path)]
    assert offending == []
    assert _private_dagster_uses(COMPAT), "the scan finds nothing even where the internals are"


def test_installed_dagster_is_in_the_supported_range_that_pyproject_pins():
    """The running Dagster is one `SUPPORTED_DAGSTER` names, and pyproject.toml's [dagster] extra pins it."""
    assert Version(dg.__version__) in SpecifierSet(host.SUPPORTED_DAGSTER)
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dagster"]
    assert f"dagster{host.SUPPORTED_DAGSTER}" in dependencies
    assert f"dagster-webserver{host.SUPPORTED_DAGSTER}" in dependencies


CHECKED = dg.AssetCheckSpec("rows", asset="compat_checked")
PARTITIONS = dg.StaticPartitionsDefinition(["a", "b"])


@dg.asset(check_specs=[CHECKED])
def compat_checked(context):
    if context.run.tags.get("fail"):
        raise dg.Failure("the asset failed before its check ran")
    yield dg.Output(1)
    yield dg.AssetCheckResult(passed=True)


@dg.asset(partitions_def=PARTITIONS)
def compat_partitioned() -> int:
    return 1


def _run_checked(instance: dg.DagsterInstance, *, fail: bool) -> None:
    dg.materialize([compat_checked], instance=instance, raise_on_error=False, tags={"fail": "yes"} if fail else None)


def test_check_execution_history_reads_newest_first_and_completed_only_drops_planned(instance):
    """A check's history comes back newest first; `completed_only` leaves out the execution whose run failed first."""
    _run_checked(instance, fail=False)
    _run_checked(instance, fail=True)

    every = host.check_execution_history(instance, CHECKED.key, limit=10)
    completed = host.check_execution_history(instance, CHECKED.key, limit=10, completed_only=True)

    assert [r.status.value for r in every] == ["PLANNED", "SUCCEEDED"]
    assert [r.status.value for r in completed] == ["SUCCEEDED"]
    assert [r.run_id for r in host.check_execution_history(instance, CHECKED.key, limit=1)] == [every[0].run_id]


def test_evaluation_target_and_partition_filter_round_trip_through_the_event_log(instance):
    """A runless evaluation names the materialization it judged, and the partition filter finds it by partition."""
    dg.materialize([compat_partitioned], instance=instance, partition_key="a")
    [judged] = instance.fetch_materializations(compat_partitioned.key, limit=1).records
    key = dg.AssetCheckKey(compat_partitioned.key, "fresh")
    for partition in ("a", "b"):
        instance.report_runless_asset_event(dg.AssetCheckEvaluation(
            asset_key=compat_partitioned.key, check_name="fresh", passed=partition == "a", partition=partition,
            target_materialization_data=host.evaluation_target(
                storage_id=judged.storage_id, run_id=judged.run_id, timestamp=judged.timestamp),
        ))

    [on_a] = host.check_execution_history(instance, key, limit=10, partition="a")

    assert on_a.partition == "a" and on_a.evaluation.passed
    assert on_a.evaluation.target_materialization_data.storage_id == judged.storage_id
    assert on_a.evaluation.target_materialization_data.run_id == judged.run_id
    assert len(host.check_execution_history(instance, key, limit=10)) == 2


def test_checks_with_executions_lists_every_recorded_check_or_one_assets(instance):
    """The executions table yields each recorded check once, sorted, and only the asked asset's when one is given."""
    _run_checked(instance, fail=False)
    _run_checked(instance, fail=False)
    instance.report_runless_asset_event(dg.AssetCheckEvaluation(asset_key=dg.AssetKey("other"), check_name="x",
                                                                passed=False))

    assert host.checks_with_executions(instance) == [CHECKED.key, dg.AssetCheckKey(dg.AssetKey("other"), "x")]
    assert host.checks_with_executions(instance, dg.AssetKey("other")) == [dg.AssetCheckKey(dg.AssetKey("other"), "x")]
    assert host.checks_with_executions(instance, dg.AssetKey("never")) == []


def test_give_signature_lets_dagster_inject_a_resource_into_a_built_function(instance, tmp_path):
    """A compute function given a signature at run time gets its resource parameter from Dagster (1.12 reads
    ``__annotations__``, 1.13 ``__signature__``)."""
    seen = []

    def compute(context, **kwargs):
        seen.append(kwargs["store"].location)
        return 1

    host.give_signature(compute, inspect.Signature([
        inspect.Parameter("context", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=dg.AssetExecutionContext),
        inspect.Parameter("store", inspect.Parameter.KEYWORD_ONLY, annotation=QuarantineResource),
    ]))
    built = dg.asset(name="built")(compute)

    result = dg.materialize([built], instance=instance,
                            resources={"store": QuarantineResource(location=str(tmp_path))})

    assert result.success and seen == [str(tmp_path)]


def _origin() -> host.RepositoryOrigin:
    location = InProcessCodeLocationOrigin(LoadableTargetOrigin(python_file=__file__), location_name="compat")
    return host.repository_origin(location, "__repository__")


@pytest.mark.parametrize("schedule", [True, False], ids=["schedule", "sensor"])
def test_instigators_stop_and_restore_through_the_instance(instance, schedule):
    """A feed never stored reads as declared in code, stops as stored STOPPED, and is restored once, start reset."""
    name = "feed_schedule" if schedule else "feed_sensor"  # wiping the instance keeps schedule storage
    origin_id, selector_id = host.instigator_ids(_origin(), name)
    assert host.stored_instigator_status(instance, origin_id, selector_id) == host.DECLARED_IN_CODE

    host.stop_instigator(instance, _origin(), name, schedule=schedule, cron_schedule="0 * * * *", min_interval=30)
    assert host.stored_instigator_status(instance, origin_id, selector_id) == host.STOPPED
    host.stop_instigator(instance, _origin(), name, schedule=schedule, cron_schedule="0 * * * *", min_interval=30)
    assert host.stored_instigator_status(instance, origin_id, selector_id) == host.STOPPED

    now = datetime(2026, 1, 2, tzinfo=UTC)
    assert host.restore_instigator(instance, origin_id, selector_id, host.RUNNING, now=now)
    assert host.stored_instigator_status(instance, origin_id, selector_id) == host.RUNNING
    data = instance.get_instigator_state(origin_id, selector_id).instigator_data
    started = data.start_timestamp if schedule else data.last_sensor_start_timestamp
    assert started == now.timestamp()
    assert not host.restore_instigator(instance, origin_id, selector_id, host.DECLARED_IN_CODE, now=now)
    assert host.stored_instigator_status(instance, origin_id, selector_id) == host.RUNNING


def test_is_automation_sensor_tells_the_automation_sensor_from_a_plain_one():
    """Only the declarative-automation sensor counts as one."""

    @dg.sensor(job_name="any_job")
    def plain(_):
        return None

    automation = dg.AutomationConditionSensorDefinition("automation", target=dg.AssetSelection.all())

    assert host.is_automation_sensor(automation)
    assert not host.is_automation_sensor(plain)
