"""Durable incident state: which notifications went out, which reports were attached, the breaker's trips.

Small JSON files in one directory (``$GUARDRAILS_STATE``, default ``.guardrails/state``), each rewritten whole
(write, fsync, rename, fsync of the directory) under an exclusive lock on ``<directory>/.lock``, so a sensor
tick and a CLI re-arm never lose each other's updates and a crash never leaves half a file. The lock is
`filelock`'s, which works on POSIX and Windows alike (``fcntl`` alone is POSIX-only).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from guardrails._atomic import write_text_atomic
from guardrails.incidents._records import BreakerTrip

DEFAULT_STATE_DIR = ".guardrails/state"
STATE_ENV = "GUARDRAILS_STATE"


class IncidentStateStore:
    """Notifications sent, reports attached and breaker trips, kept in `directory` across processes.

    Example:
        >>> import tempfile
        >>> from datetime import datetime, timezone
        >>> store = IncidentStateStore(tempfile.mkdtemp())
        >>> store.mark_notified("inc-1", "opened", datetime(2026, 11, 3, tzinfo=timezone.utc))
        >>> store.notified("inc-1")
        {'opened': '2026-11-03T00:00:00+00:00'}
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory or os.environ.get(STATE_ENV) or DEFAULT_STATE_DIR)

    def __repr__(self) -> str:
        return f"IncidentStateStore({str(self.directory)!r})"

    # --- notifications -----------------------------------------------------------------------------------

    def notified(self, incident_id: str) -> dict[str, str]:
        """The events (``opened``, ``resolved``) already sent for an incident, with when they were sent."""
        return dict(self._read("notifications").get(incident_id, {}))

    def mark_notified(self, incident_id: str, event: str, at: datetime) -> None:
        self._update("notifications", lambda data: data.setdefault(incident_id, {}).__setitem__(event, at.isoformat()))

    # --- reports attached to the asset -------------------------------------------------------------------

    def attached(self, incident_id: str) -> bool:
        return incident_id in self._read("attached")

    def mark_attached(self, incident_id: str, at: datetime) -> None:
        self._update("attached", lambda data: data.__setitem__(incident_id, at.isoformat()))

    # --- circuit breaker ---------------------------------------------------------------------------------

    def breaker_trips(self) -> tuple[BreakerTrip, ...]:
        """Every trip on record, oldest first (re-armed ones included: they belong to incident timelines)."""
        trips = [BreakerTrip.from_dict(t) for t in self._read("breakers").get("trips", [])]
        return tuple(sorted(trips, key=lambda t: t.tripped_at))

    def active_trip(self, asset_key: str) -> BreakerTrip | None:
        """The trip holding `asset_key`'s breaker open, if any."""
        return next((t for t in self.breaker_trips() if t.asset_key == asset_key and t.active), None)

    def last_rearm(self, asset_key: str) -> datetime | None:
        """When the asset's breaker was last re-armed: failures before then no longer count."""
        times = [t.rearmed_at for t in self.breaker_trips() if t.asset_key == asset_key and t.rearmed_at]
        return max(times) if times else None

    def record_trip(self, trip: BreakerTrip) -> bool:
        """Store a trip; False (and nothing written) when the asset's breaker is already open."""
        recorded = False

        def add(data: dict[str, Any]) -> None:
            nonlocal recorded
            trips = data.setdefault("trips", [])
            if any(t["asset_key"] == trip.asset_key and not t.get("rearmed_at") for t in trips):
                return
            trips.append(trip.to_dict())
            recorded = True

        self._update("breakers", add)
        return recorded

    def record_rearm(self, asset_key: str, at: datetime, by: str) -> BreakerTrip | None:
        """Close the asset's open trip; returns it (re-armed), or None when the breaker was not open."""
        closed: BreakerTrip | None = None

        def rearm(data: dict[str, Any]) -> None:
            nonlocal closed
            for entry in data.get("trips", []):
                if entry["asset_key"] == asset_key and not entry.get("rearmed_at"):
                    entry["rearmed_at"] = at.isoformat()
                    entry["rearmed_by"] = by
                    closed = BreakerTrip.from_dict(entry)

        self._update("breakers", rearm)
        return closed

    # --- files -------------------------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}.json"

    def _read(self, name: str) -> dict[str, Any]:
        path = self._path(name)
        try:
            text = path.read_text()
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc}); fix or remove the file") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
        return data

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with FileLock(self.directory / ".lock"):
            yield

    def _update(self, name: str, change: Callable[[dict[str, Any]], None]) -> None:
        with self._locked():
            data = self._read(name)
            change(data)
            write_text_atomic(self._path(name), json.dumps(data, indent=1, sort_keys=True))
