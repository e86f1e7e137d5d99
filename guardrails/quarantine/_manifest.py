"""The manifest: the one record of what a quarantined batch is, why it is there, and what happened to it since.

A manifest is frozen and survives a JSON round trip without loss. It is the last file written for a batch, so
its presence is what makes a batch visible; every state change rewrites it whole (write-then-rename) and appends
a `Transition` to its history, so the file alone tells the batch's story.

A manifest on disk is input like any other (it can be truncated or edited by hand): `from_json` checks every field's
type and enum, and that `data_file` is exactly the content-addressed name the store gives it, so a manifest can
never point outside its batch's directory. A bad one raises `ManifestError` listing every fault.

Example:
    >>> from datetime import datetime, timezone
    >>> from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity
    >>> t = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
    >>> outcome = CheckOutcome(check="contract", kind=CheckKind.CONTRACT, status=CheckStatus.FAILED,
    ...                        severity=Severity.ERROR, rows=10, started_at=t, finished_at=t)
    >>> manifest = QuarantineManifest(
    ...     batch_id="transactions-9f86d081884c7d65", state=QuarantineState.QUARANTINED,
    ...     content_hash="9f86d081884c7d65", content_hash_of="bytes", data_file="data-2c26b46b68ffc68f.parquet",
    ...     data_format=DataFormat.PARQUET, data_sha256="2c26b46b68ffc68f" + "0" * 48, data_bytes=1234,
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
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from guardrails.contract.model import QuarantinePolicy
from guardrails.outcome import CheckOutcome, RuleResult
from guardrails.quarantine._errors import ManifestError

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
    ENGINE_TABLE = "engine_table"
    """The rows stay in a database's quarantine table; the kept file is a JSON reference to them (`_table`)."""


DATA_EXTENSION = {
    DataFormat.PARQUET: "parquet",
    DataFormat.ARROW_IPC: "arrow",
    DataFormat.RAW: "bin",
    DataFormat.PANDAS_PICKLE: "pickle",
    DataFormat.ENGINE_TABLE: "json",
}


def data_file_name(data_sha256: str, data_format: DataFormat) -> str:
    """The kept data's file name: content-addressed (a retry writes the same name) and never a path.

    Example:
        >>> data_file_name("2c26b46b68ffc68f" + "0" * 48, DataFormat.RAW)
        'data-2c26b46b68ffc68f.bin'
    """
    return f"data-{data_sha256[:16]}.{DATA_EXTENSION[DataFormat(data_format)]}"


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
        """Parse one history entry; ValueError/TypeError naming the field for a missing or mistyped one."""
        if not isinstance(data, Mapping):
            raise TypeError(f"expected an object, got {_shown(data)}")
        return cls(
            state=_enum(QuarantineState)(data["state"]),
            at=_moment(data["at"]),
            reason=_text(data["reason"]),
            actor=_text(data.get("actor", "")),
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
            stream for an in-memory frame, of an engine's fingerprint of a staged table (``engine``): `content_hash_of`
            says which. Retries are recognised by it.
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
    content_hash_of: Literal["bytes", "arrow_ipc", "engine"]
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
        """Parse a manifest, checking every field.

        Raises:
            ManifestError: every missing, mistyped or inconsistent field (a schema version this code does not know
                is one of them, alone).
        """
        if not isinstance(data, Mapping):
            raise ManifestError([f"expected a JSON object, got {_shown(data)}"])
        version = data.get("schema_version")
        if version != MANIFEST_SCHEMA_VERSION or isinstance(version, bool):
            raise ManifestError(
                [f"schema_version {version!r} is not supported (this code reads {MANIFEST_SCHEMA_VERSION})"]
            )
        problems: list[str] = []
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "schema_version":
                continue
            if f.name not in data:
                if f.default is MISSING:
                    problems.append(f"{f.name}: missing")
                continue
            try:
                values[f.name] = _PARSERS[f.name](data[f.name])
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                problems.append(f"{f.name}: {_reason(exc)}")
        if "data_file" in values and "data_sha256" in values and "data_format" in values:
            expected = data_file_name(values["data_sha256"], values["data_format"])
            if values["data_file"] != expected:
                got = _shown(data["data_file"])
                problems.append(f"data_file: expected {expected!r} (from data_sha256 and data_format), got {got}")
        if problems:
            raise ManifestError(problems)
        return cls(**values)

    @classmethod
    def from_json(cls, text: str | bytes) -> QuarantineManifest:
        """Parse a manifest file's content; ManifestError when it is not JSON or not a valid manifest."""
        try:
            data = json.loads(text)
        except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
            raise ManifestError([f"not valid JSON: {exc}"]) from exc
        return cls.from_dict(data)


_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHOWN_CHARS = 100


def _shown(value: Any) -> str:
    """A value from a manifest, quoted and cut for an error message (it may be anything a hand edit left)."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else f"{text[: _SHOWN_CHARS - 3]}..."


def _reason(exc: BaseException) -> str:
    return f"missing {exc}" if isinstance(exc, KeyError) else str(exc)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {_shown(value)}")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a count (an integer >= 0), got {_shown(value)}")
    return value


def _moment(value: Any) -> datetime:
    moment = datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:
        raise ValueError(f"expected a timestamp with a time zone, got {_shown(value)}")
    return moment


def _sha256(value: Any) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ValueError(f"expected 64 lowercase hex digits, got {_shown(value)}")
    return value


def _enum(kind: type[StrEnum]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        try:
            return kind(_text(value))
        except ValueError:
            raise ValueError(f"expected one of {[v.value for v in kind]}, got {_shown(value)}") from None

    return parse


def _content_hash_of(value: Any) -> str:
    if value not in ("bytes", "arrow_ipc", "engine"):
        raise ValueError(f"expected 'bytes', 'arrow_ipc' or 'engine', got {_shown(value)}")
    return value


def _outcome(value: Any) -> CheckOutcome:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object, got {_shown(value)}")
    return CheckOutcome.from_dict(value)


def _history(value: Any) -> tuple[Transition, ...]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {_shown(value)}")
    steps = []
    for index, step in enumerate(value):
        try:
            steps.append(Transition.from_dict(step))
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"entry {index}: {_reason(exc)}") from exc
    return tuple(steps)


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else parse(value)


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "batch_id": _text,
    "state": _enum(QuarantineState),
    "content_hash": _text,
    "content_hash_of": _content_hash_of,
    "data_file": _text,
    "data_format": _enum(DataFormat),
    "data_sha256": _sha256,
    "data_bytes": _count,
    "source": _text,
    "policy": _enum(QuarantinePolicy),
    "rows_in": _optional(_count),
    "rows_quarantined": _optional(_count),
    "rows_published": _count,
    "reason": _text,
    "outcome": _outcome,
    "contract_id": _optional(_text),
    "contract_version": _optional(_text),
    "run_id": _optional(_text),
    "quarantined_at": _moment,
    "released_at": _optional(_moment),
    "purged_at": _optional(_moment),
    "release_outcome": _optional(_outcome),
    "released_to": _optional(_text),
    "history": _history,
}
"""How each field of a manifest's JSON is checked and parsed (every field of `QuarantineManifest` but the version)."""
