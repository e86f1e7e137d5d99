"""Rule semantics on small hand-built frames: nulls, uniqueness groups, full-match patterns, thresholds, bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from guardrails.contract.model import (
    AllowedValuesRule,
    Contract,
    LengthRule,
    MaxAgeRule,
    MissingValuesRule,
    NotInFutureRule,
    NotNullRule,
    PatternRule,
    RangeRule,
    Rule,
    Threshold,
    UniqueRule,
)
from guardrails.outcome import CheckStatus
from guardrails.validation import validate

AS_OF = datetime(2026, 6, 1, 12, tzinfo=UTC)


def contract_of(*rules: Rule, primary_key: tuple[str, ...] = ()) -> Contract:
    return Contract(id="t", version="1", name="t", table="t", rules=rules, primary_key=primary_key)


def failing(rule: Rule, frame: pl.DataFrame) -> list[bool]:
    """Per-row verdict of one rule (True = the row broke it) via the engine's mask."""
    result = validate(contract_of(rule), frame, as_of=AS_OF)
    assert result.rejected_rows is not None, result.outcome.rules
    return result.rejected_rows.tolist()


def test_nulls_fail_only_not_null_rules() -> None:
    """A null passes range, enum, pattern and length rules, and fails not-null and missing-values rules."""
    frame = pl.DataFrame({"s": [None, "ab"], "x": [None, 1.0]})
    assert failing(RangeRule(rule_id="r", column="x", minimum=5), frame) == [False, True]
    assert failing(AllowedValuesRule(rule_id="a", column="s", values=("zz",)), frame) == [False, True]
    assert failing(PatternRule(rule_id="p", column="s", pattern="z+"), frame) == [False, True]
    assert failing(LengthRule(rule_id="l", column="s", min_length=3), frame) == [False, True]
    assert failing(NotNullRule(rule_id="n", column="s"), frame) == [True, False]
    missing = MissingValuesRule(rule_id="m", column="s", missing_values=("ab", "N/A"))
    assert failing(missing, frame) == [True, True]


def test_uniqueness_fails_whole_groups_and_ignores_null_keys() -> None:
    """Every row of a duplicated key fails; keys with a null (single or composite) never count as duplicates."""
    frame = pl.DataFrame({"k": ["a", "b", "a", None, None, "c"], "j": [1, 2, 1, 3, 3, None]})
    assert failing(UniqueRule(rule_id="u", column="k"), frame) == [True, False, True, False, False, False]
    composite = UniqueRule(rule_id="u2", column="k", key_columns=("k", "j"))
    assert failing(composite, frame.with_columns(pl.Series("j", [1, 2, 1, 3, 3, 4]))) == [True, False, True] + [False] * 3
    assert failing(composite, frame.with_columns(pl.Series("j", [1, 2, 2, 3, 3, 4]))) == [False] * 6


def test_pattern_is_a_full_match() -> None:
    """A pattern must match the whole value: a match inside a longer value fails, anchors are optional."""
    frame = pl.DataFrame({"s": ["tx_12", "xtx_12", "tx_123", "tx_12\n"]})
    assert failing(PatternRule(rule_id="p", column="s", pattern="tx_[0-9]{2}"), frame) == [False, True, True, True]
    assert failing(PatternRule(rule_id="p", column="s", pattern="^tx_[0-9]{2}$"), frame) == [False, True, True, True]


def test_range_bounds_exclusive_flags_and_nan() -> None:
    """Inclusive bounds accept the edge, exclusive ones reject it, NaN lies in no interval."""
    frame = pl.DataFrame({"x": [0.0, 5.0, 10.0, float("nan"), None]})
    assert failing(RangeRule(rule_id="r", column="x", minimum=0, maximum=10), frame) == [False, False, False, True, False]
    exclusive = RangeRule(rule_id="r", column="x", minimum=0, maximum=10, exclusive_minimum=True, exclusive_maximum=True)
    assert failing(exclusive, frame) == [True, False, True, True, False]


def test_range_with_date_and_timestamp_bounds() -> None:
    """Date bounds judge date columns, tz-aware datetime bounds judge timestamps by their instant."""
    dates = pl.DataFrame({"d": [date(2026, 1, 1), date(2026, 2, 1)]})
    assert failing(RangeRule(rule_id="r", column="d", maximum=date(2026, 1, 15)), dates) == [False, True]
    paris = pl.DataFrame({"t": [datetime(2026, 1, 1, 0, 30), datetime(2026, 1, 1, 1, 30)]}).with_columns(
        pl.col("t").dt.replace_time_zone("Europe/Paris")
    )
    bound = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)  # 01:00 in Paris
    assert failing(RangeRule(rule_id="r", column="t", minimum=bound), paris) == [True, False]


