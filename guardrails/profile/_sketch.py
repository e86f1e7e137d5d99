"""The profile types: per-column summaries that merge exactly, their JSON form, and its validation."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import polars as pl

from guardrails.errors import GuardrailsError

PROFILE_SCHEMA_VERSION = 1
"""Bumped whenever the JSON layout changes; older files are refused with a clear error, never guessed at."""

OTHER = "__other__"
"""The bucket for categories beyond the kept ones (shown under this name in reports)."""

ColumnKind = Literal["numeric", "categorical"]


class ProfileError(GuardrailsError):
    """A profile file or object is unusable: names the file, the field, what was expected and what arrived."""

    def __init__(self, path: str | Path | None, field: str, *, expected: str, got: str, hint: str = "") -> None:
        self.path = str(path) if path is not None else None
        self.field = field
        self.expected = expected
        self.got = got
        self.hint = hint
        where = f"{self.path}: " if self.path else ""
        message = f"{where}{field}: expected {expected}, got {got}"
        super().__init__(f"{message} ({hint})" if hint else message)




def column_kind(dtype: pl.DataType, *, categorical: bool = False) -> ColumnKind | None:
    """How a column of this dtype is profiled, or None when it cannot be (nested, binary, object)."""
    if dtype in (pl.String, pl.Boolean, pl.Null) or isinstance(dtype, (pl.Categorical, pl.Enum)):
        return "categorical"
    if dtype.is_numeric() or dtype.is_temporal():
        return "categorical" if categorical else "numeric"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class NumericProfile:
    """A numeric column: counts, range, mergeable moments and a fine histogram on fixed quantile edges.

    Bins are right-closed and the outer ones open-ended: ``(-inf, e0], (e0, e1], ..., (e_last, +inf)``, so
    `counts` has ``len(edges) + 1`` entries; `at_edges[i]` of the values in bin i sit exactly on its right edge
    (all of them, for integer data), which makes the KS and Wasserstein approximations exact there.
    `offsets` locate the other ("inside") values of each bin: ``sum(edges[i] - v)`` over them for the bins
    with a right edge, and ``sum(v - edges[-1])`` (``sum(v)`` without edges) for the last, open bin. With
    them the integral of the CDF over every bin is exact, so Wasserstein is exact wherever the two CDFs do
    not cross inside a bin.
    `psi_edges` is a subset of `edges` defining the coarse bins that PSI and Jensen-Shannon use. `m2` is the
    sum of squared deviations from `mean` (variance = m2 / count).
    """

    kind: ClassVar[ColumnKind] = "numeric"
    dtype: str
    count: int
    null_count: int
    minimum: float | None
    maximum: float | None
    mean: float
    m2: float
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    at_edges: tuple[int, ...]
    offsets: tuple[float, ...]
    psi_edges: tuple[float, ...]

    @property
    def rows(self) -> int:
        return self.count + self.null_count

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0), 0.0 when there are no values."""
        return math.sqrt(self.m2 / self.count) if self.count else 0.0

    def psi_counts(self) -> np.ndarray:
        """Counts in the coarse (PSI) bins, summed from the fine histogram."""
        counts = np.asarray(self.counts, dtype=np.int64)
        positions = np.searchsorted(np.asarray(self.edges), np.asarray(self.psi_edges))
        starts = np.concatenate(([0], positions + 1)).astype(np.intp)
        return np.add.reduceat(counts, starts)

    def same_layout(self, other: NumericProfile) -> bool:
        return self.edges == other.edges and self.psi_edges == other.psi_edges

    def merge(self, other: NumericProfile) -> NumericProfile:
        """The profile of both inputs together (Chan's parallel formula for mean and m2)."""
        n = self.count + other.count
        if n == 0:
            mean, m2 = 0.0, 0.0
        else:
            delta = other.mean - self.mean
            mean = self.mean + delta * other.count / n
            m2 = self.m2 + other.m2 + delta * delta * self.count * other.count / n
        return NumericProfile(
            dtype=self.dtype,
            count=n,
            null_count=self.null_count + other.null_count,
            minimum=_pick(min, self.minimum, other.minimum),
            maximum=_pick(max, self.maximum, other.maximum),
            mean=mean,
            m2=m2,
            edges=self.edges,
            counts=tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)),
            at_edges=tuple(a + b for a, b in zip(self.at_edges, other.at_edges, strict=True)),
            offsets=tuple(a + b for a, b in zip(self.offsets, other.offsets, strict=True)),
            psi_edges=self.psi_edges,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoricalProfile:
    """A categorical column: frequencies of the kept categories, everything else in `other`, and nulls.

    `categories` are ordered by frequency in the first reference (ties by value) and never change afterwards.
    """

    kind: ClassVar[ColumnKind] = "categorical"
    dtype: str
    count: int
    null_count: int
    categories: tuple[str, ...]
    counts: tuple[int, ...]
    other: int

    @property
    def rows(self) -> int:
        return self.count + self.null_count

    def same_layout(self, other: CategoricalProfile) -> bool:
        return self.categories == other.categories

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        """The profile of both inputs together."""
        return CategoricalProfile(
            dtype=self.dtype,
            count=self.count + other.count,
            null_count=self.null_count + other.null_count,
            categories=self.categories,
            counts=tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)),
            other=self.other + other.other,
        )


