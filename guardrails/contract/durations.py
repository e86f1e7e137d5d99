"""Durations in contracts, the one parser: text (``30d``, ``12h``, ``15m``, ``45s``, ``2w``, compounds like
``1d12h``, or ISO 8601) or an ODCS ``slaProperties`` number with its unit (``value: 4, unit: h``).

Months and years are refused: they have no fixed length, so ``maxAge: P1M`` would mean a different window
depending on the as-of date, which is a surprising thing for a quarantine decision to depend on.

A duration is positive unless the caller allows zero (a grace period may be none at all; an SLA window of
zero would make every row late and every asset stale, so it is refused as a misconfiguration).

Example:
    >>> parse_duration("30d"), parse_duration("1h30m"), parse_duration("P1DT12H")
    (datetime.timedelta(days=30), datetime.timedelta(seconds=5400), datetime.timedelta(days=1, seconds=43200))
    >>> parse_duration(1.5, "days"), parse_duration(0, "m", allow_zero=True)
    (datetime.timedelta(days=1, seconds=43200), datetime.timedelta(0))
"""

from __future__ import annotations

import math
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
UNIT_FORMS = "a unit among s, m (minutes), h, d, w (or their long forms: seconds, minutes, hours, days, weeks)"

_UNIT_NAMES = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), timedelta(seconds=1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), timedelta(minutes=1)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("d", "day", "days"), timedelta(days=1)),
    **dict.fromkeys(("w", "week", "weeks"), timedelta(weeks=1)),
}


def parse_duration(value: str | float, unit: str | None = None, *, allow_zero: bool = False) -> timedelta:
    """A duration from text, or from a number and its unit; raise `ValueError` naming the accepted forms.

    Args:
        value: Text such as ``"1d12h"`` or ``"PT4H"`` when `unit` is None, else a finite number.
        unit: An ODCS unit (``s``, ``m`` for minutes, ``h``, ``d``, ``w``, long forms, any case), or None.
        allow_zero: Accept a zero duration (for a grace period); negative durations are always refused.
    """
    if unit is not None:
        return _checked(_from_number(value, unit), value, allow_zero)
    return _checked(_from_text(value), value, allow_zero)


def _from_number(value: object, unit: object) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"expected a finite number with its unit, got {value!r}")
    if not isinstance(unit, str) or unit.lower() not in _UNIT_NAMES:
        raise ValueError(f"expected {UNIT_FORMS}, got {unit!r}")
    if value < 0:
        raise ValueError(f"expected a duration >= 0, got {value!r} {unit}")
    return value * _UNIT_NAMES[unit.lower()]


def _checked(duration: timedelta, value: object, allow_zero: bool) -> timedelta:
    if duration < timedelta(0) or (duration == timedelta(0) and not allow_zero):
        raise ValueError(f"expected a {'non-negative' if allow_zero else 'positive'} duration, got {value!r}")
    return duration


def _from_text(text: object) -> timedelta:
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
    return value
