"""`validate`: a contract judged over a batch in one lazy polars pass."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from polars.exceptions import PanicException

from guardrails.contract.model import ColumnTypeRule, Contract, CustomRule, RowCountRule, RowRule, Rule, SqlRule
from guardrails.outcome import (
    ALLOW_UNRUN,
    FAIL_CLOSED,
    UNRUN_POLICY_KEY,
    UNRUN_RULES_KEY,
    CheckKind,
    CheckOutcome,
    CheckStatus,
    RuleResult,
    Severity,
    judge,
)
from guardrails.validation._frames import error_line, footer_rows, to_polars
from guardrails._time import as_utc
from guardrails.validation._rules import RuleNotApplicable, non_integral, violation
from guardrails.validation._sample import capped_sample, json_safe_rows
from guardrails.validation._custom import run_custom_rules
from guardrails.validation._sql import run_sql_rules
from guardrails.validation._types import FLOAT_AS_INTEGER, type_problem

if TYPE_CHECKING:
    from guardrails.validation._frames import Batch

CHECK_NAME = "contract"


@dataclass(frozen=True)
class ContractValidation:
    """A contract's verdict on a batch, and which rows must not be published.

    `rejected_rows` is a bool mask with one entry per row: True where the row broke a *failed, error-severity*
    row rule. It is None when the batch cannot be split row by row: an error-severity table rule failed
    (missing column, wrong type, row count), an error-severity rule could not run, or the check itself could
    not run. It is all False when the outcome passed or only warnings failed.
    """

    outcome: CheckOutcome
    rejected_rows: np.ndarray | None


def _needed_columns(contract: Contract) -> list[str] | None:
    """The columns the rules read; None (all of them) when a SQL or custom rule may read any column."""
    if any(isinstance(rule, SqlRule | CustomRule) for rule in contract.rules):
        return None
    names = dict.fromkeys(contract.primary_key)
    for rule in contract.rules:
        names.update(dict.fromkeys(rule.columns))
    return list(names)


def _judge(rule: RowRule | RowCountRule, count: int, rows: int) -> tuple[float, CheckStatus]:
    threshold = rule.threshold
    observed = float(count) if threshold.unit == "rows" else (100.0 * count / rows if rows else 0.0)
    return observed, CheckStatus.PASSED if threshold.accepts(observed) else CheckStatus.FAILED


def _result(rule: Rule, status: CheckStatus, **fields: Any) -> RuleResult:
    return RuleResult(
        rule_id=rule.rule_id, kind=rule.kind, columns=rule.columns, severity=rule.severity, status=status, **fields
    )


def _table_results(
    contract: Contract, schema: Mapping[str, pl.DataType], rows: int
) -> tuple[dict[str, RuleResult], dict[str, str]]:
    """Verdicts of the table rules that need no pass over the values, and the columns to check for integrality."""
    results: dict[str, RuleResult] = {}
    integral_checks: dict[str, str] = {}
    for rule in contract.table_rules:
        if isinstance(rule, RowCountRule):
            observed, status = _judge(rule, rows, rows)
            results[rule.rule_id] = _result(
                rule, status, observed=observed, expected=rule.threshold.describe(), message=f"{rows} rows"
            )
        elif isinstance(rule, ColumnTypeRule):
            expected = rule.logical_type.value + (f" ({rule.physical_type})" if rule.physical_type else "")
            if rule.column not in schema:
                status = CheckStatus.FAILED if rule.required else CheckStatus.PASSED
                message = "column is missing" if rule.required else "optional column is absent"
                results[rule.rule_id] = _result(rule, status, expected=expected, message=message)
                continue
            problem = type_problem(rule.logical_type, rule.physical_type, schema[rule.column])
            if problem == FLOAT_AS_INTEGER:
                integral_checks[rule.rule_id] = rule.column
            elif problem is not None:
                results[rule.rule_id] = _result(rule, CheckStatus.FAILED, expected=expected, message=problem)
            else:
                results[rule.rule_id] = _result(rule, CheckStatus.PASSED, expected=expected)
        elif not isinstance(rule, SqlRule | CustomRule):  # those two run after the one pass (`validate`)
            results[rule.rule_id] = _result(rule, CheckStatus.ERROR, message=f"unknown table rule {str(rule.kind)!r}")
    return results, integral_checks


def _optional_absent(contract: Contract, schema: Mapping[str, pl.DataType]) -> set[str]:
    return {r.column for r in contract.columns if not r.required and r.column not in schema}


@dataclass(frozen=True, slots=True)
class ContractRun:
    """One judging of a contract over a batch: when it started and its as-of, and the two outcomes it can end in.

    Shared by every engine (this polars one and `guardrails.engines.audit_table`), so the outcome of a contract
    check (its fields, message and metrics) is assembled in one place whatever ran the rules.
    """

    contract: Contract
    started: datetime
    clock: float
    as_of: datetime

    @classmethod
    def begin(cls, contract: Contract, as_of: datetime | None) -> ContractRun:
        started = datetime.now(UTC)
        return cls(contract, started, time.perf_counter(), as_utc(as_of) if as_of is not None else started)

    def _outcome(self, **fields: Any) -> CheckOutcome:
        return CheckOutcome(
            check=CHECK_NAME,
            kind=CheckKind.CONTRACT,
            started_at=self.started,
            finished_at=datetime.now(UTC),
            contract_id=self.contract.id,
            contract_version=self.contract.version,
            as_of=self.as_of,
            **fields,
        )

    def _seconds(self) -> float:
        return round(time.perf_counter() - self.clock, 6)

    def could_not_run(self, exc: BaseException, message: str, rows: int | None = None) -> CheckOutcome:
        """The check could not run: fail closed, keeping the cause in one line."""
        status, severity = judge((), could_run=False)
        return self._outcome(status=status, severity=severity, rows=rows, error=error_line(exc), message=message,
                             metrics={"duration_seconds": self._seconds()})

    def judged(
        self,
        ordered: tuple[RuleResult, ...],
        *,
        rows: int,
        failing_rows: int,
        sample: tuple[dict[str, Any], ...],
        sample_metrics: Mapping[str, Any],
        allow_unrun: bool,
    ) -> CheckOutcome:
        """The outcome of every rule's result (in contract order), judged by the one judge."""
        failed = [r for r in ordered if r.status is not CheckStatus.PASSED]
        unrun = [r for r in ordered if not r.ran]
        unrun_metrics = {UNRUN_RULES_KEY: len(unrun), UNRUN_POLICY_KEY: ALLOW_UNRUN if allow_unrun else FAIL_CLOSED}
        status, severity = judge(ordered)
        return self._outcome(
            status=status,
            severity=severity,
            rows=rows,
            rules=ordered,
            sample=sample,
            message=_summary(failed, len(ordered)) + _incomplete(unrun, allow_unrun),
            metrics={
                "rows": rows,
                "failing_rows": failing_rows,
                "rules": len(ordered),
                "failed_rules": len(failed),
                "duration_seconds": self._seconds(),
                **sample_metrics,
                **(unrun_metrics if unrun else {}),
            },
        )


