"""Anytime-valid boundaries: the two-sided normal mixture of Howard, Ramdas, McAuliffe & Sekhon (2021).

For a process ``S_t`` with variance process ``V_t`` (sub-Gaussian increments), mixing the exponential
supermartingale ``exp(lambda S - lambda^2 V / 2)`` over ``lambda ~ N(0, 1/rho)`` gives the martingale

    M_t = sqrt(rho / (V_t + rho)) * exp(S_t^2 / (2 (V_t + rho)))

and, by Ville's inequality, ``P(exists t: |S_t| >= u(V_t)) <= alpha`` for the closed-form boundary (their eq. 14)

    u(v) = sqrt((v + rho) * log((v + rho) / (rho * alpha^2))).

**Our time and scale.** A canary compares two arms; the estimate of the difference after ``n`` matured units
(both arms) is ``Delta_hat`` with estimated variance ``s^2``. We use intrinsic time ``v = n`` and the
per-unit-equivalent standard deviation ``sigma = sqrt(n) * s``, so the confidence sequence is
``Delta_hat +/- sigma * u(n) / n``: the Gaussian-mixture asymptotic confidence sequence of Waudby-Smith et al.
(2021, "Time-uniform central limit theory"), valid as the variance estimate converges. **Tuning:** ``rho`` is
chosen so that the boundary is tightest at ``n = min_units`` (Howard et al. 2021, Proposition 3(b), via the
Lambert W function), a constant of the spec and never of the data, so it stays the same across looks.

Example:
    >>> rho = optimal_rho(1000, 0.05)
    >>> round(rho, 1), round(float(mixture_boundary(1000, rho, 0.05)), 2)
    (121.8, 95.98)
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from scipy.special import lambertw

_NORMAL = NormalDist()  # the standard normal's quantiles (stdlib: the canary never needs scipy.stats)

__all__ = [
    "half_width",
    "log_mixture",
    "mixture_boundary",
    "optimal_rho",
    "sequential_units",
]


def optimal_rho(v_opt: float, alpha: float) -> float:
    """The mixture parameter that makes ``u(v) / v`` smallest at intrinsic time `v_opt`.

    Setting the derivative of ``(v + rho) log((v + rho) / (rho alpha^2))`` in ``rho`` to zero gives, with
    ``r = (v + rho) / rho``, ``r - log r = 1 - 2 log alpha``; so ``r = -W_{-1}(-alpha^2 / e)`` and
    ``rho = v_opt / (r - 1)``.
    """
    if not (v_opt > 0 and 0 < alpha < 1):
        raise ValueError(f"need v_opt > 0 and 0 < alpha < 1, got {v_opt!r}, {alpha!r}")
    r = float(-lambertw(-(alpha**2) / math.e, k=-1).real)
    return v_opt / (r - 1.0)


def mixture_boundary(v: float | np.ndarray, rho: float, alpha: float | np.ndarray) -> np.ndarray:
    """Howard et al.'s two-sided normal mixture boundary ``sqrt((v + rho) log((v + rho) / (rho alpha^2)))``."""
    v = np.asarray(v, dtype=np.float64)
    total = v + rho
    return np.sqrt(total * np.log(total / (rho * np.asarray(alpha, dtype=np.float64) ** 2)))


def half_width(n: float | np.ndarray, sigma: float | np.ndarray, rho: float,
               alpha: float | np.ndarray) -> np.ndarray:
    """The confidence sequence's half-width on the scale of the estimate: ``sigma * u(n) / n``."""
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, np.asarray(sigma) * mixture_boundary(n, rho, alpha) / np.maximum(n, 1e-300),
                        np.inf)


def log_mixture(s: float | np.ndarray, v: float | np.ndarray, rho: float) -> np.ndarray:
    """``log M`` of the mixture martingale at ``(S, V)``; ``min(1, exp(-log M))`` is an anytime-valid p-value."""
    s, v = np.asarray(s, dtype=np.float64), np.asarray(v, dtype=np.float64)
    return 0.5 * np.log(rho / (v + rho)) + s**2 / (2 * (v + rho))


def sequential_units(gap: float, sigma: float, rho: float, alpha: float, power: float,
                     *, max_units: float = 1e13) -> int | None:
    """Total units at which the confidence sequence excludes the margin with probability `power`.

    `gap` is the distance between the true difference and the margin (``Delta - (-m)`` for a pass, ``-m -
    Delta`` for a fail); `sigma` the per-unit-equivalent standard deviation. The answer is the smallest ``n``
    with ``sigma * (u(n) / n + z_power / sqrt(n)) <= gap``: at that look alone the estimate clears the boundary
    with probability `power`, and the sequential test, which may also stop earlier, does at least as well. A
    fixed-n formula (``(z_alpha + z_power)^2 sigma^2 / gap^2``) would be too small: the boundary is wider than
    a fixed-n critical value. None when no finite number of units suffices (``gap <= 0``) or above `max_units`.
    """
    if not (gap > 0 and math.isfinite(gap)) or not math.isfinite(sigma):
        return None
    if sigma <= 0:
        return 1
    z = _NORMAL.inv_cdf(power)

    def excess(log_n: float) -> float:
        n = math.exp(log_n)
        return sigma * (float(mixture_boundary(n, rho, alpha)) / n + z / math.sqrt(n)) - gap

    if excess(math.log(max_units)) > 0:
        return None
    if excess(0.0) <= 0:
        return 1
    lo, hi = 0.0, math.log(max_units)  # excess(lo) > 0 >= excess(hi): bisect on log n
    while hi - lo > 1e-9:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if excess(mid) > 0 else (lo, mid)
    return math.ceil(math.exp(hi))
