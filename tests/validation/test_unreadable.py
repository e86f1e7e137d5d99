"""Batches the engine cannot read are "could not run" outcomes with one line naming the columns; datasets read whole."""

from __future__ import annotations

import decimal
import uuid
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from definitions.data import Defect, defect_rows, generate_transactions
from guardrails.contract.model import Contract, NotNullRule
from guardrails.outcome import CheckStatus
from guardrails.validation import validate

from .conftest import AS_OF, DAY

ROWS = 3
ID_CONTRACT = Contract(id="c", version="1", name="c", table="t", rules=(NotNullRule(rule_id="id.not_null", column="id"),))
"""A contract that reads only `id`: the odd columns below are never named by a rule."""


def _union() -> pa.Array:
    return pa.UnionArray.from_sparse(pa.array([0, 1, 0], pa.int8()), [pa.array([1, 2, 3]), pa.array(["a", "b", "c"])])


UNSUPPORTED = {
    "decimal256-wide": lambda: pa.array([decimal.Decimal(1)] * ROWS, pa.decimal256(60, 0)),
    "decimal256-narrow": lambda: pa.array([decimal.Decimal("1.5")] * ROWS, pa.decimal256(20, 2)),
    "list-of-decimal256": lambda: pa.array([[decimal.Decimal(1)]] * ROWS, pa.list_(pa.decimal256(60, 0))),
    "dictionary-of-decimal256": lambda: pa.array([decimal.Decimal(1)] * ROWS, pa.decimal256(60, 0)).dictionary_encode(),
    "union": _union,
    "struct-holding-a-union": lambda: pa.StructArray.from_arrays([_union()], ["u"]),
    "run-end-encoded": lambda: pa.RunEndEncodedArray.from_arrays([ROWS], pa.array([1])),
    "interval": lambda: pa.array([(1, 2, 3)] * ROWS, pa.month_day_nano_interval()),
    "list-view": lambda: pa.array([[1]] * ROWS, pa.list_view(pa.int64())),
}
PARQUET_CAN_STORE = {"decimal256-wide", "decimal256-narrow", "list-of-decimal256", "dictionary-of-decimal256"}


def _with_odd_column(make: object) -> pa.Table:
    return pa.table({"id": [1, 2, 3], "odd": make()})  # type: ignore[operator]


def _assert_could_not_run_naming(outcome, column: str, type_text: str, rows: int | None = None) -> None:
    assert outcome.status is CheckStatus.ERROR and outcome.blocks_publication and outcome.rows == rows
    assert outcome.error.startswith("UnreadableBatchError: ") and "\n" not in outcome.error
    assert repr(column) in outcome.error and type_text in outcome.error


@pytest.mark.parametrize("kind", list(UNSUPPORTED))
def test_arrow_table_with_a_type_polars_cannot_hold_could_not_run(kind: str) -> None:
    """An Arrow column of a type polars has no equivalent for, at any depth, is one line naming column and type."""
    table = _with_odd_column(UNSUPPORTED[kind])
    result = validate(ID_CONTRACT, table)
    _assert_could_not_run_naming(result.outcome, "odd", str(table.schema.field("odd").type))
    assert result.rejected_rows is None


@pytest.mark.parametrize("kind", sorted(PARQUET_CAN_STORE))
def test_parquet_file_with_a_type_polars_cannot_hold_could_not_run(tmp_path: Path, kind: str) -> None:
    """The same column in a Parquet file is caught from its footer; the outcome says which file, and its footer's rows."""
    path = tmp_path / "odd.parquet"
    pq.write_table(_with_odd_column(UNSUPPORTED[kind]), path)
    outcome = validate(ID_CONTRACT, path).outcome
    _assert_could_not_run_naming(outcome, "odd", "decimal256(", rows=3)
    assert outcome.message == f"cannot read {path}"


def test_several_unsupported_columns_are_listed_with_a_cap() -> None:
    """Seven unsupported columns: the line names five with their types and says how many more."""
    wide = pa.array([decimal.Decimal(1)] * ROWS, pa.decimal256(60, 0))
    table = pa.table({"id": [1, 2, 3], **{f"d{i}": wide for i in range(7)}})
    error = validate(ID_CONTRACT, table).outcome.error
    assert "7 columns have types" in error and "'d4': decimal256(60, 0)" in error
    assert "'d5'" not in error and "and 2 more" in error


SUPPORTED = {
    "fixed-size-binary": lambda: pa.array([b"ab"] * ROWS, pa.binary(2)),
    "uuid-extension": lambda: pa.ExtensionArray.from_storage(pa.uuid(), pa.array([uuid.uuid4().bytes for _ in range(ROWS)], pa.binary(16))),
    "dictionary-of-binary": lambda: pa.array([b"a", b"b", b"a"]).dictionary_encode(),
    "dictionary-of-float": lambda: pa.array([1.5, 2.5, 1.5]).dictionary_encode(),
    "decimal128": lambda: pa.array([decimal.Decimal("1.5")] * ROWS, pa.decimal128(38, 2)),
    "struct-of-list": lambda: pa.array([{"a": [1]}] * ROWS),
    "map": lambda: pa.array([[("k", 1)]] * ROWS, pa.map_(pa.string(), pa.int64())),
    "fixed-size-list": lambda: pa.array([[1, 2]] * ROWS, pa.list_(pa.int64(), 2)),
    "duration": lambda: pa.array([1] * ROWS, pa.duration("s")),
}


