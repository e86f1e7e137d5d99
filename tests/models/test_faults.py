"""The model guard under concurrency and faults, against a real `mlflow server` on PostgreSQL.

Three families, each ending with the same question: does the alias rest on a passed version, and does the
alias history account for every move MLflow shows?
(a) promote, ``verdict failed`` and pin of one model from several processes at once, over several rounds;
(b) a server that freezes mid-call (a held response, a request that never arrives);
(c) a set-alias that reaches the server after the client gave up on it.
Faults are injected by `tests.models.fault_proxy.FaultProxy`, a loopback HTTP proxy in front of the server.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from mlflow import MlflowClient

from guardrails.models import ActionStatus, MlflowModelRegistry, ModelGuard, MoveAction
from guardrails.models import BatchRef, Lineage
from guardrails.models._tags import lineage_tags, verdict_tags
from tests.models.conftest import MlflowServer, passed
from tests.models.fault_proxy import FaultProxy

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("mlflow_server")]

ALIAS_PATH = "/registered-models/alias"
MODEL_GET_PATH = "/registered-models/get"
# Per request, through the proxy. MLflow's smallest is 1 s, but on a loaded 2-core machine an ordinary search can
# take longer, and the action would then fail before reaching the fault.
TIMEOUT_SECONDS = 2
SETTLE_SECONDS = 1.0
ROUNDS = int(os.environ.get("GUARDRAILS_FAULT_ROUNDS", "6"))  # more for a soak run
BATCH_V3 = BatchRef(asset="clean_transactions", partition="2026-11-03", batch_id="b-3")  # only v3 saw it


# --- one vocabulary over today's guard and the lineage-aware one ----------------------------------------------


def fail_version(guard: ModelGuard, version: int, run_id: str) -> object:
    """``verdict failed`` on `version`: the model's own check failed; the alias must leave it."""
    if hasattr(guard, "fail_version"):
        return guard.fail_version(version, reason="evaluation failed", check="fraud/evaluation", run_id=run_id)
    return guard.pin(version, reason="evaluation failed", check="fraud/evaluation", run_id=run_id)


def pin_version(guard: ModelGuard, version: int, run_id: str) -> object:
    """A second sensor reacting to the same failure (today: pin after a failure)."""
    return guard.pin(version, reason="evaluation failed", check="fraud/evaluation", run_id=run_id)


def reconcile(guard: ModelGuard) -> object | None:
    """The sensor's reconcile tick, where the guard has one."""
    return guard.reconcile() if hasattr(guard, "reconcile") else None


def observed_version(result: object) -> int | None:
    """The alias version an ERROR result says it observed (None if it says none)."""
    return getattr(result, "observed_version", None)


def guard_for(url: str, name: str, actor: str, *, lock_url: str, timeout: int = 5, retries: int = 1) -> ModelGuard:
    """A guard as a deployment would build it: through `url` (the server or the proxy), locking on the
    server's own PostgreSQL database (the lock every host reaches)."""
    registry = MlflowModelRegistry(url, timeout_seconds=timeout, max_retries=retries, lock_url=lock_url)
    try:
        return ModelGuard(registry, name, actor=actor, settle_seconds=SETTLE_SECONDS)  # type: ignore[call-arg]
    except TypeError:  # today's guard (main), measured for the report: no settle window
        return ModelGuard(registry, name, actor=actor)


def lock_url(server: MlflowServer) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{server.database}"


# --- the model under test --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source(mlflow_server: MlflowServer) -> tuple[str, str]:
    """One logged model on the server, the source of every version: (source URI, model id)."""
    client = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    model = client.create_logged_model(experiment_id="0", name="fault_suite")
    client.finalize_logged_model(model.model_id, "READY")
    return f"models:/{model.model_id}", model.model_id


def make_model(server: MlflowServer, source: tuple[str, str], name: str) -> None:
    """`name` with three passed versions and the champion on v2; v3 is the candidate the faults fight over, and
    the only one whose lineage includes `BATCH_V3`."""
    client = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
    client.create_registered_model(name)
    # Verdict and lineage as tags of the new version: one request per version instead of a dozen.
    for version in (1, 2, 3):
        batch = BATCH_V3 if version == 3 else BatchRef(asset="clean_transactions", partition=f"2026-11-0{version}")
        tags = dict(verdict_tags(passed())) | dict(lineage_tags(Lineage(trained_on=(batch,))))
        client.create_model_version(name, source=source[0], model_id=source[1], tags=tags, await_creation_for=0)
    assert guard_for(server.url, name, "setup", lock_url=lock_url(server)).promote(2).status is ActionStatus.APPLIED


