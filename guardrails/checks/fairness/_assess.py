"""`assess_fairness`: count, resample, judge every (segment column, metric) gap, and return one outcome.

The policy, in the order it is applied:

- The data cannot be read, a prediction or label column is missing or of the wrong type, or no row is scored:
  the check could not run (verdict ``error``, failing closed).
- A segment column is missing from the data, or has more than `MAX_SEGMENTS` values (an identifier, not a
  segment): its gaps cannot be measured; their rules are in status ``error`` and the gate fails, as a missing
  column fails every other check (`guardrails.outcome.judge`).
- A segment with fewer rows than ``min_group_size``, or fewer than ``min_metric_count`` in a metric's denominator,
  is reported as ``too_small`` and takes no part in that gap: never merged into another, never failed on. A gap
  with fewer than two judged segments is ``insufficient`` (a warning: no verdict, never green, never blocking).
- A gap fails when the lower bound of its simultaneous interval exceeds the tolerance (difference, and/or ratio
  below its bound): some pair of segments is shown further apart than tolerated. The chance of a false alarm over
  every gap judged together is at most ``1 - confidence`` (see `guardrails.checks.fairness._stats`).
- With a champion (its scored data, its `FairnessReport`, or its recorded gaps ``{"country.precision": 0.03}``):
  each gap's widening (candidate minus champion) gets a simultaneous interval; the gate fails when the lower
  bound exceeds ``champion_tolerance.difference``. A champion with no measurable gap there makes that comparison
  ``insufficient``.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.checks.fairness._counts import ColumnCounts, ColumnTypeError, ConfusionCounts, confusion_counts
from guardrails.checks.fairness._report import FairnessGap, FairnessReport, SegmentMetric, SegmentStatus
from guardrails.checks.fairness._spec import FairnessSpec, load_fairness_spec
from guardrails.checks.fairness._stats import (
    Contrasts,
    Family,
    critical_value,
    parts,
    range_resamples,
    rate,
    resample,
)
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity, Verdict, judge
from guardrails.validation._frames import UnreadableBatchError, error_line, scan_parquet, to_polars

MAX_SEGMENTS = 1000
"""More distinct values than this in a segment column: it is an identifier, not a segment; its gaps are refused."""

SEGMENT_CHARS = 80
"""Longest segment value quoted in a message (values come from data)."""

Champion = Any
"""The champion's scored data (a frame or Parquet path), its `FairnessReport`, or recorded gaps (a mapping)."""


