"""Write-audit-publish inside the database: a batch staged as a table is audited where it is, then published or
quarantined in one transaction.

The batch never comes into Python. `guard_table` audits the staging table with the ibis executor
(`guardrails.engines.audit_table`), then, in ONE transaction of the database (DuckDB or PostgreSQL):

* the target's partition (rows whose ``partition_column`` equals the partition, or the whole target when the batch
  has no partition) is deleted and the valid rows are inserted: a retried run replaces what the last run published
  instead of duplicating it, as Dagster and Airflow users expect of a retry;
* the rejected rows go to the quarantine table (default ``<target>_quarantine``): the staged columns plus
  ``_guardrails_batch_id``, ``_guardrails_partition``, ``_guardrails_reasons`` (the blocking rules each row broke),
  ``_guardrails_quarantined_at`` and ``_guardrails_released_at`` (set by a release). A batch that cannot be split
  (batch policy, a table-level rule failed, the check could not run) goes there whole and the target is untouched;
* the staging table is dropped (``keep_staging`` keeps it).

A crash or an error before COMMIT leaves the target, the quarantine table and the staging table as they were: the
run can be retried. The manifest (same shape as for files: why, outcome, partition, contract, where the rows are)
is written to the `QuarantineStore` before the transaction, its kept "data" being a JSON reference to the rows in
the quarantine table (`DataFormat.ENGINE_TABLE`), so ``guardrails quarantine list/show/release`` work for engine
batches. If the transaction never commits, the manifest names rows that are not there: a release refuses it, and
re-running the guard (the staging table is still there) completes it under the same batch id.

Release (`KeptTable`, called by `QuarantineStore.release`) re-validates the kept rows in the engine against the
current contract (fixed rows: update them in the quarantine table first) and, in one transaction, inserts them into
the recorded target and stamps ``_guardrails_released_at`` on them: a release that crashed after its commit is
retried as a no-op, so with the store's claim the rows are published exactly once.

Credentials are never written: the manifest records the database URI without its password (PostgreSQL then takes it
from ``PGPASSWORD`` or ``~/.pgpass`` at release time, as libpq does).

A batch whose columns no longer fit the existing quarantine table (schema drift) is kept whole in a table of its
own, ``<quarantine table>_<hash>``, which its manifest names.

DuckDB allows one writing process per database file: the body that stages the table must close its connection
before the guard runs; the guard waits for the file's lock (`lock_wait`), any other writer meanwhile fails with
DuckDB's lock error (see the README, "Write-audit-publish inside the database", for Dagster's executors).
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from guardrails.contract.model import Contract, QuarantinePolicy, RowCountRule
from guardrails.outcome import CheckOutcome, CheckStatus, Severity
from guardrails.quarantine._audit import describe, error_outcome
from guardrails.quarantine._batch import sha256_hex
from guardrails.quarantine._errors import QuarantineError
from guardrails.quarantine._manifest import DataFormat, QuarantineManifest
from guardrails.quarantine._published import PublishLog
from guardrails.quarantine._layout import checked_batch_id, derive_batch_id

from guardrails.engines._types import REASONS_COLUMN

if TYPE_CHECKING:
    from guardrails.engines import TableLocation
    from guardrails.quarantine._store import QuarantineStore

TABLE_SOURCE_PREFIX = "table:"
"""The default manifest ``source`` of an engine batch: ``table:<uri without password>?table=<target>[<partition>]``."""
BATCH_COLUMN = "_guardrails_batch_id"
PARTITION_COLUMN = "_guardrails_partition"
QUARANTINED_AT_COLUMN = "_guardrails_quarantined_at"
RELEASED_AT_COLUMN = "_guardrails_released_at"
META_COLUMNS = (BATCH_COLUMN, PARTITION_COLUMN, REASONS_COLUMN, QUARANTINED_AT_COLUMN, RELEASED_AT_COLUMN)
"""The columns the quarantine table adds to the staged ones."""
QUARANTINE_SUFFIX = "_quarantine"
REFERENCE_KIND = "guardrails.engine-table/1"
DEFAULT_LOCK_WAIT = 60.0
"""Seconds `guard_table` waits for a DuckDB file another process is writing (DuckDB allows one writer per file)."""
ENGINES = ("duckdb", "postgres")


@dataclass(frozen=True, slots=True)
class TableTarget:
    """Where a guarded table batch is published: a table named by an engine URI, and how a retry replaces it.

    Args:
        uri: ``duckdb:///path.duckdb?table=tx`` or ``postgresql://user@host/db?table=tx`` (``schema.table`` allowed).
        partition_column: the target column holding the partition key (compared as text): a batch for a partition
            replaces the target rows of that partition. Without it, a batch replaces the whole target table.
        quarantine_table: where rejected rows go, in the same database (default ``<table>_quarantine``).

    Raises:
        ValueError: the URI names no table, or an engine without transactions here (only DuckDB and PostgreSQL).
    """

    uri: str
    partition_column: str | None = None
    quarantine_table: str | None = None

    def __post_init__(self) -> None:
        location = self.location  # raises TableUriError (a ValueError) for a malformed URI
        if location.backend not in ENGINES:
            raise ValueError(
                f"target {location.redacted}: write-audit-publish in the engine needs DuckDB or PostgreSQL, "
                f"not {location.backend}"
            )
        if not location.table:
            raise ValueError(f"target {location.redacted}: name the target table with ?table=")

    @property
    def location(self) -> TableLocation:
        from guardrails.engines import parse_table_uri

        return parse_table_uri(self.uri)

    @property
    def table(self) -> str:
        """The target table, ``schema.table`` when the URI names a schema."""
        return str(self.location.qualified_table)

    @property
    def quarantine(self) -> str:
        return self.quarantine_table or f"{self.table}{QUARANTINE_SUFFIX}"

    @property
    def redacted(self) -> str:
        return str(self.location.redacted)

    @property
    def database(self) -> str:
        """The database's URI without password (a DuckDB file's path made absolute)."""
        return _without_password(self.location)

    @property
    def asset_uri(self) -> str:
        """The table as a lineage URI without credentials: ``postgres://host:5432/db/schema/table`` (Airflow's and
        OpenLineage's form), ``duckdb:///abs/file.duckdb/table``."""
        location = self.location
        if location.backend == "duckdb":
            return f"{self.database}/{self.table}"
        parts = urllib.parse.urlsplit(location.connection)
        database = parts.path.strip("/")
        return f"postgres://{parts.hostname}:{parts.port or 5432}/{database}/{location.schema or 'public'}/{location.table}"

    def source(self, partition: str | None) -> str:
        """The manifest's ``source`` for a batch of `partition` (no password in it)."""
        database = _without_password(self.location)
        where = f"{TABLE_SOURCE_PREFIX}{database}{'&' if '?' in database else '?'}table={self.table}"
        return f"{where}[{partition}]" if partition is not None else where

    def staged(self, staging: TableLocation | str) -> StagedTable:
        """A staging table in this target's database (a bare name) or anywhere (a URI), bound to this target."""
        return StagedTable(staging=staging, target=self)


