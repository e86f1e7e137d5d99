"""What a fairness gate returns: the outcome, one gap per (segment column, metric), one row per segment and metric.

All frozen, JSON round-trippable (`FairnessReport.to_json` / `from_json`), so a report can be kept beside a model
version and read back as the champion's recorded gaps.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any

from guardrails.outcome import CheckOutcome, Verdict


class SegmentStatus(StrEnum):
    """Whether a segment took part in a metric's gap."""

    JUDGED = "judged"
    TOO_SMALL = "too_small"
    """Fewer rows than ``min_group_size``, or fewer than ``min_metric_count`` in the metric's denominator."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentMetric:
    """One segment's value of one metric, with the counts it comes from.

    `lower` / `upper` are the segment's own (marginal) bootstrap interval at the spec's confidence; `p_adjusted`
    (judged segments of a judged gap) is the multiplicity-adjusted p-value of the segment differing from the rest of
    its column by more than the tolerance; `flag` is ``"low"`` or ``"high"`` when it was shown below or above the
    rest by more than the tolerance (a discovered worst segment), else ``""``.
    """

    column: str
    segment: str | None
    metric: str
    rows: int
    numerator: int
    denominator: int
    value: float | None
    lower: float | None
    upper: float | None
    status: SegmentStatus
    p_adjusted: float | None = None
    flag: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", SegmentStatus(self.status))


@dataclass(frozen=True, slots=True, kw_only=True)
class FairnessGap:
    """The largest gap of one metric across one column's judged segments, its intervals and its verdict.

    `difference` is the largest minus the smallest value (between `high_segment` and `low_segment`), `ratio` the
    smallest over the largest; their bounds are simultaneous over every gap judged (see
    `guardrails.checks.fairness._stats`). With a champion: `champion_difference` is the champion's gap, `widening`
    the candidate's minus it, with its interval and `champion_verdict` (fail when the lower bound of the widening
    exceeds ``champion_tolerance``).
    """

    column: str
    metric: str
    verdict: Verdict
    segments_judged: int
    segments_too_small: int
    difference: float | None = None
    difference_lower: float | None = None
    difference_upper: float | None = None
    ratio: float | None = None
    ratio_lower: float | None = None
    ratio_upper: float | None = None
    low_segment: str | None = None
    high_segment: str | None = None
    message: str = ""
    champion_difference: float | None = None
    widening: float | None = None
    widening_lower: float | None = None
    widening_upper: float | None = None
    champion_verdict: Verdict | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdict", Verdict(self.verdict))
        if self.champion_verdict is not None:
            object.__setattr__(self, "champion_verdict", Verdict(self.champion_verdict))

    @property
    def key(self) -> str:
        """``<column>.<metric>``: how recorded gaps are named."""
        return f"{self.column}.{self.metric}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FairnessReport:
    """A fairness gate's result: `outcome` (the common `CheckOutcome`), `gaps`, the per-segment `segments` table.

    `critical_value` is the max-statistic's quantile behind every interval (None when nothing could be judged).
    """

    outcome: CheckOutcome
    gaps: tuple[FairnessGap, ...] = ()
    segments: tuple[SegmentMetric, ...] = ()
    critical_value: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "gaps", tuple(self.gaps))
        object.__setattr__(self, "segments", tuple(self.segments))

    @property
    def verdict(self) -> Verdict:
        """pass, fail, insufficient or error (the outcome's verdict)."""
        return self.outcome.verdict

    def recorded_gaps(self) -> dict[str, float]:
        """``{"<column>.<metric>": difference}`` for every gap measured: what `assess_fairness` takes as a champion."""
        return {g.key: g.difference for g in self.gaps if g.difference is not None}

    def table(self) -> Any:
        """The per-segment table as a polars DataFrame (one row per segment column, segment and metric)."""
        import polars as pl

        names = [f.name for f in fields(SegmentMetric)]
        schema = {"column": pl.String, "segment": pl.String, "metric": pl.String, "rows": pl.Int64,
                  "numerator": pl.Int64, "denominator": pl.Int64, "value": pl.Float64, "lower": pl.Float64,
                  "upper": pl.Float64, "status": pl.String, "p_adjusted": pl.Float64, "flag": pl.String}
        return pl.DataFrame([[getattr(s, n) if n != "status" else s.status.value for n in names]
                             for s in self.segments], schema=schema, orient="row")

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.to_dict(),
            "gaps": [asdict(g) for g in self.gaps],
            "segments": [asdict(s) for s in self.segments],
            "critical_value": self.critical_value,
        }

    def to_json(self, **dumps_kwargs: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **dumps_kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FairnessReport:
        return cls(
            outcome=CheckOutcome.from_dict(data["outcome"]),
            gaps=tuple(FairnessGap(**g) for g in data.get("gaps", ())),
            segments=tuple(SegmentMetric(**s) for s in data.get("segments", ())),
            critical_value=data.get("critical_value"),
        )

    @classmethod
    def from_json(cls, text: str) -> FairnessReport:
        return cls.from_dict(json.loads(text))
