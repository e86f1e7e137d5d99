"""Time conventions every check shares."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """A naive datetime is read as UTC; an aware one is converted to UTC.

    Example:
        >>> as_utc(datetime(2026, 11, 20, 6)).isoformat()
        '2026-11-20T06:00:00+00:00'
    """
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
