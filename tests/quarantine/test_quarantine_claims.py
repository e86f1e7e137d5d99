"""Stale claims: a release killed after claiming its batch is taken over exactly once; a running one never is."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from guardrails.cli import app
from guardrails.contract import Contract
from guardrails.quarantine import QuarantineState, QuarantineStore, ReleaseStatus, guard_batch
from guardrails.quarantine._claim import Claim, this_process

ROOT = Path(__file__).resolve().parents[2]

# A release in its own process that blocks half way: in its publish callable ("publish"), or half way through
# writing the store's own `_released/<id>.parquet` ("write"). It touches `ready` once it is stuck there.
BLOCKED_RELEASER = textwrap.dedent(
    """
    import os, sys, time
    from fsspec.implementations.local import LocalFileSystem
    from guardrails.contract import Contract, NotNullRule, RangeRule
    from guardrails.quarantine import QuarantineStore

    root, batch_id, ready, mode = sys.argv[1:5]
    contract = Contract(id="urn:test:amounts", version="2", name="amounts", table="amounts", rules=(
        NotNullRule(rule_id="amount.not_null", column="amount"),
        RangeRule(rule_id="amount.range", column="amount", minimum=-10),
    ))

    def block():
        open(ready, "w").close()
        while True:
            time.sleep(0.05)

    class HalfWriter:
        def __init__(self, handle):
            self.handle = handle
        def write(self, data):
            self.handle.write(bytes(data)[: len(data) // 2])
            self.handle.flush()
            block()
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.handle.close()

    class StuckLocalFileSystem(LocalFileSystem):
        def _open(self, path, mode="rb", **kwargs):
            handle = super()._open(path, mode, **kwargs)
            return HalfWriter(handle) if "w" in mode and "/_released/" in path else handle

    def publish(table):
        block()

    if mode == "write":
        store = QuarantineStore(root, filesystem=StuckLocalFileSystem())
        store.release(batch_id, contract)
    else:
        QuarantineStore(root).release(batch_id, contract, publish=publish)
    """
)


def _batch() -> pa.Table:
    return pa.table({"id": ["t0", "t1"], "amount": [1.0, -2.0]})


@pytest.fixture
def batch_id(store: QuarantineStore, amount_contract: Callable[..., Contract]) -> str:
    """A batch quarantined because of a negative amount, which the relaxed contract (minimum -10) accepts."""
    return guard_batch(_batch(), amount_contract(), store).batch_id


@pytest.fixture
def relaxed(amount_contract: Callable[..., Contract]) -> Contract:
    return amount_contract(minimum=-10, version="2")


@pytest.fixture
def blocked_release(store: QuarantineStore, batch_id: str, tmp_path: Path) -> Iterator[Callable[[str], int]]:
    """Start a release in another process that blocks after claiming the batch; returns its pid once it is stuck."""
    workers: list[subprocess.Popen[bytes]] = []

    def start(mode: str) -> int:
        ready = tmp_path / f"ready-{len(workers)}"
        worker = subprocess.Popen(
            [sys.executable, "-c", BLOCKED_RELEASER, store.root, batch_id, str(ready), mode], stderr=subprocess.PIPE
        )
        workers.append(worker)
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert worker.poll() is None, worker.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the blocked release never got stuck"
            time.sleep(0.02)
        return worker.pid

    yield start
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
        worker.wait()


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)  # reaped: the pid no longer names a process (a zombie would count as ended too)


def _recording(published: list[int]) -> Callable[[pa.Table], str]:
    def publish(table: pa.Table) -> str:
        published.append(table.num_rows)
        return "warehouse.amounts"

    return publish


def test_a_killed_release_is_taken_over_and_the_batch_published_exactly_once(
    store: QuarantineStore, batch_id: str, relaxed: Contract, blocked_release: Callable[[str], int]
) -> None:
    """While a release blocks in publish its claim is not stolen (even with break_claim); after `kill -9` the next
    release takes over its claim, publishes once, and later releases publish nothing."""
    pid = blocked_release("publish")
    published: list[int] = []
    for break_claim in (False, True):
        held = store.release(batch_id, relaxed, publish=_recording(published), break_claim=break_claim)
        assert held.status is ReleaseStatus.CLAIMED and f"pid {pid}" in held.message and "running" in held.message
    assert published == [] and store.show(batch_id).state is QuarantineState.QUARANTINED
    _kill(pid)
    result = store.release(batch_id, relaxed, publish=_recording(published))
    assert result.status is ReleaseStatus.RELEASED and published == [2]
    assert result.took_over is not None and f"pid {pid}" in result.took_over and "has ended" in result.took_over
    assert f"pid {pid}" in store.show(batch_id).history[-1].reason  # the audit trail says whose claim was taken
    again = store.release(batch_id, relaxed, publish=_recording(published))
    assert again.status is ReleaseStatus.ALREADY_RELEASED and published == [2]


def test_a_release_killed_while_writing_leaves_no_temporary_file_behind_the_next_one(
    store: QuarantineStore, batch_id: str, relaxed: Contract, blocked_release: Callable[[str], int]
) -> None:
    """A release killed half way through writing `_released/<id>.parquet` leaves a `.tmp`; the next one deletes it."""
    _kill(blocked_release("write"))
    released_dir = Path(store.root) / "_released"
    assert [p.name for p in released_dir.iterdir() if p.name.endswith(".tmp")]  # the kill really left a half file
    result = store.release(batch_id, relaxed)
    assert result.status is ReleaseStatus.RELEASED and "removed 1 temporary file" in (result.took_over or "")
    assert [p.name for p in released_dir.iterdir()] == [f"{batch_id}.parquet"]
    kept = Path(store.batch_path(batch_id), store.show(batch_id).data_file)
    assert Path(store.released_path(batch_id)).read_bytes() == kept.read_bytes()  # whole, not the killed half


def _place_claim(store: QuarantineStore, batch_id: str, **changes: object) -> Claim:
    """Write a claim as another release would have: this process's identity, with some facts changed."""
    now = datetime.now(UTC)
    claim = Claim.new("release", "ci@elsewhere", this_process(), now, timedelta(hours=1))
    claim = dataclasses.replace(claim, **changes)  # type: ignore[arg-type]
    Path(store.batch_path(batch_id), "claim.json").write_bytes(claim.to_json())
    return claim


def test_a_reused_pid_does_not_keep_a_dead_claim_alive(
    store: QuarantineStore, batch_id: str, relaxed: Contract
) -> None:
    """A claim naming a running pid, but a process started at another time, is stale (the pid was reused)."""
    here = this_process()
    assert here.started is not None  # Linux: /proc/<pid>/stat
    _place_claim(store, batch_id, started=here.started - 1)
    result = store.release(batch_id, relaxed)
    assert result.status is ReleaseStatus.RELEASED and "later process" in (result.took_over or "")


def test_a_claim_from_another_host_waits_for_its_lease_or_an_explicit_break(
    store: QuarantineStore, batch_id: str, relaxed: Contract
) -> None:
    """Another host's claim blocks until its lease expires; `break_claim` takes it earlier and names its holder."""
    claim = _place_claim(store, batch_id, host="worker-7", boot_id="another-boot")
    held = store.release(batch_id, relaxed)
    assert held.status is ReleaseStatus.CLAIMED and "worker-7" in held.message and "--break-claim" in held.message
    later = QuarantineStore(store.root, clock=lambda: claim.lease_expires + timedelta(seconds=1))
    expired = later.release(batch_id, relaxed)
    assert expired.status is ReleaseStatus.RELEASED and "lease expired" in (expired.took_over or "")


def test_break_claim_takes_a_claim_held_on_another_host(
    store: QuarantineStore, batch_id: str, relaxed: Contract
) -> None:
    """`break_claim` releases a batch whose claim another host holds with its lease running, saying whose it broke."""
    _place_claim(store, batch_id, host="worker-7", boot_id="another-boot", pid=4242)
    result = store.release(batch_id, relaxed, break_claim=True)
    assert result.status is ReleaseStatus.RELEASED
    assert result.took_over is not None and result.took_over.startswith("broke the claim of release by ci@elsewhere")
    assert "pid 4242 on worker-7" in result.took_over


def test_a_claim_written_before_leases_expires_from_when_it_was_taken(
    store: QuarantineStore, batch_id: str, relaxed: Contract
) -> None:
    """An old-format claim (no host, lease or start time) no longer blocks the batch forever: its lease runs out."""
    old = {"action": "release", "at": "2026-11-20T06:00:00+00:00", "actor": "ci@worker-7", "pid": 4242, "token": "x"}
    Path(store.batch_path(batch_id), "claim.json").write_text(json.dumps(old))
    assert store.release(batch_id, relaxed).status is ReleaseStatus.RELEASED


def test_racing_recoveries_of_one_dead_claim_publish_exactly_once(
    store: QuarantineStore, batch_id: str, relaxed: Contract, blocked_release: Callable[[str], int]
) -> None:
    """Six threads finding the same dead claim at once: one takes it over and publishes, the others do not."""
    _kill(blocked_release("publish"))
    published: list[int] = []
    start = threading.Barrier(6)

    def publish(table: pa.Table) -> None:
        published.append(threading.get_ident())
        time.sleep(0.2)

    def release() -> ReleaseStatus:
        start.wait()
        return store.release(batch_id, relaxed, publish=publish).status

    with ThreadPoolExecutor(6) as pool:
        statuses = Counter(pool.map(lambda _: release(), range(6)))
    assert len(published) == 1 and statuses[ReleaseStatus.RELEASED] == 1
    assert set(statuses) <= {ReleaseStatus.RELEASED, ReleaseStatus.ALREADY_RELEASED, ReleaseStatus.CLAIMED}


def test_a_purge_takes_over_a_dead_release_claim(
    store: QuarantineStore, batch_id: str, blocked_release: Callable[[str], int]
) -> None:
    """Purging a batch whose release was killed works instead of failing on the dead claim."""
    _kill(blocked_release("publish"))
    store.purge(batch_id)
    assert store.show(batch_id).state is QuarantineState.PURGED


def test_cli_break_claim_says_whose_claim_it_broke(store: QuarantineStore, batch_id: str, tmp_path: Path) -> None:
    """`release --break-claim` exits 0 naming the broken claim's holder; without it the held claim exits 2."""
    _place_claim(store, batch_id, host="worker-7", boot_id="another-boot")
    contract = tmp_path / "amounts.odcs.yaml"
    contract.write_text(AMOUNTS_CONTRACT)
    args = ["quarantine", "release", batch_id, "--contract", str(contract), "--store", store.root]
    held = CliRunner().invoke(app, args)
    assert held.exit_code == 2 and "worker-7" in held.output and "--break-claim" in held.output
    broke = CliRunner().invoke(app, [*args, "--break-claim"])
    assert broke.exit_code == 0, broke.output
    assert "broke the claim of release by ci@elsewhere (pid" in " ".join(broke.output.split())
    assert store.show(batch_id).state is QuarantineState.RELEASED


AMOUNTS_CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:test:amounts
name: amounts
version: 2.0.0
status: active
schema:
  - name: amounts
    properties:
      - name: id
        logicalType: string
        required: true
      - name: amount
        logicalType: number
        required: true
        logicalTypeOptions:
          minimum: -10
"""


def test_a_claim_past_its_lease_is_taken_over_on_a_memory_store(
    amount_contract: Callable[..., Contract], relaxed: Contract
) -> None:
    """On a filesystem without link(2) (memory://), an expired claim from another host is taken over too."""
    store = QuarantineStore(f"memory://quarantine-{uuid.uuid4().hex}")
    batch_id = guard_batch(_batch(), amount_contract(), store).batch_id
    now = datetime.now(UTC)
    claim = Claim.new("release", "ci@worker-7", this_process(), now - timedelta(hours=2), timedelta(hours=1))
    claim = dataclasses.replace(claim, host="worker-7")
    store.fs.pipe_file(f"{store.batch_path(batch_id)}/claim.json", claim.to_json())
    result = store.release(batch_id, relaxed)
    assert result.status is ReleaseStatus.RELEASED and "lease expired" in (result.took_over or "")
    assert store.release(batch_id, relaxed).status is ReleaseStatus.ALREADY_RELEASED
