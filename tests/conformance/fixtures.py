"""The conformance table: one batch per entry, written once as Parquet, judged by every entry point.

Each `Fixture` names a batch and the contract variant it is judged under (`CONTRACT_VARIANTS`): the example contract
under its two quarantine policies, with ODCS ``type: sql`` rules, and with a ``type: custom`` rule for an engine
guardrails does not have (judged failing closed, and with unrun rules allowed). The batches come from the example's
generator (`definitions.data`), one per `Defect`, plus the edges that entry points have historically read
differently: a file that is not Parquet at all, event times without a zone or in another zone, and column types
that hold the same values in another physical form (int32, integers in a float column, large strings,
dictionary strings, decimals).

Every batch is the business day `DAY`, judged as of `AS_OF` (the end of that day, which is also the end of the
Dagster daily partition `PARTITION`, so the guarded asset is judged at the same instant as the CLI and the core).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from definitions.data import Defect, generate_transactions, write_batch

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO / "expectations" / "transactions.odcs.yaml"
DAY = date(2026, 11, 20)
PARTITION = DAY.isoformat()
AS_OF = datetime(2026, 11, 21, tzinfo=UTC)
ROWS = 400
CONTRACT_VARIANTS = ("batch", "rows", "sql", "unrun", "unrun_allowed")
"""The contract variants (see `tests.conformance.conftest.contracts`); `unrun_allowed` is `unrun` judged with
unrun rules allowed (``--allow-unrun``, ``allow_unrun=True``)."""
def _clean() -> pl.DataFrame:
    return generate_transactions(DAY, rows=ROWS)


def _write_frame(frame: pl.DataFrame) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        return write_batch(frame, path)

    return write


def _write_defect(defect: Defect) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        return write_batch(generate_transactions(DAY, rows=ROWS, defect=defect), path, defect=defect)

    return write


def _write_arrow(cast: Callable[[pa.Table], pa.Table]) -> Callable[[Path], Path]:
    """A writer of the clean batch with some columns given another Arrow type (kept in the Parquet schema)."""

    def write(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(cast(_clean().to_arrow()), path)
        return path

    return write


def _with_column(name: str, values: pa.Array) -> Callable[[pa.Table], pa.Table]:
    def cast(table: pa.Table) -> pa.Table:
        return table.set_column(table.schema.get_field_index(name), name, values)

    return cast


def _not_parquet(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("transaction_id,amount\ntx_1,5.0\n")
    return path


def _duplicated_column(path: Path) -> Path:
    """Valid Parquet the engine refuses: `amount` appears twice (its footer still says how many rows)."""
    table = _clean().to_arrow()
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table([*table.columns, table["amount"]], names=[*table.column_names, "amount"]), path)
    return path


def _corrupt_page(path: Path) -> Path:
    """A file whose footer is intact (it says 400 rows) but whose first data page is overwritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean().write_parquet(path, compression="uncompressed")
    data = bytearray(path.read_bytes())
    data[200:2000] = b"\xff" * 1800
    path.write_bytes(bytes(data))
    return path


