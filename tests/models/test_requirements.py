"""A canary candidate's requirement binds every alias move, not only `promote`: when the champion fails, the
fallback (`fail_version`, `condemn`, `pin`, `reconcile`) skips a candidate whose canary is still running even
though it carries a passed verdict from its training evaluation; on a real SQLite MLflow store and in memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from guardrails.cli import render
from guardrails.cli.models import app
from guardrails.models import (
    REQUIRES_TAG,
    ActionStatus,
    BatchRef,
    Lineage,
    MlflowModelRegistry,
    ModelGuard,
    ModelVersionState,
    MoveAction,
    Verdict,
    VerdictStatus,
)
from tests.models.conftest import failed, passed, register_versions
from tests.models.memory import MemoryRegistry

DAY = BatchRef(asset="clean_transactions", partition="2026-11-02", batch_id="b-2")


def _hand_move(guard: ModelGuard, version: int) -> None:
    """Move the champion alias outside the guard, as someone in the MLflow UI would."""
    guard.registry.set_alias(guard.name, guard.alias, version)


@pytest.fixture(params=["sqlite", "memory"])
def guard(request: pytest.FixtureRequest, model_name: str) -> ModelGuard:
    """v1 and v2 passed, champion on v2 (trained on DAY); v3 passed its evaluation and its canary is running."""
    if request.param == "sqlite":
        uri = request.getfixturevalue("sqlite_uri")
        register_versions(uri, model_name, request.getfixturevalue("saved_model_dir"), 3)
        registry = MlflowModelRegistry(uri)
    else:
        registry = MemoryRegistry()
        registry.create(model_name, 3)
    guard = ModelGuard(registry, model_name, actor="test", settle_seconds=0)
    for version in (1, 2, 3):
        guard.record_verdict(version, passed())
    guard.record_lineage(2, Lineage(trained_on=(DAY,)))
    assert guard.promote(2).status is ActionStatus.APPLIED
    assert guard.start_canary(3).status is ActionStatus.APPLIED
    return guard


def _state(guard: ModelGuard, version: int) -> ModelVersionState:
    state = guard.status().version(version)
    assert state is not None
    return state


def test_the_snapshot_carries_requirements_and_check_verdicts(guard: ModelGuard) -> None:
    """v3's state says it requires a canary pass it does not have: not eligible, not failed, "awaiting canary"."""
    v3 = _state(guard, 3)
    assert (v3.requires, v3.unmet, v3.eligible, v3.failed) == (("canary",), ("canary",), False, False)
    assert v3.ineligible_because == "awaiting canary"
    assert _state(guard, 2).eligible and _state(guard, 2).ineligible_because == ""
    as_json = v3.to_dict()
    assert (as_json["requires"], as_json["unmet"], as_json["eligible"]) == (["canary"], ["canary"], False)


def test_a_failing_champion_falls_back_past_a_running_canary(guard: ModelGuard) -> None:
    """fail_version(v2): the alias goes to v1, the older eligible version, not to v3 whose canary is running."""
    result = guard.fail_version(2, reason="realized precision collapsed", check="performance")
    assert result.status is ActionStatus.APPLIED, result.message
    assert guard.status().alias_version == 1 and result.move is not None and result.move.to_version == 1
    assert guard.status().aliases["challenger"] == 3  # the canary keeps running


def test_condemn_falls_back_past_a_running_canary(guard: ModelGuard) -> None:
    """Condemning the batch v2 trained on moves the alias to v1, not to v3."""
    result = guard.condemn(DAY, reason="drift after publish", check="drift")
    assert result.status is ActionStatus.APPLIED, result.message
    assert result.failed_versions == (2,) and guard.status().alias_version == 1


def test_pin_falls_back_past_a_running_canary(guard: ModelGuard) -> None:
    """pin(v2) pins the alias on v1, not on v3."""
    result = guard.pin(2, reason="bad day", check="contract")
    assert result.status is ActionStatus.APPLIED, result.message
    assert result.pin is not None and result.pin.version == 1 and guard.status().alias_version == 1


def test_reconcile_falls_back_past_a_running_canary(guard: ModelGuard) -> None:
    """A failed verdict written without moving the alias: reconcile moves it to v1, not to v3."""
    guard.record_verdict(2, failed("evaluation re-run failed"))
    result = guard.reconcile()
    assert result.status is ActionStatus.APPLIED, result.message
    assert result.move is not None and result.move.to_version == 1 and guard.status().alias_version == 1