def actual_alias(server: MlflowServer, name: str) -> int | None:
    """What MLflow itself says (no guard involved)."""
    aliases = MlflowClient(tracking_uri=server.url, registry_uri=server.url).get_registered_model(name).aliases
    return int(aliases["champion"]) if "champion" in aliases else None


@dataclass(frozen=True)
class Verdict:
    """What the registry shows after a round: where the alias is, whether that version passed, what the history
    says, and every way the two disagree."""

    alias: int | None
    alias_passed: bool
    history_ends_on: int | None
    problems: tuple[str, ...]


def judge(server: MlflowServer, name: str) -> Verdict:
    """Compare MLflow's own state with the guard's verdicts and history."""
    guard = guard_for(server.url, name, "judge", lock_url=lock_url(server))
    status = guard.status()
    alias = actual_alias(server, name)
    version = status.version(alias) if hasattr(status, "version") and alias is not None else next(
        (v for v in status.versions if v.version == alias), None)
    alias_passed = bool(version is not None and version.verdict is not None and version.verdict.passed)
    clean = getattr(version, "clean", True) if version is not None else True
    moves = [e for e in guard.history() if e.to_version is not None]
    ends_on = moves[-1].to_version if moves else None
    problems = []
    if not alias_passed or not clean:
        problems.append(f"alias on v{alias}, which did not pass (or is unclean)")
    if ends_on != alias:
        problems.append(f"history ends on v{ends_on} but MLflow has the alias on v{alias}")
    for before, after in zip(moves, moves[1:]):
        if after.from_version != before.to_version:
            problems.append(f"unrecorded move: history has v{before.to_version} then {after.action} from "
                            f"v{after.from_version}")
    return Verdict(alias=alias, alias_passed=alias_passed, history_ends_on=ends_on, problems=tuple(problems))


# --- (a) several processes on one model ------------------------------------------------------------------------


def _worker(role: str, tasks: multiprocessing.Queue, results: multiprocessing.Queue,
            barrier: multiprocessing.synchronize.Barrier) -> None:  # type: ignore[name-defined]
    """One process of the race. Even rounds: promote v3 / fail v3 / pin after v3. Odd rounds: promote v3 /
    condemn the batch only v3 saw / reconcile (a sensor tick)."""
    rng = random.Random(role)
    while (task := tasks.get()) is not None:
        url, lock, name, round_no = task
        guard = guard_for(url, name, role, lock_url=lock)
        guard.registry.get_model(name)  # warm the connection so the race starts at the barrier
        barrier.wait(60)
        time.sleep(rng.uniform(0, 0.04))  # vary the interleaving from round to round
        try:
            if role == "promote":
                action, result = "promote", guard.promote(3, reason="candidate passed", run_id=f"{name}-promote")
            elif role == "fail" and round_no % 2 == 0:
                action, result = "fail", fail_version(guard, 3, f"{name}-fail")
            elif role == "fail":
                action, result = "condemn", guard.condemn(BATCH_V3, reason="labels contradict the batch",
                                                          check="labels", run_id=f"{name}-condemn")
            elif round_no % 2 == 0:
                action, result = "pin", pin_version(guard, 3, f"{name}-pin")
            else:
                action, result = "reconcile", reconcile(guard)
            results.put((action, str(getattr(result, "status", "?")), getattr(result, "message", "")))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            results.put((role, "raised", f"{type(exc).__name__}: {exc}"))  # noqa: B023


@pytest.fixture(scope="session")
def workers() -> Iterator[tuple[dict[str, multiprocessing.Queue], multiprocessing.Queue]]:
    """Three long-lived processes (promote, fail, pin), each importing MLflow once and then racing per round.

    Session-scoped and independent of the server, so their start overlaps the server's (tens of seconds).
    """
    context = multiprocessing.get_context("spawn")
    roles = ("promote", "fail", "pin")
    barrier = context.Barrier(len(roles))
    results = context.Queue()
    tasks = {role: context.Queue() for role in roles}
    processes = [context.Process(target=_worker, args=(role, tasks[role], results, barrier),
                                 daemon=True) for role in roles]
    for process in processes:
        process.start()
    yield tasks, results
    for queue in tasks.values():
        queue.put(None)
    for process in processes:
        process.join(1)
        if process.is_alive():
            process.kill()