def assess_fairness(
    data: Any,
    spec: FairnessSpec | str | os.PathLike[str],
    champion: Champion | None = None,
    *,
    check: str = "fairness",
    as_of: datetime | None = None,
) -> FairnessReport:
    """Judge per-segment gaps in selection rate, precision, recall and false positive rate.

    Args:
        data: The scored rows: a polars/pandas frame, an Arrow table, or a Parquet file or directory, holding the
            spec's prediction, label and segment columns.
        spec: A `FairnessSpec`, or the path of a ``*.fairness.yaml`` file (a bad file raises `ContractError`).
        champion: The serving model's scored data (same columns), its `FairnessReport`, or its recorded gaps
            (``{"<column>.<metric>": difference}``, as `FairnessReport.recorded_gaps` gives).
        check: The check name recorded in the outcome.
        as_of: Recorded as the outcome's `as_of` (default: now, UTC).

    Returns:
        A `FairnessReport`: ``.outcome`` (kind ``fairness``; one rule ``fairness.<column>.<metric>`` per gap, and
        ``fairness.<column>.<metric>.vs_champion`` with a champion), ``.verdict`` (pass, fail, insufficient,
        error), ``.gaps`` and ``.segments`` (``.table()`` as a polars frame).

    Example:
        >>> import numpy as np, polars as pl
        >>> rng = np.random.default_rng(0)
        >>> n = 20_000
        >>> group = rng.choice(["a", "b"], n)
        >>> label = rng.random(n) < 0.3
        >>> score = np.where(label, 0.8, 0.2) + rng.normal(0, 0.2, n) + np.where(group == "b", 0.2, 0.0)
        >>> frame = pl.DataFrame({"score": score, "y": label, "group": group})
        >>> spec = FairnessSpec(prediction="score", threshold=0.5, label="y", segments=("group",))
        >>> report = assess_fairness(frame, spec)
        >>> report.verdict.value, len([g for g in report.gaps if g.verdict.value == "fail"])
        ('fail', 4)
    """
    spec = spec if isinstance(spec, FairnessSpec) else load_fairness_spec(spec)
    started = datetime.now(UTC)
    as_of = as_of or started
    try:
        counts = _count(data, spec)
    except (KeyError, ColumnTypeError, UnreadableBatchError, TypeError, OSError, pl.exceptions.PolarsError) as exc:
        return _could_not_run(spec, check, started, as_of, f"the scored data cannot be read: {_why(exc)}")
    if counts.rows - counts.unscored == 0:
        return _could_not_run(spec, check, started, as_of, f"no scored row ({counts.rows:,} rows, "
                              f"{counts.unscored:,} with a null prediction or label)", rows=counts.rows)
    rng = np.random.default_rng(spec.seed)
    candidate = _Side.of(counts, spec, rng)
    baseline: _Side | None = None
    recorded: dict[str, float] | None = None
    if champion is not None:
        if isinstance(champion, FairnessReport):
            recorded = champion.recorded_gaps()
        elif isinstance(champion, Mapping):
            recorded = {(".".join(k) if isinstance(k, tuple) else str(k)): float(v) for k, v in champion.items()}
        else:
            try:
                baseline = _Side.of(_count(champion, spec), spec, np.random.default_rng(spec.seed + 1))
            except (KeyError, ColumnTypeError, UnreadableBatchError, TypeError, OSError,
                    pl.exceptions.PolarsError) as exc:
                return _could_not_run(spec, check, started, as_of,
                                      f"the champion's scored data cannot be read: {_why(exc)}", rows=counts.rows)
    return _judge(candidate, baseline, recorded, spec, check=check, started=started, as_of=as_of,
                  counts=counts)


def _why(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"column {exc.args[0]!r} is missing"
    return error_line(exc)


def _count(data: Any, spec: FairnessSpec) -> ConfusionCounts:
    """Only the spec's columns are read: a Parquet path is scanned lazily, a frame is selected, never copied."""
    if isinstance(data, str | os.PathLike):
        frame: pl.DataFrame | pl.LazyFrame = scan_parquet(data)
    elif isinstance(data, pl.LazyFrame):
        frame = data
    else:
        frame = to_polars(data, list(spec.columns))
    return confusion_counts(frame, prediction=spec.prediction, threshold=spec.threshold, label=spec.label,
                            segments=spec.segments)


@dataclass
class _Side:
    """One model's counts and their resamples, per segment column (None: missing or not a segment column)."""

    counts: ConfusionCounts
    columns: dict[str, ColumnCounts | None]
    drawn: dict[str, np.ndarray]
    problems: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, counts: ConfusionCounts, spec: FairnessSpec, rng: np.random.Generator) -> _Side:
        columns: dict[str, ColumnCounts | None] = {}
        drawn: dict[str, np.ndarray] = {}
        problems: dict[str, str] = {}
        for name in spec.segments:
            found = counts.columns.get(name)
            if found is None:
                problems[name] = f"segment column {name!r} is missing from the data"
            elif len(found.segments) > MAX_SEGMENTS:
                problems[name] = (f"segment column {name!r} has {len(found.segments):,} values (more than "
                                  f"{MAX_SEGMENTS:,}): an identifier, not a segment")
                found = None
            columns[name] = found
            if found is not None:
                # Draw in an order fixed by the counts, not the labels: renaming segments, or reordering rows,
                # changes no interval (segments with equal counts may only trade draws, which no gap can see).
                order = np.lexsort(found.cells.T[::-1])
                draws = np.empty((spec.resamples, *found.cells.shape), dtype=np.int64)
                draws[:, order] = resample(found.cells[order], spec.resamples, rng)
                drawn[name] = draws
        return cls(counts=counts, columns=columns, drawn=drawn, problems=problems)

    def eligible(self, name: str, metric: str, spec: FairnessSpec) -> np.ndarray:
        found = self.columns[name]
        assert found is not None
        _, denominator = parts(found.cells, metric)
        return (found.rows >= spec.min_group_size) & (denominator >= spec.min_metric_count)

    def gap(self, name: str, metric: str, spec: FairnessSpec) -> tuple[float, np.ndarray] | None:
        """The observed largest gap over eligible segments and its resamples (recomputing the pair), or None."""
        found = self.columns.get(name)
        if found is None:
            return None
        keep = self.eligible(name, metric, spec)
        if keep.sum() < 2:
            return None
        numerator, denominator = parts(found.cells[keep], metric)
        values = rate(numerator, denominator)
        drawn_numerator, drawn_denominator = parts(self.drawn[name][:, keep], metric)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a resample with every denominator empty: NaN, skipped
            resampled = range_resamples(drawn_numerator, drawn_denominator)
        return float(values.max() - values.min()), resampled


