"""Reference profiles: compact, mergeable per-column summaries of accepted batches, stored as versioned JSON.

A drift check never needs the raw reference data: it needs a `Profile`, a few kilobytes per column that can
be built batch by batch and merged (Deequ-style analyzer states). The *layout* of a profile (numeric bin
edges, the kept categories) is fixed by the first reference and reused for every later batch
(``build_profile(batch, like=reference)``), so that counts add up exactly::

    merge(build_profile(A), build_profile(B, like=build_profile(A)))
        == build_profile(A ∪ B, like=build_profile(A))

Counts, null counts, min and max merge exactly; mean and the sum of squared deviations merge with Chan's
formula (equal up to float rounding).

Numeric columns keep a fine histogram (default 1000 bins on the first reference's quantiles, open-ended outer
bins) whose edges include the coarse quantile edges (default 20 bins) used for PSI and Jensen-Shannon. The
fine histogram bounds the KS and Wasserstein approximations (see `guardrails.checks.statistics`). NaN and
±inf count as missing, like null. Temporal columns are profiled as numbers: microseconds since the epoch
(datetimes, whatever their time unit), microseconds (durations), days (dates). Categorical columns (strings,
booleans, categoricals, and any column named in `categorical`) keep the frequencies of the `max_categories`
most frequent values of the first reference; everything else is counted as ``__other__``.

Example:
    >>> import polars as pl
    >>> a = pl.DataFrame({"amount": [1.0, 2.0, 3.0, None], "country": ["DE", "FR", "DE", "DE"]})
    >>> b = pl.DataFrame({"amount": [4.0, 5.0], "country": ["NL", "DE"]})
    >>> ref = build_profile(a, bins=2, fine_bins=4)
    >>> whole = build_profile(pl.concat([a, b]), like=ref)
    >>> merged = ref.merge(build_profile(b, like=ref))
    >>> merged.columns["amount"].counts == whole.columns["amount"].counts
    True
    >>> merged.columns["country"].categories, merged.columns["country"].counts, merged.columns["country"].other
    (('DE', 'FR'), (4, 1), 1)
    >>> Profile.from_json(merged.to_json()) == merged
    True
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import polars as pl

from guardrails._atomic import write_text_atomic
from guardrails.errors import GuardrailsError

__all__ = [
    "OTHER",
    "PROFILE_SCHEMA_VERSION",
    "CategoricalProfile",
    "ColumnKind",
    "ColumnProfile",
    "NumericProfile",
    "Profile",
    "ProfileError",
    "ProfileStore",
    "build_profile",
    "category_counts",
    "column_kind",
    "load_profile",
    "numeric_values",
    "save_profile",
    "to_polars",
]

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


def to_polars(batch: Any) -> pl.DataFrame:
    """A polars DataFrame view of a polars/pandas/Arrow batch (zero-copy where the source allows)."""
    if isinstance(batch, pl.DataFrame):
        return batch
    if isinstance(batch, pl.LazyFrame):
        return batch.collect()
    module = type(batch).__module__
    if module.startswith("pyarrow"):
        return pl.DataFrame(pl.from_arrow(batch))
    if module.startswith("pandas"):
        return pl.from_pandas(batch)
    raise TypeError(f"expected a polars, pandas or Arrow table, got {type(batch).__name__}")


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


# --- building ----------------------------------------------------------------------------------------------


def build_profile(
    batch: Any,
    *,
    like: Profile | None = None,
    columns: Iterable[str] | None = None,
    categorical: Iterable[str] = (),
    bins: int = 20,
    fine_bins: int = 1000,
    max_categories: int = 50,
) -> Profile:
    """Profile a batch (polars, pandas or Arrow), in the layout of `like` if given, else a new layout.

    Args:
        batch: The accepted rows to summarise.
        like: A reference profile whose columns, kinds, bin edges and categories are reused, so the result
            can be merged with it or compared against it. `columns`, `categorical`, `bins`, `fine_bins` and
            `max_categories` are ignored when it is given.
        columns: Columns to profile (default: every column whose dtype can be profiled).
        categorical: Numeric columns to treat as categories (e.g. integer codes).
        bins: Coarse quantile bins for PSI and Jensen-Shannon; must divide `fine_bins`.
        fine_bins: Fine quantile bins for the KS and Wasserstein approximations.
        max_categories: Categories kept per categorical column; the rest count as ``__other__``.

    Raises:
        ValueError: a named column is missing, has an unprofilable type, or differs in kind from `like`.
    """
    frame = to_polars(batch)
    if like is not None:
        for name in like.columns:
            if name not in frame.columns:
                raise ValueError(f"column {name!r} is in the reference profile but not in the batch")
        profiled = _in_parallel(lambda item: _profile_column(frame[item[0]], item[1].kind, like=item[1]),
                                list(like.columns.items()))
        return Profile(rows=frame.height, columns=dict(zip(like.columns, profiled, strict=True)))

    if bins < 1 or fine_bins < 1 or fine_bins % bins:
        raise ValueError(f"bins ({bins}) must be positive and divide fine_bins ({fine_bins})")
    if max_categories < 1:
        raise ValueError(f"max_categories must be at least 1, got {max_categories}")
    as_categories = set(categorical)
    names = list(columns) if columns is not None else None
    kinds: dict[str, ColumnKind] = {}
    for name in names if names is not None else frame.columns:
        if name not in frame.columns:
            raise ValueError(f"column {name!r} is not in the batch (columns: {frame.columns})")
        kind = column_kind(frame.schema[name], categorical=name in as_categories)
        if kind is None:
            if names is not None:
                raise ValueError(f"column {name!r} has type {frame.schema[name]}, which cannot be profiled")
            continue
        kinds[name] = kind
    profiled = _in_parallel(lambda item: _profile_column(frame[item[0]], item[1], bins=bins, fine_bins=fine_bins,
                                                         max_categories=max_categories), list(kinds.items()))
    return Profile(rows=frame.height, columns=dict(zip(kinds, profiled, strict=True)))


def _in_parallel(fn: Any, items: list[Any]) -> list[Any]:
    """`fn` over `items` on a thread per core, in order: numpy's sort and polars release the GIL."""
    workers = min(len(items), os.cpu_count() or 1)
    if workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