def validate(
    contract: Contract,
    data: Batch,
    *,
    as_of: datetime | None = None,
    sample_size: int | None = None,
    allow_unrun: bool = False,
) -> ContractValidation:
    """Judge `data` against every rule of `contract`, counting failing rows per rule in one pass.

    Args:
        contract: the typed contract (see `guardrails.contract.load_contract`).
        data: a pyarrow Table, a polars DataFrame or LazyFrame, a pandas DataFrame, or the path of a Parquet file
            or of a directory of them (hive ``key=value`` directories become columns), read as one dataset.
        as_of: the instant time rules are judged against (naive = UTC); defaults to now. Pass the partition's
            time for backfills so old batches are judged against their own day.
        sample_size: how many failing rows to keep in the outcome (default: the contract's `sample_size`).
        allow_unrun: the policy for rules guardrails cannot run (``type: custom`` for an engine it does not have):
            False (fail closed) keeps their severity, so an error-severity one blocks publication; True records
            them as warnings. Either way the outcome says the check is incomplete and names the policy in its
            metrics (``unrun_rules``, ``unrun_policy``). ``type: sql`` rules run in DuckDB
            (`guardrails.validation._sql`), ``great-expectations`` custom rules through GX.

    Returns:
        The outcome (kind ``contract``, one RuleResult per rule, a sample of failing rows with the primary key,
        the failing row's offending columns and a ``_rules`` list) and the rejected-rows mask. Data problems
        never raise: an unreadable batch (corrupt, duplicated column names, a column type polars cannot hold) is
        an outcome with status ERROR whose message says ``cannot read ...`` and whose error is one line.

    Example:
        >>> import polars as pl
        >>> from guardrails.contract import Contract, RangeRule
        >>> c = Contract(id="c", version="1", name="c", table="t",
        ...              rules=(RangeRule(rule_id="x.range", column="x", minimum=0),))
        >>> v = validate(c, pl.DataFrame({"x": [1, -2, None]}))
        >>> v.outcome.status.value, v.outcome.rules[0].failing_rows, v.rejected_rows.tolist()
        ('failed', 1, [False, True, False])
    """
    run = ContractRun.begin(contract, as_of)
    as_of = run.as_of
    sample_size = contract.sample_size if sample_size is None else sample_size

    def could_not_run(exc: BaseException, message: str, rows: int | None = None) -> ContractValidation:
        return ContractValidation(outcome=run.could_not_run(exc, message, rows), rejected_rows=None)

    try:
        frame = to_polars(data, _needed_columns(contract))
    except (Exception, PanicException) as exc:  # unreadable input: fail closed, keep the cause
        # PanicException (a BaseException) is how polars reports data it cannot handle; `to_polars` refuses the
        # types we know of from the schema first, so this is the last resort.
        if isinstance(data, str | os.PathLike):
            return could_not_run(exc, f"cannot read {os.fspath(data)}", rows=footer_rows(data))
        return could_not_run(exc, "cannot read the batch")
    try:
        schema = dict(frame.schema)
        rows = frame.height
        results, integral_checks = _table_results(contract, schema, rows)
        absent = _optional_absent(contract, schema)
        expressions: dict[str, pl.Expr] = {}
        for rule in contract.row_rules:
            if rule.column in absent:
                results[rule.rule_id] = _result(
                    rule, CheckStatus.PASSED, expected=rule.threshold.describe(), message="optional column is absent"
                )
                continue
            try:
                expressions[rule.rule_id] = violation(rule, schema, as_of)
            except RuleNotApplicable as exc:
                results[rule.rule_id] = _result(
                    rule, CheckStatus.ERROR, expected=rule.threshold.describe(), message=str(exc)
                )
        integral = {rid: non_integral(col).alias(rid) for rid, col in integral_checks.items()}
        # The one pass: every rule's violation bitmap (1 bit per row per rule), all expressions in one select so
        # polars shares the scan and common subexpressions. Counts and masks then come from the bitmaps.
        hits = frame.lazy().select(*expressions.values(), *integral.values()).collect() if expressions or integral else None
        counts = hits.sum().row(0, named=True) if hits is not None and hits.width else {}
        sql_rules = [r for r in contract.rules if isinstance(r, SqlRule)]
        custom_rules = [r for r in contract.rules if isinstance(r, CustomRule)]
        for result in run_sql_rules(sql_rules, frame, table=contract.table):
            results[result.rule_id] = result
        for result in run_custom_rules(custom_rules, frame, allow_unrun=allow_unrun, name=contract.id):
            results[result.rule_id] = result
    except (Exception, PanicException) as exc:  # the check could not run: fail closed, keep the cause
        return could_not_run(exc, "the contract could not be checked")

    by_id = {r.rule_id: r for r in contract.rules}
    for rule_id, column in integral_checks.items():
        bad = int(counts[rule_id])
        rule = by_id[rule_id]
        expected = rule.logical_type.value  # type: ignore[attr-defined]
        results[rule_id] = _result(
            rule,
            CheckStatus.FAILED if bad else CheckStatus.PASSED,
            failing_rows=bad,
            expected=expected,
            message=f"float column holds {bad} non-integral values" if bad else "float column holds only integers",
        )
    for rule_id in expressions:
        rule = by_id[rule_id]
        failing = int(counts[rule_id])
        observed, status = _judge(rule, failing, rows)  # type: ignore[arg-type]
        results[rule_id] = _result(
            rule, status, failing_rows=failing, observed=observed, expected=rule.threshold.describe()
        )

    ordered = tuple(results[r.rule_id] for r in contract.rules)
    unsplittable = any(
        r.severity is Severity.ERROR and r.status is not CheckStatus.PASSED and not isinstance(by_id[r.rule_id], RowRule)
        for r in ordered
    ) or any(r.severity is Severity.ERROR and r.status is CheckStatus.ERROR for r in ordered)
    failed_row_rules = [rid for rid in expressions if results[rid].status is CheckStatus.FAILED]
    blocking = [rid for rid in failed_row_rules if by_id[rid].severity is Severity.ERROR]

    rejected = _any(hits, blocking, rows)
    failing_rows = int(rejected.sum())
    sample, sample_metrics = capped_sample(
        _sample(frame, hits, failed_row_rules, contract, by_id, sample_size) if failed_row_rules else ()
    )
    return ContractValidation(
        outcome=run.judged(ordered, rows=rows, failing_rows=failing_rows, sample=sample,
                           sample_metrics=sample_metrics, allow_unrun=allow_unrun),
        rejected_rows=None if unsplittable else rejected,
    )


