"""Awkward physical types: logical type families, Arrow encodings, pandas round trips, time zones and units."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from guardrails.contract.model import (
    AllowedValuesRule,
    ColumnTypeRule,
    Contract,
    LengthRule,
    LogicalType,
    NotInFutureRule,
    PatternRule,
    RangeRule,
    Rule,
)
from guardrails.outcome import CheckStatus
from guardrails.validation import validate
from guardrails.validation._types import FLOAT_AS_INTEGER, type_problem

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)

FAMILIES = [
    (LogicalType.STRING, pl.String, True),
    (LogicalType.STRING, pl.Categorical(), True),
    (LogicalType.STRING, pl.Enum(["a"]), True),
    (LogicalType.STRING, pl.Int64, False),
    (LogicalType.INTEGER, pl.UInt8, True),
    (LogicalType.INTEGER, pl.Int32, True),
    (LogicalType.INTEGER, pl.Float64, FLOAT_AS_INTEGER),
    (LogicalType.INTEGER, pl.String, False),
    (LogicalType.NUMBER, pl.Int16, True),
    (LogicalType.NUMBER, pl.Float32, True),
    (LogicalType.NUMBER, pl.Decimal(10, 2), True),
    (LogicalType.NUMBER, pl.Boolean, False),
    (LogicalType.TIMESTAMP, pl.Datetime("ns"), True),
    (LogicalType.TIMESTAMP, pl.Datetime("ms", "Asia/Tokyo"), True),
    (LogicalType.TIMESTAMP, pl.Date, False),
    (LogicalType.DATE, pl.Date, True),
    (LogicalType.DATE, pl.Datetime("us"), False),
    (LogicalType.BOOLEAN, pl.Boolean, True),
    (LogicalType.BOOLEAN, pl.Int8, False),
    (LogicalType.ARRAY, pl.List(pl.Int64), True),
    (LogicalType.OBJECT, pl.Struct({"a": pl.Int64}), True),
    (LogicalType.OBJECT, pl.Null, True),
]


@pytest.mark.parametrize(("logical", "dtype", "verdict"), FAMILIES, ids=lambda v: str(v))
def test_logical_type_families(logical: LogicalType, dtype: pl.DataType, verdict: bool | str) -> None:
    """Each logical type accepts its whole dtype family and nothing else (float-as-integer decided by values)."""
    problem = type_problem(logical, None, dtype)
    expected = None if verdict is True else (FLOAT_AS_INTEGER if verdict == FLOAT_AS_INTEGER else problem)
    assert problem == expected and (verdict is not False or problem)


def test_physical_type_is_judged_by_the_family_it_implies() -> None:
    """physicalType double rejects a string column; an unknown database type name is left unjudged."""
    assert type_problem(LogicalType.NUMBER, "double", pl.Int64) is None
    assert type_problem(LogicalType.STRING, "double", pl.String)
    assert type_problem(LogicalType.STRING, "NVARCHAR2(40)", pl.String) is None


def contract_of(*rules: Rule) -> Contract:
    return Contract(id="t", version="1", name="t", table="t", rules=rules)


def statuses(contract: Contract, data) -> dict[str, tuple[CheckStatus, int]]:
    return {r.rule_id: (r.status, r.failing_rows) for r in validate(contract, data, as_of=AS_OF).outcome.rules}


def test_integer_column_read_back_as_float_passes_while_integral(tmp_path) -> None:
    """An integer column with nulls that went through pandas (float64) passes `integer`; a 1.5 in it fails.

    pandas' NaN means "missing", so it arrives as null and is not counted as non-integral.
    """
    contract = contract_of(
        ColumnTypeRule(rule_id="n.type", column="n", logical_type=LogicalType.INTEGER),
        RangeRule(rule_id="n.range", column="n", minimum=0, maximum=10),
    )
    frame = pd.DataFrame({"n": [1, None, 11]})
    assert frame["n"].dtype == np.float64
    path = tmp_path / "ints.parquet"
    frame.to_parquet(path)
    assert statuses(contract, path) == {"n.type": (CheckStatus.PASSED, 0), "n.range": (CheckStatus.FAILED, 1)}
    broken = pd.DataFrame({"n": [1.5, None, float("nan")]})
    result = statuses(contract, broken)
    assert result["n.type"] == (CheckStatus.FAILED, 1)
    polars_nan = statuses(contract, pl.DataFrame({"n": [1.5, None, float("nan")]}))
    assert polars_nan["n.type"] == (CheckStatus.FAILED, 2)


def test_large_strings_and_dictionary_arrays_from_parquet(tmp_path) -> None:
    """large_string and dictionary-encoded (categorical) columns satisfy `string` and run string rules."""
    table = pa.table(
        {
            "big": pa.array(["ok", "toolong", None], type=pa.large_string()),
            "cat": pa.array(["EU", "XX", "EU"]).dictionary_encode(),
        }
    )
    path = tmp_path / "strings.parquet"
    pq.write_table(table, path)
    contract = contract_of(
        ColumnTypeRule(rule_id="big.type", column="big", logical_type=LogicalType.STRING),
        ColumnTypeRule(rule_id="cat.type", column="cat", logical_type=LogicalType.STRING),
        LengthRule(rule_id="big.length", column="big", max_length=3),
        AllowedValuesRule(rule_id="cat.allowed", column="cat", values=("EU",)),
        PatternRule(rule_id="cat.pattern", column="cat", pattern="[A-Z]{2}"),
        LengthRule(rule_id="cat.length", column="cat", min_length=2, max_length=2),
    )
    expected = {
        "big.type": (CheckStatus.PASSED, 0),
        "cat.type": (CheckStatus.PASSED, 0),
        "big.length": (CheckStatus.FAILED, 1),
        "cat.allowed": (CheckStatus.FAILED, 1),
        "cat.pattern": (CheckStatus.PASSED, 0),
        "cat.length": (CheckStatus.PASSED, 0),
    }
    assert statuses(contract, table) == expected
    assert statuses(contract, path) == expected
    assert statuses(contract, pl.from_arrow(table).with_columns(pl.col("cat").cast(pl.Enum(["EU", "XX"])))) == expected


def test_pandas_input_with_categoricals_nullable_ints_and_tz_timestamps() -> None:
    """pandas categoricals, nullable Int64 and tz-aware datetimes convert and judge like their Arrow forms."""
    frame = pd.DataFrame(
        {
            "c": pd.Categorical(["a", "b", None]),
            "i": pd.array([1, None, 40], dtype="Int64"),
            "t": pd.to_datetime(["2026-05-31T23:00", "2026-06-01T01:00", None]).tz_localize("UTC").tz_convert("Asia/Tokyo"),
        }
    )
    contract = contract_of(
        ColumnTypeRule(rule_id="c.type", column="c", logical_type=LogicalType.STRING),
        ColumnTypeRule(rule_id="i.type", column="i", logical_type=LogicalType.INTEGER),
        ColumnTypeRule(rule_id="t.type", column="t", logical_type=LogicalType.TIMESTAMP),
        AllowedValuesRule(rule_id="c.allowed", column="c", values=("a",)),
        RangeRule(rule_id="i.range", column="i", maximum=10),
        NotInFutureRule(rule_id="t.future", column="t"),
    )
    result = statuses(contract, frame)
    assert all(result[f"{c}.type"] == (CheckStatus.PASSED, 0) for c in "cit")
    assert result["c.allowed"] == result["i.range"] == result["t.future"] == (CheckStatus.FAILED, 1)


@pytest.mark.parametrize("unit", ["ms", "us", "ns"])
@pytest.mark.parametrize("tz", [None, "UTC", "Europe/Berlin"])
def test_arrow_timestamps_of_every_unit_and_zone(unit: str, tz: str | None) -> None:
    """Arrow timestamps in ms/us/ns, naive or zoned, satisfy `timestamp` and are judged by their UTC instant."""
    instants = [datetime(2026, 5, 31, 23, 59, 59), datetime(2026, 6, 1, 0, 0, 1)]
    utc_array = pa.array(instants, type=pa.timestamp(unit, tz="UTC"))
    array = utc_array.cast(pa.timestamp(unit, tz=tz)) if tz else pa.array(instants, type=pa.timestamp(unit))
    contract = contract_of(
        ColumnTypeRule(rule_id="t.type", column="t", logical_type=LogicalType.TIMESTAMP),
        NotInFutureRule(rule_id="t.future", column="t"),
    )
    assert statuses(contract, pa.table({"t": array})) == {
        "t.type": (CheckStatus.PASSED, 0),
        "t.future": (CheckStatus.FAILED, 1),
    }


def test_optional_absent_column_passes_required_missing_fails() -> None:
    """An absent optional column and its rules pass with a note; an absent required column fails its type rule."""
    contract = contract_of(
        ColumnTypeRule(rule_id="o.type", column="o", logical_type=LogicalType.STRING, required=False),
        PatternRule(rule_id="o.pattern", column="o", pattern="x"),
        ColumnTypeRule(rule_id="r.type", column="r", logical_type=LogicalType.STRING),
    )
    result = validate(contract, pl.DataFrame({"z": [1]}), as_of=AS_OF)
    by_id = {r.rule_id: r for r in result.outcome.rules}
    assert by_id["o.type"].status is CheckStatus.PASSED and "absent" in by_id["o.type"].message
    assert by_id["o.pattern"].status is CheckStatus.PASSED and "absent" in by_id["o.pattern"].message
    assert by_id["r.type"].status is CheckStatus.FAILED and result.rejected_rows is None
