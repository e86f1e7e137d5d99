"""Each row rule compiled to ONE polars expression that is True where a row violates it.

This is the single source of truth for what a rule means: the fast engine evaluates these expressions in one
pass, and the pandera schema wraps the very same expressions in its checks. Every expression is null-free
(``fill_null(False)``), so counts, masks and pandera's failure cases agree.

Semantics, stated once:
- Nulls fail only `NotNullRule` and `MissingValuesRule`; range, enum, pattern, length and time rules skip them.
- NaN in a float column fails a range rule (it lies in no interval) and is not null.
- Uniqueness: every row of a duplicated key group fails (not just the repeats); a key with a null in any
  column is never a duplicate (SQL semantics).
- Patterns are full matches (``\\A(?:pattern)\\z``, Rust regex syntax) on strings; length counts characters.
- Time rules compare instants: tz-aware timestamps by their UTC instant, naive timestamps read as UTC, dates
  as midnight UTC, at the column's own resolution (ms/us/ns), against `as_of`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from guardrails._time import as_utc
from guardrails.contract._patterns import engine_error
from guardrails.contract.model import (
    AllowedValuesRule,
    LengthRule,
    MaxAgeRule,
    MissingValuesRule,
    NotInFutureRule,
    NotNullRule,
    PatternRule,
    RangeRule,
    RowRule,
    UniqueRule,
)
from guardrails.validation._types import is_numeric, is_string, is_temporal_point

Schema = dict[str, pl.DataType]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNIT = {"ms": timedelta(milliseconds=1), "us": timedelta(microseconds=1)}


class RuleNotApplicable(Exception):
    """The rule cannot run on this batch (missing column, a dtype the rule cannot read); the message says why."""


def _column(schema: Schema, name: str) -> tuple[pl.Expr, pl.DataType]:
    if name not in schema:
        raise RuleNotApplicable(f"column {name!r} is missing")
    dtype = schema[name]
    return pl.col(name), dtype


def _strings(schema: Schema, name: str, rule: RowRule) -> pl.Expr:
    col, dtype = _column(schema, name)
    if dtype == pl.Null:
        return col.cast(pl.String)
    if not is_string(dtype):
        raise RuleNotApplicable(f"{rule.kind} needs a string column, {name!r} is {dtype}")
    return col if dtype == pl.String else col.cast(pl.String)


def _instant(col: pl.Expr, dtype: pl.DataType) -> tuple[pl.Expr, str]:
    unit = dtype.time_unit if isinstance(dtype, pl.Datetime) else "us"
    return col.dt.epoch(unit), unit


def _ticks(moment: datetime, unit: str) -> int:
    delta = as_utc(moment) - _EPOCH
    if unit == "ns":
        return (delta // timedelta(microseconds=1)) * 1000
    return delta // _UNIT[unit]


def _times(schema: Schema, name: str, rule: RowRule) -> tuple[pl.Expr, str]:
    col, dtype = _column(schema, name)
    if not is_temporal_point(dtype):
        raise RuleNotApplicable(f"{rule.kind} needs a timestamp or date column, {name!r} is {dtype}")
    return _instant(col, dtype)


def _comparable(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """The column in the dtype `_values_for` builds: strings as String, numbers as Float64."""
    if isinstance(dtype, (pl.Categorical, pl.Enum)) or dtype == pl.Null:
        return col.cast(pl.String)
    return col.cast(pl.Float64) if is_numeric(dtype) and dtype != pl.Float64 else col


def _values_for(dtype: pl.DataType, values: tuple, rule: RowRule) -> pl.Series:
    """The rule's values as a Series the column can be compared with, or why not."""
    if is_string(dtype) or dtype == pl.Null:
        return pl.Series([str(v) for v in values if v is not None], dtype=pl.String)
    if dtype == pl.Boolean and all(isinstance(v, bool) for v in values):
        return pl.Series(list(values), dtype=pl.Boolean)
    if is_numeric(dtype) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pl.Series(list(values), dtype=pl.Float64)
    raise RuleNotApplicable(f"{rule.kind} values {list(values)!r} cannot be compared with a {dtype} column")


