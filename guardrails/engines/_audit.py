"""`audit_table`: a contract judged where the table lives (DuckDB, PostgreSQL, Spark), shaped as `validate`'s.

The outcome is built by the very routines the polars engine uses (`guardrails.validation._engine`: table rules,
thresholds, messages, the one `judge`); only the measuring runs in the engine:

1. ONE aggregate query: the row count, every per-row rule's failing count (``SUM(CASE WHEN violation THEN 1
   ELSE 0 END)``; one-column uniqueness is a semi-join on the duplicated keys), the integrality of float columns
   declared integer, and the rows breaking any error-severity rule that tolerates no failing row;
2. one query per composite-key uniqueness rule (a ``GROUP BY key HAVING COUNT(*) > 1``);
3. only when a failed blocking rule tolerates some failing rows or is a composite key: the count of rows that
   broke any failed blocking rule (one more aggregate);
4. when row rules failed, the capped sample: ``sample_size`` failing rows with the primary key, the offending
   columns and ``_rules``. Rows of a table have no position, so ``_row`` is absent.

``type: sql`` and ``type: custom`` rules are *not run* in an engine (fail closed; ``allow_unrun`` records them as
warnings); they run on the in-memory engine (`guardrails.validation.validate`). Data problems never raise: a
table that cannot be read or queried is an outcome with status ERROR and a one-line error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import polars as pl

from guardrails.engines._types import REASONS_COLUMN, REJECTED_COLUMN
from guardrails.contract._quality import is_gx_engine
from guardrails.contract.model import Contract, CustomRule, RowRule, Rule, SqlRule, UniqueRule
from guardrails.engines._compile import RuleNotApplicable, non_integral, violation
from guardrails.engines._types import polars_schema
from guardrails.outcome import (
    CheckOutcome,
    CheckStatus,
    RuleResult,
    Severity,
    not_run,
)
from guardrails.validation._custom import run_custom_rules
from guardrails.validation._engine import (
    ContractRun,
    _judge,
    _optional_absent,
    _result,
    _table_results,
)
from guardrails.validation._sample import capped_sample, json_safe_rows

SQL_NOT_RUN = "type: sql rules run on the in-memory engine (--engine polars), not pushed down to {backend}"


@dataclass(frozen=True)
class TableAudit:
    """A contract's verdict on a table in its engine, and the predicates that split it.

    Attributes:
        outcome: shaped exactly like `validate`'s (same rules, counts, statuses, messages, metrics and sample).
        rejected: True where the row must not be published (it broke a failed error-severity row rule); None when
            the table cannot be split row by row (the same cases as `ContractValidation.rejected_rows`); the
            literal False when nothing blocks.
        violations: for each failed row rule, the expression True where a row broke it (for a reasons column).
    """

    outcome: CheckOutcome
    rejected: ir.BooleanValue | None
    violations: Mapping[str, ir.BooleanValue] = field(default_factory=dict)

    def flagged(self, table: ir.Table) -> ir.Table:
        """`table` with two more columns: `REJECTED_COLUMN` (bool) and `REASONS_COLUMN` (the ids of the failed rules
        the row broke, comma-separated, NULL when none).

        Filter on these columns, never on `rejected` itself: a uniqueness predicate is a window function, which
        SQL forbids in a WHERE clause (and ibis does not move it out for every backend). Raises ValueError when
        the table cannot be split (`rejected` is None).
        """
        if self.rejected is None:
            raise ValueError("this table cannot be split row by row: rejected is None (quarantine it whole)")
        reasons = [ibis.ifelse(v, ibis.literal(rid), ibis.null("string")) for rid, v in self.violations.items()]
        text = ibis.literal(None, "string") if not reasons else _joined(reasons)
        return table.mutate(**{REJECTED_COLUMN: self.rejected, REASONS_COLUMN: text})

    def split(self, table: ir.Table) -> tuple[ir.Table, ir.Table]:
        """(valid, invalid) rows of `table`, each with `table`'s columns only. Raises ValueError when unsplittable."""
        if self.rejected is None:
            raise ValueError("this table cannot be split row by row: rejected is None (quarantine it whole)")
        flagged = table.mutate(**{REJECTED_COLUMN: self.rejected})
        columns = table.columns
        return (
            flagged.filter(~flagged[REJECTED_COLUMN]).select(*columns),
            flagged.filter(flagged[REJECTED_COLUMN]).select(*columns),
        )




