"""`to_pandera_schema`: the contract as a real pandera polars schema, built from the engine's own expressions.

Users get a `pandera.polars.DataFrameSchema` they can validate with, print, extend with their own checks,
or hand to tools that speak pandera. Every check wraps the expression `guardrails.validation._rules.violation`
compiles (True = the row violates), so pandera and `validate` cannot disagree on what a rule means:

- a column's row rules become checks on its `Column` (name = rule id, ``raise_warning`` for warning rules);
- rules spanning several columns (composite uniqueness) become dataframe-level checks;
- a rule with a tolerance (``mustBeLessThan: 1`` percent...) becomes a check returning one bool, since pandera
  has no notion of a failing-row budget;
- failure cases are reported under the rule id (the check's name);
- the logical type family and the row count become bool-returning checks (pandera dtypes are exact, our
  families are not). Columns carry no pandera dtype and are nullable: nulls are judged by the not-null rules.

Why the engine does not simply run this schema: pandera collects each check separately (one pass over the
data per check, plus a failure-case frame per failing check), which measured 1.5x-2.1x the single-pass floor
at 1M-10M rows where our engine stays within 1.16x; see `bench/contract.py` and `guardrails.validation`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl

from guardrails._extras import require_extra
from guardrails.contract.model import ColumnTypeRule, Contract, NO_FAILING_ROWS, RowCountRule, RowRule
from guardrails.outcome import Severity
from guardrails._time import as_utc
from guardrails.validation._rules import non_integral, violation
from guardrails.validation._types import FLOAT_AS_INTEGER, type_problem

if TYPE_CHECKING:
    import pandera.polars as pa
    from pandera.api.polars.types import PolarsData


def _row_check(rule: RowRule, as_of: datetime, *, dataframe_level: bool) -> "pa.Check":
    import pandera.polars as pa

    def passes(data: PolarsData) -> pl.LazyFrame | bool:
        frame = data.lazyframe
        broken = violation(rule, dict(frame.collect_schema()), as_of)
        if rule.threshold == NO_FAILING_ROWS:
            return frame.select((~broken).alias(rule.rule_id if dataframe_level else data.key))
        failing = frame.select(broken.sum()).collect().item()
        rows = frame.select(pl.len()).collect().item()
        observed = failing if rule.threshold.unit == "rows" else (100.0 * failing / rows if rows else 0.0)
        return rule.threshold.accepts(observed)

    return pa.Check(
        passes,
        name=rule.rule_id,
        raise_warning=rule.severity is Severity.WARNING,
        ignore_na=False,
    )


def _type_check(rule: ColumnTypeRule) -> "pa.Check":
    import pandera.polars as pa

    def passes(data: PolarsData) -> bool:
        frame = data.lazyframe
        problem = type_problem(rule.logical_type, rule.physical_type, frame.collect_schema()[data.key])
        if problem == FLOAT_AS_INTEGER:
            return not frame.select(non_integral(data.key).any()).collect().item()
        return problem is None

    return pa.Check(
        passes,
        name=rule.rule_id,
        raise_warning=rule.severity is Severity.WARNING,
    )


def _row_count_check(rule: RowCountRule) -> "pa.Check":
    import pandera.polars as pa

    def passes(data: PolarsData) -> bool:
        return rule.threshold.accepts(data.lazyframe.select(pl.len()).collect().item())

    return pa.Check(
        passes, name=rule.rule_id, raise_warning=rule.severity is Severity.WARNING
    )


def to_pandera_schema(contract: Contract, *, as_of: datetime | None = None) -> "pa.DataFrameSchema":
    """The contract as a pandera polars schema whose checks are the engine's rule expressions.

    Args:
        contract: the typed contract.
        as_of: the instant time rules (not in future, max age) are judged against, fixed when the schema is
            built (naive = UTC); defaults to now.

    Example:
        >>> import polars as pl, pandera.errors
        >>> from guardrails.contract import Contract, RangeRule
        >>> c = Contract(id="c", version="1", name="c", table="t",
        ...              rules=(RangeRule(rule_id="x.range", column="x", minimum=0),))
        >>> schema = to_pandera_schema(c)
        >>> try:
        ...     schema.validate(pl.DataFrame({"x": [1, -2, None]}), lazy=True)
        ... except pandera.errors.SchemaErrors as exc:
        ...     print(exc.failure_cases["check"].to_list(), exc.failure_cases["failure_case"].to_list())
        ['x.range'] ['-2']
    """
    # Imported on use: it costs a second that `validate` callers need not pay, and it is the [pandera] extra.
    pa = require_extra("pandera.polars", "pandera", "to_pandera_schema")

    as_of = as_utc(as_of) if as_of is not None else datetime.now(UTC)
    declared = {rule.column: rule for rule in contract.columns}
    column_checks: dict[str, list[pa.Check]] = {name: [] for name in declared}
    frame_checks: list[pa.Check] = []
    for rule in contract.rules:
        if isinstance(rule, ColumnTypeRule):
            column_checks[rule.column].append(_type_check(rule))
        elif isinstance(rule, RowCountRule):
            frame_checks.append(_row_count_check(rule))
        elif isinstance(rule, RowRule) and len(rule.columns) == 1 and rule.column in declared:
            column_checks[rule.column].append(_row_check(rule, as_of, dataframe_level=False))
        elif isinstance(rule, RowRule):
            frame_checks.append(_row_check(rule, as_of, dataframe_level=True))
    columns = {
        name: pa.Column(
            dtype=None,
            nullable=True,
            required=declared[name].required,
            checks=column_checks[name],
            description=declared[name].description or None,
        )
        for name in declared
    }
    return pa.DataFrameSchema(
        columns,
        checks=frame_checks,
        name=contract.table,
        title=contract.name,
        metadata={"contract_id": contract.id, "contract_version": contract.version},
    )
