"""Who holds a batch's claim, and whether that holder can still finish: when a claim may be taken over.

A release (or purge) that wins ``claim.json`` is the only one allowed to publish. If it is killed, the claim must
not block the batch forever, yet a claim whose holder is still working must never be taken, or the batch would be
published twice. So a claim records enough to judge its holder:

* on the same machine (same host name, boot id and pid namespace, so pids mean the same process) the holder's pid
  *and* its start time (Linux: ``/proc/<pid>/stat`` field 22, clock ticks since this boot): a pid that is gone, a
  zombie, or now names a process started at another time (pids are reused) is a dead holder. A holder that is
  running is never judged stale, however long it takes.
* elsewhere (another host, or no ``/proc``) nothing can be observed, so the claim carries a lease: once it has
  expired the claim is stale. Before that only an explicit break (``--break-claim``) takes it.

Taking over keeps exactly-once only when publishing is idempotent: a holder killed *during* its publish may have
published some or all of the batch, and the new holder publishes it again (an IO manager overwriting a partition,
or the store's own ``_released/<id>.parquet``, are idempotent; an arbitrary publish callable may not be).

Example:
    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    >>> elsewhere = Claim(action="release", actor="ci@worker-7", host="worker-7", pid=4242, at=t,
    ...                   lease_expires=t + timedelta(hours=1), token="0f3c")
    >>> judge(elsewhere, ProcessIdentity(host="laptop", pid=1), t + timedelta(minutes=5)).verdict.value
    'unknown'
    >>> judge(elsewhere, ProcessIdentity(host="laptop", pid=1), t + timedelta(hours=2)).reason
    'its lease expired at 2026-11-20T07:00:00+00:00'
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

DEFAULT_CLAIM_LEASE = timedelta(hours=1)
"""How long a claim taken on one machine keeps others (on other machines) from taking it over."""

_PROC = "/proc"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessIdentity:
    """A process as another process on the same machine can recognise it (pids alone are reused).

    Attributes:
        host: the host name. boot_id: the kernel's boot id (a reboot or another machine differs).
        pid_namespace: the pid namespace (containers sharing a host name and kernel differ here).
        pid: the process id. started: its start time in clock ticks since boot (None where there is no /proc).
    """

    host: str
    pid: int
    boot_id: str | None = None
    pid_namespace: str | None = None
    started: int | None = None

    def same_machine(self, other: ProcessIdentity) -> bool:
        """True when pids of `other` can be looked up here: same host, same boot, same pid namespace."""
        return (
            self.boot_id is not None
            and self.pid_namespace is not None
            and (self.host, self.boot_id, self.pid_namespace) == (other.host, other.boot_id, other.pid_namespace)
        )


def this_process() -> ProcessIdentity:
    """The identity of the running process."""
    pid = os.getpid()
    return ProcessIdentity(
        host=socket.gethostname(),
        pid=pid,
        boot_id=_boot_id(),
        pid_namespace=_pid_namespace(),
        started=_started(pid),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """The content of ``claim.json``: which action holds the batch, who runs it, and until when it is leased."""

    action: str
    actor: str
    host: str
    pid: int
    at: datetime
    lease_expires: datetime
    token: str
    boot_id: str | None = None
    pid_namespace: str | None = None
    started: int | None = None

    @classmethod
    def new(cls, action: str, actor: str, holder: ProcessIdentity, now: datetime, lease: timedelta) -> Claim:
        """A fresh claim for `holder`, leased from `now`."""
        return cls(
            action=action,
            actor=actor,
            host=holder.host,
            pid=holder.pid,
            at=now,
            lease_expires=now + lease,
            token=uuid.uuid4().hex,
            boot_id=holder.boot_id,
            pid_namespace=holder.pid_namespace,
            started=holder.started,
        )

    @property
    def holder(self) -> ProcessIdentity:
        return ProcessIdentity(
            host=self.host, pid=self.pid, boot_id=self.boot_id, pid_namespace=self.pid_namespace, started=self.started
        )

    def describe(self) -> str:
        """One line naming the holder, e.g. ``release by ci@worker-7 (pid 4242 on worker-7) since 2026-...``."""
        return f"{self.action} by {self.actor} (pid {self.pid} on {self.host}) since {self.at.isoformat()}"

    def to_json(self) -> bytes:
        data = asdict(self)
        data["at"], data["lease_expires"] = self.at.isoformat(), self.lease_expires.isoformat()
        return json.dumps(data).encode()

    @classmethod
    def from_json(cls, raw: bytes, *, lease: timedelta) -> Claim:
        """Parse ``claim.json``; one written before leases existed is leased for `lease` from when it was taken.

        Raises:
            ValueError: not a claim (not JSON, a field missing or of the wrong type).
        """
        try:
            data: dict[str, Any] = json.loads(raw)
            at = datetime.fromisoformat(data["at"])
            lease_expires = data.get("lease_expires")
            return cls(
                action=str(data["action"]),
                actor=str(data["actor"]),
                host=str(data.get("host") or str(data["actor"]).rpartition("@")[2]),
                pid=int(data["pid"]),
                at=at,
                lease_expires=datetime.fromisoformat(lease_expires) if lease_expires else at + lease,
                token=str(data["token"]),
                boot_id=data.get("boot_id"),
                pid_namespace=data.get("pid_namespace"),
                started=data.get("started"),
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"not a claim: {type(exc).__name__}: {exc}") from exc


class ClaimVerdict(StrEnum):
    """What is known about a claim's holder."""

    LIVE = "live"
    """The holder runs on this machine: never taken over."""
    STALE = "stale"
    """The holder is provably gone (or its lease expired): the claim may be taken over."""
    UNKNOWN = "unknown"
    """The holder is elsewhere and its lease runs: only an explicit break takes it."""


