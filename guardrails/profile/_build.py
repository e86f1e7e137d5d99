"""Building a profile from a batch: the layout (quantile bin edges, kept categories) and the counts in it.

Numeric columns keep a fine histogram (default 1000 bins on the first reference's quantiles, open-ended outer
bins) whose edges include the coarse quantile edges (default 20 bins) used for PSI and Jensen-Shannon. Temporal
columns are profiled as numbers: microseconds since the epoch (datetimes, whatever their time unit),
microseconds (durations), days (dates). Categorical columns keep the frequencies of the `max_categories` most
frequent values of the first reference; everything else is counted as ``__other__``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import polars as pl

from guardrails.profile._sketch import (
    CategoricalProfile,
    ColumnKind,
    ColumnProfile,
    NumericProfile,
    Profile,
    column_kind,
)
from guardrails.validation._frames import to_polars

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