def _profile_column(
    series: pl.Series,
    kind: ColumnKind,
    *,
    like: ColumnProfile | None = None,
    bins: int = 20,
    fine_bins: int = 1000,
    max_categories: int = 50,
) -> ColumnProfile:
    found = column_kind(series.dtype, categorical=kind == "categorical")
    if found != kind and not (found == "categorical" and series.dtype == pl.Null):
        raise ValueError(f"column {series.name!r} has type {series.dtype}, which is not {kind}")
    if kind == "numeric":
        return _profile_numeric(series, like, bins, fine_bins)  # type: ignore[arg-type]
    return _profile_categorical(series, like, max_categories)  # type: ignore[arg-type]


def numeric_values(series: pl.Series) -> np.ndarray:
    """The finite values of a numeric or temporal column as float64 (nulls, NaN and ±inf dropped)."""
    if isinstance(series.dtype, (pl.Datetime, pl.Duration)):
        series = series.dt.cast_time_unit("us")  # one unit, so ms and ns batches compare with a us reference
    if series.dtype.is_temporal():
        series = series.to_physical()
    values = series.drop_nulls().cast(pl.Float64).to_numpy()
    finite = np.isfinite(values)
    return values if finite.all() else values[finite]


def _profile_numeric(
    series: pl.Series, like: NumericProfile | None, bins: int, fine_bins: int
) -> NumericProfile:
    # Sorting once (numpy's vectorized sort, ~0.2 s per 10M floats) is much faster than binning each value
    # with searchsorted (cache misses), and gives exact quantiles, min and max for free.
    values = np.sort(numeric_values(series))
    n = values.size
    if like is not None:
        edges, psi_edges = like.edges, like.psi_edges
    elif n:
        levels = np.arange(1, fine_bins) / fine_bins
        raw = values[np.maximum(np.ceil(levels * n).astype(np.int64) - 1, 0)]  # inverted-CDF quantiles
        edges = tuple(float(v) for v in np.unique(raw))
        step = fine_bins // bins
        psi_edges = tuple(float(v) for v in np.unique(raw[step - 1 :: step]))
    else:
        edges, psi_edges = (), ()
    edge_array = np.asarray(edges, dtype=np.float64)
    cumulative = np.searchsorted(values, edge_array, side="right")
    at_edges = cumulative - np.searchsorted(values, edge_array, side="left")
    counts = np.diff(np.concatenate(([0], cumulative, [n])))
    inside = counts - np.append(at_edges, 0)
    starts = np.concatenate(([0], cumulative))
    sums = np.zeros(len(counts))
    filled = counts > 0  # reduceat needs strictly increasing starts: sum the non-empty bins only
    if n:
        sums[filled] = np.add.reduceat(values, starts[filled])
    sums -= np.append(at_edges * edge_array, 0.0)  # sum of the inside values of each bin
    anchor = edge_array[-1] if len(edge_array) else 0.0
    offsets = np.append(inside[:-1] * edge_array - sums[:-1], sums[-1] - inside[-1] * anchor)
    mean = float(values.mean()) if n else 0.0
    deviations = values - mean
    m2 = float(np.dot(deviations, deviations)) if n else 0.0
    return NumericProfile(
        dtype=str(series.dtype),
        count=int(n),
        null_count=series.len() - int(n),
        minimum=float(values[0]) if n else None,
        maximum=float(values[-1]) if n else None,
        mean=mean,
        m2=m2,
        edges=edges,
        counts=tuple(int(c) for c in counts),
        at_edges=tuple(int(c) for c in at_edges),
        offsets=tuple(float(o) for o in offsets),
        psi_edges=psi_edges,
    )


