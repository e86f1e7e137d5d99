"""Crashes and races: a half-written batch is never visible, and a release publishes exactly once."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem

from guardrails.contract import Contract
from guardrails.quarantine import QuarantineError, QuarantineState, QuarantineStore, ReleaseStatus, guard_batch

CRASH_EXIT = 86


class _DyingWriter:
    """A writable file that writes half of what it is given, then dies as `die` says (raise, or exit the process)."""

    def __init__(self, handle: Any, die: Callable[[], None]) -> None:
        self.handle = handle
        self.die = die

    def write(self, data: bytes) -> int:
        self.handle.write(bytes(data)[: len(data) // 2])
        self.handle.flush()
        self.die()
        raise AssertionError("die() must not return")

    def __enter__(self) -> _DyingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def _disk_full() -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


class FullDiskMemoryFileSystem(MemoryFileSystem):
    """The memory filesystem (same shared store), except that writing a file named like `fail_on` runs out of space."""

    def __init__(self, fail_on: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fail_on = fail_on

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        handle = super()._open(path, mode, **kwargs)
        if "w" in mode and self.fail_on in path.rsplit("/", 1)[-1]:
            return _DyingWriter(handle, _disk_full)
        return handle


class DyingLocalFileSystem(LocalFileSystem):
    """The local filesystem, except that the process is killed half way through writing a file named like `fail_on`."""

    def __init__(self, fail_on: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fail_on = fail_on

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        handle = super()._open(path, mode, **kwargs)
        if "w" in mode and self.fail_on in path.rsplit("/", 1)[-1]:
            return _DyingWriter(handle, lambda: os._exit(CRASH_EXIT))  # no cleanup, no finally: a hard crash
        return handle


def _batch() -> pa.Table:
    return pa.table({"id": ["t0", "t1", "t2"], "amount": [1.0, -2.0, -3.0]})


@pytest.mark.parametrize("fail_on", ["data-", "manifest.json"], ids=["during-data", "during-manifest"])
def test_failed_write_leaves_no_batch_visible(amount_contract: Callable[..., Contract], fail_on: str) -> None:
    """A write failing half way (disk full) raises QuarantineError, lists nothing, and a retry keeps one batch."""
    root = f"/quarantine-{uuid.uuid4().hex}"
    broken = QuarantineStore(root, filesystem=FullDiskMemoryFileSystem(fail_on))
    with pytest.raises(QuarantineError, match="No space left") as raised:
        guard_batch(_batch(), amount_contract(), broken)
    healthy = QuarantineStore(f"memory://{root}")
    assert healthy.list() == [] and broken.list() == []
    assert raised.value.batch_id is not None and raised.value.batch_id.startswith("amounts-")
    retried = guard_batch(_batch(), amount_contract(), healthy)
    assert retried.batch_id == raised.value.batch_id
    assert [m.batch_id for m in healthy.list()] == [retried.batch_id]
    assert healthy.read(retried.batch_id).equals(_batch())


@pytest.mark.parametrize("fail_on", ["data-", "manifest.json"], ids=["during-data", "during-manifest"])
def test_process_killed_mid_write_leaves_no_batch_visible(
    amount_contract: Callable[..., Contract], tmp_path: Path, fail_on: str
) -> None:
    """A process killed half way through a put leaves debris but no visible batch, and a retry completes it."""
    root = tmp_path / "quarantine"
    outcome = guard_batch(_batch(), amount_contract(), QuarantineStore(tmp_path / "scratch")).outcome
    pid = os.fork()
    if pid == 0:  # the child: put through a filesystem that kills it mid-write; never return into pytest
        try:
            QuarantineStore(str(root), filesystem=DyingLocalFileSystem(fail_on)).put(_batch(), outcome, batch_id="tx-1")
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == CRASH_EXIT
    debris = [p.name for p in root.rglob("*") if p.is_file()]
    assert any(name.endswith(".tmp") for name in debris)  # the crash really happened half way through a file
    store = QuarantineStore(root)
    assert store.list() == []
    with pytest.raises(QuarantineError, match="no such batch"):
        store.show("tx-1")
    manifest = store.put(_batch(), outcome, batch_id="tx-1")
    assert [m.batch_id for m in store.list()] == ["tx-1"] and manifest.batch_id == "tx-1"
    assert store.read("tx-1").equals(_batch())


def test_concurrent_releases_in_threads_publish_exactly_once(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """Six threads releasing one batch at once: publish runs once, and exactly one call reports released."""
    batch_id = guard_batch(_batch(), amount_contract(), store).batch_id
    relaxed = amount_contract(minimum=-10, version="2")
    calls: list[int] = []
    start = threading.Barrier(6)

    def publish(table: pa.Table) -> None:
        calls.append(threading.get_ident())
        time.sleep(0.2)  # hold the claim while the others arrive

    def release() -> ReleaseStatus:
        start.wait()
        return store.release(batch_id, relaxed, publish=publish).status

    with ThreadPoolExecutor(6) as pool:
        statuses = Counter(pool.map(lambda _: release(), range(6)))
    assert len(calls) == 1
    assert statuses[ReleaseStatus.RELEASED] == 1
    assert set(statuses) <= {ReleaseStatus.RELEASED, ReleaseStatus.ALREADY_RELEASED, ReleaseStatus.CLAIMED}
    history = [step.state for step in store.show(batch_id).history]
    assert history == [QuarantineState.QUARANTINED, QuarantineState.RELEASED]


RELEASER = textwrap.dedent(
    """
    import os, sys, time
    from guardrails.contract import Contract, NotNullRule, RangeRule
    import pyarrow as pa
    from guardrails.quarantine import QuarantineStore
    from guardrails.validation import validate

    root, batch_id, log, ready, go = sys.argv[1:6]
    contract = Contract(id="urn:test:amounts", version="2", name="amounts", table="amounts", rules=(
        NotNullRule(rule_id="amount.not_null", column="amount"),
        RangeRule(rule_id="amount.range", column="amount", minimum=-10),
    ))
    def publish(table):
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, f"{os.getpid()}\\n".encode())
        os.close(fd)
        time.sleep(0.3)
    store = QuarantineStore(root)
    store.show(batch_id)  # warm up, so both sides start from the release itself, not from imports
    validate(contract, pa.table({"amount": [1.0]}))
    open(ready, "w").close()
    while not os.path.exists(go):
        time.sleep(0.005)
    print(store.release(batch_id, contract, publish=publish).status.value)
    """
)


def _append_pid(log: Path) -> Callable[[pa.Table], None]:
    def publish(table: pa.Table) -> None:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.close(fd)
        time.sleep(0.3)

    return publish


@pytest.mark.slow
def test_concurrent_releases_in_two_processes_publish_exactly_once(
    store: QuarantineStore, amount_contract: Callable[..., Contract], tmp_path: Path
) -> None:
    """This process and another one releasing one batch at the same moment: exactly one of them publishes."""
    batch_id = guard_batch(_batch(), amount_contract(), store).batch_id
    log, ready, go = tmp_path / "published.log", tmp_path / "ready", tmp_path / "go"
    worker = subprocess.Popen(
        [sys.executable, "-c", RELEASER, store.root, batch_id, str(log), str(ready), str(go)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not ready.exists() and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    here = store.release(batch_id, amount_contract(minimum=-10, version="2"), publish=_append_pid(log)).status.value
    there, errors = worker.communicate(timeout=120)
    assert worker.returncode == 0, errors
    assert len(log.read_text().splitlines()) == 1
    assert Counter([here, there.strip()])["released"] == 1
    assert store.show(batch_id).state is QuarantineState.RELEASED


class UndeletableMemoryFileSystem(MemoryFileSystem):
    """The memory filesystem (same shared store), except that deleting a data file fails as on a read-only mount."""

    def rm_file(self, path: str) -> None:
        if path.rsplit("/", 1)[-1].startswith("data-"):
            raise PermissionError(errno.EROFS, "Read-only file system", path)
        super().rm_file(path)


def test_purge_interrupted_after_its_tombstone_is_finished_by_purging_again(
    amount_contract: Callable[..., Contract],
) -> None:
    """If deleting the data fails after the tombstone is written, the batch reads purged and a re-purge deletes it."""
    root = f"/quarantine-{uuid.uuid4().hex}"
    store = QuarantineStore(f"memory://{root}")
    guarded = guard_batch(_batch(), amount_contract(), store)
    data_path = f"{store.batch_path(guarded.batch_id)}/{guarded.manifest.data_file}"  # type: ignore[union-attr]
    with pytest.raises(PermissionError):
        QuarantineStore(root, filesystem=UndeletableMemoryFileSystem()).purge(guarded.batch_id)
    assert store.show(guarded.batch_id).state is QuarantineState.PURGED and store.fs.exists(data_path)
    store.purge(guarded.batch_id)
    assert not store.fs.exists(data_path)