def test_concurrent_promote_fail_pin_from_processes(
    workers, mlflow_server: MlflowServer, source: tuple[str, str], request: pytest.FixtureRequest
) -> None:
    """Three processes race on one model for several rounds (promote v3 against fail v3 and a pin, or against condemning
    the batch v3 saw and a reconcile tick): the alias ends on a passed clean version every round, and the
    history ends where MLflow has the alias, with no unrecorded move."""
    tasks, results = workers
    bad_rounds: list[tuple[str, Verdict, list]] = []
    on_failed = 0
    seen: Counter[tuple[str, str]] = Counter()
    for round_no in range(ROUNDS):
        name = f"faults-race-{round_no}-{time.time_ns() % 10**9}"
        make_model(mlflow_server, source, name)
        for queue in tasks.values():
            queue.put((mlflow_server.url, lock_url(mlflow_server), name, round_no))
        outcomes = [results.get(timeout=90) for _ in tasks]
        assert not [o for o in outcomes if o[1] == "raised"], outcomes
        seen.update((role, status) for role, status, _ in outcomes)
        verdict = judge(mlflow_server, name)
        on_failed += not verdict.alias_passed or verdict.alias == 3
        if verdict.problems:
            bad_rounds.append((name, verdict, outcomes))
    request.node.user_properties.append(("race_rounds", ROUNDS))
    request.node.user_properties.append(("race_alias_on_failed", on_failed))
    print(f"\nrace: {ROUNDS} rounds, alias on a failed version in {on_failed}, bad rounds {len(bad_rounds)}; "
          f"outcomes {dict(seen)}")
    assert not bad_rounds, "\n".join(f"{n}: {v.problems} {o}" for n, v, o in bad_rounds)


# --- (b) a server frozen mid-call ------------------------------------------------------------------------------


