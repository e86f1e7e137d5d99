"""Metrics per period from confusion counts and score histograms computed in polars, with their intervals.

One routine serves the realized metrics (the positive weight of a unit is its outcome, 0 or 1) and the
label-free estimate (its calibrated probability): the confusion matrix is ``sum(w)`` and ``sum(1 - w)`` over
predicted positives and negatives, the ROC AUC is the Mann-Whitney sum over distinct scores (ties count half,
as scikit-learn's trapezoidal ``roc_auc_score``). Python loops only over periods and small count tables.

Intervals (`IntervalMethod`), at the spec's confidence:

- precision, recall: Wilson score interval on the confusion counts (realized);
- ROC AUC: Hanley-McNeil standard error (analytic, normal; realized);
- log loss: normal interval from the per-unit losses' standard deviation (central limit theorem);
- F1 and ECE: percentile bootstrap, 2,000 multinomial resamples of the confusion cells (F1) or of the
  score-bin x outcome cells (ECE; a unit's score is its cell's mean score), seed 0, so results repeat exactly.
  The plug-in ECE is biased upward (noise never cancels inside |.|), so when the true ECE is near zero its
  percentile interval can sit just above the value;
- estimated precision, recall, F1: the spread of the realized value if outcomes follow the calibrated
  probabilities (Poisson-binomial counts, delta method); it does not include the calibration's own error.
  Estimated ROC AUC has no interval.

ECE uses 10 equal-width bins with scikit-learn's `calibration_curve` edges (``linspace(0, 1 + 1e-8, 11)``, a
score on an inner edge goes to the lower bin), weighted by bin size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import polars as pl
from statistics import NormalDist

from guardrails.checks.performance._labels import OUTCOME, PERIOD, SCORE
from guardrails.checks.performance._spec import Metric

WEIGHT = "__weight"
BOOTSTRAP_DRAWS = 2000
BINS = 10
_EDGES = np.linspace(0.0, 1.0 + 1e-8, BINS + 1)
_EPS = 1e-15  # scikit-learn's log_loss clips at the dtype's eps; 1e-15 keeps log(0) finite the same way


class IntervalMethod(StrEnum):
    """How an interval was computed (each value says it in the report)."""

    WILSON = "wilson"
    HANLEY_MCNEIL = "hanley_mcneil"
    NORMAL = "normal"
    BOOTSTRAP = "bootstrap"
    POISSON_BINOMIAL = "poisson_binomial"
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricValue:
    """One metric on one period: its value (None: undefined, e.g. no predicted positive), interval and method."""

    value: float | None
    low: float | None = None
    high: float | None = None
    method: IntervalMethod = IntervalMethod.NONE
    n: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", IntervalMethod(self.method))


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: float, trials: float, confidence: float) -> tuple[float, float]:
    """Wilson score interval of a proportion.

    Example:
        >>> [round(x, 4) for x in wilson(80, 100, 0.95)]
        [0.7112, 0.8666]
    """
    z = _z(confidence)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def hanley_mcneil(auc: float, positives: float, negatives: float, confidence: float) -> tuple[float, float]:
    """Hanley & McNeil (1982) normal interval of a ROC AUC, clipped to [0, 1]."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (
        positives * negatives)
    half = _z(confidence) * math.sqrt(max(variance, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


def _percentile(draws: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return None, None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


@dataclass(frozen=True, slots=True)
class _Counts:
    """Confusion counts of one period (floats: the estimate's are expected counts)."""

    tp: float
    fp: float
    fn: float
    tn: float
    var_tp: float = 0.0  # estimate only: the Poisson-binomial variance of the counts among predicted positives
    var_fn: float = 0.0  # ... and among predicted negatives


def confusion_by_period(frame: pl.DataFrame, weight: pl.Expr, threshold: float) -> dict[int, _Counts]:
    """Expected (or realized, for 0/1 weights) confusion counts per period, one polars aggregation."""
    predicted = pl.col(SCORE) >= threshold
    table = frame.lazy().with_columns(weight.alias(WEIGHT)).group_by(PERIOD).agg(
        tp=pl.col(WEIGHT).filter(predicted).sum(),
        fp=(1 - pl.col(WEIGHT)).filter(predicted).sum(),
        fn=pl.col(WEIGHT).filter(~predicted).sum(),
        tn=(1 - pl.col(WEIGHT)).filter(~predicted).sum(),
        var_tp=(pl.col(WEIGHT) * (1 - pl.col(WEIGHT))).filter(predicted).sum(),
        var_fn=(pl.col(WEIGHT) * (1 - pl.col(WEIGHT))).filter(~predicted).sum(),
    ).collect()
    return {row[PERIOD]: _Counts(**{k: float(row[k] or 0.0) for k in ("tp", "fp", "fn", "tn", "var_tp", "var_fn")})
            for row in table.iter_rows(named=True)}


def _dense_periods(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's period as an index 0..K-1, and the period numbers in index order (one pass, no sort)."""
    numbers = frame[PERIOD].to_numpy()
    low, high = int(numbers.min()), int(numbers.max())
    if high - low < 1_000_000:
        present = np.flatnonzero(np.bincount(numbers - low, minlength=high - low + 1))
        lookup = np.full(high - low + 1, -1, dtype=np.int64)
        lookup[present] = np.arange(len(present))
        return lookup[numbers - low], present + low
    periods, index = np.unique(numbers, return_inverse=True)  # periods scattered over a huge range: sort once
    return index, periods


def auc_by_period(frame: pl.DataFrame, dense: tuple[np.ndarray, np.ndarray] | None = None,
                  ) -> dict[int, tuple[float | None, float, float]]:
    """Exact ROC AUC per period from 0/1 outcomes (None when a class is absent), with positives and negatives.

    Units are grouped by period with a radix sort on the period's index (linear), then in each period only the
    negatives' scores are sorted and each positive finds the negatives below and tied with it by binary search
    (its queries sorted too, so the searches walk memory in order): AUC = sum(neg below + tied / 2) / (P * N),
    ties counted half as scikit-learn's `roc_auc_score` does. Python loops over periods only.
    """
    if frame.height == 0:
        return {}
    index, periods = dense if dense is not None else _dense_periods(frame)
    score = frame[SCORE].to_numpy()
    positive = frame[OUTCOME].to_numpy().astype(bool)
    counts = np.bincount(index, minlength=len(periods))
    if len(periods) > 1:
        order = np.argsort(index.astype(np.uint16 if len(periods) <= 65_536 else np.int64), kind="stable")
        score, positive = score[order], positive[order]
    out = {}
    for i, (first, last) in enumerate(zip(np.cumsum(counts) - counts, np.cumsum(counts), strict=True)):
        scores, positives = score[first:last], positive[first:last]
        negatives = pl.Series(scores[~positives]).sort().to_numpy()  # polars sorts in parallel
        queries = np.sort(scores[positives])
        below = np.searchsorted(negatives, queries, side="left")
        through = np.searchsorted(negatives, queries, side="right")
        p, n = float(queries.size), float(negatives.size)
        pairs = float(below.sum() + (through - below).sum() / 2)
        out[int(periods[i])] = (pairs / (p * n) if p > 0 and n > 0 else None, p, n)
    return out


AUC_CELLS = 1 << 22  # score bins x periods for the estimated AUC: 65,536 bins a period up to 64 periods


def expected_auc_by_period(frame: pl.DataFrame, calibrated: str) -> dict[int, tuple[float | None, float]]:
    """The ROC AUC expected from calibrated probabilities, per period, and the bound of its binning error.

    Every unit is a positive with weight p and a negative with weight 1 - p (p its calibrated probability),
    ranked by its score. Scores are binned (65,536 bins a period, fewer with many periods): pairs inside one bin
    count half, so the value is within `error` (sum over bins of pos x neg / (2 P N), returned) of the unbinned one.
    """
    if frame.height == 0:
        return {}
    index, periods = _dense_periods(frame)
    bins = int(min(65_536, max(256, AUC_CELLS // len(periods))))
    cell = index * bins + np.minimum((frame[SCORE].to_numpy() * bins).astype(np.int64), bins - 1)
    weight = frame[calibrated].to_numpy()
    pos = np.bincount(cell, weights=weight, minlength=len(periods) * bins).reshape(len(periods), bins)
    neg = np.bincount(cell, weights=1 - weight, minlength=len(periods) * bins).reshape(len(periods), bins)
    below = np.cumsum(neg, axis=1) - neg
    pairs = (pos * (below + neg / 2)).sum(axis=1)
    inside = (pos * neg).sum(axis=1) / 2
    total_pos, total_neg = pos.sum(axis=1), neg.sum(axis=1)
    out = {}
    for i, period in enumerate(periods):
        both = total_pos[i] * total_neg[i]
        out[int(period)] = ((float(pairs[i] / both), float(inside[i] / both)) if both > 0 else (None, 0.0))
    return out


def _loss() -> pl.Expr:
    """Per-unit log loss, one logarithm a unit: -log(p) for a positive, -log(1 - p) for a negative."""
    p = pl.col(SCORE).clip(_EPS, 1 - _EPS)  # clipped first, as scikit-learn's log_loss does
    return -pl.when(pl.col(OUTCOME) == 1).then(p).otherwise(1 - p).log()


def realized_by_period(frame: pl.DataFrame, threshold: float, confidence: float) -> dict[int, dict[Metric, MetricValue]]:
    """Every metric on the mature units of each period (`frame` holds only mature units, `OUTCOME` 0/1)."""
    outcome = pl.col(OUTCOME).cast(pl.Float64)
    counts = confusion_by_period(frame, outcome, threshold)
    dense = _dense_periods(frame) if frame.height else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    aucs = auc_by_period(frame, dense)
    losses = {row[PERIOD]: row for row in frame.lazy().select(PERIOD, _loss().alias("__loss")).group_by(PERIOD).agg(
        mean=pl.col("__loss").mean(), std=pl.col("__loss").std(), n=pl.len()).collect().iter_rows(named=True)}
    # ECE cells (period x score bin x outcome): counts and score sums by one bincount each, no hashing.
    index, periods = dense
    score = frame[SCORE].to_numpy()
    cell = (index * BINS + np.searchsorted(_EDGES[1:-1], score, side="left")) * 2 + frame[OUTCOME].to_numpy()
    size = len(periods) * BINS * 2
    cell_counts = np.bincount(cell, minlength=size).reshape(len(periods), BINS * 2).astype(np.float64)
    cell_scores = np.bincount(cell, weights=score, minlength=size).reshape(len(periods), BINS * 2)
    row_of = {int(p): i for i, p in enumerate(periods)}
    rng = np.random.default_rng(0)
    out: dict[int, dict[Metric, MetricValue]] = {}
    for period, c in counts.items():
        n = int(round(c.tp + c.fp + c.fn + c.tn))
        values: dict[Metric, MetricValue] = {}
        for metric, hits, trials in ((Metric.PRECISION, c.tp, c.tp + c.fp), (Metric.RECALL, c.tp, c.tp + c.fn)):
            if trials > 0:
                low, high = wilson(hits, trials, confidence)
                values[metric] = MetricValue(value=hits / trials, low=low, high=high, method=IntervalMethod.WILSON,
                                             n=int(round(trials)))
            else:
                values[metric] = MetricValue(value=None, n=0)
        values[Metric.F1] = _f1(c, n, rng, confidence)
        auc, positives, negatives = aucs.get(period, (None, 0.0, 0.0))
        if auc is None:
            values[Metric.ROC_AUC] = MetricValue(value=None, n=n)
        else:
            low, high = hanley_mcneil(auc, positives, negatives, confidence)
            values[Metric.ROC_AUC] = MetricValue(value=auc, low=low, high=high, method=IntervalMethod.HANLEY_MCNEIL,
                                                 n=n)
        loss = losses[period]
        half = _z(confidence) * (loss["std"] or 0.0) / math.sqrt(loss["n"])
        values[Metric.LOG_LOSS] = MetricValue(value=loss["mean"], low=max(0.0, loss["mean"] - half),
                                              high=loss["mean"] + half, method=IntervalMethod.NORMAL, n=loss["n"])
        values[Metric.ECE] = _ece(cell_counts[row_of[period]], cell_scores[row_of[period]], n, rng, confidence)
        out[period] = values
    return out


def _f1(c: _Counts, n: int, rng: np.random.Generator, confidence: float) -> MetricValue:
    value = _ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn)
    if value is None or n == 0:
        return MetricValue(value=value, n=n)
    draws = rng.multinomial(n, np.array([c.tp, c.fp, c.fn, c.tn]) / n, size=BOOTSTRAP_DRAWS).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = 2 * draws[:, 0] / (2 * draws[:, 0] + draws[:, 1] + draws[:, 2])
    low, high = _percentile(f1, confidence)
    return MetricValue(value=value, low=low, high=high, method=IntervalMethod.BOOTSTRAP, n=n)


def _ece(counts: np.ndarray, scores: np.ndarray, n: int, rng: np.random.Generator,
         confidence: float) -> MetricValue:
    """ECE from one period's (bin, outcome) cells, cell j being bin j // 2 and outcome j % 2: the sum over bins of
    |positives - sum of scores| / n. The bootstrap resamples cell counts; a unit keeps its cell's mean score."""
    present = np.flatnonzero(counts)
    counts, scores = counts[present], scores[present]
    bins, outcome = present // 2, (present % 2).astype(np.float64)
    gap_per_unit = outcome - scores / counts

    def ece(weights: np.ndarray) -> np.ndarray:  # weights: (draws, cells) counts
        gap = np.zeros((weights.shape[0], BINS))
        for column in range(len(bins)):  # cells, at most 2 x BINS
            gap[:, bins[column]] += weights[:, column] * gap_per_unit[column]
        return np.abs(gap).sum(axis=1) / weights.sum(axis=1)

    value = float(ece(counts[None, :])[0])
    draws = rng.multinomial(n, counts / counts.sum(), size=BOOTSTRAP_DRAWS).astype(np.float64)
    low, high = _percentile(ece(draws), confidence)
    return MetricValue(value=value, low=low, high=high, method=IntervalMethod.BOOTSTRAP, n=n)


def estimated_by_period(frame: pl.DataFrame, calibrated: str, threshold: float,
                        confidence: float) -> dict[int, dict[Metric, MetricValue]]:
    """Precision, recall, F1 and ROC AUC expected from calibrated probabilities (column `calibrated`), per period."""
    weight = pl.col(calibrated)
    counts = confusion_by_period(frame, weight, threshold)
    aucs = expected_auc_by_period(frame, calibrated)
    z = _z(confidence)
    out: dict[int, dict[Metric, MetricValue]] = {}
    for period, c in counts.items():
        n = int(round(c.tp + c.fp + c.fn + c.tn))
        values: dict[Metric, MetricValue] = {}
        predicted = c.tp + c.fp  # fixed by the scores: only TP among them is random
        precision = _ratio(c.tp, predicted)
        sd = math.sqrt(c.var_tp) / predicted if predicted > 0 else 0.0
        values[Metric.PRECISION] = _normal(precision, sd, z, n)
        positives = c.tp + c.fn
        recall = _ratio(c.tp, positives)
        sd = math.sqrt(c.fn ** 2 * c.var_tp + c.tp ** 2 * c.var_fn) / positives ** 2 if positives > 0 else 0.0
        values[Metric.RECALL] = _normal(recall, sd, z, n)
        denominator = c.tp + predicted + c.fn
        f1 = _ratio(2 * c.tp, denominator)
        sd = (2 * math.sqrt((predicted + c.fn) ** 2 * c.var_tp + c.tp ** 2 * c.var_fn) / denominator ** 2
              if denominator > 0 else 0.0)
        values[Metric.F1] = _normal(f1, sd, z, n)
        auc = aucs.get(period, (None, 0.0))[0]
        values[Metric.ROC_AUC] = MetricValue(value=auc, n=n)
        out[period] = values
    return out


def _normal(value: float | None, sd: float, z: float, n: int) -> MetricValue:
    if value is None:
        return MetricValue(value=None, n=n)
    return MetricValue(value=value, low=max(0.0, value - z * sd), high=min(1.0, value + z * sd),
                       method=IntervalMethod.POISSON_BINOMIAL, n=n)


def label_rates(frame: pl.DataFrame, weight: pl.Expr) -> dict[int, tuple[float, int]]:
    """Mean positive weight (the label rate, realized or expected) and units per period."""
    table = frame.group_by(PERIOD).agg(rate=weight.mean(), n=pl.len())
    return {row[PERIOD]: (float(row["rate"]), int(row["n"])) for row in table.iter_rows(named=True)}
