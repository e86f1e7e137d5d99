"""Batch ids on a real filesystem (NAME_MAX 255): every id accepted at put can be kept twice over and released."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from guardrails.contract import Contract
from guardrails.quarantine import QuarantineError, QuarantineStore, ReleaseStatus, derive_batch_id, guard_batch
from guardrails.quarantine._files import Files
from guardrails.quarantine._store import MAX_BATCH_ID, MAX_SUFFIX


def _batch(*amounts: float) -> pa.Table:
    return pa.table({"id": [f"t{i}" for i in range(len(amounts))], "amount": list(amounts)})


def _outcome(contract: Contract, store_root: Path) -> object:
    return guard_batch(_batch(-1.0), contract, QuarantineStore(store_root)).outcome


@pytest.mark.parametrize("length", [200, 204, 205, 209, 210, 225, 240, 241, 255, 260])
def test_every_id_accepted_at_put_is_released_along_with_a_second_batch_under_it(
    store: QuarantineStore, tmp_path: Path, amount_contract: Callable[..., Contract], length: int
) -> None:
    """An id put accepts holds a different second batch at `<id>~2`, and both release; a longer id is refused."""
    batch_id = "b" * length
    outcome = _outcome(amount_contract(), tmp_path / "scratch")
    if length > MAX_BATCH_ID:
        with pytest.raises(QuarantineError, match=f"{length} characters.*at most {MAX_BATCH_ID}") as raised:
            store.put(_batch(-1.0), outcome, batch_id=batch_id)  # type: ignore[arg-type]
        assert raised.value.batch_id == batch_id
        assert store.list() == [] and not Path(store.root).exists()
        return
    first = store.put(_batch(-1.0), outcome, batch_id=batch_id)  # type: ignore[arg-type]
    second = store.put(_batch(-2.0, -3.0), outcome, batch_id=batch_id)  # type: ignore[arg-type]
    assert (first.batch_id, second.batch_id) == (batch_id, f"{batch_id}~2")
    relaxed = amount_contract(minimum=-10)
    for kept in (first, second):
        assert store.release(kept.batch_id, relaxed).status is ReleaseStatus.RELEASED
        assert Path(store.released_path(kept.batch_id)).is_file()


def test_guard_batch_refuses_an_overlong_explicit_id_up_front(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """An explicit id too long to release is misconfiguration: guard_batch raises even for a clean batch."""
    with pytest.raises(QuarantineError, match=f"at most {MAX_BATCH_ID}"):
        guard_batch(_batch(1.0), amount_contract(), store, batch_id="x" * (MAX_BATCH_ID + 1))


def test_the_longest_name_the_store_can_create_fits_everywhere_it_is_written(store: QuarantineStore) -> None:
    """An id of the maximum length with the largest `~N` suffix can be written as a batch and as a release."""
    longest = "z" * MAX_BATCH_ID + f"~{MAX_SUFFIX}"
    files = Files(store.fs)
    files.write_atomic(f"{store.batch_path(longest)}/manifest.json", b"{}")
    files.write_atomic(store.released_path(longest), b"PAR1")
    assert Path(store.released_path(longest)).read_bytes() == b"PAR1"
    with pytest.raises(QuarantineError, match=f"at most {MAX_BATCH_ID} plus the '~<N>'"):
        store.show(longest + "0")


def test_derived_ids_are_shortened_to_fit_never_refused(
    store: QuarantineStore, amount_contract: Callable[..., Contract]
) -> None:
    """A 300-character table name still gives a default id that is kept and released."""
    derived = derive_batch_id("ab" * 32, "T" * 300)
    assert len(derived) <= MAX_BATCH_ID
    long_named = dataclasses.replace(amount_contract(), table="Card transactions " * 20)
    guarded = guard_batch(_batch(-1.0), long_named, store)
    assert guarded.manifest is not None and guarded.batch_id.startswith("card-transactions-")
    assert store.release(guarded.batch_id, amount_contract(minimum=-10)).status is ReleaseStatus.RELEASED