@dataclass
class _Gap:
    """Working state of one (column, metric) gap while the critical values are not known yet."""

    column: str
    metric: str
    segments: list[dict[str, Any]]
    judged: np.ndarray | None = None  # indices of the judged segments
    difference: Family | None = None
    log: Family | None = None
    versus_rest: Contrasts | None = None
    log_versus_rest: Contrasts | None = None
    problem: str | None = None


def _judge(candidate: _Side, baseline: _Side | None, recorded: dict[str, float] | None, spec: FairnessSpec, *,
           check: str, started: datetime, as_of: datetime, counts: ConfusionCounts) -> FairnessReport:
    alpha = spec.alpha
    work: list[_Gap] = []
    for name in spec.segments:
        found = candidate.columns[name]
        for metric in spec.metrics:
            if found is None:
                work.append(_Gap(name, metric, [], problem=candidate.problems[name]))
                continue
            work.append(_measure(found, candidate.drawn[name], metric, spec, alpha))

    maxima, contrast_maxima = [], []
    for gap in work:
        if gap.difference is not None and gap.versus_rest is not None and spec.tolerance.difference is not None:
            maxima.append(gap.difference.max_statistic())
            contrast_maxima.append(gap.versus_rest.max_statistic())
        if gap.log is not None and gap.log_versus_rest is not None and spec.tolerance.ratio is not None:
            maxima.append(gap.log.max_statistic())
            contrast_maxima.append(gap.log_versus_rest.max_statistic())
    critical, _ = critical_value(maxima, spec.confidence) if maxima else (None, np.empty(0))
    discovery = critical_value(contrast_maxima, spec.confidence) if contrast_maxima else (None, np.empty(0))

    champion = _champion_widening(work, candidate, baseline, recorded, spec)
    gaps = tuple(_finish(gap, critical, discovery, spec, champion.get(f"{gap.column}.{gap.metric}"))
                 for gap in work)
    segments = tuple(SegmentMetric(**row) for gap in work for row in gap.segments)
    outcome = _outcome(gaps, spec, check=check, started=started, as_of=as_of, counts=counts, critical=critical)
    return FairnessReport(outcome=outcome, gaps=gaps, segments=segments, critical_value=critical)


