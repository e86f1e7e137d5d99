"""The model guard against a real MLflow tracking and registry store (SQLite in a temp dir)."""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from guardrails.models import (
    HISTORY_PREFIX,
    PIN_TAG,
    VERDICT_TAG,
    ActionStatus,
    MlflowModelRegistry,
    ModelGuard,
    MoveAction,
    RegistryError,
)
from tests.models.conftest import failed, free_port, passed, register_versions

@pytest.fixture
def guard(sqlite_uri: str, saved_model_dir: Path, model_name: str) -> ModelGuard:
    """A guard over a model with three READY versions, all passed, the champion alias on v3."""
    register_versions(sqlite_uri, model_name, saved_model_dir, 3)
    guard = ModelGuard(MlflowModelRegistry(sqlite_uri), model_name, actor="test")
    for version in (1, 2, 3):
        guard.record_verdict(version, passed())
    assert guard.promote(3, reason="initial release").status is ActionStatus.APPLIED
    return guard


@functools.cache
def _client(uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def client(guard: ModelGuard) -> MlflowClient:
    """A plain MLflow client on the guard's store, to check what the guard wrote without the guard's help."""
    registry = guard.registry
    registry = getattr(registry, "inner", registry)
    assert isinstance(registry, MlflowModelRegistry)
    return _client(registry.tracking_uri)


def alias_version(guard: ModelGuard) -> int:
    return int(client(guard).get_model_version_by_alias(guard.name, guard.alias).version)


def test_verdicts_are_version_tags_found_by_mlflow_search(guard: ModelGuard) -> None:
    """A verdict is a set of version tags that MLflow's own search_model_versions filter finds."""
    guard.record_verdict(2, failed("auc dropped to 0.61", run_id="run-7"))
    found = client(guard).search_model_versions(f"name='{guard.name}' and tags.`{VERDICT_TAG}`='passed'")
    assert sorted(int(v.version) for v in found) == [1, 3]
    assert guard.passed_versions() == (1, 3)
    tags = client(guard).get_model_version(guard.name, "2").tags
    assert tags[VERDICT_TAG] == "failed"
    assert tags["guardrails.verdict.reason"] == "auc dropped to 0.61"
    assert tags["guardrails.verdict.run_id"] == "run-7"
    assert json.loads(tags["guardrails.verdict.checks"]) == ["evaluation"]
    assert guard.status().version(2).verdict.reason == "auc dropped to 0.61"


def test_pin_moves_alias_from_failing_v3_to_v2(guard: ModelGuard) -> None:
    """When v3 fails, the alias moves to v2, v3 is tagged failed with the reason, and the model is pinned."""
    result = guard.pin(3, reason="bad batch 2026-01-02", check="transactions/contract", run_id="run-42")
    assert result.status is ActionStatus.APPLIED, result.message
    assert alias_version(guard) == 2
    assert result.move is not None and (result.move.from_version, result.move.to_version) == (3, 2)
    tags = client(guard).get_model_version(guard.name, "3").tags
    assert (tags[VERDICT_TAG], tags["guardrails.verdict.reason"]) == ("failed", "bad batch 2026-01-02")
    pin = json.loads(client(guard).get_registered_model(guard.name).tags[PIN_TAG])
    assert (pin["version"], pin["reason"], pin["run_id"]) == (2, "bad batch 2026-01-02", "run-42")
    assert guard.status().pinned


def test_pin_skips_a_failed_v2_and_falls_back_to_v1(guard: ModelGuard) -> None:
    """If v2 also failed, the pin goes to v1, the highest version whose verdict passed."""
    guard.record_verdict(2, failed("drift on amount"))
    result = guard.pin(3, reason="canary failed", check="canary")
    assert result.status is ActionStatus.APPLIED, result.message
    assert alias_version(guard) == 1
    assert result.pin is not None and result.pin.version == 1


def test_pin_without_any_good_version_leaves_alias_and_says_so(guard: ModelGuard) -> None:
    """With no other passed version the alias stays put, nothing is pinned, and the result is a loud refusal."""
    guard.record_verdict(1, failed())
    guard.record_verdict(2, failed())
    result = guard.pin(3, reason="canary failed", check="canary")
    assert result.status is ActionStatus.REFUSED
    assert not result.ok
    assert f"no version of '{guard.name}' other than v3 has a passed verdict" in (result.error or "")
    assert "serving the FAILING version" in result.message
    assert alias_version(guard) == 3
    assert not guard.status().pinned
    assert [e.action for e in guard.history()] == [MoveAction.PROMOTE]


def test_pin_never_points_alias_at_an_unverified_version(
    sqlite_uri: str, saved_model_dir: Path, model_name: str
) -> None:
    """Versions without a verdict are not candidates, however high their number."""
    register_versions(sqlite_uri, model_name, saved_model_dir, 4)
    guard = ModelGuard(MlflowModelRegistry(sqlite_uri), model_name)
    guard.record_verdict(1, passed())
    guard.record_verdict(3, passed())
    guard.promote(3)
    result = guard.pin(3, reason="bad")
    assert result.ok and alias_version(guard) == 1


def test_pinning_twice_is_a_no_op(guard: ModelGuard) -> None:
    """A second pin for the same (or another) failure writes nothing and keeps the first pin."""
    first = guard.pin(3, reason="bad batch", check="contract", run_id="run-1")
    before = client(guard).get_registered_model(guard.name).tags
    again = guard.pin(3, reason="bad batch", check="contract", run_id="run-1")
    other = guard.pin(3, reason="second check failed", check="drift", run_id="run-2")
    assert (again.status, other.status) == (ActionStatus.NO_OP, ActionStatus.NO_OP)
    assert again.pin == first.pin == other.pin
    assert client(guard).get_registered_model(guard.name).tags == before
    assert len(guard.history()) == 2  # the initial promote and the one pin


def test_pinning_again_with_the_alias_version_keeps_the_pinned_version_passed(guard: ModelGuard) -> None:
    """A repeat pin naming the alias version (the pinned v2) is a no-op that leaves v2's verdict passed."""
    first = guard.pin(3, reason="bad batch day 1", check="contract", run_id="run-1")
    assert first.status is ActionStatus.APPLIED and alias_version(guard) == 2
    before = client(guard).get_model_version(guard.name, "2").tags
    again = guard.pin(guard.status().alias_version, reason="bad batch day 2", check="contract", run_id="run-2")
    third = guard.pin(2, reason="bad batch day 3", check="contract", run_id="run-3")
    assert (again.status, third.status) == (ActionStatus.NO_OP, ActionStatus.NO_OP), again.message
    assert "v2 is the pinned version" in again.message
    assert client(guard).get_model_version(guard.name, "2").tags == before
    assert client(guard).get_model_version(guard.name, "2").tags[VERDICT_TAG] == "passed"
    assert guard.status().version(2).verdict.passed
    assert alias_version(guard) == 2 and guard.status().pin == first.pin
    assert [(e.action, e.from_version, e.to_version) for e in guard.history()] == [
        (MoveAction.PROMOTE, None, 3),
        (MoveAction.PIN, 3, 2),
    ]


def test_a_new_version_failing_while_pinned_is_tagged_failed_and_the_pin_holds(guard: ModelGuard) -> None:
    """A new v4 failing during a pin gets its failed verdict, but the alias stays on the pinned v2."""
    first = guard.pin(3, reason="bad batch", check="contract", run_id="run-1")
    register_versions_more(guard, 1)
    guard.record_verdict(4, passed("run-8"))
    result = guard.pin(4, reason="v4 failed its canary", check="canary", run_id="run-9")
    assert result.status is ActionStatus.NO_OP, result.message
    assert "v4 is tagged failed" in result.message
    tags = client(guard).get_model_version(guard.name, "4").tags
    assert (tags[VERDICT_TAG], tags["guardrails.verdict.reason"]) == ("failed", "v4 failed its canary")
    assert client(guard).get_model_version(guard.name, "2").tags[VERDICT_TAG] == "passed"
    assert alias_version(guard) == 2 and guard.status().pin == first.pin
    assert len(guard.history()) == 2


def test_promote_is_refused_while_pinned(guard: ModelGuard) -> None:
    """While pinned, promotion of even a passed version is refused and the alias does not move."""
    guard.pin(3, reason="bad batch")
    register_versions_more(guard, 1)
    guard.record_verdict(4, passed())
    result = guard.promote(4, reason="retrained")
    assert result.status is ActionStatus.REFUSED
    assert "pinned on v2" in result.message and "unpin" in result.message
    assert alias_version(guard) == 2


def register_versions_more(guard: ModelGuard, count: int) -> None:
    source = client(guard).get_model_version(guard.name, "1").source
    for _ in range(count):
        client(guard).create_model_version(guard.name, source=source)


def test_unpin_then_promote(guard: ModelGuard) -> None:
    """After an unpin, a passed version can be promoted again and the history tells the whole story in order."""
    guard.pin(3, reason="bad batch", check="contract", run_id="run-1")
    register_versions_more(guard, 1)
    guard.record_verdict(4, passed("run-9"))
    unpinned = guard.unpin(reason="upstream fixed", by="alice")
    promoted = guard.promote(4, reason="retrained on clean data", by="alice")
    assert (unpinned.status, promoted.status) == (ActionStatus.APPLIED, ActionStatus.APPLIED)
    assert alias_version(guard) == 4
    history = guard.history()
    assert [(e.action, e.from_version, e.to_version) for e in history] == [
        (MoveAction.PROMOTE, None, 3),
        (MoveAction.PIN, 3, 2),
        (MoveAction.UNPIN, 2, 2),
        (MoveAction.PROMOTE, 2, 4),
    ]
    assert [e.seq for e in history] == [1, 2, 3, 4]
    assert (history[1].check, history[1].run_id, history[1].by) == ("contract", "run-1", "test")
    assert (history[2].reason, history[2].by) == ("upstream fixed", "alice")
    assert all(a.at <= b.at for a, b in zip(history, history[1:]))


def test_promote_refuses_failed_and_unverified_versions(
    sqlite_uri: str, saved_model_dir: Path, model_name: str
) -> None:
    """Only a version whose verdict passed can be promoted; the refusal says why."""
    register_versions(sqlite_uri, model_name, saved_model_dir, 2)
    guard = ModelGuard(MlflowModelRegistry(sqlite_uri), model_name)
    guard.record_verdict(1, failed("psi 0.4 on amount"))
    refused_failed = guard.promote(1)
    refused_unverified = guard.promote(2)
    refused_missing = guard.promote(7)
    assert "psi 0.4 on amount" in refused_failed.message
    assert "unverified" in refused_unverified.message
    assert "no version 7" in refused_missing.message
    assert {r.status for r in (refused_failed, refused_unverified, refused_missing)} == {ActionStatus.REFUSED}
    assert client(guard).get_registered_model(guard.name).aliases == {}
    assert guard.promote(1).status is ActionStatus.REFUSED
    guard.record_verdict(2, passed())
    assert guard.promote(2).status is ActionStatus.APPLIED
    assert guard.promote(2).status is ActionStatus.NO_OP


class FailingAliasRegistry:
    """The real registry, except that moving an alias fails once (as if the server died at that moment)."""

    def __init__(self, inner: MlflowModelRegistry) -> None:
        self.inner = inner
        self.failures = 2  # the first attempt and the guard's immediate retry

    def __getattr__(self, name: str):  # noqa: ANN204 - delegate every other protocol method
        return getattr(self.inner, name)

    def set_alias(self, name: str, alias: str, version: int) -> None:
        if self.failures:
            self.failures -= 1
            raise RegistryError("set_alias", name, "ConnectionError: connection reset by peer")
        self.inner.set_alias(name, alias, version)


def test_interrupted_pin_keeps_alias_and_is_completed_by_the_next_pin(guard: ModelGuard) -> None:
    """A pin interrupted before the alias move reports an error, leaves the alias, and a retry completes it once."""
    broken = ModelGuard(FailingAliasRegistry(guard.registry), guard.name, actor="sensor")  # type: ignore[arg-type]
    interrupted = broken.pin(3, reason="bad batch", check="contract", run_id="run-1")
    assert interrupted.status is ActionStatus.ERROR
    assert "connection reset" in (interrupted.error or "")
    assert alias_version(guard) == 3
    assert guard.status().pinned  # the pin tag is written first, so promotion is already blocked
    completed = broken.pin(3, reason="bad batch", check="contract", run_id="run-1")
    assert completed.status is ActionStatus.APPLIED, completed.message
    assert alias_version(guard) == 2
    assert [(e.action, e.from_version, e.to_version) for e in guard.history()][1:] == [(MoveAction.PIN, 3, 2)]
    assert broken.pin(3, reason="bad batch").status is ActionStatus.NO_OP


def test_interrupted_pin_is_not_completed_onto_a_target_that_since_failed(guard: ModelGuard) -> None:
    """If the interrupted pin's target failed meanwhile, completing it is refused and the alias stays."""
    broken = ModelGuard(FailingAliasRegistry(guard.registry), guard.name)  # type: ignore[arg-type]
    assert broken.pin(3, reason="bad batch").status is ActionStatus.ERROR
    guard.record_verdict(2, failed("v2 failed its canary"))
    retried = broken.pin(3, reason="bad batch")
    assert retried.status is ActionStatus.REFUSED and "no longer passes" in retried.message
    assert alias_version(guard) == 3


def test_unreachable_tracking_server_fails_closed_in_bounded_time(guard: ModelGuard) -> None:
    """With nothing listening at the tracking URI, every action returns ERROR quickly and nothing moves."""
    unreachable = MlflowModelRegistry(f"http://127.0.0.1:{free_port()}", timeout_seconds=1, max_retries=1)
    dead = ModelGuard(unreachable, guard.name)
    started = time.monotonic()
    results = [dead.pin(3, reason="bad"), dead.promote(2), dead.unpin(reason="x")]
    elapsed = time.monotonic() - started
    assert [r.status for r in results] == [ActionStatus.ERROR] * 3
    assert all("Connection" in (r.error or "") for r in results), [r.error for r in results]
    assert elapsed < 15, elapsed
    with pytest.raises(RegistryError, match="get_model"):
        dead.status()
    assert alias_version(guard) == 3


def test_history_lives_in_model_tags_as_json_lines(guard: ModelGuard) -> None:
    """Each history entry is one registered-model tag holding one JSON object, readable without the guard."""
    guard.pin(3, reason="bad batch", check="contract", run_id="run-1")
    tags = client(guard).get_registered_model(guard.name).tags
    entries = sorted((k, json.loads(v)) for k, v in tags.items() if k.startswith(HISTORY_PREFIX))
    assert [(e["action"], e["from_version"], e["to_version"]) for _, e in entries] == [
        ("promote", None, 3),
        ("pin", 3, 2),
    ]
    assert entries[1][1]["by"] == "test" and entries[1][1]["check"] == "contract"
