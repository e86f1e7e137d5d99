"""Property tests: counts ignore row order, the mask matches a plain-Python oracle, pandera agrees with the engine."""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pandera.errors
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from guardrails.contract.model import (
    AllowedValuesRule,
    Contract,
    NotNullRule,
    PatternRule,
    RangeRule,
    UniqueRule,
)
from guardrails.outcome import Severity
from guardrails.validation import to_pandera_schema, validate

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
CONTRACT = Contract(
    id="p",
    version="1",
    name="p",
    table="p",
    primary_key=("k",),
    rules=(
        NotNullRule(rule_id="k.not_null", column="k"),
        UniqueRule(rule_id="k.unique", column="k"),
        RangeRule(rule_id="x.range", column="x", minimum=0, maximum=10),
        AllowedValuesRule(rule_id="s.allowed", column="s", values=("a", "b"), severity=Severity.WARNING),
        PatternRule(rule_id="s.pattern", column="s", pattern="[ab]"),
    ),
)

rows = st.lists(
    st.tuples(
        st.none() | st.sampled_from(["k1", "k2", "k3", "k4", "k5", "k6"]),
        st.none() | st.floats(-5, 15, allow_infinity=False),
        st.none() | st.sampled_from(["a", "b", "c", "ab", ""]),
    ),
    min_size=0,
    max_size=40,
)


def frame_of(data: list[tuple]) -> pl.DataFrame:
    k, x, s = zip(*data, strict=True) if data else ((), (), ())
    return pl.DataFrame({"k": list(k), "x": list(x), "s": list(s)}, schema={"k": pl.String, "x": pl.Float64, "s": pl.String})


def oracle(data: list[tuple]) -> dict[str, list[bool]]:
    """Each rule's per-row verdict computed in plain Python, independently of polars."""
    keys = Counter(k for k, _, _ in data if k is not None)
    return {
        "k.not_null": [k is None for k, _, _ in data],
        "k.unique": [k is not None and keys[k] > 1 for k, _, _ in data],
        "x.range": [x is not None and (math.isnan(x) or not 0 <= x <= 10) for _, x, _ in data],
        "s.allowed": [s is not None and s not in ("a", "b") for _, _, s in data],
        "s.pattern": [s is not None and re.fullmatch("[ab]", s) is None for _, _, s in data],
    }


@given(rows, st.randoms(use_true_random=False))
def test_failing_counts_ignore_row_order(data: list[tuple], random) -> None:
    """Shuffling the rows changes no rule's failing count and permutes the mask the same way."""
    order = list(range(len(data)))
    random.shuffle(order)
    before = validate(CONTRACT, frame_of(data), as_of=AS_OF)
    after = validate(CONTRACT, frame_of([data[i] for i in order]), as_of=AS_OF)
    assert [r.failing_rows for r in before.outcome.rules] == [r.failing_rows for r in after.outcome.rules]
    assert np.array_equal(before.rejected_rows[order], after.rejected_rows)


@given(rows)
def test_counts_and_mask_match_a_python_oracle(data: list[tuple]) -> None:
    """Per-rule counts equal the oracle's; the mask is the OR of failed error rules (warnings excluded)."""
    expected = oracle(data)
    result = validate(CONTRACT, frame_of(data), as_of=AS_OF)
    assert {r.rule_id: r.failing_rows for r in result.outcome.rules} == {k: sum(v) for k, v in expected.items()}
    blocking = [v for k, v in expected.items() if k != "s.allowed"]
    mask = [any(column[i] for column in blocking) for i in range(len(data))]
    assert result.rejected_rows.tolist() == mask
    assert result.outcome.metrics["failing_rows"] == sum(mask) == int(result.rejected_rows.sum())
    assert len(result.outcome.sample) == min(sum(any(v[i] for v in expected.values()) for i in range(len(data))), 20)


@given(rows)
def test_pandera_schema_reports_the_same_failures(data: list[tuple]) -> None:
    """The pandera schema built from the contract fails exactly the rows the engine counts, rule by rule."""
    result = validate(CONTRACT, frame_of(data), as_of=AS_OF)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warning-severity rule is reported as a pandera SchemaWarning
        try:
            to_pandera_schema(CONTRACT, as_of=AS_OF).validate(frame_of(data), lazy=True)
            counts: dict[str, int] = {}
        except pandera.errors.SchemaErrors as exc:
            counts = dict(exc.failure_cases.group_by("check").len().iter_rows())
    expected = {r.rule_id: r.failing_rows for r in result.outcome.rules if r.failing_rows and r.severity is Severity.ERROR}
    assert counts == expected
