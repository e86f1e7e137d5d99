"""Where the guard keeps its state in the registry: tag keys and their (de)serialization.

Version tags (searchable, e.g. ``search_model_versions("name='fraud' and tags.`guardrails.verdict`='passed'")``):

- ``guardrails.verdict``: ``passed`` or ``failed``
- ``guardrails.verdict.checks``: JSON list of check names
- ``guardrails.verdict.run_id``, ``guardrails.verdict.at`` (ISO 8601), ``guardrails.verdict.reason``

- ``guardrails.lineage``: the version's `Lineage` as JSON (continued in ``guardrails.lineage.1``, ``.2``, ...
  when longer than one tag value may be)
- ``guardrails.saw.<readable>.<digest>`` = ``true``: one per partition and one per batch the version saw, so
  ``tags.`guardrails.saw.clean_transactions.2026-11-03.<digest>` = 'true'`` finds the versions that saw it
  (`saw_tag` computes the key; the readable part is for people, the digest of the identity is what matches)
- ``guardrails.requires``: JSON list of checks whose ``pass`` the version needs before the alias may rest on it
  (e.g. ``["canary"]``, written by `start_canary`); the same tag on the registered model applies to every version
- ``guardrails.check.<check>``: that check's last verdict on the version (``pass``, ``fail``, ...)

Registered-model tags (MLflow keeps at most 5,000 characters per registered-model tag value, so every text
that reaches one is capped):

- ``guardrails.pin``: the active pin as JSON (absent when unpinned)
- ``guardrails.hold``: the active hold as JSON, without its failing list (absent when not held)
- ``guardrails.hold.failing.<digest>``: one failing (check, partition) of the hold as JSON per tag
- ``guardrails.condemned.<readable>.<digest>``: a condemned batch as JSON (same suffix as its ``saw`` tag)
- ``guardrails.history.<seq>-<digest>``: one alias history entry as JSON per tag; read back sorted by seq.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime

import re

from guardrails._text import cap_text, fit_with_hash
from guardrails.models._types import (
    AliasMove,
    BatchRef,
    Condemnation,
    Hold,
    HoldFailure,
    Lineage,
    MoveAction,
    Pin,
    Verdict,
    VerdictStatus,
)

VERDICT_TAG = "guardrails.verdict"
VERDICT_CHECKS_TAG = "guardrails.verdict.checks"
VERDICT_RUN_TAG = "guardrails.verdict.run_id"
VERDICT_AT_TAG = "guardrails.verdict.at"
VERDICT_REASON_TAG = "guardrails.verdict.reason"
PIN_TAG = "guardrails.pin"
HISTORY_PREFIX = "guardrails.history."
LINEAGE_TAG = "guardrails.lineage"
SAW_PREFIX = "guardrails.saw."
SAW_VALUE = "true"
HOLD_TAG = "guardrails.hold"
HOLD_FAILING_PREFIX = "guardrails.hold.failing."
CONDEMNED_PREFIX = "guardrails.condemned."
CHECK_TAG_PREFIX = "guardrails.check."
"""Version tag ``guardrails.check.<check>``: that check's last verdict on the version (``pass``, ``fail``, ...)."""
REQUIRES_TAG = "guardrails.requires"
"""Version or registered-model tag: a JSON list of checks whose ``pass`` the alias requires (e.g. ``["canary"]``)."""

MODEL_TAG_VALUE_CHARS = 5000
"""MLflow's limit on a registered-model tag value (a VARCHAR(5000) column in its SQL stores)."""
VERSION_TAG_VALUE_CHARS = 100_000
"""MLflow's limit on a model-version tag value."""
REASON_CHARS = 1000
"""Longest reason kept in a model-level tag (history entry, hold, condemnation), so the JSON fits."""
_READABLE_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\-]")


def verdict_tags(verdict: Verdict) -> list[tuple[str, str]]:
    """The verdict as version tags, in a fail-safe write order.

    A failed verdict writes its status first, so that an interrupted write already blocks the version; a
    passed verdict writes it last, so that an interrupted write never makes a version eligible on stale details.
    """
    details = [
        (VERDICT_CHECKS_TAG, json.dumps(list(verdict.checks))),
        (VERDICT_RUN_TAG, verdict.run_id or ""),
        (VERDICT_AT_TAG, verdict.at.isoformat() if verdict.at is not None else ""),
        (VERDICT_REASON_TAG, verdict.reason),
    ]
    status = (VERDICT_TAG, verdict.status.value)
    return [status, *details] if verdict.status is VerdictStatus.FAILED else [*details, status]


