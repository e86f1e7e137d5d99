"""Durations in contracts: ``30d``, ``12h``, ``15m``, ``45s``, ``2w``, compounds like ``1d12h``, or ISO 8601.

Months and years are refused: they have no fixed length, so ``maxAge: P1M`` would mean a different window
depending on the as-of date, which is a surprising thing for a quarantine decision to depend on.

Example:
    >>> parse_duration("30d"), parse_duration("1h30m"), parse_duration("P1DT12H")
    (datetime.timedelta(days=30), datetime.timedelta(seconds=5400), datetime.timedelta(days=1, seconds=43200))
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["parse_duration"]

_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_SHORT = re.compile(r"^(?:\d+(?:\.\d+)?[wdhms])+$")
_SHORT_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_ISO = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)

DURATION_FORMS = "a duration such as 30d, 12h, 15m, 45s, 1d12h or ISO 8601 P30D / PT12H"


def parse_duration(text: str) -> timedelta:
    """Parse a positive duration; raise `ValueError` naming the accepted forms otherwise."""
    if not isinstance(text, str) or isinstance(text, bool):
        raise ValueError(f"expected {DURATION_FORMS}, got {text!r}")
    compact = text.strip()
    if _SHORT.match(compact):
        parts = {}
        for number, unit in _SHORT_PART.findall(compact):
            parts[_UNITS[unit]] = parts.get(_UNITS[unit], 0.0) + float(number)
        value = timedelta(**parts)
    elif match := _ISO.match(compact.upper()):
        value = timedelta(**{k: float(v) for k, v in match.groupdict().items() if v is not None})
    else:
        calendar = re.search(r"^P.*[YM]", compact.upper().split("T")[0])
        hint = " (months and years have no fixed length; use days)" if calendar else ""
        raise ValueError(f"expected {DURATION_FORMS}, got {text!r}{hint}")
    if value <= timedelta(0):
        raise ValueError(f"expected a positive duration, got {text!r}")
    return value
