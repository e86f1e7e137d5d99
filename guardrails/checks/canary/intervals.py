"""Fixed-n intervals, reported beside the confidence sequences and never used to decide.

- **Newcombe's hybrid score interval** for the difference of two proportions (one trial per unit): the two
  Wilson intervals combined (Newcombe 1998, method 10; statsmodels' ``confint_proportions_2indep(...,
  method="newcomb")``, which the tests compare with). Written here in numpy rather than imported: statsmodels
  would bring pandas and a second of import time into the core.
- **The delta-method Wald interval** for a ratio metric (several trials per unit).
- **The Hodges-Lehmann shift with its Mann-Whitney interval** for continuous metrics: the median of all
  ``n_c * n_t`` pairwise differences, and the order statistics of those differences that the Mann-Whitney
  test's critical value picks (exact null distribution for small samples without ties; the normal
  approximation with the tie correction otherwise). Neither scipy nor statsmodels has it. The k-th pairwise
  difference is found without materialising the pairs once they are many: distinct values are weighted, and
  an interpolated bisection on the value counts pairs below a candidate with one ``searchsorted`` (O(n log n)
  each) until few enough pairs are left to sort. Above `HL_MAX_UNITS` units per arm each arm is replaced by a
  seeded random sample of that many units (the interval is then that sample's, wider than the full data's),
  which the interval's `method` says.

Example:
    >>> import numpy as np
    >>> hodges_lehmann(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0]), alpha=0.2)[:1]
    (2.0,)
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = ["HL_MAX_UNITS", "delta_wald", "hodges_lehmann", "kth_pairwise_difference", "mann_whitney_critical",
           "newcombe"]

HL_MAX_UNITS = 20_000
"""Units per arm above which the Hodges-Lehmann interval is computed on a seeded random sample of each arm."""
_MATERIALISE = 2_000_000  # pairs sorted outright
_BRACKET = 100_000  # pairs left between the bisection's ends when they are sorted
_EXACT_MAX = 50  # arm sizes up to which the Mann-Whitney null distribution is computed exactly (no ties)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a . b`` without BLAS: numpy's einsum loop is single-threaded, so a small dot never waits for BLAS threads
    (10 ms instead of 30 us for 20,000 values on a busy machine) and a large one is as fast."""
    return float(np.einsum("i,i->", a, b))


def _wilson(count: float, nobs: float, z: float) -> tuple[float, float]:
    p = count / nobs
    denom = nobs + z * z
    centre = (count + z * z / 2) / denom
    half = z * math.sqrt(nobs) / denom * math.sqrt(p * (1 - p) + z * z / (4 * nobs))
    return centre - half, centre + half


