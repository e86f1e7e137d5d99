"""Each row rule compiled to ONE ibis boolean expression, True where a row violates it: the second executor.

The rule objects (`guardrails.contract.model`) are the rule form; `guardrails.validation._rules` compiles them to
polars and states the semantics once (read its module docstring). This module compiles the same rules to ibis,
which pushes them down to DuckDB, PostgreSQL or Spark, and reproduces those semantics exactly:

- whether a rule can run at all is decided by the polars compiler itself, on the polars dtypes the engine's
  columns map to (`guardrails.engines._types`): the same `RuleNotApplicable`, with the same message;
- allowed and missing values are coerced by the polars compiler's own `_values_for`;
- nulls fail only not-null and missing-values rules; every expression is coalesced to False, never null;
- NaN fails a range rule (SQL engines order NaN above every number; the explicit ``isnan`` makes it explicit);
- uniqueness: a row fails when its key occurs more than once and no key column is null (SQL semantics; every
  row of a duplicated group fails): a semi-join on the duplicated keys for one key column, a window count over
  the key for composite keys (filter on it through `TableAudit.flagged`, never in a WHERE directly);
- patterns are full matches: ``\\A(?:p)\\z`` on DuckDB (RE2) and Spark (Java), ``^(?:p)$`` on PostgreSQL (POSIX
  AREs have no ``\\z``; ``$`` ends the string there since newline-sensitive matching is off). The contract's
  patterns are checked portable at load (`guardrails.contract._patterns`); the conformance suite runs the
  example's patterns on every engine;
- time rules compare instants: tz-aware columns against the UTC instant, naive ones against the same instant as
  naive UTC, dates as midnight UTC, with the as-of instant floored to the column's resolution as polars does.

Example:
    >>> import ibis, pyarrow as pa
    >>> from guardrails.contract.model import RangeRule
    >>> t = ibis.duckdb.connect().create_table("t", pa.table({"x": [1.0, -2.0, None, float("nan")]}))
    >>> rule = RangeRule(rule_id="x.range", column="x", minimum=0)
    >>> t.select(bad=violation(rule, t, datetime(2026, 1, 1, tzinfo=UTC))).bad.to_list()
    [False, True, False, True]
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import ibis
import ibis.expr.types as ir
import polars as pl

from guardrails._time import as_utc
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
from guardrails.engines._types import polars_schema
from guardrails.validation import _rules
from guardrails.validation._rules import RuleNotApplicable
from guardrails.validation._types import is_numeric, is_string

__all__ = ["RuleNotApplicable", "full_match", "non_integral", "violation"]

_FALSE = ibis.literal(False)


def full_match(pattern: str, dialect: str) -> str:
    """`pattern` anchored to match the whole string in `dialect`'s regex flavour (see the module docstring)."""
    if dialect == "postgres":
        return f"^(?:{pattern})$"
    return rf"\A(?:{pattern})\z"


def violation(
    rule: RowRule, table: ir.Table, as_of: datetime, *, schema: dict[str, pl.DataType] | None = None
) -> ir.BooleanValue:
    """The expression over `table` True where a row violates `rule` (never null), or `RuleNotApplicable`.

    Args:
        rule: a row rule of the contract.
        table: the ibis table the rule reads (its backend picks the regex dialect).
        as_of: the instant time rules are judged against (naive = UTC).
        schema: `table`'s schema as polars dtypes, when the caller already mapped it (`polars_schema`).
    """
    schema = polars_schema(table.schema()) if schema is None else schema
    as_of = as_utc(as_of)
    _rules.violation(rule, schema, as_of)  # the one decision whether the rule can run here (raises if not)
    return _violation(rule, table, schema, as_of).fill_null(False)


def _dialect(table: ir.Table) -> str:
    try:
        return table.get_backend().name
    except Exception:  # an unbound table (ibis.table(schema)): no backend to ask; DuckDB's flavour is ibis' default
        return "duckdb"


def _comparable(col: ir.Value, dtype: pl.DataType) -> ir.Value:
    """The column as `_rules._values_for` builds the values: strings as strings, numbers as float64."""
    if is_string(dtype) and dtype != pl.String or dtype == pl.Null:
        return col.cast("string")
    if is_numeric(dtype) and dtype != pl.Float64:
        return col.cast("float64")
    return col


