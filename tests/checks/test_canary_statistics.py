"""The canary's statistics: boundaries against Howard et al.'s closed forms, fixed-n intervals against
statsmodels and brute force, and simulations (fixed seeds, 20 looks, vectorized across canaries) of the
error rates and power the sequential test promises."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import norm

from guardrails.checks.canary.boundaries import (
    half_width,
    log_mixture,
    mixture_boundary,
    optimal_rho,
    sequential_units,
)
from guardrails.checks.canary.intervals import (
    hodges_lehmann,
    kth_pairwise_difference,
    mann_whitney_critical,
    newcombe,
)
from guardrails.checks.canary.quantiles import quantile_bounds
from guardrails.checks.canary.srm import srm_p_values

ALPHA, LOOKS, CANARIES = 0.05, 20, 2000


def howard_two_sided(v: float, rho: float, alpha: float) -> float:
    """Howard, Ramdas, McAuliffe & Sekhon (2021), eq. (14), written out independently of the module."""
    return math.sqrt((v + rho) * math.log((v + rho) / (rho * alpha * alpha)))


@pytest.mark.parametrize("v", [1.0, 50.0, 1e3, 1e6])
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
def test_boundary_is_howards_closed_form_and_the_mixture_crossing(v: float, alpha: float) -> None:
    """u(v) equals eq. (14), and the mixture martingale equals exactly 1/alpha on the boundary."""
    rho = optimal_rho(1000, alpha)
    u = float(mixture_boundary(v, rho, alpha))
    assert u == pytest.approx(howard_two_sided(v, rho, alpha), rel=1e-12)
    assert float(log_mixture(u, v, rho)) == pytest.approx(math.log(1 / alpha), rel=1e-10)


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1])
def test_optimal_rho_minimises_the_boundary_at_its_design_time(alpha: float) -> None:
    """The Lambert-W rho gives a smaller boundary at v_opt than any rho on a fine grid around it."""
    rho = optimal_rho(1000, alpha)
    grid = rho * np.linspace(0.2, 5, 2001)
    assert float(mixture_boundary(1000, rho, alpha)) <= mixture_boundary(1000, grid, alpha).min() + 1e-9


def test_sequential_units_exceed_the_fixed_n_formula() -> None:
    """The sequential sample size is larger than the fixed-n one, which underestimates what the boundary needs."""
    sigma, gap = 0.43, 0.005
    rho = optimal_rho(1000, ALPHA)
    sequential = sequential_units(gap, sigma, rho, ALPHA, 0.8)
    fixed = (norm.ppf(1 - ALPHA / 2) + norm.ppf(0.8)) ** 2 * sigma**2 / gap**2
    assert sequential is not None and sequential > 1.5 * fixed
    assert sequential_units(0.0, sigma, rho, ALPHA, 0.8) is None


def _simulate_rate(delta: float, margin: float, p: float, units: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(ever passed, ever failed) per canary over 20 equally spaced looks of a 50/50 binary-rate canary.

    Uses the module's boundary and the same variance (with its zero-event floor) as `assess_canary`.
    """
    rng = np.random.default_rng(seed)
    per_look = units // (2 * LOOKS)
    control = rng.binomial(per_look, p, size=(CANARIES, LOOKS)).cumsum(axis=1).astype(float)
    candidate = rng.binomial(per_look, p + delta, size=(CANARIES, LOOKS)).cumsum(axis=1).astype(float)
    n_arm = per_look * np.arange(1, LOOKS + 1, dtype=float)
    rho = optimal_rho(1000, ALPHA)

    def var(x: np.ndarray) -> np.ndarray:
        rate, smoothed = x / n_arm, (x + 1) / (n_arm + 2)
        return np.maximum(rate * (1 - rate), smoothed * (1 - smoothed)) / n_arm

    estimate = candidate / n_arm - control / n_arm
    sigma = np.sqrt(2 * n_arm * (var(control) + var(candidate)))
    half = half_width(2 * n_arm, sigma, rho, ALPHA)
    return (estimate - half > -margin).any(axis=1), (estimate + half < -margin).any(axis=1)


