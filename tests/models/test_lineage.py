"""Lineage, holds, condemnation, a model's own failure, guarded promotion and the reconciler against a real MLflow
store (SQLite in a temp dir): the bad day of the issue, played through the guard."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mlflow import MlflowClient

from guardrails.models import (
    HOLD_TAG,
    LINEAGE_TAG,
    VERDICT_TAG,
    ActionStatus,
    BatchRef,
    Lineage,
    MlflowModelRegistry,
    ModelGuard,
    MoveAction,
    RegistryError,
    saw_tag,
)
from tests.models.conftest import failed, passed, register_versions


def batch(day: str, batch_id: str | None = None) -> BatchRef:
    return BatchRef(asset="clean_transactions", partition=day, batch_id=batch_id, contract_id="transactions",
                    contract_version="1.0.0", run_id=f"run-{day}")


@pytest.fixture
def guard(sqlite_uri: str, saved_model_dir: Path, model_name: str) -> ModelGuard:
    """Three passed versions with lineage: v1 saw 11-01, v2 saw 11-01..02, v3 saw 11-02 (and was evaluated on
    11-03's first batch); the champion alias on v3."""
    register_versions(sqlite_uri, model_name, saved_model_dir, 3)
    guard = ModelGuard(MlflowModelRegistry(sqlite_uri), model_name, actor="test", settle_seconds=1)
    lineages = {
        1: Lineage(trained_on=(batch("2026-11-01", "b1"),)),
        2: Lineage(trained_on=(batch("2026-11-01", "b1"), batch("2026-11-02", "b2"))),
        3: Lineage(trained_on=(batch("2026-11-02", "b2"),), evaluated_on=(batch("2026-11-03", "b3"),)),
    }
    for version, lineage in lineages.items():
        guard.record_verdict(version, passed())
        guard.record_lineage(version, lineage)
    assert guard.promote(3, reason="initial release").status is ActionStatus.APPLIED
    return guard


def client(guard: ModelGuard) -> MlflowClient:
    registry = getattr(guard.registry, "inner", guard.registry)
    return MlflowClient(tracking_uri=registry.tracking_uri, registry_uri=registry.tracking_uri)


def alias_version(guard: ModelGuard) -> int | None:
    aliases = client(guard).get_registered_model(guard.name).aliases
    return int(aliases[guard.alias]) if guard.alias in aliases else None


def verdicts(guard: ModelGuard) -> dict[int, str]:
    return {v.version: v.verdict.status.value for v in guard.status().versions if v.verdict}


def test_lineage_is_searchable_mlflow_data(guard: ModelGuard) -> None:
    """Lineage reads back whole, and MLflow's own tag search finds the versions that saw a batch or partition."""
    assert guard.lineage(3) == Lineage(trained_on=(batch("2026-11-02", "b2"),),
                                       evaluated_on=(batch("2026-11-03", "b3"),))
    key = saw_tag(batch("2026-11-01", "b1"))
    found = client(guard).search_model_versions(f"name='{guard.name}' and tags.`{key}`='true'")
    assert sorted(int(v.version) for v in found) == [1, 2]
    assert guard.versions_that_saw(batch("2026-11-02")) == (2, 3)  # no id: the whole partition
    assert guard.versions_that_saw(batch("2026-11-02", "other")) == ()
    assert json.loads(client(guard).get_model_version(guard.name, "1").tags[LINEAGE_TAG])["trained_on"][0][
        "batch_id"] == "b1"


def test_quarantined_batch_holds_promotion_and_blames_no_version(guard: ModelGuard) -> None:
    """The issue's bad day: a batch quarantined before storage tags no version and leaves the alias on v3, held;
    promote is refused while held; the hold releases itself when the failing partition passes again."""
    before = verdicts(guard)
    held = guard.hold("contract failed on clean_transactions", check="clean_transactions:contract",
                      partitions=["2026-11-04"], run_id="run-bad", incident="INC-1")
    assert held.status is ActionStatus.APPLIED, held.message
    assert verdicts(guard) == before and alias_version(guard) == 3
    assert guard.status().hold.incident == "INC-1"
    assert HOLD_TAG in client(guard).get_registered_model(guard.name).tags
    again = guard.hold("contract failed again", check="clean_transactions:contract", partitions=["2026-11-04"])
    assert again.status is ActionStatus.NO_OP
    refused = guard.promote(2)
    assert refused.status is ActionStatus.REFUSED and "held" in refused.message
    freshness = guard.hold("no data arrived", check="clean_transactions:freshness")
    assert freshness.status is ActionStatus.APPLIED and len(freshness.hold.failing) == 2

    partial = guard.release_hold("clean_transactions:contract", ["2026-11-04"], run_id="run-fixed")
    assert partial.status is ActionStatus.APPLIED and partial.hold is not None  # freshness still failing
    done = guard.release_hold("clean_transactions:freshness", run_id="run-fresh")
    assert done.status is ActionStatus.APPLIED and done.released is not None and done.hold is None
    assert guard.status().hold is None and alias_version(guard) == 3 and verdicts(guard) == before
    actions = [(e.action, e.from_version, e.to_version) for e in guard.history()]
    assert actions[1:] == [(MoveAction.HOLD, 3, 3), (MoveAction.HOLD, 3, 3), (MoveAction.UNHOLD, 3, 3)]


def test_unhold_releases_by_hand(guard: ModelGuard) -> None:
    """`unhold` lifts the hold whatever still fails, and promotion works again."""
    guard.hold("contract failed", check="c", partitions=["p1", "p2"])
    assert guard.unhold(reason="upstream fixed, checked by hand", by="alice").status is ActionStatus.APPLIED
    assert guard.unhold(reason="again").status is ActionStatus.NO_OP
    assert guard.promote(2).status is ActionStatus.APPLIED
    assert not any(k.startswith("guardrails.hold") for k in client(guard).get_registered_model(guard.name).tags)
    assert guard.history()[-2].by == "alice"


def test_condemned_stored_batch_fails_exactly_the_versions_that_saw_it(guard: ModelGuard) -> None:
    """Condemning 11-02's stored batch fails v2 and v3 (reason names the batch), leaves v1 untouched, and moves
    the alias to v1, the highest passed version whose lineage is clean."""
    v1_before = client(guard).get_model_version(guard.name, "1").tags
    result = guard.condemn(batch("2026-11-02", "b2"), reason="PSI 0.4 on amount", check="drift", run_id="d-1")
    assert result.status is ActionStatus.APPLIED, result.message
    assert result.failed_versions == (2, 3)
    assert verdicts(guard) == {1: "passed", 2: "failed", 3: "failed"}
    assert "clean_transactions[2026-11-02]#b2" in guard.status().version(2).verdict.reason
    assert client(guard).get_model_version(guard.name, "1").tags == v1_before
    assert alias_version(guard) == 1
    assert guard.history()[-1].action is MoveAction.CONDEMN
    assert not guard.status().version(3).clean
    assert guard.condemn(batch("2026-11-02", "b2"), reason="again", check="drift").status is ActionStatus.NO_OP


def test_a_version_registered_on_a_condemned_batch_is_never_promoted(guard: ModelGuard) -> None:
    """A passed verdict does not make a version eligible when its lineage includes a condemned batch."""
    guard.condemn(batch("2026-11-01"), reason="labels were wrong", check="labels")  # the whole partition
    assert alias_version(guard) == 3  # v3 never saw 11-01
    guard.record_verdict(1, passed())  # someone vouches for v1 again by hand
    refused = guard.promote(1)
    assert refused.status is ActionStatus.REFUSED and "unclean" in refused.message


def test_a_models_own_failure_moves_the_alias_to_the_best_clean_version(guard: ModelGuard) -> None:
    """`fail_version` tags v3 failed and moves the alias to v2; failing v1 (not serving) moves nothing."""
    result = guard.fail_version(3, reason="canary: precision -4pp", check="canary", run_id="c-1")
    assert result.status is ActionStatus.APPLIED and result.move.to_version == 2
    assert alias_version(guard) == 2 and verdicts(guard)[3] == "failed"
    other = guard.fail_version(1, reason="fairness gap", check="fairness")
    assert other.status is ActionStatus.APPLIED and other.move is None and alias_version(guard) == 2
    assert guard.fail_version(1, reason="again").status is ActionStatus.NO_OP


class LateVerdictRegistry:
    """The real registry, but a concurrent `verdict failed` on the promoted version lands just as the alias moves."""

    def __init__(self, inner: MlflowModelRegistry) -> None:
        self.inner = inner

    def __getattr__(self, name: str):  # noqa: ANN204 - delegate every other protocol method
        return getattr(self.inner, name)

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self.inner.set_alias(name, alias, version)
        if version == 2:
            self.inner.set_version_tag(name, version, VERDICT_TAG, "failed")


def test_promote_reverts_when_the_version_failed_meanwhile(guard: ModelGuard) -> None:
    """A promote whose version fails between the set-alias and the re-read moves the alias back and says so."""
    guard.record_verdict(3, failed("canary"))
    racing = ModelGuard(LateVerdictRegistry(guard.registry), guard.name)  # type: ignore[arg-type]
    guard.registry.set_alias(guard.name, guard.alias, 1)  # (start from v1)
    result = racing.promote(2, reason="release v2")
    assert result.status is ActionStatus.REFUSED and "moved back v2 -> v1" in result.message
    assert alias_version(guard) == 1
    assert [e.action for e in guard.history()][-2:] == [MoveAction.PROMOTE, MoveAction.REVERT]


class LateAliasRegistry:
    """The real registry behind a link that times out on set-alias: the move lands, the client sees an error."""

    def __init__(self, inner: MlflowModelRegistry, *, lands: bool) -> None:
        self.inner = inner
        self.lands = lands

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.inner, name)

    def set_alias(self, name: str, alias: str, version: int) -> None:
        if self.lands:
            self.inner.set_alias(name, alias, version)
        raise RegistryError("set_alias", name, "ReadTimeout: read timed out")


