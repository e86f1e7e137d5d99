"""Drift statistics between two column profiles of the same layout: the measuring step, with no judging.

Every statistic is computed from profile counts, never from raw rows, so the reference can be a profile
merged over many batches. What is exact and what is approximated:

- PSI and Jensen-Shannon distance use the coarse quantile bins (default 20) and are exact for those bins.
  PSI = sum((c - r) * ln(c / r)) over bin shares, with shares clipped at `PSI_EPSILON` (1e-4) so an empty bin
  stays finite. Jensen-Shannon is the distance (square root of the divergence) with base-2 logs, in [0, 1].
- The two-sample KS statistic is computed on the fine histogram (default 1000 bins), which also counts the
  values lying exactly on each bin's right edge. Only the mass strictly inside a bin has an unknown position,
  so the statistic never exceeds the exact one and is below it by at most ``max_i min(r_i, c_i)`` over the
  inside shares of each bin (about 1/1000 for continuous data, 0 for integers): `ks_error_bound`, reported
  with the score. The p-value is Smirnov's asymptotic one, as `scipy.stats.ks_2samp(method="asymp")`
  computes it (Kolmogorov's limit above 1,000 effective rows: `ks_asymptotic_pvalue`), evaluated at the
  approximate statistic.
- Wasserstein-1 integrates |F_ref - F_cur| bin by bin over the fine histogram (the outer bins end at the
  observed min / max). The profiles keep the sum of the inside values' distances to the bin edge, which makes
  the integral of each CDF over each bin exact, so each bin contributes |integral of F_ref - F_cur|: exact
  unless the two CDFs cross inside the bin, and never too high. A crossing adds at most twice the smaller of
  the largest positive and negative gaps the inside masses allow, times the bin width; the sum of those is
  `wasserstein_error_bound` (the true value lies between the score and the score plus the bound). The score
  is normalised by the reference's standard deviation (ddof=0; by 1 when that is 0), so 0.1 means "the
  distributions are a tenth of a standard deviation apart on average".
- For categoricals: PSI, Jensen-Shannon, L-infinity (largest change of a category's share) and Pearson's
  chi-square test of homogeneity on the 2 x k table of reference and batch counts, exactly as
  `scipy.stats.chi2_contingency(correction=False)` computes it. Slots empty on both sides are dropped.
- Null rate: share of rows that are null (or NaN / ±inf for numbers); `null_rate_change` is batch minus
  reference.

P-values are reported for context only: at large n every difference is "significant", so verdicts use the
effect sizes above (see `guardrails.checks.drift`).

Example:
    >>> round(psi([50, 50], [50, 50]), 6), round(js_distance([1, 0], [0, 1]), 6)
    (0.0, 1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from guardrails.profile import CategoricalProfile, ColumnKind, ColumnProfile, NumericProfile

__all__ = [
    "PSI_EPSILON",
    "ColumnScores",
    "chi_square",
    "compare_columns",
    "js_distance",
    "ks_asymptotic_pvalue",
    "psi",
]

PSI_EPSILON = 1e-4
"""Bin shares below this are raised to it before PSI, so an empty bin gives a large but finite score."""


def psi(reference_counts: np.ndarray | list[int], current_counts: np.ndarray | list[int]) -> float:
    """Population Stability Index between two histograms over the same bins (symmetric in its arguments)."""
    r = np.asarray(reference_counts, dtype=np.float64)
    c = np.asarray(current_counts, dtype=np.float64)
    p = np.maximum(r / r.sum(), PSI_EPSILON)
    q = np.maximum(c / c.sum(), PSI_EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def js_distance(reference_counts: np.ndarray | list[int], current_counts: np.ndarray | list[int]) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two histograms over the same bins."""
    p = np.asarray(reference_counts, dtype=np.float64)
    q = np.asarray(current_counts, dtype=np.float64)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(x: np.ndarray) -> float:
        mask = x > 0
        return float(np.sum(x[mask] * np.log2(x[mask] / m[mask])))

    return math.sqrt(max(0.0, (kl(p) + kl(q)) / 2))