ColumnProfile = NumericProfile | CategoricalProfile


@dataclass(frozen=True, slots=True)
class Profile:
    """The profile of a table: total rows and one `ColumnProfile` per column, in table order."""

    rows: int
    columns: Mapping[str, ColumnProfile]
    schema_version: int = PROFILE_SCHEMA_VERSION

    def merge(self, other: Profile) -> Profile:
        """The profile of both tables together; both must share columns and layout (build with ``like=``)."""
        if list(self.columns) != list(other.columns):
            raise ProfileError(
                None,
                "columns",
                expected=f"the same columns {list(self.columns)}",
                got=str(list(other.columns)),
                hint="profiles of different tables cannot be merged",
            )
        merged: dict[str, ColumnProfile] = {}
        for name, mine in self.columns.items():
            theirs = other.columns[name]
            if type(mine) is not type(theirs) or not mine.same_layout(theirs):  # type: ignore[arg-type]
                raise ProfileError(
                    None,
                    f"columns.{name}",
                    expected=f"the same {mine.kind} layout (bin edges / categories)",
                    got=f"a different {theirs.kind} layout",
                    hint="build the batch profile with build_profile(batch, like=reference)",
                )
            merged[name] = mine.merge(theirs)  # type: ignore[arg-type]
        return Profile(rows=self.rows + other.rows, columns=merged)

    def to_dict(self) -> dict[str, Any]:
        columns: dict[str, Any] = {}
        for name, col in self.columns.items():
            data: dict[str, Any] = {"kind": col.kind}
            for key in col.__slots__:  # type: ignore[attr-defined]
                value = getattr(col, key)
                data[key] = list(value) if isinstance(value, tuple) else value
            columns[name] = data
        return {"schema_version": self.schema_version, "rows": self.rows, "columns": columns}

    def to_json(self, **dumps_kwargs: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **dumps_kwargs)

    @classmethod
    def from_dict(cls, data: Any, *, source: str | Path | None = None) -> Profile:
        """Parse and validate a profile; raises `ProfileError` naming the field for anything malformed or old."""
        return _parse_profile(data, source)

    @classmethod
    def from_json(cls, text: str, *, source: str | Path | None = None) -> Profile:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProfileError(source, "(file)", expected="JSON", got=f"invalid JSON ({exc})") from exc
        return _parse_profile(data, source)


