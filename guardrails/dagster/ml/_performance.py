"""The realized-performance check: logged predictions, delayed labels, the label-free estimate and the diagnosis."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from guardrails._text import cap_text
from guardrails.checks.performance import (
    Diagnosis,
    PerformanceReport,
    PerformanceSpec,
    assess_performance,
    load_performance_spec,
)
from guardrails.dagster._guard_events import MODEL_VERSION_KEY
from guardrails.dagster._scope import AuditScope
from guardrails.dagster.checks import AssetLike, _key_of, _partitions_def_of, asset_check
from guardrails.dagster.ml._common import check_result, error_outcome, optional_float, scores_metadata
from guardrails.outcome import CheckKind, CheckOutcome

PERFORMANCE_METRICS_KEY = "guardrails/performance_metrics"
PERFORMANCE_DIAGNOSIS_KEY = "guardrails/performance_diagnosis"
PERFORMANCE_SCORE_PREFIX = "guardrails/performance/"

PERFORMANCE_METRICS_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("period", "string"),
        dg.TableColumn("metric", "string"),
        dg.TableColumn("status", "string", description="passed, failed (error or warning) or not judged"),
        dg.TableColumn("realized", "float", description="On the period's mature units."),
        dg.TableColumn("low", "float", description="The realized value's interval."),
        dg.TableColumn("high", "float"),
        dg.TableColumn("interval", "string", description="wilson, hanley_mcneil, normal or bootstrap"),
        dg.TableColumn("estimated", "float", description="From calibrated scores, without labels."),
        dg.TableColumn("reference", "float"),
        dg.TableColumn("bound", "float", description="The worst acceptable value (reference and margin)."),
        dg.TableColumn("mature", "int", description="Mature units of the period."),
        dg.TableColumn("diagnosis", "string"),
    ]
)

Loader = Callable[[dg.AssetCheckExecutionContext], Any]
"""Reads a frame (or a Parquet path) for the check's run: the labels that arrived, or the labelled reference."""
SpecLike = PerformanceSpec | str | os.PathLike[str]


def build_performance_check(
    asset: AssetLike,
    *,
    spec: SpecLike,
    labels: AssetLike | Loader | None = None,
    reference_data: AssetLike | Loader | None = None,
    drift: Callable[[dg.AssetCheckExecutionContext], CheckOutcome | None] | None = None,
    check_name: str = "performance",
    blocking: bool = False,
    required_resource_keys: Sequence[str] = (),
    as_of: Callable[[dg.AssetCheckExecutionContext], datetime] | None = None,
) -> dg.AssetChecksDefinition:
    """A check on the logged-predictions `asset`: realized performance on matured labels, estimated where they are
    not in yet, and which drift explains a change (`guardrails.checks.assess_performance`).

    The predictions are `asset`'s stored value. `labels` and `reference_data` are assets (loaded through their IO
    managers: use this for unpartitioned logs) or loaders ``fn(context) -> frame or Parquet path`` (for a
    partitioned log whose labels arrive later than the partition, e.g. read the chargeback table through a
    resource named in `required_resource_keys`); `labels` None reads them from the predictions. `drift(context)`
    may return the input-drift outcome of the same data, as evidence.

    Severity follows the outcome: a fall beyond noise fails at ERROR (blocks downstream when `blocking`), a dip
    within noise and too few mature labels (verdict insufficient) fail at WARN, never pass; a missing column or
    an unreadable input fails at ERROR (the check could not run). A bad spec raises when the definitions load.

    Metadata (besides the outcome keys): ``guardrails/performance_metrics`` (a table: one row per period and
    metric with realized value and interval, estimate, reference, bound and status), ``guardrails/
    performance_diagnosis`` (markdown: diagnosis, evidence and containment), ``guardrails/performance/<name>``
    floats (``realized.precision``, ``estimated.precision``, ``label_coverage``... of the latest judged period) and,
    when the spec names a `model_version` column, ``guardrails/model_version`` (the version judged: the worst of
    the versions in the log), which the model guard sensor fails on concept drift and holds promotion on any other
    diagnosis.

    Example:
        >>> import dagster as dg
        >>> @dg.asset
        ... def scored_transactions(): ...
        >>> build_performance_check(scored_transactions,
        ...                         spec="expectations/transactions.performance.yaml").check_key.name
        'performance'
    """
    resolved = spec if isinstance(spec, PerformanceSpec) else load_performance_spec(spec)
    key, partitions_def = _key_of(asset), _partitions_def_of(asset)
    description = (f"Realized {', '.join(m.value for m in resolved.metrics)} of {key.to_user_string()} on labels "
                   f"mature after {_days(resolved.label_maturity)}, against the reference with a margin of "
                   f"{resolved.margin.describe()}")
    check_spec = dg.AssetCheckSpec(check_name, asset=key, blocking=blocking, description=description)
    additional_ins: dict[str, dg.AssetIn] = {}
    for name, source in (("labels", labels), ("reference_data", reference_data)):
        if _is_asset(source):
            additional_ins[name] = dg.AssetIn(_key_of(source))

    def run_check(context, predictions, **loaded):  # no annotations: with postponed evaluation Dagster sees strings
        scope = AuditScope.from_context(context, key, partitions_def)
        try:
            inputs = {name: loaded[name] if name in loaded else (source(context) if callable(source) else None)
                      for name, source in (("labels", labels), ("reference_data", reference_data))}
            evidence = drift(context) if drift is not None else None
        except Exception as exc:  # an input that cannot be read: the check could not run (fail closed)
            outcome = error_outcome(check_name, CheckKind.PERFORMANCE, None, scope.as_of,
                                    f"an input could not be read: {type(exc).__name__}: {exc}")
            return check_result(outcome, check_spec, scope, {})
        report = assess_performance(predictions, resolved, inputs["labels"], inputs["reference_data"], evidence,
                                    as_of=as_of(context) if as_of is not None else datetime.now(UTC),
                                    check=check_name)
        return check_result(report.outcome, check_spec, scope, performance_metadata(report))

    signature_names = ["context", "predictions", *additional_ins]
    run = _with_parameters(run_check, signature_names)
    return asset_check(run, op_name=f"{key.to_python_identifier()}__{check_name}", asset=key, name=check_name,
                       description=description, blocking=blocking, partitions_def=partitions_def,
                       additional_ins=additional_ins or None,
                       required_resource_keys=set(required_resource_keys) or None)


