"""What a check evaluation means for the model: the model guard sensor's classification, one rule per case.

Pure: it reads a `CheckHistoryEntry` (Dagster's facts and our outcome) and the role the sensor gave the check,
and says which of the guard's actions applies and why. The sensor (`guardrails.dagster.models`) then acts.

======================  ======================================================  ==================================
class                   when                                                    the guard
======================  ======================================================  ==================================
``passed``              the evaluation passed                                   `release_hold` of its partition
                                                                                (failures evaluated before it)
``quarantined``         a data check failed and the batch was kept out of       `hold` (no version saw it)
                        storage (quarantined, nothing materialized)
``no_batch``            freshness failed (the data did not arrive), or a        `hold` (blames no version)
                        data check could not run, or failed with no batch
``stored_batch``        a data check failed (error severity) on a batch that    `condemn` that batch
                        was already stored (drift, parity after publish)
``model``               a check of the model itself failed (its evaluation)     `fail_version` of that version
``canary``              a canary check of the model decided (pass or fail), or  `judge_canary` of the candidate:
                        could not run; the candidate is the version the         fail -> failed + challenger removed;
                        evaluation names (``guardrails/model_version``)          pass -> promoted; error -> nothing
``ignored``             a warning, no verdict yet (inconclusive, also of a      nothing (logged)
                        canary), or a
                        partial quarantine whose stored rows passed
======================  ======================================================  ==================================

A realized-performance check (`CheckKind.PERFORMANCE`, on either role) is classified by its diagnosis, and only
when it failed at error severity: ``concept_drift`` is the model's own failure (``model``: the version named in
``guardrails/model_version`` fails and the alias moves to the last good one); any other diagnosis
(``covariate_shift``: the data changed, not the model; ``prior_shift``, ``unknown``) holds promotion
(``no_batch``) without distrusting a version; insufficient labels, a dip within noise, or a check that could not
run change nothing (``ignored``).

Example:
    >>> from datetime import UTC, datetime
    >>> from guardrails.dagster.history import CheckHistoryEntry
    >>> entry = CheckHistoryEntry(asset_key="clean_transactions", check_name="contract", run_id="r1",
    ...     status="FAILED", run_status="FAILURE", timestamp=datetime(2026, 11, 3, tzinfo=UTC),
    ...     partition="2026-11-03", passed=False, severity="ERROR", batch_id="clean_transactions.2026-11-03",
    ...     metadata={"guardrails/rows_quarantined": 250})
    >>> classify(entry, CheckRole.DATA).kind.value
    'quarantined'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from guardrails.dagster import metadata as md
from guardrails.dagster.history import CheckHistoryEntry
from guardrails.models import DEFAULT_CHALLENGER, CanaryResult, ModelGuard
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus
from guardrails.outcome import Verdict as CheckVerdict

MODEL_VERSION_KEY = "guardrails/model_version"
"""Metadata key a model check's evaluation names the version it judged under (an int)."""
PLAIN_MODEL_VERSION_KEY = "model_version"
"""The un-namespaced key read too, for model checks written before `MODEL_VERSION_KEY` existed."""
CANARY_VERDICT_KEY = "guardrails/canary_verdict"
"""Metadata key of a canary check's verdict (pass | fail | inconclusive | error); marks the evaluation as a canary's."""
CHALLENGER_ALIAS_KEY = "guardrails/challenger_alias"
"""Metadata key naming the alias the canary's candidate served under (default ``challenger``)."""
_NO_VERDICT = (CheckVerdict.INCONCLUSIVE, CheckVerdict.INSUFFICIENT)


class CheckRole(StrEnum):
    """What a watched check judges: data the model consumes, or the model itself."""

    DATA = "data"
    MODEL = "model"


class EvaluationClass(StrEnum):
    """What one evaluation means for the model (see the module's table)."""

    PASSED = "passed"
    QUARANTINED = "quarantined"
    NO_BATCH = "no_batch"
    STORED_BATCH = "stored_batch"
    MODEL = "model"
    CANARY = "canary"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True, kw_only=True)