def _range_operands(rule: RangeRule, schema: Schema) -> tuple[pl.Expr, Any, Any]:
    """The column and bounds in comparable form: numbers as-is, instants as ticks, times as times."""
    col, dtype = _column(schema, rule.column)
    bounds = [b for b in (rule.minimum, rule.maximum) if b is not None]
    if dtype == pl.Null:
        return col, rule.minimum, rule.maximum
    if all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds):
        if not is_numeric(dtype):
            raise RuleNotApplicable(f"range needs a numeric column, {rule.column!r} is {dtype}")
        return col, rule.minimum, rule.maximum
    if all(isinstance(b, date) and not isinstance(b, datetime) or isinstance(b, datetime) for b in bounds):
        if not is_temporal_point(dtype):
            raise RuleNotApplicable(f"range with date/time bounds needs a timestamp or date column, {rule.column!r} is {dtype}")
        ticks, unit = _instant(col, dtype)
        low, high = (None if b is None else _ticks(_as_instant(b), unit) for b in (rule.minimum, rule.maximum))
        return ticks, low, high
    if all(isinstance(b, time) for b in bounds):
        if dtype != pl.Time:
            raise RuleNotApplicable(f"range with time-of-day bounds needs a time column, {rule.column!r} is {dtype}")
        return col, rule.minimum, rule.maximum
    raise RuleNotApplicable(f"range bounds {rule.minimum!r}..{rule.maximum!r} do not fit a {dtype} column")


def _as_instant(bound: date | datetime) -> datetime:
    """A date bound is midnight UTC; a naive datetime bound is UTC."""
    if isinstance(bound, datetime):
        return bound
    return datetime.combine(bound, time(), tzinfo=UTC)


def violation(rule: RowRule, schema: Schema, as_of: datetime) -> pl.Expr:
    """The expression True where a row violates `rule` (never null), or RuleNotApplicable."""
    return _violation(rule, schema, as_of).fill_null(False).alias(rule.rule_id)


def _violation(rule: RowRule, schema: Schema, as_of: datetime) -> pl.Expr:
    match rule:
        case NotNullRule():
            col, _ = _column(schema, rule.column)
            return col.is_null()
        case MissingValuesRule():
            col, dtype = _column(schema, rule.column)
            missing = [v for v in rule.missing_values if v is not None]
            if not missing:
                return col.is_null()
            return col.is_null() | _comparable(col, dtype).is_in(_values_for(dtype, tuple(missing), rule).implode())
        case UniqueRule():
            for key in rule.key_columns:
                _column(schema, key)
            keys = [pl.col(k) for k in rule.key_columns]
            duplicated = keys[0].is_duplicated() if len(keys) == 1 else pl.struct(keys).is_duplicated()
            return duplicated & pl.all_horizontal(k.is_not_null() for k in keys)
        case RangeRule():
            value, low, high = _range_operands(rule, schema)
            outside = pl.lit(False)
            if low is not None:
                outside = outside | (value <= low if rule.exclusive_minimum else value < low)
            if high is not None:
                outside = outside | (value >= high if rule.exclusive_maximum else value > high)
            return outside | value.is_nan() if schema[rule.column].is_float() else outside
        case AllowedValuesRule():
            col, dtype = _column(schema, rule.column)
            base = _comparable(col, dtype)
            return base.is_not_null() & ~base.is_in(_values_for(dtype, rule.values, rule).implode())
        case PatternRule():
            text = _strings(schema, rule.column, rule)
            if (problem := check_pattern(rule.pattern)) is not None:
                raise RuleNotApplicable(problem)
            return ~text.str.contains(rf"\A(?:{rule.pattern})\z")
        case LengthRule():
            length = _strings(schema, rule.column, rule).str.len_chars()
            outside = pl.lit(False)
            if rule.min_length is not None:
                outside = outside | (length < rule.min_length)
            if rule.max_length is not None:
                outside = outside | (length > rule.max_length)
            return outside
        case NotInFutureRule():
            ticks, unit = _times(schema, rule.column, rule)
            return ticks > _ticks(as_of + rule.tolerance, unit)
        case MaxAgeRule():
            ticks, unit = _times(schema, rule.column, rule)
            return ticks < _ticks(as_of - rule.max_age, unit)
    raise RuleNotApplicable(f"no row semantics for rule kind {str(rule.kind)!r}")


def non_integral(column: str) -> pl.Expr:
    """True where a float column declared integer holds a non-integral value (NaN and inf included)."""
    col = pl.col(column)
    return (col.is_nan() | col.is_infinite() | (col.floor() != col)).fill_null(False)


def check_pattern(pattern: str) -> str | None:
    """Why polars' regex engine rejects `pattern`, or None (checked before the one pass, so it cannot break it).

    The loader already refuses such patterns (`guardrails.contract._patterns.engine_error`, the same check);
    this guards contracts built in code.
    """
    problem = engine_error(pattern)
    return None if problem is None else f"invalid pattern {pattern!r}: {problem}"
