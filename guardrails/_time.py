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


def iso_or_none(value: datetime | None) -> str | None:
    """`value` as ISO 8601 text, None kept (what every result's JSON form writes).

    Example:
        >>> iso_or_none(datetime(2026, 11, 20, 6, tzinfo=UTC)), iso_or_none(None)
        ('2026-11-20T06:00:00+00:00', None)
    """
    return value.isoformat() if value is not None else None


def datetime_or_none(value: str | None) -> datetime | None:
    """ISO 8601 text back to a datetime; None or empty text is None.

    Example:
        >>> datetime_or_none("2026-11-20T06:00:00+00:00") == datetime(2026, 11, 20, 6, tzinfo=UTC)
        True
    """
    return datetime.fromisoformat(value) if value else None