def _within(rate: float, bound: float) -> bool:
    """`rate` is at most `bound` up to three binomial standard errors over the simulated canaries."""
    return rate <= bound + 3 * math.sqrt(bound * (1 - bound) / CANARIES)


def test_never_fails_a_candidate_as_good_as_the_control_more_than_alpha() -> None:
    """P(ever fail | Delta = 0) <= alpha over 2,000 canaries of 20 looks, with a zero margin (the sharpest case)."""
    _, failed = _simulate_rate(0.0, 0.0, 0.05, 100_000, seed=1)
    assert _within(failed.mean(), ALPHA)


def test_never_passes_a_candidate_exactly_at_the_margin_more_than_alpha() -> None:
    """P(ever pass | Delta = -m) <= alpha over 2,000 canaries of 20 looks."""
    margin = 0.0025
    passed, _ = _simulate_rate(-margin, margin, 0.05, 200_000, seed=2)
    assert _within(passed.mean(), ALPHA)


def test_naive_repeated_fixed_n_tests_would_inflate_errors() -> None:
    """The same 20 looks judged with fixed-n z intervals fail a null candidate far more often than alpha."""
    rng = np.random.default_rng(3)
    per_look = 2500
    c = rng.binomial(per_look, 0.05, size=(CANARIES, LOOKS)).cumsum(axis=1)
    t = rng.binomial(per_look, 0.05, size=(CANARIES, LOOKS)).cumsum(axis=1)
    n = per_look * np.arange(1, LOOKS + 1)
    pc, pt = c / n, t / n
    z = (pt - pc) / np.sqrt((pc * (1 - pc) + pt * (1 - pt)) / n)
    assert (z < -norm.ppf(1 - ALPHA / 2)).any(axis=1).mean() > 2 * ALPHA


def test_a_candidate_ten_percent_worse_on_a_five_percent_rate_is_caught_at_the_computed_n() -> None:
    """With margin 0, a 5% -> 4.5% rate fails with at least the stated power by the sequential n it computes."""
    p, worse, power = 0.05, 0.045, 0.8
    sigma = math.sqrt(2 * (p * (1 - p) + worse * (1 - worse)))  # per-unit-equivalent sd, 50/50 split
    rho = optimal_rho(1000, ALPHA)
    units = sequential_units(p - worse, sigma, rho, ALPHA, power)
    assert units is not None and 100_000 < units < 400_000
    _, failed = _simulate_rate(worse - p, 0.0, p, units, seed=4)
    assert failed.mean() >= power - 3 * math.sqrt(power * (1 - power) / CANARIES)


def test_small_canaries_rarely_decide_anything() -> None:
    """With 400 units (10 per arm per look) the asymptotic sequence decides in well under alpha of canaries.

    `assess_canary` adds `min_units` and `min_events`, which keep such canaries inconclusive altogether
    (tests/checks/test_canary.py).
    """
    passed, failed = _simulate_rate(-0.005, 0.0025, 0.05, 400, seed=5)
    assert passed.mean() < ALPHA / 5 and failed.mean() < ALPHA / 5


def test_quantile_sequence_covers_the_true_quantile_at_every_look() -> None:
    """The p95 confidence sequence misses the true p95 at some look in at most alpha of 300 exponential streams."""
    rng = np.random.default_rng(6)
    truth = -math.log(0.05)
    misses = 0
    for _ in range(300):
        stream = rng.exponential(size=20_000)
        for n in np.linspace(1000, 20_000, LOOKS).astype(int):
            _, lower, upper = quantile_bounds(stream[:n].copy(), 0.95, np.array([ALPHA]), 1000, ALPHA)
            if not lower[0] <= truth <= upper[0]:
                misses += 1
                break
    assert misses / 300 <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / 300)


