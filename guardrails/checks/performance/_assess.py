"""`assess_performance`: realized metrics from delayed labels, the label-free estimate, the diagnosis, one outcome."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails._time import as_utc
from guardrails.checks.performance._diagnosis import CONTAINMENT, SERIOUSNESS, Diagnosis, PeriodEvidence, diagnose
from guardrails.checks.performance._estimate import (
    CALIBRATED,
    EstimateStatus,
    calibrated_column,
    fit_calibration,
)
from guardrails.checks.performance._labels import (
    MATURE,
    OUTCOME,
    PERIOD,
    SCORE,
    LabelStats,
    PreparationError,
    period_label,
    prepare,
)
from guardrails.checks.performance._metrics import (
    MetricValue,
    estimated_by_period,
    label_rates,
    realized_by_period,
)
from guardrails.checks.performance._report import MetricResult, PerformanceReport, PeriodPerformance
from guardrails.checks.performance._spec import ESTIMABLE, Metric, PerformanceSpec
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity, Verdict, judge
from guardrails.validation._frames import to_polars

RATE_Z = 3.0  # a label-rate change must also be this many standard errors away to count (at large n it always is)


def assess_performance(
    predictions: Any,
    spec: PerformanceSpec,
    labels: Any = None,
    reference_data: Any = None,
    drift: CheckOutcome | None = None,
    *,
    as_of: datetime | None = None,
    check: str | None = None,
) -> PerformanceReport:
    """Judge a model's realized performance on matured labels, estimate it where labels are not in yet, and say
    which drift explains a change.

    Args:
        predictions: logged predictions (a polars/pandas frame, an Arrow table or a Parquet path) with the spec's
            key, prediction and prediction-time columns (and the label columns when `labels` is None).
        spec: a `PerformanceSpec` (`load_performance_spec("expectations/x.performance.yaml")`).
        labels: the outcomes that arrived (key, label and, if the spec names it, label time); None: read from
            `predictions`.
        reference_data: labelled reference predictions (prediction and label columns): the estimate's
            calibration, the diagnosis, and any reference metric the spec does not give.
        drift: the input-drift outcome of the same data (`guardrails.checks.judge_drift(...).outcome`), used as
            evidence for the diagnosis.
        as_of: when the check runs, for maturity (default: now, UTC).
        check: the check name in the outcome (default: the spec's name).

    Returns:
        A `PerformanceReport`. Its `verdict` is ``pass`` or ``fail`` on the periods with at least `min_labels`
        mature units, ``insufficient`` when no period has them (never a pass), and ``error`` when the check could
        not run (a column missing, no reference value for a judged metric). Misconfiguration raises at load.

    Example:
        >>> import numpy as np, polars as pl
        >>> from datetime import datetime, timedelta
        >>> rng = np.random.default_rng(0)
        >>> score = rng.uniform(0, 1, 2000)
        >>> frame = pl.DataFrame({"id": range(2000), "score": score, "y": rng.uniform(0, 1, 2000) < score,
        ...                       "at": [datetime(2026, 1, 1)] * 2000})
        >>> spec = PerformanceSpec(key="id", prediction="score", label="y", prediction_time="at",
        ...                        label_maturity=timedelta(days=30), reference_metrics={"precision": 0.75,
        ...                        "recall": 0.75, "roc_auc": 0.83})
        >>> report = assess_performance(frame, spec, as_of=datetime(2026, 3, 1))
        >>> report.verdict.value, round(report.metrics[Metric.PRECISION].realized.value, 2)
        ('pass', 0.75)
    """
    if spec.model_version is not None:
        return _assess_by_version(predictions, spec, labels, reference_data, drift, as_of=as_of, check=check)
    started = datetime.now(UTC)
    as_of = as_utc(as_of) if as_of is not None else started
    name = check or spec.name

    def could_not_run(error: str, stats: LabelStats | None = None) -> PerformanceReport:
        outcome = CheckOutcome.could_not_run(
            name, CheckKind.PERFORMANCE, cap_text(error, MESSAGE_CHARS), started_at=started, as_of=as_of,
            rows=stats.predictions if stats else None,
            message=cap_text(f"{name} could not be measured: {error}", MESSAGE_CHARS))
        return PerformanceReport(outcome=outcome, periods=(), diagnosis=Diagnosis.NOT_JUDGED, evidence=(),
                                 containment="", estimate=EstimateStatus(ran=False, reason="the check could not run"),
                                 labels=stats, confidence=spec.confidence)

    try:
        label_columns = [spec.key, spec.label, *([spec.label_time] if spec.label_time else [])]
        wanted = [spec.key, spec.prediction, spec.prediction_time, *(label_columns[1:] if labels is None else [])]
        frame, stats = prepare(  # a Parquet path is read for these columns only
            to_polars(predictions, wanted), None if labels is None else to_polars(labels, label_columns), spec, as_of)
        reference = _reference_frame(reference_data, spec)
    except (PreparationError, TypeError, OSError, pl.exceptions.PolarsError) as exc:
        return could_not_run(str(exc))
    if stats.predictions == 0:
        return could_not_run("no prediction has a prediction time", stats)

    reference_values = dict(spec.reference_metrics)
    reference_rate: float | None = None
    if reference is not None:
        pooled = reference.with_columns(pl.lit(0, pl.Int64).alias(PERIOD))
        computed = realized_by_period(pooled, spec.threshold, spec.confidence)[0]
        for metric, measured in computed.items():
            if metric not in reference_values and measured.value is not None:
                reference_values[metric] = measured.value
        reference_rate = float(reference[OUTCOME].mean())  # type: ignore[arg-type]
    unknown = [m.value for m in spec.metrics if m not in reference_values]
    if unknown:
        return could_not_run(f"no reference value for {', '.join(unknown)}: give reference_metrics in the spec or "
                             "labelled reference_data", stats)

    mature = frame.filter(pl.col(MATURE))
    realized = realized_by_period(mature, spec.threshold, spec.confidence) if mature.height else {}
    mature_rates = label_rates(mature, pl.col(OUTCOME).cast(pl.Float64)) if mature.height else {}
    everyone = frame.group_by(PERIOD).agg(n=pl.len(), mature=pl.col(MATURE).sum(),
                                          labelled=pl.col("__labelled").sum()).sort(PERIOD)
    judged_periods = {p for p, (_, n) in mature_rates.items() if n >= spec.min_labels}

    estimated: dict[int, dict[Metric, MetricValue]] = {}
    expected_rates: dict[int, tuple[float, int]] = {}
    if reference is None:
        status = EstimateStatus(ran=False, reason="no labelled reference_data to calibrate on")
    else:
        try:
            calibrator, status = fit_calibration(reference, spec)
        except ImportError as exc:  # scikit-learn missing: the estimate cannot run, the realized check still does
            calibrator, status = None, EstimateStatus(ran=False, reason=str(exc))
        if calibrator is not None:
            # Judged periods are estimated on their mature units, so estimate and realized compare like for like;
            # the others on every unit (that is the estimate's point: before labels are in).
            units = frame.filter(pl.col(MATURE) | ~pl.col(PERIOD).is_in(list(judged_periods)))
            units = calibrated_column(units, calibrator)
            estimated = estimated_by_period(units, CALIBRATED, spec.threshold, spec.confidence)
            expected_rates = label_rates(units, pl.col(CALIBRATED))

    periods = []
    for row in everyone.iter_rows(named=True):
        period, label = row[PERIOD], period_label(spec, row[PERIOD])
        rate, count = mature_rates.get(period, (None, 0))
        judged = period in judged_periods
        results = []
        for metric in Metric:
            reference_value = reference_values.get(metric)
            value = realized.get(period, {}).get(metric) if count else None
            in_spec = metric in spec.metrics
            bound = spec.margin.bound(metric, reference_value) if reference_value is not None else None
            status_of = severity_of = None
            if judged and in_spec:
                status_of, severity_of = _judge_metric(metric, value, bound)
            results.append(MetricResult(
                metric=metric, reference=reference_value, bound=bound, realized=value,
                estimated=estimated.get(period, {}).get(metric) if metric in ESTIMABLE else None, status=status_of,
                severity=severity_of))
        expected = expected_rates.get(period)
        diagnosis, evidence = Diagnosis.NOT_JUDGED, ()
        if judged:
            diagnosis, evidence = _diagnose(results, spec, rate, count, expected, reference_rate,
                                            reference_values, drift)
        reason = "" if judged else (
            f"{count:,} mature units < min_labels {spec.min_labels:,}" if count < spec.min_labels else "")
        periods.append(PeriodPerformance(
            period=label, predictions=row["n"], mature=count, labelled=row["labelled"],
            positives=int(round((rate or 0.0) * count)), label_rate=rate,
            expected_label_rate=expected[0] if expected else None, judged=judged, reason=reason,
            metrics=tuple(results), diagnosis=diagnosis, evidence=evidence))

    overall = max((p.diagnosis for p in periods), key=SERIOUSNESS.index, default=Diagnosis.NOT_JUDGED)
    evidence = tuple(f"{p.period}: {line}" for p in periods if p.diagnosis is overall for line in p.evidence)
    outcome = _outcome(name, spec, periods, stats, status, overall, started, as_of)
    return PerformanceReport(outcome=outcome, periods=tuple(periods), diagnosis=overall, evidence=evidence[:20],
                             containment=CONTAINMENT[overall], estimate=status, labels=stats,
                             confidence=spec.confidence)


_VERDICT_RANK = {Verdict.PASS: 0, Verdict.INSUFFICIENT: 1, Verdict.INCONCLUSIVE: 1, Verdict.ERROR: 3}


def _rank(report: PerformanceReport) -> int:
    """How much a version's report says about the model: a failure at error severity outranks the check not
    running, which outranks a dip within noise, no verdict yet and a pass."""
    if report.verdict is Verdict.FAIL:
        return 4 if report.outcome.severity is Severity.ERROR else 2
    return _VERDICT_RANK.get(report.verdict, 0)


def _assess_by_version(predictions: Any, spec: PerformanceSpec, labels: Any, reference_data: Any,
                       drift: CheckOutcome | None, *, as_of: datetime | None, check: str | None) -> PerformanceReport:
    """One assessment per model version in the log; the worst (the latest version among equals) is the report,
    naming its version in ``outcome.metrics["model_version"]`` and every version's verdict in ``versions``."""
    column = spec.model_version
    assert column is not None
    single = replace(spec, model_version=None)
    label_columns = [spec.label, *([spec.label_time] if spec.label_time else [])]
    wanted = [spec.key, spec.prediction, spec.prediction_time, column, *(label_columns if labels is None else [])]
    try:
        frame = to_polars(predictions, wanted).select(wanted)
    except (TypeError, OSError, pl.exceptions.PolarsError) as exc:
        started = datetime.now(UTC)
        name, error = check or spec.name, cap_text(f"{column} (model_version): {exc}", MESSAGE_CHARS)
        outcome = CheckOutcome.could_not_run(
            name, CheckKind.PERFORMANCE, error, started_at=started, as_of=as_utc(as_of) if as_of else started,
            message=cap_text(f"{name} could not be measured: {error}", MESSAGE_CHARS))
        return PerformanceReport(outcome=outcome, periods=(), diagnosis=Diagnosis.NOT_JUDGED, evidence=(),
                                 containment="", estimate=EstimateStatus(ran=False, reason="the check could not run"),
                                 labels=None, confidence=spec.confidence)
    versions = frame.get_column(column).drop_nulls().unique().sort().to_list()
    if not versions:  # no version named: judged as one log, naming none
        return assess_performance(frame.drop(column), single, labels, reference_data, drift, as_of=as_of,
                                  check=check)
    labels_frame = labels
    if labels is not None and not isinstance(labels, pl.DataFrame):  # read once, not once per version
        try:
            labels_frame = to_polars(labels, [spec.key, *label_columns])
        except (TypeError, OSError, pl.exceptions.PolarsError):
            labels_frame = labels  # each assessment reports it could not read them
    reports = [(version, assess_performance(frame.filter(pl.col(column) == version).drop(column), single,
                                            labels_frame, reference_data, drift, as_of=as_of, check=check))
               for version in versions]
    version, worst = max(reports, key=lambda pair: (_rank(pair[1]), pair[0]))
    named = int(version) if isinstance(version, int) or str(version).isdigit() else str(version)
    metrics = dict(worst.outcome.metrics)
    metrics["model_version"] = named
    metrics["versions"] = {str(v): r.verdict.value for v, r in reports}
    message = cap_text(f"model version {named}: {worst.outcome.message}", MESSAGE_CHARS)
    return replace(worst, outcome=replace(worst.outcome, metrics=metrics, message=message))


def _reference_frame(reference_data: Any, spec: PerformanceSpec) -> pl.DataFrame | None:
    """The labelled reference as (`SCORE`, `OUTCOME`) rows, unlabelled rows dropped."""
    if reference_data is None:
        return None
    raw = to_polars(reference_data, [spec.prediction, spec.label])
    missing = [c for c in (spec.prediction, spec.label) if c not in raw.columns]
    if missing:
        raise PreparationError(f"the reference data lack the column(s) {', '.join(map(repr, missing))} "
                               "(labelled reference predictions are expected)")
    from guardrails.checks.performance._labels import _outcome_expr

    frame = raw.select(pl.col(spec.prediction).cast(pl.Float64).alias(SCORE),
                       _outcome_expr(raw, spec.label).alias(OUTCOME)).drop_nulls()
    if frame.height == 0:
        raise PreparationError("the reference data have no labelled row")
    if frame.filter(~pl.col(SCORE).is_between(0.0, 1.0)).height:
        raise PreparationError(f"the reference data's {spec.prediction!r} has values outside [0, 1]")
    return frame


def _judge_metric(metric: Metric, value: MetricValue | None, bound: float | None) -> tuple[CheckStatus, Severity]:
    """Failed at error when the whole interval is worse than the bound (a fall beyond noise, at the spec's
    confidence); failed at warning when only the point value is (below the margin, within noise) or the metric is
    undefined on a judged period (no predicted positive, one class only); else passed.

    Why not the point value alone: a period has hundreds of labels, not millions, and the periods x metrics
    judged every day would raise false alarms at the rate the noise crosses the margin (a 5-point margin on 300
    predicted positives is under two standard errors). The warning still shows the dip without blocking.
    """
    if value is None or value.value is None or bound is None:
        return CheckStatus.FAILED, Severity.WARNING
    worse = value.value < bound if metric.higher_is_better else value.value > bound
    if not worse:
        return CheckStatus.PASSED, Severity.ERROR
    edge = value.high if metric.higher_is_better else value.low
    beyond = edge is None or (edge < bound if metric.higher_is_better else edge > bound)
    return CheckStatus.FAILED, Severity.ERROR if beyond else Severity.WARNING


def _diagnose(results: list[MetricResult], spec: PerformanceSpec, rate: float | None, count: int,
              expected: tuple[float, int] | None, reference_rate: float | None,
              reference_values: dict[Metric, float], drift: CheckOutcome | None) -> tuple[Diagnosis, tuple[str, ...]]:
    compared = tuple(m for m in spec.metrics if m in ESTIMABLE) or (Metric.ROC_AUC,)
    by_metric = {r.metric: r for r in results}
    if expected is not None:
        baseline, baseline_name = expected[0], "expected from the calibrated scores"
    else:
        baseline, baseline_name = reference_rate, "on the reference"
    changed = False
    if baseline is not None and rate is not None and 0 < baseline < 1:
        z = (rate - baseline) / math.sqrt(baseline * (1 - baseline) / count)
        changed = abs(rate - baseline) > spec.label_rate_tolerance * baseline and abs(z) > RATE_Z
    estimated_any = any(r.estimated is not None for r in results)
    evidence = PeriodEvidence(
        reference={m: reference_values[m] for m in compared if m in reference_values},
        realized={m: (by_metric[m].realized.value if by_metric[m].realized else None) for m in Metric},
        fell={m: _fell(m, by_metric[m]) for m in compared},
        intervals={m: (r.realized.low, r.realized.high) for m, r in by_metric.items()
                   if r.realized is not None and r.realized.low is not None and r.realized.high is not None},
        estimated={m: (by_metric[m].estimated.value if by_metric[m].estimated else None) for m in Metric}
        if estimated_any else None,
        label_rate=rate or 0.0, baseline_label_rate=baseline or 0.0, baseline=baseline_name,
        label_rate_changed=changed,
    )
    return diagnose(evidence, spec.margin, drift, ranking_reference=reference_values.get(Metric.ROC_AUC))


def _fell(metric: Metric, result: MetricResult) -> bool:
    """Realized beyond the bound, with the whole interval (a fall beyond noise)."""
    if result.bound is None:
        return False
    status, severity = _judge_metric(metric, result.realized, result.bound)
    return status is CheckStatus.FAILED and severity is Severity.ERROR and result.realized is not None \
        and result.realized.value is not None


def _days(duration: timedelta) -> str:
    """``30d`` for whole days (as the spec writes it), else the timedelta's own form."""
    return f"{duration.days}d" if duration == timedelta(days=duration.days) else str(duration)


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def _outcome(name: str, spec: PerformanceSpec, periods: list[PeriodPerformance], stats: LabelStats,
             estimate: EstimateStatus, diagnosis: Diagnosis, started: datetime, as_of: datetime) -> CheckOutcome:
    rules: list[RuleResult] = []
    for p in periods:
        for m in p.metrics:
            if m.status is None:
                continue
            direction = ">=" if m.metric.higher_is_better else "<="
            value = m.realized.value if m.realized else None
            interval = (f" [{m.realized.low:.3f}, {m.realized.high:.3f}] ({m.realized.method.value})"
                        if m.realized and m.realized.low is not None and m.realized.high is not None else "")
            rules.append(RuleResult(
                rule_id=f"performance.{m.metric.value}.{p.period}", kind="performance", columns=(spec.prediction,),
                severity=m.severity or Severity.ERROR, status=m.status,
                failing_rows=0, observed=value,
                expected=f"{direction} {m.bound:.4g} (reference {m.reference:.4g}, margin {spec.margin.describe()})",
                message=f"{m.metric.value} {_fmt(value)}{interval} on {p.mature:,} mature units of {p.period}"))
    judged = [p for p in periods if p.judged]
    metrics: dict[str, Any] = {
        "predictions": stats.predictions, "label_coverage": round(stats.coverage, 6), "mature": stats.mature,
        "late_labels": stats.late_labels, "unmatched_labels": stats.unmatched_labels,
        "duplicate_keys": stats.duplicate_keys, "missing_prediction_times": stats.missing_times, "periods": len(periods), "periods_judged": len(judged),
        "diagnosis": diagnosis.value, "estimate": "ran" if estimate.ran else "could not run",
    }
    if diagnosis not in (Diagnosis.HEALTHY, Diagnosis.NOT_JUDGED):
        metrics["containment"] = CONTAINMENT[diagnosis]  # for incident reports, which read outcomes only
    for key, value in (("median_label_delay_s", stats.median_delay_seconds),
                       ("p90_label_delay_s", stats.p90_delay_seconds), ("reference_ece", estimate.reference_ece)):
        if value is not None:
            metrics[key] = value
    headline = judged[-1] if judged else (periods[-1] if periods else None)
    if headline is not None:
        metrics["period"] = headline.period
        for m in headline.metrics:
            for prefix, measured in (("realized", m.realized), ("estimated", m.estimated)):
                if measured is not None and measured.value is not None and math.isfinite(measured.value):
                    metrics[f"{prefix}.{m.metric.value}"] = measured.value
    verdict = None
    if not judged:
        most = max((p.mature for p in periods), default=0)
        message = (f"insufficient: no period has {spec.min_labels:,} mature labels yet (at most {most:,}; "
                   f"maturity {_days(spec.label_maturity)})")
        rules = [RuleResult(rule_id="performance.labels", kind="performance", columns=(spec.label,),
                            severity=Severity.WARNING, status=CheckStatus.FAILED, observed=float(most),
                            expected=f">= {spec.min_labels} mature labels in a period", message=message)]
        verdict = Verdict.INSUFFICIENT
    status, severity = judge(rules)
    if judged:
        failed = [r for r in rules if r.status is not CheckStatus.PASSED]
        if failed:
            worst = "; ".join(f"{r.message.split(' on ')[0]} vs {r.expected.split(' (')[0]} in "
                              f"{r.rule_id.rsplit('.', 1)[-1]}"
                              + (" (within noise)" if r.severity is Severity.WARNING else "") for r in failed[:3])
            if len(failed) > 3:
                worst += f" ... and {len(failed) - 3} more"
            message = f"realized performance below the margin: {worst}"
        else:
            message = f"realized performance within the margin in {len(judged)} period(s)"
        if diagnosis is not Diagnosis.HEALTHY:
            message += f"; diagnosis: {diagnosis.value.replace('_', ' ')}"
    if not estimate.ran:
        message += f"; estimate could not run: {estimate.reason}"
    return CheckOutcome(
        check=name, kind=CheckKind.PERFORMANCE, status=status, severity=severity, started_at=started,
        finished_at=datetime.now(UTC), rows=stats.predictions, rules=tuple(rules), metrics=metrics, as_of=as_of,
        message=cap_text(message, MESSAGE_CHARS), verdict=verdict)
