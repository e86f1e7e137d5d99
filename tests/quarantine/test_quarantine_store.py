"""The store's operations on real Parquet files: put, list, show, read, release, purge, and their errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from guardrails.contract import Contract, QuarantinePolicy
from guardrails.errors import GuardrailsError
from guardrails.quarantine import (
    DataFormat,
    QuarantineError,
    QuarantineState,
    QuarantineStore,
    ReleaseStatus,
    guard_batch,
)


def _batch(amounts: list[float | None]) -> pa.Table:
    return pa.table({"id": [f"t{i}" for i in range(len(amounts))], "amount": pa.array(amounts, pa.float64())})


def _quarantine(store: QuarantineStore, amounts: list[float | None], contract: Contract) -> str:
    guarded = guard_batch(_batch(amounts), contract, store)
    assert guarded.manifest is not None
    return guarded.batch_id


def test_put_is_listed_shown_and_read_back_unchanged(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """A quarantined table is listed, its manifest shown, and reading it returns the same rows and types."""
    table = _batch([1.0, -2.0, 3.0])
    guarded = guard_batch(table, amount_contract(), store, source="landing/a.parquet", run_id="run-7")
    assert [m.batch_id for m in store.list()] == [guarded.batch_id]
    manifest = store.show(guarded.batch_id)
    assert manifest == guarded.manifest
    assert (manifest.source, manifest.run_id) == ("landing/a.parquet", "run-7")
    assert (manifest.rows_in, manifest.rows_quarantined, manifest.rows_published) == (3, 3, 0)
    assert [(r.rule_id, r.failing_rows) for r in manifest.failed_rules] == [("amount.range", 1)]
    assert manifest.contract_id == "urn:test:amounts" and manifest.state is QuarantineState.QUARANTINED
    assert store.read(guarded.batch_id).equals(table)


def test_putting_the_same_batch_again_is_a_no_op(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """A retried put of identical data returns the existing manifest and writes no new file."""
    table = _batch([1.0, -2.0])
    first = store.put(table, guard_batch(table, amount_contract(), store).outcome, batch_id="tx-1")
    files_before = sorted(store.fs.find(store.root))
    again = store.put(table, first.outcome.evolve(message="a later run"), batch_id="tx-1", run_id="retry")
    assert again == first
    assert sorted(store.fs.find(store.root)) == files_before


def test_other_data_under_a_taken_id_gets_a_suffixed_id_and_never_overwrites(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """Another batch under a taken id goes to `<id>~2`, the first stays intact, and a retry finds `~2` again."""
    first_table, second_table = _batch([-1.0]), _batch([-5.0, -6.0])
    outcome = guard_batch(first_table, amount_contract(), QuarantineStore(store.root + "-scratch")).outcome
    first = store.put(first_table, outcome, batch_id="day-2026-11-20")
    second = store.put(second_table, outcome, batch_id="day-2026-11-20")
    retried = store.put(second_table, outcome, batch_id="day-2026-11-20")
    assert first.batch_id == "day-2026-11-20"
    assert second.batch_id == retried.batch_id == "day-2026-11-20~2"
    assert store.read("day-2026-11-20").equals(first_table)
    assert store.read("day-2026-11-20~2").equals(second_table)
    assert len(store.list()) == 2


@pytest.mark.parametrize("operation", ["show", "read", "release", "purge"])
def test_unknown_batch_id_is_a_clear_error_naming_the_id(
    store: QuarantineStore, operation: str, amount_contract: Callable[..., Contract]
) -> None:
    """Every operation on an id the store does not hold raises QuarantineError carrying that id."""
    args = (amount_contract(),) if operation == "release" else ()
    with pytest.raises(QuarantineError, match="no such batch") as raised:
        getattr(store, operation)("tx-unknown", *args)
    assert raised.value.batch_id == "tx-unknown"
    assert isinstance(raised.value, GuardrailsError)


def test_malformed_batch_id_is_refused(store: QuarantineStore) -> None:
    """A batch id that could escape the store's directory is rejected before any file is touched."""
    with pytest.raises(QuarantineError, match="not a valid batch id"):
        store.show("../etc")


def test_list_filters_by_state(store: QuarantineStore, amount_contract: Callable[..., Contract]) -> None:
    """`list(state)` returns only the batches in that state."""
    kept, purged = _quarantine(store, [-1.0], amount_contract()), _quarantine(store, [-2.0], amount_contract())
    store.purge(purged)
    assert [m.batch_id for m in store.list(QuarantineState.QUARANTINED)] == [kept]
    assert [m.batch_id for m in store.list("purged")] == [purged]
    assert {m.batch_id for m in store.list()} == {kept, purged}