@pytest.mark.parametrize("kind", list(SUPPORTED))
@pytest.mark.parametrize("as_file", [False, True], ids=["arrow", "parquet"])
def test_odd_types_polars_can_hold_are_validated(tmp_path: Path, kind: str, as_file: bool) -> None:
    """Nested, extension, dictionary and fixed-size columns polars can hold do not stop the check."""
    table = _with_odd_column(SUPPORTED[kind])
    if as_file:
        pq.write_table(table, tmp_path / "odd.parquet")
    outcome = validate(ID_CONTRACT, tmp_path / "odd.parquet" if as_file else table).outcome
    assert outcome.status is CheckStatus.PASSED and outcome.rows == ROWS, outcome.error


def test_duplicated_column_names_are_one_line_naming_them(tmp_path: Path) -> None:
    """Duplicated names give one line listing them (capped), in a table and in a Parquet file, never the schema."""
    names = ["id", *(f"c{i}" for i in range(7))] * 2
    table = pa.Table.from_arrays([pa.array([1, 2, 3])] * len(names), names=names)
    pq.write_table(table, tmp_path / "dup.parquet")
    for data in (table, tmp_path / "dup.parquet"):
        outcome = validate(ID_CONTRACT, data).outcome
        assert outcome.status is CheckStatus.ERROR and "\n" not in outcome.error
        assert outcome.error == (
            "UnreadableBatchError: column names are duplicated: 'id', 'c0', 'c1', 'c2', 'c3' and 3 more; "
            "rename them upstream"
        )


def _split(frame: pl.DataFrame, folder: Path, *, hive: bool) -> Path:
    """Write `frame` as a dataset of two files (``part=N/`` directories when `hive`), with files readers must skip."""
    half = frame.height // 2
    for index, part in enumerate((frame[:half], frame[half:])):
        target = folder / f"part={index}" / "data.parquet" if hive else folder / f"data-{index}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        part.write_parquet(target)
    (folder / "_SUCCESS").write_text("")
    (folder / ".data-0.parquet.crc").write_bytes(b"\x00")
    return folder


@pytest.mark.parametrize("hive", [False, True], ids=["flat", "hive"])
def test_a_directory_of_parquet_files_is_one_dataset(contract, tmp_path: Path, hive: bool) -> None:
    """A (hive-partitioned) directory is validated as one batch: the same counts as the single file."""
    frame = generate_transactions(DAY, 1_000, defect=Defect.UNKNOWN_CATEGORIES)
    outcome = validate(contract, _split(frame, tmp_path / "dataset", hive=hive), as_of=AS_OF).outcome
    assert outcome.rows == 1_000 and outcome.status is CheckStatus.FAILED
    failed = {r.rule_id: r.failing_rows for r in outcome.rules if r.status is CheckStatus.FAILED}
    assert failed == {"merchant_category.allowed_values": defect_rows(1_000, Defect.UNKNOWN_CATEGORIES)}


def test_a_hive_partition_column_is_checked_like_any_column(tmp_path: Path) -> None:
    """The ``part=N`` directory names become a column the contract can check."""
    _split(pl.DataFrame({"id": [1, 2, 3, 4]}), tmp_path / "dataset", hive=True)
    contract = Contract(id="c", version="1", name="c", table="t", rules=(NotNullRule(rule_id="part.not_null", column="part"),))
    result = validate(contract, tmp_path / "dataset")
    assert result.outcome.status is CheckStatus.PASSED and result.outcome.rules[0].failing_rows == 0


def test_a_dataset_with_one_bad_file_names_that_file(tmp_path: Path) -> None:
    """One file of a directory with an unsupported column: could not run, naming the column and the file."""
    folder = _split(pl.DataFrame({"id": [1, 2, 3, 4]}), tmp_path / "dataset", hive=False)
    pq.write_table(_with_odd_column(UNSUPPORTED["decimal256-wide"]), folder / "data-2.parquet")
    outcome = validate(ID_CONTRACT, folder).outcome
    assert outcome.status is CheckStatus.ERROR and "'odd'" in outcome.error
    assert outcome.error.endswith(f"in {folder / 'data-2.parquet'}")


def test_a_directory_without_parquet_files_could_not_run(tmp_path: Path) -> None:
    """An empty dataset is not a 0-column table: could not run, saying so."""
    (tmp_path / "empty").mkdir()
    outcome = validate(ID_CONTRACT, tmp_path / "empty").outcome
    assert outcome.status is CheckStatus.ERROR and "no Parquet files in directory" in outcome.error


def test_a_file_name_with_glob_characters_is_read_as_itself(contract, tmp_path: Path) -> None:
    """``batch[1].parquet`` is a file name, not a pattern: it is read, not reported as matching nothing."""
    path = tmp_path / "batch[1].parquet"
    generate_transactions(DAY, 100).write_parquet(path)
    outcome = validate(contract, path, as_of=AS_OF).outcome
    assert outcome.status is CheckStatus.PASSED and outcome.rows == 100, outcome.error


def test_a_url_is_checked_from_its_footer_too(tmp_path: Path) -> None:
    """A Parquet file at an fsspec URL gets the same up-front check: duplicated names are named, not a reader error."""
    import fsspec

    table = pa.Table.from_arrays([pa.array([1, 2, 3])] * 2, names=["id", "id"])
    pq.write_table(table, tmp_path / "dup.parquet")
    url = f"memory://validation-{tmp_path.name}/dup.parquet"
    fsspec.filesystem("memory").pipe_file(url, (tmp_path / "dup.parquet").read_bytes())
    outcome = validate(ID_CONTRACT, url).outcome
    assert outcome.status is CheckStatus.ERROR and outcome.message == f"cannot read {url}"
    assert outcome.error == "UnreadableBatchError: column name is duplicated: 'id'; rename them upstream"