def _joined(parts: list[ir.StringValue]) -> ir.StringValue:
    """The non-null parts joined with ``", "`` (NULL when all are null): ``concat_ws``, which skips NULLs in DuckDB,
    PostgreSQL and Spark. Linear in the parts (a nested CASE per part would repeat the text exponentially)."""
    return ibis.literal(", ").join(parts).nullif("")


def _backend_name(table: ir.Table) -> str:
    try:
        return table.get_backend().name
    except Exception:  # an unbound table: say so rather than fail the message
        return "the engine"


def _scalar_row(expr: ir.Table) -> dict[str, Any]:
    [row] = expr.to_pyarrow().to_pylist()
    return row


def _count(value: Any) -> int:
    """A SUM/COUNT as an int: NULL (an empty table) is 0; PostgreSQL's numeric sums arrive as Decimal."""
    return 0 if value is None else int(value)


def _windowed(rule: Rule) -> bool:
    """Whether the rule's predicate is a window (composite-key uniqueness), which no aggregate may hold."""
    return isinstance(rule, UniqueRule) and len(rule.key_columns) > 1


def _strict(rule: Rule) -> bool:
    """An error-severity row rule that fails on its first failing row (``mustBe: 0`` rows, the schema's rules)."""
    threshold = getattr(rule, "threshold", None)
    return (rule.severity is Severity.ERROR and threshold is not None and threshold.operator == "mustBe"
            and threshold.value == 0)


def _duplicates(table: ir.Table, keys: Sequence[str]) -> int:
    """Rows whose key (no column null) occurs more than once: every row of each duplicated group."""
    present = ibis.and_(*(table[k].notnull() for k in keys))
    groups = table.filter(present).group_by(list(keys)).aggregate(n=ibis._.count())
    return _count(_scalar_row(groups.filter(groups.n > 1).aggregate(rows=ibis._.n.sum()))["rows"])


