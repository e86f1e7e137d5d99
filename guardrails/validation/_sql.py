"""ODCS ``type: sql`` rules run in an in-process DuckDB over the batch: read-only, time- and memory-bounded.

The batch (already a polars frame in the engine) is handed to DuckDB as Arrow in polars' own layout (string views)
and registered as a view under the table's name: no buffer is copied (measured by ``python -m bench.sql_rules``). Each
query must return one row of one number, judged with the rule's operator (`Threshold.accepts`); anything else
(no row, several, NULL, text) and any engine error is that rule's *could not run* (status ``error``), with the
engine's first message line, capped (`guardrails._text`).

The sandbox, one private connection per validation, configured before any query and then locked:

- ``enable_external_access=false``: no file, URL, or other database may be read or written (``read_csv``,
  ``COPY``, ``ATTACH``, ``INSTALL``/``LOAD``), and Python variables are not scanned by name;
- ``memory_limit`` and ``threads`` (`SqlLimits`), ``max_temp_directory_size=0B`` (no spilling to disk);
- ``lock_configuration=true``: a query cannot ``SET`` any of this back;
- every query is first checked to be one read-only SELECT by DuckDB's parser (`guardrails.contract._sql`, the
  check the loader already ran), and is interrupted from a timer thread (``con.interrupt()``) at its time bound.

Example:
    >>> import polars as pl
    >>> from guardrails.contract.model import SqlRule, Threshold
    >>> rule = SqlRule(rule_id="t.sql", query="SELECT COUNT(*) FROM t WHERE x < 0", table="t",
    ...                threshold=Threshold("mustBe", 0))
    >>> [(r.status.value, r.observed) for r in run_sql_rules([rule], pl.DataFrame({"x": [1, -2]}), table="t")]
    [('failed', 1.0)]
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from guardrails._extras import require_extra
from guardrails._text import VALUE_CHARS, cap_text, visible
from guardrails.contract._sql import read_only_problem
from guardrails.contract.model import SqlRule
from guardrails.outcome import CheckStatus, RuleResult


@dataclass(frozen=True, slots=True)
class SqlLimits:
    """Bounds on each quality query: wall-clock seconds, DuckDB memory and threads."""

    timeout_seconds: float = 30.0
    memory_limit: str = "1GB"
    threads: int = 1

    def __post_init__(self) -> None:
        if not self.timeout_seconds > 0:
            raise ValueError(f"timeout_seconds must be > 0, got {self.timeout_seconds!r}")
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads!r}")


DEFAULT_LIMITS = SqlLimits()


def _result(rule: SqlRule, status: CheckStatus, **fields: Any) -> RuleResult:
    return RuleResult(
        rule_id=rule.rule_id, kind=rule.kind, columns=rule.columns, severity=rule.severity, status=status,
        expected=rule.threshold.describe(with_unit=False), **fields,
    )


def _message(exc: BaseException) -> str:
    """The engine's message: its first line (DuckDB adds a caret diagram below), escaped and capped."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return cap_text(visible(line, keep=""), VALUE_CHARS)


def _scalar(rows: list[tuple[Any, ...]]) -> float | str:
    """The one number a query returned, or why it is not one."""
    if len(rows) != 1 or len(rows[0]) != 1:
        shape = "no row" if not rows else "more than one row" if len(rows) > 1 else f"{len(rows[0])} columns"
        return f"the query must return one row with one number, it returned {shape}"
    value = rows[0][0]
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return f"the query must return a number, it returned {'NULL' if value is None else type(value).__name__}"
    number = float(value)
    if not math.isfinite(number):
        return f"the query must return a finite number, it returned {number}"
    return number


def connect(limits: SqlLimits = DEFAULT_LIMITS) -> Any:
    """A private in-memory DuckDB connection, sandboxed and locked (see the module docstring)."""
    duckdb = require_extra("duckdb", "duckdb", "type: sql quality rules")
    return duckdb.connect(":memory:", config={
        "enable_external_access": False,
        "python_enable_replacements": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "memory_limit": limits.memory_limit,
        "max_temp_directory_size": "0B",
        "threads": limits.threads,
        "lock_configuration": True,
    })


def run_sql_rules(
    rules: Sequence[SqlRule], frame: pl.DataFrame, *, table: str, limits: SqlLimits = DEFAULT_LIMITS
) -> list[RuleResult]:
    """Each rule's verdict on `frame`, registered in DuckDB as `table`; never raises for a query or the engine.

    Without the ``[duckdb]`` extra every rule could not run, saying which extra to install.
    """
    if not rules:
        return []
    try:
        duckdb = require_extra("duckdb", "duckdb", "type: sql quality rules")
        con = connect(limits)
    except ImportError as exc:
        return [_result(rule, CheckStatus.ERROR, message=str(exc)) for rule in rules]
    try:
        try:
            # The newest Arrow layout is polars' own (string views, not large strings): zero-copy, DuckDB reads it.
            con.register(table, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
        except duckdb.Error as exc:  # a batch DuckDB cannot take (no column at all): no query can run on it
            return [_result(rule, CheckStatus.ERROR, message=f"the batch cannot be read by DuckDB: {_message(exc)}")
                    for rule in rules]
        return [_run_one(con, duckdb, rule, limits) for rule in rules]
    finally:
        con.close()


def _run_one(con: Any, duckdb: Any, rule: SqlRule, limits: SqlLimits) -> RuleResult:
    problem = read_only_problem(rule.query, duckdb)  # contracts built in code never met the loader (cached if they did)
    if problem is not None:
        return _result(rule, CheckStatus.ERROR, message=f"refused: only one read-only SELECT may run, this is {problem}")
    timer = threading.Timer(limits.timeout_seconds, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        rows = con.execute(rule.query).fetchmany(2)
    except duckdb.InterruptException:
        return _result(rule, CheckStatus.ERROR,
                       message=f"the query was stopped after its time bound of {limits.timeout_seconds:g} s")
    except duckdb.Error as exc:  # the query could not run on this batch: that rule's "could not run"
        return _result(rule, CheckStatus.ERROR, message=_message(exc))
    finally:
        timer.cancel()
        timer.join()  # a timer already firing finishes its interrupt now, never during the next rule's query
    scalar = _scalar(rows)
    if isinstance(scalar, str):
        return _result(rule, CheckStatus.ERROR, message=scalar)
    passed = rule.threshold.accepts(scalar)
    return _result(rule, CheckStatus.PASSED if passed else CheckStatus.FAILED, observed=scalar,
                   message=f"query returned {scalar:g}")