def _days(duration: timedelta) -> str:
    return f"{duration.days}d" if duration == timedelta(days=duration.days) else str(duration)


def _is_asset(source: object) -> bool:
    """An asset to load through its IO manager (an `AssetsDefinition` is callable too, so test for assets first)."""
    return isinstance(source, dg.AssetsDefinition | dg.SourceAsset | dg.AssetSpec | dg.AssetKey | str | list | tuple)


def _with_parameters(fn: Callable[..., Any], names: list[str]) -> Callable[..., Any]:
    """`fn` under a signature naming exactly `names` (Dagster maps inputs to parameters by name)."""
    import inspect

    signature = inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = signature.bind(*args, **kwargs).arguments
        return fn(given["context"], given["predictions"], **{n: given[n] for n in names[2:]})

    wrapper.__signature__ = signature  # type: ignore[attr-defined]
    return wrapper


def performance_metadata(report: PerformanceReport) -> dict[str, dg.MetadataValue]:
    """The per-metric table, the diagnosis as markdown, and every numeric metric as a float."""
    extra: dict[str, dg.MetadataValue] = {}
    if report.periods:
        extra[PERFORMANCE_METRICS_KEY] = performance_metrics_table(report)
    if report.diagnosis is not Diagnosis.NOT_JUDGED or not report.estimate.ran:
        lines = [f"**Diagnosis: {report.diagnosis.value.replace('_', ' ')}**", ""]
        lines += [f"- {cap_text(line)}" for line in report.evidence[:10]]
        if report.containment:
            lines += ["", report.containment]
        if not report.estimate.ran and report.estimate.reason:
            lines += ["", f"Estimate could not run: {cap_text(report.estimate.reason)}"]
        extra[PERFORMANCE_DIAGNOSIS_KEY] = dg.MetadataValue.md("\n".join(lines))
    metrics = dict(report.outcome.metrics)
    version = metrics.pop("model_version", None)
    if version is not None:  # the version the verdict is about (the spec's model_version column): the guard's key
        extra[MODEL_VERSION_KEY] = (dg.MetadataValue.int(version) if isinstance(version, int)
                                    else dg.MetadataValue.text(cap_text(str(version))))
    extra.update(scores_metadata(metrics, PERFORMANCE_SCORE_PREFIX))
    return extra


def performance_metrics_table(report: PerformanceReport) -> dg.TableMetadataValue:
    """One row per period and judged-or-estimated metric, newest period first (at most 200 rows)."""
    records = []
    for period in reversed(report.periods):
        for m in period.metrics:
            if m.status is None and m.estimated is None and m.realized is None:
                continue
            status = "not judged" if m.status is None else (
                m.status.value if m.status.value == "passed" else f"failed ({m.severity.value if m.severity else ''})")
            realized = m.realized
            records.append(dg.TableRecord({
                "period": period.period, "metric": m.metric.value, "status": status,
                "realized": optional_float(realized.value) if realized else None,
                "low": optional_float(realized.low) if realized else None,
                "high": optional_float(realized.high) if realized else None,
                "interval": realized.method.value if realized else "",
                "estimated": optional_float(m.estimated.value) if m.estimated else None,
                "reference": optional_float(m.reference), "bound": optional_float(m.bound),
                "mature": int(period.mature), "diagnosis": period.diagnosis.value,
            }))
    return dg.MetadataValue.table(records=records[:200], schema=PERFORMANCE_METRICS_SCHEMA)