@pytest.fixture
def proxy(mlflow_server: MlflowServer) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the session's server, stopped (and every held request let go) after."""
    proxy = FaultProxy(mlflow_server.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def model(mlflow_server: MlflowServer, source: tuple[str, str], model_name: str) -> str:
    """A fresh model: v1, v2, v3 passed, champion on v2."""
    make_model(mlflow_server, source, model_name)
    return model_name


def _budget(guard: ModelGuard) -> float:
    """The longest an action may take: a few calls' budgets plus the settle window, with scheduling slack."""
    return 3 * guard.registry.call_budget_seconds + SETTLE_SECONDS + 3


def test_response_held_after_the_alias_moved_is_reported_as_moved(
    mlflow_server: MlflowServer, proxy: FaultProxy, model: str
) -> None:
    """The server applies promote's set-alias but its answer never comes: the guard ends ERROR in bounded time
    and reports the alias it actually observed (v3), and the history agrees with MLflow afterwards."""
    guard = guard_for(proxy.url, model, "sensor", lock_url=lock_url(mlflow_server), timeout=TIMEOUT_SECONDS,
                      retries=0)
    proxy.arm("POST", ALIAS_PATH, "hold_response", seconds=30)
    started = time.monotonic()
    result = guard.promote(3, reason="candidate passed")
    elapsed = time.monotonic() - started
    proxy.release()
    assert proxy.faulted(), (result.message, result.error)
    assert result.status in (ActionStatus.ERROR, ActionStatus.APPLIED), result.message
    assert elapsed < _budget(guard), elapsed
    assert actual_alias(mlflow_server, model) == 3
    if result.status is ActionStatus.ERROR:
        # ERROR must say what moved: it was observed on v3, not "not moved".
        assert observed_version(result) == 3, (result.message, result.error)
        assert "not moved" not in result.message, result.message
    reconcile(guard_for(mlflow_server.url, model, "tick", lock_url=lock_url(mlflow_server)))
    assert judge(mlflow_server, model).problems == ()


def test_request_that_never_arrives_moves_nothing_and_says_so(
    mlflow_server: MlflowServer, proxy: FaultProxy, model: str
) -> None:
    """v2 fails while the server is unreachable for set-alias: ERROR in bounded time, alias observed on v2 (the
    failed version) and reported so; the next reconcile tick moves it to v1 and records the move."""
    guard = guard_for(proxy.url, model, "sensor", lock_url=lock_url(mlflow_server), timeout=TIMEOUT_SECONDS,
                      retries=0)
    proxy.arm("POST", ALIAS_PATH, "drop", seconds=30, count=5)
    started = time.monotonic()
    result = fail_version(guard, 2, "run-drop")
    elapsed = time.monotonic() - started
    proxy.release()
    assert proxy.faulted(), (result.message, result.error)
    assert elapsed < _budget(guard), elapsed
    assert result.status is ActionStatus.ERROR, result.message
    assert actual_alias(mlflow_server, model) == 2
    assert observed_version(result) == 2, (result.message, result.error)
    reconcile(guard_for(mlflow_server.url, model, "tick", lock_url=lock_url(mlflow_server)))
    after = judge(mlflow_server, model)
    assert after.alias in (1, 3) and after.problems == (), after


@pytest.mark.parametrize("passing_reads", [pytest.param(2, id="history-write"), pytest.param(3, id="re-read")])
def test_registry_failing_after_promote_moved_reports_the_move(
    mlflow_server: MlflowServer, proxy: FaultProxy, model: str, passing_reads: int
) -> None:
    """Promote v3 sets the alias, then the registry stops answering (at the history write, or at the re-read):
    the ERROR says the alias is on v3 (it is), never "not moved", and the history agrees with MLflow after the
    next reconcile."""
    guard = guard_for(proxy.url, model, "sensor", lock_url=lock_url(mlflow_server), timeout=TIMEOUT_SECONDS,
                      retries=0)
    # Model lookups before the fault: the guard's first read, MLflow's own lookup inside
    # set_registered_model_alias, and (for the re-read) the one inside set_registered_model_tag.
    proxy.arm("GET", MODEL_GET_PATH, "drop", seconds=30, count=10, skip=passing_reads)
    result = guard.promote(3, reason="candidate passed")
    proxy.release()
    assert proxy.faulted(), (result.message, result.error, [(d.method, d.path[:60]) for d in proxy.log])
    assert actual_alias(mlflow_server, model) == 3
    assert result.status in (ActionStatus.ERROR, ActionStatus.APPLIED), result.message
    if result.status is ActionStatus.ERROR:
        assert observed_version(result) == 3, (result.message, result.error)
        assert "not moved" not in result.message, result.message
    reconcile(guard_for(mlflow_server.url, model, "tick", lock_url=lock_url(mlflow_server)))
    assert judge(mlflow_server, model).problems == ()


def test_server_stopped_with_the_set_alias_in_its_queue(
    mlflow_server: MlflowServer, proxy: FaultProxy, model: str
) -> None:
    """The server is frozen (SIGSTOP) as promote's set-alias reaches it: ERROR within the budget, saying the
    move is unconfirmed (the alias could not be read back) rather than "not moved"; once the server resumes and applies the queued
    request, the next reconcile records the move and the history agrees with MLflow."""
    guard = guard_for(proxy.url, model, "sensor", lock_url=lock_url(mlflow_server), timeout=TIMEOUT_SECONDS,
                      retries=0)
    proxy.arm("POST", ALIAS_PATH, "pass", before=lambda: mlflow_server.signal(signal.SIGSTOP))
    started = time.monotonic()
    try:
        result = guard.promote(3, reason="candidate passed")
        elapsed = time.monotonic() - started
    finally:
        mlflow_server.signal(signal.SIGCONT)
    assert proxy.faulted(), (result.message, result.error)
    assert result.status is ActionStatus.ERROR, result.message
    assert elapsed < _budget(guard), elapsed
    assert observed_version(result) is None, result.message
    assert "set-alias to v3 unconfirmed (could not be read back)" in result.message, result.message
    assert "not moved" not in result.message, result.message
    mlflow_server.wait_ready(timeout=60)
    queued = proxy.deliveries("POST", ALIAS_PATH)
    assert queued and queued[0].done.wait(30)
    assert actual_alias(mlflow_server, model) == 3  # the frozen server applied it once resumed
    reconcile(guard_for(mlflow_server.url, model, "tick", lock_url=lock_url(mlflow_server)))
    assert judge(mlflow_server, model).problems == ()


def test_a_timed_out_set_alias_is_sent_once(mlflow_server: MlflowServer, proxy: FaultProxy, model: str) -> None:
    """Reads are retried, writes are not: a set-alias whose answer never comes reaches the server exactly once
    (a retried copy could land later still), and the guard reads the alias back instead."""
    registry = MlflowModelRegistry(proxy.url, timeout_seconds=TIMEOUT_SECONDS, max_retries=1,
                                   lock_url=lock_url(mlflow_server))
    guard = ModelGuard(registry, model, actor="sensor", settle_seconds=SETTLE_SECONDS)
    proxy.arm("POST", ALIAS_PATH, "drop", seconds=30, count=5)
    result = guard.promote(3, reason="candidate passed")
    proxy.release()
    assert result.status is ActionStatus.ERROR, result.message
    assert len(proxy.deliveries("POST", ALIAS_PATH)) == 1
    assert observed_version(result) == 2 == actual_alias(mlflow_server, model)


# --- (c) a set-alias delivered late ----------------------------------------------------------------------------


def test_late_set_alias_onto_a_version_failed_meanwhile_is_repaired_and_recorded(
    mlflow_server: MlflowServer, proxy: FaultProxy, model: str
) -> None:
    """Promote v3's set-alias reaches the server after the guard gave up, and after v3 failed: the next
    reconcile finds the alias on failed v3, records that move as observed and moves it back to v2."""
    sensor = guard_for(proxy.url, model, "promoter", lock_url=lock_url(mlflow_server), timeout=TIMEOUT_SECONDS,
                       retries=0)
    proxy.arm("POST", ALIAS_PATH, "delay", seconds=60)  # until released below
    promoted = sensor.promote(3, reason="candidate passed")
    assert proxy.faulted(), (promoted.message, promoted.error)
    assert promoted.status is ActionStatus.ERROR, promoted.message
    assert observed_version(promoted) == 2 == actual_alias(mlflow_server, model)
    evaluator = guard_for(mlflow_server.url, model, "evaluator", lock_url=lock_url(mlflow_server))
    failing = fail_version(evaluator, 3, "run-late")
    assert failing.status is not ActionStatus.ERROR, failing.message
    proxy.release()  # the stale promote's set-alias reaches the server now
    late = proxy.deliveries("POST", ALIAS_PATH)
    assert late and late[0].done.wait(30) and late[0].delivered is not None
    assert actual_alias(mlflow_server, model) == 3  # the stale promote landed on a failed version
    reconcile(guard_for(mlflow_server.url, model, "tick", lock_url=lock_url(mlflow_server)))
    after = judge(mlflow_server, model)
    assert after.alias == 2 and after.problems == (), after
    history = guard_for(mlflow_server.url, model, "judge", lock_url=lock_url(mlflow_server)).history()
    assert any(e.to_version == 3 and e.action is getattr(MoveAction, "OBSERVED", None) for e in history), history


def test_late_set_alias_onto_a_good_version_is_recorded_as_observed(
    mlflow_server: MlflowServer, proxy: FaultProxy, model: str
) -> None:
    """v2 fails and the guard's set-alias to v3 arrives only after the guard reported ERROR (alias observed on
    v2): once it lands, the next reconcile records the move to v3 as observed and leaves the alias there."""
    guard = guard_for(proxy.url, model, "sensor", lock_url=lock_url(mlflow_server), timeout=TIMEOUT_SECONDS,
                      retries=0)
    proxy.arm("POST", ALIAS_PATH, "delay", seconds=60)
    result = fail_version(guard, 2, "run-late-good")
    assert proxy.faulted(), (result.message, result.error)
    assert result.status is ActionStatus.ERROR and observed_version(result) == 2, result.message
    proxy.release()
    late = proxy.deliveries("POST", ALIAS_PATH)
    assert late and late[0].done.wait(30) and actual_alias(mlflow_server, model) == 3
    tick = guard_for(mlflow_server.url, model, "tick", lock_url=lock_url(mlflow_server))
    reconcile(tick)
    after = judge(mlflow_server, model)
    assert after.alias == 3 and after.problems == (), after
    last = tick.history()[-1]
    assert (last.action, last.from_version, last.to_version) == (MoveAction.OBSERVED, 2, 3)
