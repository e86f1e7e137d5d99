"""Canary analysis: judge a candidate model on live per-unit outcomes with anytime-valid statistics.

`assess_canary(observations, spec)` returns a `CanaryReport` (the common `CheckOutcome`, a verdict pass | fail |
inconclusive | error, and per metric the estimate, the sequential and fixed-n intervals, the margin, the units
so far and the units still needed). Specs live in ``expectations/*.canary.yaml`` (`load_canary_spec`).
Modules: `boundaries` (Howard et al. 2021), `quantiles` (Howard & Ramdas 2022), `srm` (Lindon & Malek 2022),
`intervals` (fixed-n, reported only), `spec`, `assess`.
"""

from guardrails.checks.canary.assess import CanaryReport, Interval, CanaryMetricResult, assess_canary
from guardrails.checks.canary.spec import (
    CanarySpec,
    Direction,
    Margin,
    Maturity,
    MetricKind,
    MetricSpec,
    load_canary_spec,
)

__all__ = [
    "CanaryReport",
    "CanarySpec",
    "Direction",
    "Interval",
    "Margin",
    "Maturity",
    "MetricKind",
    "CanaryMetricResult",
    "MetricSpec",
    "assess_canary",
    "load_canary_spec",
]