def newcombe(count1: float, nobs1: float, count2: float, nobs2: float, alpha: float) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``p1 - p2`` at level ``1 - alpha`` (two-sided).

    Example:
        >>> [round(v, 4) for v in newcombe(56, 70, 48, 80, 0.05)]
        [0.0524, 0.3339]
    """
    z = NormalDist().inv_cdf(1 - alpha / 2)
    p1, p2 = count1 / nobs1, count2 / nobs2
    l1, u1 = _wilson(count1, nobs1, z)
    l2, u2 = _wilson(count2, nobs2, z)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def delta_wald(estimate: float, variance: float, alpha: float) -> tuple[float, float]:
    """``estimate +/- z * sqrt(variance)``: the Wald interval with a delta-method variance."""
    half = NormalDist().inv_cdf(1 - alpha / 2) * math.sqrt(max(variance, 0.0))
    return estimate - half, estimate + half


def mann_whitney_critical(n1: int, n2: int, alpha: float, tie_sum: float = 0.0) -> int:
    """The largest ``c`` with ``P(U <= c) <= alpha / 2`` under the null (U the Mann-Whitney count).

    Exact (the Gaussian binomial coefficient's coefficients) for arms up to 50 units without ties; otherwise
    the normal approximation with continuity and tie correction (`tie_sum` = sum of ``t^3 - t`` over tie
    groups of the pooled sample). -1 when no ``c`` qualifies (too few units for an interval at this level).
    """
    if n1 <= _EXACT_MAX and n2 <= _EXACT_MAX and tie_sum == 0:
        # Coefficients of prod_{i=1..n1} (1 - q^(n2+i)) / (1 - q^i): the counts of each U value.
        size = n1 * n2 + 1
        poly = np.zeros(size)
        poly[0] = 1.0
        for i in range(1, n1 + 1):
            shifted = np.zeros(size)
            shifted[n2 + i:] = poly[: size - n2 - i]
            poly = poly - shifted
            for start in range(i):  # divide by (1 - q^i): a running sum with stride i
                poly[start::i] = np.cumsum(poly[start::i])
        cdf = np.cumsum(poly) / poly.sum()
        return int(np.searchsorted(cdf, alpha / 2 * (1 + 1e-12), side="right")) - 1
    n = n1 + n2
    mean = n1 * n2 / 2
    var = n1 * n2 / 12 * ((n + 1) - tie_sum / (n * (n - 1)))
    z = NormalDist().inv_cdf(1 - alpha / 2)
    return int(math.floor(mean - z * math.sqrt(max(var, 0.0)) - 0.5))


def _weighted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    unique, counts = np.unique(values, return_counts=True)
    return unique, counts.astype(np.float64)


def kth_pairwise_difference(x: np.ndarray, y: np.ndarray, ks: list[int], *, materialise: int = _MATERIALISE,
                            bracket: int = _BRACKET) -> list[float]:
    """The k-th smallest (1-based) of the ``len(x) * len(y)`` differences ``y_j - x_i``, for each k in `ks`.

    Up to `materialise` (distinct-value) pairs are sorted outright; above, a bisection on the value narrows
    each k to at most `bracket` pairs, which are then sorted.
    """
    xu, xw = _weighted(np.asarray(x, dtype=np.float64))
    yu, yw = _weighted(np.asarray(y, dtype=np.float64))
    if len(xu) * len(yu) <= materialise:
        diffs = (yu[:, None] - xu[None, :]).ravel()
        order = np.argsort(diffs)
        cumulative = np.cumsum(np.multiply.outer(yw, xw).ravel()[order])
        return [float(diffs[order][int(np.searchsorted(cumulative, k - 0.5))]) for k in ks]
    return [_select(xu, xw, yu, yw, k, bracket) for k in ks]


def _select(xu: np.ndarray, xw: np.ndarray, yu: np.ndarray, yw: np.ndarray, k: int, bracket: int) -> float:
    # x_i >= y_j - d  <=>  y_j - x_i <= d: pairs at or below d are, per y_j, a suffix of the sorted x.
    tail = np.concatenate([np.cumsum(xw[::-1])[::-1], [0.0]])  # weight of xu[i:]

    def below(d: float) -> tuple[float, np.ndarray]:
        start = np.searchsorted(xu, yu - d, side="left")
        return _dot(yw, tail[start]), start

    lo, hi = float(yu[0] - xu[-1]) - 1.0, float(yu[-1] - xu[0])
    c_lo, s_lo = below(lo)
    c_hi, s_hi = below(hi)
    # Start from a bracket read off 20,000 seeded random pairs (wide enough to hold the k-th almost always),
    # kept only if the counts confirm it: the result never depends on the sample, only the time does.
    rng = np.random.default_rng(k)
    total = float(c_hi)
    pick_y = rng.choice(len(yu), 20_000, p=yw / yw.sum())
    pick_x = rng.choice(len(xu), 20_000, p=xw / xw.sum())
    sample = np.sort(yu[pick_y] - xu[pick_x])
    share = (k - 0.5) / total
    spread = 5 * math.sqrt(max(share * (1 - share), 1e-12) / 20_000) + 2 / 20_000
    guess_lo = float(np.quantile(sample, max(share - spread, 0.0)))
    guess_hi = float(np.quantile(sample, min(share + spread, 1.0)))
    if lo < guess_lo:
        c_guess, s_guess = below(guess_lo)
        if c_guess < k:
            lo, c_lo, s_lo = guess_lo, c_guess, s_guess
    if guess_hi < hi:
        c_guess, s_guess = below(guess_hi)
        if c_guess >= k:
            hi, c_hi, s_hi = guess_hi, c_guess, s_guess
    side = 0
    while int((s_lo - s_hi).sum()) > bracket:
        # Regula falsi on the counts (Illinois variant), falling back to halving if it stalls.
        mid = lo + (hi - lo) * (k - 0.5 - c_lo) / max(c_hi - c_lo, 1.0)
        if not lo < mid < hi:
            mid = lo + (hi - lo) / 2
        if not lo < mid < hi:
            break  # adjacent floats: the bracket cannot shrink further
        c_mid, s_mid = below(mid)
        if c_mid >= k:
            hi, c_hi, s_hi = mid, c_mid, s_mid
            c_lo = c_lo if side != 1 else c_lo + (k - c_lo) / 2  # Illinois: damp the stale end
            side = 1
        else:
            lo, c_lo, s_lo = mid, c_mid, s_mid
            c_hi = c_hi if side != -1 else c_hi - (c_hi - k) / 2
            side = -1
    c_lo_exact = _dot(yw, tail[s_lo])
    # Enumerate the pairs between the two ends: for y_j, x indices s_hi[j] .. s_lo[j] - 1.
    lengths = s_lo - s_hi
    rows = np.repeat(np.arange(len(yu)), lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    cols = s_hi[rows] + offsets
    diffs = yu[rows] - xu[cols]
    weights = yw[rows] * xw[cols]
    order = np.argsort(diffs, kind="stable")
    position = int(np.searchsorted(np.cumsum(weights[order]), k - c_lo_exact - 0.5))
    return float(diffs[order][min(position, len(order) - 1)])


def _thin(values: np.ndarray, limit: int) -> np.ndarray:
    """A seeded random sample of `limit` values (O(n)), so the same data always gives the same interval."""
    if len(values) <= limit:
        return values
    return np.random.default_rng(0).choice(values, size=limit, replace=False)


def hodges_lehmann(control: np.ndarray, candidate: np.ndarray, alpha: float,
                   *, max_units: int = HL_MAX_UNITS) -> tuple[float, float, float, str]:
    """(shift, lower, upper, method): the Hodges-Lehmann shift ``candidate - control`` and its interval.

    The shift is the median of all pairwise differences; the interval's ends are the ``(c+1)``-th and
    ``(n1 n2 - c)``-th smallest differences, ``c`` from `mann_whitney_critical`. An arm with no unit gives NaN;
    too few units for the level give an infinite end.
    """
    x, y = np.asarray(control, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
    method = "hodges_lehmann"
    if len(x) == 0 or len(y) == 0:
        return math.nan, -math.inf, math.inf, method
    if len(x) > max_units or len(y) > max_units:
        method = f"hodges_lehmann (on a seeded sample of {max_units:,} units per arm)"
        x, y = _thin(x, max_units), _thin(y, max_units)
    n1, n2 = len(x), len(y)
    _, ties = np.unique(np.concatenate([x, y]), return_counts=True)
    tie_sum = float(((ties.astype(np.float64) ** 3) - ties).sum())
    exact = n1 <= _EXACT_MAX and n2 <= _EXACT_MAX and tie_sum == 0
    c = mann_whitney_critical(n1, n2, alpha, tie_sum)
    total = n1 * n2
    ks = [(total + 1) // 2, total // 2 + 1]
    if c >= 0:
        ks += [c + 1, total - c]
    values = kth_pairwise_difference(x, y, ks)
    shift = (values[0] + values[1]) / 2
    lower, upper = (values[2], values[3]) if c >= 0 else (-math.inf, math.inf)
    return shift, lower, upper, method + (" (exact)" if exact else "")
