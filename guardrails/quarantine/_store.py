"""The quarantine store: durable, idempotent keeping of bad batches, and their exactly-once release.

Layout under the store's root (a local directory, or a path in any fsspec / pyarrow filesystem)::

    <root>/<batch_id>/data-<sha256[:16]>.parquet   the kept data (.arrow, .bin or .pickle for other formats)
    <root>/<batch_id>/manifest.json                 written last: a batch is visible only once this exists
    <root>/<batch_id>/claim.json                    created exclusively by the one release (or purge) that wins
    <root>/_released/<batch_id>.parquet             where `release` publishes when no `publish` callable is given

Guarantees (see `_files` for what each filesystem provides):

* A crash at any point leaves no half batch visible: the data file is renamed into place whole, and the manifest
  is created whole and last. Leftovers of a crash (``.*.tmp`` files, a data file without a manifest) are never
  listed, and a retry of the same put completes the batch.
* A retried put does not duplicate: the batch is identified by the hash of the input and the hash of the kept
  data. Putting the same thing under the same id again returns the existing manifest. A *different* batch under
  an id that is taken never overwrites it: it goes to the first free id of ``<id>~2``, ``<id>~3``, ... (and a
  retry of that one finds itself there again).
* Release publishes exactly once: after re-validation passes, the releaser must create ``claim.json``
  exclusively; only the winner publishes and marks the batch released. A purge takes the same claim.
* Purge is explicit only. It deletes the data and keeps a tombstone manifest (state ``purged``: counts and
  history, no failing-row sample) so that the audit trail survives.

Example:
    >>> import pyarrow as pa, tempfile
    >>> from datetime import datetime, timezone
    >>> from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity
    >>> t = datetime(2026, 11, 20, tzinfo=timezone.utc)
    >>> failed = CheckOutcome(check="tx", kind=CheckKind.CONTRACT, status=CheckStatus.FAILED,
    ...                       severity=Severity.ERROR, rows=2, started_at=t, finished_at=t)
    >>> store = QuarantineStore(tempfile.mkdtemp())
    >>> manifest = store.put(pa.table({"amount": [-1.0, 5.0]}), failed, batch_id="tx-20261120")
    >>> [m.batch_id for m in store.list()], store.read("tx-20261120").num_rows
    (['tx-20261120'], 2)
    >>> store.put(pa.table({"amount": [-1.0, 5.0]}), failed, batch_id="tx-20261120") == manifest  # a retry
    True
"""

from __future__ import annotations

import builtins
import getpass
import logging
import os
import re
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

import fsspec
import pyarrow as pa
from fsspec import AbstractFileSystem

from guardrails.contract.model import Contract, QuarantinePolicy, RowCountRule
from guardrails.outcome import CheckOutcome
from guardrails.quarantine._audit import audit, describe, error_outcome
from guardrails.quarantine._batch import arrow_hash, decode_table, encode_table, parquet_rows, sha256_hex
from guardrails.quarantine._claim import DEFAULT_CLAIM_LEASE, Claim, ClaimVerdict, judge, this_process
from guardrails.quarantine._errors import ManifestError, QuarantineError
from guardrails.quarantine._files import TEMP_NAME_OVERHEAD, Files
from guardrails.quarantine._manifest import DataFormat, QuarantineManifest, QuarantineState, data_file_name
from guardrails.quarantine._published import PublishLog, PublishRecord, superseded_message, superseding

DEFAULT_LOCATION = ".guardrails/quarantine"
MANIFEST = "manifest.json"
CLAIM = "claim.json"
RELEASED_DIR = "_released"
RELEASED_EXTENSION = ".parquet"
MAX_SUFFIX = 1000
NAME_MAX = 255
"""The longest file name the store may create: NAME_MAX of common local filesystems (ext4, XFS, APFS, NTFS)."""
MAX_BATCH_ID = NAME_MAX - len(f"~{MAX_SUFFIX}") - len(RELEASED_EXTENSION) - TEMP_NAME_OVERHEAD
"""The longest batch id a caller may ask for (204): derived from the longest name the store builds from an id,
the temporary file of ``_released/<id>~<N>.parquet``, so that every id accepted by `put` can also be released."""
_BATCH_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._~-]{{0,{MAX_BATCH_ID - 1}}}")
_STORED_ID = re.compile(rf"(?:{_BATCH_ID.pattern})(?:~[0-9]{{1,{len(str(MAX_SUFFIX))}}})?")
_ID_CHARACTERS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*")