def verdict_from_tags(tags: Mapping[str, str]) -> Verdict | None:
    """The recorded verdict, or None if the version has none (or an unreadable one: treated as unverified)."""
    try:
        status = VerdictStatus(tags[VERDICT_TAG])
    except (KeyError, ValueError):
        return None
    try:
        checks = tuple(json.loads(tags.get(VERDICT_CHECKS_TAG) or "[]"))
    except json.JSONDecodeError:
        checks = ()
    at_text = tags.get(VERDICT_AT_TAG)
    try:
        at = datetime.fromisoformat(at_text) if at_text else None
    except ValueError:
        at = None
    return Verdict(
        status=status,
        checks=checks,
        run_id=tags.get(VERDICT_RUN_TAG) or None,
        at=at,
        reason=tags.get(VERDICT_REASON_TAG, ""),
    )


def pin_from_tags(tags: Mapping[str, str]) -> Pin | None:
    text = tags.get(PIN_TAG)
    return Pin.from_dict(json.loads(text)) if text else None


def pin_tag(pin: Pin) -> str:
    return json.dumps(pin.to_dict(), sort_keys=True)


def history_from_tags(tags: Mapping[str, str]) -> tuple[AliasMove, ...]:
    """Every history entry kept on the model, oldest first (by sequence number, then time, then id)."""
    entries = [AliasMove.from_dict(json.loads(v)) for k, v in tags.items() if k.startswith(HISTORY_PREFIX)]
    return tuple(sorted(entries, key=lambda e: (e.seq, e.at, e.id)))


def history_id(seq: int, action: MoveAction, alias: str, from_version: int | None, to_version: int | None) -> str:
    """A deterministic id for an entry: equal for two concurrent identical actions, so they collapse into one."""
    digest = hashlib.sha256(f"{seq}|{action.value}|{alias}|{from_version}|{to_version}".encode()).hexdigest()
    return f"{seq:06d}-{digest[:12]}"


def history_tag(entry: AliasMove) -> tuple[str, str]:
    return f"{HISTORY_PREFIX}{entry.id}", json.dumps(entry.to_dict(), sort_keys=True)


# --- lineage ----------------------------------------------------------------------------------------------------


def _digest(*parts: str | None) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def _suffix(readable: str, digest: str) -> str:
    # MLflow tag keys allow only [/\w.\- :] and at most 250 characters: the readable part is sanitized and capped,
    # the digest of the exact identity keeps keys apart (two assets that sanitize alike still differ).
    return f"{fit_with_hash(_UNSAFE.sub('_', readable), _READABLE_CHARS)}.{digest}"


def batch_suffixes(batch: BatchRef) -> tuple[str, ...]:
    """The tag suffixes naming `batch`: its partition, and the exact batch too when it has an id."""
    partition = _suffix(f"{batch.asset}.{batch.partition or ''}", _digest(batch.asset, batch.partition))
    if batch.identity is None:
        return (partition,)
    exact = _suffix(f"{batch.asset}.{batch.partition or ''}.{batch.identity}",
                    _digest(batch.asset, batch.partition, batch.identity))
    return (partition, exact)


def condemned_suffix(batch: BatchRef) -> str:
    """The suffix a condemnation of `batch` matches: the exact batch if it has an id, else its whole partition."""
    return batch_suffixes(batch)[-1]


def saw_tag(batch: BatchRef) -> str:
    """The version tag key that finds the versions that saw `batch` (value ``true``)."""
    return SAW_PREFIX + condemned_suffix(batch)


def lineage_tags(lineage: Lineage) -> list[tuple[str, str]]:
    """The lineage as version tags: one searchable ``saw`` tag per partition and batch, then the JSON in chunks.

    The ``saw`` tags come first: once they exist a condemnation finds the version, even if the JSON never lands.
    """
    saw = dict.fromkeys(SAW_PREFIX + s for b in lineage.batches for s in batch_suffixes(b))
    text = json.dumps(lineage.to_dict(), sort_keys=True, separators=(",", ":"))
    chunk = VERSION_TAG_VALUE_CHARS - 1000
    parts = [text[i : i + chunk] for i in range(0, len(text), chunk)] or [""]
    keys = [LINEAGE_TAG] + [f"{LINEAGE_TAG}.{i}" for i in range(1, len(parts))]
    return [*((k, SAW_VALUE) for k in saw), *zip(keys, parts, strict=True)]


def lineage_from_tags(tags: Mapping[str, str]) -> Lineage | None:
    """The recorded lineage, or None when none was recorded (or it is unreadable, e.g. a chunk is missing)."""
    if LINEAGE_TAG not in tags:
        return None
    text, i = tags[LINEAGE_TAG], 1
    while f"{LINEAGE_TAG}.{i}" in tags:
        text += tags[f"{LINEAGE_TAG}.{i}"]
        i += 1
    try:
        return Lineage.from_dict(json.loads(text))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def saw_suffixes(tags: Mapping[str, str]) -> frozenset[str]:
    """The suffixes of every ``saw`` tag of a version."""
    return frozenset(k[len(SAW_PREFIX):] for k, v in tags.items() if k.startswith(SAW_PREFIX) and v == SAW_VALUE)