@pytest.mark.parametrize("lands", [True, False])
def test_error_after_set_alias_reports_the_alias_observed(guard: ModelGuard, lands: bool) -> None:
    """ERROR means nothing moved, or says what did: a set-alias that landed despite the timeout is reported as
    observed on the target and recorded; one that did not is reported where the alias still is."""
    flaky = ModelGuard(LateAliasRegistry(guard.registry, lands=lands), guard.name,  # type: ignore[arg-type]
                       settle_seconds=1, sleep=lambda _: None)
    result = flaky.fail_version(3, reason="evaluation auc 0.61", check="evaluation")
    assert result.status is ActionStatus.ERROR
    assert result.observed_version == (2 if lands else 3) == alias_version(guard)
    recorded = [(e.action, e.to_version) for e in guard.history()][1:]
    assert recorded == ([(MoveAction.FAIL, 2)] if lands else [])
    assert ("observed on v2" if lands else "observed on v3") in result.message
    repaired = guard.reconcile()
    assert alias_version(guard) == 2
    assert repaired.status is (ActionStatus.NO_OP if lands else ActionStatus.APPLIED)


def test_reconcile_records_moves_it_did_not_make_and_repairs_a_failed_alias(guard: ModelGuard) -> None:
    """An alias moved by hand onto a failed version is recorded as observed, then moved off it; a second
    reconcile does nothing."""
    guard.record_verdict(1, failed("canary"))  # recorded by hand: the alias is not on v1, nothing moves
    client(guard).set_registered_model_alias(guard.name, guard.alias, "1")  # someone in the MLflow UI
    result = guard.reconcile(by="sensor")
    assert result.status is ActionStatus.APPLIED, result.message
    assert (result.observed.from_version, result.observed.to_version) == (3, 1)
    assert alias_version(guard) == 3
    assert [(e.action, e.from_version, e.to_version) for e in guard.history()][-2:] == [
        (MoveAction.OBSERVED, 3, 1), (MoveAction.RECONCILE, 1, 3)]
    assert guard.reconcile().status is ActionStatus.NO_OP


