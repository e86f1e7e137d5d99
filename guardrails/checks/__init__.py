"""Checks that judge data against a reference and return a `CheckOutcome`: drift, parity, freshness, fairness, canary,
realized performance.

Each module measures, judges against frozen settings (buildable from a contract), and returns an outcome;
adapters (Dagster, Airflow, CLI) only translate. Contract validation lives in `guardrails.validation`.

The names below load lazily (PEP 562): `guardrails canary` should not pay for scipy.stats and the drift check's
imports at start-up, nor `guardrails fairness` for the canary's. `from guardrails.checks import assess_canary`
imports only `guardrails.checks.canary`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guardrails.checks.band import Band
    from guardrails.checks.canary import CanaryReport, CanarySpec, assess_canary, load_canary_spec
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
    from guardrails.checks.performance import (
        PerformanceReport,
        PerformanceSpec,
        assess_performance,
        load_performance_spec,
    )
    from guardrails.checks.statistics import ColumnScores, compare_columns

_MODULE_OF: dict[str, str] = {
    "Band": "band",
    "CanaryReport": "canary",
    "CanarySpec": "canary",
    "assess_canary": "canary",
    "load_canary_spec": "canary",
    "ColumnDrift": "drift",
    "DriftReport": "drift",
    "DriftSettings": "drift",
    "DriftThresholds": "drift",
    "assess_drift": "drift",
    "check_drift": "drift",
    "judge_drift": "drift",
    "judge_scores": "drift",
    "render_drift_markdown": "drift",
    "FairnessReport": "fairness",
    "FairnessSpec": "fairness",
    "assess_fairness": "fairness",
    "load_fairness_spec": "fairness",
    "FreshnessSettings": "freshness",
    "check_freshness": "freshness",
    "FeatureParity": "parity",
    "ParityReport": "parity",
    "ParitySettings": "parity",
    "assess_parity": "parity",
    "check_parity": "parity",
    "PerformanceReport": "performance",
    "PerformanceSpec": "performance",
    "assess_performance": "performance",
    "load_performance_spec": "performance",
    "ColumnScores": "statistics",
    "compare_columns": "statistics",
}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'guardrails.checks' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"guardrails.checks.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