def chi_square(reference_counts: np.ndarray | list[int], current_counts: np.ndarray | list[int]) -> tuple[float, float]:
    """Pearson's chi-square test of homogeneity on the 2 x k table (statistic, p-value), no continuity correction."""
    table = np.vstack([np.asarray(reference_counts, np.float64), np.asarray(current_counts, np.float64)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return statistic, float(stats.chi2.sf(statistic, table.shape[1] - 1))


KOLMOGOROV_LIMIT_N = 1_000
"""Above this effective sample size the KS p-value uses Kolmogorov's limit distribution (see below)."""


def ks_asymptotic_pvalue(statistic: float, n: int, m: int) -> float:
    """Two-sided KS p-value for samples of sizes n and m, as `scipy.stats.ks_2samp(method="asymp")` computes it.

    scipy evaluates `kstwo.sf(d, round(n*m/(n+m)))`, which costs 40-300 ms per call in the tail for effective
    sizes above a few thousand; above `KOLMOGOROV_LIMIT_N` we use its limit ``kstwobign.sf(d * sqrt(en))``
    instead: within about 2 % of scipy for p-values above 1e-5 (further out only the order of magnitude
    agrees, e.g. 5e-109 vs 4e-109), and p-values never decide a verdict.
    """
    en = max(1, round(n * m / (n + m)))  # never 0, even with one value a side
    if en <= KOLMOGOROV_LIMIT_N:
        return float(np.clip(stats.kstwo.sf(statistic, en), 0.0, 1.0))
    return float(np.clip(stats.kstwobign.sf(statistic * math.sqrt(en)), 0.0, 1.0))


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnScores:
    """Every drift statistic for one column (None where it does not apply to the column's kind or data).

    `reference_count` / `current_count` are non-null values; distribution statistics need both above zero.
    """

    kind: ColumnKind
    reference_count: int
    current_count: int
    null_rate_reference: float | None
    null_rate_current: float | None
    null_rate_change: float | None
    psi: float | None = None
    js: float | None = None
    wasserstein: float | None = None
    wasserstein_error_bound: float | None = None
    ks: float | None = None
    ks_pvalue: float | None = None
    ks_error_bound: float | None = None
    linf: float | None = None
    chi2: float | None = None
    chi2_pvalue: float | None = None

    def value(self, statistic: str) -> float | None:
        """A score by name; ``"null_rate"`` is the absolute change of the null rate."""
        if statistic == "null_rate":
            return None if self.null_rate_change is None else abs(self.null_rate_change)
        return getattr(self, statistic)

    def metrics(self, column: str) -> dict[str, float]:
        """The scores as ``{"psi.<column>": ..., "ks_pvalue.<column>": ...}`` (only those that apply)."""
        names = ("psi", "js", "wasserstein", "ks", "ks_pvalue", "linf", "chi2", "chi2_pvalue")
        out = {f"{name}.{column}": getattr(self, name) for name in names if getattr(self, name) is not None}
        if self.null_rate_current is not None:
            out[f"null_rate.{column}"] = self.null_rate_current
        if self.null_rate_change is not None:
            out[f"null_rate_change.{column}"] = self.null_rate_change
        return out


def compare_columns(reference: ColumnProfile, current: ColumnProfile) -> ColumnScores:
    """All statistics between a reference column profile and a batch column profile of the same layout."""
    if type(reference) is not type(current) or not reference.same_layout(current):  # type: ignore[arg-type]
        raise ValueError("profiles differ in kind or layout; build the batch profile with like=reference")
    ref_rate = reference.null_count / reference.rows if reference.rows else None
    cur_rate = current.null_count / current.rows if current.rows else None
    base = dict(
        kind=reference.kind,
        reference_count=reference.count,
        current_count=current.count,
        null_rate_reference=ref_rate,
        null_rate_current=cur_rate,
        null_rate_change=None if ref_rate is None or cur_rate is None else cur_rate - ref_rate,
    )
    if reference.count == 0 or current.count == 0:
        return ColumnScores(**base)  # type: ignore[arg-type]
    if isinstance(reference, NumericProfile):
        return ColumnScores(**base, **_numeric_scores(reference, current))  # type: ignore[arg-type]
    return ColumnScores(**base, **_categorical_scores(reference, current))  # type: ignore[arg-type]


def _numeric_scores(reference: NumericProfile, current: NumericProfile) -> dict[str, float]:
    r = np.asarray(reference.counts, dtype=np.int64)
    c = np.asarray(current.counts, dtype=np.int64)
    nr, nc = int(r.sum()), int(c.sum())
    share_r, share_c = r / nr, c / nc
    cdf_r, cdf_c = np.cumsum(r) / nr, np.cumsum(c) / nc  # at each bin's right end; the last is 1

    # Mass strictly inside each bin (not on its right edge): the only mass whose position is unknown.
    inside_r = share_r - np.append(reference.at_edges, 0) / nr
    inside_c = share_c - np.append(current.at_edges, 0) / nc
    gap_left = np.concatenate(([0.0], (cdf_r - cdf_c)[:-1]))  # F_ref - F_cur at each bin's left end
    gap_right = gap_left + inside_r - inside_c  # ... just before its right edge (exact: the edge mass is not yet in)

    # KS: the gaps at edges and just before them are exact values of |F_ref - F_cur|; inside a bin the gap
    # can exceed them by at most the smaller of the two inside masses.
    ks = float(max(np.max(np.abs(gap_left)), np.max(np.abs(gap_right))))
    ks_pvalue = ks_asymptotic_pvalue(ks, nr, nc)

    # Wasserstein-1 = integral of |F_ref - F_cur|, with the inside mass spread evenly across each bin.
    lo = min(reference.minimum, current.minimum)  # type: ignore[type-var]
    hi = max(reference.maximum, current.maximum)  # type: ignore[type-var]
    bounds = np.concatenate(([lo], np.asarray(reference.edges, dtype=np.float64), [hi]))
    widths = np.maximum(np.diff(np.maximum.accumulate(bounds)), 0.0)
    # Exact integral of each CDF over each bin from the inside offsets: w * F(left) + sum(right - v) / n.
    cdf_left_r = np.concatenate(([0.0], cdf_r[:-1]))
    cdf_left_c = np.concatenate(([0.0], cdf_c[:-1]))
    last_r, last_c = _tail_offsets(reference, hi), _tail_offsets(current, hi)
    integral_r = widths * cdf_left_r + np.append(reference.offsets[:-1], last_r) / nr
    integral_c = widths * cdf_left_c + np.append(current.offsets[:-1], last_c) / nc
    # |integral of the gap| is the bin's exact contribution unless the gap changes sign inside the bin. The gap
    # moves within [left - inside_c, left + inside_r] there; a sign change adds at most twice the smaller side.
    area = np.abs(integral_r - integral_c)
    crossing = 2 * widths * np.minimum(np.maximum(gap_left + inside_r, 0.0), np.maximum(inside_c - gap_left, 0.0))
    scale = reference.std or 1.0
    return {
        "psi": psi(reference.psi_counts(), current.psi_counts()),
        "js": js_distance(reference.psi_counts(), current.psi_counts()),
        "ks": ks,
        "ks_pvalue": ks_pvalue,
        "ks_error_bound": float(np.max(np.minimum(inside_r, inside_c))),
        "wasserstein": float(area.sum()) / scale,
        "wasserstein_error_bound": float(np.sum(crossing)) / scale,
    }


def _tail_offsets(profile: NumericProfile, hi: float) -> float:
    """sum(hi - v) over the last (open) bin's values, from its stored sum(v - anchor)."""
    anchor = profile.edges[-1] if profile.edges else 0.0
    return profile.counts[-1] * (hi - anchor) - profile.offsets[-1]


def _categorical_scores(reference: CategoricalProfile, current: CategoricalProfile) -> dict[str, float]:
    r = np.asarray(reference.counts + (reference.other,), dtype=np.int64)
    c = np.asarray(current.counts + (current.other,), dtype=np.int64)
    keep = (r + c) > 0
    r, c = r[keep], c[keep]
    chi2, chi2_pvalue = chi_square(r, c)
    return {
        "psi": psi(r, c),
        "js": js_distance(r, c),
        "linf": float(np.max(np.abs(r / r.sum() - c / c.sum()))),
        "chi2": chi2,
        "chi2_pvalue": chi2_pvalue,
    }
