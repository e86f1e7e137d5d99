"""Logical type families: which polars dtypes satisfy an ODCS logical type.

Readers disagree about physical types (Parquet writers, pandas round trips, Arrow dictionary encoding), so a
contract's logical type names a *family* of dtypes, not one dtype:

- ``string``: String, Categorical, Enum (Arrow ``string``, ``large_string`` and dictionary arrays land here).
- ``integer``: every signed and unsigned integer width, and also a float column whose non-null values are all
  integral (an integer column with nulls that went through pandas comes back as float64). That last case is
  data-dependent, so `type_problem` returns `FLOAT_AS_INTEGER` and the engine checks the values in its one pass.
- ``number``: any integer, float or decimal.
- ``timestamp``: Datetime of any unit, tz-aware or naive. ``date``: Date. ``time``: Time. ``boolean``: Boolean.
- ``object``: Struct. ``array``: List or Array.
- An all-null column (dtype Null) satisfies every family: there is no value to contradict it.

A physical type the contract names (``double``, ``varchar``, ``timestamp``...) is judged by the family it
implies; names we do not recognise are database-specific and left unjudged.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from guardrails.contract.model import LogicalType

FLOAT_AS_INTEGER: Final = "float-as-integer"
"""Sentinel from `type_problem`: a float column declared integer; valid only if every value is integral."""

_PHYSICAL_FAMILIES: Final[dict[str, LogicalType]] = {
    **dict.fromkeys(("string", "varchar", "text", "char", "large_string", "utf8"), LogicalType.STRING),
    **dict.fromkeys(
        ("double", "float", "float32", "float64", "real", "decimal", "numeric", "number"), LogicalType.NUMBER
    ),
    **dict.fromkeys(
        ("int", "integer", "bigint", "smallint", "tinyint", "long", "int8", "int16", "int32", "int64"),
        LogicalType.INTEGER,
    ),
    **dict.fromkeys(("timestamp", "timestamp_ntz", "timestamp_tz", "timestamptz", "datetime"), LogicalType.TIMESTAMP),
    "date": LogicalType.DATE,
    **dict.fromkeys(("boolean", "bool"), LogicalType.BOOLEAN),
}


def is_string(dtype: pl.DataType) -> bool:
    """String, Categorical or Enum: values that string rules (pattern, length, enum) can read."""
    return dtype == pl.String or isinstance(dtype, (pl.Categorical, pl.Enum))


def is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric()


def is_temporal_point(dtype: pl.DataType) -> bool:
    """Datetime (any unit, any zone) or Date: values that time rules can compare with an as-of instant."""
    return isinstance(dtype, pl.Datetime) or dtype == pl.Date


def _matches(logical: LogicalType, dtype: pl.DataType) -> bool | str:
    match logical:
        case LogicalType.STRING:
            return is_string(dtype)
        case LogicalType.INTEGER:
            return True if dtype.is_integer() else (FLOAT_AS_INTEGER if dtype.is_float() else False)
        case LogicalType.NUMBER:
            return dtype.is_numeric()
        case LogicalType.TIMESTAMP:
            return isinstance(dtype, pl.Datetime)
        case LogicalType.DATE:
            return dtype == pl.Date
        case LogicalType.TIME:
            return dtype == pl.Time
        case LogicalType.BOOLEAN:
            return dtype == pl.Boolean
        case LogicalType.OBJECT:
            return isinstance(dtype, pl.Struct)
        case LogicalType.ARRAY:
            return isinstance(dtype, (pl.List, pl.Array))
    raise AssertionError(logical)


def type_problem(logical: LogicalType, physical: str | None, dtype: pl.DataType) -> str | None:
    """Why `dtype` does not satisfy the declared types, `FLOAT_AS_INTEGER` if the values decide, else None."""
    if dtype == pl.Null:
        return None
    verdicts = [(logical, _matches(logical, dtype))]
    implied = _PHYSICAL_FAMILIES.get((physical or "").strip().lower())
    if implied is not None:
        verdicts.append((implied, _matches(implied, dtype)))
    for family, verdict in verdicts:
        if verdict is False:
            return f"expected a {family.value} column, got {dtype}"
    if any(verdict == FLOAT_AS_INTEGER for _, verdict in verdicts):
        return FLOAT_AS_INTEGER
    return None
