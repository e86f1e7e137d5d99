"""The sequential sample-ratio-mismatch test of Lindon & Malek (2022), "Anytime-valid inference for multinomial
count data" (NeurIPS).

Under the null the units fall into the arms with the expected proportions ``theta0``. The Bayes factor of a
Dirichlet-multinomial mixture (prior ``Dirichlet(k * theta0)``) against the null,

    BF_n = [B(k theta0 + counts) / B(k theta0)] / prod_i theta0_i ** counts_i      (B: multivariate beta)

is a nonnegative martingale with mean 1 under the null, so ``p = min(1, 1 / BF_n)`` is an anytime-valid
p-value: however often the canary is looked at, a correct split is flagged with probability at most alpha.
``k = 1000`` (`CONCENTRATION`) centres the prior on the expected split with a spread of about 3 %, the size of
imbalance a broken router or a crashing arm produces.

Example:
    >>> round(srm_p_value([5000, 5000], [0.5, 0.5]), 3), srm_p_value([5000, 4000], [0.5, 0.5]) < 1e-10
    (1.0, True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import gammaln

__all__ = ["CONCENTRATION", "srm_p_value", "srm_p_values"]

CONCENTRATION = 1000.0


def _log_beta(v: np.ndarray) -> np.ndarray:
    return gammaln(v).sum(axis=-1) - gammaln(v.sum(axis=-1))


def srm_p_values(counts: np.ndarray, expected: Sequence[float], *,
                 concentration: float = CONCENTRATION) -> np.ndarray:
    """`srm_p_value` over the last axis of `counts` (many canaries or looks at once)."""
    n = np.asarray(counts, dtype=np.float64)
    theta = np.asarray(expected, dtype=np.float64)
    theta = theta / theta.sum()
    prior = concentration * theta
    log_bf = _log_beta(prior + n) - _log_beta(prior) - (n * np.log(theta)).sum(axis=-1)
    return np.minimum(1.0, np.exp(-np.maximum(log_bf, -700.0)))


def srm_p_value(counts: Sequence[float], expected: Sequence[float], *, concentration: float = CONCENTRATION) -> float:
    """The anytime-valid p-value that units split as `expected` (proportions summing to 1), given `counts`."""
    return float(srm_p_values(np.asarray(counts, dtype=np.float64), expected, concentration=concentration))