@dataclass(frozen=True, slots=True)
class ClaimJudgement:
    verdict: ClaimVerdict
    reason: str


def judge(claim: Claim, here: ProcessIdentity, now: datetime) -> ClaimJudgement:
    """Whether `claim`'s holder can still finish, judged from process `here` at `now` (see the module docstring)."""
    holder = claim.holder
    if here.same_machine(holder):
        state = _process_state(holder.pid)
        if state is None or state in "ZX":
            return ClaimJudgement(ClaimVerdict.STALE, f"its process {holder.pid} on this host has ended")
        if holder.started is not None:
            started = _started(holder.pid)
            if started != holder.started:
                return ClaimJudgement(
                    ClaimVerdict.STALE, f"its process {holder.pid} has ended (the pid now names a later process)"
                )
            return ClaimJudgement(ClaimVerdict.LIVE, f"its process {holder.pid} is running on this host")
    if now >= claim.lease_expires:
        return ClaimJudgement(ClaimVerdict.STALE, f"its lease expired at {claim.lease_expires.isoformat()}")
    return ClaimJudgement(
        ClaimVerdict.UNKNOWN,
        f"its holder cannot be observed from here; its lease runs until {claim.lease_expires.isoformat()}",
    )


def _process_state(pid: int) -> str | None:
    """The one-letter state of process `pid` (``R``, ``S``, ``Z``...), None when there is no such process."""
    stat = _stat(pid)
    return stat[0] if stat is not None else None


def _started(pid: int) -> int | None:
    stat = _stat(pid)
    return int(stat[19]) if stat is not None else None


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` from field 3 (state) on; None when the process or /proc is absent."""
    try:
        with open(f"{_PROC}/{pid}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # the command name (field 2) may hold spaces and parentheses


@cache
def _boot_id() -> str | None:
    try:
        with open(f"{_PROC}/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except OSError:
        return None


@cache
def _pid_namespace() -> str | None:
    try:
        return os.readlink(f"{_PROC}/self/ns/pid")
    except OSError:
        return None
