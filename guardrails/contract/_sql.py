"""What an ODCS ``type: sql`` query may be: its placeholders resolved, and read-only (one SELECT, no file access).

Placeholders, as the standard's tools write them (datacontract-cli's ``prepare_query``): ``{model}``,
``{table}``, ``{object}`` and ``{schema}`` name the table (the schema object's name); ``{property}``,
``{field}`` and ``{column}`` name the property whose ``quality`` holds the rule. Each may be written ``${...}``
and may sit inside quotes (``"{model}"``); it becomes a double-quoted DuckDB identifier, so a name with spaces or
quotes stays one identifier and can never end the statement.

Read-only, decided by DuckDB's own parser (never by a regular expression): exactly one statement, of type
SELECT (``WITH ... SELECT`` included), and no table function other than `ALLOWED_TABLE_FUNCTIONS`: table
functions are how SQL reads files and other databases (``read_csv``, ``read_parquet``, ``glob``,
``postgres_scan``), runs a query given as text (``query``), or lists the engine's secrets and settings. DDL, DML,
``COPY``, ``ATTACH``, ``INSTALL``/``LOAD``, ``PRAGMA``, ``SET``, ``CALL`` and several statements are refused at
load, with the file, line and field. The engine that runs the query enforces the same again, and bounds its time
and memory (`guardrails.validation._sql`).

Example:
    >>> resolve_placeholders("SELECT COUNT(*) FROM {model} WHERE ${property} < 0", table="orders", column="amount")
    'SELECT COUNT(*) FROM "orders" WHERE "amount" < 0'
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

TABLE_PLACEHOLDERS = ("model", "table", "object", "schema")
COLUMN_PLACEHOLDERS = ("property", "field", "column")
ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
"""Table functions that only compute (numbers, a list's items): they read nothing outside the query."""

_PLACEHOLDER = re.compile(r"""["'`]?\$?\{(\w+)\}["'`]?""")


class UnsafeQueryError(ValueError):
    """The query is not one read-only SELECT; `reason` says what was found."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def quote_identifier(name: str) -> str:
    """`name` as a DuckDB identifier: double-quoted, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def placeholders(query: str) -> tuple[str, ...]:
    """The placeholder names `query` uses, in order (``{model}`` -> ``"model"``), known or not."""
    return tuple(m.group(1) for m in _PLACEHOLDER.finditer(query))


def resolve_placeholders(query: str, *, table: str, column: str | None) -> str:
    """`query` with the table and column placeholders replaced by quoted identifiers; others are left as written.

    Raises:
        ValueError: a column placeholder in a rule that belongs to no property (schema-level ``quality``).
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in TABLE_PLACEHOLDERS:
            return quote_identifier(table)
        if name in COLUMN_PLACEHOLDERS:
            if column is None:
                raise ValueError(f"{{{name}}} names a property, but this rule is in the schema object's quality")
            return quote_identifier(column)
        return match.group(0)

    return _PLACEHOLDER.sub(replace, query)


def read_only_problem(query: str, duckdb: Any, connection: Any = None) -> str | None:
    """What makes `query` other than one read-only SELECT (``"a DROP statement"``), by DuckDB's parser, or None.

    `duckdb` is the imported module (the caller decides how a missing extra is reported); `connection` is one to
    parse on (the validation's sandbox), else a throwaway in-memory one. A verdict depends on the text alone, so
    it is cached (`_cached_problem`): a query checked at load is not parsed again when it runs.
    """
    if connection is None:
        return _cached_problem(query, duckdb)
    return _problem(query, duckdb, connection)


@functools.lru_cache(maxsize=1024)
def _cached_problem(query: str, duckdb: Any) -> str | None:
    with duckdb.connect(":memory:") as parser:  # a throwaway connection that holds nothing
        return _problem(query, duckdb, parser)


def _problem(query: str, duckdb: Any, connection: Any) -> str | None:
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        return f"SQL that does not parse: {_first_line(exc)}"
    if len(statements) != 1:
        return f"{len(statements)} statements"
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        return f"a {kind.name} statement"
    # The statement's syntax tree, by DuckDB's own serializer.
    tree = json.loads(connection.execute("SELECT json_serialize_sql($1)", [query]).fetchone()[0])
    if tree.get("error"):
        return f"SQL that does not parse: {tree.get('error_message', 'unknown error')}"
    refused = sorted({f for f in _table_functions(tree) if f.lower() not in ALLOWED_TABLE_FUNCTIONS})
    if refused:
        return "the table function " + ", ".join(refused) + " (table functions may read files, other databases or query text)"
    return None


def _table_functions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "TABLE_FUNCTION":
            function = node.get("function") or {}
            yield str(function.get("function_name", "?"))
        for value in node.values():
            yield from _table_functions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _table_functions(item)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def check_query(query: str) -> None:
    """Refuse `query` unless it is one read-only SELECT (`UnsafeQueryError`); needs duckdb (ImportError if absent)."""
    import duckdb

    problem = read_only_problem(query, duckdb)
    if problem is not None:
        raise UnsafeQueryError(problem)
