"""Realized metrics agree with scikit-learn on any data, ignore row order, and carry intervals that say their method."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest
from sklearn.calibration import calibration_curve
from sklearn.metrics import f1_score, log_loss, precision_score, recall_score, roc_auc_score

from guardrails.checks.performance import IntervalMethod, Metric
from guardrails.checks.performance._labels import OUTCOME, PERIOD, SCORE
from guardrails.checks.performance._metrics import expected_auc_by_period, realized_by_period, wilson

scores = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 0.1, 0.2, 0.5, 0.7, 1.0]))
"""Probabilities, often tied and often on a calibration bin's edge, where implementations disagree first."""


@st.composite
def labelled(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Scores and 0/1 outcomes with both classes present."""
    n = draw(st.integers(2, 60))
    score = np.array(draw(st.lists(scores, min_size=n, max_size=n)))
    outcome = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    outcome[0], outcome[1] = 0, 1
    return score, outcome


def frame_of(score: np.ndarray, outcome: np.ndarray, period: int = 0) -> pl.DataFrame:
    return pl.DataFrame({PERIOD: np.full(len(score), period, dtype=np.int64), SCORE: score.astype(np.float64),
                         OUTCOME: outcome.astype(np.int8)})


def sklearn_ece(score: np.ndarray, outcome: np.ndarray) -> float:
    """ECE from scikit-learn's reliability diagram: |observed - predicted| per non-empty bin, weighted by size."""
    observed, predicted = calibration_curve(outcome, score, n_bins=10, strategy="uniform")
    sizes = np.bincount(np.searchsorted(np.linspace(0, 1 + 1e-8, 11)[1:-1], score), minlength=10)
    return float((np.abs(observed - predicted) * sizes[sizes > 0]).sum() / len(score))


@given(labelled(), st.sampled_from([0.3, 0.5, 0.7]))
def test_metrics_match_scikit_learn(data: tuple[np.ndarray, np.ndarray], threshold: float) -> None:
    """Precision, recall, F1, ROC AUC, log loss and ECE equal scikit-learn's on the same scores and outcomes."""
    score, outcome = data
    values = realized_by_period(frame_of(score, outcome), threshold, 0.95)[0]
    predicted = (score >= threshold).astype(int)
    if predicted.sum():
        assert values[Metric.PRECISION].value == pytest.approx(precision_score(outcome, predicted), abs=1e-12)
    else:
        assert values[Metric.PRECISION].value is None
    assert values[Metric.RECALL].value == pytest.approx(recall_score(outcome, predicted), abs=1e-12)
    if predicted.sum():
        assert values[Metric.F1].value == pytest.approx(f1_score(outcome, predicted), abs=1e-12)
    assert values[Metric.ROC_AUC].value == pytest.approx(roc_auc_score(outcome, score), abs=1e-12)
    assert values[Metric.LOG_LOSS].value == pytest.approx(log_loss(outcome, np.clip(score, 1e-15, 1 - 1e-15)),
                                                            rel=1e-9, abs=1e-9)
    assert values[Metric.ECE].value == pytest.approx(sklearn_ece(score, outcome), abs=1e-12)


@given(labelled(), st.randoms(use_true_random=False))
def test_metrics_ignore_row_order(data: tuple[np.ndarray, np.ndarray], random) -> None:
    """Shuffling the units changes no metric."""
    score, outcome = data
    order = list(range(len(score)))
    random.shuffle(order)
    first = realized_by_period(frame_of(score, outcome), 0.5, 0.95)[0]
    second = realized_by_period(frame_of(score[order], outcome[order]), 0.5, 0.95)[0]
    for metric in Metric:
        a, b = first[metric].value, second[metric].value
        assert (a is None and b is None) or a == pytest.approx(b, abs=1e-12), metric


@given(labelled(), labelled())
def test_periods_are_computed_apart(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]) -> None:
    """Two periods in one frame give each the metrics it has alone (the AUC key never mixes periods)."""
    both = pl.concat([frame_of(*first, period=20_000), frame_of(*second, period=20_003)])
    together = realized_by_period(both, 0.5, 0.95)
    assert together[20_000][Metric.ROC_AUC].value == pytest.approx(roc_auc_score(first[1], first[0]), abs=1e-9)
    assert together[20_003][Metric.ROC_AUC].value == pytest.approx(roc_auc_score(second[1], second[0]), abs=1e-9)


def test_intervals_say_their_method_and_cover_the_value() -> None:
    """Wilson for precision and recall, Hanley-McNeil for AUC, normal for log loss, bootstrap for F1 and ECE."""
    rng = np.random.default_rng(0)
    score = rng.uniform(size=5000)
    outcome = (rng.uniform(size=5000) < score).astype(int)
    values = realized_by_period(frame_of(score, outcome), 0.5, 0.95)[0]
    methods = {m: values[m].method for m in Metric}
    assert methods == {Metric.PRECISION: IntervalMethod.WILSON, Metric.RECALL: IntervalMethod.WILSON,
                       Metric.F1: IntervalMethod.BOOTSTRAP, Metric.ROC_AUC: IntervalMethod.HANLEY_MCNEIL,
                       Metric.LOG_LOSS: IntervalMethod.NORMAL, Metric.ECE: IntervalMethod.BOOTSTRAP}
    for metric in (Metric.PRECISION, Metric.RECALL, Metric.F1, Metric.ROC_AUC, Metric.LOG_LOSS):
        assert values[metric].low < values[metric].value < values[metric].high, metric
    assert 0.0 <= values[Metric.ECE].low < values[Metric.ECE].high < 0.06


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))), st.sampled_from([0.9, 0.95]))
def test_wilson_matches_scipy(counts: tuple[int, int], confidence: float) -> None:
    """Our Wilson interval is scipy's `binomtest(...).proportion_ci(method="wilson")`."""
    k, n = counts
    expected = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    low, high = wilson(k, n, confidence)
    assert low == pytest.approx(expected.low, abs=1e-9) and high == pytest.approx(expected.high, abs=1e-9)


def test_hanley_mcneil_interval_covers_the_true_auc_at_its_level() -> None:
    """Across 120 seeded samples with known AUC, the 95% interval covers the truth about 95% of the time."""
    covered = 0
    for seed in range(120):
        sample = np.random.default_rng(seed)
        negatives, positives = sample.normal(0, 1, 300), sample.normal(1, 1, 100)
        score = 1 / (1 + np.exp(-np.concatenate([negatives, positives])))
        outcome = np.concatenate([np.zeros(300, int), np.ones(100, int)])
        auc = realized_by_period(frame_of(score, outcome), 0.5, 0.95)[0][Metric.ROC_AUC]
        covered += auc.low <= 0.7602 <= auc.high  # Phi(1 / sqrt(2)): the AUC of N(1, 1) against N(0, 1)
    assert 0.89 <= covered / 120 <= 0.99


def test_expected_auc_is_the_auc_of_outcomes_drawn_from_the_probabilities() -> None:
    """With calibrated probabilities, the expected AUC is within 0.01 of the AUC of outcomes drawn from them."""
    rng = np.random.default_rng(2)
    score = rng.beta(2, 5, 200_000)
    outcome = (rng.uniform(size=score.size) < score).astype(int)
    frame = frame_of(score, outcome).with_columns(pl.col(SCORE).alias("p"))
    expected, error = expected_auc_by_period(frame, "p")[0]
    assert expected == pytest.approx(roc_auc_score(outcome, score), abs=0.01)
    assert error < 1e-4
    assert not math.isnan(expected)