def _any(hits: pl.DataFrame | None, columns: list[str], rows: int) -> np.ndarray:
    if hits is None or not columns:
        return np.zeros(rows, dtype=bool)
    return hits.select(pl.any_horizontal(columns)).to_series().to_numpy()


def _sample(
    frame: pl.DataFrame,
    hits: pl.DataFrame | None,
    failed: list[str],
    contract: Contract,
    by_id: Mapping[str, Rule],
    size: int,
) -> tuple[dict[str, Any], ...]:
    """The first `size` rows that broke a failed rule: key columns, offending columns, ``_rules`` and ``_row``."""
    if hits is None or size <= 0:
        return ()
    picked = (
        hits.lazy()
        .select(failed)
        .with_row_index("_row")
        .filter(pl.any_horizontal(failed))
        .head(size)
        .select("_row", pl.concat_list(pl.when(pl.col(r)).then(pl.lit(r)) for r in failed).list.drop_nulls().alias("_rules"))
        .collect()
    )
    shown = list(dict.fromkeys([*contract.primary_key, *(c for r in failed for c in by_id[r].columns)]))
    shown = [c for c in shown if c in frame.schema]
    values = frame.select(shown)[picked["_row"].to_list()] if shown else pl.DataFrame()
    rows = json_safe_rows(values) if shown else [{} for _ in range(picked.height)]
    return tuple(
        {**row, "_rules": rules, "_row": index}
        for row, rules, index in zip(rows, picked["_rules"].to_list(), picked["_row"].to_list(), strict=True)
    )


def _incomplete(unrun: list[RuleResult], allow_unrun: bool) -> str:
    """``"; incomplete: 1 rule not run (orders.custom)"`` and the policy, or ``""`` when every rule ran."""
    if not unrun:
        return ""
    names = ", ".join(r.rule_id for r in unrun[:5]) + (f" and {len(unrun) - 5} more" if len(unrun) > 5 else "")
    policy = "allowed as warnings" if allow_unrun else "failing closed"
    return f"; incomplete: {len(unrun)} rule{'' if len(unrun) == 1 else 's'} not run ({names}), {policy}"


def _summary(failed: list[RuleResult], total: int) -> str:
    if not failed:
        return f"all {total} rules passed"
    shown = ", ".join(
        f"{r.rule_id} ({r.failing_rows} rows)" if r.status is CheckStatus.FAILED and r.failing_rows
        else f"{r.rule_id} ({r.status.value if r.ran else 'not run'})"
        for r in failed[:5]
    )
    more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
    return f"{len(failed)} of {total} rules failed: {shown}{more}"
