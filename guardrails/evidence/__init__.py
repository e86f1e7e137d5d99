"""The evidence pack: which model decided what, on which data, with which checks, from the records we keep.

The core is pure: `build_evidence_pack(EvidenceRecords, since=, until=)` selects and joins records an adapter
gathered (alias history, version states with verdicts and lineage, check evaluations, scored batches,
quarantine manifests, per-segment fairness tables) into an `EvidencePack`, rendered by `evidence_markdown`
(escaped and capped, for a person) or `evidence_json`. `replay_decisions` counts the decisions two versions'
scores would make differently on one batch, overall and per segment (polars).

The Dagster/MLflow adapter is `guardrails.dagster.evidence.gather_evidence_records`; the CLI is
``guardrails evidence``.
"""

from guardrails.evidence._build import build_evidence_pack, serving_periods
from guardrails.evidence._render import evidence_json, evidence_markdown
from guardrails.evidence._replay import DecisionReplay, SegmentReplay, replay_decisions
from guardrails.evidence._types import (
    CheckEvidence,
    EvidencePack,
    EvidenceRecords,
    KeptBatch,
    ScoredBatch,
    SegmentMetrics,
    ServingPeriod,
    VersionEvidence,
)

__all__ = [
    "CheckEvidence",
    "DecisionReplay",
    "EvidencePack",
    "EvidenceRecords",
    "KeptBatch",
    "ScoredBatch",
    "SegmentReplay",
    "SegmentMetrics",
    "ServingPeriod",
    "VersionEvidence",
    "build_evidence_pack",
    "evidence_json",
    "evidence_markdown",
    "replay_decisions",
    "serving_periods",
]
