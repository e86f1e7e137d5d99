"""The model guard against a real `mlflow server` process with a Postgres backend store, over HTTP."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from guardrails.contract.model import ColumnTypeRule, Contract, LogicalType
from guardrails.models import ActionStatus, MlflowModelRegistry, ModelGuard, MoveAction, PinResult
from guardrails.outcome import CheckStatus
from tests.models.conftest import MlflowServer, failed, passed

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("mlflow_server")]

TIMEOUT_SECONDS = 2
MAX_RETRIES = 1


@pytest.fixture(scope="module")
def logged_model(mlflow_server: MlflowServer, saved_model_dir: Path) -> tuple[str, str]:
    """The tiny signed model uploaded once as an MLflow logged model: (source URI, model id)."""
    client = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    model = client.create_logged_model(experiment_id="0", name="first_column")
    client.log_model_artifacts(model.model_id, str(saved_model_dir))
    client.finalize_logged_model(model.model_id, "READY")
    return f"models:/{model.model_id}", model.model_id


def registry(server: MlflowServer) -> MlflowModelRegistry:
    return MlflowModelRegistry(server.url, timeout_seconds=TIMEOUT_SECONDS, max_retries=MAX_RETRIES)


@pytest.fixture
def server_guard(mlflow_server: MlflowServer, logged_model: tuple[str, str], model_name: str) -> ModelGuard:
    """A guard over a served model with three passed versions and the champion alias on v3."""
    source, model_id = logged_model
    client = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    client.create_registered_model(model_name)
    for _ in range(3):
        client.create_model_version(model_name, source=source, model_id=model_id)
    guard = ModelGuard(registry(mlflow_server), model_name, actor="test")
    for version in (1, 2, 3):
        guard.record_verdict(version, passed())
    assert guard.promote(3).status is ActionStatus.APPLIED
    return guard


def alias_version(server: MlflowServer, guard: ModelGuard) -> int:
    return int(MlflowClient(tracking_uri=server.url, registry_uri=server.url).get_model_version_by_alias(guard.name, guard.alias).version)


def test_pin_promote_unpin_over_http(mlflow_server: MlflowServer, server_guard: ModelGuard) -> None:
    """Over HTTP: v3 fails -> alias on v2 and pinned; promotion refused; after unpin a passed v1 can be promoted."""
    guard = server_guard
    pinned = guard.pin(3, reason="bad batch", check="transactions/contract", run_id="run-1")
    assert pinned.status is ActionStatus.APPLIED, pinned.message
    assert alias_version(mlflow_server, guard) == 2
    assert guard.pin(3, reason="bad batch").status is ActionStatus.NO_OP
    assert guard.promote(1).status is ActionStatus.REFUSED
    assert guard.unpin(reason="fixed", by="oncall").status is ActionStatus.APPLIED
    assert guard.promote(1, reason="rollback further").status is ActionStatus.APPLIED
    assert alias_version(mlflow_server, guard) == 1
    assert [(e.action, e.from_version, e.to_version) for e in guard.history()] == [
        (MoveAction.PROMOTE, None, 3),
        (MoveAction.PIN, 3, 2),
        (MoveAction.UNPIN, 2, 2),
        (MoveAction.PROMOTE, 2, 1),
    ]
    assert guard.passed_versions() == (1, 2)


def test_signature_check_reads_the_model_through_the_server(server_guard: ModelGuard) -> None:
    """The signature of a served model version is read through the server's artifact proxy and judged."""
    contract = Contract(id="features", version="1", name="features", table="features", rules=(
        ColumnTypeRule(rule_id="amount.type", column="amount", logical_type=LogicalType.NUMBER),
        ColumnTypeRule(rule_id="n.type", column="n", logical_type=LogicalType.INTEGER),
        ColumnTypeRule(rule_id="cat.type", column="cat", logical_type=LogicalType.STRING),
    ))
    outcome = server_guard.check_signature(2, contract)
    assert outcome.status is CheckStatus.PASSED, outcome.message


