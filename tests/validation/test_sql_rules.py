"""ODCS ``type: sql`` rules: loaded from YAML, run in a sandboxed DuckDB over the batch, judged by their operator.

Known answers come from small in-memory frames whose counts are obvious; hostile queries are refused at load (by
DuckDB's parser) or, when built in code past the loader, refused or stopped when they run.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest

from guardrails.contract import Contract, Threshold, load_contract
from guardrails.contract.model import SqlRule
from guardrails.contract._sql import check_query, resolve_placeholders
from guardrails.errors import ContractError
from guardrails.outcome import CheckStatus, Severity
from guardrails.validation import validate
from guardrails.validation._sql import SqlLimits, run_sql_rules

FRAME = pl.DataFrame({
    "id": ["a", "b", "c", "d", "e"],
    "amount": [10.0, -1.0, 25.5, None, -3.0],
    "kind": ["x", "y", "x", "x", None],
})
"""Two negative amounts, one null amount, three kind x, a total of 31.5."""


def _contract(tmp_path: Path, quality: str, *, table: str = "orders", properties_quality: str = "") -> Path:
    """An ODCS file for `FRAME` with the given table-level (and `amount`-level) quality entries (table-level ones
    start on line 16)."""
    head = [
        "apiVersion: v3.1.0", "kind: DataContract", "id: sql-rules", "version: 1.0.0", "schema:",
        f"  - name: {table}", "    properties:", "      - name: id", "        logicalType: string",
        "      - name: amount", "        logicalType: number",
    ]
    amount = textwrap.indent(textwrap.dedent(properties_quality), " " * 8).rstrip("\n").splitlines()
    tail = ["      - name: kind", "        logicalType: string", "    quality:"]
    rules = textwrap.indent(textwrap.dedent(quality), " " * 6).rstrip("\n").splitlines()
    path = tmp_path / "sql.odcs.yaml"
    path.write_text("\n".join([*head, *amount, *tail, *rules]) + "\n")
    return path


def _rule(query: str, operator: str = "mustBe", value: float | tuple[float, float] = 0, **fields: object) -> SqlRule:
    return SqlRule(rule_id="orders.sql", query=query, table="orders", threshold=Threshold(operator, value),  # type: ignore[arg-type]
                   **fields)  # type: ignore[arg-type]


def _run(rule: SqlRule, frame: pl.DataFrame = FRAME, limits: SqlLimits = SqlLimits()):
    [result] = run_sql_rules([rule], frame, table="orders", limits=limits)
    return result


def test_sql_rules_judge_known_answers_from_a_contract(tmp_path: Path) -> None:
    """Each query's scalar is the known count or sum, and its operator passes or fails it as written."""
    path = _contract(tmp_path, """\
        - type: sql
          name: negatives
          query: SELECT COUNT(*) FROM orders WHERE amount < 0
          mustBe: 0
        - type: sql
          name: total
          query: SELECT SUM(amount) FROM {model}
          mustBeBetween: [31, 32]
        - type: sql
          name: kinds
          query: |
            WITH k AS (SELECT kind FROM ${object} WHERE kind IS NOT NULL)
            SELECT COUNT(DISTINCT kind) FROM k
          mustBeGreaterOrEqualTo: 3
          severity: warning
        """)
    outcome = validate(load_contract(path), FRAME).outcome
    by_id = {r.rule_id: r for r in outcome.rules}
    assert (by_id["negatives"].status, by_id["negatives"].observed) == (CheckStatus.FAILED, 2.0)
    assert (by_id["total"].status, by_id["total"].observed) == (CheckStatus.PASSED, 31.5)
    assert (by_id["kinds"].status, by_id["kinds"].observed, by_id["kinds"].severity) == (
        CheckStatus.FAILED, 2.0, Severity.WARNING)
    assert by_id["negatives"].expected == "= 0" and by_id["total"].expected == "between 31 and 32"
    assert (outcome.status, outcome.severity) == (CheckStatus.FAILED, Severity.ERROR)


def test_property_level_rule_fills_the_property_placeholder(tmp_path: Path) -> None:
    """``{property}`` under a property's quality names that column: the null amount is counted."""
    path = _contract(tmp_path, "- metric: rowCount\n  mustBeGreaterThan: 0\n", properties_quality="""\
            quality:
              - type: sql
                query: SELECT COUNT(*) FROM "{table}" WHERE {property} IS NULL
                mustBeLessOrEqualTo: 1
        """)
    contract = load_contract(path)
    [rule] = [r for r in contract.rules if isinstance(r, SqlRule)]
    assert (rule.query, rule.columns) == ('SELECT COUNT(*) FROM "orders" WHERE "amount" IS NULL', ("amount",))
    result = next(r for r in validate(contract, FRAME).outcome.rules if r.rule_id == rule.rule_id)
    assert (result.status, result.observed) == (CheckStatus.PASSED, 1.0)


