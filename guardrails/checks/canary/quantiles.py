"""A confidence sequence for a quantile (Howard & Ramdas 2022, "Sequential estimation of quantiles with
applications to A/B-testing and best-arm identification", Bernoulli 28(3)).

For the ``p``-quantile ``q`` of a continuous distribution, ``#{X_i <= q}`` is a sum of Bernoulli(p) variables
with variance process ``V_n = n p (1 - p)``. Its centred value stays within the normal-mixture boundary
``u(V_n)`` at all times with probability ``1 - alpha`` (asymptotically, as for means), so the order statistics
at ranks ``ceil(n p - u)`` and ``floor(n p + u) + 1`` bracket ``q`` uniformly over time. The mixture is tuned
for ``V = min_units_per_arm * p (1 - p)`` at the spec's alpha.

For the difference of two arms' quantiles we use the conservative construction: each arm's sequence at level
``alpha / 2`` (Bonferroni), and the difference interval ``[L_cand - U_ctrl, U_cand - L_ctrl]``.

Example:
    >>> import numpy as np
    >>> ranks(10_000, 0.95, np.array([0.05]), 1000)[0].tolist()
    [9430, 9571]
"""

from __future__ import annotations

import numpy as np

from guardrails.checks.canary.boundaries import mixture_boundary, optimal_rho

__all__ = ["quantile_bounds", "ranks"]


def ranks(n: int, p: float, alphas: np.ndarray, design_units: float, design_alpha: float = 0.05) -> np.ndarray:
    """For each level in `alphas`, the 1-based ranks (lower, upper) of the order statistics bracketing the quantile.

    A rank below 1 or above `n` means that end is unbounded yet.
    """
    variance = p * (1 - p)
    rho = optimal_rho(max(design_units * variance, 1e-9), design_alpha)
    u = mixture_boundary(n * variance, rho, alphas)
    lower = np.ceil(n * p - u).astype(np.int64)
    upper = np.floor(n * p + u).astype(np.int64) + 1
    return np.stack([lower, upper], axis=-1)


def quantile_bounds(values: np.ndarray, p: float, alphas: np.ndarray, design_units: float,
                    design_alpha: float = 0.05) -> tuple[float, np.ndarray, np.ndarray]:
    """(estimate, lower bounds, upper bounds) of the `p`-quantile of `values`, one bound per level in `alphas`.

    One in-place ``partition`` finds every order statistic needed (O(n)): `values` is reordered, not copied.
    Unbounded ends are -inf / +inf.
    """
    n = len(values)
    if n == 0:
        return float("nan"), np.full(len(alphas), -np.inf), np.full(len(alphas), np.inf)
    bracket = ranks(n, p, alphas, design_units, design_alpha)
    point = max(int(np.ceil(n * p)), 1)
    wanted = sorted({point - 1, *(int(r) - 1 for r in bracket.ravel() if 1 <= r <= n)})
    values.partition(wanted)
    ordered = values
    lower = np.where(bracket[:, 0] >= 1, ordered[np.clip(bracket[:, 0] - 1, 0, n - 1)], -np.inf)
    upper = np.where(bracket[:, 1] <= n, ordered[np.clip(bracket[:, 1] - 1, 0, n - 1)], np.inf)
    return float(ordered[point - 1]), lower, upper