def test_release_refused_while_the_data_still_fails(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """A release against a contract the data still breaks publishes nothing and leaves the batch quarantined."""
    batch_id = _quarantine(store, [1.0, -2.0], amount_contract())
    published: list[pa.Table] = []
    result = store.release(batch_id, amount_contract(), publish=published.append)
    assert result.status is ReleaseStatus.REFUSED and not result.released
    assert result.outcome is not None and result.outcome.blocks_publication
    assert "amount.range (1 row)" in result.message
    assert published == []
    assert store.show(batch_id).state is QuarantineState.QUARANTINED
    assert not store.fs.exists(f"{store.batch_path(batch_id)}/claim.json")


def test_release_publishes_once_against_the_current_contract(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """Once the contract accepts the data, release publishes it exactly once and records the new outcome."""
    batch_id = _quarantine(store, [1.0, -2.0], amount_contract())
    relaxed = amount_contract(minimum=-10, version="2")
    result = store.release(batch_id, relaxed, as_of=datetime(2026, 11, 21, tzinfo=UTC))
    assert result.status is ReleaseStatus.RELEASED and result.released
    released = store.show(batch_id)
    assert released.state is QuarantineState.RELEASED
    assert released.release_outcome is not None and released.release_outcome.contract_version == "2"
    assert [step.state for step in released.history] == [QuarantineState.QUARANTINED, QuarantineState.RELEASED]
    assert pq.read_table(store.released_path(batch_id)).equals(store.read(batch_id))
    again = store.release(batch_id, relaxed)
    assert again.status is ReleaseStatus.ALREADY_RELEASED and again.manifest == released


def test_release_of_a_path_batch_publishes_the_original_bytes(
    store: QuarantineStore, tmp_path: Path, amount_contract: Callable[..., Contract]
) -> None:
    """A batch quarantined from a Parquet file is released as that very file, byte for byte."""
    path = tmp_path / "landing.parquet"
    pq.write_table(_batch([-1.0, 2.0]), path)
    batch_id = guard_batch(path, amount_contract(), store).batch_id
    store.release(batch_id, amount_contract(minimum=-10))
    assert Path(store.released_path(batch_id)).read_bytes() == path.read_bytes()


def test_release_calls_publish_with_the_table(store: QuarantineStore, amount_contract: Callable[..., Contract]) -> None:
    """A `publish` callable receives the kept table, and a string it returns is recorded as the destination."""
    batch_id = _quarantine(store, [-1.0, 4.0], amount_contract())
    received: list[pa.Table] = []

    def publish(table: pa.Table) -> str:
        received.append(table)
        return "warehouse.transactions@v42"

    result = store.release(batch_id, amount_contract(minimum=-10), publish=publish)
    assert [t.num_rows for t in received] == [2]
    assert result.released_to == store.show(batch_id).released_to == "warehouse.transactions@v42"
    assert not store.fs.exists(store.released_path(batch_id))


def test_failed_publish_gives_the_claim_back(store: QuarantineStore, amount_contract: Callable[..., Contract]) -> None:
    """When `publish` raises, the batch stays quarantined and a later release can still publish it."""
    batch_id = _quarantine(store, [-1.0], amount_contract())

    def broken(table: pa.Table) -> None:
        raise ConnectionError("warehouse unreachable")

    with pytest.raises(ConnectionError):
        store.release(batch_id, amount_contract(minimum=-10), publish=broken)
    assert store.show(batch_id).state is QuarantineState.QUARANTINED
    assert store.release(batch_id, amount_contract(minimum=-10)).status is ReleaseStatus.RELEASED


def test_release_with_another_contract_is_refused(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """Releasing a batch against a contract with another id raises instead of judging it by the wrong rules."""
    batch_id = _quarantine(store, [-1.0], amount_contract())
    other = amount_contract(minimum=-10).__class__(id="urn:other", version="1", name="o", table="o", rules=())
    with pytest.raises(QuarantineError, match="urn:test:amounts"):
        store.release(batch_id, other)


def test_release_of_rejected_rows_ignores_the_row_count_rule(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """Rows quarantined under the rows policy are released without the whole-batch row-count rule they cannot meet."""
    amounts = [float(i) for i in range(150)] + [-1.0, -2.0]
    guarded = guard_batch(_batch(amounts), amount_contract(QuarantinePolicy.ROWS, min_rows=100), store)
    assert guarded.manifest is not None and guarded.manifest.rows_quarantined == 2
    result = store.release(guarded.batch_id, amount_contract(QuarantinePolicy.ROWS, min_rows=100, minimum=-10))
    assert result.status is ReleaseStatus.RELEASED
    assert "amounts.row_count" not in {r.rule_id for r in result.outcome.rules}  # type: ignore[union-attr]


def test_purge_deletes_the_data_and_keeps_a_tombstone(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """Purge removes the data file, keeps a manifest in state purged without sample rows, and is idempotent."""
    batch_id = _quarantine(store, [-1.0, -2.0], amount_contract())
    assert store.show(batch_id).outcome.sample
    store.purge(batch_id)
    store.purge(batch_id)
    tombstone = store.show(batch_id)
    assert tombstone.state is QuarantineState.PURGED and tombstone.purged_at is not None
    assert tombstone.outcome.sample == () and tombstone.failed_rules[0].failing_rows == 2
    left = sorted(p.rsplit("/", 1)[-1] for p in store.fs.ls(store.batch_path(batch_id), detail=False))
    assert left == ["claim.json", "manifest.json"]  # the purge's claim blocks any later release
    with pytest.raises(QuarantineError, match="purged"):
        store.read(batch_id)
    with pytest.raises(QuarantineError, match="purged"):
        store.release(batch_id, amount_contract(minimum=-10))


def test_the_same_batch_after_a_purge_is_quarantined_again(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """A purged batch that arrives again is kept again under its id, with the old history continued."""
    batch_id = _quarantine(store, [-1.0], amount_contract())
    store.purge(batch_id)
    again = _quarantine(store, [-1.0], amount_contract())
    manifest = store.show(again)
    assert again == batch_id and manifest.state is QuarantineState.QUARANTINED
    assert [s.state.value for s in manifest.history] == ["quarantined", "purged", "quarantined"]
    assert store.read(batch_id).num_rows == 1
    assert store.release(batch_id, amount_contract(minimum=-10)).status is ReleaseStatus.RELEASED


def test_tampered_data_is_detected_on_read(store: QuarantineStore, amount_contract: Callable[..., Contract]) -> None:
    """Data whose bytes no longer match the manifest's sha256 is refused instead of silently returned."""
    batch_id = _quarantine(store, [-1.0], amount_contract())
    manifest = store.show(batch_id)
    store.fs.pipe_file(f"{store.batch_path(batch_id)}/{manifest.data_file}", b"PAR1 tampered")
    with pytest.raises(QuarantineError, match="sha256"):
        store.read(batch_id)


def test_memory_filesystem_store_runs_the_whole_cycle(amount_contract: Callable[..., Contract]) -> None:
    """A `memory://` store quarantines, lists, reads, releases and purges like a local one."""
    store = QuarantineStore(f"memory://quarantine-{uuid.uuid4().hex}")
    table = _batch([1.0, -2.0])
    guarded = guard_batch(table, amount_contract(), store)
    assert store.uri.startswith("memory://")
    assert [m.batch_id for m in store.list()] == [guarded.batch_id]
    assert store.read(guarded.batch_id).equals(table)
    assert guard_batch(table, amount_contract(), store).manifest == guarded.manifest
    result = store.release(guarded.batch_id, amount_contract(minimum=-10))
    assert result.status is ReleaseStatus.RELEASED
    assert result.released_to == f"memory://{store.root}/_released/{guarded.batch_id}.parquet"
    assert store.fs.exists(store.released_path(guarded.batch_id))
    store.purge(guarded.batch_id)
    assert store.list()[0].state is QuarantineState.PURGED


def test_pyarrow_filesystem_is_accepted(tmp_path: Path, amount_contract: Callable[..., Contract]) -> None:
    """A `pyarrow.fs` filesystem works as the store's backend."""
    store = QuarantineStore(str(tmp_path / "pa-store"), filesystem=pafs.LocalFileSystem())
    guarded = guard_batch(_batch([-1.0]), amount_contract(), store)
    assert [m.batch_id for m in store.list()] == [guarded.batch_id]
    assert store.read(guarded.batch_id).column("amount").to_pylist() == [-1.0]
    assert (tmp_path / "pa-store" / guarded.batch_id / "manifest.json").exists()


def test_unparquetable_table_is_kept_as_arrow_ipc(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """A table with a type Parquet cannot store (a union) is kept losslessly as Arrow IPC and read back as a table."""
    union = pa.UnionArray.from_sparse(pa.array([0, 1], pa.int8()), [pa.array([1, 2]), pa.array(["a", "b"])])
    table = pa.table({"id": ["t0", "t1"], "amount": [1.0, 2.0], "payload": union})
    guarded = guard_batch(table, amount_contract(), store)
    assert guarded.outcome.status.value == "error" and guarded.published is None
    assert guarded.manifest is not None and guarded.manifest.data_format is DataFormat.ARROW_IPC
    assert store.read(guarded.batch_id).equals(table)


def test_invalid_explicit_batch_id_fails_even_for_a_clean_batch(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """A malformed explicit batch id is misconfiguration: guard_batch raises at once, not on the first bad batch."""
    with pytest.raises(QuarantineError, match="not a valid batch id"):
        guard_batch(_batch([1.0]), amount_contract(), store, batch_id="../escape")