@pytest.mark.parametrize("written", ["{model}", "${model}", '"{table}"', "'{object}'", "`{schema}`"])
def test_every_table_placeholder_spelling_becomes_one_quoted_identifier(written: str) -> None:
    """The placeholder forms the standard's tools write all become the quoted table name, quotes doubled."""
    query = resolve_placeholders(f"SELECT COUNT(*) FROM {written}", table='my "odd" table', column=None)
    assert query == 'SELECT COUNT(*) FROM "my ""odd"" table"'


def test_a_table_name_with_quotes_and_spaces_still_runs() -> None:
    """A batch registered under an awkward name is read through the resolved placeholder."""
    rule = SqlRule(rule_id="r", table='my "odd" table', threshold=Threshold("mustBe", 5),
                   query=resolve_placeholders("SELECT COUNT(*) FROM {model}", table='my "odd" table', column=None))
    [result] = run_sql_rules([rule], FRAME, table='my "odd" table')
    assert (result.status, result.observed) == (CheckStatus.PASSED, 5.0)


def test_property_placeholder_in_a_table_rule_is_refused_at_load(tmp_path: Path) -> None:
    """A table-level rule has no property to fill ``{property}`` with: refused with the file, line and field."""
    path = _contract(tmp_path, """\
        - type: sql
          query: SELECT COUNT(*) FROM {model} WHERE {property} < 0
          mustBe: 0
        """)
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    assert caught.value.field == "schema[0].quality[0].query" and caught.value.line == 16
    assert "{property} names a property" in str(caught.value)


# --- the operator table --------------------------------------------------------------------------------------

OPERATOR_CASES = [
    # operator, threshold, query result, passes (worked out by hand, not by Threshold.accepts)
    ("mustBe", 2, 2, True), ("mustBe", 2, 3, False),
    ("mustNotBe", 2, 3, True), ("mustNotBe", 2, 2, False),
    ("mustBeGreaterThan", 2, 3, True), ("mustBeGreaterThan", 2, 2, False),
    ("mustBeGreaterOrEqualTo", 2, 2, True), ("mustBeGreaterOrEqualTo", 2, 1, False),
    ("mustBeLessThan", 2, 1, True), ("mustBeLessThan", 2, 2, False),
    ("mustBeLessOrEqualTo", 2, 2, True), ("mustBeLessOrEqualTo", 2, 2.5, False),
    ("mustBeBetween", (1, 3), 1, True), ("mustBeBetween", (1, 3), 3, True), ("mustBeBetween", (1, 3), 3.01, False),
    ("mustNotBeBetween", (1, 3), 0.5, True), ("mustNotBeBetween", (1, 3), 1, False), ("mustNotBeBetween", (1, 3), 2, False),
]


@pytest.mark.parametrize(("operator", "value", "result", "passes"), OPERATOR_CASES)
def test_operator_table(operator: str, value: float | tuple[float, float], result: float, passes: bool) -> None:
    """Each ODCS operator judges the query's scalar as the standard defines it (Between bounds inclusive)."""
    outcome = _run(_rule(f"SELECT {result}", operator, value))
    assert outcome.status is (CheckStatus.PASSED if passes else CheckStatus.FAILED)
    assert outcome.observed == float(result)


def test_every_operator_is_in_the_table() -> None:
    """The operator table covers all eight ODCS operators, each both passing and failing."""
    from guardrails.contract.model import OPERATORS

    assert {(op, passes) for op, _, _, passes in OPERATOR_CASES} == {(op, p) for op in OPERATORS for p in (True, False)}


# --- results that are not one number --------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "reason"), [
    ("SELECT id FROM orders", "returned more than one row"),
    ("SELECT 1, 2", "returned 2 columns"),
    ("SELECT COUNT(*) FROM orders WHERE false GROUP BY kind", "returned no row"),
    ("SELECT MAX(amount) FROM orders WHERE false", "returned NULL"),
    ("SELECT 'many'", "returned str"),
    ("SELECT 'nan'::DOUBLE", "finite number"),
])
def test_a_result_that_is_not_one_number_could_not_run(query: str, reason: str) -> None:
    """No row, several, NULL, text or NaN: the rule could not run (status error), saying what came back."""
    result = _run(_rule(query))
    assert result.status is CheckStatus.ERROR and reason in result.message and result.observed is None


