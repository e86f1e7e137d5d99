"""The store's publish record: which batch was last published to each source, and when.

A quarantined batch may wait days for its release while the pipeline goes on: a corrected batch for the same
partition can be guarded and published in the meantime. Releasing the old batch then would overwrite the newer
data, so the store remembers, per source (what the manifest calls ``source``: ``dagster:<asset>[<partition>]`` for
a guarded asset, the input's path otherwise), the latest publish, and `release` refuses a batch that a publish of
another batch has superseded since it was quarantined.

Layout: ``<root>/_published/<sha256(source)[:32]>.json``, one small JSON file per source, written whole
(write-then-rename) by the guard when it hands a batch on for publication and by `release` when it publishes.

Example:
    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 11, 3, 6, 0, tzinfo=timezone.utc)
    >>> record = PublishRecord(source="dagster:tx[2026-11-03]", batch_id="tx.2026-11-03", content_hash="9f86d0",
    ...                        published_at=t, via=PublishedVia.GUARD, run_id="run-2")
    >>> PublishRecord.from_json(record.to_json()) == record
    True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from guardrails.quarantine._errors import QuarantineError
from guardrails.quarantine._files import Files
from guardrails.quarantine._manifest import QuarantineManifest

if TYPE_CHECKING:
    from guardrails.quarantine._store import QuarantineStore

PUBLISHED_DIR = "_published"


class PublishedVia(StrEnum):
    """What published the batch: the guard (a batch that passed), a release, or the host (e.g. a Dagster run)."""

    GUARD = "guard"
    RELEASE = "release"
    HOST = "host"


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishRecord:
    """One publish of a batch to a source.

    Attributes:
        source: where the batch belongs (the manifest's ``source``): the key of the record.
        batch_id: the batch's id (guarded assets reuse ``<asset>.<partition>`` for every batch of a partition).
        content_hash: sha256 of the input batch when known; with `run_id` it tells two batches under one id apart.
        published_at: when it was published (UTC).
        via: what published it.
        run_id: the pipeline run that published it, if any.
        actor: ``user@host`` of the process that published it.
    """

    source: str
    batch_id: str
    content_hash: str | None
    published_at: datetime
    via: PublishedVia
    run_id: str | None = None
    actor: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "via", PublishedVia(self.via))

    def is_of(self, manifest: QuarantineManifest) -> bool:
        """True when this publish is of the manifest's own batch (its release, or the valid rows of its split)."""
        if self.batch_id != manifest.batch_id:
            return False
        same_content = self.content_hash is not None and self.content_hash == manifest.content_hash
        same_run = self.run_id is not None and self.run_id == manifest.run_id
        return same_content or same_run

    def describe(self) -> str:
        """``batch tx.2026-11-03 published at 2026-11-04T06:00:00+00:00 by the guard (run 1f2e)``."""
        run = f" (run {self.run_id})" if self.run_id else ""
        return f"batch {self.batch_id} published at {self.published_at.isoformat()} by the {self.via.value}{run}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "batch_id": self.batch_id,
            "content_hash": self.content_hash,
            "published_at": self.published_at.isoformat(),
            "via": self.via.value,
            "run_id": self.run_id,
            "actor": self.actor,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PublishRecord:
        return cls(
            source=data["source"],
            batch_id=data["batch_id"],
            content_hash=data.get("content_hash"),
            published_at=datetime.fromisoformat(data["published_at"]),
            via=PublishedVia(data["via"]),
            run_id=data.get("run_id"),
            actor=data.get("actor", ""),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> PublishRecord:
        return cls.from_dict(json.loads(text))


def superseding(manifest: QuarantineManifest, records: Iterable[PublishRecord | None]) -> PublishRecord | None:
    """The newest publish of *another* batch to the manifest's source after it was quarantined, or None.

    Such a publish means the source holds newer data than the kept batch: releasing it would overwrite that data.
    A batch without a source cannot be placed, so nothing supersedes it.
    """
    if not manifest.source:
        return None
    newer = [
        r for r in records
        if r is not None and r.source == manifest.source and r.published_at > manifest.quarantined_at
        and not r.is_of(manifest)
    ]
    return max(newer, key=lambda r: r.published_at, default=None)


def superseded_message(manifest: QuarantineManifest, newer: PublishRecord) -> str:
    """Why a release was refused, naming both batches and both times."""
    return (
        f"not released: {newer.describe()}, after {manifest.batch_id} was quarantined at "
        f"{manifest.quarantined_at.isoformat()}; releasing it would overwrite newer data (force to do it anyway)"
    )


class PublishLog:
    """The latest publish per source, kept under the quarantine store's root (see the module docstring)."""

    def __init__(self, files: Files, root: str, clock: Callable[[], datetime], actor: str) -> None:
        self._files = files
        self._dir = f"{root}/{PUBLISHED_DIR}"
        self._clock = clock
        self._actor = actor

    @classmethod
    def of(cls, store: QuarantineStore) -> PublishLog:
        """The publish log of `store`, on its filesystem, clock and actor."""
        return cls(Files(store.fs), store.root, store._clock, store._actor)

    def latest(self, source: str) -> PublishRecord | None:
        """The latest publish recorded for `source`, or None.

        Raises:
            QuarantineError: the record exists but cannot be read, or is not a publish record.
        """
        path = self._path(source)
        try:
            return PublishRecord.from_json(self._files.read(path))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise QuarantineError(None, f"cannot read the publish record {path} of {source!r}: {exc}") from exc

    def record(self, record: PublishRecord) -> None:
        """Record a publish, whole or not at all; an older publish never replaces a newer one already recorded.

        Raises:
            OSError: the store cannot be written.
        """
        current = self.latest(record.source)
        if current is not None and current.published_at > record.published_at:
            return
        self._files.write_atomic(self._path(record.source), record.to_json().encode())

    def record_release(self, released: QuarantineManifest) -> None:
        """Record that `released` (a manifest in state released) was published by its release."""
        if released.source and released.released_at is not None:
            self.record(PublishRecord(
                source=released.source, batch_id=released.batch_id, content_hash=released.content_hash,
                published_at=released.released_at, via=PublishedVia.RELEASE, actor=self._actor,
            ))

    def record_guarded(self, source: str, batch_id: str, content_hash: str | None, run_id: str | None) -> None:
        """Record that the guard handed `batch_id` on for publication to `source` (nothing for an empty source)."""
        if source:
            self.record(PublishRecord(
                source=source, batch_id=batch_id, content_hash=content_hash, published_at=self._clock(),
                via=PublishedVia.GUARD, run_id=run_id, actor=self._actor,
            ))

    def _path(self, source: str) -> str:
        return f"{self._dir}/{hashlib.sha256(source.encode()).hexdigest()[:32]}.json"
