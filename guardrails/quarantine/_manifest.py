"""The manifest: the one record of what a quarantined batch is, why it is there, and what happened to it since.

A manifest is frozen and survives a JSON round trip without loss. It is the last file written for a batch, so
its presence is what makes a batch visible; every state change rewrites it whole (write-then-rename) and appends
a `Transition` to its history, so the file alone tells the batch's story.

Example:
    >>> from datetime import datetime, timezone
    >>> from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity
    >>> t = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
    >>> outcome = CheckOutcome(check="contract", kind=CheckKind.CONTRACT, status=CheckStatus.FAILED,
    ...                        severity=Severity.ERROR, rows=10, started_at=t, finished_at=t)
    >>> manifest = QuarantineManifest(
    ...     batch_id="transactions-9f86d081884c7d65", state=QuarantineState.QUARANTINED,
    ...     content_hash="9f86d081884c7d65", content_hash_of="bytes", data_file="data-2c26b46b68ffc68f.parquet",
    ...     data_format=DataFormat.PARQUET, data_sha256="2c26b46b68ffc68f", data_bytes=1234,
    ...     source="s3://landing/tx.parquet",
    ...     policy=QuarantinePolicy.BATCH, rows_in=10, rows_quarantined=10, rows_published=0,
    ...     reason="1 blocking rule failed: amount.range (3 rows)", outcome=outcome, contract_id="urn:tx",
    ...     contract_version="1.2.0", run_id=None, quarantined_at=t,
    ...     history=(Transition(state=QuarantineState.QUARANTINED, at=t, reason="contract failed", actor="ci"),))
    >>> QuarantineManifest.from_json(manifest.to_json()) == manifest
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from guardrails.contract.model import QuarantinePolicy
from guardrails.outcome import CheckOutcome, RuleResult

MANIFEST_SCHEMA_VERSION = 1
"""Bumped on any incompatible change of the manifest's JSON; readers refuse versions they do not know."""


class QuarantineState(StrEnum):
    """Where a quarantined batch stands. `purged` keeps a tombstone manifest (counts and history, no data)."""

    QUARANTINED = "quarantined"
    RELEASED = "released"
    PURGED = "purged"


class DataFormat(StrEnum):
    """How the kept data is stored.

    `parquet` and `arrow_ipc` read back as a `pyarrow.Table`; `raw` is input that could not be read (kept byte
    for byte, read back as `bytes`); `pandas_pickle` is a pandas frame that could not be converted to Arrow
    (read back as `bytes`, never unpickled by us).
    """

    PARQUET = "parquet"
    ARROW_IPC = "arrow_ipc"
    RAW = "raw"
    PANDAS_PICKLE = "pandas_pickle"


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """One state change: the state entered, when, why, and who (``user@host``) made it."""

    state: QuarantineState
    at: datetime
    reason: str
    actor: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", QuarantineState(self.state))

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state.value, "at": self.at.isoformat(), "reason": self.reason, "actor": self.actor}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transition:
        return cls(
            state=QuarantineState(data["state"]),
            at=datetime.fromisoformat(data["at"]),
            reason=data["reason"],
            actor=data.get("actor", ""),
        )


_TIMES = ("quarantined_at", "released_at", "purged_at")
_OUTCOMES = ("outcome", "release_outcome")


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantineManifest:
    """Everything known about one quarantined batch.

    Attributes:
        batch_id: the batch's name in the store (its directory).
        state: quarantined, released or purged; `history` lists every transition, oldest first.
        content_hash: sha256 (hex) of the *input* batch: of the file's bytes for a path, of a canonical Arrow IPC
            stream for an in-memory frame (`content_hash_of` says which). Retries are recognised by it.
        data_file: the kept data's file name inside the batch directory (content-addressed).
        data_format: how `data_file` is encoded; `data_sha256` and `data_bytes` let `read` detect corruption.
        source: where the batch came from (a path or URI, or whatever the caller named).
        policy: the contract's quarantine policy when the batch was guarded.
        rows_in: rows in the input batch (None when the input could not be read).
        rows_quarantined: rows kept here (None when unknown); rows_in = rows_published + rows_quarantined.
        rows_published: rows handed on to consumers when the batch was guarded (row policy), else 0.
        reason: one line saying why the batch is here.
        outcome: the guard-time check outcome: failing rules with counts, the sample of failing rows.
        release_outcome: the outcome of the re-validation that released the batch.
        released_to: where a release published the data (a path, or what the publish callback returned).
    """

    batch_id: str
    state: QuarantineState
    content_hash: str
    content_hash_of: Literal["bytes", "arrow_ipc"]
    data_file: str
    data_format: DataFormat
    data_sha256: str
    data_bytes: int
    source: str
    policy: QuarantinePolicy
    rows_in: int | None
    rows_quarantined: int | None
    rows_published: int
    reason: str
    outcome: CheckOutcome
    contract_id: str | None
    contract_version: str | None
    run_id: str | None
    quarantined_at: datetime
    released_at: datetime | None = None
    purged_at: datetime | None = None
    release_outcome: CheckOutcome | None = None
    released_to: str | None = None
    history: tuple[Transition, ...] = ()
    schema_version: int = MANIFEST_SCHEMA_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", QuarantineState(self.state))
        object.__setattr__(self, "data_format", DataFormat(self.data_format))
        object.__setattr__(self, "policy", QuarantinePolicy(self.policy))
        object.__setattr__(self, "history", tuple(self.history))

    @property
    def failed_rules(self) -> tuple[RuleResult, ...]:
        """The rules that failed (or errored) when the batch was guarded, with their failing-row counts."""
        return self.outcome.failed_rules

    def evolve(self, **changes: Any) -> QuarantineManifest:
        """A copy with some fields changed (manifests are never mutated)."""
        return replace(self, **changes)

    def transition(
        self, state: QuarantineState, at: datetime, reason: str, actor: str, **changes: Any
    ) -> QuarantineManifest:
        """A copy in `state`, with the transition appended to the history."""
        step = Transition(state=state, at=at, reason=reason, actor=actor)
        return replace(self, state=state, history=(*self.history, step), **changes)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"schema_version": self.schema_version}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _TIMES:
                value = value.isoformat() if value is not None else None
            elif f.name in _OUTCOMES:
                value = value.to_dict() if value is not None else None
            elif f.name == "history":
                value = [step.to_dict() for step in value]
            elif isinstance(value, StrEnum):
                value = value.value
            data[f.name] = value
        return data

    def to_json(self, **dumps_kwargs: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **dumps_kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuarantineManifest:
        """Parse a manifest; raises ValueError for a schema version this code does not know."""
        version = data.get("schema_version")
        if version != MANIFEST_SCHEMA_VERSION:
            raise ValueError(
                f"manifest schema_version {version!r} is not supported (this code reads {MANIFEST_SCHEMA_VERSION})"
            )
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name in _TIMES:
                value = datetime.fromisoformat(value) if value is not None else None
            elif f.name in _OUTCOMES:
                value = CheckOutcome.from_dict(value) if value is not None else None
            elif f.name == "history":
                value = tuple(Transition.from_dict(step) for step in value)
            values[f.name] = value
        return cls(**values)

    @classmethod
    def from_json(cls, text: str | bytes) -> QuarantineManifest:
        return cls.from_dict(json.loads(text))