class RendezvousRegistry:
    """A real registry whose callers meet at a barrier after reading, so both act on the same state."""

    def __init__(self, inner: MlflowModelRegistry, barrier: threading.Barrier) -> None:
        self.inner = inner
        self.barrier = barrier
        self.met = False

    def __getattr__(self, name: str):  # noqa: ANN204 - delegate every other protocol method
        return getattr(self.inner, name)

    def search_versions(self, name, tag_equals=None):  # noqa: ANN001, ANN201
        found = self.inner.search_versions(name, tag_equals)
        if not self.met:  # only the first read meets; a retry's re-read goes straight on
            self.met = True
            self.barrier.wait(timeout=30)
        return found


def test_two_concurrent_pins_move_the_alias_once(mlflow_server: MlflowServer, server_guard: ModelGuard) -> None:
    """Two sensors pinning on the same failure at the same moment leave one pin and exactly one history move, even
    without the shared model lock (which would keep them from meeting: the pin itself is idempotent)."""
    barrier = threading.Barrier(2)
    results: list[PinResult] = []

    def sensor(run_id: str) -> None:
        meeting = RendezvousRegistry(registry(mlflow_server), barrier)
        guard = ModelGuard(meeting, server_guard.name, actor=f"sensor-{run_id}",  # type: ignore[arg-type]
                           lock=contextlib.nullcontext())
        results.append(guard.pin(3, reason="evaluation failed", check="fraud/evaluation", run_id=run_id))

    threads = [threading.Thread(target=sensor, args=(run,)) for run in ("tick-a", "tick-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2
    assert all(r.ok for r in results), [(r.status, r.message, r.error) for r in results]
    assert ActionStatus.APPLIED in {r.status for r in results}
    moves = [e for e in server_guard.history() if e.action is MoveAction.PIN]
    assert [(m.from_version, m.to_version) for m in moves] == [(3, 2)]
    assert alias_version(mlflow_server, server_guard) == 2
    assert server_guard.status().pin.version == 2


class StopServerBeforePinTag:
    """A real registry that freezes the server process (SIGSTOP) just before the guard writes the pin tag."""

    def __init__(self, inner: MlflowModelRegistry, server: MlflowServer) -> None:
        self.inner = inner
        self.server = server

    def __getattr__(self, name: str):  # noqa: ANN204 - delegate every other protocol method
        return getattr(self.inner, name)

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        self.server.signal(signal.SIGSTOP)
        self.inner.set_model_tag(name, key, value)


def test_server_stopped_mid_pin_fails_closed_in_bounded_time(
    mlflow_server: MlflowServer, server_guard: ModelGuard
) -> None:
    """A server that stops answering mid-pin yields ERROR within the timeout budget, the alias stays on v3,
    and once the server is back a retried pin completes with a single history move."""
    stopping = StopServerBeforePinTag(registry(mlflow_server), mlflow_server)
    frozen = ModelGuard(stopping, server_guard.name)  # type: ignore[arg-type]
    started = time.monotonic()
    try:
        result = frozen.pin(3, reason="bad batch", check="contract", run_id="run-9")
        elapsed = time.monotonic() - started
    finally:
        mlflow_server.signal(signal.SIGCONT)
    # Two failing calls (the pin-tag write, then the re-read of the retry), each at most (retries + 1)
    # attempts of one connect and one read timeout.
    budget = 2 * (MAX_RETRIES + 1) * 2 * TIMEOUT_SECONDS
    assert result.status is ActionStatus.ERROR
    assert "Timeout" in (result.error or "") or "timed out" in (result.error or ""), result.error
    assert "alias 'champion' was on v3" in result.message
    assert elapsed < budget + 3, (elapsed, budget)
    mlflow_server.wait_ready(timeout=60)
    assert alias_version(mlflow_server, server_guard) == 3
    retried = server_guard.pin(3, reason="bad batch", check="contract", run_id="run-9")
    assert retried.status is ActionStatus.APPLIED, retried.message
    assert alias_version(mlflow_server, server_guard) == 2
    assert [(e.from_version, e.to_version) for e in server_guard.history() if e.action is MoveAction.PIN] == [(3, 2)]


def test_failed_verdicts_are_searchable_on_the_server(server_guard: ModelGuard) -> None:
    """Verdict tags written through the server are found by the server's tag search."""
    server_guard.record_verdict(1, failed("auc 0.6"))
    assert server_guard.passed_versions() == (2, 3)
