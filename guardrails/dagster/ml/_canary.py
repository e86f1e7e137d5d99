"""The canary check: a candidate model judged against the control on the per-unit outcomes of live traffic."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
import polars as pl

from guardrails.checks.canary import CanaryReport, CanarySpec, CanaryMetricResult, assess_canary, load_canary_spec
from guardrails.dagster._guard_events import CHALLENGER_ALIAS_KEY, MODEL_VERSION_KEY
from guardrails.dagster._scope import AuditScope
from guardrails.dagster.checks import AssetLike, _key_of, _partitions_def_of, asset_check
from guardrails.dagster.ml._common import check_result, error_outcome, optional_float, scores_metadata
from guardrails.outcome import CheckKind

CANARY_METRICS_KEY = "guardrails/canary_metrics"
CANARY_VERDICT_KEY = "guardrails/canary_verdict"
CANARY_SCORE_PREFIX = "guardrails/canary/"

CANARY_METRICS_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("metric", "string"),
        dg.TableColumn("verdict", "string", description="pass, fail or inconclusive"),
        dg.TableColumn("critical", "bool", description="Decided from the first look, before min_units."),
        dg.TableColumn("control", "float"),
        dg.TableColumn("candidate", "float"),
        dg.TableColumn("delta", "float", description="Candidate - control, oriented so that larger is better."),
        dg.TableColumn("sequential_lower", "float", description="Anytime-valid lower bound of delta (decides)."),
        dg.TableColumn("sequential_upper", "float", description="Anytime-valid upper bound of delta (decides)."),
        dg.TableColumn("fixed_n_lower", "float", description="Fixed-n interval, reported only."),
        dg.TableColumn("fixed_n_upper", "float", description="Fixed-n interval, reported only."),
        dg.TableColumn("threshold", "float", description="-margin: pass above it, fail below it."),
        dg.TableColumn("units", "int", description="Matured units with a value, both arms."),
        dg.TableColumn("units_needed", "int", description="More units for the stated power (empty: unknown)."),
        dg.TableColumn("message", "string"),
    ]
)

ObservationsLoader = Callable[[dg.AssetCheckExecutionContext], Any]
"""Reads the canary's per-unit observations for the check's run (e.g. the serving log with matured outcomes)."""


def build_canary_check(
    asset: AssetLike,
    *,
    spec: CanarySpec | str | os.PathLike[str],
    observations: ObservationsLoader | None = None,
    check_name: str = "canary",
    blocking: bool = False,
    required_resource_keys: Sequence[str] = (),
    version_column: str | None = None,
    challenger_alias: str | None = None,
) -> dg.AssetChecksDefinition:
    """A canary check on `asset`: is the candidate no worse than the control, by the spec's margins?

    The per-unit observations are `asset`'s stored value (one row per request, user or transaction: the
    variant that served it and its outcomes), or what `observations(context)` returns (e.g. a serving log read
    through a resource named in `required_resource_keys`). Every evaluation reads all units so far, so the
    check may run after every batch: its confidence sequences stay valid however often it looks. The spec is
    loaded now, so a malformed ``*.canary.yaml`` fails the code location load with file, line and field.

    Verdicts: pass (check passed), fail (failed at ERROR), inconclusive (failed at WARN: not enough evidence
    yet, never green), could not run (a sample-ratio mismatch, missing columns: failed at ERROR).

    Metadata (besides the outcome keys): ``guardrails/canary_verdict`` (pass | fail | inconclusive | error),
    ``guardrails/canary_metrics`` (a table: one row per metric with its verdict, both arms, delta, the
    sequential and fixed-n intervals, the threshold, units and units still needed) and
    ``guardrails/canary/<metric>.<estimate|lower|upper|margin|units_needed>`` floats (plotted over time).

    Wiring to the model guard: with `version_column` (the column of the serving log naming the model version that
    served each unit), the check records the candidate arm's version as ``guardrails/model_version`` (when the
    candidate's units name exactly one version), and `challenger_alias` as ``guardrails/challenger_alias``; the
    model guard sensor (``model_checks=[...]``) then fails that version and removes its serving alias on a
    ``fail``, and promotes it on a ``pass`` (`guardrails.models.ModelGuard.judge_canary`).

    Example:
        >>> import dagster as dg
        >>> @dg.asset
        ... def scored_transactions(): ...
        >>> build_canary_check(scored_transactions, spec="expectations/fraud_model.canary.yaml").check_key.name
        'canary'
    """
    resolved = spec if isinstance(spec, CanarySpec) else load_canary_spec(spec)
    key, partitions_def = _key_of(asset), _partitions_def_of(asset)
    check_spec = dg.AssetCheckSpec(
        check_name, asset=key, blocking=blocking,
        description=f"Candidate {resolved.candidate!r} no worse than control {resolved.control!r} on "
                    f"{', '.join(m.name for m in resolved.metrics)} (canary {resolved.name})",
    )

    def judge(context: dg.AssetCheckExecutionContext, data: Any) -> dg.AssetCheckResult:
        scope = AuditScope.from_context(context, key, partitions_def)
        report = assess_canary(data, resolved, as_of=scope.as_of, check=check_name)
        return check_result(report.outcome, check_spec, scope, {**canary_metadata(report), **wiring(data)})

    def wiring(data: Any) -> dict[str, dg.RawMetadataValue]:
        found: dict[str, dg.RawMetadataValue] = {}
        if version_column is not None:
            version = candidate_version(data, resolved, version_column)
            if version is not None:
                found[MODEL_VERSION_KEY] = version
        if challenger_alias is not None:
            found[CHALLENGER_ALIAS_KEY] = challenger_alias
        return found

    if observations is None:
        def run_check(context, observed):  # the checked asset's value holds the observations
            return judge(context, observed)
    else:
        def run_check(context):
            try:
                data = observations(context)
            except Exception as exc:  # no observations to judge: the check could not run (fail closed)
                scope = AuditScope.from_context(context, key, partitions_def)
                outcome = error_outcome(check_name, CheckKind.CANARY, None, scope.as_of,
                                        f"the canary observations could not be read: {exc}")
                return check_result(outcome, check_spec, scope, {CANARY_VERDICT_KEY: dg.MetadataValue.text("error"),
                                                                 **wiring(None)})
            return judge(context, data)

    return asset_check(run_check, op_name=f"{key.to_python_identifier()}__{check_name}", asset=key, name=check_name,
                       description=check_spec.description, blocking=blocking, partitions_def=partitions_def,
                       required_resource_keys=set(required_resource_keys) or None)


def candidate_version(data: Any, spec: CanarySpec, column: str) -> int | None:
    """The model version that served the candidate arm: the one value of `column` among the candidate's units, or
    None (no such column, no candidate unit, several versions, or unreadable data: never a guess)."""
    try:
        if isinstance(data, (str, os.PathLike)):
            frame = pl.scan_parquet(data)
        elif isinstance(data, pl.DataFrame):
            frame = data.lazy()
        elif hasattr(data, "to_arrow") or type(data).__module__.startswith("pyarrow"):
            frame = pl.from_arrow(data).lazy()  # type: ignore[union-attr]
        else:
            frame = pl.from_pandas(data).lazy()
        values = (frame.filter(pl.col(spec.variant_column).cast(pl.String) == str(spec.candidate))
                  .select(pl.col(column).drop_nulls().unique()).collect().to_series().to_list())
    except Exception:  # noqa: BLE001 - data the canary itself reports on; here it only means "no version named"
        return None
    if len(values) != 1:
        return None
    value = values[0]
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def canary_metadata(report: CanaryReport) -> dict[str, dg.MetadataValue]:
    """The check's own metadata: the verdict, the per-metric table, and every number as a float."""
    return {CANARY_VERDICT_KEY: dg.MetadataValue.text(report.verdict.value),
            CANARY_METRICS_KEY: canary_metrics_table(report.metrics),
            **scores_metadata(report.outcome.metrics, CANARY_SCORE_PREFIX)}


def canary_metrics_table(metrics: Sequence[CanaryMetricResult]) -> dg.TableMetadataValue:
    """One row per metric, in the spec's order."""
    records = [
        dg.TableRecord({
            "metric": m.name, "verdict": m.verdict.value, "critical": m.critical,
            "control": optional_float(m.control), "candidate": optional_float(m.candidate),
            "delta": optional_float(m.estimate), "sequential_lower": optional_float(m.sequential.lower),
            "sequential_upper": optional_float(m.sequential.upper), "fixed_n_lower": optional_float(m.fixed_n.lower),
            "fixed_n_upper": optional_float(m.fixed_n.upper),
            "threshold": optional_float(-m.margin) if m.margin is not None else None,
            "units": int(m.units), "units_needed": m.units_needed, "message": m.message,
        })
        for m in metrics
    ]
    return dg.MetadataValue.table(records=records, schema=CANARY_METRICS_SCHEMA)