def test_percent_threshold_tolerates_a_budget() -> None:
    """A percent threshold passes while the failing share stays under it and fails once it does not."""
    rule = NotNullRule(rule_id="n", column="x", threshold=Threshold("mustBeLessThan", 30, unit="percent"))
    under = validate(contract_of(rule), pl.DataFrame({"x": [None, 1, 2, 3]}), as_of=AS_OF).outcome.rules[0]
    over = validate(contract_of(rule), pl.DataFrame({"x": [None, None, 2, 3]}), as_of=AS_OF).outcome.rules[0]
    assert (under.status, under.observed, under.failing_rows) == (CheckStatus.PASSED, 25.0, 1)
    assert (over.status, over.observed) == (CheckStatus.FAILED, 50.0)


def test_tolerated_failures_do_not_reject_rows() -> None:
    """Rows breaking a rule whose threshold still passes stay publishable."""
    rule = NotNullRule(rule_id="n", column="x", threshold=Threshold("mustBeLessOrEqualTo", 1))
    result = validate(contract_of(rule), pl.DataFrame({"x": [None, 1]}), as_of=AS_OF)
    assert result.outcome.passed and not result.rejected_rows.any() and result.outcome.rules[0].failing_rows == 1


@pytest.mark.parametrize("zone", [None, "UTC", "America/New_York"])
@pytest.mark.parametrize("unit", ["ms", "us", "ns"])
def test_time_rules_compare_instants_at_any_zone_and_resolution(zone: str | None, unit: str) -> None:
    """Timestamps one millisecond past as-of are future and ones older than the max age are stale, in any zone and unit."""
    instants = [AS_OF + timedelta(milliseconds=1), AS_OF, AS_OF - timedelta(days=2, milliseconds=1), AS_OF - timedelta(days=2)]
    column = pl.Series("t", [i.replace(tzinfo=None) for i in instants], dtype=pl.Datetime(unit))
    column = column.dt.replace_time_zone("UTC")
    if zone is None:
        column = column.dt.replace_time_zone(None)  # naive timestamps are read as UTC
    elif zone != "UTC":
        column = column.dt.convert_time_zone(zone)
    frame = column.to_frame()
    assert failing(NotInFutureRule(rule_id="f", column="t"), frame) == [True, False, False, False]
    assert failing(MaxAgeRule(rule_id="a", column="t", max_age=timedelta(days=2)), frame) == [False, False, True, False]
    tolerant = NotInFutureRule(rule_id="f", column="t", tolerance=timedelta(seconds=1))
    assert failing(tolerant, frame) == [False] * 4


def test_naive_as_of_is_read_as_utc() -> None:
    """A naive as-of time means UTC, so it judges exactly like the aware one."""
    frame = pl.DataFrame({"t": [AS_OF + timedelta(seconds=1)]})
    rule = NotInFutureRule(rule_id="f", column="t")
    aware = validate(contract_of(rule), frame, as_of=AS_OF).outcome.rules
    naive = validate(contract_of(rule), frame, as_of=AS_OF.replace(tzinfo=None)).outcome.rules
    assert aware == naive and aware[0].failing_rows == 1


def test_rules_that_cannot_run_are_errors_with_reasons() -> None:
    """An invalid regex, a missing column and incomparable enum values each make only their rule ERROR."""
    frame = pl.DataFrame({"s": ["a"], "x": [1]})
    rules = (
        PatternRule(rule_id="bad_regex", column="s", pattern="(unclosed"),
        NotNullRule(rule_id="gone", column="nope"),
        AllowedValuesRule(rule_id="mixed", column="x", values=("one",)),
        NotNullRule(rule_id="fine", column="s"),
    )
    result = validate(contract_of(*rules), frame, as_of=AS_OF)
    status = {r.rule_id: (r.status, r.message) for r in result.outcome.rules}
    assert status["bad_regex"][0] is CheckStatus.ERROR and "invalid pattern" in status["bad_regex"][1]
    assert status["gone"][0] is CheckStatus.ERROR and "'nope' is missing" in status["gone"][1]
    assert status["mixed"][0] is CheckStatus.ERROR and "cannot be compared" in status["mixed"][1]
    assert status["fine"][0] is CheckStatus.PASSED
    assert result.rejected_rows is None and result.outcome.blocks_publication


def test_numeric_allowed_values_match_across_int_and_float() -> None:
    """Allowed numbers compare by value whether the column holds integers or floats."""
    rule = AllowedValuesRule(rule_id="a", column="x", values=(1, 2.5))
    assert failing(rule, pl.DataFrame({"x": [1, 2, None]})) == [False, True, False]
    assert failing(rule, pl.DataFrame({"x": [1.0, 2.5, 3.0]})) == [False, False, True]