def test_reconcile_leaves_a_good_alias_alone(guard: ModelGuard) -> None:
    """An alias moved by hand onto a passed clean version is only recorded, never moved."""
    client(guard).set_registered_model_alias(guard.name, guard.alias, "2")
    result = guard.reconcile()
    assert result.status is ActionStatus.APPLIED and result.move is None
    assert alias_version(guard) == 2


def test_a_pin_follows_when_its_version_is_condemned(guard: ModelGuard) -> None:
    """A pin never holds the alias on a failed version: condemning the pinned v2's batch moves alias and pin."""
    guard.pin(3, reason="canary failed", check="canary")
    assert alias_version(guard) == 2
    guard.condemn(batch("2026-11-02"), reason="parity broke", check="parity")
    status = guard.status()
    assert status.alias_version == 1 and status.pin is not None and status.pin.version == 1


class CountingLock:
    """A lock that counts how often it is held, and can refuse (as a lock held elsewhere past its timeout)."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.entered = 0
        self.inside = False
        self.refuse = refuse

    def __enter__(self) -> None:
        if self.refuse:
            raise RegistryError("lock", "m", "another guard held the lock for longer than 0s")
        assert not self.inside
        self.entered += 1
        self.inside = True

    def __exit__(self, *exc: object) -> None:
        self.inside = False


def test_every_action_runs_under_the_lock_and_none_without_it() -> None:
    """Each guard action holds the given lock once; when the lock cannot be taken the action is ERROR and
    nothing is written."""
    from tests.models.memory import MemoryRegistry

    registry = MemoryRegistry()
    registry.create("m", 2)
    lock = CountingLock()
    guard = ModelGuard(registry, "m", lock=lock)
    for version in (1, 2):
        guard.record_verdict(version, passed())
        guard.record_lineage(version, Lineage(trained_on=(batch("2026-11-02"),)))
    assert lock.entered == 4  # the raising writers hold it too
    lock.entered = 0
    actions = [lambda: guard.promote(2), lambda: guard.hold("bad", check="c", partitions=["p"]),
               lambda: guard.release_hold("c", ["p"]), lambda: guard.fail_version(2, reason="canary"),
               lambda: guard.condemn(batch("2026-11-01"), reason="drift"), lambda: guard.reconcile(),
               lambda: guard.pin(1, reason="x"), lambda: guard.unpin(reason="y"), lambda: guard.unhold(reason="z")]
    for action in actions:
        assert action().status is not ActionStatus.ERROR
    assert lock.entered == len(actions)
    def state() -> tuple:
        model = registry.models["m"]
        return dict(model.tags), dict(model.aliases), {n: dict(t) for n, t in model.versions.items()}

    before = state()
    locked_out = ModelGuard(registry, "m", lock=CountingLock(refuse=True))
    guard.record_verdict(1, passed())
    before = state()
    result = locked_out.fail_version(1, reason="canary")
    assert result.status is ActionStatus.ERROR and "lock" in result.message
    assert state() == before


def test_a_pass_older_than_the_failure_does_not_release_the_hold() -> None:
    """`release_hold(at=...)` clears only failures recorded before the passing evaluation, as an incident does."""
    from datetime import UTC, datetime, timedelta

    from tests.models.memory import MemoryRegistry

    now = datetime(2026, 11, 4, 6, tzinfo=UTC)
    registry = MemoryRegistry()
    registry.create("m", 1)
    guard = ModelGuard(registry, "m", clock=lambda: now)
    guard.hold("contract failed", check="contract", partitions=["2026-11-04"])
    stale = guard.release_hold("contract", ["2026-11-04"], at=now - timedelta(hours=1))
    assert stale.status is ActionStatus.NO_OP and guard.status().held
    fresh = guard.release_hold("contract", ["2026-11-04"], at=(now + timedelta(hours=1)).replace(tzinfo=None))
    assert fresh.status is ActionStatus.APPLIED and not guard.status().held


def test_a_hold_remembers_when_the_failure_was_evaluated() -> None:
    """A failure evaluated at 10:00 and held at 10:05: a pass evaluated at 09:59 leaves the hold, one evaluated
    at 10:03 (before the hold was placed, after the failure) releases it."""
    from tests.models.memory import MemoryRegistry

    registry = MemoryRegistry()
    registry.create("m", 1)
    guard = ModelGuard(registry, "m", clock=lambda: datetime(2026, 11, 4, 10, 5, tzinfo=UTC))
    held = guard.hold("contract failed", check="contract", partitions=["2026-11-04"], at=at(10, 0))
    assert held.status is ActionStatus.APPLIED and held.hold is not None
    assert held.hold.at == at(10, 5)  # held since: when the guard placed it
    assert [f.at for f in guard.status().hold.failing] == [at(10, 0)]  # type: ignore[union-attr]
    assert guard.release_hold("contract", ["2026-11-04"], at=at(9, 59)).status is ActionStatus.NO_OP
    assert guard.status().held
    released = guard.release_hold("contract", ["2026-11-04"], at=at(10, 3))
    assert released.status is ActionStatus.APPLIED and not guard.status().held


def test_a_pass_between_two_failures_does_not_release_the_hold() -> None:
    """Failures evaluated at 10:00 and 10:04 (held at 10:05): a pass evaluated at 10:03 is older than the latest
    failure and does NOT clear the hold; a pass evaluated at 10:06 does."""
    from tests.models.memory import MemoryRegistry

    registry = MemoryRegistry()
    registry.create("m", 1)
    guard = ModelGuard(registry, "m", clock=lambda: datetime(2026, 11, 4, 10, 5, tzinfo=UTC))
    guard.hold("contract failed", check="contract", partitions=["2026-11-04"], at=at(10, 0), run_id="r1")
    again = guard.hold("contract failed", check="contract", partitions=["2026-11-04"], at=at(10, 4), run_id="r2")
    assert again.status is ActionStatus.NO_OP  # nothing joined the hold: no second history entry
    assert [(f.at, f.run_id) for f in guard.status().hold.failing] == [(at(10, 4), "r2")]  # type: ignore[union-attr]
    assert guard.hold("contract failed", check="contract", partitions=["2026-11-04"],
                      at=at(10, 1)).status is ActionStatus.NO_OP  # an older repeat moves nothing back
    assert [f.at for f in guard.status().hold.failing] == [at(10, 4)]  # type: ignore[union-attr]
    stale = guard.release_hold("contract", ["2026-11-04"], at=at(10, 3))
    assert stale.status is ActionStatus.NO_OP and guard.status().held
    fresh = guard.release_hold("contract", ["2026-11-04"], at=at(10, 6))
    assert fresh.status is ActionStatus.APPLIED and not guard.status().held
    assert [e.action for e in guard.history()] == [MoveAction.HOLD, MoveAction.UNHOLD]


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 4, hour, minute, tzinfo=UTC)


class UnreadableAfterSetAlias:
    """A registry whose set-alias times out and which then cannot be read at all (a frozen server)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.down = False
        self.model_lock = inner.model_lock  # type: ignore[attr-defined]
        self.call_budget_seconds = 0.0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def get_model(self, name: str) -> object:
        if self.down:
            raise RegistryError("get_model", name, "ReadTimeout: read timed out")
        return self.inner.get_model(name)  # type: ignore[attr-defined]

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self.down = True
        raise RegistryError("set_alias", name, "ReadTimeout: read timed out")


