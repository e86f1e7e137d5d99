"""The release and purge half of the quarantine store: re-validate, claim, publish exactly once; purge for good.

`ReleasingStore` is mixed into `QuarantineStore`; it reads and writes only through the store's files, manifests
and paths (see `_store` for the guarantees and `_claim` for how a claim is judged stale).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from guardrails.contract.model import Contract, RowCountRule
from guardrails.outcome import CheckOutcome
from guardrails.quarantine._audit import audit, describe, error_outcome
from guardrails.quarantine._batch import decode_table, encode_table
from guardrails.quarantine._claim import Claim, ClaimVerdict, judge, this_process
from guardrails.quarantine._errors import QuarantineError
from guardrails.quarantine._layout import CLAIM, MANIFEST, RELEASED_DIR, RELEASED_EXTENSION, encode_manifest, format_when
from guardrails.quarantine._manifest import DataFormat, QuarantineManifest, QuarantineState
from guardrails.quarantine._published import PublishLog, PublishRecord, superseded_message, superseding
from guardrails.quarantine._table import KeptTable
from guardrails.quarantine._target import publish_parquet, target_of

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from guardrails.quarantine._files import Files

Publish = Callable[[pa.Table], object]
Revalidate = Callable[[QuarantineManifest, Contract, datetime | None], tuple[Any | None, CheckOutcome]]
"""Re-validates a kept batch where its rows live (an engine), returning what `publish` is given and the outcome."""


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


class ReleasingStore:
    """`release` and `purge` of `QuarantineStore`, which provides the attributes below and `show`, `batch_path`,
    `released_path`, `_read_payload`, `_manifest_path` and `_claim_path`."""

    root: str
    fs: AbstractFileSystem
    _files: Files
    _clock: Callable[[], datetime]
    _actor: str
    _claim_lease: timedelta

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
        revalidate: Revalidate | None = None,
    ) -> ReleaseResult:
        """Re-validate a quarantined batch against the *current* contract and, if nothing blocks it, publish it once.

        A batch guarded in a database (`guard_table`) is re-validated there and published to its recorded target
        table in one transaction (`KeptTable`); `publish` is not used for it.

        Publishing calls `publish(table)` (if it returns a string, that is recorded as where the data went), or
        writes to the target the manifest's source names (``target:<uri>``, `ParquetTarget`), or else
        ``_released/<batch_id>.parquet`` under the store's root. `publish` must be all-or-nothing: if it
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

        `revalidate` re-validates in an engine instead of in memory (Spark: `guardrails.engines`): it returns the
        rows as that engine holds them (handed to `publish`, which is then required) and the outcome.

        Raises:
            QuarantineError: unknown or purged batch, or `contract` is not the contract the batch was guarded by.
        """
        manifest = self.show(batch_id)
        if manifest.state is QuarantineState.PURGED:
            raise QuarantineError(batch_id, f"was purged at {format_when(manifest.purged_at)}; there is nothing to release")
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
        if revalidate is not None and publish is None:
            raise ValueError("release: an engine's `revalidate` needs the `publish` that writes what it returns")
        table, outcome = (revalidate or self._revalidate)(manifest, contract, as_of)
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
            self._files.write_atomic(self._manifest_path(batch_id), encode_manifest(released))
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
        self._files.write_atomic(self._manifest_path(batch_id), encode_manifest(tombstone))
        self._delete_data(batch_id)

    def _delete_data(self, batch_id: str) -> None:
        for name in self._files.listdir(self.batch_path(batch_id)):
            if name not in (MANIFEST, CLAIM):
                self._files.remove(f"{self.batch_path(batch_id)}/{name}")

    def _revalidate(
        self, manifest: QuarantineManifest, contract: Contract, as_of: datetime | None
    ) -> tuple[pa.Table | KeptTable | None, CheckOutcome]:
        started = datetime.now(UTC)
        payload = self._read_payload(manifest)
        if manifest.data_format is DataFormat.ENGINE_TABLE:  # the rows are in a database: re-validated there
            kept = KeptTable.of(manifest, payload)
            return kept, kept.revalidate(contract, as_of)
        try:
            if manifest.data_format is DataFormat.PANDAS_PICKLE:
                raise ValueError("a pandas frame that Arrow could not represent cannot be re-validated")
            table = decode_table(payload, manifest.data_format)
        except Exception as exc:  # still unreadable: the release cannot run, and says why
            error = f"cannot read the kept data as a table: {type(exc).__name__}: {exc}"
            return None, error_outcome(contract, error, started=started, as_of=as_of, rows=manifest.rows_quarantined)
        return table, audit(contract_for_release(manifest, contract), table, as_of=as_of).outcome

    def _publish(self, manifest: QuarantineManifest, table: pa.Table | KeptTable, publish: Publish | None) -> str:
        if isinstance(table, KeptTable):  # an engine batch goes to its recorded table, whatever `publish` says
            return table.publish()
        if publish is not None:
            where = publish(table)
            return where if isinstance(where, str) else "publish callback"
        if manifest.data_format in (DataFormat.PARQUET, DataFormat.RAW):
            payload = self._read_payload(manifest)  # Parquet as it arrived, byte for byte
        else:
            payload, _ = encode_table(table)
        target = target_of(manifest.source)
        if target is not None:  # the batch was guarded on its way to a target (Airflow): it belongs there
            return publish_parquet(payload, target)
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
                f"already released at {format_when(manifest.released_at)} to {manifest.released_to}; "
                "nothing published again"
            ),
        )


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


def contract_for_release(manifest: QuarantineManifest, contract: Contract) -> Contract:
    """The contract a kept batch is re-validated against: without its row-count rule when only part of the batch was
    kept (rows policy), as that rule was judged on the whole batch and a handful of rejected rows never satisfy it."""
    kept, total = manifest.rows_quarantined, manifest.rows_in
    if kept is not None and total is not None and kept < total:
        return replace(contract, rules=tuple(r for r in contract.rules if not isinstance(r, RowCountRule)))
    return contract


def _rows(rows: int | None) -> str:
    return f"{rows:,} rows" if rows is not None else "the kept bytes"
