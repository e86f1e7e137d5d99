"""Table URIs: where a table lives, parsed once, with its credentials kept out of every message.

Accepted forms:

- ``duckdb:///abs/path/file.duckdb?table=tx`` (``duckdb://rel/file.duckdb?table=tx`` is relative to the working
  directory);
- ``postgresql://user:password@host:5432/db?table=tx`` (also ``postgres://``; ``?table=schema.tx`` names a schema);
- ``spark://...?table=tx`` (or ``pyspark://``): parsed here, connected by the Spark engine;
- a Parquet file or a directory of Parquet files (a plain path, or ``parquet:///abs/path``).

The ``table`` query parameter is ours: it is stripped before the connection string reaches a driver, and the
other parameters (``sslmode=require``...) are passed on untouched. `TableLocation.redacted` is the URI with the
password (and any ``password=`` parameter) replaced by ``***``; it is the only form `repr`, `str` and every error
show.

Example:
    >>> loc = parse_table_uri("postgresql://etl:s3cret@db.internal:5432/warehouse?table=raw.tx&sslmode=require")
    >>> loc.backend, loc.schema, loc.table, loc.redacted
    ('postgres', 'raw', 'tx', 'postgresql://etl:***@db.internal:5432/warehouse?table=raw.tx&sslmode=require')
    >>> loc.connection
    'postgresql://etl:s3cret@db.internal:5432/warehouse?sslmode=require'
    >>> "s3cret" in repr(loc)
    False
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

Backend = Literal["duckdb", "postgres", "pyspark", "parquet"]

_SCHEMES: dict[str, Backend] = {
    "duckdb": "duckdb",
    "postgresql": "postgres",
    "postgres": "postgres",
    "spark": "pyspark",
    "pyspark": "pyspark",
    "parquet": "parquet",
}
_SECRET_PARAMS = frozenset({"password", "passwd", "pwd", "secret", "token", "access_token"})
_URI = re.compile(r"\A([A-Za-z][A-Za-z0-9+.-]*)://")
_IDENTIFIER = re.compile(r"\A[^\x00-\x1f\"]{1,128}\Z")
MASK = "***"


class TableUriError(ValueError):
    """A table URI that cannot be used; the message shows the URI with its credentials redacted.

    Attributes:
        uri: the redacted URI.
        reason: what is wrong with it, and how to fix it.
    """

    def __init__(self, uri: str, reason: str) -> None:
        self.uri, self.reason = uri, reason
        super().__init__(f"table URI {uri!r}: {reason}")


@dataclass(frozen=True, slots=True)
class TableLocation:
    """Where a table lives: the backend, the driver's connection string (without ``?table=``) and the table.

    `connection` may hold a password: it is excluded from `repr`; show `redacted` instead. For ``parquet`` the
    connection is the file or directory path and `table` is None; `schema` is the database schema (PostgreSQL's
    ``?table=schema.table``), or None.
    """

    backend: Backend
    connection: str = field(repr=False)
    table: str | None
    redacted: str
    schema: str | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def __str__(self) -> str:
        return self.redacted

    @property
    def qualified_table(self) -> str | None:
        """``schema.table`` or ``table`` (None for Parquet)."""
        if self.table is None:
            return None
        return f"{self.schema}.{self.table}" if self.schema else self.table

    def redact(self, text: str) -> str:
        """`text` with every credential of this location (raw and URL-quoted) replaced by ``***``.

        Drivers echo connection strings in their errors; every message that may carry one goes through this.
        """
        if self.secrets and self.connection:
            text = text.replace(self.connection, self.redacted)
        for secret in self.secrets:
            for form in {secret, quote(secret, safe=""), quote(secret)}:
                if form:
                    text = text.replace(form, MASK)
        return text


def is_table_uri(text: str) -> bool:
    """Whether `text` is a URI with a scheme this module reads (as opposed to a plain file path)."""
    match = _URI.match(text)
    return bool(match) and match.group(1).lower() in _SCHEMES


def _redacted_netloc(user: str | None, password: str | None, host: str) -> str:
    if user is None and password is None:
        return host
    creds = quote(user or "", safe="") + (f":{MASK}" if password is not None else "")
    return f"{creds}@{host}"


def _host(parts) -> str:  # type: ignore[no-untyped-def]
    netloc = parts.netloc
    return netloc.rpartition("@")[2] if "@" in netloc else netloc


def parse_table_uri(uri: str | os.PathLike[str]) -> TableLocation:
    """The `TableLocation` `uri` names (see the module docstring for the forms).

    Raises:
        TableUriError: an unknown scheme, no ``?table=``, an empty path or database, a port that is not a
            number; the message shows the URI with its credentials redacted.

    Example:
        >>> parse_table_uri("duckdb:///data/tx.duckdb?table=tx").connection
        '/data/tx.duckdb'
        >>> parse_table_uri("batches/day.parquet").backend
        'parquet'
    """
    text = os.fspath(uri)
    match = _URI.match(text)
    if not match:
        if not text.strip():
            raise TableUriError(text, "empty; expected a Parquet path or a URI such as duckdb:///file.duckdb?table=tx")
        return TableLocation(backend="parquet", connection=text, table=None, redacted=text)
    scheme = match.group(1).lower()
    backend = _SCHEMES.get(scheme)
    parts = urlsplit(text)
    secrets = tuple(s for s in (parts.password and unquote(parts.password), parts.password) if s)
    query = parse_qsl(parts.query, keep_blank_values=True)
    secrets += tuple(v for k, v in query if k.lower() in _SECRET_PARAMS and v)
    redacted_query = urlencode([(k, MASK if k.lower() in _SECRET_PARAMS else v) for k, v in query], safe="./:*")
    try:
        host = _host(parts)
        netloc = _redacted_netloc(parts.username, parts.password, host)
        redacted = f"{parts.scheme}://{netloc}{parts.path}" + (f"?{redacted_query}" if redacted_query else "")
    except ValueError:
        redacted = f"{scheme}://{MASK}"
    if backend is None:
        known = ", ".join(sorted(f"{s}://" for s in _SCHEMES))
        raise TableUriError(redacted, f"unknown scheme {scheme!r}; expected one of {known}, or a Parquet path")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise TableUriError(redacted, "the port is not a number") from exc
    tables = [v for k, v in query if k == "table"]
    rest = [(k, v) for k, v in query if k != "table"]
    rest_query = urlencode(rest, safe="./:")
    connection = f"{parts.scheme}://{parts.netloc}{parts.path}" + (f"?{rest_query}" if rest_query else "")
    if backend == "parquet":
        path = unquote(parts.netloc + parts.path)
        if not path:
            raise TableUriError(redacted, "no path; expected parquet:///path/to/file.parquet")
        return TableLocation(backend="parquet", connection=path, table=None, redacted=redacted)
    if len(tables) != 1 or not tables[0].strip():
        got = "none" if not tables else f"{len(tables)} of them" if len(tables) > 1 else "an empty one"
        raise TableUriError(redacted, f"expected one ?table=NAME parameter naming the table, got {got}")
    schema, _, table = tables[0].strip().rpartition(".")
    for name in (schema, table):
        if name and not _IDENTIFIER.match(name):
            raise TableUriError(redacted, f"table name {name!r} holds a control character or a double quote")
    if backend == "duckdb":
        path = unquote(parts.netloc + parts.path)
        if not path:
            raise TableUriError(redacted, "no database file; expected duckdb:///path/to/file.duckdb?table=NAME")
        if rest:
            raise TableUriError(redacted, f"unknown parameter(s) {', '.join(k for k, _ in rest)}; only ?table= is read")
        return TableLocation(backend="duckdb", connection=path, table=table, schema=schema or None,
                             redacted=redacted)
    if backend == "postgres" and not parts.path.strip("/"):
        raise TableUriError(redacted, "no database; expected postgresql://user@host:5432/DATABASE?table=NAME")
    return TableLocation(backend=backend, connection=connection, table=table, schema=schema or None,
                         redacted=redacted, secrets=secrets)