def _isin(col: ir.Value, values: list[Any]) -> ir.BooleanValue:
    return col.isin(values) if values else _FALSE


def _instant(col: ir.Value, dtype: pl.DataType) -> tuple[ir.Value, str, bool]:
    """The column as instants (dates as naive midnight), its polars time unit, and whether it is tz-aware."""
    if isinstance(dtype, pl.Datetime):
        return col, dtype.time_unit, dtype.time_zone is not None
    return col.cast("timestamp"), "us", False


def _moment(moment: datetime, unit: str, aware: bool) -> ir.Value:
    """`moment` (UTC) floored to `unit` as polars' `_ticks` does, as a literal comparable with the column."""
    if unit == "ms":
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    moment = as_utc(moment)
    return ibis.literal(moment if aware else moment.replace(tzinfo=None))


def _range(rule: RangeRule, col: ir.Value, dtype: pl.DataType) -> ir.BooleanValue:
    if dtype == pl.Null:
        return _FALSE
    bounds = [b for b in (rule.minimum, rule.maximum) if b is not None]
    value, low, high = col, rule.minimum, rule.maximum
    if bounds and all(isinstance(b, date | datetime) for b in bounds):
        value, unit, aware = _instant(col, dtype)
        low, high = (None if b is None else _moment(_rules._as_instant(b), unit, aware) for b in (rule.minimum, rule.maximum))
    elif bounds and all(isinstance(b, time) for b in bounds):
        low, high = (None if b is None else ibis.literal(b) for b in (rule.minimum, rule.maximum))
    outside = _FALSE
    if low is not None:
        outside = outside | (value <= low if rule.exclusive_minimum else value < low)
    if high is not None:
        outside = outside | (value >= high if rule.exclusive_maximum else value > high)
    return outside | col.isnan() if dtype.is_float() else outside


def _violation(rule: RowRule, table: ir.Table, schema: dict[str, pl.DataType], as_of: datetime) -> ir.BooleanValue:
    dtype = schema.get(rule.column)
    col = table[rule.column]
    match rule:
        case NotNullRule():
            return col.isnull()
        case MissingValuesRule():
            missing = [v for v in rule.missing_values if v is not None]
            if not missing:
                return col.isnull()
            values = _rules._values_for(dtype, tuple(missing), rule).to_list()
            return col.isnull() | _isin(_comparable(col, dtype), values)
        case UniqueRule():
            keys = [table[k] for k in rule.key_columns]
            present = ibis.and_(*(k.notnull() for k in keys))
            if len(keys) == 1:
                # A semi-join on the duplicated keys (hash aggregate + hash join) rather than a window, which
                # partitions (and orders) the whole table; windows stay for composite keys.
                groups = table.filter(present).group_by(rule.key_columns[0]).aggregate(_gr_n=ibis._.count())
                return present & keys[0].isin(groups.filter(groups._gr_n > 1)[rule.key_columns[0]])
            return present & (keys[0].count().over(group_by=keys) > 1)
        case RangeRule():
            return _range(rule, col, dtype)
        case AllowedValuesRule():
            base = _comparable(col, dtype)
            return base.notnull() & ~_isin(base, _rules._values_for(dtype, rule.values, rule).to_list())
        case PatternRule():
            return ~_comparable(col, dtype).re_search(full_match(rule.pattern, _dialect(table)))
        case LengthRule():
            length = _comparable(col, dtype).length()
            outside = _FALSE
            if rule.min_length is not None:
                outside = outside | (length < rule.min_length)
            if rule.max_length is not None:
                outside = outside | (length > rule.max_length)
            return outside
        case NotInFutureRule():
            value, unit, aware = _instant(col, dtype)
            return value > _moment(as_of + rule.tolerance, unit, aware)
        case MaxAgeRule():
            value, unit, aware = _instant(col, dtype)
            return value < _moment(as_of - rule.max_age, unit, aware)
    raise RuleNotApplicable(f"no row semantics for rule kind {str(rule.kind)!r}")


def non_integral(col: ir.FloatingValue) -> ir.BooleanValue:
    """True where a float column declared integer holds a non-integral value (NaN and inf included)."""
    return (col.isnan() | col.isinf() | (col.floor() != col)).fill_null(False)

