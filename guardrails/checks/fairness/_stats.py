"""Rates, bootstrap resamples of confusion counts, and the max-statistic that makes many segments safe to search.

Everything here works on counts (numpy arrays of shape ``(segments, 4)``), vectorized over resamples.

**Resampling.** A Poisson bootstrap of the rows is a Poisson draw of each segment's cell counts: cell count ``c``
becomes ``Poisson(c)``, independently (the rows of one column's segments are disjoint). One draw of shape
``(resamples, segments, 4)`` per segment column gives every metric of every segment in every resample. Different
columns are drawn independently although their rows are the same ones: the maximum over columns then comes out
larger than it would with the columns moving together, so the critical value errs on the safe (wider) side.

**Why a max-statistic.** The largest gap between k segments is the range of k noisy rates; with many small
segments the range of pure noise is large (50 segments of 200 rows at a 10 % rate: about 0.12), so judging the
observed range, or a bootstrap interval of it, raises false alarms. Instead, in every resample each pair of
segments' deviation ``(m*_i - m_i) - (m*_j - m_j)`` is divided by that pair's standard error in that resample
(a bootstrap-t) and the largest of these over every pair, every metric and every segment column judged is kept: that recomputes, in each resample,
which gap deviates most. Its ``confidence`` quantile ``c`` gives simultaneous intervals ``m_i - m_j +- c*se_ij``
for every pair at once, so

- the largest gap lies in ``[max(0, max(m_i - m_j - c*se_ij)), max(m_i - m_j + c*se_ij)]`` for whichever pair it
  is, with family-wise confidence over everything judged;
- a gate fails only when that lower bound exceeds the tolerance: then some pair is shown to be further apart than
  tolerated, and the chance of saying so when no pair is (a false alarm) is at most ``1 - confidence``, however
  many segments were searched (the single-step max-T method of Westfall and Young, by bootstrap);
- worst-segment discovery compares each segment with the pooled rest of its column (`Contrasts`), with its own
  max-statistic over every segment, metric and column: a segment is flagged ``low`` / ``high`` when it is shown
  below / above the rest by more than the tolerance, and its adjusted p-value is the share of resamples whose
  maximum reaches its own ``(|m_s - m_rest| - tolerance) / se_s``. Many small segments raise the critical value
  instead of raising false flags.

Standard errors are binomial with one added success and failure (``p~ = (x+1)/(n+2)``), so a segment whose rate
happens to be 0 or 1 still has a width; ratios are judged on the log of half-count-smoothed rates
(``(x+0.5)/(n+1)``), so a zero rate stays finite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from guardrails.checks.fairness._counts import FN, FP, TN, TP

PARTS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "selection_rate": ((FP, TP), (TN, FP, FN, TP)),
    "precision": ((TP,), (FP, TP)),
    "recall": ((TP,), (FN, TP)),
    "false_positive_rate": ((FP,), (TN, FP)),
}
"""Each metric as (numerator cells, denominator cells)."""

PAIR_BLOCK = 4_000_000
"""Largest (resamples x segments x segments) array built at once; larger work goes in blocks of resamples."""


def parts(cells: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator of `metric` over the last axis of `cells` (any leading shape)."""
    numerator, denominator = PARTS[metric]
    return cells[..., list(numerator)].sum(axis=-1), cells[..., list(denominator)].sum(axis=-1)


