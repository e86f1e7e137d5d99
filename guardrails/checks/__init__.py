"""Checks that judge a batch against a reference and return a `CheckOutcome`: drift, parity, freshness, fairness.

Each module measures, judges against frozen settings (buildable from a contract), and returns an outcome;
adapters (Dagster, Airflow, CLI) only translate. Contract validation lives in `guardrails.validation`.
"""

from guardrails.checks.band import Band
from guardrails.checks.drift import (
    ColumnDrift,
    DriftReport,
    DriftSettings,
    DriftThresholds,
    assess_drift,
    check_drift,
    judge_drift,
    judge_scores,
    render_drift_markdown,
)
from guardrails.checks.fairness import FairnessReport, FairnessSpec, assess_fairness, load_fairness_spec
from guardrails.checks.freshness import FreshnessSettings, check_freshness
from guardrails.checks.parity import FeatureParity, ParityReport, ParitySettings, assess_parity, check_parity
from guardrails.checks.performance import PerformanceReport, PerformanceSpec, assess_performance, load_performance_spec
from guardrails.checks.statistics import ColumnScores, compare_columns

__all__ = [
    "Band",
    "ColumnDrift",
    "ColumnScores",
    "DriftReport",
    "DriftSettings",
    "DriftThresholds",
    "FairnessReport",
    "FairnessSpec",
    "FeatureParity",
    "FreshnessSettings",
    "ParityReport",
    "ParitySettings",
    "PerformanceReport",
    "PerformanceSpec",
    "assess_drift",
    "assess_fairness",
    "assess_parity",
    "assess_performance",
    "check_drift",
    "check_freshness",
    "check_parity",
    "compare_columns",
    "judge_drift",
    "judge_scores",
    "load_fairness_spec",
    "load_performance_spec",
    "render_drift_markdown",
]
