"""Drift statistics against scipy on the same data, with the approximation bounds they claim, and properties."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr

from guardrails.checks.statistics import (
    PSI_EPSILON,
    chi_square,
    compare_columns,
    js_distance,
    ks_asymptotic_pvalue,
    psi,
)
from guardrails.profile import build_profile

TOL = 1e-9


def profiles(reference: np.ndarray, current: np.ndarray, **layout):
    ref = build_profile(pl.DataFrame({"x": reference}), **layout)
    cur = build_profile(pl.DataFrame({"x": current}), like=ref)
    return ref.columns["x"], cur.columns["x"]


def coarse_counts(edges, values) -> np.ndarray:
    """Independent right-closed binning: bin i is (e[i-1], e[i]] with open outer bins."""
    return np.bincount(np.searchsorted(np.asarray(edges), values, side="left"), minlength=len(edges) + 1)


DISTRIBUTIONS = {
    "normal shift": (lambda r: r.normal(0, 1, 20_000), lambda r: r.normal(0.3, 1.2, 15_000)),
    "skewed": (lambda r: r.lognormal(0, 1, 20_000), lambda r: r.lognormal(0.1, 0.9, 10_000)),
    "integers with ties": (lambda r: r.poisson(3, 20_000).astype(float), lambda r: r.poisson(3.4, 8_000).astype(float)),
    "same": (lambda r: r.uniform(0, 1, 20_000), lambda r: r.uniform(0, 1, 20_000)),
}


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_numeric_statistics_agree_with_scipy(name: str) -> None:
    """PSI, JS are exact on the quantile bins; KS and Wasserstein stay within their reported bounds of scipy."""
    rng = np.random.default_rng(list(DISTRIBUTIONS).index(name))
    make_ref, make_cur = DISTRIBUTIONS[name]
    a, b = make_ref(rng), make_cur(rng)
    ref, cur = profiles(a, b)
    s = compare_columns(ref, cur)

    ra, cb = coarse_counts(ref.psi_edges, a), coarse_counts(ref.psi_edges, b)
    pa = np.maximum(ra / ra.sum(), PSI_EPSILON)
    pb = np.maximum(cb / cb.sum(), PSI_EPSILON)
    assert s.psi == pytest.approx(np.sum(rel_entr(pa, pb) + rel_entr(pb, pa)), abs=TOL)
    assert s.js == pytest.approx(jensenshannon(ra, cb, base=2), abs=1e-7)

    exact = stats.ks_2samp(a, b, method="asymp")
    assert s.ks <= exact.statistic + TOL
    assert exact.statistic <= s.ks + s.ks_error_bound + TOL
    assert s.ks_error_bound <= 0.01  # 1000 fine bins: about 1/1000 per bin, more only with heavy ties
    assert s.ks_pvalue == ks_asymptotic_pvalue(s.ks, len(a), len(b))
    assert s.ks_pvalue >= stats.kstwobign.sf(exact.statistic * np.sqrt(len(a) * len(b) / (len(a) + len(b))))

    w_exact = stats.wasserstein_distance(a, b) / a.std()
    assert s.wasserstein - 1e-9 <= w_exact <= s.wasserstein + s.wasserstein_error_bound + 1e-9
    assert s.wasserstein_error_bound < 0.1
    assert abs(s.wasserstein - w_exact) < 0.01  # in practice near exact: the CDFs rarely cross inside a bin
    if name == "same":
        assert s.psi < 0.01 and s.ks < 0.02 and s.wasserstein < 0.03


def test_null_rates_are_reported_from_both_sides() -> None:
    """The null rate counts null and NaN rows; the change is batch minus reference."""
    ref, cur = profiles(np.array([1.0, 2.0, np.nan, 4.0]), np.array([np.nan, np.nan, 1.0, 2.0]))
    s = compare_columns(ref, cur)
    assert (s.null_rate_reference, s.null_rate_current, s.null_rate_change) == (0.25, 0.5, 0.25)


def test_categorical_statistics_agree_with_scipy() -> None:
    """Categorical PSI, JS, L-infinity and chi-square match scipy on the category counts."""
    rng = np.random.default_rng(7)
    a = rng.choice(list("abcdef"), 5000, p=[0.3, 0.25, 0.2, 0.1, 0.1, 0.05])
    b = rng.choice(list("abcdefg"), 4000, p=[0.25, 0.25, 0.2, 0.1, 0.1, 0.05, 0.05])
    ref = build_profile(pl.DataFrame({"c": a}), max_categories=5)
    cur = build_profile(pl.DataFrame({"c": b}), like=ref)
    s = compare_columns(ref.columns["c"], cur.columns["c"])

    kept = ref.columns["c"].categories
    ra = np.array([np.sum(a == k) for k in kept] + [np.sum(~np.isin(a, kept))])
    cb = np.array([np.sum(b == k) for k in kept] + [np.sum(~np.isin(b, kept))])
    expected = stats.chi2_contingency(np.vstack([ra, cb]), correction=False)
    assert s.chi2 == pytest.approx(expected.statistic, rel=1e-9)
    assert s.chi2_pvalue == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)
    assert s.js == pytest.approx(jensenshannon(ra, cb, base=2), abs=1e-9)
    pa, pb = np.maximum(ra / ra.sum(), PSI_EPSILON), np.maximum(cb / cb.sum(), PSI_EPSILON)
    assert s.psi == pytest.approx(np.sum(rel_entr(pa, pb) + rel_entr(pb, pa)), abs=TOL)
    assert s.linf == pytest.approx(np.max(np.abs(ra / ra.sum() - cb / cb.sum())), abs=TOL)


def test_chi_square_matches_scipy_and_degenerate_tables() -> None:
    """chi_square equals chi2_contingency without correction; one category or an empty side gives (0, 1)."""
    table = np.array([[10, 20, 30], [15, 15, 40]])
    expected = stats.chi2_contingency(table, correction=False)
    assert chi_square(table[0], table[1]) == pytest.approx((expected.statistic, expected.pvalue))
    assert chi_square([5], [7]) == (0.0, 1.0)
    assert chi_square([5, 0], [0, 0]) == (0.0, 1.0)


count_vectors = st.integers(2, 12).flatmap(
    lambda k: st.tuples(arrays(np.int64, k, elements=st.integers(0, 1000)),
                        arrays(np.int64, k, elements=st.integers(0, 1000)))
).filter(lambda pq: pq[0].sum() > 0 and pq[1].sum() > 0)


@given(count_vectors)
def test_histogram_scores_are_symmetric_and_match_scipy(pq) -> None:
    """PSI, JS and chi-square are symmetric in their arguments; JS equals scipy's jensenshannon."""
    p, q = pq
    assert psi(p, q) == pytest.approx(psi(q, p), abs=1e-12)
    assert js_distance(p, q) == pytest.approx(js_distance(q, p), abs=1e-12)
    assert js_distance(p, q) == pytest.approx(jensenshannon(p, q, base=2), abs=1e-7)
    assert chi_square(p, q)[0] == pytest.approx(chi_square(q, p)[0], rel=1e-9, abs=1e-9)