def test_a_failing_query_keeps_the_engines_message_capped() -> None:
    """A query DuckDB cannot run is that rule's could-not-run, with the engine's first line, capped."""
    missing = _run(_rule("SELECT COUNT(*) FROM orders WHERE nope > 0"))
    assert missing.status is CheckStatus.ERROR and 'column "nope"' in missing.message.lower()
    huge = _run(_rule("SELECT CAST(repeat('x', 100000) AS INTEGER)"))
    assert huge.status is CheckStatus.ERROR and "Conversion Error" in huge.message
    assert len(huge.message) < 1200 and "cut" in huge.message


def test_other_rules_still_run_when_a_query_fails(tmp_path: Path) -> None:
    """A failing query errors its own rule; the contract's other rules are judged as usual."""
    contract = Contract(id="c", version="1", name="c", table="orders", rules=(
        _rule("SELECT COUNT(*) FROM nowhere"),
        SqlRule(rule_id="ok", query="SELECT COUNT(*) FROM orders", table="orders", threshold=Threshold("mustBe", 5)),
    ))
    outcome = validate(contract, FRAME).outcome
    assert [r.status for r in outcome.rules] == [CheckStatus.ERROR, CheckStatus.PASSED]
    assert outcome.status is CheckStatus.FAILED


# --- hostile queries ---------------------------------------------------------------------------------------