def test_a_set_alias_that_cannot_be_read_back_is_reported_unconfirmed() -> None:
    """When the read-back after a failed set-alias fails too, promote says the move is unconfirmed (not "not
    moved") and observes no version."""
    from tests.models.memory import MemoryRegistry

    registry = MemoryRegistry()
    registry.create("m", 3)
    for version in (1, 2, 3):
        ModelGuard(registry, "m").record_verdict(version, passed())
    guard = ModelGuard(UnreadableAfterSetAlias(registry), "m", settle_seconds=0.2,  # type: ignore[arg-type]
                       sleep=lambda _: None)
    result = guard.promote(3)
    assert result.status is ActionStatus.ERROR and result.observed_version is None
    assert result.message == ("alias 'champion' of 'm': set-alias to v3 unconfirmed (could not be read back); the "
                              "next reconcile records it if it landed")


def test_record_verdict_waits_for_the_lock_and_times_out(tmp_path: Path) -> None:
    """A verdict write is excluded like a promote: it waits while another guard holds the model's lock, writes
    once it is released, and raises `ModelLockTimeout` having written nothing when the wait outlasts its timeout."""
    import threading
    import time

    from guardrails.models import ModelLockTimeout
    from guardrails.models._lock import FileModelLock
    from tests.models.memory import MemoryRegistry

    registry = MemoryRegistry()
    registry.create("m", 1)
    lock = FileModelLock(tmp_path / "locks")
    taken, release = threading.Event(), threading.Event()

    def other_guard() -> None:
        with lock.acquire("m", timeout=5):
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=other_guard)
    holder.start()
    assert taken.wait(5)
    impatient = ModelGuard(registry, "m", lock=lock, lock_timeout=0.2)
    with pytest.raises(ModelLockTimeout):
        impatient.record_verdict(1, failed("canary"))
    with pytest.raises(ModelLockTimeout):
        impatient.record_lineage(1, Lineage(trained_on=(batch("2026-11-01"),)))
    assert registry.models["m"].versions[1] == {}
    patient = ModelGuard(registry, "m", lock=lock, lock_timeout=5)
    threading.Timer(0.3, release.set).start()
    started = time.monotonic()
    patient.record_verdict(1, failed("canary"))
    waited = time.monotonic() - started
    holder.join(5)
    assert waited >= 0.25
    assert registry.models["m"].versions[1][VERDICT_TAG] == "failed"


def test_a_partition_passed_as_a_bare_string_is_refused() -> None:
    """`hold(partitions="2026-11-04")` raises instead of holding one partition per character."""
    from tests.models.memory import MemoryRegistry

    registry = MemoryRegistry()
    registry.create("m", 1)
    guard = ModelGuard(registry, "m")
    with pytest.raises(TypeError, match=r"pass \['2026-11-04'\]"):
        guard.hold("bad", check="contract", partitions="2026-11-04")  # type: ignore[arg-type]
    assert not guard.status().held