def _dataset(split: Callable[[pl.DataFrame], pl.DataFrame] = lambda part: part) -> Callable[[Path], Path]:
    """A directory of two Parquet files, the second passed through `split` (one batch, as the engine reads it)."""

    def write(path: Path) -> Path:
        path.mkdir(parents=True)
        frame = _clean()
        frame.head(ROWS // 2).write_parquet(path / "part-0.parquet")
        split(frame.tail(ROWS - ROWS // 2)).write_parquet(path / "part-1.parquet")
        return path

    return write


def _hive(path: Path) -> Path:
    _clean().with_columns(pl.col("channel").alias("route")).write_parquet(path, partition_by="route")
    return path


def _amounts() -> pl.Series:
    return _clean()["amount"]


def _integer_amounts(dtype: pa.DataType) -> pa.Array:
    return pa.array(_amounts().round(0).cast(pl.Int64).to_list(), type=dtype)


def _decimal_amounts() -> pa.Array:
    return pa.array([Decimal(f"{v:.2f}") for v in _amounts().to_list()], type=pa.decimal128(12, 2))


def _event_time(convert: Callable[[pl.Expr], pl.Expr]) -> Callable[[Path], Path]:
    return _write_frame(_clean().with_columns(convert(pl.col("event_time")).alias("event_time")))


@dataclass(frozen=True, slots=True)
class Fixture:
    """One row of the table: a batch (written by `write` to the path it is given) and the contract variant judging it.

    `policy` names the variant (`CONTRACT_VARIANTS`); all but ``rows`` quarantine whole batches.
    """

    name: str
    write: Callable[[Path], Path]
    policy: str = "batch"

    @property
    def allow_unrun(self) -> bool:
        """Whether the entry points are told to allow unrun rules (``--allow-unrun``)."""
        return self.policy == "unrun_allowed"

    def __str__(self) -> str:
        return self.name


FIXTURES: tuple[Fixture, ...] = (
    Fixture("clean", _write_frame(_clean())),
    *(Fixture(defect.value, _write_defect(defect)) for defect in Defect),
    Fixture("not_parquet", _not_parquet),
    Fixture("duplicated_column", _duplicated_column),
    Fixture("corrupt_page", _corrupt_page),
    Fixture("dataset_directory", _dataset()),
    Fixture("dataset_hive", _hive),
    Fixture("dataset_schemas_disagree", _dataset(lambda part: part.drop("is_fraud"))),
    Fixture("clean@rows", _write_frame(_clean()), policy="rows"),
    *(Fixture(f"{defect.value}@rows", _write_defect(defect), policy="rows") for defect in Defect),
    Fixture("event_time_naive", _event_time(lambda t: t.dt.replace_time_zone(None))),
    Fixture("event_time_new_york", _event_time(lambda t: t.dt.convert_time_zone("America/New_York"))),
    Fixture("event_time_kolkata_future", _event_time(lambda t: t.dt.convert_time_zone("Asia/Kolkata")
                                                     .dt.offset_by("1d"))),
    Fixture("event_time_naive_future", _event_time(lambda t: t.dt.replace_time_zone(None).dt.offset_by("1d"))),
    Fixture("amount_int64", _write_arrow(_with_column("amount", _integer_amounts(pa.int64())))),
    Fixture("amount_int32", _write_arrow(_with_column("amount", _integer_amounts(pa.int32())))),
    Fixture("amount_float_integers", _write_arrow(
        _with_column("amount", pa.array(_amounts().round(0).to_list(), type=pa.float64()))
    )),
    Fixture("amount_decimal", _write_arrow(_with_column("amount", _decimal_amounts()))),
    Fixture("transaction_id_large_string", _write_arrow(
        lambda t: t.cast(t.schema.set(0, pa.field("transaction_id", pa.large_string())))
    )),
    Fixture("merchant_category_dictionary", _write_arrow(
        lambda t: _with_column("merchant_category",
                               t["merchant_category"].combine_chunks().dictionary_encode())(t)
    )),
    Fixture("merchant_category_categorical", _write_frame(
        _clean().with_columns(pl.col("merchant_category").cast(pl.Categorical))
    )),
    Fixture("clean@sql", _write_frame(_clean()), policy="sql"),
    Fixture("out_of_range_amounts@sql", _write_defect(Defect.OUT_OF_RANGE_AMOUNTS), policy="sql"),
    Fixture("schema_change@sql", _write_defect(Defect.SCHEMA_CHANGE), policy="sql"),
    Fixture("clean@unrun", _write_frame(_clean()), policy="unrun"),
    Fixture("clean@unrun_allowed", _write_frame(_clean()), policy="unrun_allowed"),
    Fixture("nulls@unrun_allowed", _write_defect(Defect.NULLS), policy="unrun_allowed"),
)
"""The table, in a stable order (its names are the test ids)."""