def _measure(found: ColumnCounts, drawn: np.ndarray, metric: str, spec: FairnessSpec, alpha: float) -> _Gap:
    numerator, denominator = parts(found.cells, metric)
    drawn_numerator, drawn_denominator = parts(drawn, metric)
    values = rate(numerator, denominator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a segment whose every resample is empty: no interval
        bounds = np.nanquantile(rate(drawn_numerator, drawn_denominator), [alpha / 2, 1 - alpha / 2], axis=0)
    rows = found.rows
    keep = (rows >= spec.min_group_size) & (denominator >= spec.min_metric_count)
    segments = [
        {"column": found.column, "segment": found.segments[i], "metric": metric, "rows": int(rows[i]),
         "numerator": int(numerator[i]), "denominator": int(denominator[i]), "value": _finite(values[i]),
         "lower": _finite(bounds[0, i]), "upper": _finite(bounds[1, i]),
         "status": SegmentStatus.JUDGED if keep[i] else SegmentStatus.TOO_SMALL}
        for i in range(len(found.segments))
    ]
    gap = _Gap(found.column, metric, segments)
    if keep.sum() >= 2:
        index = np.flatnonzero(keep)
        args = (numerator[index], denominator[index], drawn_numerator[:, index], drawn_denominator[:, index])
        gap.judged = index
        gap.difference = Family.of(*args, log=False)
        gap.log = Family.of(*args, log=True)
        gap.versus_rest = Contrasts.of(*args, log=False)
        gap.log_versus_rest = Contrasts.of(*args, log=True)
    return gap


def _champion_widening(work: list[_Gap], candidate: _Side, baseline: _Side | None,
                       recorded: dict[str, float] | None, spec: FairnessSpec) -> dict[str, dict[str, Any]]:
    """Per gap key: the champion's gap, the widening, its simultaneous interval and verdict."""
    if baseline is None and recorded is None:
        return {}
    out: dict[str, dict[str, Any]] = {}
    measured: dict[str, tuple[float, float, np.ndarray]] = {}
    for gap in work:
        key = f"{gap.column}.{gap.metric}"
        mine = candidate.gap(gap.column, gap.metric, spec) if gap.problem is None else None
        if baseline is not None:
            theirs = baseline.gap(gap.column, gap.metric, spec)
            champion_gap, champion_deviation = (theirs[0], theirs[1] - theirs[0]) if theirs else (None, None)
        else:
            champion_gap = recorded.get(key) if recorded is not None else None
            champion_deviation = 0.0 if champion_gap is not None else None
        if mine is None or champion_gap is None:
            why = "the candidate's gap is not measured" if mine is None else "the champion has no measured gap"
            out[key] = {"champion_difference": champion_gap, "champion_verdict": Verdict.INSUFFICIENT, "why": why}
            continue
        deviation = (mine[1] - mine[0]) - champion_deviation
        measured[key] = (mine[0] - champion_gap, champion_gap, np.nan_to_num(deviation, nan=0.0))
    if measured:
        sd = {key: float(np.std(dev)) for key, (_, _, dev) in measured.items()}
        stats = [np.abs(dev) / sd[key] if sd[key] > 0 else np.zeros_like(dev) for key, (_, _, dev) in measured.items()]
        critical, _ = critical_value(stats, spec.confidence)
        tolerance = spec.champion_tolerance.difference or 0.0
        for key, (widening, champion_gap, _) in measured.items():
            lower, upper = widening - critical * sd[key], widening + critical * sd[key]
            out[key] = {"champion_difference": champion_gap, "widening": widening, "widening_lower": lower,
                        "widening_upper": upper,
                        "champion_verdict": Verdict.FAIL if lower > tolerance else Verdict.PASS}
    return out


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _shown(segment: str | None) -> str:
    return "null" if segment is None else cap_text(segment, SEGMENT_CHARS)


def _finish(gap: _Gap, critical: float | None, discovery: tuple[float | None, np.ndarray], spec: FairnessSpec,
            champion: dict[str, Any] | None) -> FairnessGap:
    too_small = sum(1 for s in gap.segments if s["status"] is SegmentStatus.TOO_SMALL)
    extra = {k: v for k, v in (champion or {}).items() if k != "why"}
    if gap.problem is not None:
        return FairnessGap(column=gap.column, metric=gap.metric, verdict=Verdict.ERROR, segments_judged=0,
                           segments_too_small=0, message=gap.problem, **extra)
    if (gap.judged is None or gap.difference is None or gap.log is None or gap.versus_rest is None
            or gap.log_versus_rest is None):
        message = (f"{gap.metric} by {gap.column}: insufficient: {len(gap.segments) - too_small} segment(s) with "
                   f">= {spec.min_group_size} rows and >= {spec.min_metric_count} in the denominator "
                   f"({too_small} too small); a gap needs 2")
        return FairnessGap(column=gap.column, metric=gap.metric, verdict=Verdict.INSUFFICIENT,
                           segments_judged=len(gap.segments) - too_small, segments_too_small=too_small,
                           message=message, **extra)
    assert critical is not None  # a judged family contributed its maxima
    discovery_critical, maxima = discovery
    assert discovery_critical is not None
    values = np.array([gap.segments[i]["value"] for i in gap.judged], dtype=np.float64)
    low, high = gap.judged[int(values.argmin())], gap.judged[int(values.argmax())]
    difference = float(values.max() - values.min())
    lower, upper = (float(b) for b in gap.difference.gap_bounds(critical))
    log_lower, log_upper = (float(b) for b in gap.log.gap_bounds(critical))
    ratio = float(values.min() / values.max()) if values.max() > 0 else None
    tolerance = spec.tolerance
    failed = []
    flags_low = np.zeros(gap.judged.size, dtype=bool)
    flags_high = np.zeros(gap.judged.size, dtype=bool)
    p_adjusted = np.ones(gap.judged.size)
    if tolerance.difference is not None:
        if lower > tolerance.difference:
            failed.append(f"difference {difference:.3g} (at least {lower:.3g}) > {tolerance.difference:g}")
        is_low, is_high, p = gap.versus_rest.discoveries(discovery_critical, tolerance.difference, maxima)
        flags_low |= is_low
        flags_high |= is_high
        p_adjusted = np.minimum(p_adjusted, p)
    if tolerance.ratio is not None:
        bound = -math.log(tolerance.ratio)
        if log_lower > bound:
            failed.append(f"ratio {ratio if ratio is not None else 0:.3g} (at most {math.exp(-log_lower):.3g}) "
                          f"< {tolerance.ratio:g}")
        is_low, is_high, p = gap.log_versus_rest.discoveries(discovery_critical, bound, maxima)
        flags_low |= is_low
        flags_high |= is_high
        p_adjusted = np.minimum(p_adjusted, p)
    for position, i in enumerate(gap.judged):
        row = gap.segments[i]
        row["p_adjusted"] = float(p_adjusted[position])
        row["flag"] = "low" if flags_low[position] else ("high" if flags_high[position] else "")
    pair = f"{gap.column}={_shown(gap.segments[low]['segment'])} vs {gap.column}={_shown(gap.segments[high]['segment'])}"
    interval = f"[{lower:.3g}, {upper:.3g}]"
    if failed:
        message = f"{gap.metric} by {gap.column}: {'; '.join(failed)} ({pair})"
    else:
        message = f"{gap.metric} by {gap.column}: gap {difference:.3g} {interval} within {tolerance.describe()} ({pair})"
    if too_small:
        message += f"; {too_small} segment(s) too small to judge"
    return FairnessGap(
        column=gap.column, metric=gap.metric, verdict=Verdict.FAIL if failed else Verdict.PASS,
        segments_judged=int(gap.judged.size), segments_too_small=too_small, difference=difference,
        difference_lower=lower, difference_upper=upper, ratio=ratio, ratio_lower=math.exp(-log_upper),
        ratio_upper=min(1.0, math.exp(-log_lower)), low_segment=gap.segments[low]["segment"],
        high_segment=gap.segments[high]["segment"], message=cap_text(message, MESSAGE_CHARS), **extra,
    )


_RULE_STATE = {
    Verdict.PASS: (CheckStatus.PASSED, Severity.ERROR),
    Verdict.FAIL: (CheckStatus.FAILED, Severity.ERROR),
    Verdict.INSUFFICIENT: (CheckStatus.FAILED, Severity.WARNING),
    Verdict.ERROR: (CheckStatus.ERROR, Severity.ERROR),
}


def _rules(gap: FairnessGap, spec: FairnessSpec) -> list[RuleResult]:
    status, severity = _RULE_STATE[gap.verdict]
    rules = [RuleResult(rule_id=f"fairness.{gap.key}", kind="fairness", columns=(gap.column,), severity=severity,
                        status=status, observed=gap.difference,
                        expected=f"{spec.tolerance.describe()} (interval bound, {spec.confidence:.0%} family-wise)",
                        message=gap.message)]
    if gap.champion_verdict is not None:
        status, severity = _RULE_STATE[gap.champion_verdict]
        if gap.widening is not None:
            message = (f"{gap.metric} by {gap.column}: gap {gap.difference:.3g} vs the champion's "
                       f"{gap.champion_difference:.3g}: widened by {gap.widening:.3g} "
                       f"[{gap.widening_lower:.3g}, {gap.widening_upper:.3g}]")
        else:
            message = f"{gap.metric} by {gap.column}: no comparison with the champion (a gap is not measured)"
        rules.append(RuleResult(rule_id=f"fairness.{gap.key}.vs_champion", kind="fairness", columns=(gap.column,),
                                severity=severity, status=status, observed=gap.widening,
                                expected=f"widening <= {spec.champion_tolerance.difference:g} (interval bound)",
                                message=message))
    return rules


def _outcome(gaps: tuple[FairnessGap, ...], spec: FairnessSpec, *, check: str, started: datetime, as_of: datetime,
             counts: ConfusionCounts, critical: float | None) -> CheckOutcome:
    rules = tuple(rule for gap in gaps for rule in _rules(gap, spec))
    status, severity = judge(rules)
    # Only an insufficient gap or comparison fails at warning severity: that is "no verdict yet", not a pass.
    verdict = Verdict.INSUFFICIENT if status is CheckStatus.FAILED and severity is Severity.WARNING else None
    metrics: dict[str, Any] = {"rows": counts.rows, "rows_unscored": counts.unscored, "gaps": len(gaps),
                               "gaps_failed": sum(1 for r in rules if r.status is not CheckStatus.PASSED
                                                  and r.severity is Severity.ERROR)}
    if critical is not None:
        metrics["critical_value"] = critical
    for gap in gaps:
        for name in ("difference", "difference_lower", "difference_upper", "ratio", "widening"):
            value = getattr(gap, name)
            if value is not None:
                metrics[f"{name}.{gap.key}"] = value
    judged = [g for g in gaps if g.difference is not None]
    if judged:
        metrics["max_difference"] = max(g.difference for g in judged)  # type: ignore[type-var]
    failed = [r for r in rules if r.status is not CheckStatus.PASSED]
    blocking = [r for r in failed if r.severity is Severity.ERROR]
    if not failed:
        message = f"fairness within {spec.tolerance.describe()} on {len(gaps)} gap(s)"
    elif blocking:
        message = f"fairness failed on {len(blocking)} of {len(rules)}: " + "; ".join(r.message for r in blocking[:3])
    else:
        message = f"fairness insufficient on {len(failed)} of {len(rules)}: " + "; ".join(r.message for r in failed[:3])
    return CheckOutcome(check=check, kind=CheckKind.FAIRNESS, status=status, severity=severity, started_at=started,
                        finished_at=datetime.now(UTC), rows=counts.rows, rules=rules, metrics=metrics,
                        contract_id=spec.source, as_of=as_of, message=cap_text(message, MESSAGE_CHARS),
                        verdict=verdict)


def _could_not_run(spec: FairnessSpec, check: str, started: datetime, as_of: datetime, error: str, *,
                   rows: int | None = None) -> FairnessReport:
    outcome = CheckOutcome.could_not_run(
        check, CheckKind.FAIRNESS, cap_text(error, MESSAGE_CHARS), started_at=started, contract_id=spec.source,
        as_of=as_of, rows=rows, message=cap_text(f"{check} could not be measured: {error}", MESSAGE_CHARS),
    )
    return FairnessReport(outcome=outcome)