def audit_table(
    contract: Contract,
    table: ir.Table,
    *,
    as_of: datetime | None = None,
    sample_size: int | None = None,
    allow_unrun: bool = False,
) -> TableAudit:
    """Judge `table` (an ibis table on any backend) against every rule of `contract`, in the engine.

    Args:
        contract: the typed contract (see `guardrails.contract.load_contract`).
        table: the table to judge, e.g. ``connect(loc).table("tx")`` (`guardrails.engines.read_table`).
        as_of: the instant time rules are judged against (naive = UTC); defaults to now.
        sample_size: how many failing rows to keep in the outcome (default: the contract's `sample_size`).
        allow_unrun: the policy for rules not run here (``type: sql``, ``type: custom``), as in `validate`.

    Returns:
        A `TableAudit`; data problems never raise (status ERROR, a one-line error).

    Example:
        >>> import ibis, pyarrow as pa
        >>> from guardrails.contract import Contract, RangeRule
        >>> c = Contract(id="c", version="1", name="c", table="t",
        ...              rules=(RangeRule(rule_id="x.range", column="x", minimum=0),))
        >>> t = ibis.duckdb.connect().create_table("t", pa.table({"x": [1, -2, None]}))
        >>> audit = audit_table(c, t)
        >>> audit.outcome.status.value, audit.outcome.rules[0].failing_rows
        ('failed', 1)
        >>> t.filter(audit.rejected).x.to_list()
        [-2]
    """
    run = ContractRun.begin(contract, as_of)
    as_of = run.as_of
    sample_size = contract.sample_size if sample_size is None else sample_size

    def could_not_run(exc: BaseException, message: str, rows: int | None = None) -> TableAudit:
        return TableAudit(outcome=run.could_not_run(exc, message, rows), rejected=None)

    try:
        schema = polars_schema(table.schema())
    except Exception as exc:  # the table is gone or unreadable: fail closed, keep the cause
        return could_not_run(exc, "cannot read the table")

    rows: int | None = None
    try:
        _, integral_checks = _table_results(contract, schema, 0)
        absent = _optional_absent(contract, schema)
        results: dict[str, RuleResult] = {}
        expressions: dict[str, ir.BooleanValue] = {}
        for rule in contract.row_rules:
            if rule.column in absent:
                results[rule.rule_id] = _result(
                    rule, CheckStatus.PASSED, expected=rule.threshold.describe(), message="optional column is absent"
                )
                continue
            try:
                expressions[rule.rule_id] = violation(rule, table, as_of, schema=schema)
            except RuleNotApplicable as exc:
                results[rule.rule_id] = _result(
                    rule, CheckStatus.ERROR, expected=rule.threshold.describe(), message=str(exc)
                )
        by_id = {r.rule_id: r for r in contract.rules}
        # The one aggregate: positional names keep rule ids (dots, quotes) out of the SQL.
        # Composite-key uniqueness is a window: it gets its own GROUP BY query. Everything else, one-column
        # uniqueness included (a semi-join), is one more SUM in the one aggregate.
        scanned = {rid: e for rid, e in expressions.items() if not _windowed(by_id[rid])}
        names = {f"r{i}": rid for i, rid in enumerate([*scanned, *integral_checks])}
        measures = {
            name: ibis.ifelse(
                scanned[rid] if rid in scanned else non_integral(table[integral_checks[rid]]), 1, 0
            ).sum()
            for name, rid in names.items()
        }
        # Rows breaking any error-severity rule that tolerates no failing row: once the counts say which rules
        # failed, this is the rejected-row count whenever every blocking rule is of that kind (a rule of that kind
        # that passed broke no row), which saves a second scan in the common case.
        strict = [rid for rid in scanned if _strict(by_id[rid])]
        if strict:
            measures["strict"] = ibis.ifelse(ibis.or_(*(scanned[rid] for rid in strict)), 1, 0).sum()
        totals = _scalar_row(table.aggregate(rows=table.count(), **measures))
        rows = _count(totals["rows"])
        counts = {rid: _count(totals[name]) for name, rid in names.items()}
        strict_rows = _count(totals["strict"]) if strict else 0
        for rid in expressions.keys() - scanned.keys():
            counts[rid] = _duplicates(table, by_id[rid].key_columns)  # type: ignore[attr-defined]
        table_results, _ = _table_results(contract, schema, rows)
        results.update({rid: r for rid, r in table_results.items() if rid not in integral_checks})
        results.update(_not_run_here(contract.rules, allow_unrun=allow_unrun, backend=_backend_name(table)))
    except Exception as exc:  # the engine could not run the check: fail closed, keep the cause
        return could_not_run(exc, "the contract could not be checked", rows=rows)

    for rule_id, column in integral_checks.items():
        bad, rule = counts[rule_id], by_id[rule_id]
        results[rule_id] = _result(
            rule, CheckStatus.FAILED if bad else CheckStatus.PASSED, failing_rows=bad,
            expected=rule.logical_type.value,  # type: ignore[attr-defined]
            message=f"float column holds {bad} non-integral values" if bad else "float column holds only integers",
        )
    for rule_id in expressions:
        rule = by_id[rule_id]
        observed, status = _judge(rule, counts[rule_id], rows)  # type: ignore[arg-type]
        results[rule_id] = _result(
            rule, status, failing_rows=counts[rule_id], observed=observed, expected=rule.threshold.describe()
        )

    ordered = tuple(results[r.rule_id] for r in contract.rules)
    unsplittable = any(
        r.severity is Severity.ERROR and r.status is not CheckStatus.PASSED and not isinstance(by_id[r.rule_id], RowRule)
        for r in ordered
    ) or any(r.severity is Severity.ERROR and r.status is CheckStatus.ERROR for r in ordered)
    failed_row_rules = [rid for rid in expressions if results[rid].status is CheckStatus.FAILED]
    blocking = [rid for rid in failed_row_rules if by_id[rid].severity is Severity.ERROR]
    rejected = ibis.or_(*(expressions[rid] for rid in blocking)) if blocking else ibis.literal(False)
    try:
        if blocking and set(blocking) <= set(strict):
            failing_rows = strict_rows
        else:
            failing_rows = _rejected_rows(table, rejected, blocking, counts)
        sample, sample_metrics = capped_sample(
            _sample(table, expressions, failed_row_rules, contract, by_id, sample_size) if failed_row_rules else ()
        )
    except Exception as exc:  # the engine failed between queries (connection lost): fail closed
        return could_not_run(exc, "the contract could not be checked", rows=rows)
    return TableAudit(
        outcome=run.judged(ordered, rows=rows, failing_rows=failing_rows, sample=sample,
                           sample_metrics=sample_metrics, allow_unrun=allow_unrun),
        rejected=None if unsplittable else rejected,
        violations={rid: expressions[rid] for rid in failed_row_rules},
    )


