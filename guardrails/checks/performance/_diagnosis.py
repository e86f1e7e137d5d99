"""Which drift is it: reconcile the label-free estimate with the realized value once labels mature.

The estimate assumes P(outcome | score) is what it was on the reference. So, per metric, against the reference
and the margin:

- estimate held, realized held: `healthy`;
- estimate held, realized fell: `concept_drift` (the inputs look as before, the outcome no longer follows them);
- estimate moved and realized followed it (the estimate within a margin of the realized value's interval):
  `covariate_shift` (the inputs moved; the relation to the outcome did not);
- the label rate changed while the ranking held (ROC AUC within its margin): `prior_shift`. "Changed" is
  measured against the label rate the calibrated scores expect on the same units when there is an estimate (a
  covariate shift moves both alike), else against the reference's; a change in the label rate alone leaves the
  ranking intact, concept drift does not;
- anything else: `unknown` (e.g. the estimate moved and the realized value went elsewhere: both at once).

Without an estimate (no labelled reference, or one too badly calibrated), a realized fall with an input-drift
check that passed reads as `concept_drift` (the inputs did not move), otherwise `unknown`. An input-drift outcome,
when given, is further evidence: it is named in the evidence, and a failed one with an estimate that held is
noted (the drifting inputs do not move the expected performance).

The containment differs, which is why the report must say which one it is (`CONTAINMENT`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from guardrails.checks.performance._spec import Margin, Metric
from guardrails.outcome import CheckOutcome, CheckStatus


class Diagnosis(StrEnum):
    """What changed, from the estimate, the realized value and the label rate (`None` in a report: not judged)."""

    HEALTHY = "healthy"
    CONCEPT_DRIFT = "concept_drift"
    COVARIATE_SHIFT = "covariate_shift"
    PRIOR_SHIFT = "prior_shift"
    UNKNOWN = "unknown"
    NOT_JUDGED = "not_judged"


SERIOUSNESS = (Diagnosis.NOT_JUDGED, Diagnosis.HEALTHY, Diagnosis.PRIOR_SHIFT, Diagnosis.UNKNOWN,
               Diagnosis.COVARIATE_SHIFT, Diagnosis.CONCEPT_DRIFT)
"""Order in which one period's diagnosis outranks another's for the report's headline."""

