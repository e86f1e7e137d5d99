"""Turning any accepted batch into a polars frame without copying where the formats allow it.

Everything the engine cannot read is refused up front, from the Arrow schema (a Parquet footer or a table's
schema), with one line naming the columns: duplicated names, and types polars has no equivalent for
(``decimal256``, unions, run-end encoded arrays, intervals, list views), at any depth (a list of decimal256, a
struct holding a union, a dictionary of them). Otherwise polars would panic halfway through (``operator does
not support primitive Int256``) or print the whole schema. Every column is checked, not only those the rules
read, so that a batch gets the same verdict whoever reads it: the CLI reads only the contract's columns,
`guard_batch` the whole file it may publish.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    import pandas as pd

    Batch: TypeAlias = pa.Table | pl.DataFrame | pl.LazyFrame | pd.DataFrame | str | os.PathLike[str]
    """What the engines accept (a Parquet file, or a directory of them, is scanned lazily)."""

SHOWN: Final = 5
"""How many offending column names a message lists before saying how many more there are."""


class UnreadableBatchError(ValueError):
    """The batch cannot be read by the engine: no Parquet files, duplicated column names, or unsupported types.

    Attributes:
        source: the path read, or "" for an in-memory table.
        columns: the offending column names (all of them, even when the message lists only the first few).
    """

    def __init__(self, message: str, *, source: str = "", columns: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.source = source
        self.columns = columns


def error_line(exc: BaseException, limit: int = 300) -> str:
    """``"<ExceptionType>: <first line of its message>"``, capped at `limit` characters of message.

    Readers put whole schemas (and panics their backtraces) in their messages; an outcome, a manifest and a
    terminal get one line, marked ``(...)`` when cut.

    Example:
        >>> error_line(ValueError("Multiple matches for FieldRef.Name(amount) in id: int64\\namount: double"))
        'ValueError: Multiple matches for FieldRef.Name(amount) in id: int64 (...)'
    """
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    cut = line[:limit] + " (...)" if len(line) > limit or line != text else line
    return f"{type(exc).__name__}: {cut}"


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def polars_cannot_hold(dtype: pa.DataType) -> bool:
    """True when polars cannot hold `dtype` or anything nested in it (an allow-list: new Arrow types fail closed)."""
    t = pa.types
    if isinstance(dtype, pa.BaseExtensionType):  # uuid, json, user types: polars reads the storage
        return polars_cannot_hold(dtype.storage_type)
    if t.is_dictionary(dtype):
        return polars_cannot_hold(dtype.value_type)
    if t.is_list(dtype) or t.is_large_list(dtype) or t.is_fixed_size_list(dtype):
        return polars_cannot_hold(dtype.value_type)
    if t.is_struct(dtype):
        return any(polars_cannot_hold(dtype.field(i).type) for i in range(dtype.num_fields))
    if t.is_map(dtype):
        return polars_cannot_hold(dtype.key_type) or polars_cannot_hold(dtype.item_type)
    if t.is_decimal(dtype):
        return t.is_decimal256(dtype)  # polars holds 128-bit decimals only (it panics on Int256)
    flat = (
        t.is_null, t.is_boolean, t.is_integer, t.is_floating, t.is_string, t.is_large_string, t.is_string_view,
        t.is_binary, t.is_large_binary, t.is_binary_view, t.is_fixed_size_binary, t.is_date, t.is_time,
        t.is_timestamp, t.is_duration,
    )
    return not any(accepts(dtype) for accepts in flat)


def schema_problem(schema: pa.Schema) -> UnreadableBatchError | None:
    """Why the engine cannot read a batch with this Arrow schema (one line), or None.

    Example:
        >>> str(schema_problem(pa.schema([("id", pa.int64()), ("fee", pa.decimal256(60, 0))])))
        "column 'fee' has a type the engine (polars) cannot read: decimal256(60, 0); cast upstream (e.g. to decimal128 with precision <= 38, float64 or string)"
    """
    duplicated = [name for name, count in Counter(schema.names).items() if count > 1]
    if duplicated:
        noun = "name is" if len(duplicated) == 1 else "names are"
        return UnreadableBatchError(
            f"column {noun} duplicated: {_listed(duplicated)}; rename them upstream", columns=tuple(duplicated)
        )
    bad = [field for field in schema if polars_cannot_hold(field.type)]
    if not bad:
        return None
    if len(bad) == 1:
        subject, types = f"column {bad[0].name!r} has a type", str(bad[0].type)
    else:
        more = f" and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
        subject, types = f"{len(bad)} columns have types", ", ".join(f"{f.name!r}: {f.type}" for f in bad[:SHOWN]) + more
    return UnreadableBatchError(
        f"{subject} the engine (polars) cannot read: {types}; cast upstream "
        "(e.g. to decimal128 with precision <= 38, float64 or string)",
        columns=tuple(f.name for f in bad),
    )


def parquet_files(path: str | os.PathLike[str]) -> list[str]:
    """The Parquet files of a dataset: the file itself, or every ``*.parquet`` under a directory (sorted).

    Names starting with ``.`` or ``_`` (``_SUCCESS``, ``.crc`` files, ``_temporary/``) are skipped, as Spark,
    Hive and pyarrow do.

    Raises:
        UnreadableBatchError: a directory without Parquet files (an empty dataset is not a 0-column table).
    """
    root = Path(path)
    if not root.is_dir():
        return [os.fspath(path)]
    files = sorted(
        os.fspath(p)
        for p in root.rglob("*.parquet")
        if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(root).parts)
    )
    if not files:
        raise UnreadableBatchError(f"no Parquet files in directory {root}", source=os.fspath(path))
    return files


def scan_parquet(path: str | os.PathLike[str]) -> pl.LazyFrame:
    """A lazy scan of a Parquet file or a (hive-partitioned) directory, after checking every file's schema.

    Only the footers are read here; ``key=value`` directories become columns (typed by polars, e.g. a date).

    Raises:
        UnreadableBatchError: no Parquet files, duplicated column names or unsupported column types.
        OSError, pyarrow.ArrowInvalid: a file that cannot be opened, or is not Parquet.
    """
    files = parquet_files(path)
    for file in files:
        problem = schema_problem(_footer_schema(file))
        if problem is not None:
            where = f" in {file}" if len(files) > 1 else ""
            raise UnreadableBatchError(f"{problem}{where}", source=os.fspath(path), columns=problem.columns)
    # glob=False: the files are already listed, and a name like ``day[1].parquet`` is a name, not a pattern.
    return pl.scan_parquet(files, hive_partitioning=len(files) > 1, glob=False)


def footer_rows(path: str | os.PathLike[str]) -> int | None:
    """Rows a Parquet file or directory holds, from its footers alone; None when any footer cannot be read.

    A batch the engine refuses (duplicated column names, a type polars cannot hold) still has a known size, and
    every entry point reports it: `guard_batch` reads it from the same footers.
    """
    try:
        return sum(_footer_metadata(file).num_rows for file in parquet_files(path))
    except Exception:  # no readable footer (truncated, not Parquet): the row count is simply unknown
        return None


def _footer_metadata(file: str) -> pq.FileMetaData:
    if "://" not in file:
        return pq.read_metadata(file)
    import fsspec

    with fsspec.open(file, "rb") as handle:
        return pq.read_metadata(handle)


def _footer_schema(file: str) -> pa.Schema:
    """The Arrow schema in a Parquet file's footer; a URL (``s3://``, ``gs://``...) is opened through fsspec."""
    if "://" not in file:
        return pq.read_schema(file)
    import fsspec  # only for URLs: local reads never pay its import

    with fsspec.open(file, "rb") as handle:
        return pq.read_schema(handle)


