"""Rank likely causes from the rules that failed: which kind of rule broke tells what probably changed upstream.

Each failed rule points at one `Cause` with a prior weight (a missing column or a wrong type is almost surely a
schema change; a failed range rule is a weaker hint, since a schema or unit change also trips it). A cause's
score is its weight times the share of failing evaluations showing it, times 0.6 when it was only ever seen at
warning severity; a check that could not run points at unreadable input. A rule that could not run on the
batch (status error: the column it reads is missing or retyped) points at a schema change whatever its kind,
so a lost column gets the same diagnosis from every check (see `guardrails.outcome.judge`). Ties break by
cause name, so the ranking is deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from guardrails.incidents._records import Evaluation
from guardrails.incidents._types import Cause, FiredCheck, Hypothesis
from guardrails.outcome import CheckKind, CheckStatus, RuleResult, Severity, Verdict

RULE_CAUSES: dict[str, tuple[Cause, float]] = {
    "type": (Cause.SCHEMA_CHANGE, 1.0),
    "not_null": (Cause.NULL_FLOOD, 0.9),
    "missing_values": (Cause.NULL_FLOOD, 0.9),
    "allowed_values": (Cause.UNKNOWN_CATEGORIES, 0.9),
    "range": (Cause.OUT_OF_RANGE, 0.8),
    "unique": (Cause.DUPLICATES, 0.8),
    "pattern": (Cause.FORMAT_CHANGE, 0.7),
    "length": (Cause.FORMAT_CHANGE, 0.7),
    "row_count": (Cause.VOLUME_CHANGE, 0.7),
    "not_in_future": (Cause.FUTURE_TIMESTAMPS, 0.7),
    "max_age": (Cause.STALE_SOURCE, 0.8),
    "freshness": (Cause.STALE_SOURCE, 0.8),
    "drift": (Cause.DRIFT, 0.7),
    "parity": (Cause.TRAINING_SERVING_SKEW, 0.8),
}
"""Rule kind -> (cause, prior weight). Kinds not listed fall back to the outcome's check kind."""

KIND_CAUSES: dict[CheckKind, tuple[Cause, float]] = {
    CheckKind.FRESHNESS: (Cause.STALE_SOURCE, 0.8),
    CheckKind.DRIFT: (Cause.DRIFT, 0.7),
    CheckKind.PARITY: (Cause.TRAINING_SERVING_SKEW, 0.8),
    CheckKind.MODEL: (Cause.MODEL_REGRESSION, 0.8),
    CheckKind.CANARY: (Cause.MODEL_REGRESSION, 0.8),  # the candidate is worse than the champion on live traffic
}
PERFORMANCE_CAUSES: dict[str, tuple[Cause, float]] = {
    "concept_drift": (Cause.CONCEPT_DRIFT, 0.9),
    "covariate_shift": (Cause.DRIFT, 0.8),
}
"""A failed performance outcome's diagnosis (metric ``diagnosis``) -> cause; any other diagnosis: model regression."""
UNREADABLE_WEIGHT = 1.0
WARNING_FACTOR = 0.6

TITLES = {
    Cause.SCHEMA_CHANGE: "Schema change upstream",
    Cause.NULL_FLOOD: "Null flood",
    Cause.UNKNOWN_CATEGORIES: "Unknown categories from upstream",
    Cause.OUT_OF_RANGE: "Out-of-range values (bad values or a unit change)",
    Cause.DUPLICATES: "Duplicated delivery (replayed or double-written records)",
    Cause.FORMAT_CHANGE: "Format change in identifiers or codes",
    Cause.VOLUME_CHANGE: "Partial or oversized delivery",
    Cause.FUTURE_TIMESTAMPS: "Clock or time-zone bug upstream (timestamps in the future)",
    Cause.STALE_SOURCE: "Stale source (data stopped arriving or arrives late)",
    Cause.DRIFT: "Distribution drift",
    Cause.TRAINING_SERVING_SKEW: "Training/serving skew",
    Cause.MODEL_REGRESSION: "Model regression",
    Cause.CONCEPT_DRIFT: "Concept drift (the inputs look as before; the outcome no longer follows them)",
    Cause.UNREADABLE_INPUT: "Unreadable or corrupt input (the check could not run)",
}


def _cause_of(rule: RuleResult, kind: CheckKind, diagnosis: object = None) -> tuple[Cause, float] | None:
    if not rule.ran:  # a rule for an engine guardrails does not have says nothing about the data
        return None
    if rule.status is CheckStatus.ERROR:
        return RULE_CAUSES["type"]  # the rule could not run on this batch's columns: a schema change
    if kind is CheckKind.PERFORMANCE:  # realized performance fell: which drift, the check's diagnosis says
        return PERFORMANCE_CAUSES.get(str(diagnosis), (Cause.MODEL_REGRESSION, 0.7))
    return RULE_CAUSES.get(rule.kind) or KIND_CAUSES.get(kind)