CONTAINMENT = {
    Diagnosis.CONCEPT_DRIFT: (
        "Concept drift: the inputs look as before but the outcome no longer follows them. Quarantining data will "
        "not help. Roll back to the last model version that performed on recent labels, or retrain on recent "
        "labelled data; until then, tighten the threshold or route decisions to review."),
    Diagnosis.COVARIATE_SHIFT: (
        "Covariate shift: the inputs moved and performance moved with them, as the model predicted. Contain the "
        "data change: quarantine the affected batches or fall back (a default rule or the previous feature "
        "source) and fix upstream; retrain only if the new population is here to stay."),
    Diagnosis.PRIOR_SHIFT: (
        "Prior shift: the label rate changed while the ranking held. Re-tune the decision threshold (or "
        "recalibrate) for the new base rate; the model itself need not be rolled back."),
    Diagnosis.UNKNOWN: (
        "Unclear: the estimate and the realized value disagree in a way neither drift explains (possibly both at "
        "once, or broken labels). Check the label pipeline and the inputs before rolling back or quarantining."),
    Diagnosis.HEALTHY: "No action: realized performance is within the margin of the reference.",
    Diagnosis.NOT_JUDGED: "No action yet: labels have not matured enough to judge.",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodEvidence:
    """What the diagnosis of one period reads: reference, estimated and realized values per metric, label rates.

    `fell` says, per compared metric, whether the realized value fell beyond the bound with its whole interval
    (a dip within noise is not a fall); `intervals` the realized values' intervals (the realized value "followed"
    the estimate when the estimate is within a margin of that interval). `baseline_label_rate` is the rate the realized `label_rate` is compared with, `baseline` says which (the
    rate expected from the calibrated scores, or the reference's), `label_rate_changed` the comparison's result.
    """

    reference: Mapping[Metric, float]
    realized: Mapping[Metric, float | None]
    fell: Mapping[Metric, bool]
    intervals: Mapping[Metric, tuple[float, float]]
    estimated: Mapping[Metric, float | None] | None
    label_rate: float
    baseline_label_rate: float
    baseline: str
    label_rate_changed: bool


def diagnose(evidence: PeriodEvidence, margin: Margin, drift: CheckOutcome | None, *,
             ranking_reference: float | None = None) -> tuple[Diagnosis, tuple[str, ...]]:
    """The diagnosis of one period and the lines of evidence behind it (see the module docstring).

    `ranking_reference` is the reference ROC AUC when it is not among the compared metrics (`evidence.reference`).
    """
    notes: list[str] = []
    ranking = evidence.realized.get(Metric.ROC_AUC)
    if ranking_reference is None:
        ranking_reference = evidence.reference.get(Metric.ROC_AUC)
    ranking_held = (ranking is not None and ranking_reference is not None
                    and ranking >= margin.bound(Metric.ROC_AUC, ranking_reference))
    drift_failed = drift is not None and drift.status is not CheckStatus.PASSED
    if drift is not None:
        notes.append(f"input drift check {drift.check!r}: {drift.verdict.value if drift.verdict else drift.status.value}"
                     + (f" ({drift.message})" if drift.message else ""))

    verdicts: dict[Metric, Diagnosis] = {}
    for metric, reference in evidence.reference.items():
        realized = evidence.realized.get(metric)
        if realized is None:
            continue
        bound = margin.bound(metric, reference)
        fell = evidence.fell.get(metric, False)
        estimate = evidence.estimated.get(metric) if evidence.estimated is not None else None
        if estimate is None:
            if not fell:
                verdicts[metric] = Diagnosis.HEALTHY
            elif drift is not None and not drift_failed:
                verdicts[metric] = Diagnosis.CONCEPT_DRIFT
                notes.append(f"{metric.value}: realized {realized:.3f} fell past {bound:.3f} with no estimate, "
                             "and the inputs did not drift")
            else:
                verdicts[metric] = Diagnosis.UNKNOWN
                notes.append(f"{metric.value}: realized {realized:.3f} fell past {bound:.3f}; with no estimate "
                             "and no passing input-drift check, the cause cannot be told")
            continue
        width = margin.width(reference)
        held = abs(estimate - reference) <= width
        low, high = evidence.intervals.get(metric, (realized, realized))
        followed = min(low, realized) - width <= estimate <= max(high, realized) + width
        if held and not fell:
            verdicts[metric] = Diagnosis.HEALTHY
        elif held and fell:
            verdicts[metric] = Diagnosis.CONCEPT_DRIFT
            notes.append(f"{metric.value}: estimate {estimate:.3f} held near the reference {reference:.3f}, "
                         f"realized {realized:.3f} fell past {bound:.3f}")
        elif followed:
            verdicts[metric] = Diagnosis.COVARIATE_SHIFT
            notes.append(f"{metric.value}: estimate moved to {estimate:.3f} (reference {reference:.3f}) and "
                         f"realized {realized:.3f} followed it")
        else:
            verdicts[metric] = Diagnosis.UNKNOWN
            notes.append(f"{metric.value}: estimate {estimate:.3f} and realized {realized:.3f} both left the "
                         f"reference {reference:.3f}, apart from each other")

    if evidence.label_rate_changed and ranking_held:
        notes.append(f"label rate {evidence.label_rate:.4f} against {evidence.baseline_label_rate:.4f} "
                     f"{evidence.baseline}, while the ranking held (ROC AUC {ranking:.3f})")
        return Diagnosis.PRIOR_SHIFT, tuple(notes)
    if not verdicts:
        return Diagnosis.NOT_JUDGED, tuple(notes)
    found = set(verdicts.values())
    if Diagnosis.CONCEPT_DRIFT in found:
        diagnosis = Diagnosis.CONCEPT_DRIFT
        if drift is not None and not drift_failed:
            notes.append("the input drift check passed: the inputs did not move, the relation to the outcome did")
        elif drift_failed:
            notes.append("the input drift check failed too, but the estimate held: the drifting inputs do not "
                         "explain the fall")
    elif found == {Diagnosis.HEALTHY}:
        diagnosis = Diagnosis.HEALTHY
    elif Diagnosis.UNKNOWN not in found:
        diagnosis = Diagnosis.COVARIATE_SHIFT
        if drift is not None and not drift_failed:
            notes.append("the input drift check passed: the shift is in inputs it does not watch")
    else:
        diagnosis = Diagnosis.UNKNOWN
    return diagnosis, tuple(notes)