def read_parquet(path: str | os.PathLike[str], columns: Sequence[str] | None = None) -> pl.DataFrame:
    """A Parquet file or directory read by polars, keeping only `columns` (those present) when given.

    Raises: as `scan_parquet`, and polars' own errors for data it fails on while reading.
    """
    scan = scan_parquet(path)
    if columns is not None:
        present = set(scan.collect_schema().names())
        scan = scan.select([c for c in columns if c in present])
    return scan.collect()


def is_pandas(data: Any) -> bool:
    """True for a pandas DataFrame, without importing pandas (a second of import time) when nobody else has."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(data, pandas.DataFrame)


def _from_arrow(table: pa.Table, columns: Sequence[str] | None) -> pl.DataFrame:
    """Zero-copy into polars (``rechunk=False``), converting only `columns` when given, after the schema check."""
    problem = schema_problem(table.schema)
    if problem is not None:
        raise problem
    if columns is not None:
        table = table.select([c for c in columns if c in set(table.column_names)])
    return pl.from_arrow(table, rechunk=False)  # type: ignore[return-value]


def to_polars(data: Any, columns: list[str] | None = None) -> pl.DataFrame:
    """`data` as a polars DataFrame; Arrow buffers are shared, not copied.

    Arrow tables (and record batches) convert zero-copy (``rechunk=False``); dictionary arrays become Categorical, large strings
    String. pandas frames go through Arrow (``preserve_index=False``; pandas 3 string columns are already
    Arrow-backed). A Parquet file or directory is scanned by polars (see `scan_parquet`). When `columns` is
    given, only those are converted or read: the rules need nothing else.

    Raises:
        UnreadableBatchError: duplicated column names or a column type polars cannot hold (see `schema_problem`).
        TypeError: for anything else; conversion errors propagate (the caller turns them into an outcome).
    """
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pa.Table):
        return _from_arrow(data, columns)
    if isinstance(data, pa.RecordBatch):
        return _from_arrow(pa.Table.from_batches([data]), columns)
    if is_pandas(data):
        with warnings.catch_warnings():
            # pyarrow 25 reads tz-aware columns through Series.values, which pandas 3.1 deprecates; the values it
            # gets are the UTC instants, which is what we keep, so the warning is noise for our callers.
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray that drops timezone")
            table = pa.Table.from_pandas(data, preserve_index=False)
        return _from_arrow(table, columns)
    if isinstance(data, str | os.PathLike):
        return read_parquet(data, columns)
    if isinstance(data, pl.LazyFrame):
        if columns is not None:
            present = set(data.collect_schema().names())
            data = data.select([c for c in columns if c in present])
        return data.collect()
    raise TypeError(
        f"expected a pyarrow.Table or RecordBatch, polars DataFrame/LazyFrame, pandas DataFrame or Parquet path, "
        f"got {type(data).__name__}"
    )
