"""The performance report: the outcome, then per period and per metric the realized and estimated values.

Frozen, and JSON round-trips without loss (`PerformanceReport.to_dict` / `from_dict`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from guardrails.checks.performance._diagnosis import Diagnosis
from guardrails.checks.performance._estimate import EstimateStatus
from guardrails.checks.performance._labels import LabelStats
from guardrails.checks.performance._metrics import MetricValue
from guardrails.checks.performance._spec import Metric
from guardrails.outcome import CheckOutcome, CheckStatus, Severity, Verdict


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricResult:
    """One metric in one period: reference, the worst acceptable value, realized and estimated values, status.

    `status` is None when the metric was not judged (not among the spec's metrics, or the period had too few
    mature labels); `severity` (of a failure) is error when the whole interval is beyond the bound, warning when
    only the value is (within noise) or the metric is undefined; `estimated` is None when the estimate did not run or does not cover the metric.
    """

    metric: Metric
    reference: float | None
    bound: float | None
    realized: MetricValue | None
    estimated: MetricValue | None
    status: CheckStatus | None
    severity: Severity | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", Metric(self.metric))
        if self.status is not None:
            object.__setattr__(self, "status", CheckStatus(self.status))
        if self.severity is not None:
            object.__setattr__(self, "severity", Severity(self.severity))


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodPerformance:
    """One period (``2026-11-03``, or ``all``): its units, labels, metrics and diagnosis.

    `judged` is True when the period had at least `min_labels` mature units; `reason` says why not otherwise.
    `label_rate` is the realized rate on mature units; `expected_label_rate` the calibrated scores' mean (None
    without an estimate).
    """

    period: str
    predictions: int
    mature: int
    labelled: int
    positives: int
    label_rate: float | None
    expected_label_rate: float | None
    judged: bool
    reason: str
    metrics: tuple[MetricResult, ...]
    diagnosis: Diagnosis
    evidence: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", tuple(self.metrics))
        object.__setattr__(self, "diagnosis", Diagnosis(self.diagnosis))
        object.__setattr__(self, "evidence", tuple(self.evidence))

    def metric(self, metric: Metric | str) -> MetricResult | None:
        return next((m for m in self.metrics if m.metric == Metric(metric)), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class PerformanceReport:
    """What `assess_performance` found.

    Attributes:
        outcome: the `CheckOutcome` (kind performance): one rule per judged period and metric.
        periods: every period with predictions, oldest first.
        diagnosis: the most serious diagnosis of a judged period (`Diagnosis.NOT_JUDGED` when none was).
        evidence: the lines behind it; `containment`: what to do about it.
        estimate: whether the label-free estimate ran (and why not), and what it rests on.
        labels: coverage, delay, late and unmatched labels, mature units.
        confidence: the level of every interval.
    """

    outcome: CheckOutcome
    periods: tuple[PeriodPerformance, ...]
    diagnosis: Diagnosis
    evidence: tuple[str, ...]
    containment: str
    estimate: EstimateStatus
    labels: LabelStats | None
    confidence: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "periods", tuple(self.periods))
        object.__setattr__(self, "diagnosis", Diagnosis(self.diagnosis))
        object.__setattr__(self, "evidence", tuple(self.evidence))

    @property
    def verdict(self) -> Verdict:
        """pass, fail, insufficient (no period had enough mature labels) or error (the check could not run)."""
        return self.outcome.verdict

    @property
    def headline(self) -> PeriodPerformance | None:
        """The latest judged period, else the latest period (estimates only), else None."""
        judged = [p for p in self.periods if p.judged]
        return judged[-1] if judged else (self.periods[-1] if self.periods else None)

    @property
    def metrics(self) -> Mapping[Metric, MetricResult]:
        """The headline period's metrics by name."""
        return {m.metric: m for m in self.headline.metrics} if self.headline else {}

    def to_dict(self) -> dict[str, Any]:
        data = {
            "outcome": self.outcome.to_dict(),
            "periods": [asdict(p) for p in self.periods],
            "diagnosis": self.diagnosis.value,
            "evidence": list(self.evidence),
            "containment": self.containment,
            "estimate": asdict(self.estimate),
            "labels": asdict(self.labels) if self.labels is not None else None,
            "confidence": self.confidence,
        }
        return json.loads(json.dumps(data))  # enums to their values, tuples to lists: plain JSON data

    def to_json(self, **dumps_kwargs: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **dumps_kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PerformanceReport:
        def value(raw: Mapping[str, Any] | None) -> MetricValue | None:
            return MetricValue(**raw) if raw is not None else None

        def result(raw: Mapping[str, Any]) -> MetricResult:
            return MetricResult(**{**raw, "realized": value(raw["realized"]), "estimated": value(raw["estimated"])})

        periods = tuple(
            PeriodPerformance(**{**p, "metrics": tuple(result(m) for m in p["metrics"]),
                                 "evidence": tuple(p["evidence"])})
            for p in data["periods"]
        )
        estimate = dict(data["estimate"])
        return cls(
            outcome=CheckOutcome.from_dict(data["outcome"]), periods=periods, diagnosis=data["diagnosis"],
            evidence=tuple(data["evidence"]), containment=data["containment"],
            estimate=EstimateStatus(**{**estimate, "covers": tuple(estimate["covers"])}),
            labels=LabelStats(**data["labels"]) if data.get("labels") is not None else None,
            confidence=data["confidence"],
        )

    @classmethod
    def from_json(cls, text: str) -> PerformanceReport:
        return cls.from_dict(json.loads(text))