samples = arrays(np.float64, st.integers(2, 200), elements=st.floats(-1e3, 1e3, allow_nan=False))


@given(samples)
def test_a_sample_against_itself_drifts_zero(x) -> None:
    """Every score of a sample against itself is zero (and the p-values are one)."""
    ref, cur = profiles(x, x, bins=5, fine_bins=50)
    s = compare_columns(ref, cur)
    assert (s.psi, s.js, s.ks, s.wasserstein) == (0.0, 0.0, 0.0, 0.0)
    assert s.ks_pvalue == 1.0
    labels = pl.DataFrame({"c": (x * 10).astype(int).astype(str)})
    cref = build_profile(labels).columns["c"]
    cs = compare_columns(cref, build_profile(labels, like=build_profile(labels)).columns["c"])
    assert (cs.psi, cs.js, cs.linf, cs.chi2, cs.chi2_pvalue) == (0.0, 0.0, 0.0, 0.0, 1.0)


@given(samples, samples)
def test_bounds_hold_and_scores_are_symmetric_on_arbitrary_samples(x, y) -> None:
    """On any two samples the KS and Wasserstein approximations stay within their bounds of scipy, and
    PSI, JS, KS and unnormalised Wasserstein do not depend on which side is the reference."""
    ref, cur = profiles(x, y, bins=5, fine_bins=50)
    s = compare_columns(ref, cur)
    exact = stats.ks_2samp(x, y, method="asymp").statistic
    assert s.ks - TOL <= exact <= s.ks + s.ks_error_bound + TOL
    w_exact = stats.wasserstein_distance(x, y)
    scale = ref.std or 1.0
    slack = 1e-9 * (1 + w_exact)
    assert s.wasserstein * scale - slack <= w_exact <= (s.wasserstein + s.wasserstein_error_bound) * scale + slack

    back = compare_columns(cur, ref)  # same layout, roles swapped
    assert back.psi == pytest.approx(s.psi, abs=1e-12)
    assert back.js == pytest.approx(s.js, abs=1e-12)
    assert back.ks == pytest.approx(s.ks, abs=1e-12)
    assert back.wasserstein * (cur.std or 1.0) == pytest.approx(s.wasserstein * scale, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(("n", "m", "d", "rel"), [
    (50, 80, 0.2, 1e-12), (800, 3_000, 0.05, 1e-12),  # small: scipy's own formula
    (20_000, 15_000, 0.015, 0.02), (20_000, 15_000, 0.025, 0.02), (2_000_000, 1_000_000, 0.0012, 0.02),
])
def test_ks_pvalue_matches_scipy_asymptotic(n, m, d, rel) -> None:
    """The KS p-value equals scipy's ks_2samp asymptotic one: exactly for small samples, within 2 % above (p > 1e-5)."""
    en = round(n * m / (n + m))
    assert ks_asymptotic_pvalue(d, n, m) == pytest.approx(stats.kstwo.sf(d, en), rel=rel, abs=0)
