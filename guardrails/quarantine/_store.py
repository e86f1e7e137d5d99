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
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import fsspec
import pyarrow as pa
from fsspec import AbstractFileSystem

from guardrails.contract.model import QuarantinePolicy
from guardrails.outcome import CheckOutcome
from guardrails.quarantine._audit import describe
from guardrails.quarantine._batch import arrow_hash, decode_table, encode_table, parquet_rows, sha256_hex
from guardrails.quarantine._claim import DEFAULT_CLAIM_LEASE
from guardrails.quarantine._errors import ManifestError, QuarantineError
from guardrails.quarantine._files import Files
from guardrails.quarantine._layout import (
    CLAIM,
    DEFAULT_LOCATION,
    MANIFEST,
    MAX_BATCH_ID,
    MAX_SUFFIX,
    NAME_MAX,
    RELEASED_DIR,
    RELEASED_EXTENSION,
    STORED_ID,
    candidates,
    checked_batch_id,
    derive_batch_id,
    encode_manifest,
    format_when,
)
from guardrails.quarantine._manifest import DataFormat, QuarantineManifest, QuarantineState, data_file_name
from guardrails.quarantine._release import Publish, ReleaseResult, ReleaseStatus, ReleasingStore

__all__ = [  # the store and what it answers with; ids and layout names stay importable from here
    "CLAIM",
    "DEFAULT_LOCATION",
    "MANIFEST",
    "MAX_BATCH_ID",
    "MAX_SUFFIX",
    "NAME_MAX",
    "RELEASED_DIR",
    "RELEASED_EXTENSION",
    "BrokenBatch",
    "Publish",
    "QuarantineListing",
    "QuarantineStore",
    "ReleaseResult",
    "ReleaseStatus",
    "checked_batch_id",
    "derive_batch_id",
]

Clock = Callable[[], datetime]
logger = logging.getLogger(__name__)


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


class QuarantineStore(ReleasingStore):
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
        content_hash_of: Literal["bytes", "arrow_ipc", "engine"] | None = None,
        data_format: DataFormat | None = None,
        source: str = "",
        run_id: str | None = None,
        policy: QuarantinePolicy = QuarantinePolicy.BATCH,
        rows_in: int | None = None,
        reason: str | None = None,
        rows_kept: int | None = None,
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
            rows_kept: the rows the kept data stands for, when `data` is a reference to them (an engine batch's
                rows stay in its database) rather than the rows themselves.

        Raises:
            QuarantineError: the store cannot be written (nothing is half-visible then either).
        """
        if isinstance(data, pa.Table):
            payload, data_format = encode_table(data)
            rows_kept = data.num_rows
            content_hash = content_hash or arrow_hash(data)
            content_hash_of = content_hash_of or "arrow_ipc"
        else:
            payload, data_format = bytes(data), DataFormat(data_format or DataFormat.RAW)
            if rows_kept is None:
                rows_kept = parquet_rows(payload) if data_format is DataFormat.PARQUET else None
            content_hash = content_hash or sha256_hex(payload)
            content_hash_of = content_hash_of or "bytes"
        rows_in = rows_in if rows_in is not None else rows_kept
        rows_kept = rows_kept if rows_kept is not None else rows_in  # raw bytes are always the whole input
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
        for candidate in candidates(pending.batch_id):
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
            if self._files.create_exclusive(self._manifest_path(candidate), encode_manifest(manifest)):
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
        self._files.write_atomic(self._manifest_path(purged.batch_id), encode_manifest(revived))
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
            raise QuarantineError(manifest.batch_id, f"was purged at {format_when(manifest.purged_at)}; its data is gone")
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

    # --- manifests and paths -----------------------------------------------------------------------------------

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
        if not STORED_ID.fullmatch(name):
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


def _as_fsspec(filesystem: Any) -> AbstractFileSystem:
    """An fsspec filesystem as is; a pyarrow filesystem wrapped (its moves are renames where the backend has them)."""
    if isinstance(filesystem, AbstractFileSystem):
        return filesystem
    import pyarrow.fs as pafs

    if isinstance(filesystem, pafs.FileSystem):
        from fsspec.implementations.arrow import ArrowFSWrapper

        return ArrowFSWrapper(filesystem)
    raise TypeError(f"filesystem must be an fsspec or pyarrow filesystem, got {type(filesystem).__name__}")


def _same_batch(a: QuarantineManifest, b: QuarantineManifest) -> bool:
    """Two puts keep the same batch when both the input and the kept data are identical."""
    return a.content_hash == b.content_hash and a.data_sha256 == b.data_sha256


def _actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): the uid still identifies the actor
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"