def test_srm_is_anytime_valid_and_catches_a_broken_split() -> None:
    """A true 50/50 split is flagged at some of 20 looks in at most alpha of canaries; a 52/48 split is caught."""
    rng = np.random.default_rng(7)
    looks = np.linspace(500, 200_000, LOOKS).astype(int)
    for share, flagged_at_most, flagged_at_least in ((0.5, ALPHA, 0.0), (0.48, 1.0, 0.99)):
        increments = np.diff(np.concatenate([[0], looks]))
        control = rng.binomial(np.broadcast_to(increments, (CANARIES, LOOKS)), share).cumsum(axis=1)
        counts = np.stack([control, looks - control], axis=-1)
        flagged = (srm_p_values(counts, [0.5, 0.5]) < ALPHA).any(axis=1).mean()
        assert flagged_at_least <= flagged <= flagged_at_most + 3 * math.sqrt(ALPHA * (1 - ALPHA) / CANARIES)


@given(st.integers(0, 60), st.integers(1, 60), st.integers(0, 60), st.integers(1, 60),
       st.sampled_from([0.01, 0.05, 0.1]))
def test_newcombe_matches_statsmodels(x1: int, n1: int, x2: int, n2: int, alpha: float) -> None:
    """Our Newcombe hybrid score interval equals statsmodels' confint_proportions_2indep(method="newcomb")."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    x1, x2 = min(x1, n1), min(x2, n2)
    expected = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=alpha)
    assert newcombe(x1, n1, x2, n2, alpha) == pytest.approx(tuple(map(float, expected)), abs=1e-12)


def test_mann_whitney_exact_critical_value_matches_enumeration() -> None:
    """For 6 vs 5 units the exact critical value is the one found by enumerating all C(11, 5) rank assignments."""
    n1, n2, alpha = 6, 5, 0.1
    counts: dict[int, int] = {}
    for ranks in itertools.combinations(range(1, n1 + n2 + 1), n1):
        u = sum(ranks) - n1 * (n1 + 1) // 2
        counts[u] = counts.get(u, 0) + 1
    total = sum(counts.values())
    cdf = np.cumsum([counts.get(u, 0) for u in range(n1 * n2 + 1)]) / total
    expected = int(np.searchsorted(cdf, alpha / 2, side="right")) - 1
    assert mann_whitney_critical(n1, n2, alpha) == expected


dyadic = st.integers(-64, 64).map(lambda v: v / 8)


@given(st.lists(dyadic, min_size=1, max_size=40), st.lists(dyadic, min_size=1, max_size=40), st.data())
def test_kth_pairwise_difference_matches_brute_force_on_every_path(x: list[float], y: list[float],
                                                                   data: st.DataObject) -> None:
    """Selecting the k-th pairwise difference (sorted outright, or by bisection) equals sorting all pairs."""
    pairs = np.sort((np.array(y)[:, None] - np.array(x)[None, :]).ravel())
    ks = [data.draw(st.integers(1, len(pairs))) for _ in range(3)]
    for materialise, bracket in ((10**7, 10**6), (0, 1), (0, 5)):
        got = kth_pairwise_difference(np.array(x), np.array(y), ks, materialise=materialise, bracket=bracket)
        assert got == [pairs[k - 1] for k in ks]


@given(st.lists(dyadic, min_size=2, max_size=30), st.lists(dyadic, min_size=2, max_size=30))
def test_hodges_lehmann_is_the_median_pairwise_difference_with_mann_whitney_ends(x: list[float],
                                                                                 y: list[float]) -> None:
    """The shift is the median of all differences; the ends are the order statistics the critical value names."""
    pairs = np.sort((np.array(y)[:, None] - np.array(x)[None, :]).ravel())
    shift, lower, upper, _ = hodges_lehmann(np.array(x), np.array(y), 0.05)
    assert shift == float(np.median(pairs))
    _, ties = np.unique(np.array(x + y), return_counts=True)
    c = mann_whitney_critical(len(x), len(y), 0.05, float((ties.astype(float) ** 3 - ties).sum()))
    if c >= 0:
        assert (lower, upper) == (pairs[c], pairs[len(pairs) - c - 1])
    else:
        assert (lower, upper) == (-math.inf, math.inf)


def test_hodges_lehmann_handles_all_tied_values() -> None:
    """Identical values in both arms (Kayenta's crash) give a zero shift and a zero-width interval, no error."""
    assert hodges_lehmann(np.full(500, 3.0), np.full(400, 3.0), 0.05)[:3] == (0.0, 0.0, 0.0)


def test_holm_keeps_the_family_wise_false_fail_rate_below_alpha() -> None:
    """Three metrics, all as good as the control (margin 0): Holm's step-down fails some metric in at most alpha."""
    rng = np.random.default_rng(8)
    k, per_look, p = 3, 2500, 0.05
    rho = optimal_rho(1000, ALPHA)
    n_arm = per_look * np.arange(1, LOOKS + 1, dtype=float)
    levels = ALPHA / np.arange(1, k + 1)
    uppers = []
    for _ in range(k):
        c = rng.binomial(per_look, p, size=(CANARIES, LOOKS)).cumsum(axis=1) / n_arm
        t = rng.binomial(per_look, p, size=(CANARIES, LOOKS)).cumsum(axis=1) / n_arm
        sigma = np.sqrt(2 * n_arm * (c * (1 - c) + t * (1 - t)) / n_arm)
        half = np.stack([half_width(2 * n_arm, sigma, rho, a) for a in levels], axis=-1)
        uppers.append((t - c)[..., None] + half)  # (canaries, looks, levels)
    upper = np.stack(uppers, axis=-2)  # (canaries, looks, metrics, levels)
    failed = np.zeros(upper.shape[:3], dtype=bool)
    for _ in range(k):  # the step-down: with r not yet failed, fail those below 0 at alpha / r
        remaining = k - failed.sum(axis=-1, keepdims=True)
        at_level = np.take_along_axis(upper, np.clip(remaining - 1, 0, k - 1)[..., None].repeat(k, -2), axis=-1)
        failed |= at_level[..., 0] < 0
    assert _within(failed.any(axis=(1, 2)).mean(), ALPHA)


def test_assess_canary_uses_the_sequence_the_simulations_check() -> None:
    """For a 0/1 rate, `assess_canary`'s sequential interval is the one the simulations above evaluate."""
    import polars as pl

    from guardrails.checks import CanarySpec, assess_canary
    from guardrails.checks.canary import Margin, MetricSpec

    n, control, candidate = 30_000, 1_500, 1_410
    frame = pl.DataFrame({"variant": ["control"] * n + ["candidate"] * n,
                          "hit": [True] * control + [False] * (n - control) + [True] * candidate
                          + [False] * (n - candidate)})
    metric = MetricSpec(name="hit", kind="rate", column="hit", direction="higher_is_better",
                        margin=Margin("absolute", 0.001))
    got = assess_canary(frame, CanarySpec(metrics=(metric,))).metrics[0].sequential
    pc, pt = control / n, candidate / n

    def var(x: int) -> float:  # as in `_simulate_rate`: the binomial variance, floored by the smoothed rate's
        rate, smoothed = x / n, (x + 1) / (n + 2)
        return max(rate * (1 - rate) * n / (n - 1), smoothed * (1 - smoothed)) / n

    sigma = math.sqrt(2 * n * (var(control) + var(candidate)))
    half = float(half_width(2 * n, sigma, optimal_rho(1000, ALPHA), ALPHA))
    assert (got.lower, got.upper) == pytest.approx((pt - pc - half, pt - pc + half), rel=1e-9)