def _pick(fn: Any, a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return fn(a, b)


# --- parsing -----------------------------------------------------------------------------------------------


def _parse_profile(data: Any, source: str | Path | None) -> Profile:
    def fail(where: str, expected: str, got: Any, hint: str = "") -> ProfileError:
        return ProfileError(source, where, expected=expected, got=repr(got) if not isinstance(got, str) else got,
                            hint=hint)

    if not isinstance(data, Mapping):
        raise fail("(file)", "a JSON object", type(data).__name__)
    version = data.get("schema_version")
    if version != PROFILE_SCHEMA_VERSION:
        raise fail("schema_version", str(PROFILE_SCHEMA_VERSION), version,
                   "this profile was written by another version; rebuild it from accepted batches")
    rows = data.get("rows")
    if not _is_count(rows):
        raise fail("rows", "a non-negative integer", rows)
    raw_columns = data.get("columns")
    if not isinstance(raw_columns, Mapping):
        raise fail("columns", "an object mapping column names to column profiles", raw_columns)
    columns: dict[str, ColumnProfile] = {}
    for name, raw in raw_columns.items():
        where = f"columns.{name}"
        if not isinstance(raw, Mapping):
            raise fail(where, "an object", raw)
        kind = raw.get("kind")
        cls: type[NumericProfile] | type[CategoricalProfile]
        if kind == "numeric":
            cls = NumericProfile
        elif kind == "categorical":
            cls = CategoricalProfile
        else:
            raise fail(f"{where}.kind", "'numeric' or 'categorical'", kind)
        expected_keys = set(cls.__slots__) | {"kind"}  # type: ignore[attr-defined]
        if set(raw) != expected_keys:
            missing, extra = expected_keys - set(raw), set(raw) - expected_keys
            raise fail(where, f"the {kind} fields", f"missing {sorted(missing)}, unexpected {sorted(extra)}")
        column = _parse_column(cls, raw, lambda f, e, g, where=where: fail(f"{where}.{f}", e, g))
        if sum(column.counts) + (column.other if isinstance(column, CategoricalProfile) else 0) != column.count:
            raise fail(f"{where}.counts", f"counts adding up to count={column.count}", sum(column.counts))
        columns[name] = column
    return Profile(rows=rows, columns=columns)


def _parse_column(cls: Any, raw: Mapping[str, Any], fail: Any) -> ColumnProfile:
    for key in ("count", "null_count") + (("other",) if cls is CategoricalProfile else ()):
        if not _is_count(raw[key]):
            raise fail(key, "a non-negative integer", raw[key])
    if not isinstance(raw["dtype"], str):
        raise fail("dtype", "a string", raw["dtype"])
    counts = raw["counts"]
    if not isinstance(counts, list) or not all(_is_count(c) for c in counts):
        raise fail("counts", "a list of non-negative integers", counts)
    if cls is CategoricalProfile:
        categories = raw["categories"]
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise fail("categories", "a list of strings", categories)
        if len(categories) != len(counts):
            raise fail("counts", f"{len(categories)} counts (one per category)", len(counts))
        return CategoricalProfile(dtype=raw["dtype"], count=raw["count"], null_count=raw["null_count"],
                                  categories=tuple(categories), counts=tuple(counts), other=raw["other"])
    numbers = {}
    for key in ("mean", "m2"):
        if not _is_number(raw[key]):
            raise fail(key, "a finite number", raw[key])
        numbers[key] = float(raw[key])
    for key in ("minimum", "maximum"):
        if raw[key] is not None and not _is_number(raw[key]):
            raise fail(key, "a finite number or null", raw[key])
    edges, psi_edges = raw["edges"], raw["psi_edges"]
    for key, value in (("edges", edges), ("psi_edges", psi_edges)):
        if not isinstance(value, list) or not all(_is_number(v) for v in value) or any(
            a >= b for a, b in zip(value, value[1:], strict=False)
        ):
            raise fail(key, "a strictly increasing list of finite numbers", value)
    if not set(psi_edges) <= set(edges):
        raise fail("psi_edges", "a subset of edges", psi_edges)
    if len(counts) != len(edges) + 1:
        raise fail("counts", f"{len(edges) + 1} counts (len(edges) + 1)", len(counts))
    at_edges = raw["at_edges"]
    if (not isinstance(at_edges, list) or len(at_edges) != len(edges)
            or not all(_is_count(a) and a <= c for a, c in zip(at_edges, counts, strict=False))):
        raise fail("at_edges", f"{len(edges)} non-negative integers, each at most its bin's count", at_edges)
    offsets = raw["offsets"]
    if not isinstance(offsets, list) or len(offsets) != len(counts) or not all(_is_number(o) for o in offsets):
        raise fail("offsets", f"{len(counts)} finite numbers (one per bin)", offsets)
    return NumericProfile(
        dtype=raw["dtype"], count=raw["count"], null_count=raw["null_count"],
        minimum=None if raw["minimum"] is None else float(raw["minimum"]),
        maximum=None if raw["maximum"] is None else float(raw["maximum"]),
        edges=tuple(float(e) for e in edges), counts=tuple(counts), at_edges=tuple(at_edges),
        offsets=tuple(float(o) for o in offsets),
        psi_edges=tuple(float(e) for e in psi_edges), **numbers,
    )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
