"""Where the guard keeps its state in the registry: tag keys and their (de)serialization.

Version tags (searchable, e.g. ``search_model_versions("name='fraud' and tags.`guardrails.verdict`='passed'")``):

- ``guardrails.verdict``: ``passed`` or ``failed``
- ``guardrails.verdict.checks``: JSON list of check names
- ``guardrails.verdict.run_id``, ``guardrails.verdict.at`` (ISO 8601), ``guardrails.verdict.reason``

Registered-model tags:

- ``guardrails.pin``: the active pin as JSON (absent when unpinned)
- ``guardrails.history.<seq>-<digest>``: one alias history entry as JSON per tag; read back sorted by seq.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime

from guardrails.models._types import AliasMove, MoveAction, Pin, Verdict, VerdictStatus

VERDICT_TAG = "guardrails.verdict"
VERDICT_CHECKS_TAG = "guardrails.verdict.checks"
VERDICT_RUN_TAG = "guardrails.verdict.run_id"
VERDICT_AT_TAG = "guardrails.verdict.at"
VERDICT_REASON_TAG = "guardrails.verdict.reason"
PIN_TAG = "guardrails.pin"
HISTORY_PREFIX = "guardrails.history."


def verdict_tags(verdict: Verdict) -> list[tuple[str, str]]:
    """The verdict as version tags, in a fail-safe write order.

    A failed verdict writes its status first, so that an interrupted write already blocks the version; a
    passed verdict writes it last, so that an interrupted write never makes a version eligible on stale details.
    """
    details = [
        (VERDICT_CHECKS_TAG, json.dumps(list(verdict.checks))),
        (VERDICT_RUN_TAG, verdict.run_id or ""),
        (VERDICT_AT_TAG, verdict.at.isoformat()),
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
