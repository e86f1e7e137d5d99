"""Hand-edited or truncated manifests: every field is checked on read, nothing outside a batch's directory is opened,
and one broken batch never hides the others."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from guardrails.cli import app
from guardrails.contract import Contract
from guardrails.quarantine import QuarantineError, QuarantineState, QuarantineStore, guard_batch

runner = CliRunner()


def _batch(*amounts: float) -> pa.Table:
    return pa.table({"id": [f"t{i}" for i in range(len(amounts))], "amount": list(amounts)})


def _edit(store: QuarantineStore, target: str, **changes: Any) -> Path:
    path = Path(store.batch_path(target)) / "manifest.json"
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, **changes}))
    return path


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A readable Parquet file outside the store, the kind of file a traversal would leak."""
    path = tmp_path / "secret.parquet"
    pq.write_table(pa.table({"id": ["s"], "amount": [1.0]}), path)
    return path


@pytest.fixture
def two_batches(store: QuarantineStore, amount_contract: Callable[..., Contract]) -> tuple[str, str]:
    """Two quarantined batches: the first is tampered with by the tests, the second stays healthy."""
    first = guard_batch(_batch(-1.0), amount_contract(), store).batch_id
    second = guard_batch(_batch(-2.0), amount_contract(), store).batch_id
    return first, second


def test_a_data_file_outside_the_batch_directory_is_never_followed(
    store: QuarantineStore, two_batches: tuple[str, str], secret: Path, amount_contract: Callable[..., Contract]
) -> None:
    """`data_file: ../../../secret.parquet` (with the secret's real sha256) makes a broken entry, never a read."""
    tampered, healthy = two_batches
    relative = Path("..") / ".." / secret.name  # from <tmp>/quarantine/<batch>/ up to <tmp>/secret.parquet
    assert (Path(store.batch_path(tampered)) / relative).resolve() == secret.resolve()
    digest = hashlib.sha256(secret.read_bytes()).hexdigest()
    _edit(store, tampered, data_file=str(relative), data_sha256=digest, data_bytes=secret.stat().st_size)
    assert [m.batch_id for m in store.list()] == [healthy]
    (broken,) = store.scan().broken
    assert broken.batch_id == tampered and "data_file" in broken.reason and "secret.parquet" in broken.reason
    for operation, args in (("show", ()), ("read", ()), ("release", (amount_contract(minimum=-10),))):
        with pytest.raises(QuarantineError, match="data_file") as raised:
            getattr(store, operation)(tampered, *args)
        assert raised.value.batch_id == tampered
    assert not Path(store.released_path(tampered)).exists()


@pytest.mark.parametrize("forged", ["../../etc", "other-batch", "a/b"])
def test_a_batch_id_that_is_not_its_directory_is_a_broken_entry(
    store: QuarantineStore, two_batches: tuple[str, str], forged: str
) -> None:
    """A manifest claiming another batch id (a traversal, or a neighbour's name) is reported, not believed."""
    tampered, healthy = two_batches
    _edit(store, tampered, batch_id=forged)
    listing = store.scan()
    assert [m.batch_id for m in listing.manifests] == [healthy]
    assert [(b.batch_id, "batch_id" in b.reason) for b in listing.broken] == [(tampered, True)]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("state", "deleted", "state"),
        ("rows_in", "ten", "rows_in"),
        ("rows_quarantined", -1, "rows_quarantined"),
        ("data_bytes", True, "data_bytes"),
        ("data_format", "exe", "data_format"),
        ("data_sha256", "../x", "data_sha256"),
        ("content_hash_of", "rows", "content_hash_of"),
        ("quarantined_at", "yesterday", "quarantined_at"),
        ("history", [{"state": "released", "at": 5, "reason": "r"}], "history"),
        ("source", ["a"], "source"),
        ("outcome", "failed", "outcome"),
    ],
)
def test_every_field_is_type_checked_on_read(
    store: QuarantineStore, two_batches: tuple[str, str], field: str, value: object, expected: str
) -> None:
    """A field of the wrong type or outside its enum makes the batch a broken entry naming that field."""
    tampered, _ = two_batches
    _edit(store, tampered, **{field: value})
    (broken,) = store.scan().broken
    assert expected in broken.reason
    with pytest.raises(QuarantineError, match=expected):
        store.show(tampered)


def test_a_truncated_manifest_does_not_hide_the_other_batches(
    store: QuarantineStore, two_batches: tuple[str, str]
) -> None:
    """One manifest cut in half: `list` still returns the other batch, and `scan` reports the cut one with a reason."""
    tampered, healthy = two_batches
    path = Path(store.batch_path(tampered)) / "manifest.json"
    path.write_bytes(path.read_bytes()[:100])
    assert [m.batch_id for m in store.list()] == [healthy]
    assert [m.batch_id for m in store.list(QuarantineState.QUARANTINED)] == [healthy]
    (broken,) = store.scan().broken
    assert broken.batch_id == tampered and broken.path == store.batch_path(tampered) and "JSON" in broken.reason


def test_a_put_never_lands_on_a_broken_batch(
    store: QuarantineStore, two_batches: tuple[str, str], amount_contract: Callable[..., Contract]
) -> None:
    """A new batch under the id of a broken one is kept at `<id>~2`, leaving the broken directory for a person."""
    tampered, _ = two_batches
    path = Path(store.batch_path(tampered)) / "manifest.json"
    path.write_text("{")
    kept = store.put(_batch(-7.0), guard_batch(_batch(-7.0), amount_contract(), store).outcome, batch_id=tampered)
    assert kept.batch_id == f"{tampered}~2"
    assert path.read_text() == "{"


def test_cli_list_reports_a_broken_batch_in_the_table_and_the_json(
    store: QuarantineStore, two_batches: tuple[str, str]
) -> None:
    """`quarantine list` exits 0 listing the healthy batch, and shows the broken one's directory and reason."""
    tampered, healthy = two_batches
    (Path(store.batch_path(tampered)) / "manifest.json").write_text('{"schema_version": 1, "batch_id": ')
    result = runner.invoke(app, ["quarantine", "list", "--store", store.root])
    assert result.exit_code == 0, result.output
    assert healthy in result.output and "1 broken batch" in result.output
    assert store.batch_path(tampered) in result.output.replace("\n", "")
    listed = json.loads(runner.invoke(app, ["quarantine", "list", "--store", store.root, "--json"]).stdout)
    assert [(m["batch_id"], m["state"]) for m in listed] == [(healthy, "quarantined"), (tampered, "broken")]
    assert listed[1]["path"] == store.batch_path(tampered) and "JSON" in listed[1]["reason"]


@pytest.mark.parametrize("command", ["show", "release"])
def test_cli_show_and_release_of_a_broken_batch_exit_2(
    store: QuarantineStore, two_batches: tuple[str, str], command: str, secret: Path
) -> None:
    """`show` and `release` of a batch whose manifest points outside it exit 2 with one line naming the field."""
    tampered, _ = two_batches
    _edit(store, tampered, data_file="../../secret.parquet")
    contract = Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml"
    extra = ["--contract", str(contract)] if command == "release" else []
    result = runner.invoke(app, ["quarantine", command, tampered, "--store", store.root, *extra])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"guardrails: batch {tampered}: ") and "data_file" in result.stderr
    assert "Traceback" not in result.output