def rank_hypotheses(failures: Sequence[Evaluation], fired: Sequence[FiredCheck]) -> tuple[Hypothesis, ...]:
    """Likely causes of `failures`, best first, each with the evidence from `fired` that supports it.

    Example:
        >>> from datetime import datetime, timezone
        >>> from guardrails.outcome import CheckOutcome
        >>> t = datetime(2026, 11, 3, tzinfo=timezone.utc)
        >>> rule = RuleResult(rule_id="amount.not_null", kind="not_null", columns=("amount",),
        ...                   severity=Severity.ERROR, status=CheckStatus.FAILED, failing_rows=900)
        >>> outcome = CheckOutcome(check="c", kind=CheckKind.CONTRACT, status=CheckStatus.FAILED,
        ...                        severity=Severity.ERROR, rows=1000, rules=(rule,), started_at=t, finished_at=t)
        >>> failure = Evaluation(asset_key="a", check_name="c", timestamp=t, passed=False, outcome=outcome)
        >>> [(h.cause.value, h.score) for h in rank_hypotheses([failure], [])]
        [('null_flood', 0.9)]
    """
    judged = [f for f in failures if f.outcome is not None]
    if not judged:
        return ()
    seen: dict[Cause, set[int]] = defaultdict(set)
    weights: dict[Cause, float] = {}
    error_severity: dict[Cause, bool] = defaultdict(bool)
    columns: dict[Cause, list[str]] = defaultdict(list)
    for index, evaluation in enumerate(judged):
        outcome = evaluation.outcome
        assert outcome is not None
        if outcome.status is CheckStatus.ERROR:
            seen[Cause.UNREADABLE_INPUT].add(index)
            weights[Cause.UNREADABLE_INPUT] = UNREADABLE_WEIGHT
            error_severity[Cause.UNREADABLE_INPUT] = True
            continue
        if outcome.verdict is Verdict.INSUFFICIENT and outcome.kind is CheckKind.PERFORMANCE:
            continue  # labels not mature yet: no evidence of anything
        if outcome.verdict is Verdict.INCONCLUSIVE and outcome.kind is CheckKind.CANARY:
            continue  # the canary is still collecting: no evidence of anything
        for rule in outcome.failed_rules:
            found = _cause_of(rule, outcome.kind, outcome.metrics.get("diagnosis"))
            if found is None:
                continue
            cause, weight = found
            seen[cause].add(index)
            weights[cause] = max(weights.get(cause, 0.0), weight)
            error_severity[cause] |= rule.severity is Severity.ERROR
            columns[cause].extend(c for c in rule.columns if c not in columns[cause])
    ranked = []
    for cause, indexes in seen.items():
        share = len(indexes) / len(judged)
        score = round(weights[cause] * share * (1.0 if error_severity[cause] else WARNING_FACTOR), 2)
        ranked.append(
            Hypothesis(cause=cause, title=_title(cause, columns[cause]), score=score,
                       evidence=_evidence(cause, fired, len(indexes), len(judged), judged))
        )
    ranked.sort(key=lambda h: (-h.score, h.cause.value))
    return tuple(ranked)


def _title(cause: Cause, columns: Sequence[str]) -> str:
    named = ", ".join(f"`{c}`" for c in columns[:5])
    if not named or cause in (Cause.UNREADABLE_INPUT, Cause.VOLUME_CHANGE, Cause.MODEL_REGRESSION,
                              Cause.CONCEPT_DRIFT):
        return TITLES[cause]
    return f"{TITLES[cause]} in {named}"


def _evidence(
    cause: Cause, fired: Sequence[FiredCheck], showing: int, total: int, judged: Sequence[Evaluation]
) -> tuple[str, ...]:
    lines = [f"seen in {showing} of {total} failing evaluation{'s' if total != 1 else ''}"]
    if cause is Cause.UNREADABLE_INPUT:
        errors = sorted({e.outcome.error or e.outcome.message for e in judged
                         if e.outcome is not None and e.outcome.status is CheckStatus.ERROR})
        lines.extend(f"check could not run: {error}" for error in errors[:3])
        return tuple(lines)
    if cause is Cause.SCHEMA_CHANGE:
        # Rules that could not run have no kind of their own pointing here (a drift or not-null rule): list them.
        unrun = dict.fromkeys(f"{r.rule_id} could not run: {r.message}" for e in judged if e.outcome is not None
                              for r in e.outcome.rules if r.status is CheckStatus.ERROR)
        lines.extend(list(unrun)[:5])
    # A performance check names the containment its diagnosis calls for (roll back or retrain for concept drift,
    # quarantine or fall back for a data change).
    lines.extend(dict.fromkeys(
        f"containment: {e.outcome.metrics['containment']}" for e in judged if e.outcome is not None
        and e.outcome.kind is CheckKind.PERFORMANCE and isinstance(e.outcome.metrics.get("containment"), str)
        and PERFORMANCE_CAUSES.get(str(e.outcome.metrics.get("diagnosis")), (Cause.MODEL_REGRESSION,))[0] is cause))
    for check in fired:
        found = RULE_CAUSES.get(check.kind)
        if found is None or found[0] is not cause:
            continue
        line = f"{check.rule_id} failed {check.times}x"
        if check.failing_rows:
            share = f", {check.failing_rows / check.rows:.0%}" if check.rows else ""
            line += f" (up to {check.failing_rows:,} rows{share})"
        if check.observed is not None and check.kind == "drift":
            line += f", observed {check.observed:.3g}"
        if check.message:
            line += f": {check.message}"
        if check.examples:
            line += "; values seen: " + ", ".join(check.examples)
        lines.append(line)
    return tuple(lines)
