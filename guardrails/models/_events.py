"""What a check evaluation means for the model, and what the guard does about it: one rule per case, every host.

Pure and host-neutral: a host (the Dagster sensor, an Airflow task) translates its own record of an evaluation
(a Dagster check history entry, an Airflow outcome record) into a `GuardEvent`; `classify` says which of the guard's
actions applies and why, and `act` performs it on a `ModelGuard`. The hosts keep only their translation, so they
cannot disagree on what a failure means.

======================  ======================================================  ==================================
class                   when                                                    the guard
======================  ======================================================  ==================================
``passed``              the evaluation passed                                   `release_hold` of its partition
                                                                                (failures evaluated before it)
``quarantined``         a data check failed and the batch was kept out of       `hold` (no version saw it)
                        storage (quarantined, nothing published)
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
run change nothing (``ignored``). A fairness check judges a model's decisions, so wherever it is watched its
failure is the model's own (``model``).

Example:
    >>> from datetime import UTC, datetime
    >>> event = GuardEvent(check="clean_transactions:contract", passed=False, severity=Severity.ERROR,
    ...                    at=datetime(2026, 11, 3, tzinfo=UTC), partition="2026-11-03", quarantined=True,
    ...                    stored=False, batch_id="clean_transactions.2026-11-03")
    >>> classify(event, CheckRole.DATA).kind.value
    'quarantined'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.models._canary import DEFAULT_CHALLENGER
from guardrails.models._guard import ModelGuard
from guardrails.models._types import ActionResult, BatchRef
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity
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
class GuardEvent:
    """One completed check evaluation, as every host can describe it.

    Attributes:
        check: the check's label, ``<asset>:<check>`` (a hold is keyed by it and the partition).
        passed: the evaluation passed.
        severity: how much a failure matters (error blocks); None when the host did not say (not error).
        at: when the evaluation ran (a pass clears only failures evaluated before it).
        partition: the partition judged, None for none.
        run_id: the run that evaluated it.
        outcome: our whole outcome, when guardrails wrote the evaluation.
        quarantined: rows (or the whole batch) were put in quarantine.
        stored: the batch the check judged was stored (materialized, published); False when nothing was.
        batch_id: the judged batch's id, for the reason text.
        description: the evaluation's own one-line description (data text: capped when shown).
        metadata: the evaluation's metadata (``guardrails/model_version``, the canary keys).
        seq: the host's order of evaluations (Dagster's execution id), for `superseded`.
    """

    check: str
    passed: bool
    at: datetime
    severity: Severity | None = None
    partition: str | None = None
    run_id: str | None = None
    outcome: CheckOutcome | None = None
    quarantined: bool = False
    stored: bool = False
    batch_id: str | None = None
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False)
    seq: int = 0

    @property
    def label(self) -> str:
        """``check[partition] (run <8 chars>)``: which evaluation, in the guard's messages."""
        where = f"[{self.partition}]" if self.partition is not None else ""
        run = f"run {self.run_id[:8]}" if self.run_id else "no run"
        return f"{self.check}{where} ({run})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Classified:
    """An evaluation, its class and why (one sentence a person can read in the UI)."""

    event: GuardEvent
    kind: EvaluationClass
    why: str
    version: int | None = None

    @property
    def at(self) -> datetime:
        """When the evaluation ran: given to `ModelGuard.hold(at=...)` and `release_hold(at=...)`, so a pass clears
        only failures evaluated before it."""
        return self.event.at

    @property
    def partition(self) -> str | None:
        """The partition a hold names: the evaluation's, except for freshness, which judges the asset as a whole
        (the data did not arrive; its later verdicts do not always name a partition) and so holds on None."""
        outcome = self.event.outcome
        return None if outcome is not None and outcome.kind is CheckKind.FRESHNESS else self.event.partition

    @property
    def reason(self) -> str:
        """One readable sentence: which evaluation, what it means, and its own description (data text, capped)."""
        event = self.event
        text = f"{event.label} {'passed' if event.passed else 'failed'}: {self.why}"
        if event.description:
            text += f" ({event.description})"
        return cap_text(text, MESSAGE_CHARS)