Clock = Callable[[], datetime]
Publish = Callable[[pa.Table], object]
logger = logging.getLogger(__name__)


class ReleaseStatus(StrEnum):
    """What a release did. Only `released` published anything, and only once per batch."""

    RELEASED = "released"
    """Re-validation passed; this call published the data and marked the batch released."""
    REFUSED = "refused"
    """Re-validation still blocks publication (or could not run); the batch stays quarantined."""
    ALREADY_RELEASED = "already_released"
    """An earlier (or concurrent) release published it; nothing was published again."""
    CLAIMED = "claimed"
    """Another release or purge holds the claim but has not finished (still running, or it crashed)."""
    SUPERSEDED = "superseded"
    """Another batch was published to the same source since this one was quarantined; `force` overrides."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseResult:
    """The answer to `QuarantineStore.release`: what happened, the re-validation outcome, and the manifest after."""

    batch_id: str
    status: ReleaseStatus
    manifest: QuarantineManifest
    outcome: CheckOutcome | None = None
    released_to: str | None = None
    message: str = ""
    took_over: str | None = None
    """Whose claim this release took over (stale) or broke, and why; None when the claim was free."""
    superseded_by: PublishRecord | None = None
    """The newer publish that refused the release (or that a forced release overwrote)."""

    @property
    def released(self) -> bool:
        """True when the batch is (now or already) released: its data reached consumers exactly once."""
        return self.status in (ReleaseStatus.RELEASED, ReleaseStatus.ALREADY_RELEASED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "status": self.status.value,
            "released": self.released,
            "released_to": self.released_to,
            "message": self.message,
            "took_over": self.took_over,
            "superseded_by": self.superseded_by.to_dict() if self.superseded_by is not None else None,
            "outcome": self.outcome.to_dict() if self.outcome is not None else None,
            "manifest": self.manifest.to_dict(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokenBatch:
    """A batch directory whose manifest cannot be trusted (unreadable, not JSON, a bad field): reported, never read.

    Attributes:
        batch_id: the directory's name (the id the batch would have).
        path: the directory, in the store's filesystem; nothing inside it was opened but its manifest.
        reason: what is wrong, naming every faulty field.
    """

    batch_id: str
    path: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "state": "broken", "path": self.path, "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantineListing:
    """Everything in a store: the batches (oldest first) and the directories whose manifest is broken."""

    manifests: tuple[QuarantineManifest, ...]
    broken: tuple[BrokenBatch, ...]


def derive_batch_id(content_hash: str, prefix: str = "batch") -> str:
    """The default batch id: a readable prefix (the contract's table) and 16 hex digits of the content hash.

    Example:
        >>> derive_batch_id("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "Card transactions")
        'card-transactions-9f86d081884c7d65'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", prefix.lower()).strip("-") or "batch"
    return f"{slug[:80]}-{content_hash[:16]}"


class QuarantineStore:
    """Bad batches, kept with a manifest each until a release re-checks and publishes them or a purge deletes them.

    Args:
        location: a local directory (the default, relative to the working directory) or any fsspec URL
            (``memory://quarantine``, ``s3://bucket/quarantine``, ...); a path inside `filesystem` if one is given.
        filesystem: an fsspec filesystem or a ``pyarrow.fs.FileSystem`` to use instead of resolving `location`.
        clock: the time source for timestamps (UTC); tests pass a fixed one.
        claim_lease: how long a release's claim keeps releases on *other* machines from taking it over (see
            `release`); make it longer than the slowest publish.
    """

    def __init__(
        self,
        location: str | os.PathLike[str] = DEFAULT_LOCATION,
        *,
        filesystem: AbstractFileSystem | Any | None = None,
        clock: Clock | None = None,
        claim_lease: timedelta = DEFAULT_CLAIM_LEASE,
    ) -> None:
        if filesystem is None:
            fs, root = fsspec.core.url_to_fs(os.fspath(location))
        else:
            fs = _as_fsspec(filesystem)
            root = fs._strip_protocol(os.fspath(location))
        self.root: str = root.rstrip("/") or "/"
        self.fs: AbstractFileSystem = fs
        self._files = Files(fs)
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._actor = _actor()
        self._claim_lease = claim_lease

    def __repr__(self) -> str:
        return f"QuarantineStore({self.uri!r})"

    @property
    def uri(self) -> str:
        """The store's root as a URL (``file:///...`` for a local directory)."""
        return self.fs.unstrip_protocol(self.root)

    def batch_path(self, batch_id: str) -> str:
        """The directory (in the store's filesystem) holding one batch's data and manifest."""
        return f"{self.root}/{checked_batch_id(batch_id, stored=True)}"

    def released_path(self, batch_id: str) -> str:
        """Where `release` writes a batch's data when no `publish` callable is given."""
        return f"{self.root}/{RELEASED_DIR}/{checked_batch_id(batch_id, stored=True)}{RELEASED_EXTENSION}"

    # --- put ---------------------------------------------------------------------------------------------------

    def put(
        self,
        data: pa.Table | bytes,
        outcome: CheckOutcome,
        *,
        batch_id: str | None = None,
        content_hash: str | None = None,
        content_hash_of: Literal["bytes", "arrow_ipc"] | None = None,
        data_format: DataFormat | None = None,
        source: str = "",
        run_id: str | None = None,
        policy: QuarantinePolicy = QuarantinePolicy.BATCH,
        rows_in: int | None = None,
        reason: str | None = None,
    ) -> QuarantineManifest:
        """Keep `data` (a whole batch, or the rejected rows of one) with the outcome that condemned it.

        Idempotent: the same data and input under the same id returns the existing manifest untouched, in whatever
        state it is (quarantined or released); a purged one is kept again, its history continued.

        Args:
            data: a table (stored as Parquet, or Arrow IPC for types Parquet cannot hold) or bytes kept as they are.
            outcome: the check outcome (failing rules, counts, sample), embedded in the manifest.
            batch_id: the id to use; default `derive_batch_id` of the content hash. A taken id holding other
                data is never overwritten: the batch goes to ``<id>~2`` (the returned manifest says which).
            content_hash: sha256 of the input batch (default: of `data`); `content_hash_of` says of what.
            data_format: how bytes are encoded (default ``raw``; ``parquet`` for bytes of a readable Parquet file).
            source: where the batch came from. run_id: the pipeline run that guarded it.
            policy: the contract policy applied. rows_in: rows in the input (default: rows in `data`).
            reason: one line on why (default: derived from the outcome).

        Raises:
            QuarantineError: the store cannot be written (nothing is half-visible then either).
        """
        if isinstance(data, pa.Table):
            payload, data_format = encode_table(data)
            rows_kept: int | None = data.num_rows
            content_hash = content_hash or arrow_hash(data)
            content_hash_of = content_hash_of or "arrow_ipc"
        else:
            payload, data_format = bytes(data), DataFormat(data_format or DataFormat.RAW)
            rows_kept = parquet_rows(payload) if data_format is DataFormat.PARQUET else None
            content_hash = content_hash or sha256_hex(payload)
            content_hash_of = content_hash_of or "bytes"
        rows_in = rows_in if rows_in is not None else rows_kept
        data_sha = sha256_hex(payload)
        base_id = checked_batch_id(batch_id) if batch_id is not None else derive_batch_id(content_hash)
        now = self._clock()
        pending = QuarantineManifest(
            batch_id=base_id,
            state=QuarantineState.QUARANTINED,
            content_hash=content_hash,
            content_hash_of=content_hash_of,
            data_file=data_file_name(data_sha, data_format),
            data_format=data_format,
            data_sha256=data_sha,
            data_bytes=len(payload),
            source=source,
            policy=policy,
            rows_in=rows_in,
            rows_quarantined=rows_kept,
            rows_published=(rows_in - rows_kept) if rows_in is not None and rows_kept is not None else 0,
            reason=reason or describe(outcome),
            outcome=outcome,
            contract_id=outcome.contract_id,
            contract_version=outcome.contract_version,
            run_id=run_id,
            quarantined_at=now,
        ).transition(QuarantineState.QUARANTINED, now, reason or describe(outcome), self._actor)
        try:
            return self._put(pending, payload)
        except OSError as exc:
            raise QuarantineError(base_id, f"cannot write to the quarantine store {self.uri}: {exc}") from exc

    def _put(self, pending: QuarantineManifest, payload: bytes) -> QuarantineManifest:
        for candidate in _candidates(pending.batch_id):
            manifest = pending.evolve(batch_id=candidate)
            existing = self._load(candidate)
            if isinstance(existing, BrokenBatch):
                continue  # its owner cannot be known: taken, and left for a person to repair
            if existing is not None:
                if not _same_batch(existing, manifest):
                    continue
                if existing.state is QuarantineState.PURGED:
                    return self._requarantine(existing, manifest, payload)
                return existing
            data_path = f"{self.root}/{candidate}/{manifest.data_file}"
            self._files.write_atomic(data_path, payload)
            if self._files.create_exclusive(self._manifest_path(candidate), _encode(manifest)):
                return manifest
            # Another writer created this id between our check and our create: theirs stands.
            winner = self.show(candidate)
            if _same_batch(winner, manifest):
                return winner  # same data, same file name: our identical bytes are the winner's
            if winner.data_file != manifest.data_file:
                self._files.remove(data_path)
        raise QuarantineError(pending.batch_id, f"{MAX_SUFFIX} batches already use this id with different data")

    def _requarantine(
        self, purged: QuarantineManifest, fresh: QuarantineManifest, payload: bytes
    ) -> QuarantineManifest:
        """The same batch arrives again after a purge: keep it again, continuing the old history."""
        self._files.write_atomic(f"{self.root}/{purged.batch_id}/{fresh.data_file}", payload)
        self._files.remove(self._claim_path(purged.batch_id))
        revived = fresh.evolve(history=(*purged.history, *fresh.history))
        self._files.write_atomic(self._manifest_path(purged.batch_id), _encode(revived))
        return revived

    # --- read --------------------------------------------------------------------------------------------------

    def list(self, state: QuarantineState | str | None = None) -> builtins.list[QuarantineManifest]:
        """Every visible batch (those whose manifest exists), oldest first; only those in `state` if given.

        A batch whose manifest is broken is left out (and logged as a warning): `scan` reports those too.
        """
        listing = self.scan(state)
        for broken in listing.broken:
            logger.warning("quarantine %s: left out broken batch %s: %s", self.uri, broken.path, broken.reason)
        return builtins.list(listing.manifests)

    def scan(self, state: QuarantineState | str | None = None) -> QuarantineListing:
        """The visible batches (only those in `state` if given) and every broken one, whatever its state.

        A broken batch never hides the others: each directory's manifest is judged on its own.
        """
        wanted = QuarantineState(state) if state is not None else None
        manifests, broken = [], []
        for name in self._files.listdir(self.root):
            if name.startswith((".", "_")):
                continue  # temporary files, the _released area
            loaded = self._load(name)
            if isinstance(loaded, BrokenBatch):
                broken.append(loaded)
            elif loaded is not None and (wanted is None or loaded.state is wanted):
                manifests.append(loaded)
        return QuarantineListing(
            manifests=tuple(sorted(manifests, key=lambda m: (m.quarantined_at, m.batch_id))), broken=tuple(broken)
        )

    def show(self, batch_id: str) -> QuarantineManifest:
        """The manifest of one batch.

        Raises:
            QuarantineError: no such batch (or its manifest is unreadable).
        """
        manifest = self._manifest_or_none(batch_id)
        if manifest is None:
            raise QuarantineError(batch_id, f"no such batch in {self.uri}", hint="see `guardrails quarantine list`")
        return manifest

    def read(self, batch_id: str) -> pa.Table | bytes:
        """The kept data: a table for Parquet/Arrow data, the original bytes for input that could not be read.

        Raises:
            QuarantineError: unknown or purged batch, or the stored data no longer matches its recorded hash.
        """
        manifest = self.show(batch_id)
        return self._read(manifest)

    def _read(self, manifest: QuarantineManifest) -> pa.Table | bytes:
        if manifest.state is QuarantineState.PURGED:
            raise QuarantineError(manifest.batch_id, f"was purged at {_when(manifest.purged_at)}; its data is gone")
        payload = self._read_payload(manifest)
        if manifest.data_format in (DataFormat.PARQUET, DataFormat.ARROW_IPC):
            return decode_table(payload, manifest.data_format)
        return payload

    def _read_payload(self, manifest: QuarantineManifest) -> bytes:
        path = f"{self.root}/{manifest.batch_id}/{manifest.data_file}"
        try:
            payload = self._files.read(path)
        except OSError as exc:
            raise QuarantineError(manifest.batch_id, f"cannot read its data file {path}: {exc}") from exc
        if sha256_hex(payload) != manifest.data_sha256:
            raise QuarantineError(manifest.batch_id, f"data file {path} does not match the sha256 in its manifest")
        return payload

    # --- release and purge -------------------------------------------------------------------------------------

    def release(
        self,
        batch_id: str,
        contract: Contract,
        *,
        as_of: datetime | None = None,
        publish: Publish | None = None,
        break_claim: bool = False,
        force: bool = False,
        also_published: Iterable[PublishRecord] = (),
    ) -> ReleaseResult:
        """Re-validate a quarantined batch against the *current* contract and, if nothing blocks it, publish it once.

        Publishing calls `publish(table)` (if it returns a string, that is recorded as where the data went), or
        writes ``_released/<batch_id>.parquet`` under the store's root. `publish` must be all-or-nothing: if it
        raises, the claim is given back so the release can be retried, and the exception propagates.

        A release killed after it claimed the batch does not block it for good: its claim is taken over (and the
        temporary files it left are deleted) once it is provably stale: on the same machine, when its process has
        ended (pid *and* process start time, as pids are reused); from another machine, when its lease
        (`claim_lease`) has expired. `break_claim` also takes a claim that is not provably stale (held on another
        machine, lease running), never one whose process is seen running here; the result's `took_over` says whose
        claim was taken. Taking over keeps exactly-once only when publishing is idempotent: the killed holder may
        have published before it died (an IO manager overwriting a partition is idempotent, as is the default
        ``_released/<id>.parquet``; an arbitrary `publish` callable may not be).

        For part of a batch (rows policy), the row-count rule is left out of the re-validation: it was judged on the
        whole batch when it was guarded (it passed, or the whole batch would be here), and a handful of rejected
        rows would never satisfy it. Uniqueness is judged within the kept rows only.

        A batch that another batch's publish to the same source has superseded since it was quarantined (the
        store's publish record, or `also_published`: what the host knows, e.g. Dagster's latest materialization
        of the partition) is refused as ``superseded``, naming both, unless `force`; a forced release says so in
        the manifest's history.

        Raises:
            QuarantineError: unknown or purged batch, or `contract` is not the contract the batch was guarded by.
        """
        manifest = self.show(batch_id)
        if manifest.state is QuarantineState.PURGED:
            raise QuarantineError(batch_id, f"was purged at {_when(manifest.purged_at)}; there is nothing to release")
        if manifest.state is QuarantineState.RELEASED:
            return self._already_released(manifest)
        if manifest.contract_id is not None and manifest.contract_id != contract.id:
            raise QuarantineError(
                batch_id,
                f"was guarded by contract {manifest.contract_id}, not {contract.id}",
                hint="pass the batch's own contract file",
            )
        newer = superseding(manifest, (PublishLog.of(self).latest(manifest.source), *also_published))
        if newer is not None and not force:
            return ReleaseResult(
                batch_id=batch_id, status=ReleaseStatus.SUPERSEDED, manifest=manifest, superseded_by=newer,
                message=superseded_message(manifest, newer),
            )
        table, outcome = self._revalidate(manifest, contract, as_of)
        if table is None or outcome.blocks_publication:
            return ReleaseResult(
                batch_id=batch_id,
                status=ReleaseStatus.REFUSED,
                manifest=manifest,
                outcome=outcome,
                message=f"still quarantined: {describe(outcome)}",
            )
        claim = self._claim(batch_id, "release", break_claim=break_claim)
        if not claim.won:
            return self._lost_claim(batch_id, outcome, claim.note)
        if self.show(batch_id).state is not QuarantineState.QUARANTINED:
            return self._lost_claim(batch_id, outcome, claim.note)  # its claim was stale because it had finished
        try:
            released_to = self._publish(manifest, table, publish)
        except BaseException:
            self._give_back(batch_id, claim)  # nothing was published: let a retry claim it again
            raise
        now = self._clock()
        forced = f"forced over the newer {newer.describe()}; " if newer is not None else ""
        released = manifest.transition(
            QuarantineState.RELEASED,
            now,
            f"{forced}re-validated against {contract.id} v{contract.version}: {describe(outcome)}"
            + (f"; {claim.note}" if claim.note else ""),
            self._actor,
            released_at=now,
            release_outcome=outcome,
            released_to=released_to,
        )
        try:
            PublishLog.of(self).record_release(released)
            self._files.write_atomic(self._manifest_path(batch_id), _encode(released))
        except OSError as exc:
            raise QuarantineError(
                batch_id,
                f"published to {released_to} but could not record the release: {exc}",
                hint="mark it released in its manifest by hand before any retry: once this process has ended its "
                "claim is stale, and a retry would publish again",
            ) from exc
        return ReleaseResult(
            batch_id=batch_id,
            status=ReleaseStatus.RELEASED,
            manifest=released,
            outcome=outcome,
            released_to=released_to,
            message=f"{forced}released {_rows(released.rows_quarantined)} to {released_to}"
            + (f"; {claim.note}" if claim.note else ""),
            took_over=claim.note or None,
            superseded_by=newer,
        )

    def purge(self, batch_id: str) -> None:
        """Delete a batch's data for good (never done automatically); its manifest stays as a tombstone.

        The tombstone keeps counts, rules and history but drops the sample of failing rows. Purging a purged
        batch only finishes deleting whatever an interrupted purge left behind.

        Raises:
            QuarantineError: unknown batch, or a release of it is in progress.
        """
        manifest = self.show(batch_id)
        if manifest.state is QuarantineState.PURGED:
            self._delete_data(batch_id)  # finishes a purge that crashed after writing its tombstone
            return
        if manifest.state is QuarantineState.QUARANTINED:
            claim = self._claim(batch_id, "purge")
            if not claim.won:
                raise QuarantineError(batch_id, f"cannot purge: {claim.note}", hint=_CLAIM_HINT)
            manifest = self.show(batch_id)  # as it is now that the claim is ours (a release may have finished)
        now = self._clock()
        tombstone = manifest.transition(
            QuarantineState.PURGED,
            now,
            "purged on request",
            self._actor,
            purged_at=now,
            outcome=manifest.outcome.evolve(sample=()),
            release_outcome=manifest.release_outcome.evolve(sample=()) if manifest.release_outcome else None,
        )
        # Tombstone first, then delete: a crash in between leaves a purged batch with data that a repeated purge
        # deletes, never a quarantined batch whose data is gone.
        self._files.write_atomic(self._manifest_path(batch_id), _encode(tombstone))
        self._delete_data(batch_id)

    def _delete_data(self, batch_id: str) -> None:
        for name in self._files.listdir(self.batch_path(batch_id)):
            if name not in (MANIFEST, CLAIM):
                self._files.remove(f"{self.batch_path(batch_id)}/{name}")

    def _revalidate(
        self, manifest: QuarantineManifest, contract: Contract, as_of: datetime | None
    ) -> tuple[pa.Table | None, CheckOutcome]:
        started = datetime.now(UTC)
        payload = self._read_payload(manifest)
        try:
            if manifest.data_format is DataFormat.PANDAS_PICKLE:
                raise ValueError("a pandas frame that Arrow could not represent cannot be re-validated")
            table = decode_table(payload, manifest.data_format)
        except Exception as exc:  # still unreadable: the release cannot run, and says why
            error = f"cannot read the kept data as a table: {type(exc).__name__}: {exc}"
            return None, error_outcome(contract, error, started=started, as_of=as_of, rows=manifest.rows_quarantined)
        kept, total = manifest.rows_quarantined, manifest.rows_in
        partial = kept is not None and total is not None and kept < total
        if partial:
            contract = replace(contract, rules=tuple(r for r in contract.rules if not isinstance(r, RowCountRule)))
        return table, audit(contract, table, as_of=as_of).outcome

    def _publish(self, manifest: QuarantineManifest, table: pa.Table, publish: Publish | None) -> str:
        if publish is not None:
            where = publish(table)
            return where if isinstance(where, str) else "publish callback"
        if manifest.data_format in (DataFormat.PARQUET, DataFormat.RAW):
            payload = self._read_payload(manifest)  # Parquet as it arrived, byte for byte
        else:
            payload, _ = encode_table(table)
        path = self.released_path(manifest.batch_id)
        self._files.write_atomic(path, payload)
        return self.fs.unstrip_protocol(path)

    def _claim(self, batch_id: str, action: str, *, break_claim: bool = False) -> _ClaimAttempt:
        """Take the batch's claim: a free one, or one whose holder is provably gone (or, with `break_claim`, one
        whose holder cannot be observed from here). A holder seen running on this machine always keeps it."""
        path = self._claim_path(batch_id)
        here = this_process()
        mine = Claim.new(action, self._actor, here, self._clock(), self._claim_lease).to_json()
        for _ in range(_CLAIM_ATTEMPTS):
            if self._files.create_exclusive(path, mine):
                self._remove_temporaries(batch_id)
                return _ClaimAttempt(won=True, content=mine)
            try:
                held = self._files.read(path)
            except FileNotFoundError:
                continue  # given back while we looked: try again
            try:
                claim = Claim.from_json(held, lease=self._claim_lease)
            except ValueError as exc:
                holder, verdict, why = f"an unreadable {CLAIM}", ClaimVerdict.UNKNOWN, str(exc)
            else:
                judgement = judge(claim, here, self._clock())
                holder, verdict, why = claim.describe(), judgement.verdict, judgement.reason
            if verdict is ClaimVerdict.LIVE or (verdict is ClaimVerdict.UNKNOWN and not break_claim):
                return _ClaimAttempt(won=False, content=mine, note=f"the claim is held by {holder}; {why}")
            if self._files.replace_if_unchanged(path, held, mine):
                taken = "took over the stale claim" if verdict is ClaimVerdict.STALE else "broke the claim"
                removed = self._remove_temporaries(batch_id)
                cleaned = f", removed {len(removed)} temporary file(s) it left" if removed else ""
                return _ClaimAttempt(won=True, content=mine, note=f"{taken} of {holder} ({why}){cleaned}")
        return _ClaimAttempt(won=False, content=mine, note="its claim kept changing hands while this call tried it")

    def _remove_temporaries(self, batch_id: str) -> builtins.list[str]:
        """Delete the temporary files a killed holder of the claim left: a half-written release or manifest."""
        released = self._files.remove_temporaries(f"{self.root}/{RELEASED_DIR}", f"{batch_id}{RELEASED_EXTENSION}")
        return released + self._files.remove_temporaries(self.batch_path(batch_id), MANIFEST)

    def _give_back(self, batch_id: str, claim: _ClaimAttempt) -> None:
        """Delete our claim, unless it has been taken over meanwhile (then it is no longer ours to delete)."""
        path = self._claim_path(batch_id)
        try:
            if self._files.read(path) == claim.content:
                self._files.remove(path)
        except FileNotFoundError:
            pass  # already gone: nothing to give back

    def _lost_claim(self, batch_id: str, outcome: CheckOutcome, note: str) -> ReleaseResult:
        manifest = self.show(batch_id)
        if manifest.state is QuarantineState.RELEASED:
            return self._already_released(manifest)
        if manifest.state is QuarantineState.PURGED:
            raise QuarantineError(batch_id, "was purged while this release ran; nothing was published")
        return ReleaseResult(
            batch_id=batch_id,
            status=ReleaseStatus.CLAIMED,
            manifest=manifest,
            outcome=outcome,
            message=f"not published by this call: {note} ({_CLAIM_HINT})",
        )

    def _already_released(self, manifest: QuarantineManifest) -> ReleaseResult:
        return ReleaseResult(
            batch_id=manifest.batch_id,
            status=ReleaseStatus.ALREADY_RELEASED,
            manifest=manifest,
            outcome=manifest.release_outcome,
            released_to=manifest.released_to,
            message=(
                f"already released at {_when(manifest.released_at)} to {manifest.released_to}; "
                "nothing published again"
            ),
        )

    def _manifest_or_none(self, batch_id: str) -> QuarantineManifest | None:
        """The batch's manifest, None when there is none yet; QuarantineError when it is broken."""
        loaded = self._load(checked_batch_id(batch_id, stored=True))
        if isinstance(loaded, BrokenBatch):
            raise QuarantineError(
                batch_id,
                f"its manifest cannot be trusted, so nothing of it is read: {loaded.reason}",
                hint=f"repair or move {loaded.path} by hand",
            )
        return loaded

    def _load(self, name: str) -> QuarantineManifest | BrokenBatch | None:
        """The manifest in directory `name` (a name from a listing, or a checked id), checked field by field.

        Never follows anything the manifest says: its `batch_id` must be the directory's own name and its
        `data_file` the content-addressed name the store gives (see `QuarantineManifest.from_json`).
        """
        directory = f"{self.root}/{name}"
        path = f"{directory}/{MANIFEST}"
        try:
            text = self._files.read(path)
        except (FileNotFoundError, NotADirectoryError):
            return None  # not a batch, or one whose put has not finished: invisible by design
        except OSError as exc:
            return BrokenBatch(batch_id=name, path=directory, reason=f"cannot read {MANIFEST}: {exc}")
        if not _STORED_ID.fullmatch(name):
            return BrokenBatch(batch_id=name, path=directory, reason="the directory's name is not a valid batch id")
        try:
            manifest = QuarantineManifest.from_json(text)
        except ManifestError as exc:
            return BrokenBatch(batch_id=name, path=directory, reason=f"{MANIFEST}: {exc}")
        if manifest.batch_id != name:
            reason = f"{MANIFEST}: batch_id: expected its directory's name, got {manifest.batch_id[:100]!r}"
            return BrokenBatch(batch_id=name, path=directory, reason=reason)
        return manifest

    def _manifest_path(self, batch_id: str) -> str:
        return f"{self.batch_path(batch_id)}/{MANIFEST}"

    def _claim_path(self, batch_id: str) -> str:
        return f"{self.batch_path(batch_id)}/{CLAIM}"


@dataclass(frozen=True, slots=True, kw_only=True)
class _ClaimAttempt:
    """Whether this call holds the batch's claim (`content`: what it wrote), and whose claim it took, or why not."""

    won: bool
    content: bytes
    note: str = ""


_CLAIM_ATTEMPTS = 3
_CLAIM_HINT = (
    "a claim is taken over once its holder has provably ended (on its machine) or its lease has expired; for one "
    "held on another machine, make sure that release is dead, check the destination, then use --break-claim"
)


def _as_fsspec(filesystem: Any) -> AbstractFileSystem:
    """An fsspec filesystem as is; a pyarrow filesystem wrapped (its moves are renames where the backend has them)."""
    if isinstance(filesystem, AbstractFileSystem):
        return filesystem
    import pyarrow.fs as pafs

    if isinstance(filesystem, pafs.FileSystem):
        from fsspec.implementations.arrow import ArrowFSWrapper

        return ArrowFSWrapper(filesystem)
    raise TypeError(f"filesystem must be an fsspec or pyarrow filesystem, got {type(filesystem).__name__}")


def checked_batch_id(batch_id: str, *, stored: bool = False) -> str:
    """`batch_id` if it is a valid id (a safe directory name), else a QuarantineError saying what is allowed.

    A caller may ask for up to `MAX_BATCH_ID` characters; with `stored`, the ``~<N>`` the store appends to a taken
    id is allowed on top (ids of batches already in the store).

    Example:
        >>> checked_batch_id("b" * 230)
        Traceback (most recent call last):
        ...
        guardrails.quarantine._errors.QuarantineError: batch bbb...: is 230 characters long; ... at most 204 (...)
    """
    if not isinstance(batch_id, str) or not (_STORED_ID if stored else _BATCH_ID).fullmatch(batch_id):
        hint = f"use 1-{MAX_BATCH_ID} letters, digits, '.', '_', '~' or '-', starting with a letter or digit"
        if isinstance(batch_id, str) and len(batch_id) > MAX_BATCH_ID and _ID_CHARACTERS.fullmatch(batch_id):
            raise QuarantineError(
                batch_id,
                f"is {len(batch_id)} characters long; batch ids have at most {MAX_BATCH_ID}"
                + (" plus the '~<N>' the store appends to a taken id" if stored else ""),
                hint=f"the store appends '~<N>' to a taken id and names files after it, all within {NAME_MAX}-byte "
                "file names; pass a shorter id, or none to use the content hash",
            )
        raise QuarantineError(str(batch_id), "is not a valid batch id", hint=hint)
    return batch_id


def _candidates(batch_id: str) -> Iterator[str]:
    yield batch_id
    for n in range(2, MAX_SUFFIX + 1):
        yield f"{batch_id}~{n}"


def _same_batch(a: QuarantineManifest, b: QuarantineManifest) -> bool:
    """Two puts keep the same batch when both the input and the kept data are identical."""
    return a.content_hash == b.content_hash and a.data_sha256 == b.data_sha256


def _encode(manifest: QuarantineManifest) -> bytes:
    return manifest.to_json(indent=2).encode()


def _actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): the uid still identifies the actor
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def _when(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "an unknown time"


def _rows(rows: int | None) -> str:
    return f"{rows:,} rows" if rows is not None else "the kept bytes"