def category_counts(series: pl.Series) -> pl.DataFrame:
    """Non-null values as strings with their counts: columns ``value`` (String) and ``n`` (UInt32/64)."""
    strings = series.cast(pl.String) if series.dtype != pl.String else series
    return strings.to_frame("value").lazy().drop_nulls().group_by("value").len(name="n").collect()


def _profile_categorical(
    series: pl.Series, like: CategoricalProfile | None, max_categories: int
) -> CategoricalProfile:
    counted = category_counts(series)
    total = int(counted["n"].sum()) if counted.height else 0
    if like is None:
        top = counted.sort(["n", "value"], descending=[True, False]).head(max_categories)
        categories = tuple(top["value"].to_list())
        counts = tuple(int(c) for c in top["n"].to_list())
    else:
        categories = like.categories
        index = pl.DataFrame({"value": list(categories), "i": np.arange(len(categories))},
                             schema={"value": pl.String, "i": pl.Int64})
        matched = counted.join(index, on="value", how="inner")
        array = np.zeros(len(categories), dtype=np.int64)
        array[matched["i"].to_numpy()] = matched["n"].to_numpy()
        counts = tuple(int(c) for c in array)
    return CategoricalProfile(
        dtype=str(series.dtype),
        count=total,
        null_count=series.len() - total,
        categories=categories,
        counts=counts,
        other=total - sum(counts),
    )


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


# --- storage -----------------------------------------------------------------------------------------------


def save_profile(profile: Profile, path: str | Path) -> Path:
    """Write a profile as JSON atomically (a crash never leaves half a file); returns the path."""
    return write_text_atomic(path, profile.to_json())


def load_profile(path: str | Path) -> Profile:
    """Read a profile file; raises `ProfileError` (naming the file and field) if it is missing, corrupt or old."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ProfileError(source, "(file)", expected="a profile file", got="no such file",
                           hint="build one from accepted batches with ProfileStore.accept") from exc
    except UnicodeDecodeError as exc:
        raise ProfileError(source, "(file)", expected="UTF-8 JSON", got="undecodable bytes") from exc
    return Profile.from_json(text, source=source)


@dataclass(frozen=True, slots=True)
class ProfileStore:
    """Reference profiles in a directory, one ``<name>.profile.json`` file each (e.g. next to the contract).

    Example:
        >>> import polars as pl, tempfile
        >>> store = ProfileStore(tempfile.mkdtemp())
        >>> _ = store.accept("tx", pl.DataFrame({"amount": [1.0, 2.0]}))
        >>> store.accept("tx", pl.DataFrame({"amount": [3.0]})).rows
        3
    """

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    def path_for(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"profile name must be a plain file stem, got {name!r}")
        return self.root / f"{name}.profile.json"

    def exists(self, name: str) -> bool:
        return self.path_for(name).is_file()

    def load(self, name: str) -> Profile:
        """The stored profile; raises `ProfileError` if it is missing, corrupt or of an old schema version."""
        return load_profile(self.path_for(name))

    def save(self, name: str, profile: Profile) -> Path:
        return save_profile(profile, self.path_for(name))

    def accept(self, name: str, batch: Any, **build_options: Any) -> Profile:
        """Fold an accepted batch into the stored profile (creating it on first use) and save it.

        Only call this with rows that passed their checks: a reference built from bad data hides drift.
        `build_options` (see `build_profile`) apply only when the profile is created.
        """
        if self.exists(name):
            reference = self.load(name)
            profile = reference.merge(build_profile(batch, like=reference))
        else:
            profile = build_profile(batch, **build_options)
        self.save(name, profile)
        return profile