class Classified:
    """An evaluation, its class and why (one sentence a person can read in the UI)."""

    entry: CheckHistoryEntry
    kind: EvaluationClass
    why: str
    version: int | None = None

    @property
    def at(self) -> datetime:
        """When the evaluation ran, as Dagster recorded it (the time the sensor orders evaluations by): given to
        `ModelGuard.hold(at=...)` and `release_hold(at=...)`, so a pass clears only failures evaluated before it."""
        return self.entry.timestamp

    @property
    def partition(self) -> str | None:
        """The partition a hold names: the evaluation's, except for freshness, which judges the asset as a whole
        (the data did not arrive; its later verdicts do not always name a partition) and so holds on None."""
        outcome = self.entry.outcome
        return None if outcome is not None and outcome.kind is CheckKind.FRESHNESS else self.entry.partition


def classify(entry: CheckHistoryEntry, role: CheckRole) -> Classified:
    """Classify one completed evaluation (`entry.passed` is not None) of a check with `role`."""
    if role is CheckRole.MODEL and is_canary(entry):
        return _classify_canary(entry)
    if entry.passed:
        return Classified(entry=entry, kind=EvaluationClass.PASSED, why="passed")
    outcome = entry.outcome
    if outcome is not None and outcome.kind is CheckKind.PERFORMANCE:
        return _classify_performance(entry, outcome)
    no_verdict = outcome is not None and outcome.verdict in _NO_VERDICT
    # A fairness check judges a model's decisions, not a batch: wherever it is watched, it is the model's own failure.
    if role is CheckRole.MODEL or (outcome is not None and outcome.kind is CheckKind.FAIRNESS):
        if no_verdict:
            return Classified(entry=entry, kind=EvaluationClass.IGNORED,
                              why=f"no verdict yet ({outcome.verdict.value})")  # type: ignore[union-attr]
        version = model_version_of(entry.metadata)
        if version is None:  # fail closed without blaming a version we cannot name
            return Classified(entry=entry, kind=EvaluationClass.NO_BATCH,
                              why=f"the model check failed but names no version ({MODEL_VERSION_KEY})")
        return Classified(entry=entry, kind=EvaluationClass.MODEL, version=version,
                          why=f"the model's own check failed on v{version}")
    error = entry.severity == "ERROR"
    if outcome is not None and outcome.kind is CheckKind.FRESHNESS:
        if not error or no_verdict:
            return Classified(entry=entry, kind=EvaluationClass.IGNORED, why="a freshness warning")
        return Classified(entry=entry, kind=EvaluationClass.NO_BATCH, why="the data did not arrive in time")
    quarantined = _int(entry.metadata.get(md.ROWS_QUARANTINED_KEY)) > 0 or md.QUARANTINE_LOCATION_KEY in entry.metadata
    if quarantined and entry.target_storage_id is None:
        return Classified(entry=entry, kind=EvaluationClass.QUARANTINED,
                          why=f"batch {entry.batch_id or '?'} was quarantined before storage; no model saw it")
    if no_verdict:
        return Classified(entry=entry, kind=EvaluationClass.IGNORED,
                          why=f"no verdict yet ({outcome.verdict.value})")  # type: ignore[union-attr]
    if not error:
        why = ("rows were quarantined and the stored rest passed" if quarantined else "a warning holds nothing back")
        return Classified(entry=entry, kind=EvaluationClass.IGNORED, why=why)
    if outcome is not None and outcome.status is CheckStatus.ERROR:
        return Classified(entry=entry, kind=EvaluationClass.NO_BATCH,
                          why="the check could not run, so the batch is unjudged")
    if entry.target_storage_id is None:
        return Classified(entry=entry, kind=EvaluationClass.NO_BATCH, why="the check failed on no stored batch")
    return Classified(entry=entry, kind=EvaluationClass.STORED_BATCH,
                      why="a check failed on a batch already stored; versions that saw it are distrusted")


