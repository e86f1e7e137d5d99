"""Concept drift: realized performance from delayed labels, a label-free estimate, and which drift it is.

- `load_performance_spec` reads ``expectations/<name>.performance.yaml`` into a frozen `PerformanceSpec`
  (refusing a bad spec at load, with file, line and field);
- `assess_performance(predictions, spec, labels, reference_data, drift)` joins the labels that arrived to the
  logged predictions, judges the periods whose labels have matured against the reference with a margin, estimates
  the metrics from calibrated scores where labels are not in yet (confidence-based estimation), and reconciles the
  two into a `Diagnosis` (healthy, concept drift, covariate shift, prior shift, unknown) with its containment.

Modules: `_spec` (the YAML), `_labels` (join, maturity, coverage, delay), `_metrics` (confusion counts and
histograms in polars, intervals), `_estimate` (cross-fitted calibration, scikit-learn), `_diagnosis`, `_report`
(the frozen result and its JSON form), `_assess` (the one entry point).
"""

from guardrails.checks.performance._assess import assess_performance
from guardrails.checks.performance._diagnosis import CONTAINMENT, Diagnosis
from guardrails.checks.performance._estimate import EstimateStatus
from guardrails.checks.performance._labels import LabelStats
from guardrails.checks.performance._metrics import IntervalMethod, MetricValue
from guardrails.checks.performance._report import MetricResult, PerformanceReport, PeriodPerformance
from guardrails.checks.performance._spec import (
    ESTIMABLE,
    Calibration,
    Margin,
    Metric,
    PerformanceSpec,
    load_performance_spec,
)

__all__ = [
    "CONTAINMENT",
    "ESTIMABLE",
    "Calibration",
    "Diagnosis",
    "EstimateStatus",
    "IntervalMethod",
    "LabelStats",
    "Margin",
    "Metric",
    "MetricResult",
    "MetricValue",
    "PerformanceReport",
    "PerformanceSpec",
    "PeriodPerformance",
    "assess_performance",
    "load_performance_spec",
]