@dataclass(frozen=True, slots=True)
class StagedTable:
    """A batch staged as a table, on its way to `target`: what a table asset or task hands the guard.

    `staging` is a table name in the target's database, or an engine URI naming a table of that same database.
    """

    staging: TableLocation | str
    target: TableTarget

    @property
    def staging_table(self) -> str:
        return _staging_table(self.staging, self.target)


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardedTable:
    """The verdict on one staged batch and what became of it (the engine twin of `GuardedBatch`).

    Attributes:
        outcome: the contract check's outcome, computed in the engine.
        manifest: the quarantine manifest when anything was quarantined, else None.
        batch_id: the batch's id.
        target: the target table's URI (no password); `quarantine_table` the table holding rejected rows.
        rows_in / rows_published / rows_quarantined: rows staged = published + quarantined.
        partition: the partition the batch replaced in the target (None: the whole target).
    """

    outcome: CheckOutcome
    manifest: QuarantineManifest | None
    batch_id: str
    target: str
    quarantine_table: str
    rows_in: int
    rows_published: int
    rows_quarantined: int
    partition: str | None = None

    @property
    def quarantined(self) -> bool:
        return self.manifest is not None

    @property
    def published(self) -> str | None:
        """Where the valid rows went (the target), or None when nothing was published (the batch is held whole)."""
        return self.target if self.rows_quarantined < self.rows_in or self.manifest is None else None


