"""An engine's column types read as the polars dtypes the in-memory engine would see for the same data.

The type families (which dtypes satisfy ``string``, ``integer``...) and the type checks of the rules are written
once, over polars dtypes (`guardrails.validation._types`, `guardrails.validation._rules`). Rather than write them a
second time over ibis dtypes, an ibis schema is mapped to the polars dtypes polars gives the same column when it
reads the same Parquet or Arrow data, and the one implementation judges them; its messages then read the same on
every engine (``expected a number column, got String``).

Example:
    >>> import ibis
    >>> polars_schema(ibis.schema({"id": "string", "at": "timestamp('UTC', 3)", "x": "decimal(12, 2)"}))
    {'id': String, 'at': Datetime(time_unit='ms', time_zone='UTC'), 'x': Decimal(precision=12, scale=2)}
"""

from __future__ import annotations

from typing import Any

import polars as pl

REJECTED_COLUMN = "_guardrails_rejected"
"""True where a row must not be published (`TableAudit.flagged`)."""
REASONS_COLUMN = "_guardrails_reasons"
"""The rules each rejected row broke, comma-separated: the column quarantined rows carry on every engine."""

_SIMPLE = {
    "Boolean": pl.Boolean,
    "Int8": pl.Int8,
    "Int16": pl.Int16,
    "Int32": pl.Int32,
    "Int64": pl.Int64,
    "UInt8": pl.UInt8,
    "UInt16": pl.UInt16,
    "UInt32": pl.UInt32,
    "UInt64": pl.UInt64,
    "Float16": pl.Float32,
    "Float32": pl.Float32,
    "Float64": pl.Float64,
    "String": pl.String,
    "Date": pl.Date,
    "Time": pl.Time,
    "Null": pl.Null,
    "Binary": pl.Binary,
    "Interval": pl.Duration,
}


def polars_dtype(dtype: Any) -> pl.DataType:
    """The polars dtype of an ibis dtype; types polars has no family for (JSON, UUID, geometry) map to Object."""
    name = type(dtype).__name__
    if name in _SIMPLE:
        return _SIMPLE[name]()
    if name == "Timestamp":
        scale = dtype.scale
        unit = "us" if scale is None or 4 <= scale <= 6 else "ms" if scale <= 3 else "ns"
        return pl.Datetime(unit, dtype.timezone)
    if name == "Decimal":
        precision = dtype.precision if dtype.precision is not None else 38
        return pl.Decimal(precision, dtype.scale if dtype.scale is not None else 0)
    if name == "Array":
        return pl.List(polars_dtype(dtype.value_type))
    if name == "Struct":
        return pl.Struct({k: polars_dtype(v) for k, v in dtype.items()})
    return pl.Object()


def polars_schema(schema: Any) -> dict[str, pl.DataType]:
    """Every column of an ibis schema with its polars dtype, in order."""
    return {name: polars_dtype(dtype) for name, dtype in schema.items()}
