"""A canary through the model guard: a candidate serves a share of traffic under a challenger alias, and the
canary's verdict decides what happens to it.

The example routes traffic by alias: ``champion`` serves the control arm, ``challenger`` the candidate arm. So
the guard starts a canary by pointing the challenger alias at the candidate (`start_canary`), and ends it by
removing that alias (`retire_challenger`): no more traffic reaches the candidate. Both are recorded in the alias
history (``challenge`` / ``retire`` entries whose `alias` is the challenger alias).

What each canary verdict does (`judge_canary`, called by the Dagster sensor for every canary evaluation):

==============  ===========================================================================================
verdict         the guard
==============  ===========================================================================================
``fail``        `fail_version` on the candidate (verdict first; ``champion`` moves off it if it was there),
                then the challenger alias is removed from it
``pass``        a passed verdict with check ``canary`` on the candidate (never over a failed one), then
                `promote` to ``champion`` (refused while held or pinned, or when the lineage is unclean), then
                the challenger alias is removed; a refused promotion keeps the challenger serving (the next
                passing look retries), unless the candidate failed
``inconclusive`` nothing: the candidate keeps serving its share until the evidence decides
``error``       nothing (fail closed): the canary could not run (sample-ratio mismatch, unreadable log), so
                nothing is promoted; the failed check itself raises the alert
==============  ===========================================================================================

Serving requires a canary pass: `start_canary` writes ``guardrails.requires = ["canary"]`` on the candidate
(a JSON list of checks; the same tag on the registered model applies to every version), and a version is not
eligible (`ModelVersionState.eligible`) while any required check lacks ``guardrails.check.<check> = pass`` on it.
That binds every alias move, not only `promote`: a fallback (`pin`, `fail_version`, `condemn`, `reconcile`) skips
a candidate whose canary is still running even when it has a passed verdict from its training evaluation, and
`reconcile` moves the alias off such a candidate if it was put there by hand. `start_canary` refuses the version
the guarded alias already serves (it needs no canary, and requiring one would move the alias off it).

Every step is idempotent, so a sensor that handles the same evaluation twice (or a retry after an ERROR) ends
in the same state: the challenger is removed only while it still points at the candidate (a newer candidate's
canary is never cut short by an older verdict), and tags are written only when they differ.

Example:
    >>> guard.start_canary(5).message  # doctest: +SKIP
    "alias 'challenger' of 'fraud' set (unset) -> v5: canary started; v5 needs a canary pass before promotion"
    >>> guard.judge_canary(5, report).message  # doctest: +SKIP
    "canary fail for v5: v5 tagged failed (...); alias 'champion' stays on v4; alias 'challenger' removed from v5"
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Protocol, Union, runtime_checkable

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.models._registry import RegistryError
from guardrails.models._settle import read_alias
from guardrails.models._tags import (
    REASON_CHARS,
    REQUIRES_TAG,
    check_tag,
    history_id,
    required_checks,
    verdict_tags,
)
from guardrails.models._types import (
    ActionResult,
    ActionStatus,
    AliasMove,
    CanaryResult,
    ChallengerResult,
    MoveAction,
    Verdict,
    VerdictStatus,
)
from guardrails.outcome import CheckOutcome
from guardrails.outcome import Verdict as CheckVerdict

if TYPE_CHECKING:
    from guardrails.models._guard import ModelGuard

CANARY_CHECK = "canary"
"""The check name a canary verdict is recorded under (``guardrails.check.canary``, the verdict's `checks`)."""
DEFAULT_CHALLENGER = "challenger"
"""The alias the candidate serves its share of traffic under."""


@runtime_checkable
class SupportsOutcome(Protocol):
    """Anything carrying a `CheckOutcome` (a `guardrails.checks.CanaryReport`)."""

    @property
    def outcome(self) -> CheckOutcome: ...


CanaryJudgement = Union[CheckOutcome, SupportsOutcome, CheckVerdict, str]
"""What `judge_canary` takes: a canary report, its outcome, or the bare verdict (``"pass"``, `Verdict.FAIL`, ...)."""


def canary_verdict(judgement: CanaryJudgement) -> tuple[CheckVerdict, str]:
    """The verdict and one-line message of a report, an outcome or a bare verdict (raises ValueError otherwise)."""
    if isinstance(judgement, CheckOutcome):
        return judgement.verdict, judgement.error or judgement.message
    if isinstance(judgement, (CheckVerdict, str)):
        try:
            verdict = CheckVerdict(judgement)
        except ValueError:
            raise ValueError(f"judgement: expected a canary verdict ({', '.join(v.value for v in CheckVerdict)}), "
                             f"got {judgement!r}") from None
        return verdict, f"canary {verdict.value}"
    if isinstance(judgement, SupportsOutcome):
        return canary_verdict(judgement.outcome)
    raise TypeError(f"judgement: expected a CanaryReport, a CheckOutcome or a verdict, got {type(judgement).__name__}")


def start_canary(guard: ModelGuard, version: int, *, challenger: str = DEFAULT_CHALLENGER, reason: str = "",
                 run_id: str | None = None, by: str | None = None) -> ChallengerResult:
    """Serve `version` under `challenger` (the canary's candidate arm), requiring a canary pass to promote it.

    The requirement is written first (from then on `promote` refuses the version until its canary passes), then
    the alias, then a ``challenge`` history entry. NO_OP when the challenger is already on `version`; REFUSED
    for no such version, a failed one, the version the guarded alias serves, or the guarded alias's own name.
    """
    by = by or guard.actor

    def result(status: ActionStatus, message: str, **extra: object) -> ChallengerResult:
        return ChallengerResult(model=guard.name, alias=challenger, version=version, status=status, message=message,
                                **extra)  # type: ignore[arg-type]

    def body() -> ChallengerResult:
        if challenger == guard.alias:
            return result(ActionStatus.REFUSED, f"the challenger alias cannot be the guarded alias {challenger!r}")
        snap = guard._read()
        state = snap.version(version)
        if state is None or state.failed:
            why = "does not exist" if state is None else "failed its guardrails"
            return result(ActionStatus.REFUSED, f"{guard.name!r} v{version} {why}; no canary started")
        if snap.alias_version == version:
            return result(ActionStatus.REFUSED, f"{guard.name!r} v{version} already serves as {guard.alias!r}; no "
                          "canary started", observed_version=snap.model.aliases.get(challenger))
        current = snap.model.aliases.get(challenger)
        if current == version:
            return result(ActionStatus.NO_OP, f"alias {challenger!r} of {guard.name!r} already on v{version}",
                          observed_version=version)
        record = next(v for v in guard.registry.search_versions(guard.name) if v.version == version)
        needed = required_checks(record.tags)
        if CANARY_CHECK not in needed:
            guard.registry.set_version_tag(guard.name, version, REQUIRES_TAG, json.dumps([*needed, CANARY_CHECK]))
        guard.registry.set_alias(guard.name, challenger, version)
        entry = _entry(guard, snap.next_seq, MoveAction.CHALLENGE, challenger, current, version,
                       reason or f"canary started: v{version} serves the candidate arm", None, run_id, by)
        guard._write_entry(entry)
        return result(ActionStatus.APPLIED, f"alias {challenger!r} of {guard.name!r} set {_v(current)} -> "
                      f"v{version}: canary started; v{version} needs a canary pass before promotion",
                      move=entry, observed_version=version)

    return guard._act(result, "start_canary", body)


def retire_challenger(guard: ModelGuard, version: int, *, challenger: str = DEFAULT_CHALLENGER, reason: str,
                      check: str | None = None, run_id: str | None = None,
                      by: str | None = None) -> ChallengerResult:
    """Remove `challenger` from `version` so no more traffic reaches it, recorded as a ``retire`` entry.

    NO_OP when the challenger is not on `version` (already removed, or serving a newer candidate now: an older
    verdict never cuts a newer canary short). ERROR when the removal failed; the alias is read back and the result
    says where it was seen.
    """
    by = by or guard.actor

    def result(status: ActionStatus, message: str, **extra: object) -> ChallengerResult:
        return ChallengerResult(model=guard.name, alias=challenger, version=version, status=status, message=message,
                                **extra)  # type: ignore[arg-type]

    def body() -> ChallengerResult:
        snap = guard._read()
        current = snap.model.aliases.get(challenger)
        if current != version:
            where = "not set" if current is None else f"on v{current}"
            return result(ActionStatus.NO_OP, f"alias {challenger!r} of {guard.name!r} is {where}, not on "
                          f"v{version}; nothing removed", observed_version=current)
        entry = _entry(guard, snap.next_seq, MoveAction.RETIRE, challenger, version, None, reason, check, run_id, by)
        try:
            guard.registry.delete_alias(guard.name, challenger)
        except RegistryError as exc:
            try:
                seen = read_alias(guard.registry, guard.name, challenger)
            except RegistryError:
                return result(ActionStatus.ERROR, f"alias {challenger!r} of {guard.name!r} may still be on "
                              f"v{version}: the removal failed and it could not be read back", error=str(exc))
            if seen is not None:
                return result(ActionStatus.ERROR, f"alias {challenger!r} of {guard.name!r} still on v{seen}: the "
                              "removal failed; a retry removes it", error=str(exc), observed_version=seen)
        guard._write_entry(entry)
        return result(ActionStatus.APPLIED, f"alias {challenger!r} removed from v{version}", move=entry)

    return guard._act(result, "retire_challenger", body)


def judge_canary(guard: ModelGuard, version: int, judgement: CanaryJudgement, *,
                 challenger: str = DEFAULT_CHALLENGER, check: str = CANARY_CHECK, run_id: str | None = None,
                 by: str | None = None) -> CanaryResult:
    """Act on a canary verdict for candidate `version` (see the module's table); each step under the model lock.

    Status: ERROR if a step ended in error (the steps before it stay done; a retry completes the rest), REFUSED
    if the pass could not promote (held, pinned, unclean) or the canary could not run, APPLIED if anything was
    written, NO_OP otherwise (inconclusive, or the verdict was already acted on).
    """
    by = by or guard.actor
    verdict, message = canary_verdict(judgement)
    message = cap_text(message or f"canary {verdict.value}", MESSAGE_CHARS)
    steps: list[ActionResult] = []

    def result(status: ActionStatus, text: str, **extra: object) -> CanaryResult:
        return CanaryResult(model=guard.name, alias=guard.alias, version=version, verdict=verdict.value,
                            challenger=challenger, status=status, message=cap_text(text, MESSAGE_CHARS),
                            steps=tuple(steps), **extra)  # type: ignore[arg-type]

    if verdict in (CheckVerdict.INCONCLUSIVE, CheckVerdict.INSUFFICIENT):
        return result(ActionStatus.NO_OP, f"canary {verdict.value} for v{version} ({message}): nothing moves; "
                      f"v{version} keeps serving under {challenger!r}")
    if verdict is CheckVerdict.ERROR:
        return result(ActionStatus.REFUSED, f"canary of v{version} could not run ({message}): nothing moves and "
                      f"nothing is promoted (fail closed)", error=message)
    if verdict is CheckVerdict.PASS and _acted_on_pass(guard, version, challenger):
        # A replayed pass (a sensor starting from no cursor) must not promote a candidate the champion has moved
        # on from since: the pass was acted on once (its tag is there, the challenger no longer on it).
        return result(ActionStatus.NO_OP, f"canary pass for v{version} already acted on (alias {challenger!r} no "
                      "longer on it); nothing moves")
    tagged = guard._act(lambda status, text, **extra: ActionResult(model=guard.name, alias=guard.alias,
                                                                  status=status, message=text, **extra),
                        "judge_canary", lambda: _record(guard, version, verdict, message, check, run_id))
    if tagged.status is ActionStatus.ERROR:
        steps.append(tagged)
        return result(ActionStatus.ERROR, f"canary {verdict.value} for v{version}: {tagged.message}",
                      error=tagged.error)
    champion: ActionResult
    if verdict is CheckVerdict.FAIL:
        champion = guard.fail_version(version, reason=f"canary failed: {message}", check=check, run_id=run_id, by=by)
        retire = champion.status is not ActionStatus.ERROR
    else:
        champion = guard.promote(version, reason=f"canary passed: {message}", check=check, run_id=run_id, by=by)
        retire = champion.ok
        if champion.status is ActionStatus.REFUSED:
            state = guard.status().version(version)  # a candidate that failed meanwhile stops serving too
            retire = state is not None and state.failed
    steps.append(champion)
    if retire:
        steps.append(retire_challenger(guard, version, challenger=challenger, check=check, run_id=run_id, by=by,
                                       reason=f"canary {verdict.value} for v{version}: {message}"))
    elif champion.status is not ActionStatus.ERROR:
        steps.append(ChallengerResult(model=guard.name, alias=challenger, version=version, status=ActionStatus.NO_OP,
                                      message=f"alias {challenger!r} kept on v{version}: a later passing look "
                                      "retries the promotion"))
    statuses = [s.status for s in steps] + [tagged.status]
    text = f"canary {verdict.value} for v{version}: " + "; ".join(s.message for s in steps)
    move = champion.move
    if ActionStatus.ERROR in statuses:
        failed = next(s for s in steps if s.status is ActionStatus.ERROR)
        return result(ActionStatus.ERROR, text, error=failed.error, move=move,
                      observed_version=champion.observed_version)
    if champion.status is ActionStatus.REFUSED:
        return result(ActionStatus.REFUSED, text, error=champion.message, move=move,
                      observed_version=champion.observed_version)
    status = ActionStatus.APPLIED if ActionStatus.APPLIED in statuses else ActionStatus.NO_OP
    return result(status, text, move=move, observed_version=champion.observed_version)


def _acted_on_pass(guard: ModelGuard, version: int, challenger: str) -> bool:
    try:
        record = next((v for v in guard.registry.search_versions(guard.name) if v.version == version), None)
        serving = guard.registry.get_model(guard.name).aliases.get(challenger)
    except RegistryError:
        return False  # the steps below report the registry trouble with what they observed
    return record is not None and record.tags.get(check_tag(CANARY_CHECK)) == "pass" and serving != version


def _record(guard: ModelGuard, version: int, verdict: CheckVerdict, message: str, check: str,
            run_id: str | None) -> ActionResult:
    """Write the canary's verdict on the version (and, for a pass, a passed verdict unless one failed already)."""
    def done(status: ActionStatus, text: str) -> ActionResult:
        return ActionResult(model=guard.name, alias=guard.alias, status=status, message=text)

    record = next((v for v in guard.registry.search_versions(guard.name) if v.version == version), None)
    if record is None:
        return done(ActionStatus.REFUSED, f"{guard.name!r} has no version {version}")
    wrote = False
    # The requirement is named "canary" whatever the check is called in a host (``scored_transactions:canary``).
    if record.tags.get(check_tag(CANARY_CHECK)) != verdict.value:
        guard.registry.set_version_tag(guard.name, version, check_tag(CANARY_CHECK), verdict.value)
        wrote = True
    if verdict is CheckVerdict.PASS:
        state = guard._read().version(version)
        current = state.verdict if state is not None else None
        if current is None or (current.passed and check not in current.checks):
            checks = (*(current.checks if current else ()), check)
            for key, value in verdict_tags(Verdict(status=VerdictStatus.PASSED, checks=checks, run_id=run_id,
                                                   at=guard.clock(), reason=f"{check} passed: {message}")):
                guard.registry.set_version_tag(guard.name, version, key, value)
            wrote = True
    return done(ActionStatus.APPLIED if wrote else ActionStatus.NO_OP, f"{check} {verdict.value} recorded on v{version}")


def _entry(guard: ModelGuard, seq: int, action: MoveAction, alias: str, from_version: int | None,
           to_version: int | None, reason: str, check: str | None, run_id: str | None, by: str) -> AliasMove:
    return AliasMove(id=history_id(seq, action, alias, from_version, to_version), seq=seq, action=action, alias=alias,
                     from_version=from_version, to_version=to_version, reason=cap_text(reason, REASON_CHARS),
                     check=check, run_id=run_id, at=guard.clock(), by=by)


def _v(version: int | None) -> str:
    return f"v{version}" if version is not None else "(unset)"