def test_reconcile_moves_the_alias_off_a_candidate_put_there_by_hand(guard: ModelGuard) -> None:
    """Someone points the champion at v3 mid-canary: reconcile records it and moves the alias back to v2."""
    _hand_move(guard, 3)
    result = guard.reconcile()
    assert result.status is ActionStatus.APPLIED, result.message
    assert result.observed is not None and result.observed.to_version == 3
    assert result.move is not None and (result.move.from_version, result.move.to_version) == (3, 2)
    assert "awaiting canary" in result.move.reason


def test_the_fallback_may_go_to_the_candidate_once_its_canary_passed(guard: ModelGuard) -> None:
    """After a canary pass v3 is eligible: the champion is promoted to it, and a later failure of v3 falls to v2."""
    judged = guard.judge_canary(3, "pass")
    assert judged.status is ActionStatus.APPLIED, judged.message
    assert _state(guard, 3).eligible and guard.status().alias_version == 3
    assert guard.fail_version(3, reason="late regression").move.to_version == 2  # type: ignore[union-attr]


def test_no_eligible_version_leaves_the_alias_and_says_why(guard: ModelGuard) -> None:
    """v1 and v2 fail while v3 awaits its canary: the alias stays (REFUSED), and v3 is never a target."""
    guard.record_verdict(1, failed())
    result = guard.fail_version(2, reason="bad")
    assert result.status is ActionStatus.REFUSED and guard.status().alias_version == 2
    assert "required checks passed" in result.message


def test_a_model_wide_requirement_binds_every_version(model_name: str) -> None:
    """``guardrails.requires`` on the registered model: no version without a pass is a fallback target."""
    registry = MemoryRegistry()
    registry.create(model_name, 2)
    guard = ModelGuard(registry, model_name, actor="test")
    guard.record_verdict(1, passed())
    guard.record_verdict(2, passed())
    registry.set_model_tag(model_name, REQUIRES_TAG, json.dumps(["fairness"]))
    registry.set_version_tag(model_name, 1, "guardrails.check.fairness", "pass")
    assert guard.promote(2).status is ActionStatus.REFUSED
    assert guard.promote(1).status is ActionStatus.APPLIED
    assert _state(guard, 2).ineligible_because == "awaiting fairness"


def test_start_canary_refuses_the_serving_champion(guard: ModelGuard) -> None:
    """A canary on the version the champion serves is refused, and the champion gains no requirement."""
    result = guard.start_canary(2)
    assert result.status is ActionStatus.REFUSED and "already serves" in result.message
    assert _state(guard, 2).requires == () and guard.status().alias_version == 2


def test_cli_status_says_awaiting_canary_and_history_says_removed(
    sqlite_uri: str, saved_model_dir: Path, model_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`models status` shows "no: awaiting canary" for the candidate; `models history` shows a retire as
    "(removed)" in its "to" column."""
    monkeypatch.setattr(render.console, "width", 250)
    register_versions(sqlite_uri, model_name, saved_model_dir, 3)
    guard = ModelGuard(MlflowModelRegistry(sqlite_uri), model_name, actor="test")
    for version in (1, 2):
        guard.record_verdict(version, Verdict(status=VerdictStatus.PASSED))  # no `at`: recorded with an empty one
    guard.promote(1)
    guard.start_canary(2)
    env = {"MLFLOW_TRACKING_URI": sqlite_uri}
    out = CliRunner().invoke(app, ["status", model_name], env=env).output
    [v2_row] = [row for row in out.splitlines() if "│ v2 " in row or row.lstrip("│ ").startswith("v2 ")]
    assert "no: awaiting canary" in v2_row, out
    assert "yes" in next(row for row in out.splitlines() if row.lstrip("│ ").startswith("v1 "))
    guard.retire_challenger(2, reason="canary stopped by hand")
    out = CliRunner().invoke(app, ["history", model_name], env=env).output
    [retire_row] = [row for row in out.splitlines() if " retire " in row]
    assert "(removed)" in retire_row and "v2" in retire_row, out
    assert [e.action for e in guard.history()][-1] is MoveAction.RETIRE
    assert MlflowClient(tracking_uri=sqlite_uri, registry_uri=sqlite_uri).get_registered_model(
        model_name).aliases == {"champion": 1}
