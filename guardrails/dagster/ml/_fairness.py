"""The fairness gate as an asset check on a scored asset, with per-gap and per-segment tables in its metadata."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import dagster as dg

from guardrails._text import cap_text
from guardrails.checks.fairness import (
    FairnessGap,
    FairnessReport,
    FairnessSpec,
    SegmentMetric,
    assess_fairness,
    load_fairness_spec,
    render_fairness_markdown,
)
from guardrails.dagster._scope import AuditScope
from guardrails.dagster.checks import AssetLike, _key_of, _partitions_def_of, asset_check
from guardrails.dagster.ml._common import check_result, error_outcome, optional_float, scores_metadata
from guardrails.outcome import CheckKind

FAIRNESS_GAPS_KEY = "guardrails/fairness_gaps"
FAIRNESS_SEGMENTS_KEY = "guardrails/fairness_segments"
FAIRNESS_REPORT_KEY = "guardrails/fairness_report"
FAIRNESS_VERDICT_KEY = "guardrails/fairness_verdict"
FAIRNESS_SCORE_PREFIX = "guardrails/fairness/"
MAX_SEGMENT_ROWS = 500
"""Segment rows kept in the table (flagged and too-small ones first); `FairnessReport.segments` has them all."""

ChampionSource = Callable[[dg.AssetCheckExecutionContext], Any]
"""Returns the champion's scored data, its `FairnessReport`, or its recorded gaps, for the check's run."""

FAIRNESS_GAPS_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("column", "string"),
    dg.TableColumn("metric", "string"),
    dg.TableColumn("verdict", "string", description="pass, fail, insufficient or error"),
    dg.TableColumn("difference", "float", description="Largest minus smallest segment value."),
    dg.TableColumn("difference_lower", "float", description="Simultaneous lower bound (judged)."),
    dg.TableColumn("difference_upper", "float"),
    dg.TableColumn("ratio", "float", description="Smallest over largest segment value."),
    dg.TableColumn("lowest", "string"),
    dg.TableColumn("highest", "string"),
    dg.TableColumn("segments_judged", "int"),
    dg.TableColumn("segments_too_small", "int"),
    dg.TableColumn("champion_difference", "float"),
    dg.TableColumn("widening", "float", description="Candidate gap minus the champion's."),
    dg.TableColumn("widening_lower", "float"),
    dg.TableColumn("champion_verdict", "string"),
    dg.TableColumn("message", "string"),
])
FAIRNESS_SEGMENTS_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("column", "string"),
    dg.TableColumn("segment", "string"),
    dg.TableColumn("metric", "string"),
    dg.TableColumn("value", "float"),
    dg.TableColumn("lower", "float"),
    dg.TableColumn("upper", "float"),
    dg.TableColumn("rows", "int"),
    dg.TableColumn("numerator", "int"),
    dg.TableColumn("denominator", "int"),
    dg.TableColumn("status", "string", description="judged or too_small"),
    dg.TableColumn("p_adjusted", "float", description="Multiplicity-adjusted p-value of exceeding the tolerance."),
    dg.TableColumn("flag", "string", description="low / high: shown beyond the tolerance from another segment"),
])


def build_fairness_checks(
    assets: Iterable[AssetLike],
    *,
    spec: FairnessSpec | str | os.PathLike[str],
    champion: ChampionSource | str | os.PathLike[str] | Mapping[str, float] | None = None,
    check_name: str = "fairness",
    blocking: bool = False,
    required_resource_keys: Sequence[str] = (),
) -> list[dg.AssetChecksDefinition]:
    """One fairness check per scored asset: its stored rows judged with `assess_fairness` against the spec.

    The spec is read when the definitions load, so a bad ``*.fairness.yaml`` fails the code location with its file,
    line and field. Severity follows the outcome: a gap (or a widening of the champion's) shown beyond tolerance
    fails at ERROR (blocks downstream when `blocking`); too few segments large enough is the verdict
    ``insufficient`` at WARN, never a pass; unreadable rows or a missing prediction or label column fail at ERROR
    (could not run).

    Args:
        assets: the scored assets (their value holds the spec's prediction, label and segment columns).
        spec: a `FairnessSpec` or the path of its YAML file.
        champion: the champion's scored data (a Parquet path), recorded gaps, or a function of the check's context
            returning either (e.g. reading the champion's scores for the same partition through a resource named
            in `required_resource_keys`); a function that raises makes the check "could not run".
        check_name: the asset check's name.
        blocking: block downstream steps (and automation) on an ERROR-severity failure.
        required_resource_keys: resources the `champion` function reads.

    Metadata (besides the outcome keys): ``guardrails/fairness_gaps`` (a table, one row per segment column and
    metric), ``guardrails/fairness_segments`` (one row per segment and metric, flagged and too-small first, at most
    500), ``guardrails/fairness_report`` (Markdown), ``guardrails/fairness_verdict`` and
    ``guardrails/fairness/<metric>`` floats (``difference.country.precision``, ``max_difference``...).

    Example:
        >>> import dagster as dg
        >>> @dg.asset
        ... def scored(): ...
        >>> [c.check_key.name for c in build_fairness_checks([scored],
        ...                                                 spec="expectations/transactions.fairness.yaml")]
        ['fairness']
    """
    resolved = spec if isinstance(spec, FairnessSpec) else load_fairness_spec(spec)
    return [_fairness_check(_key_of(item), _partitions_def_of(item), resolved, champion, check_name=check_name,
                            blocking=blocking, required_resource_keys=required_resource_keys)
            for item in assets]


def _fairness_check(key: dg.AssetKey, partitions_def: dg.PartitionsDefinition | None, spec: FairnessSpec,
                    champion: Any, *, check_name: str, blocking: bool,
                    required_resource_keys: Sequence[str]) -> dg.AssetChecksDefinition:
    check_spec = dg.AssetCheckSpec(
        check_name, asset=key, blocking=blocking,
        description=f"Per-segment fairness of {key.to_user_string()} across {', '.join(spec.segments)} "
                    f"({', '.join(spec.metrics)}; {spec.tolerance.describe()})",
    )

    def run_check(context, scored):  # no annotations: with postponed evaluation Dagster would see strings
        scope = AuditScope.from_context(context, key, partitions_def)
        baseline = champion
        if callable(champion):
            try:
                baseline = champion(context)
            except Exception as exc:  # no champion to compare with: the check could not run (fail closed)
                outcome = error_outcome(check_name, CheckKind.FAIRNESS, None, scope.as_of,
                                        f"the champion's scores could not be read: {type(exc).__name__}: {exc}")
                return check_result(outcome, check_spec, scope, {})
        report = assess_fairness(scored, spec, champion=baseline, check=check_name, as_of=scope.as_of)
        return check_result(report.outcome, check_spec, scope, fairness_metadata(report))

    return asset_check(run_check, op_name=f"{key.to_python_identifier()}__{check_name}", asset=key, name=check_name,
                       description=check_spec.description, blocking=blocking, partitions_def=partitions_def,
                       required_resource_keys=set(required_resource_keys) or None)


def fairness_metadata(report: FairnessReport) -> dict[str, dg.MetadataValue]:
    """The gaps and segments tables, the Markdown report, the verdict and every gap as a float."""
    extra: dict[str, dg.MetadataValue] = {FAIRNESS_VERDICT_KEY: dg.MetadataValue.text(report.verdict.value)}
    if report.gaps:
        extra[FAIRNESS_GAPS_KEY] = fairness_gaps_table(report.gaps)
        extra[FAIRNESS_REPORT_KEY] = dg.MetadataValue.md(render_fairness_markdown(report))
    if report.segments:
        extra[FAIRNESS_SEGMENTS_KEY] = fairness_segments_table(report.segments)
    extra.update(scores_metadata(report.outcome.metrics, FAIRNESS_SCORE_PREFIX))
    return extra


def _text(value: str | None) -> str:
    return "(null)" if value is None else cap_text(value)


def fairness_gaps_table(gaps: Sequence[FairnessGap]) -> dg.TableMetadataValue:
    """One row per (segment column, metric): the gap, its bounds, the pair, the champion comparison."""
    records = [dg.TableRecord({
        "column": g.column, "metric": g.metric, "verdict": g.verdict.value,
        "difference": optional_float(g.difference), "difference_lower": optional_float(g.difference_lower),
        "difference_upper": optional_float(g.difference_upper), "ratio": optional_float(g.ratio),
        "lowest": _text(g.low_segment) if g.difference is not None else "",
        "highest": _text(g.high_segment) if g.difference is not None else "",
        "segments_judged": g.segments_judged, "segments_too_small": g.segments_too_small,
        "champion_difference": optional_float(g.champion_difference), "widening": optional_float(g.widening),
        "widening_lower": optional_float(g.widening_lower),
        "champion_verdict": g.champion_verdict.value if g.champion_verdict is not None else "",
        "message": g.message,
    }) for g in gaps]
    return dg.MetadataValue.table(records=records, schema=FAIRNESS_GAPS_SCHEMA)


def fairness_segments_table(segments: Sequence[SegmentMetric]) -> dg.TableMetadataValue:
    """One row per segment and metric, flagged and too-small first, at most `MAX_SEGMENT_ROWS`."""
    ordered = sorted(segments, key=lambda s: (not s.flag, s.status.value != "too_small"))
    records = [dg.TableRecord({
        "column": s.column, "segment": _text(s.segment), "metric": s.metric, "value": optional_float(s.value),
        "lower": optional_float(s.lower), "upper": optional_float(s.upper), "rows": s.rows,
        "numerator": s.numerator, "denominator": s.denominator, "status": s.status.value,
        "p_adjusted": optional_float(s.p_adjusted), "flag": s.flag,
    }) for s in ordered[:MAX_SEGMENT_ROWS]]
    return dg.MetadataValue.table(records=records, schema=FAIRNESS_SEGMENTS_SCHEMA)