HOSTILE = {
    "drop": ("DROP TABLE orders", "a DROP statement"),
    "create": ("CREATE TABLE t AS SELECT 1", "a CREATE statement"),
    "insert": ("INSERT INTO orders VALUES ('z', 1, 'x')", "a INSERT statement"),
    "update": ("UPDATE orders SET amount = 0", "a UPDATE statement"),
    "delete": ("DELETE FROM orders", "a DELETE statement"),
    "copy": ("COPY orders TO '/tmp/stolen.csv'", "a COPY statement"),
    "attach": ("ATTACH '/tmp/other.duckdb'", "a ATTACH statement"),
    "install": ("INSTALL httpfs", "statement"),
    "load": ("LOAD httpfs", "a LOAD statement"),
    "pragma": ("PRAGMA database_list", "a PRAGMA statement"),
    "set": ("SET enable_external_access = true", "a SET statement"),
    "call": ("CALL duckdb_settings()", "a CALL statement"),
    "two": ("SELECT 1; DROP TABLE orders", "2 statements"),
    "read_csv": ("SELECT COUNT(*) FROM read_csv('/etc/passwd')", "read_csv"),
    "read_parquet": ("SELECT COUNT(*) FROM read_parquet('/tmp/*.parquet')", "read_parquet"),
    "glob": ("SELECT COUNT(*) FROM glob('/etc/*')", "glob"),
    "query": ("SELECT COUNT(*) FROM query('SELECT 1')", "query"),
    "nested": ("SELECT (SELECT COUNT(*) FROM read_text('/etc/hostname'))", "read_text"),
    "secrets": ("SELECT COUNT(*) FROM duckdb_secrets()", "duckdb_secrets"),
    "garbage": ("SELEC 1", "does not parse"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_query_is_refused_at_load(name: str, tmp_path: Path) -> None:
    """Anything but one read-only SELECT is refused when the contract loads, naming the file, line and field."""
    query, reason = HOSTILE[name]
    path = _contract(tmp_path, f"- type: sql\n  query: {json.dumps(query)}\n  mustBe: 0\n")  # JSON is YAML
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    assert caught.value.field == "schema[0].quality[0].query" and caught.value.line == 16
    assert reason in str(caught.value)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_query_built_in_code_is_refused_when_it_runs(name: str) -> None:
    """A contract built in code never met the loader: the runner refuses the query again, and the batch is intact."""
    query, reason = HOSTILE[name]
    result = _run(_rule(query))
    assert result.status is CheckStatus.ERROR and result.message.startswith("refused:") and reason in result.message


def test_reading_a_file_by_name_is_blocked_by_the_sandbox(tmp_path: Path) -> None:
    """``FROM 'file'`` parses as a table name; the sandbox has no file access, so it cannot run."""
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    check_query(f"SELECT COUNT(*) FROM '{secret}'")  # a SELECT of a "table": the parser lets it through
    result = _run(_rule(f"SELECT COUNT(*) FROM '{secret}'"))
    assert result.status is CheckStatus.ERROR and result.observed is None


def test_python_variables_are_not_scanned_by_name() -> None:
    """A query naming a frame in the caller's scope cannot read it (DuckDB's Python replacement scan is off)."""
    other_frame = pl.DataFrame({"secret": [42]})  # noqa: F841 - the name the hostile query tries to reach
    result = _run(_rule("SELECT MAX(secret) FROM other_frame", "mustBe", 42))
    assert result.status is CheckStatus.ERROR and "other_frame" in result.message


def test_a_cross_join_that_would_not_finish_is_stopped_within_its_bound() -> None:
    """A 1M x 1M cross join is interrupted at the time bound: the rule could not run, and soon."""
    frame = pl.DataFrame({"x": range(1_000_000)})
    started = time.perf_counter()
    result = _run(_rule("SELECT COUNT(*) FROM orders a, orders b WHERE a.x + b.x = -1"), frame,
                  SqlLimits(timeout_seconds=0.5))
    elapsed = time.perf_counter() - started
    assert result.status is CheckStatus.ERROR and "time bound of 0.5 s" in result.message
    assert elapsed < 5


def test_a_query_over_its_memory_bound_could_not_run() -> None:
    """A query that would build a huge string stops at the memory limit instead of taking the machine."""
    frame = pl.DataFrame({"x": range(200_000)})
    result = _run(_rule("SELECT LENGTH(STRING_AGG(repeat('y', 100) || x::VARCHAR, ',')) FROM orders, range(20)"),
                  frame, SqlLimits(memory_limit="64MB"))
    assert result.status is CheckStatus.ERROR and "Out of Memory" in result.message


def test_the_time_bound_does_not_touch_the_next_query() -> None:
    """After an interrupted query, the next rule on the same connection runs normally."""
    frame = pl.DataFrame({"x": range(300_000)})
    slow = SqlRule(rule_id="slow", query="SELECT COUNT(*) FROM orders a, orders b WHERE a.x + b.x = -1",
                   table="orders", threshold=Threshold("mustBe", 0))
    fast = SqlRule(rule_id="fast", query="SELECT COUNT(*) FROM orders", table="orders",
                   threshold=Threshold("mustBe", 300_000))
    results = run_sql_rules([slow, fast], frame, table="orders", limits=SqlLimits(timeout_seconds=0.3))
    assert [r.status for r in results] == [CheckStatus.ERROR, CheckStatus.PASSED]


def test_without_duckdb_sql_rules_could_not_run_and_say_which_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With duckdb not importable the contract still loads, and each SQL rule could not run, naming the extra."""
    path = _contract(tmp_path, "- type: sql\n  query: SELECT COUNT(*) FROM orders\n  mustBe: 5\n")
    monkeypatch.setitem(sys.modules, "duckdb", None)
    outcome = validate(load_contract(path), FRAME).outcome
    [result] = [r for r in outcome.rules if r.kind == "sql"]
    assert result.status is CheckStatus.ERROR and "needs the [duckdb] extra" in result.message
    assert outcome.status is CheckStatus.FAILED and outcome.blocks_publication


def test_an_unknown_placeholder_is_refused_at_load(tmp_path: Path) -> None:
    """``{tabel}`` is no placeholder the standard's tools fill: refused at load, suggesting the one meant."""
    path = _contract(tmp_path, "- type: sql\n  query: SELECT COUNT(*) FROM {tabel}\n  mustBe: 5\n")
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    assert caught.value.field == "schema[0].quality[0].query" and caught.value.line == 16
    assert "got {tabel} (did you mean 'table'?)" in str(caught.value)


def test_a_batch_duckdb_cannot_take_errors_the_sql_rules_only() -> None:
    """A frame with no column cannot be registered: each SQL rule could not run, saying why; nothing raises."""
    [result] = run_sql_rules([_rule("SELECT 1")], pl.DataFrame(), table="orders")
    assert result.status is CheckStatus.ERROR and "cannot be read by DuckDB" in result.message


def test_types_polars_holds_reach_duckdb_intact() -> None:
    """Nulls, categoricals, lists, zoned timestamps and decimals are queried as the values they hold."""
    import datetime as dt

    frame = pl.DataFrame({
        "n": [None, None], "c": ["a", "b"], "l": [[1], [2, 3]], "d": [1.5, 2.5],
        "t": [dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC)],
    }).with_columns(pl.col("c").cast(pl.Categorical), pl.col("d").cast(pl.Decimal(10, 2)))
    queries = {
        "SELECT COUNT(*) FROM orders WHERE n IS NULL": 2, "SELECT COUNT(*) FROM orders WHERE c = 'a'": 1,
        "SELECT SUM(len(l)) FROM orders": 3, "SELECT SUM(d) FROM orders": 4,
        "SELECT COUNT(*) FROM orders WHERE t >= TIMESTAMPTZ '2026-01-02 00:00:00+00'": 1,
    }
    results = run_sql_rules([_rule(q, "mustBe", v) for q, v in queries.items()], frame, table="orders")
    assert [(r.status, r.observed) for r in results] == [(CheckStatus.PASSED, float(v)) for v in queries.values()]