def classify(event: GuardEvent, role: CheckRole) -> Classified:
    """Classify one completed evaluation of a check with `role` (see the module's table)."""
    if role is CheckRole.MODEL and is_canary(event):
        return _classify_canary(event)
    if event.passed:
        return Classified(event=event, kind=EvaluationClass.PASSED, why="passed")
    outcome = event.outcome
    if outcome is not None and outcome.kind is CheckKind.PERFORMANCE:
        return _classify_performance(event, outcome)
    no_verdict = outcome is not None and outcome.verdict in _NO_VERDICT
    # A fairness check judges a model's decisions, not a batch: wherever it is watched, it is the model's own failure.
    if role is CheckRole.MODEL or (outcome is not None and outcome.kind is CheckKind.FAIRNESS):
        if no_verdict:
            return Classified(event=event, kind=EvaluationClass.IGNORED,
                              why=f"no verdict yet ({outcome.verdict.value})")  # type: ignore[union-attr]
        version = model_version_of(event.metadata)
        if version is None:  # fail closed without blaming a version we cannot name
            return Classified(event=event, kind=EvaluationClass.NO_BATCH,
                              why=f"the model check failed but names no version ({MODEL_VERSION_KEY})")
        return Classified(event=event, kind=EvaluationClass.MODEL, version=version,
                          why=f"the model's own check failed on v{version}")
    error = event.severity is Severity.ERROR
    if outcome is not None and outcome.kind is CheckKind.FRESHNESS:
        if not error or no_verdict:
            return Classified(event=event, kind=EvaluationClass.IGNORED, why="a freshness warning")
        return Classified(event=event, kind=EvaluationClass.NO_BATCH, why="the data did not arrive in time")
    if event.quarantined and not event.stored:
        return Classified(event=event, kind=EvaluationClass.QUARANTINED,
                          why=f"batch {event.batch_id or '?'} was quarantined before storage; no model saw it")
    if no_verdict:
        return Classified(event=event, kind=EvaluationClass.IGNORED,
                          why=f"no verdict yet ({outcome.verdict.value})")  # type: ignore[union-attr]
    if not error:
        why = ("rows were quarantined and the stored rest passed" if event.quarantined
               else "a warning holds nothing back")
        return Classified(event=event, kind=EvaluationClass.IGNORED, why=why)
    if outcome is not None and outcome.status is CheckStatus.ERROR:
        return Classified(event=event, kind=EvaluationClass.NO_BATCH,
                          why="the check could not run, so the batch is unjudged")
    if not event.stored:
        return Classified(event=event, kind=EvaluationClass.NO_BATCH, why="the check failed on no stored batch")
    return Classified(event=event, kind=EvaluationClass.STORED_BATCH,
                      why="a check failed on a batch already stored; versions that saw it are distrusted")


def _classify_performance(event: GuardEvent, outcome: CheckOutcome) -> Classified:
    """A failed realized-performance evaluation, by its verdict, severity and diagnosis (see the module's note)."""
    if outcome.verdict in _NO_VERDICT:
        return Classified(event=event, kind=EvaluationClass.IGNORED, why=f"no verdict yet ({outcome.verdict.value})")
    if outcome.status is CheckStatus.ERROR:
        return Classified(event=event, kind=EvaluationClass.IGNORED,
                          why="the performance check could not run; the guard acts only on a judged failure")
    if event.severity is not Severity.ERROR:
        return Classified(event=event, kind=EvaluationClass.IGNORED, why="a performance dip within noise (warning)")
    diagnosis = str(outcome.metrics.get("diagnosis") or "unknown")
    containment = str(outcome.metrics.get("containment") or "")
    said = f"realized performance fell; diagnosis {diagnosis.replace('_', ' ')}"
    tail = f". Containment: {containment}" if containment else ""
    if diagnosis == "concept_drift":
        version = model_version_of(event.metadata)
        if version is None:
            version = model_version_of(outcome.metrics)
        if version is None:  # fail closed without blaming a version we cannot name
            return Classified(event=event, kind=EvaluationClass.NO_BATCH,
                              why=f"{said}, but the evaluation names no model version ({MODEL_VERSION_KEY}); "
                                  f"promotion held{tail}")
        return Classified(event=event, kind=EvaluationClass.MODEL, version=version,
                          why=f"{said} on v{version}: the version is distrusted{tail}")
    why = ("the inputs changed, not the model; promotion held" if diagnosis == "covariate_shift"
           else "the model is not blamed; promotion held")
    return Classified(event=event, kind=EvaluationClass.NO_BATCH, why=f"{said}: {why}{tail}")


def is_canary(event: GuardEvent) -> bool:
    """True for an evaluation of a canary check (our outcome says so, or the canary's verdict key is there)."""
    outcome = event.outcome
    return (outcome is not None and outcome.kind is CheckKind.CANARY) or CANARY_VERDICT_KEY in event.metadata


def canary_judgement(event: GuardEvent) -> CheckVerdict:
    """The canary's verdict: from our outcome, else the metadata key, else pass/fail from the host's own status."""
    if event.outcome is not None:
        return event.outcome.verdict
    try:
        return CheckVerdict(str(event.metadata.get(CANARY_VERDICT_KEY)))
    except ValueError:
        return CheckVerdict.PASS if event.passed else CheckVerdict.FAIL


