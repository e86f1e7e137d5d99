"""The evidence pack's Dagster/MLflow adapter: read the records `guardrails.evidence` assembles a pack from.

Check history comes through `guardrails.dagster.history` and `guardrails.dagster.incidents` (the same readers
`guardrails incident` uses), the model's versions, verdicts, lineage, hold, pin and alias history through a
`guardrails.models.ModelGuard`, quarantine manifests from the store. Which version judged a check is read from
its metadata (``guardrails/model_version``, else ``model_version``); which version scored a batch from the
materialization metadata of a scoring asset (``model_version`` with ``model_name``, or ``model`` naming the
model, e.g. ``fraud_detector v2``); per-segment metrics from a fairness check's ``guardrails/fairness_gaps`` and
``guardrails/fairness_segments`` tables, and from the same tables a model asset's promotion gate recorded on its
materialization (``model_uri`` names the version judged).

Example:
    >>> import dagster as dg
    >>> with dg.instance_for_test() as instance:
    ...     gather_evidence_records(instance, model_name="fraud_detector").checks
    ()
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from guardrails.dagster._compat import checks_with_executions
from guardrails.dagster._guard_events import MODEL_VERSION_KEY, PLAIN_MODEL_VERSION_KEY
from guardrails.dagster.history import CheckHistoryEntry, read_check_history
from guardrails.dagster._scope import asset_partition_of_source
from guardrails.dagster.incidents import evaluation_from_history
from guardrails.dagster.ml._fairness import FAIRNESS_GAPS_KEY, FAIRNESS_SEGMENTS_KEY, FAIRNESS_VERDICT_KEY
from guardrails.evidence import CheckEvidence, EvidenceRecords, KeptBatch, ScoredBatch, SegmentMetrics
from guardrails.models import RegistryError
from guardrails.quarantine import QuarantineStore


def _version(metadata: Mapping[str, Any]) -> int | None:
    for key in (MODEL_VERSION_KEY, PLAIN_MODEL_VERSION_KEY):
        value = metadata.get(key)
        value = getattr(value, "value", value)
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return int(value)
    return None


def _rows(value: Any) -> tuple[dict[str, Any], ...]:
    records = getattr(value, "records", None) or ()
    return tuple(dict(getattr(r, "data", r)) for r in records)


def segment_metrics_of(entry: CheckHistoryEntry) -> SegmentMetrics | None:
    """The per-segment tables of a fairness evaluation, or None for any other check."""
    metadata = entry.metadata
    if FAIRNESS_VERDICT_KEY not in metadata and FAIRNESS_GAPS_KEY not in metadata:
        return None
    return SegmentMetrics(
        asset_key=entry.asset_key, check_name=entry.check_name,
        timestamp=entry.outcome.finished_at if entry.outcome is not None else entry.timestamp,
        partition=entry.partition, model_version=_version(metadata),
        verdict=str(metadata.get(FAIRNESS_VERDICT_KEY) or ""),
        gaps=_rows(metadata.get(FAIRNESS_GAPS_KEY)), segments=_rows(metadata.get(FAIRNESS_SEGMENTS_KEY)),
    )


def _gate_metrics(asset: str, materialization: Any, metadata: Mapping[str, Any], timestamp: float,
                  model_name: str) -> SegmentMetrics | None:
    """The fairness gate's tables a model asset recorded on its materialization (``model_uri`` names the version
    judged), or None."""
    uri = str(metadata.get("model_uri", ""))
    if FAIRNESS_VERDICT_KEY not in metadata or not uri.startswith(f"models:/{model_name}/"):
        return None
    version = uri.rsplit("/", 1)[-1]
    return SegmentMetrics(asset_key=asset, check_name="fairness gate (promotion)",
                          timestamp=datetime.fromtimestamp(timestamp, tz=UTC), partition=materialization.partition,
                          model_version=int(version) if version.isdigit() else None,
                          verdict=str(metadata[FAIRNESS_VERDICT_KEY]), gaps=_rows(metadata.get(FAIRNESS_GAPS_KEY)),
                          segments=_rows(metadata.get(FAIRNESS_SEGMENTS_KEY)))


def scored_batches(instance: dg.DagsterInstance, model_name: str, *,
                   limit: int = 500) -> tuple[tuple[ScoredBatch, ...], tuple[SegmentMetrics, ...]]:
    """Materializations that say they were scored by a version of `model_name` (newest `limit` per asset), and the
    fairness-gate tables a model asset recorded on its materializations."""
    found: list[ScoredBatch] = []
    gates: list[SegmentMetrics] = []
    for key in instance.get_asset_keys():
        records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=limit).records
        for record in records:
            materialization = record.asset_materialization
            if materialization is None:
                continue
            metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
            gate = _gate_metrics(key.to_user_string(), materialization, metadata, record.timestamp, model_name)
            if gate is not None:
                gates.append(gate)
            version = _version(metadata)
            named = metadata.get("model_name") == model_name or str(metadata.get("model", "")).startswith(
                f"{model_name} v")
            if version is None or not named or "model_uri" in metadata:  # the model asset itself trains, not scores
                continue
            rows = metadata.get("rows")
            found.append(ScoredBatch(asset=key.to_user_string(), partition=materialization.partition, version=version,
                                     at=datetime.fromtimestamp(record.timestamp, tz=UTC), run_id=record.run_id,
                                     rows=int(rows) if isinstance(rows, int) else None))
    return tuple(sorted(found, key=lambda s: s.at)), tuple(gates)


def gather_evidence_records(
    instance: dg.DagsterInstance,
    *,
    model_name: str,
    model_guard: Any | None = None,
    alias: str = "champion",
    assets: Iterable[str] | None = None,
    store: QuarantineStore | None = None,
    limit: int = 500,
) -> EvidenceRecords:
    """Everything kept about `model_name`: registry state and alias history (through `model_guard`), check
    history of `assets` (default: every asset with check executions), scored batches, quarantine manifests.

    A registry that cannot be read leaves the model's state out and says so in `notes`.
    """
    keys = list(assets) if assets is not None else sorted(
        {key.asset_key.to_user_string() for key in checks_with_executions(instance)})
    checks: list[CheckEvidence] = []
    fairness: list[SegmentMetrics] = []
    for key in keys:
        for entry in read_check_history(instance, key, limit=limit):
            evaluation = evaluation_from_history(entry)
            if evaluation is None:
                continue
            checks.append(CheckEvidence(evaluation=evaluation, model_version=_version(entry.metadata)))
            segments = segment_metrics_of(entry)
            if segments is not None:
                fairness.append(segments)
    kept = []
    for manifest in store.list() if store is not None else ():
        asset, partition = asset_partition_of_source(manifest.source) or (None, None)
        kept.append(KeptBatch(asset=asset, partition=partition, manifest=manifest))
    status, moves, notes = None, (), []
    if model_guard is not None:
        alias = model_guard.alias
        try:
            status = model_guard.status()
            moves = tuple(model_guard.history())
        except RegistryError as exc:
            notes.append(f"model registry unavailable (versions, verdicts, lineage, alias history): {exc}")
    else:
        notes.append("no model registry given: versions, verdicts, lineage and alias history are not included")
    scored, gates = scored_batches(instance, model_name, limit=limit)
    return EvidenceRecords(
        model_name=model_name, alias=alias, status=status, alias_moves=moves, checks=tuple(checks),
        scored=scored, kept=tuple(kept), assets=tuple(keys), segment_metrics=(*fairness, *gates), notes=tuple(notes),
    )