# --- condemned batches, holds -------------------------------------------------------------------------------------


def condemnation_tag(condemnation: Condemnation) -> tuple[str, str]:
    capped = Condemnation(
        batch=condemnation.batch, reason=cap_text(condemnation.reason, REASON_CHARS), check=condemnation.check,
        run_id=condemnation.run_id, at=condemnation.at, by=condemnation.by,
    )
    return CONDEMNED_PREFIX + condemned_suffix(condemnation.batch), _fit(capped.to_dict())


def condemnations_from_tags(tags: Mapping[str, str]) -> dict[str, Condemnation]:
    """Condemned batches by tag suffix (the suffix a version's ``saw`` tag must carry to be tainted)."""
    found: dict[str, Condemnation] = {}
    for key, value in tags.items():
        if key.startswith(CONDEMNED_PREFIX):
            try:
                found[key[len(CONDEMNED_PREFIX):]] = Condemnation.from_dict(json.loads(value))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                # Unreadable but present: still condemned (fail closed), described by its key only.
                found[key[len(CONDEMNED_PREFIX):]] = Condemnation(
                    batch=BatchRef(asset=key[len(CONDEMNED_PREFIX):]), reason="unreadable condemnation tag",
                    at=datetime.min, by="")
    return found


def hold_header_tag(hold: Hold) -> tuple[str, str]:
    data = hold.to_dict()
    data["failing"] = []
    data["reason"] = cap_text(hold.reason, REASON_CHARS)
    return HOLD_TAG, _fit(data)


def hold_failing_tag(failure: HoldFailure) -> tuple[str, str]:
    return f"{HOLD_FAILING_PREFIX}{_digest(failure.check, failure.partition)}", _fit(failure.to_dict())


def hold_failing_key(check: str, partition: str | None) -> str:
    return f"{HOLD_FAILING_PREFIX}{_digest(check, partition)}"


def hold_from_tags(tags: Mapping[str, str]) -> Hold | None:
    """The active hold with its failing (check, partition)s, or None when not held."""
    text = tags.get(HOLD_TAG)
    if not text:
        return None
    failing = []
    for key, value in tags.items():
        if key.startswith(HOLD_FAILING_PREFIX):
            try:
                failing.append(HoldFailure.from_dict(json.loads(value)))
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # an unreadable entry cannot be matched by a later pass; `unhold` clears it
    failing.sort(key=lambda f: (f.check, f.partition or ""))
    try:
        header = Hold.from_dict(json.loads(text))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        header = Hold(reason="unreadable hold tag", at=datetime.min, by="")
    return Hold(reason=header.reason, incident=header.incident, run_id=header.run_id, at=header.at, by=header.by,
                failing=tuple(failing))


def _fit(data: dict) -> str:
    """JSON for a registered-model tag, refusing (rather than letting MLflow truncate or reject) what cannot fit."""
    text = json.dumps(data, sort_keys=True)
    if len(text) > MODEL_TAG_VALUE_CHARS:
        raise ValueError(f"guardrails tag value of {len(text):,} chars exceeds MLflow's {MODEL_TAG_VALUE_CHARS:,}")
    return text


def check_tag(check: str) -> str:
    """The version tag holding `check`'s last verdict on a version."""
    return CHECK_TAG_PREFIX + check


def checks_from_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Each check's last verdict on a version (``{"canary": "pass"}``), from its ``guardrails.check.*`` tags."""
    return {key[len(CHECK_TAG_PREFIX):]: value for key, value in sorted(tags.items())
            if key.startswith(CHECK_TAG_PREFIX) and len(key) > len(CHECK_TAG_PREFIX)}


def required_checks(*tag_sets: Mapping[str, str]) -> tuple[str, ...]:
    """The checks the alias requires a ``pass`` of, from the ``guardrails.requires`` tags of the model and the
    version, each once.

    An unreadable tag requires something that can never pass (fail closed)."""
    found: list[str] = []
    for tags in tag_sets:
        text = tags.get(REQUIRES_TAG)
        if not text:
            continue
        try:
            value = json.loads(text)
            found += [str(v) for v in (value if isinstance(value, list) else [value])]
        except json.JSONDecodeError:
            found.append(f"(unreadable {REQUIRES_TAG} tag)")
    return tuple(dict.fromkeys(found))
