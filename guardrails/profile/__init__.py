"""Reference profiles: compact, mergeable per-column summaries of accepted batches, stored as versioned JSON.

Three modules: `_sketch` (the profile types and their JSON form), `_build` (profiling a batch) and `_store`
(`ProfileStore`: one profile file per accepted batch, merged on demand).

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

from guardrails.profile._build import build_profile, category_counts, numeric_values
from guardrails.profile._sketch import (
    OTHER,
    PROFILE_SCHEMA_VERSION,
    CategoricalProfile,
    ColumnKind,
    ColumnProfile,
    NumericProfile,
    Profile,
    ProfileError,
    column_kind,
)
from guardrails.profile._store import (
    FOLDED_BATCH,
    MergedReference,
    ProfileStore,
    ReferenceSource,
    batch_file_stem,
    load_profile,
    save_profile,
)
from guardrails.validation._frames import to_polars

__all__ = [
    "FOLDED_BATCH",
    "OTHER",
    "PROFILE_SCHEMA_VERSION",
    "CategoricalProfile",
    "ColumnKind",
    "ColumnProfile",
    "MergedReference",
    "NumericProfile",
    "Profile",
    "ProfileError",
    "ProfileStore",
    "ReferenceSource",
    "batch_file_stem",
    "build_profile",
    "category_counts",
    "column_kind",
    "load_profile",
    "numeric_values",
    "save_profile",
    "to_polars",
]
