"""The store's publish record: a release never overwrites a newer batch published to the same source."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from guardrails.contract import Contract, QuarantinePolicy
from guardrails.quarantine import QuarantineState, QuarantineStore, ReleaseStatus, guard_batch
from guardrails.quarantine._published import PublishedVia, PublishLog, PublishRecord

SOURCE = "dagster:transactions[2026-11-03]"
START = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)


def _ticking() -> Callable[[], datetime]:
    """A clock that moves one minute per reading, so every event has its own time."""
    ticks: Iterator[int] = iter(range(10_000))
    return lambda: START + timedelta(minutes=next(ticks))


@pytest.fixture
def store(tmp_path: Path) -> QuarantineStore:
    return QuarantineStore(tmp_path / "quarantine", clock=_ticking())


def _batch(amounts: list[float]) -> pa.Table:
    return pa.table({"id": [f"t{i}" for i in range(len(amounts))], "amount": pa.array(amounts, pa.float64())})


def test_release_after_a_newer_publish_is_refused_naming_both(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """A corrected batch published after the bad one was quarantined makes its release `superseded`: nothing moves."""
    bad = guard_batch(_batch([1.0, -2.0]), amount_contract(), store, source=SOURCE, batch_id="tx.2026-11-03")
    corrected = guard_batch(_batch([1.0, 2.0]), amount_contract(), store, source=SOURCE, batch_id="tx.2026-11-03",
                            run_id="run-2")
    assert corrected.published is not None and bad.manifest is not None
    published: list[pa.Table] = []

    result = store.release(bad.batch_id, amount_contract(minimum=-10), publish=published.append)

    assert result.status is ReleaseStatus.SUPERSEDED and not result.released
    assert result.superseded_by is not None and result.superseded_by.run_id == "run-2"
    assert result.superseded_by.via is PublishedVia.GUARD
    assert "batch tx.2026-11-03 published at 2026-11-03T06:01:00+00:00 by the guard (run run-2)" in result.message
    assert "tx.2026-11-03 was quarantined at 2026-11-03T06:00:00+00:00" in result.message
    assert published == []
    assert store.show(bad.batch_id).state is QuarantineState.QUARANTINED
    assert not store.fs.exists(f"{store.batch_path(bad.batch_id)}/claim.json")


def test_forced_release_publishes_and_says_so_in_the_manifest(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """`force` releases a superseded batch; its history names the newer batch it overwrote and the record moves."""
    bad = guard_batch(_batch([1.0, -2.0]), amount_contract(), store, source=SOURCE, batch_id="tx.2026-11-03")
    guard_batch(_batch([1.0, 2.0]), amount_contract(), store, source=SOURCE, batch_id="tx.2026-11-03", run_id="run-2")
    published: list[pa.Table] = []

    result = store.release(bad.batch_id, amount_contract(minimum=-10), publish=published.append, force=True)

    assert result.status is ReleaseStatus.RELEASED and [t.num_rows for t in published] == [2]
    assert result.superseded_by is not None and result.superseded_by.run_id == "run-2"
    step = store.show(bad.batch_id).history[-1]
    assert step.state is QuarantineState.RELEASED
    assert step.reason.startswith("forced over the newer batch tx.2026-11-03 published at 2026-11-03T06:01:00")
    latest = PublishLog.of(store).latest(SOURCE)
    assert latest is not None and latest.via is PublishedVia.RELEASE and latest.batch_id == bad.batch_id
    assert result.to_dict()["superseded_by"]["run_id"] == "run-2"


def test_a_release_is_superseded_by_a_later_release_of_another_batch(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """Of two batches kept for one source, releasing the newer one first makes the older one's release superseded."""
    old = guard_batch(_batch([-1.0]), amount_contract(), store, source=SOURCE)
    new = guard_batch(_batch([-3.0, 4.0]), amount_contract(), store, source=SOURCE)
    relaxed = amount_contract(minimum=-10)
    assert store.release(new.batch_id, relaxed, publish=lambda table: None).status is ReleaseStatus.RELEASED

    result = store.release(old.batch_id, relaxed, publish=lambda table: None)

    assert result.status is ReleaseStatus.SUPERSEDED
    assert result.superseded_by is not None and result.superseded_by.batch_id == new.batch_id


def test_the_valid_rows_of_its_own_split_do_not_supersede_a_batch(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """Under the rows policy the published valid rows are the same batch: its rejected rows can still be released."""
    split = guard_batch(_batch([1.0, -2.0, 3.0]), amount_contract(QuarantinePolicy.ROWS), store, source=SOURCE)
    assert split.published is not None and split.manifest is not None

    result = store.release(split.batch_id, amount_contract(QuarantinePolicy.ROWS, minimum=-10),
                           publish=lambda table: None)

    assert result.status is ReleaseStatus.RELEASED, result.message


def test_an_older_publish_never_replaces_a_newer_record(store: QuarantineStore) -> None:
    """The record keeps the latest publish per source, whatever order the writers finish in."""
    log = PublishLog.of(store)
    newer = PublishRecord(source=SOURCE, batch_id="b", content_hash=None, published_at=START, via=PublishedVia.GUARD)
    log.record(newer)
    log.record(PublishRecord(source=SOURCE, batch_id="a", content_hash=None, published_at=START - timedelta(hours=1),
                             via=PublishedVia.RELEASE))
    assert log.latest(SOURCE) == newer
    assert log.latest("dagster:other[2026-11-03]") is None
    assert store.list() == []  # the record is not a batch


def test_cli_refuses_a_superseded_release_with_exit_code_1_unless_forced(
    store: QuarantineStore, amount_contract: Callable[..., Contract], tmp_path: Path
) -> None:
    """`guardrails quarantine release` names the newer batch and exits 1; with --force it releases (exit 0)."""
    from typer.testing import CliRunner

    from guardrails.cli import app

    path = tmp_path / "amounts.odcs.yaml"
    path.write_text(_AMOUNTS_CONTRACT)
    bad = guard_batch(_batch([1.0, -2.0]), amount_contract(), store, source=SOURCE, batch_id="tx.2026-11-03")
    guard_batch(_batch([1.0, 2.0]), amount_contract(), store, source=SOURCE, batch_id="tx.2026-11-03", run_id="run-2")
    args = ["quarantine", "release", bad.batch_id, "--contract", str(path), "--store", store.root]

    refused = CliRunner().invoke(app, args)
    forced = CliRunner().invoke(app, [*args, "--force"])

    assert refused.exit_code == 1, refused.output
    assert "superseded" in refused.output and "(run run-2)" in refused.output
    assert forced.exit_code == 0, forced.output
    assert store.show(bad.batch_id).history[-1].reason.startswith("forced over the newer batch tx.2026-11-03")


_AMOUNTS_CONTRACT = """\
apiVersion: v3.0.2
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
"""