def _not_run_here(rules: Sequence[Rule], *, allow_unrun: bool, backend: str) -> dict[str, RuleResult]:
    """The results of the rules an engine does not run: SQL rules, and custom rules (as the polars engine words
    them for engines guardrails does not have; Great Expectations needs the in-memory frame)."""
    results: dict[str, RuleResult] = {}
    for rule in rules:
        if isinstance(rule, SqlRule):
            results[rule.rule_id] = not_run(rule.rule_id, rule.kind, rule.columns, rule.severity,
                                            SQL_NOT_RUN.format(backend=backend), allow_unrun=allow_unrun)
        elif isinstance(rule, CustomRule):
            if is_gx_engine(rule.engine):
                results[rule.rule_id] = not_run(
                    rule.rule_id, rule.kind, rule.columns, rule.severity,
                    f"engine {rule.engine!r} runs on the in-memory engine (--engine polars), not in {backend}",
                    allow_unrun=allow_unrun,
                )
            else:
                [results[rule.rule_id]] = run_custom_rules([rule], pl.DataFrame(), allow_unrun=allow_unrun)
    return results


def _rejected_rows(table: ir.Table, rejected: ir.BooleanValue, blocking: list[str], counts: dict[str, int]) -> int:
    """Rows that broke any failed error-severity row rule (one rule: its own count, no query)."""
    if not blocking:
        return 0
    if len(blocking) == 1:
        return counts[blocking[0]]
    flagged = table.mutate(_gr_rejected=rejected)
    return _count(_scalar_row(flagged.aggregate(rows=ibis.ifelse(flagged._gr_rejected, 1, 0).sum()))["rows"])


def _sample(
    table: ir.Table,
    expressions: Mapping[str, ir.BooleanValue],
    failed: list[str],
    contract: Contract,
    by_id: Mapping[str, Rule],
    size: int,
) -> tuple[dict[str, Any], ...]:
    """Up to `size` rows that broke a failed rule: key columns, offending columns and ``_rules``."""
    if size <= 0:
        return ()
    columns = table.columns
    shown = list(dict.fromkeys([*contract.primary_key, *(c for r in failed for c in by_id[r].columns)]))
    shown = [c for c in shown if c in columns]
    flags = {f"_gr_{i}": expressions[rid] for i, rid in enumerate(failed)}
    # Window expressions (uniqueness) cannot sit in a WHERE: materialize the flags first, then filter on them.
    flagged = table.mutate(**flags)
    picked = flagged.filter(ibis.or_(*(flagged[f] for f in flags))).select(*shown, *flags).limit(size)
    frame = pl.from_arrow(picked.to_pyarrow())
    assert isinstance(frame, pl.DataFrame)
    values = json_safe_rows(frame.select(shown)) if shown else [{} for _ in range(frame.height)]
    hits = frame.select(list(flags)).rows()
    return tuple(
        {**row, "_rules": [rid for rid, hit in zip(failed, flag_row, strict=True) if hit]}
        for row, flag_row in zip(values, hits, strict=True)
    )
