"""Rows of a frame as JSON-safe dicts, for the capped samples outcomes carry.

A sample describes failing rows; it is shown in terminals and the Dagster UI and recorded in manifests and
events, so it is bounded however large the values are: each value at `VALUE_CHARS` (cut text says how much
was cut), the whole sample at `SAMPLE_BYTES` of JSON (the rows that did not fit are counted in the outcome's
``sample_rows_dropped`` metric). The data itself is never cut: a quarantined batch keeps every byte.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import polars as pl

from guardrails._text import SAMPLE_BYTES, VALUE_CHARS, cap_records

SAMPLE_DROPPED_METRIC = "sample_rows_dropped"
"""Outcome metric: failing rows left out of the sample to keep it under `SAMPLE_BYTES` (absent when none)."""


def json_safe(value: Any) -> Any:
    """A value that survives ``json.dumps(allow_nan=False)``: instants as ISO text, NaN/inf as text.

    The one conversion for every sample (validation, Great Expectations, parity). A `Decimal` becomes its exact
    text, not a float: decimals hold money and identifiers, and a sample that shows ``0.30000000000000004`` or
    rounds an 18-digit amount would misreport the very value that failed.

    Example:
        >>> json_safe({"amount": Decimal("12345678901234567.89"), "at": date(2026, 1, 2), "x": float("nan")})
        {'amount': '12345678901234567.89', 'at': '2026-01-02', 'x': 'nan'}
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return str(value)


def json_safe_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: json_safe(v) for k, v in row.items()} for row in frame.to_dicts()]


def capped_sample(rows: Iterable[Mapping[str, Any]]) -> tuple[tuple[dict[str, Any], ...], dict[str, int]]:
    """The sample an outcome may carry, and the metric saying how many rows were dropped (empty if none).

    Example:
        >>> rows, metrics = capped_sample([{"id": i, "note": "x" * 10**6} for i in range(100)])
        >>> len(rows) + metrics["sample_rows_dropped"], rows[0]["note"][-21:]
        (100, 'x…[cut 998,976 chars]')
    """
    kept, dropped = cap_records(rows, value_chars=VALUE_CHARS, total_bytes=SAMPLE_BYTES)
    return kept, ({SAMPLE_DROPPED_METRIC: dropped} if dropped else {})
