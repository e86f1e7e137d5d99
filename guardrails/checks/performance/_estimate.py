"""The label-free estimate: confidence-based performance estimation (as NannyML's CBPE does), on scikit-learn.

Calibrate the model's scores on labelled reference predictions, then read the expected confusion matrix off
the calibrated probabilities of new predictions (`guardrails.checks.performance._metrics.estimated_by_period`):
a predicted positive with calibrated probability 0.9 adds 0.9 expected true positives and 0.1 false positives.
This holds while the calibration does, i.e. while P(outcome | score) is unchanged: under covariate shift the
estimate follows the realized value; under concept drift it does not, which is how the two are told apart.

The calibration is cross-fitted: the reference's calibration error is measured on out-of-fold calibrated
probabilities (`folds` folds, stratified, seed 0), because isotonic regression evaluated on the rows it was fit
on is perfectly calibrated by construction and would make any reference look good. When that out-of-fold ECE is
above `max_calibration_error`, the estimate could not run and says why. The calibrator applied to new
predictions is then fit on the whole reference.

Covers precision, recall, F1 and ROC AUC (`ESTIMABLE`). ECE cannot be estimated without labels (it is the
calibration the estimate assumes), nor is log loss here. NannyML itself is not a dependency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from guardrails._extras import require_extra
from guardrails.checks.performance._spec import ESTIMABLE, Calibration, Metric, PerformanceSpec

CALIBRATED = "__calibrated"


@dataclass(frozen=True, slots=True, kw_only=True)
class EstimateStatus:
    """Whether the estimate ran, why not, and what it rests on.

    `reference_ece` is the out-of-fold calibration error of the calibrated reference scores; `covers` the
    metrics estimated; `reason` says why it did not run ("" when it ran).
    """

    ran: bool
    reason: str = ""
    calibration: str = ""
    reference_rows: int = 0
    reference_ece: float | None = None
    covers: tuple[Metric, ...] = ESTIMABLE

    def __post_init__(self) -> None:
        object.__setattr__(self, "covers", tuple(Metric(m) for m in self.covers))


class Calibrator:
    """A fitted score -> probability map (isotonic or Platt), applied to a column without a Python loop."""

    def __init__(self, model: Any, kind: Calibration) -> None:
        self.model, self.kind = model, kind

    def apply(self, scores: np.ndarray) -> np.ndarray:
        if self.kind is Calibration.ISOTONIC:
            return np.asarray(self.model.predict(scores), dtype=np.float64)
        return np.asarray(self.model.predict_proba(scores.reshape(-1, 1))[:, 1], dtype=np.float64)


def _fit(scores: np.ndarray, outcomes: np.ndarray, kind: Calibration) -> Calibrator:
    if kind is Calibration.ISOTONIC:
        isotonic = require_extra("sklearn.isotonic", "ml", "the performance estimate")
        model = isotonic.IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, outcomes)
    else:
        linear = require_extra("sklearn.linear_model", "ml", "the performance estimate")
        model = linear.LogisticRegression(C=1e6).fit(scores.reshape(-1, 1), outcomes)
    return Calibrator(model, kind)


def calibration_error(probabilities: np.ndarray, outcomes: np.ndarray, bins: int = 10) -> float:
    """ECE with scikit-learn's `calibration_curve` bins (10 equal-width, weighted by size)."""
    edges = np.linspace(0.0, 1.0 + 1e-8, bins + 1)
    ids = np.searchsorted(edges[1:-1], probabilities)
    total = np.bincount(ids, minlength=bins)
    gap = np.bincount(ids, weights=outcomes - probabilities, minlength=bins)
    return float(np.abs(gap).sum() / max(total.sum(), 1))


def fit_calibration(reference: pl.DataFrame, spec: PerformanceSpec) -> tuple[Calibrator | None, EstimateStatus]:
    """Cross-fit the calibration on the labelled reference (`SCORE`, `OUTCOME` columns, every row labelled)."""
    from guardrails.checks.performance._labels import OUTCOME, SCORE

    described = f"{spec.calibration.value}, {spec.folds}-fold out-of-fold"
    scores = reference[SCORE].to_numpy().astype(np.float64)
    outcomes = reference[OUTCOME].to_numpy().astype(np.float64)
    rows = len(scores)
    positives = int(outcomes.sum())
    if min(positives, rows - positives) < spec.folds:
        return None, EstimateStatus(ran=False, calibration=described, reference_rows=rows, reason=(
            f"the reference has {positives:,} positive and {rows - positives:,} negative outcomes; calibrating "
            f"{spec.folds}-fold needs at least {spec.folds} of each"))
    model_selection = require_extra("sklearn.model_selection", "ml", "the performance estimate")
    folds = model_selection.StratifiedKFold(n_splits=spec.folds, shuffle=True, random_state=0)
    out_of_fold = np.empty(rows)
    for train, test in folds.split(scores, outcomes):  # `folds` iterations, each vectorized
        out_of_fold[test] = _fit(scores[train], outcomes[train], spec.calibration).apply(scores[test])
    ece = calibration_error(out_of_fold, outcomes)
    if ece > spec.max_calibration_error:
        return None, EstimateStatus(ran=False, calibration=described, reference_rows=rows, reference_ece=ece, reason=(
            f"the calibrated reference scores are not calibrated enough to estimate from: out-of-fold ECE "
            f"{ece:.3f} > max_calibration_error {spec.max_calibration_error:g}"))
    return _fit(scores, outcomes, spec.calibration), EstimateStatus(
        ran=True, calibration=described, reference_rows=rows, reference_ece=ece)


def calibrated_column(frame: pl.DataFrame, calibrator: Calibrator) -> pl.DataFrame:
    """`frame` with the calibrated probability of each unit in `CALIBRATED`."""
    from guardrails.checks.performance._labels import SCORE

    return frame.with_columns(pl.Series(CALIBRATED, calibrator.apply(frame[SCORE].to_numpy())))
