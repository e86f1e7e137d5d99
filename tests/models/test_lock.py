"""The per-model lock guards share: file locks beside a local store, PostgreSQL advisory locks, chosen per store."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from pathlib import Path

import pytest

from guardrails.models import RegistryError
from guardrails.models._lock import (
    FileModelLock,
    ModelLock,
    ModelLockTimeout,
    PostgresModelLock,
    advisory_key,
    lock_for,
    lock_for_store,
)

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def _hold(lock: ModelLock, name: str, entered: threading.Event, release: threading.Event) -> None:
    with lock.acquire(name, timeout=5):
        entered.set()
        release.wait(10)


def _exclusion(lock: ModelLock, other: ModelLock) -> None:
    """`other` times out on a model `lock` holds in another thread, and gets it once released; other models pass."""
    name = f"fraud-{uuid.uuid4().hex[:6]}"
    entered, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(lock, name, entered, release))
    holder.start()
    try:
        assert entered.wait(10)
        started = time.monotonic()
        with pytest.raises(ModelLockTimeout) as caught:
            with other.acquire(name, timeout=0.3):
                pass
        assert 0.25 <= time.monotonic() - started < 3
        assert caught.value.model == name and caught.value.operation == "lock"
        assert isinstance(caught.value, RegistryError)
        with other.acquire(f"{name}-other", timeout=0.3):
            pass
    finally:
        release.set()
        holder.join(10)
    with other.acquire(name, timeout=2):
        pass


def test_file_lock_excludes_other_threads_and_is_reentrant(tmp_path: Path) -> None:
    """A file lock excludes another thread on the same model, not on another model, and re-enters in its thread."""
    lock = FileModelLock(tmp_path / "locks")
    _exclusion(lock, FileModelLock(tmp_path / "locks"))
    name = f"m-{uuid.uuid4().hex[:6]}"
    with lock.acquire(name, timeout=1), FileModelLock(tmp_path / "locks").acquire(name, timeout=1):
        pass


@pytest.mark.postgres
def test_postgres_lock_excludes_other_sessions_and_is_reentrant() -> None:
    """An advisory lock excludes another session on the same model and re-enters in its own thread."""
    lock = PostgresModelLock(PG_ADMIN_DSN)
    _exclusion(lock, PostgresModelLock(PG_ADMIN_DSN))
    name = f"m-{uuid.uuid4().hex[:6]}"  # advisory locks are per database: other runs must not share the key
    with lock.acquire(name, timeout=1), lock.acquire(name, timeout=1):
        pass


def test_postgres_lock_unreachable_fails_closed() -> None:
    """A lock database that does not answer is a RegistryError naming the lock, not a hang or a pass."""
    with pytest.raises(RegistryError) as caught:
        with PostgresModelLock("postgresql://postgres@127.0.0.1:1/none").acquire("m", timeout=1):
            pytest.fail("entered without the lock")
    assert caught.value.operation == "lock" and "127.0.0.1:1/none" in caught.value.cause


def _count_in_lock(kind: str, where: str, name: str, counter: str, rounds: int) -> None:
    lock = PostgresModelLock(where) if kind == "pg" else FileModelLock(where)
    for _ in range(rounds):
        with lock.acquire(name, timeout=20):
            # A read-modify-write that loses updates unless the processes exclude each other.
            value = int(Path(counter).read_text())
            time.sleep(0.002)
            Path(counter).write_text(str(value + 1))


@pytest.mark.parametrize("kind", ["file", pytest.param("pg", marks=pytest.mark.postgres)])
def test_lock_excludes_processes(tmp_path: Path, kind: str) -> None:
    """Four processes incrementing one file under the lock lose no update (file lock and advisory lock)."""
    counter = tmp_path / "counter"
    counter.write_text("0")
    where = PG_ADMIN_DSN if kind == "pg" else str(tmp_path / "locks")
    # fork: the children need nothing but the lock, and a spawned child would re-import the package (seconds).
    context = multiprocessing.get_context("fork")
    name = f"model-{uuid.uuid4().hex[:6]}"  # one model for all four processes, unique to this run
    processes = [
        context.Process(target=_count_in_lock, args=(kind, where, name, str(counter), 15)) for _ in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    assert counter.read_text() == "60"


def test_lock_for_store_picks_the_lock_by_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sqlite and file stores lock beside the store, postgresql stores and lock URLs by advisory lock, http in a dir."""
    monkeypatch.delenv("GUARDRAILS_MODEL_LOCK_URL", raising=False)
    monkeypatch.setenv("GUARDRAILS_MODEL_LOCK_DIR", str(tmp_path / "dir"))
    sqlite = lock_for_store(f"sqlite:///{tmp_path}/mlflow.db")
    assert isinstance(sqlite, FileModelLock) and sqlite.directory == tmp_path / "mlflow.db.guardrails-locks"
    assert isinstance(lock_for_store(f"file://{tmp_path}/mlruns"), FileModelLock)
    assert isinstance(lock_for_store("postgresql+psycopg2://u@db:5432/mlflow"), PostgresModelLock)
    http = lock_for_store("http://mlflow:5000")
    assert isinstance(http, FileModelLock) and http.directory.parent == tmp_path / "dir"
    assert isinstance(lock_for_store("http://mlflow:5000", lock_url="postgresql://u@db/m"), PostgresModelLock)
    monkeypatch.setenv("GUARDRAILS_MODEL_LOCK_URL", "postgres://u@db/m")
    assert isinstance(lock_for_store("http://mlflow:5000"), PostgresModelLock)
    assert lock_for(object()) is not None
    assert advisory_key("a") != advisory_key("b") and -(2**63) <= advisory_key("a") < 2**63


def test_guard_locked_out_moves_nothing_and_waits_its_turn(sqlite_uri: str, saved_model_dir: Path,
                                                           model_name: str) -> None:
    """With another holder on a SQLite store's model lock, promote ends ERROR after its lock timeout with the
    alias unmoved; once the holder lets go, the same promote applies."""
    from guardrails.models import ActionStatus, MlflowModelRegistry, ModelGuard
    from tests.models.conftest import passed, register_versions

    register_versions(sqlite_uri, model_name, saved_model_dir, 2)
    registry = MlflowModelRegistry(sqlite_uri)
    guard = ModelGuard(registry, model_name, lock_timeout=0.3)
    for version in (1, 2):
        guard.record_verdict(version, passed())
    assert guard.promote(1).status is ActionStatus.APPLIED
    holder = lock_for_store(sqlite_uri)  # what any other process on this host would build
    assert isinstance(holder, FileModelLock) and holder.directory == registry.model_lock.directory
    entered, release = threading.Event(), threading.Event()
    thread = threading.Thread(target=_hold, args=(holder, model_name, entered, release))
    thread.start()
    try:
        assert entered.wait(10)
        locked_out = guard.promote(2)
        assert locked_out.status is ActionStatus.ERROR and "lock" in locked_out.message, locked_out.message
        assert guard.status().alias_version == 1
    finally:
        release.set()
        thread.join(10)
    assert guard.promote(2).status is ActionStatus.APPLIED
    assert guard.status().alias_version == 2