def rate(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


def transformed(numerator: np.ndarray, denominator: np.ndarray, log: bool) -> tuple[np.ndarray, np.ndarray]:
    """(value, standard error) on the judged scale: the rate itself, or the log of the smoothed rate."""
    if log:
        p = (numerator + 0.5) / (denominator + 1.0)
        return np.log(p), np.sqrt((1 - p) / (p * (denominator + 1.0)))
    p = (numerator + 1.0) / (denominator + 2.0)
    return rate(numerator, denominator), np.sqrt(p * (1 - p) / (denominator + 2.0))


def resample(cells: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Poisson bootstrap of cell counts: shape ``(resamples, *cells.shape)``."""
    return rng.poisson(cells, size=(resamples, *cells.shape))


@dataclass(frozen=True, slots=True)
class Family:
    """One judged family: a segment column's eligible segments on one metric and one scale (difference or log).

    `value` / `se` are the observed values and standard errors, shape (..., segments), `deviations` the resampled
    values minus the observed ones, shape (..., resamples, segments); NaN (a resample with an empty denominator)
    counts as no deviation. Leading axes (``...``) are independent batches: the gate has none, simulations stack
    thousands of replicated data sets there and judge them in one call.
    """

    value: np.ndarray
    se: np.ndarray
    deviations: np.ndarray
    drawn_se: np.ndarray

    @classmethod
    def of(cls, numerator: np.ndarray, denominator: np.ndarray, drawn_numerator: np.ndarray,
           drawn_denominator: np.ndarray, *, log: bool) -> Family:
        value, se = transformed(numerator, denominator, log)
        drawn, drawn_se = transformed(drawn_numerator, drawn_denominator, log)
        deviations = np.nan_to_num(drawn - value[..., None, :], nan=0.0)
        return cls(value=value, se=se, deviations=deviations, drawn_se=drawn_se)

    def pair_se(self) -> np.ndarray:
        """Standard error of each pairwise difference, shape (..., segments, segments)."""
        return np.sqrt(self.se[..., :, None] ** 2 + self.se[..., None, :] ** 2)

    def max_statistic(self) -> np.ndarray:
        """Per resample, the largest studentized pairwise deviation ``|d*_i - d*_j| / se*_ij``: shape (..., resamples).

        Each resample is divided by its own standard errors (a bootstrap-t): with a fixed divisor the maximum over
        50 segments of 400 rows was exceeded 7.3 % of the time at a nominal 5 % (1,500 simulated data sets);
        studentized, 4.9 % (tests/checks/test_fairness.py runs 300 of them).
        """
        # float32: a critical value needs no more digits, and the pairwise arrays are the whole cost.
        k = self.value.shape[-1]
        deviations = self.deviations.astype(np.float32)
        variances = (self.drawn_se ** 2).astype(np.float32)
        resamples = deviations.shape[-2]
        out = np.empty(deviations.shape[:-1], dtype=np.float32)
        batch = int(np.prod(self.value.shape[:-1], dtype=np.int64))
        step = max(1, PAIR_BLOCK // max(1, batch * k * k))
        for start in range(0, resamples, step):
            d = deviations[..., start:start + step, :]
            v = variances[..., start:start + step, :]
            pairs = np.abs(d[..., :, None] - d[..., None, :]) / np.sqrt(v[..., :, None] + v[..., None, :])
            out[..., start:start + step] = pairs.max(axis=(-2, -1))
        return out.astype(np.float64)

    def gap_bounds(self, critical: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Simultaneous bounds of the largest gap: ``max(0, max(d_ij - c*se_ij))`` and ``max(d_ij + c*se_ij)``.

        Shape (...) each (floats for an unbatched family); `critical` broadcasts against the leading axes.
        """
        d = self.value[..., :, None] - self.value[..., None, :]
        half = np.asarray(critical)[..., None, None] * self.pair_se()
        off = ~np.eye(self.value.shape[-1], dtype=bool)
        lower = np.where(off, d - half, -np.inf).max(axis=(-2, -1))
        upper = np.where(off, d + half, -np.inf).max(axis=(-2, -1))
        return np.maximum(lower, 0.0), upper


@dataclass(frozen=True, slots=True)
class Contrasts:
    """Worst-segment discovery: each judged segment against the pooled rest of its column (``m_s - m_rest``).

    The same bootstrap-t as `Family`, over segments instead of pairs: one segment far off the others is found
    as that one segment (a pairwise view would also call every other segment "high"). Shapes as in `Family`.
    """

    value: np.ndarray
    se: np.ndarray
    deviations: np.ndarray
    drawn_se: np.ndarray

    @classmethod
    def of(cls, numerator: np.ndarray, denominator: np.ndarray, drawn_numerator: np.ndarray,
           drawn_denominator: np.ndarray, *, log: bool) -> Contrasts:
        def contrast(n: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            mine, mine_se = transformed(n, d, log)
            rest, rest_se = transformed(n.sum(axis=-1, keepdims=True) - n, d.sum(axis=-1, keepdims=True) - d, log)
            return mine - rest, np.sqrt(mine_se ** 2 + rest_se ** 2)

        value, se = contrast(numerator, denominator)
        drawn, drawn_se = contrast(drawn_numerator, drawn_denominator)
        deviations = np.nan_to_num(drawn - value[..., None, :], nan=0.0)
        return cls(value=value, se=se, deviations=deviations, drawn_se=drawn_se)

    def max_statistic(self) -> np.ndarray:
        """Per resample, the largest ``|c*_s - c_s| / se*_s`` over segments: shape (..., resamples)."""
        return (np.abs(self.deviations) / self.drawn_se).max(axis=-1)

    def discoveries(self, critical: float, tolerance: float, maxima: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                         np.ndarray]:
        """Per segment (unbatched): shown below the rest by more than `tolerance`, shown above, adjusted p-value.

        `maxima` are the sorted per-resample maxima `critical` came from; the adjusted p-value is the share of them
        reaching the segment's own ``(|c_s| - tolerance) / se_s`` (single-step max-T).
        """
        low = self.value + critical * self.se < -tolerance
        high = self.value - critical * self.se > tolerance
        statistic = (np.abs(self.value) - tolerance) / self.se
        reached = maxima.size - np.searchsorted(maxima, statistic, side="left")
        return low, high, np.minimum((1 + reached) / (1 + maxima.size), 1.0)


def critical_value(maxima: Sequence[np.ndarray], confidence: float) -> tuple[Any, np.ndarray]:
    """The `confidence` quantile of the per-resample maximum over every family, and those maxima sorted.

    Each of `maxima` has shape (..., resamples); the quantile has shape (...) (a float when unbatched).
    """
    combined = np.max(np.stack(list(maxima)), axis=0)
    combined.sort(axis=-1)
    quantile = np.quantile(combined, confidence, axis=-1, method="higher")
    return (float(quantile) if quantile.ndim == 0 else quantile), combined


def range_resamples(drawn_numerator: np.ndarray, drawn_denominator: np.ndarray) -> np.ndarray:
    """Per resample, the largest minus the smallest rate (recomputing which pair that is), NaN segments skipped."""
    values = rate(drawn_numerator, drawn_denominator)
    with np.errstate(invalid="ignore"):
        return np.nanmax(values, axis=1) - np.nanmin(values, axis=1)