def _classify_performance(entry: CheckHistoryEntry, outcome: CheckOutcome) -> Classified:
    """A failed realized-performance evaluation, by its verdict, severity and diagnosis (see the module's note)."""
    if outcome.verdict in _NO_VERDICT:
        return Classified(entry=entry, kind=EvaluationClass.IGNORED, why=f"no verdict yet ({outcome.verdict.value})")
    if outcome.status is CheckStatus.ERROR:
        return Classified(entry=entry, kind=EvaluationClass.IGNORED,
                          why="the performance check could not run; the guard acts only on a judged failure")
    if entry.severity != "ERROR":
        return Classified(entry=entry, kind=EvaluationClass.IGNORED, why="a performance dip within noise (warning)")
    diagnosis = str(outcome.metrics.get("diagnosis") or "unknown")
    containment = str(outcome.metrics.get("containment") or "")
    said = f"realized performance fell; diagnosis {diagnosis.replace('_', ' ')}"
    tail = f". Containment: {containment}" if containment else ""
    if diagnosis == "concept_drift":
        version = model_version_of(entry.metadata)
        if version is None:
            version = model_version_of(outcome.metrics)
        if version is None:  # fail closed without blaming a version we cannot name
            return Classified(entry=entry, kind=EvaluationClass.NO_BATCH,
                              why=f"{said}, but the evaluation names no model version ({MODEL_VERSION_KEY}); "
                                  f"promotion held{tail}")
        return Classified(entry=entry, kind=EvaluationClass.MODEL, version=version,
                          why=f"{said} on v{version}: the version is distrusted{tail}")
    why = ("the inputs changed, not the model; promotion held" if diagnosis == "covariate_shift"
           else "the model is not blamed; promotion held")
    return Classified(entry=entry, kind=EvaluationClass.NO_BATCH, why=f"{said}: {why}{tail}")
def is_canary(entry: CheckHistoryEntry) -> bool:
    """True for an evaluation of a canary check (our outcome says so, or the canary's verdict key is there)."""
    return (entry.outcome is not None and entry.outcome.kind is CheckKind.CANARY) or CANARY_VERDICT_KEY in entry.metadata


def canary_judgement(entry: CheckHistoryEntry) -> CheckVerdict:
    """The canary's verdict: from our outcome, else the metadata key, else pass/fail from Dagster's own status."""
    if entry.outcome is not None:
        return entry.outcome.verdict
    try:
        return CheckVerdict(str(entry.metadata.get(CANARY_VERDICT_KEY)))
    except ValueError:
        return CheckVerdict.PASS if entry.passed else CheckVerdict.FAIL


def _classify_canary(entry: CheckHistoryEntry) -> Classified:
    verdict = canary_judgement(entry)
    if verdict in _NO_VERDICT:
        return Classified(entry=entry, kind=EvaluationClass.IGNORED,
                          why=f"the canary has no verdict yet ({verdict.value}); the candidate keeps serving")
    version = model_version_of(entry.metadata)
    if version is None:
        if verdict in (CheckVerdict.PASS, CheckVerdict.ERROR):  # nothing to promote or blame; never guess
            return Classified(entry=entry, kind=EvaluationClass.IGNORED,
                              why=f"the canary {verdict.value} but names no candidate version ({MODEL_VERSION_KEY}); "
                              "nothing moves")
        return Classified(entry=entry, kind=EvaluationClass.NO_BATCH,
                          why=f"the canary {verdict.value} but names no candidate version ({MODEL_VERSION_KEY})")
    what = {CheckVerdict.PASS: "passed", CheckVerdict.FAIL: "failed"}.get(verdict, "could not run")
    return Classified(entry=entry, kind=EvaluationClass.CANARY, version=version,
                      why=f"the canary of candidate v{version} {what}")


def model_version_of(metadata: dict[str, Any] | Any) -> int | None:
    """The model version a model check's evaluation names, or None."""
    for key in (MODEL_VERSION_KEY, PLAIN_MODEL_VERSION_KEY):
        value = metadata.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def judge_canary(guard: ModelGuard, item: Classified, *, run_id: str | None) -> CanaryResult:
    """The guard's `judge_canary` for a ``canary`` evaluation: the candidate it names, under the alias it served."""
    assert item.version is not None
    entry = item.entry
    judgement: CheckOutcome | CheckVerdict = entry.outcome if entry.outcome is not None else canary_judgement(entry)
    challenger = entry.metadata.get(CHALLENGER_ALIAS_KEY)
    label = f"{entry.asset_key}:{entry.check_name}"
    return guard.judge_canary(item.version, judgement, challenger=str(challenger or DEFAULT_CHALLENGER),
                              check=label, run_id=run_id)
