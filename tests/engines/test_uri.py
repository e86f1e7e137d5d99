"""Table URIs parse into locations whose credentials never show, and malformed ones are refused with a clear line."""

from __future__ import annotations

import pytest

from guardrails.engines import TableUriError, is_table_uri, parse_table_uri


@pytest.mark.parametrize(
    ("uri", "backend", "connection", "schema", "table"),
    [
        ("duckdb:///data/tx.duckdb?table=tx", "duckdb", "/data/tx.duckdb", None, "tx"),
        ("duckdb://rel/tx.duckdb?table=main.tx", "duckdb", "rel/tx.duckdb", "main", "tx"),
        ("postgresql://etl:pw@db:5432/wh?table=tx", "postgres", "postgresql://etl:pw@db:5432/wh", None, "tx"),
        ("postgres://db/wh?table=raw.tx&sslmode=require", "postgres", "postgres://db/wh?sslmode=require", "raw", "tx"),
        ("spark:///warehouse?table=tx", "pyspark", "spark:///warehouse", None, "tx"),
        ("batches/day.parquet", "parquet", "batches/day.parquet", None, None),
        ("parquet:///abs/day.parquet", "parquet", "/abs/day.parquet", None, None),
    ],
)
def test_each_form_parses_to_its_location(uri: str, backend: str, connection: str, schema: str | None,
                                         table: str | None) -> None:
    """Each accepted form gives its backend, the driver's connection string without ?table=, and the table."""
    loc = parse_table_uri(uri)
    assert (loc.backend, loc.connection, loc.schema, loc.table) == (backend, connection, schema, table)
    assert "table=" not in loc.connection


def test_password_is_redacted_everywhere_but_the_connection() -> None:
    """The password (in the user part or a password= parameter) appears in no repr, str or redacted form."""
    loc = parse_table_uri("postgresql://etl:S3cr%40t@db:5432/wh?table=tx&password=other")
    shown = [loc.redacted, str(loc), repr(loc)]
    assert all("S3cr" not in text and "other" not in text for text in shown)
    assert loc.redacted == "postgresql://etl:***@db:5432/wh?table=tx&password=***"
    assert "S3cr%40t" in loc.connection  # the driver still gets it


def test_redact_removes_credentials_from_driver_messages() -> None:
    """A driver error quoting the URL or the raw password is shown with both masked."""
    loc = parse_table_uri("postgresql://etl:S3cr%40t@db/wh?table=tx")
    message = f"could not connect to {loc.connection}: bad password 'S3cr@t'"
    assert loc.redact(message) == "could not connect to postgresql://etl:***@db/wh?table=tx: bad password '***'"


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("mysql://u:hunter2@h/db?table=t", "unknown scheme 'mysql'"),
        ("duckdb:///x.duckdb", "expected one ?table=NAME parameter"),
        ("duckdb:///x.duckdb?table=a&table=b", "got 2 of them"),
        ("duckdb:///x.duckdb?table=", "got an empty one"),
        ("duckdb://?table=t", "no database file"),
        ("duckdb:///x.duckdb?table=t&mode=rw", "unknown parameter(s) mode"),
        ("postgresql://u:hunter2@h:port/db?table=t", "the port is not a number"),
        ("postgresql://u:hunter2@h/?table=t", "no database"),
        ('postgresql://h/db?table=a"b', "double quote"),
        ("", "empty"),
    ],
)
def test_malformed_uris_are_refused_without_their_password(uri: str, reason: str) -> None:
    """A malformed URI raises TableUriError naming what is wrong, and the message never holds the password."""
    with pytest.raises(TableUriError) as raised:
        parse_table_uri(uri)
    assert reason in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_only_known_schemes_are_table_uris() -> None:
    """Paths (even with a colon) are not table URIs; the engines' schemes are."""
    assert [is_table_uri(t) for t in ("duckdb:///x?table=t", "POSTGRESQL://h/d?table=t", "C:/x.parquet",
                                      "x.parquet", "s3://bucket/x.parquet")] == [True, True, False, False, False]