def _classify_canary(event: GuardEvent) -> Classified:
    verdict = canary_judgement(event)
    if verdict in _NO_VERDICT:
        return Classified(event=event, kind=EvaluationClass.IGNORED,
                          why=f"the canary has no verdict yet ({verdict.value}); the candidate keeps serving")
    version = model_version_of(event.metadata)
    if version is None:
        if verdict in (CheckVerdict.PASS, CheckVerdict.ERROR):  # nothing to promote or blame; never guess
            return Classified(event=event, kind=EvaluationClass.IGNORED,
                              why=f"the canary {verdict.value} but names no candidate version ({MODEL_VERSION_KEY}); "
                              "nothing moves")
        return Classified(event=event, kind=EvaluationClass.NO_BATCH,
                          why=f"the canary {verdict.value} but names no candidate version ({MODEL_VERSION_KEY})")
    what = {CheckVerdict.PASS: "passed", CheckVerdict.FAIL: "failed"}.get(verdict, "could not run")
    return Classified(event=event, kind=EvaluationClass.CANARY, version=version,
                      why=f"the canary of candidate v{version} {what}")


def model_version_of(metadata: Mapping[str, Any] | Any) -> int | None:
    """The model version a model check's evaluation names, or None."""
    for key in (MODEL_VERSION_KEY, PLAIN_MODEL_VERSION_KEY):
        value = metadata.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def superseded(items: Sequence[Classified]) -> set[int]:
    """`GuardEvent.seq` of failures whose (check, partition) passes later among `items`: holding them would release
    at once (a host handling several evaluations together skips them)."""
    last_pass: dict[tuple[str, str | None], int] = {}
    for item in items:
        if item.kind is EvaluationClass.PASSED:
            last_pass[(item.event.check, item.partition)] = item.event.seq
    return {
        item.event.seq
        for item in items
        if item.kind in (EvaluationClass.QUARANTINED, EvaluationClass.NO_BATCH)
        and last_pass.get((item.event.check, item.partition), -1) > item.event.seq
    }


@dataclass(frozen=True, slots=True)
class GuardAction:
    """What `act` did: the guard action's name (``hold``, ``release_hold``, ``condemn``, ``fail_version``,
    ``judge_canary``) and its result."""

    kind: str
    result: ActionResult


def act(guard: ModelGuard, item: Classified, *, stored_batch: Callable[[], BatchRef] | None = None,
        reason: str | None = None) -> GuardAction | None:
    """Ask `guard` to do what `item`'s class calls for; None for ``ignored`` (nothing to do).

    Args:
        guard: the model's guard.
        item: the classified evaluation.
        stored_batch: the batch a ``stored_batch`` failure condemns (only the host can name it); without it, every
            batch of the evaluation's partition of its asset (the part of the check label before ``:``).
        reason: the reason recorded (default: `Classified.reason`).

    Raises `RegistryError` only where the guard does (an action itself returns an ERROR result instead).
    """
    event = item.event
    run_id = event.run_id or None
    reason = reason or item.reason
    if item.kind is EvaluationClass.IGNORED:
        return None
    if item.kind is EvaluationClass.PASSED:
        # Both ends carry the evaluation times, so a pass clears only failures evaluated before it, even when
        # another guard (a second sensor, a task, the CLI) placed the hold after this pass was evaluated.
        return GuardAction("release_hold", guard.release_hold(event.check, [item.partition], run_id=run_id,
                                                              at=item.at))
    if item.kind in (EvaluationClass.QUARANTINED, EvaluationClass.NO_BATCH):
        incident = f"{event.check}[{item.partition}]" if item.partition is not None else event.check
        return GuardAction("hold", guard.hold(reason, check=event.check, partitions=[item.partition], run_id=run_id,
                                              incident=incident, at=item.at))
    if item.kind is EvaluationClass.STORED_BATCH:
        batch = stored_batch() if stored_batch is not None else BatchRef(
            asset=event.check.rpartition(":")[0] or event.check, partition=event.partition, run_id=run_id)
        return GuardAction("condemn", guard.condemn(batch, reason=reason, check=event.check, run_id=run_id))
    assert item.version is not None  # EvaluationClass.MODEL and CANARY always name their version
    if item.kind is EvaluationClass.CANARY:
        judgement: CheckOutcome | CheckVerdict = event.outcome if event.outcome is not None else canary_judgement(event)
        challenger = event.metadata.get(CHALLENGER_ALIAS_KEY)
        return GuardAction("judge_canary", guard.judge_canary(
            item.version, judgement, challenger=str(challenger or DEFAULT_CHALLENGER), check=event.check,
            run_id=run_id))
    return GuardAction("fail_version", guard.fail_version(item.version, reason=reason, check=event.check,
                                                          run_id=run_id))
