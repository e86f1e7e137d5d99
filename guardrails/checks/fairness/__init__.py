"""Segment fairness gates: per-segment rates from confusion counts, gaps with simultaneous bootstrap intervals.

`assess_fairness(data, spec, champion=None)` counts each declared segment's confusion cells in one polars
``group_by``, computes selection rate, precision, recall and false positive rate per segment, and judges each
metric's largest gap across a column's segments against the spec's tolerance (and, given the champion's scored
data or recorded gaps, against the champion's gap), with bootstrap intervals on counts whose family-wise false
alarm rate holds however many segments are searched. The spec lives beside the contracts
(``expectations/*.fairness.yaml``): `load_fairness_spec`.

Modules: `_spec` (the YAML spec), `_counts` (the one pass over rows), `_stats` (rates, resamples, the
max-statistic), `_assess` (the policy), `_report` (frozen results), `_render` (a Markdown table).
"""

from guardrails.checks.fairness._assess import MAX_SEGMENTS, assess_fairness
from guardrails.checks.fairness._render import render_fairness_markdown
from guardrails.checks.fairness._report import FairnessGap, FairnessReport, SegmentMetric, SegmentStatus
from guardrails.checks.fairness._spec import METRICS, FairnessSpec, Tolerance, load_fairness_spec

__all__ = [
    "MAX_SEGMENTS",
    "METRICS",
    "FairnessGap",
    "FairnessReport",
    "FairnessSpec",
    "SegmentMetric",
    "SegmentStatus",
    "Tolerance",
    "assess_fairness",
    "load_fairness_spec",
    "render_fairness_markdown",
]