def guard_table(
    contract: Contract,
    staging: StagedTable | TableLocation | str,
    target: TableTarget | str | None = None,
    *,
    store: QuarantineStore,
    partition: str | None = None,
    batch_id: str | None = None,
    source: str = "",
    run_id: str | None = None,
    as_of: datetime | None = None,
    allow_unrun: bool = False,
    keep_staging: bool = False,
    lock_wait: float = DEFAULT_LOCK_WAIT,
    memory_limit: str | None = None,
) -> GuardedTable:
    """Audit a staged table in its engine; publish its valid rows and quarantine the rest in one transaction.

    The contract's `policy` decides as for `guard_batch`: ``rows`` splits the batch when its bad rows can be told
    apart, ``batch`` (or an unsplittable failure) quarantines it whole. See the module docstring for the tables.

    Args:
        contract: the data contract.
        staging: the staged batch: a `StagedTable`, or a table name in the target's database, or an engine URI.
        target: a `TableTarget` or its URI (not needed with a `StagedTable`).
        store: where the manifest goes (the rows stay in the database).
        partition: the batch's partition; with the target's `partition_column`, the target rows it replaces.
        batch_id: the batch id (default ``<table>.<partition>``, or ``<table>-<fingerprint>`` without a partition).
        source: the manifest's ``source`` (default `TableTarget.source`); a host's own key (``dagster:<asset>[p]``).
        run_id / as_of / allow_unrun: as for `guard_batch`.
        keep_staging: keep the staging table after publishing (default: dropped in the same transaction).
        lock_wait: seconds to wait for a DuckDB file another process holds (its single-writer lock).
        memory_limit: DuckDB's ``memory_limit`` for the guard's connection (default
            `guardrails.engines.DEFAULT_MEMORY_LIMIT`); DuckDB spills to disk beyond it.

    Raises:
        QuarantineError: the staging table cannot be read, the store cannot be written, or the transaction failed
            (then nothing was published or quarantined in the database and the staging table is still there).
        ValueError: staged rows lie outside `partition` (a retry could not replace them), or a misconfiguration.
    """
    from guardrails.engines import audit_table
    from guardrails.engines._audit import REJECTED_COLUMN as REJECTED

    staged = staging if isinstance(staging, StagedTable) else _target(target).staged(staging)
    target = staged.target
    if batch_id is not None:
        checked_batch_id(batch_id)
    if partition is not None and target.partition_column is None:
        raise ValueError(
            f"target {target.redacted}: partition {partition!r} given but no partition_column: a retry could not "
            "replace the partition's rows; name the target column that holds the partition"
        )
    started = datetime.now(UTC)
    staging_name = staged.staging_table
    with _connected(target.location, lock_wait, memory_limit) as con:
        try:
            table = _table(con, staging_name)
        except Exception as exc:
            raise QuarantineError(batch_id, f"cannot read the staging table {staging_name!r}: {_line(exc)}") from exc
        stats = _fingerprint(con, target, staging_name, partition)
        if stats.outside_partition:
            raise ValueError(
                f"{stats.outside_partition:,} staged rows of {staging_name!r} have {target.partition_column} other "
                f"than {partition!r}: they would be published outside the partition a retry replaces"
            )
        flagged = None
        try:
            audit = audit_table(contract, table, as_of=as_of, allow_unrun=allow_unrun)
            outcome = audit.outcome
            if audit.rejected is not None and outcome.blocks_publication:
                flagged = audit.flagged(table)  # filter on its columns: a uniqueness predicate is a window function
        except Exception as exc:  # the check could not run: fail closed, keep the batch whole
            error = f"validation could not run in {target.location.backend}: {target.location.redact(_line(exc))}"
            outcome = error_outcome(contract, error, started=started, as_of=as_of, rows=stats.rows)
        content_hash = sha256_hex(f"{target.location.backend}|{stats.schema}|{stats.rows}|{stats.digest}".encode())
        prefix = contract.table or contract.id
        batch_id = batch_id or (f"{prefix}.{partition}" if partition is not None else derive_batch_id(content_hash, prefix))
        checked_batch_id(batch_id)
        source = source or target.source(partition)
        split = outcome.blocks_publication and contract.policy is QuarantinePolicy.ROWS and flagged is not None
        rows_rejected = stats.rows if outcome.blocks_publication else 0
        if split:
            rows_rejected = int(outcome.metrics.get("failing_rows", 0))  # the audit counted the rows `rejected` flags
            if rows_rejected == 0:  # a blocking outcome that rejects no row cannot be split safely: fail closed
                split, rows_rejected = False, stats.rows
        now = datetime.now(UTC)
        manifest = None
        quarantine = _quarantine_for(con, target.quarantine, table, content_hash)
        if outcome.blocks_publication:
            reference = _reference(target, partition, whole=not split, quarantine=quarantine)
            manifest = _put(store, reference, outcome, batch_id=batch_id, content_hash=content_hash, source=source,
                            run_id=run_id, policy=contract.policy, rows_in=stats.rows, rows_kept=rows_rejected)
            batch_id = manifest.batch_id
        plan = _Plan(con=con, target=target, partition=partition, quarantine_table=quarantine)
        statements: list[str] = []
        if not outcome.blocks_publication:
            statements += plan.publish(table)
        elif split:
            invalid = flagged.filter(flagged[REJECTED])
            statements += plan.publish(flagged.filter(~flagged[REJECTED]).select(*table.columns))
            reasons = invalid[REASONS_COLUMN].fill_null("")
            statements += plan.quarantine(invalid.select(*table.columns, **{REASONS_COLUMN: reasons}), batch_id, now)
        else:
            statements += plan.quarantine(table.mutate(**{REASONS_COLUMN: _whole_reasons(outcome)}), batch_id, now)
        if not keep_staging:
            statements.append(f"DROP TABLE {_quoted(staging_name)}")
        try:
            _run_transaction(con, target.location.backend, statements)
        except Exception as exc:
            raise QuarantineError(
                batch_id, f"the publish transaction on {target.redacted} failed and was rolled back: {_line(exc)}",
                hint="nothing was published or quarantined in the database; the staging table is still there: retry",
            ) from exc
    rows_published = stats.rows - rows_rejected
    if rows_published or manifest is None:
        try:
            PublishLog.of(store).record_guarded(source, batch_id, content_hash, run_id)
        except OSError as exc:
            raise QuarantineError(batch_id, f"published, but cannot record the publish in {store.uri}: {exc}") from exc
    return GuardedTable(
        outcome=outcome, manifest=manifest, batch_id=batch_id, target=target.source(None)[len(TABLE_SOURCE_PREFIX):],
        quarantine_table=quarantine, rows_in=stats.rows, rows_published=rows_published,
        rows_quarantined=rows_rejected, partition=partition,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class KeptTable:
    """An engine batch kept in a quarantine table, as `QuarantineStore.release` re-validates and publishes it."""

    manifest: QuarantineManifest
    uri: str
    table: str
    quarantine_table: str
    partition_column: str | None
    partition: str | None
    whole: bool

    @classmethod
    def of(cls, manifest: QuarantineManifest, payload: bytes) -> KeptTable:
        """The reference a manifest's kept file holds.

        Raises:
            QuarantineError: the file is not such a reference.
        """
        try:
            data = json.loads(payload)
            if data.get("kind") != REFERENCE_KIND:
                raise ValueError(f"kind {data.get('kind')!r} is not {REFERENCE_KIND!r}")
            return cls(manifest=manifest, uri=str(data["uri"]), table=str(data["table"]),
                       quarantine_table=str(data["quarantine_table"]), partition_column=data.get("partition_column"),
                       partition=data.get("partition"), whole=bool(data["whole"]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise QuarantineError(manifest.batch_id, f"its kept file is not an engine-table reference: {exc}") from exc

    @property
    def target(self) -> TableTarget:
        return TableTarget(self.uri + ("&" if "?" in self.uri else "?") + f"table={self.table}",
                           partition_column=self.partition_column, quarantine_table=self.quarantine_table)

    @property
    def released_to(self) -> str:
        where = f"{self.target.redacted}"
        return f"{where}[{self.partition}]" if self.partition is not None else where

    def revalidate(self, contract: Contract, as_of: datetime | None) -> CheckOutcome:
        """Audit the kept, not yet released rows in the engine against `contract` (no row-count rule for a part)."""
        from guardrails.engines import audit_table

        started = datetime.now(UTC)
        if not self.whole:
            contract = replace(contract, rules=tuple(r for r in contract.rules if not isinstance(r, RowCountRule)))
        try:
            with _connected(self.target.location, DEFAULT_LOCK_WAIT) as con:
                kept = self._kept(con)
                if kept is None:
                    error = (f"its rows are not in {self.quarantine_table!r}: the guard's transaction never committed; "
                             "re-run the guard (its staging table is still there)")
                    return error_outcome(contract, error, started=started, as_of=as_of, rows=0)
                return audit_table(contract, kept, as_of=as_of).outcome
        except Exception as exc:  # unreachable database, dropped table: the release cannot run, and says why
            error = f"cannot re-validate in {self.target.redacted}: {_line(exc)}"
            return error_outcome(contract, error, started=started, as_of=as_of, rows=self.manifest.rows_quarantined)

    def publish(self) -> str:
        """In one transaction: the kept rows into the target (replacing its partition for a whole batch), stamped
        released in the quarantine table. Rows already stamped are not published again."""
        target = self.target
        with _connected(target.location, DEFAULT_LOCK_WAIT) as con:
            kept = self._kept(con)
            statements: list[str] = []
            if kept is not None:
                plan = _Plan(con=con, target=target, partition=self.partition)
                statements += plan.publish(kept, replace_partition=self.whole)
                statements.append(
                    f"UPDATE {_quoted(self.quarantine_table)} SET {_quoted(RELEASED_AT_COLUMN)} = CURRENT_TIMESTAMP "
                    f"WHERE {_quoted(BATCH_COLUMN)} = {_literal(self.manifest.batch_id)} "
                    f"AND {_quoted(RELEASED_AT_COLUMN)} IS NULL"
                )
            _run_transaction(con, target.location.backend, statements)
        return self.released_to

    def _kept(self, con: Any) -> Any:
        """The batch's unreleased rows with the staged columns only; None when the batch has no row there at all."""
        import ibis

        quarantine = _table(con, self.quarantine_table)
        mine = quarantine.filter(quarantine[BATCH_COLUMN] == ibis.literal(self.manifest.batch_id))
        if int(con.execute(mine.count())) == 0:
            return None
        return mine.filter(mine[RELEASED_AT_COLUMN].isnull()).drop(*META_COLUMNS)


def is_table_target(uri: str) -> bool:
    """True for an engine URI naming a table guard_table can publish to (DuckDB or PostgreSQL, with ``?table=``)."""
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    return scheme in ("duckdb", "postgres", "postgresql") and "table=" in uri.split("?", 1)[-1]


def kept_table(manifest: QuarantineManifest, payload: bytes) -> KeptTable | None:
    """The engine batch a manifest stands for, or None for a batch kept as a file."""
    return KeptTable.of(manifest, payload) if manifest.data_format is DataFormat.ENGINE_TABLE else None


# --- the transaction -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Plan:
    """The SQL statements of one publish: the target's partition replaced, rejected rows appended with reasons."""

    con: Any
    target: TableTarget
    partition: str | None
    quarantine_table: str = ""

    def publish(self, rows: Any, *, replace_partition: bool = True) -> list[str]:
        columns = ", ".join(_quoted(c) for c in rows.columns)
        select = self.con.compile(rows)
        target = _quoted(self.target.table)
        statements = [f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM ({select}) AS s WHERE 1 = 0"]
        if replace_partition:
            statements.append(f"DELETE FROM {target}{self._partition_filter()}")
        statements.append(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM ({select}) AS s")
        return statements

    def quarantine(self, rows: Any, batch_id: str, now: datetime) -> list[str]:
        """`rows` (the staged columns and `REASONS_COLUMN`) tagged and appended; this batch's earlier rows replaced."""
        import ibis

        staged = [c for c in rows.columns if c != REASONS_COLUMN]
        tagged = rows.select(*staged, **{
            BATCH_COLUMN: ibis.literal(batch_id, type="string"),
            PARTITION_COLUMN: ibis.literal(self.partition, type="string"),
            REASONS_COLUMN: rows[REASONS_COLUMN],
            QUARANTINED_AT_COLUMN: ibis.literal(now, type="timestamp('UTC')"),
            RELEASED_AT_COLUMN: ibis.null("timestamp('UTC')"),
        })
        columns = ", ".join(_quoted(c) for c in tagged.columns)
        select = self.con.compile(tagged)
        table = _quoted(self.quarantine_table or self.target.quarantine)
        return [
            f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM ({select}) AS s WHERE 1 = 0",
            f"DELETE FROM {table} WHERE {_quoted(BATCH_COLUMN)} = {_literal(batch_id)}",  # a retry replaces its rows
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM ({select}) AS s",
        ]

    def _partition_filter(self) -> str:
        if self.partition is None:
            return ""
        return f" WHERE CAST({_quoted(str(self.target.partition_column))} AS TEXT) = {_literal(self.partition)}"


def _run_transaction(con: Any, backend: str, statements: Sequence[str]) -> None:
    """Run `statements` in one transaction of the backend's own connection: all of them, or none (rolled back)."""
    if not statements:
        return
    raw = con.con
    if backend == "duckdb":
        raw.execute("BEGIN TRANSACTION").fetchall()  # duckdb 2 wants each result consumed before the next
        try:
            for statement in statements:
                raw.execute(statement).fetchall()
            raw.execute("COMMIT").fetchall()
        except BaseException:
            raw.execute("ROLLBACK").fetchall()
            raise
        return
    with raw.transaction(), raw.cursor() as cursor:  # psycopg 3: COMMIT on exit, ROLLBACK on any exception
        for statement in statements:
            cursor.execute(statement)


@dataclass(frozen=True, slots=True)
class _Stats:
    rows: int
    digest: str
    schema: str
    outside_partition: int


def _fingerprint(con: Any, target: TableTarget, staging: str, partition: str | None) -> _Stats:
    """Rows, an order-free digest of their content (a retry of the same rows is the same batch) and rows outside
    the partition, in one scan."""
    table = _quoted(staging)
    if target.location.backend == "duckdb":
        digest = "CAST(COALESCE(SUM(CAST(hash(s) AS HUGEINT)), 0) AS VARCHAR)"
    else:
        digest = "CAST(COALESCE(SUM(hashtextextended(CAST(s AS TEXT), 0)::numeric), 0) AS TEXT)"
    outside = "0"
    if partition is not None:
        column = _quoted(str(target.partition_column))
        outside = f"COUNT(*) FILTER (WHERE CAST(s.{column} AS TEXT) IS DISTINCT FROM {_literal(partition)})"
    query = f"SELECT COUNT(*), {digest}, {outside} FROM {table} AS s"
    if target.location.backend == "duckdb":
        [(rows, value, out)] = con.con.execute(query).fetchall()
    else:
        with con.con.cursor() as cursor:
            rows, value, out = cursor.execute(query).fetchone()
    schema = ";".join(f"{name}:{dtype}" for name, dtype in _table(con, staging).schema().items())
    return _Stats(rows=int(rows), digest=str(value), schema=schema, outside_partition=int(out))


def _whole_reasons(outcome: CheckOutcome) -> Any:
    import ibis

    if outcome.status is CheckStatus.ERROR:
        return ibis.literal(f"check could not run: {(outcome.error or '')[:500]}", type="string")
    blocking = [r.rule_id for r in outcome.failed_rules if r.severity is Severity.ERROR]
    return ibis.literal(", ".join(blocking) or describe(outcome), type="string")


# --- plumbing --------------------------------------------------------------------------------------------------


@contextmanager
def _connected(location: TableLocation, lock_wait: float, memory_limit: str | None = None) -> Iterator[Any]:
    """An ibis connection to the location's database, closed on exit; waits for a DuckDB file's writer lock."""
    from guardrails.engines import connect

    deadline = time.monotonic() + lock_wait
    while True:
        try:
            con = connect(location, **({"memory_limit": memory_limit} if memory_limit else {}))
            break
        except Exception as exc:  # DuckDB: "Could not set lock on file ...": another process writes the file
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise ConnectionError(f"cannot open {location.redacted}: {location.redact(_line(exc))}") from None
            time.sleep(0.2)
    try:
        yield con
    finally:
        con.disconnect()


def _table(con: Any, name: str) -> Any:
    schema, _, table = name.rpartition(".")
    return con.table(table, database=schema) if schema else con.table(table)


def _target(target: TableTarget | str | None) -> TableTarget:
    if target is None:
        raise ValueError("guard_table: name the target (a TableTarget or its URI), or pass a StagedTable")
    return target if isinstance(target, TableTarget) else TableTarget(target)


def _staging_table(staging: TableLocation | str, target: TableTarget) -> str:
    """The staging table's name in the target's database (a URI must name that same database)."""
    if isinstance(staging, str) and "://" not in staging:
        return staging
    from guardrails.engines import parse_table_uri

    location = parse_table_uri(staging) if isinstance(staging, str) else staging
    if (location.backend, _without_password(location)) != (target.location.backend, _without_password(target.location)):
        raise ValueError(
            f"staging table {location.redacted} is not in the target's database {target.redacted}: one transaction "
            "cannot span two databases; stage the batch beside the target"
        )
    if not location.table:
        raise ValueError(f"staging {location.redacted}: name the staging table with ?table=")
    return str(location.table)


def _quarantine_for(con: Any, name: str, staged: Any, content_hash: str) -> str:
    """The quarantine table for a batch: `name`, unless it exists with columns the staged ones do not fit (the
    batch's schema drifted, often the very reason it fails): then a table of its own, ``<name>_<hash>``."""
    try:
        existing = _table(con, name).schema()
    except Exception:  # no such table yet: it is created with the batch's columns
        return name
    fits = all(
        column in existing and existing[column].copy(nullable=True) == dtype.copy(nullable=True)
        for column, dtype in staged.schema().items()
    )
    return name if fits else f"{name}_{content_hash[:12]}"


def _reference(target: TableTarget, partition: str | None, *, whole: bool, quarantine: str) -> bytes:
    """The kept file of an engine batch: where its rows are (no password) and how a release publishes them."""
    return json.dumps({
        "kind": REFERENCE_KIND,
        "uri": _without_password(target.location),
        "table": target.table,
        "quarantine_table": quarantine,
        "partition_column": target.partition_column,
        "partition": partition,
        "whole": whole,
    }, sort_keys=True).encode()


def _put(store: QuarantineStore, reference: bytes, outcome: CheckOutcome, **kwargs: Any) -> QuarantineManifest:
    return store.put(reference, outcome, data_format=DataFormat.ENGINE_TABLE, content_hash_of="engine", **kwargs)


def _without_password(location: TableLocation) -> str:
    """The location's URL without its password (user, host, port, database and options kept); a DuckDB file's
    path made absolute, so a release from another working directory finds it."""
    if location.backend == "duckdb":  # the connection is the file's path
        path = location.connection
        return "duckdb://" + (os.path.abspath(path) if not path.startswith(":memory:") else path)
    parts = urllib.parse.urlsplit(location.connection)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _quoted(name: str) -> str:
    """A (possibly ``schema.``-qualified) identifier, double-quoted for DuckDB and PostgreSQL."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]
