"""Turning any accepted batch into a polars frame without copying where the formats allow it."""

from __future__ import annotations

import os
import sys
import warnings
from typing import TYPE_CHECKING, Any, TypeAlias

import polars as pl
import pyarrow as pa

if TYPE_CHECKING:
    import pandas as pd

    Batch: TypeAlias = pa.Table | pl.DataFrame | pl.LazyFrame | pd.DataFrame | str | os.PathLike[str]
    """What the engines accept (a Parquet path is scanned lazily)."""


def _is_pandas(data: Any) -> bool:
    """True for a pandas DataFrame, without importing pandas (a second of import time) when nobody else has."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(data, pandas.DataFrame)


def to_polars(data: Any, columns: list[str] | None = None) -> pl.DataFrame:
    """`data` as a polars DataFrame; Arrow buffers are shared, not copied.

    Arrow tables convert zero-copy (``rechunk=False``); dictionary arrays become Categorical, large strings
    String. pandas frames go through Arrow (``preserve_index=False``; pandas 3 string columns are already
    Arrow-backed). A LazyFrame or a Parquet path is collected once, keeping only `columns` when given, so the
    scan reads only what the contract needs.

    Raises:
        TypeError: for anything else; conversion errors propagate (the caller turns them into an outcome).
    """
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pa.Table):
        return pl.from_arrow(data, rechunk=False)  # type: ignore[return-value]
    if _is_pandas(data):
        with warnings.catch_warnings():
            # pyarrow 25 reads tz-aware columns through Series.values, which pandas 3.1 deprecates; the values it
            # gets are the UTC instants, which is what we keep, so the warning is noise for our callers.
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray that drops timezone")
            table = pa.Table.from_pandas(data, preserve_index=False)
        return pl.from_arrow(table, rechunk=False)  # type: ignore[return-value]
    if isinstance(data, str | os.PathLike):
        data = pl.scan_parquet(data)
    if isinstance(data, pl.LazyFrame):
        if columns is not None:
            present = set(data.collect_schema().names())
            data = data.select([c for c in columns if c in present])
        return data.collect()
    raise TypeError(
        f"expected a pyarrow.Table, polars DataFrame/LazyFrame, pandas DataFrame or Parquet path, "
        f"got {type(data).__name__}"
    )
