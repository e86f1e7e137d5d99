"""Every result type with `to_dict`/`from_dict` survives a JSON round trip unchanged.

One property over all of them (`ROUND_TRIPS` lists each type with a strategy building sensible instances); the
completeness test fails when a new `from_dict` appears in guardrails/ without joining the list.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrails.checks.canary import CanaryMetricResult, CanaryReport, Direction, Interval, MetricKind
from guardrails.checks.fairness import FairnessGap, FairnessReport, SegmentMetric, SegmentStatus
from guardrails.checks.performance import (
    Diagnosis,
    EstimateStatus,
    IntervalMethod,
    LabelStats,
    Metric,
    MetricResult,
    MetricValue,
    PerformanceReport,
    PeriodPerformance,
)
from guardrails.contract.model import QuarantinePolicy
from guardrails.evidence import CheckEvidence, ScoredBatch, SegmentMetrics, ServingPeriod
from guardrails.incidents import BreakerTrip, Evaluation, StoppedInstigator
from guardrails.models import (
    AliasMove,
    BatchRef,
    Condemnation,
    Hold,
    HoldFailure,
    Lineage,
    MoveAction,
    Pin,
    Verdict,
    VerdictStatus,
)
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity
from guardrails.outcome import Verdict as CheckVerdict
from guardrails.profile import Profile, build_profile
from guardrails.quarantine import DataFormat, PublishedVia, PublishRecord, QuarantineManifest, QuarantineState, Transition
from guardrails.quarantine._manifest import data_file_name

GUARDRAILS = Path(__file__).resolve().parents[2] / "guardrails"

texts = st.text(max_size=12)
optional_texts = st.none() | texts
counts = st.integers(min_value=0, max_value=10**12)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
moments = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                                  timezone(timedelta(hours=-8))]))
"""Time-zone-aware instants (every timestamp we write carries its zone; manifests refuse naive ones)."""
optional_moments = st.none() | moments
json_scalars = st.none() | st.booleans() | st.integers() | finite_floats | texts
"""A value a metric or a sample cell may hold (`outcome.JsonScalar`)."""

rule_results = st.builds(
    RuleResult, rule_id=texts, kind=texts, columns=st.lists(texts, max_size=3).map(tuple),
    severity=st.sampled_from(Severity), status=st.sampled_from(CheckStatus), failing_rows=counts,
    observed=st.none() | finite_floats, expected=texts, message=texts,
)
sample_rows = st.dictionaries(texts, json_scalars, max_size=3).flatmap(
    lambda row: st.lists(texts, max_size=3).map(lambda rules: {**row, "_rules": rules})
)
"""A failing row as the engine samples it: key and column values, plus the list of rules it broke."""
outcomes = st.builds(
    CheckOutcome, check=texts, kind=st.sampled_from(CheckKind), status=st.sampled_from(CheckStatus),
    severity=st.sampled_from(Severity), started_at=moments, finished_at=moments, rows=st.none() | counts,
    rules=st.lists(rule_results, max_size=3).map(tuple), sample=st.lists(sample_rows, max_size=3).map(tuple),
    metrics=st.dictionaries(texts, json_scalars, max_size=4), contract_id=optional_texts,
    contract_version=optional_texts, as_of=optional_moments, message=texts, error=optional_texts,
)
transitions = st.builds(Transition, state=st.sampled_from(QuarantineState), at=moments, reason=texts, actor=texts)


@st.composite
def manifests(draw: st.DrawFn) -> QuarantineManifest:
    """A manifest whose data file name follows from its digest and format, as the store writes it."""
    digest = draw(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
    data_format = draw(st.sampled_from(DataFormat))
    return draw(st.builds(
        QuarantineManifest, batch_id=texts, state=st.sampled_from(QuarantineState), content_hash=texts,
        content_hash_of=st.sampled_from(["bytes", "arrow_ipc"]), data_file=st.just(data_file_name(digest, data_format)),
        data_format=st.just(data_format), data_sha256=st.just(digest), data_bytes=counts, source=texts,
        policy=st.sampled_from(QuarantinePolicy), rows_in=st.none() | counts, rows_quarantined=st.none() | counts,
        rows_published=counts, reason=texts, outcome=outcomes, contract_id=optional_texts,
        contract_version=optional_texts, run_id=optional_texts, quarantined_at=moments, released_at=optional_moments,
        purged_at=optional_moments, release_outcome=st.none() | outcomes, released_to=optional_texts,
        history=st.lists(transitions, max_size=3).map(tuple),
    ))


stopped_instigators = st.builds(
    StoppedInstigator, kind=st.sampled_from(["schedule", "sensor"]), name=texts, origin_id=texts, selector_id=texts,
    previous_status=texts,
)
versions = st.integers(min_value=1, max_value=10**6)


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    """The profile `build_profile` makes of a small frame with a numeric, an integer-coded and a text column."""
    rows = draw(st.integers(min_value=1, max_value=30))
    frame = pl.DataFrame({
        "amount": draw(st.lists(st.none() | st.floats(-1e6, 1e6), min_size=rows, max_size=rows)),
        "code": draw(st.lists(st.integers(0, 5), min_size=rows, max_size=rows)),
        "channel": draw(st.lists(st.none() | st.sampled_from(["online", "pos", "atm"]), min_size=rows, max_size=rows)),
    }, schema={"amount": pl.Float64, "code": pl.Int64, "channel": pl.String})
    return build_profile(frame, categorical=["code"], bins=4, fine_bins=8)


optional_floats = st.none() | finite_floats
fairness_gaps = st.builds(
    FairnessGap, column=texts, metric=texts, verdict=st.sampled_from(CheckVerdict), segments_judged=counts,
    segments_too_small=counts, difference=optional_floats, difference_lower=optional_floats,
    difference_upper=optional_floats, ratio=optional_floats, ratio_lower=optional_floats, ratio_upper=optional_floats,
    low_segment=optional_texts, high_segment=optional_texts, message=texts, champion_difference=optional_floats,
    widening=optional_floats, widening_lower=optional_floats, widening_upper=optional_floats,
    champion_verdict=st.none() | st.sampled_from(CheckVerdict),
)
segment_metrics = st.builds(
    SegmentMetric, column=texts, segment=optional_texts, metric=texts, rows=counts, numerator=counts,
    denominator=counts, value=optional_floats, lower=optional_floats, upper=optional_floats,
    status=st.sampled_from(SegmentStatus), p_adjusted=optional_floats, flag=st.sampled_from(["", "low", "high"]),
)

batch_refs = st.builds(
    BatchRef, asset=texts.filter(bool), partition=optional_texts, batch_id=optional_texts, content_hash=optional_texts,
    contract_id=optional_texts, contract_version=optional_texts, run_id=optional_texts,
)
hold_failures = st.builds(HoldFailure, check=texts, partition=optional_texts, run_id=optional_texts,
                          at=optional_moments)
intervals = st.builds(Interval, lower=optional_floats, upper=optional_floats, alpha=finite_floats, method=texts)
canary_metric_results = st.builds(
    CanaryMetricResult, name=texts, kind=st.sampled_from(MetricKind), statistic=texts, direction=st.sampled_from(Direction),
    critical=st.booleans(), verdict=st.sampled_from(CheckVerdict), control=optional_floats, candidate=optional_floats,
    estimate=optional_floats, margin=optional_floats, margin_spec=texts, sequential=intervals, fixed_n=intervals,
    units=counts, units_control=counts, units_candidate=counts, events_control=finite_floats,
    events_candidate=finite_floats, units_needed=st.none() | counts, message=texts,
)
canary_reports = st.builds(
    CanaryReport, outcome=outcomes, metrics=st.lists(canary_metric_results, max_size=3).map(tuple), units=counts,
    units_control=counts, units_candidate=counts, units_immature=counts, srm_p_value=optional_floats,
    alpha=finite_floats, power=finite_floats, min_units=counts,
)


metric_values = st.builds(MetricValue, value=optional_floats, low=optional_floats, high=optional_floats,
                          method=st.sampled_from(IntervalMethod), n=counts)
metric_results = st.builds(
    MetricResult, metric=st.sampled_from(Metric), reference=optional_floats, bound=optional_floats,
    realized=st.none() | metric_values, estimated=st.none() | metric_values,
    status=st.none() | st.sampled_from(CheckStatus), severity=st.none() | st.sampled_from(Severity),
)
performance_reports = st.builds(
    PerformanceReport, outcome=outcomes,
    periods=st.lists(st.builds(
        PeriodPerformance, period=texts, predictions=counts, mature=counts, labelled=counts, positives=counts,
        label_rate=optional_floats, expected_label_rate=optional_floats, judged=st.booleans(), reason=texts,
        metrics=st.lists(metric_results, max_size=3).map(tuple), diagnosis=st.sampled_from(Diagnosis),
        evidence=st.lists(texts, max_size=2).map(tuple),
    ), max_size=2).map(tuple),
    diagnosis=st.sampled_from(Diagnosis), evidence=st.lists(texts, max_size=2).map(tuple), containment=texts,
    estimate=st.builds(EstimateStatus, ran=st.booleans(), reason=texts, calibration=texts, reference_rows=counts,
                       reference_ece=optional_floats, covers=st.lists(st.sampled_from(Metric), max_size=3).map(tuple)),
    labels=st.none() | st.builds(LabelStats, predictions=counts, duplicate_keys=counts, labelled=counts,
                                 late_labels=counts, unmatched_labels=counts, mature=counts,
                                 median_delay_seconds=optional_floats, p90_delay_seconds=optional_floats,
                                 missing_times=counts),
    confidence=st.floats(0.5, 0.999),
)

evaluations = st.builds(
    Evaluation, asset_key=texts, check_name=texts, timestamp=moments, passed=st.booleans(), run_id=texts,
    run_status=optional_texts, run_started_at=optional_moments, outcome=st.none() | outcomes,
    batch_id=optional_texts, partition=optional_texts, severity=optional_texts, description=optional_texts,
    contract_path=optional_texts, quarantine_store=optional_texts, from_manifest=st.booleans(),
    release=st.booleans(),
)

ROUND_TRIPS: dict[type, st.SearchStrategy[Any]] = {
    CheckOutcome: outcomes,
    Transition: transitions,
    QuarantineManifest: manifests(),
    PublishRecord: st.builds(
        PublishRecord, source=texts, batch_id=texts, content_hash=optional_texts, published_at=moments,
        via=st.sampled_from(PublishedVia), run_id=optional_texts, actor=texts,
    ),
    Verdict: st.builds(
        Verdict, status=st.sampled_from(VerdictStatus), checks=st.lists(texts, max_size=3).map(tuple),
        run_id=optional_texts, at=optional_moments, reason=texts,
    ),
    Pin: st.builds(
        Pin, alias=texts, version=versions, from_version=st.none() | versions, failing_version=versions, reason=texts,
        check=optional_texts, run_id=optional_texts, at=moments, by=texts, key=texts, history_id=texts,
    ),
    AliasMove: st.builds(
        AliasMove, id=texts, seq=counts, action=st.sampled_from(MoveAction), alias=texts,
        from_version=st.none() | versions, to_version=st.none() | versions, reason=texts, check=optional_texts,
        run_id=optional_texts, at=moments, by=texts,
    ),
    Evaluation: evaluations,
    CheckEvidence: st.builds(CheckEvidence, evaluation=evaluations, model_version=st.none() | versions),
    ScoredBatch: st.builds(ScoredBatch, asset=texts, partition=optional_texts, version=versions, at=moments,
                           run_id=texts, rows=st.none() | counts),
    ServingPeriod: st.builds(ServingPeriod, version=versions, start=moments, end=optional_moments, action=texts,
                             reason=texts, by=texts),
    SegmentMetrics: st.builds(
        SegmentMetrics, asset_key=texts, check_name=texts, timestamp=moments, partition=optional_texts,
        model_version=st.none() | versions, verdict=texts,
        gaps=st.lists(st.dictionaries(texts, st.none() | texts | finite_floats, max_size=3), max_size=2).map(tuple),
        segments=st.lists(st.dictionaries(texts, st.none() | texts | counts, max_size=3), max_size=2).map(tuple),
    ),
    StoppedInstigator: stopped_instigators,
    BreakerTrip: st.builds(
        BreakerTrip, asset_key=texts, tripped_at=moments, reason=texts,
        stopped=st.lists(stopped_instigators, max_size=3).map(tuple), rearmed_at=optional_moments, rearmed_by=texts,
    ),
    Profile: profiles(),
    FairnessReport: st.builds(
        FairnessReport, outcome=outcomes, gaps=st.lists(fairness_gaps, max_size=3).map(tuple),
        segments=st.lists(segment_metrics, max_size=3).map(tuple), critical_value=optional_floats,
    ),
    BatchRef: batch_refs,
    Lineage: st.builds(Lineage, trained_on=st.lists(batch_refs, max_size=3).map(tuple),
                       evaluated_on=st.lists(batch_refs, max_size=2).map(tuple)),
    Condemnation: st.builds(Condemnation, batch=batch_refs, reason=texts, check=optional_texts, run_id=optional_texts,
                            at=moments, by=texts),
    HoldFailure: hold_failures,
    Hold: st.builds(Hold, reason=texts, incident=optional_texts, run_id=optional_texts, at=moments, by=texts,
                    failing=st.lists(hold_failures, max_size=3).map(tuple)),
    CanaryMetricResult: canary_metric_results,
    CanaryReport: canary_reports,
    PerformanceReport: performance_reports,
}


def test_every_from_dict_in_guardrails_is_round_tripped() -> None:
    """Each class in guardrails/ that defines `from_dict` is in `ROUND_TRIPS`, so none escapes the property."""
    defined = set()
    for source in GUARDRAILS.rglob("*.py"):
        text = source.read_text()
        for match in re.finditer(r"def from_dict\(cls, data[^)]*\)[^:]*-> (\w+):", text):
            defined.add(match.group(1))
    assert defined == {t.__name__ for t in ROUND_TRIPS}


@pytest.mark.parametrize("result_type", list(ROUND_TRIPS), ids=lambda t: t.__name__)
def test_results_survive_a_json_round_trip(result_type: type) -> None:
    """`T.from_dict(json.loads(json.dumps(x.to_dict())))` equals `x` for every result type with the pair."""

    @given(ROUND_TRIPS[result_type])
    def round_trips(value: Any) -> None:
        text = json.dumps(value.to_dict(), allow_nan=False)
        assert result_type.from_dict(json.loads(text)) == value

    round_trips()
