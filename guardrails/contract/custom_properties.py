"""The registry of our ``customProperties``: every key we read, where it may appear, and how its value is checked.

ODCS leaves ``customProperties`` open, so a typo (``maxAgee``) would otherwise be silently ignored and a
check silently skipped. We therefore refuse a key that is a near miss of one of ours, or that claims
``vendor: guardrails`` without being ours. Any other key is taken to be another tool's (datacontract-cli
contracts carry such keys without ``vendor``): it is left alone, and ``contract lint`` warns about it.

Contract level (top-level ``customProperties``, or a ``schema[]`` object's, which wins for that table):
``quarantinePolicy`` (``batch`` | ``rows``), ``sampleSize`` (integer >= 0), and ``drift``, ``parity``,
``freshness``: plain JSON mappings, parsed at load into the checks' typed settings
(`guardrails.checks._settings.read_check_settings`).
Property level: ``notInFuture`` (``true``, or a clock-skew tolerance duration) and ``maxAge`` (a duration).

Example:
    >>> sorted(CONTRACT_PROPERTIES), sorted(COLUMN_PROPERTIES)
    (['drift', 'freshness', 'parity', 'quarantinePolicy', 'sampleSize'], ['maxAge', 'notInFuture'])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from guardrails.contract.durations import DURATION_FORMS, parse_duration
from guardrails.contract.model import QuarantinePolicy

__all__ = [
    "CHECK_PROPERTIES",
    "COLUMN_PROPERTIES",
    "CONTRACT_PROPERTIES",
    "FRESHNESS_SLA",
    "OUR_VENDOR",
    "CustomValueError",
    "configures_checks",
]

OUR_VENDOR = "guardrails"


class CustomValueError(ValueError):
    """A customProperty value is wrong: says what was expected (the caller adds file, line and path)."""

    def __init__(self, expected: str, hint: str = "") -> None:
        super().__init__(expected)
        self.expected = expected
        self.hint = hint


def _quarantine_policy(value: Any) -> QuarantinePolicy:
    if isinstance(value, str) and value in QuarantinePolicy._value2member_map_:
        return QuarantinePolicy(value)
    raise CustomValueError("one of " + ", ".join(p.value for p in QuarantinePolicy))


def _sample_size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise CustomValueError("a whole number of rows >= 0")


def _plain_mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CustomValueError("a mapping of settings (e.g. {psi: 0.2})")
    _check_plain(value)
    return value


def _check_plain(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CustomValueError("string keys", hint=f"key {key!r}")
            _check_plain(item)
    elif isinstance(value, list):
        for item in value:
            _check_plain(item)
    elif isinstance(value, float) and not math.isfinite(value):
        raise CustomValueError("finite numbers", hint=f"{value!r} does not survive JSON")
    elif not isinstance(value, str | int | float | bool) and value is not None:
        raise CustomValueError("plain JSON values")


def _not_in_future(value: Any) -> timedelta | None:
    """``true`` -> no tolerance; ``false`` -> no rule; a duration -> that much clock-skew tolerance."""
    if value is True:
        return timedelta(0)
    if value is False:
        return None
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            pass  # fall through to the one message that names both accepted forms
    raise CustomValueError(f"true, false or a clock-skew tolerance as {DURATION_FORMS}")


def _max_age(value: Any) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        hint = "add a unit, e.g. 30d" if isinstance(value, int | float) and not isinstance(value, bool) else ""
        raise CustomValueError(str(exc).removeprefix("expected ").split(", got ")[0], hint=hint) from exc


CONTRACT_PROPERTIES: dict[str, Callable[[Any], Any]] = {
    "quarantinePolicy": _quarantine_policy,
    "sampleSize": _sample_size,
    "drift": _plain_mapping,
    "parity": _plain_mapping,
    "freshness": _plain_mapping,
}
CHECK_PROPERTIES = ("drift", "parity", "freshness")  # parsed at load into the checks' typed settings
FRESHNESS_SLA = ("latency", "freshness", "frequency")  # slaProperties the freshness check reads


def configures_checks(custom: Mapping[str, Any], sla: Mapping[str, Any]) -> bool:
    """True when a contract configures drift, parity or freshness (cheap: no check module is imported)."""
    return any(key in custom for key in CHECK_PROPERTIES) or any(key in sla for key in FRESHNESS_SLA)


COLUMN_PROPERTIES: dict[str, Callable[[Any], Any]] = {
    "notInFuture": _not_in_future,
    "maxAge": _max_age,
}
