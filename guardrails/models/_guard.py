"""`ModelGuard`: verdicts, lineage, holds, guarded promotion, pins, a reconciler and the alias history of one model.

The guard keeps all of its state in the registry itself (see `guardrails.models._tags`), so any process with
registry access sees the same verdicts, pin and history, and nothing is lost when a sensor restarts.

Which version the alias falls back to: the **highest eligible version** (`ModelVersionState.eligible`: registry
status READY, verdict passed, lineage clean (no batch it was trained or evaluated on has been condemned), and every
check it requires passed (``guardrails.requires``: a canary candidate is not eligible until its canary passes)),
never the failing one. Promote, pin, fail_version, condemn and reconcile all use this one rule. We chose it over
"most recently promoted" because it depends only on the verdict tags, which MLflow can search and which every writer
sees, not on our history log (which misses moves made outside the guard, e.g. in the MLflow UI). It is also
deterministic, which is what lets two concurrent pins agree on the target. The cost: a newer version that passed its
checks but was never promoted can become the champion through a pin; record a failed (or no) verdict on candidates
you do not want served, or start their canary (`start_canary`), which makes them require a canary pass first.

Concurrency: MLflow has no compare-and-set. A pin is made idempotent instead: it is a deterministic function of
the registry state it read (same target, same history entry id ``<seq>-<digest>``), so two sensors that react
to the same failure at the same moment write the same tags and the history shows one move. A pin that finds a
complete pin is a no-op; one that finds an interrupted pin (pin tag written, alias or history entry missing)
completes it. A write that collides with a concurrent identical write is retried once from a fresh read.

Acting on a failure (see `hold`, `condemn`, `fail_version`): a batch quarantined before storage touched no
model, so it only **holds** automatic promotion; a stored batch condemned later fails exactly the versions whose
lineage includes it; a model's own failure fails that version. No verdict is ever written for a reason that does
not involve the version it is written on.

Ordering, since MLflow has no compare-and-set: a failure writes the verdict first, then reads the alias and moves
it off; `promote` sets the alias, then re-reads verdict, lineage and pin and reverts if the version failed
meanwhile. Whichever of the two runs second sees the other's write. Guards of one model also exclude each other
through a lock they share (by default the registry's, see `guardrails.models._lock`), so in practice they do not
interleave at all; the ordering is what keeps them right when the lock is absent or lost. After a failed set-alias
the guard reads the alias back for `settle_seconds` and reports what it actually observed (and records the move if
it happened); `reconcile` repairs an alias resting on a failed or unclean version and records moves nobody
recorded as ``observed``.

Example:
    >>> guard = ModelGuard(MlflowModelRegistry("sqlite:///mlflow.db"), "fraud")  # doctest: +SKIP
    >>> guard.hold("contract failed; batch quarantined", check="clean_transactions:contract",
    ...            partitions=["2026-11-03"]).message  # doctest: +SKIP
    "promotion of 'fraud' held: clean_transactions:contract [2026-11-03] failed (...); alias 'champion' stays on v2"
    >>> guard.condemn(BatchRef(asset="clean_transactions", partition="2026-11-01"), reason="PSI 0.4",
    ...               check="drift").message  # doctest: +SKIP
    "batch clean_transactions[2026-11-01] condemned; versions that saw it: v2; alias 'champion' moved v2 -> v1"
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar, Union

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails._time import as_utc
from guardrails.contract.model import Contract
from guardrails.models import _canary
from guardrails.models._lock import DEFAULT_LOCK_TIMEOUT_SECONDS, ModelLock, lock_for
from guardrails.models._registry import ModelRegistry, RegistryError
from guardrails.models._settle import read_alias, settle_alias
from guardrails.models._signature import SIGNATURE_CHECK, check_signature
from guardrails.models._snapshot import (
    _at,
    _default_settle,
    _failing,
    _ineligible,
    _parts,
    _Snapshot,
    _v,
    _why,
)
from guardrails.models._tags import (
    HOLD_FAILING_PREFIX,
    HOLD_TAG,
    PIN_TAG,
    REASON_CHARS,
    SAW_VALUE,
    VERDICT_TAG,
    checks_from_tags,
    condemnation_tag,
    condemnations_from_tags,
    condemned_suffix,
    history_from_tags,
    history_id,
    history_tag,
    hold_failing_key,
    hold_failing_tag,
    hold_header_tag,
    lineage_from_tags,
    lineage_tags,
    pin_tag,
    required_checks,
    saw_suffixes,
    saw_tag,
    verdict_from_tags,
    verdict_tags,
)
from guardrails.models._types import (
    ActionResult,
    ActionStatus,
    AliasMove,
    BatchRef,
    CanaryResult,
    ChallengerResult,
    Condemnation,
    CondemnResult,
    FailResult,
    Hold,
    HoldFailure,
    HoldResult,
    Lineage,
    ModelStatus,
    ModelVersionState,
    MoveAction,
    Pin,
    PinResult,
    PromoteResult,
    ReconcileResult,
    UnpinResult,
    Verdict,
    VerdictStatus,
)
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity
from guardrails.outcome import Verdict as CheckVerdict  # not guardrails.models.Verdict, a model version's verdict


def _utcnow() -> datetime:
    return datetime.now(UTC)


def verdict_from_outcomes(outcomes: Sequence[CheckOutcome], *, run_id: str | None, at: datetime) -> Verdict:
    """One verdict from the checks a model version depends on: passed only if every outcome's verdict is pass.

    An outcome that could not run (error), or with no verdict yet (inconclusive, insufficient), fails the
    version's verdict too: a version is never vouched for, hence never promoted, on missing evidence. The
    version tag stays ``passed``/``failed`` (searchable in MLflow as before); the reason lists the non-passing
    checks with their status, or their verdict when that says more (``inconclusive``), and their messages.
    """
    bad = [o for o in outcomes if o.verdict is not CheckVerdict.PASS]
    reason = "; ".join(
        f"{o.check}: {_label(o)}" + (f" ({o.error or o.message})" if o.error or o.message else "") for o in bad
    )
    return Verdict(
        status=VerdictStatus.FAILED if bad or not outcomes else VerdictStatus.PASSED,
        checks=tuple(o.check for o in outcomes),
        run_id=run_id,
        at=at,
        reason=reason or ("no checks ran" if not outcomes else "all checks passed"),
    )


def _label(outcome: CheckOutcome) -> str:
    """``failed``/``error`` as before, or the verdict when it is "no verdict yet" (inconclusive, insufficient)."""
    if outcome.verdict in (CheckVerdict.INCONCLUSIVE, CheckVerdict.INSUFFICIENT):
        return outcome.verdict.value
    return outcome.status.value


R = TypeVar("R", bound=ActionResult)
Lock = Union[ModelLock, AbstractContextManager[Any], Callable[[], AbstractContextManager[Any]]]
"""What `ModelGuard(lock=...)` takes: a `ModelLock` (``lock.acquire(model_name, timeout)``, see
`guardrails.models._lock`), a context manager entered around every action, or a callable returning a fresh one."""


class _Interrupted(Exception):
    """An action stopped part-way; carries what the ERROR result must say (what moved, what was observed)."""

    def __init__(self, message: str, error: str, *, move: AliasMove | None = None, observed: int | None = None):
        super().__init__(message)
        self.message, self.error, self.move, self.observed = message, error, move, observed


class ModelGuard:
    """Guards one registered model's serving alias.

    Args:
        registry: how to reach the registry (e.g. `MlflowModelRegistry`).
        name: the registered model name.
        alias: the serving alias the guard moves (default ``champion``).
        actor: who or what acts, recorded in history when a call gives no `by` (e.g. ``"dagster:model_sensor"``).
        clock: the current time, injectable for tests.
        lock: excludes other guards acting on this model (see `Lock`). Default: the registry's shared lock
            (`guardrails.models._lock.lock_for`: a PostgreSQL advisory lock or a file lock). Pass
            ``contextlib.nullcontext()`` to act without one.
        lock_timeout: seconds to wait for the lock before the action ends ERROR having done nothing.
        settle_seconds: after a set-alias fails (a timeout may still land), how long to read the alias back
            before reporting where it is. Default: the registry's per-call budget (`call_budget_seconds`) for a
            tracking server reached over HTTP, where a request can land after the client gave up; 1 s for a local
            database, where a failed write is final.
        sleep: how to wait between read-backs, injectable for tests.

    `status`, `history`, `lineage`, `versions_that_saw`, `record_verdict` and `record_lineage` raise
    `RegistryError`; the actions (`promote`, `pin`, `unpin`, `fail_version`, `condemn`, `hold`, `release_hold`,
    `unhold`, `reconcile`) never raise for registry trouble: they return a result with `ActionStatus.ERROR`,
    the cause, and the alias they observed, having moved nothing further (fail closed).
    """

    def __init__(
        self,
        registry: ModelRegistry,
        name: str,
        *,
        alias: str = "champion",
        actor: str = "guardrails",
        clock: Callable[[], datetime] = _utcnow,
        lock: Lock | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
        settle_seconds: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not name:
            raise ValueError("name: expected a registered model name, got ''")
        if not alias or alias.lower() == "latest":
            raise ValueError(f"alias: expected a serving alias such as 'champion', got {alias!r} (reserved or empty)")
        if settle_seconds is None:
            settle_seconds = _default_settle(registry)
        if settle_seconds < 0:
            raise ValueError(f"settle_seconds: expected >= 0, got {settle_seconds!r}")
        self.registry = registry
        self.name = name
        self.alias = alias
        self.actor = actor
        self.clock = clock
        self.lock = lock if lock is not None else lock_for(registry)
        self.lock_timeout = lock_timeout
        self.settle_seconds = settle_seconds
        self.sleep = sleep

    def __repr__(self) -> str:
        return f"ModelGuard({self.registry!r}, {self.name!r}, alias={self.alias!r})"

    # --- reading ---------------------------------------------------------------------------------------------

    def _read(self) -> _Snapshot:
        model = self.registry.get_model(self.name)
        condemned = condemnations_from_tags(model.tags)
        versions = []
        for v in self.registry.search_versions(self.name):
            tainted = sorted(saw_suffixes(v.tags) & condemned.keys())
            versions.append(ModelVersionState(
                version=v.version,
                status=v.status,
                verdict=verdict_from_tags(v.tags),
                run_id=v.run_id,
                created_at=v.created_at,
                lineage=lineage_from_tags(v.tags),
                tainted_by=tuple(condemned[s].batch for s in tainted),
                requires=required_checks(model.tags, v.tags),
                checks=checks_from_tags(v.tags),
            ))
        return _Snapshot(model=model, versions=tuple(versions), alias=self.alias, condemned=condemned)

    def status(self) -> ModelStatus:
        """Versions with verdicts and lineage, the alias, pin, hold and condemned batches (raises `RegistryError`)."""
        snap = self._read()
        return ModelStatus(
            name=self.name,
            alias=self.alias,
            alias_version=snap.alias_version,
            versions=snap.versions,
            pin=snap.pin,
            aliases=dict(snap.model.aliases),
            hold=snap.hold,
            condemned=tuple(snap.condemned.values()),
        )

    def history(self) -> tuple[AliasMove, ...]:
        """Every recorded alias move, pin, hold and observation of this model, oldest first (raises `RegistryError`)."""
        return history_from_tags(self.registry.get_model(self.name).tags)

    def passed_versions(self) -> tuple[int, ...]:
        """Version numbers whose verdict passed, found with the registry's own tag search (raises `RegistryError`).

        A passed verdict alone does not make a version eligible: see `ModelVersionState.eligible` (clean lineage).
        """
        found = self.registry.search_versions(self.name, {VERDICT_TAG: VerdictStatus.PASSED.value})
        return tuple(v.version for v in found)

    def lineage(self, version: int) -> Lineage | None:
        """The lineage recorded on `version`, or None if none was (raises `RegistryError`, also for no such version)."""
        found = next((v for v in self.registry.search_versions(self.name) if v.version == version), None)
        if found is None:
            raise RegistryError("get_version", self.name, f"no version {version}")
        return lineage_from_tags(found.tags)

    def versions_that_saw(self, batch: BatchRef) -> tuple[int, ...]:
        """The versions whose lineage includes `batch`, by the registry's tag search (raises `RegistryError`).

        A `batch` with an id (batch_id or content_hash) matches that exact batch; without one, every batch of
        its partition.
        """
        found = self.registry.search_versions(self.name, {saw_tag(batch): SAW_VALUE})
        return tuple(v.version for v in found)

    # --- writing ---------------------------------------------------------------------------------------------

    def record_verdict(self, version: int, verdict: Verdict) -> None:
        """Tag `version` with `verdict` under the model's lock (raises `RegistryError`, `ModelLockTimeout` when
        another guard holds the lock past `lock_timeout`; a failed verdict blocks the version first).

        The lock keeps a verdict from interleaving with a concurrent promote or failure of the same model, as
        every action does. To fail a version and move the alias off it, use `fail_version`.
        """
        with self._locked("record_verdict"):
            self._record_verdict(version, verdict)

    def _record_verdict(self, version: int, verdict: Verdict) -> None:
        for key, value in verdict_tags(verdict):
            self.registry.set_version_tag(self.name, version, key, value)

    def record_lineage(self, version: int, lineage: Lineage) -> None:
        """Tag `version` with what it was trained and evaluated on, under the model's lock (raises `RegistryError`,
        `ModelLockTimeout` when another guard holds the lock past `lock_timeout`).

        Writes one searchable ``guardrails.saw.*`` tag per partition and batch (first), then the lineage as JSON.
        A batch already condemned makes the version unclean at once: it is never eligible for the alias.

        Example:
            >>> batch = BatchRef(asset="clean_transactions", partition="2026-11-02", batch_id="b-41",
            ...                  contract_id="transactions", contract_version="1.2.0", run_id="r-9")
            >>> guard.record_lineage(4, Lineage(trained_on=(batch,), evaluated_on=()))  # doctest: +SKIP
        """
        with self._locked("record_lineage"):
            for key, value in lineage_tags(lineage):
                self.registry.set_version_tag(self.name, version, key, value)

    def _entry(self, seq: int, action: MoveAction, from_version: int | None, to_version: int | None,
               **facts: str | None) -> AliasMove:
        reason = cap_text(facts.pop("reason", None) or "", REASON_CHARS)
        return AliasMove(
            id=history_id(seq, action, self.alias, from_version, to_version),
            seq=seq,
            action=action,
            alias=self.alias,
            from_version=from_version,
            to_version=to_version,
            at=self.clock(),
            reason=reason,
            check=facts.get("check"),
            run_id=facts.get("run_id"),
            by=facts.get("by") or self.actor,
        )

    def _append(self, snap: _Snapshot, action: MoveAction, to_version: int | None, **facts: str | None) -> AliasMove:
        return self._entry(snap.next_seq, action, snap.alias_version, to_version, **facts)

    def _write_entry(self, entry: AliasMove) -> None:
        key, value = history_tag(entry)
        self.registry.set_model_tag(self.name, key, value)

    # --- the frame every action runs in ----------------------------------------------------------------------

    def _act(self, make: Callable[..., R], what: str, body: Callable[[], R]) -> R:
        """Run `body` under the lock; turn registry trouble into an ERROR result that says what was observed."""
        with ExitStack() as stack:
            try:
                stack.enter_context(self._lock_context())
            except Exception as exc:  # noqa: BLE001 - any lock failure means: do not act
                return make(ActionStatus.ERROR, f"could not take the lock on {self.name!r}; nothing done ({what})",
                            error=f"{type(exc).__name__}: {exc}")
            try:
                return body()
            except _Interrupted as exc:
                return make(ActionStatus.ERROR, exc.message, error=exc.error, move=exc.move,
                            observed_version=exc.observed)
            except RegistryError as exc:
                # No set-alias of ours was in flight (those raise _Interrupted), so one read says where it is.
                try:
                    observed: int | None = read_alias(self.registry, self.name, self.alias)
                    seen = f"observed on {_v(observed)}"
                except RegistryError:
                    observed, seen = None, "could not be read back"
                return make(ActionStatus.ERROR, f"{what} of {self.name!r} did not complete ({exc.operation} "
                            f"failed); alias {self.alias!r} not moved by it, {seen}", error=str(exc),
                            observed_version=observed)

    def _lock_context(self) -> AbstractContextManager[Any]:
        """A fresh context manager that holds this model's lock (see `Lock`)."""
        lock = self.lock
        if isinstance(lock, ModelLock):
            return lock.acquire(self.name, timeout=self.lock_timeout)  # type: ignore[no-any-return]
        if callable(lock) and not hasattr(lock, "__enter__"):
            return lock()
        return lock  # type: ignore[return-value]

    @contextmanager
    def _locked(self, what: str) -> Iterator[None]:
        """Hold the model's lock around a write that raises (`record_verdict`, `record_lineage`): a failure to take
        it raises `RegistryError` (`ModelLockTimeout` as is), having written nothing."""
        with ExitStack() as stack:
            try:
                stack.enter_context(self._lock_context())
            except RegistryError:
                raise
            except Exception as exc:  # noqa: BLE001 - any lock failure means: do not write
                raise RegistryError("lock", self.name, f"could not take the lock; nothing done ({what}): "
                                    f"{type(exc).__name__}: {exc}") from exc
            yield

    def _settle(self, target: int | None) -> tuple[bool, int | None]:
        """Read the alias back until it shows `target` or `settle_seconds` pass: (could read, last value read)."""
        seen = settle_alias(self.registry, self.name, self.alias, target=target, window_seconds=self.settle_seconds,
                            sleep=self.sleep)
        return seen.known, (target if seen.reached_target else seen.version)

    def _move(self, entry: AliasMove) -> None:
        """Set the alias to `entry.to_version` and record `entry`; on trouble, read back and raise `_Interrupted`.

        A set-alias that errors may still have landed (a timeout after the server applied it): the alias is read
        back over the settle window, and if it did land the entry is recorded, so the history has every move.
        """
        target = entry.to_version
        assert target is not None
        try:
            self.registry.set_alias(self.name, self.alias, target)
        except RegistryError as exc:
            readable, observed = self._settle(target)
            if readable and observed == target:
                try:
                    self._write_entry(entry)
                    recorded = "recorded in the history"
                except RegistryError as late:
                    recorded = f"NOT recorded in the history ({late}); the reconciler records it"
                raise _Interrupted(
                    f"set-alias failed but alias {self.alias!r} of {self.name!r} was observed on v{target} "
                    f"(moved {_v(entry.from_version)} -> v{target}, {recorded})",
                    str(exc), move=entry, observed=observed) from exc
            if not readable:
                raise _Interrupted(
                    f"alias {self.alias!r} of {self.name!r}: set-alias to v{target} unconfirmed (could not be read "
                    "back); the next reconcile records it if it landed", str(exc)) from exc
            raise _Interrupted(
                f"alias {self.alias!r} of {self.name!r} not moved to v{target}: after {self.settle_seconds:g}s it "
                f"is observed on {_v(observed)}; if the move lands later, the next reconcile records it",
                str(exc), observed=observed) from exc
        try:
            self._write_entry(entry)
        except RegistryError as exc:
            raise _Interrupted(
                f"alias {self.alias!r} of {self.name!r} moved {_v(entry.from_version)} -> v{target} but the history "
                "entry could not be written; the reconciler records it as observed",
                str(exc), move=entry, observed=target) from exc

    def _move_off_failed(self, snap: _Snapshot, action: MoveAction, facts: dict[str, str | None],
                         *, excluding: Iterable[int] = ()) -> tuple[AliasMove | None, str]:
        """If the alias rests on a failed or unclean version, or one awaiting a required check, move it to the best
        eligible one (re-targeting an active pin). Returns the move (None if none was needed or possible) and a
        message fragment."""
        if not snap.alias_on_blocked:
            return None, f"alias {self.alias!r} stays on {_v(snap.alias_version)}"
        target = snap.best(excluding=excluding)
        if target is None:
            state = snap.version(snap.alias_version)  # type: ignore[arg-type]
            where = (f"FAILED {_v(snap.alias_version)}" if state is None or state.failed
                     else f"{_v(snap.alias_version)} ({state.ineligible_because})")
            return None, (f"alias {self.alias!r} left on {where}: no READY version has a "
                          "passed verdict, a clean lineage and its required checks passed; record one or register a "
                          "fixed version")
        entry = self._append(snap, action, target, **facts)
        if (pin := snap.pin) is not None and pin.version != target:
            # A pin holds the alias on a version until released, but never on a failed one: the pin follows.
            self.registry.set_model_tag(self.name, PIN_TAG, pin_tag(
                replace(pin, version=target, from_version=snap.alias_version, history_id=entry.id)))
        self._move(entry)
        return entry, f"alias {self.alias!r} moved {_v(snap.alias_version)} -> v{target}"

    # --- promote -----------------------------------------------------------------------------------------------

    def promote(
        self,
        version: int,
        *,
        reason: str = "",
        check: str | None = None,
        run_id: str | None = None,
        by: str | None = None,
    ) -> PromoteResult:
        """Point the alias at `version` if it is eligible and promotion is neither pinned nor held.

        REFUSED (nothing moves) when pinned, held, when the version does not exist, is not READY, has a failed or
        no verdict, or its lineage includes a condemned batch. NO_OP when the alias is already there. After setting
        the alias the guard re-reads the version: if it failed (or a pin appeared) meanwhile, the alias is moved
        back (a ``revert`` entry) and the result is REFUSED. Every move is recorded in the history.
        """
        def result(status: ActionStatus, message: str, **extra: object) -> PromoteResult:
            return PromoteResult(model=self.name, alias=self.alias, version=version, status=status,
                                 message=message, **extra)  # type: ignore[arg-type]

        return self._act(result, "promote", lambda: self._promote(version, reason, check, run_id, by, result))

    def _promote(self, version: int, reason: str, check: str | None, run_id: str | None, by: str | None,
                 result: Callable[..., PromoteResult]) -> PromoteResult:
        snap = self._read()
        if (pin := snap.pin) is not None:
            return result(
                ActionStatus.REFUSED,
                f"{self.name!r} is pinned on v{pin.version} since {pin.at.isoformat()} by {pin.by} ({pin.reason}); "
                f"unpin it before promoting v{version}", observed_version=snap.alias_version,
            )
        if (hold := snap.hold) is not None:
            return result(ActionStatus.REFUSED, f"promotion of {self.name!r} is held since {_at(hold.at)} by "
                          f"{hold.by} ({hold.reason}; still failing: {_failing(hold)}); `guardrails models unhold "
                          f"{self.name}` or wait for those partitions to pass", observed_version=snap.alias_version)
        refusal = _ineligible(self.name, version, snap.version(version))
        if refusal:
            return result(ActionStatus.REFUSED, refusal, observed_version=snap.alias_version)
        if snap.alias_version == version:
            return result(ActionStatus.NO_OP, f"alias {self.alias!r} of {self.name!r} already on v{version}",
                          observed_version=version)
        entry = self._append(snap, MoveAction.PROMOTE, version, reason=reason, check=check, run_id=run_id, by=by)
        self._move(entry)
        # Re-read after the move: a failure that wrote its verdict before we set the alias is seen here; one that
        # writes it after will read the alias and move it off itself.
        try:
            after = self._read()
        except RegistryError as exc:
            raise _Interrupted(f"alias {self.alias!r} of {self.name!r} moved {_v(entry.from_version)} -> v{version} "
                               f"but could not be re-read to confirm v{version} still passes; the reconciler moves "
                               "it off if it failed meanwhile", str(exc), move=entry, observed=version) from exc
        now = after.version(version)
        late_pin = after.pin
        if after.alias_version == version and ((now is not None and now.blocked) or late_pin is not None):
            if now is not None and now.blocked:
                why = f"v{version} {'failed' if now.failed else 'became ineligible'} while being promoted ({_why(now)})"
            else:
                why = f"{self.name!r} was pinned on v{late_pin.version} meanwhile"  # type: ignore[union-attr]
            if late_pin is not None:
                target: int | None = late_pin.version
            elif entry.from_version is not None and (prev := after.version(entry.from_version)) and prev.eligible:
                target = entry.from_version
            else:
                target = after.best(excluding=(version,))
            if target is None:
                return result(ActionStatus.REFUSED, f"{why}; alias {self.alias!r} left on v{version}: no other "
                              "eligible version to return to", move=entry, observed_version=version,
                              error=why)
            revert = self._entry(entry.seq + 1, MoveAction.REVERT, version, target, reason=why, check=check,
                                 run_id=run_id, by=by)
            self._move(revert)
            return result(ActionStatus.REFUSED, f"{why}; alias {self.alias!r} moved back v{version} -> v{target}",
                          move=revert, observed_version=target)
        return result(ActionStatus.APPLIED, f"alias {self.alias!r} of {self.name!r} moved "
                      f"{_v(entry.from_version)} -> v{version}", move=entry, observed_version=version)

    # --- a model's own failure ---------------------------------------------------------------------------------

    def fail_version(
        self,
        version: int,
        *,
        reason: str,
        check: str | None = None,
        run_id: str | None = None,
        by: str | None = None,
    ) -> FailResult:
        """`version` itself failed (evaluation, canary, fairness, realized performance): tag it failed, then move
        the alias off it to the highest passed clean version.

        The verdict is written FIRST, then the alias is read: a concurrent `promote` either sees the failed verdict
        and reverts, or is seen here and undone. No pin is set (unlike `pin`); an active pin on this version
        follows the alias to the new target. APPLIED: the verdict was written and/or the alias moved. NO_OP: already
        failed and the alias is elsewhere. REFUSED: no such version, or the alias is on it and no other version is
        eligible (the verdict is still written; the message says the failed version is being served).
        """
        by = by or self.actor

        def result(status: ActionStatus, message: str, **extra: object) -> FailResult:
            return FailResult(model=self.name, alias=self.alias, version=version, status=status, message=message,
                              **extra)  # type: ignore[arg-type]

        def body() -> FailResult:
            snap = self._read()
            current = snap.version(version)
            if current is None:
                return result(ActionStatus.REFUSED, f"{self.name!r} has no version {version}; nothing done",
                              observed_version=snap.alias_version)
            wrote = current.verdict is None or current.verdict.passed
            if wrote:
                self._record_verdict(version, Verdict(
                    status=VerdictStatus.FAILED, checks=(check,) if check else (), run_id=run_id, at=self.clock(),
                    reason=cap_text(reason, MESSAGE_CHARS)))
            after = self._read()
            facts = {"reason": reason, "check": check, "run_id": run_id, "by": by}
            move, where = self._move_off_failed(after, MoveAction.FAIL, facts, excluding=(version,))
            tagged = f"v{version} tagged failed" if wrote else f"v{version} already failed"
            observed = move.to_version if move else after.alias_version
            if move is None and after.alias_on_blocked:
                return result(ActionStatus.REFUSED, f"{tagged}; {where}", error=where, observed_version=observed)
            status = ActionStatus.APPLIED if wrote or move else ActionStatus.NO_OP
            return result(status, f"{tagged} ({reason}); {where}", move=move, observed_version=observed)

        return self._act(result, "fail_version", body)

    # --- a stored batch condemned later -------------------------------------------------------------------------

    def condemn(
        self,
        batch: BatchRef,
        *,
        reason: str,
        check: str | None = None,
        run_id: str | None = None,
        by: str | None = None,
    ) -> CondemnResult:
        """A stored batch failed a later check (drift, parity, labels): fail every version whose lineage includes
        it, and move the alias to the highest passed clean version if it rests on one of them.

        The condemnation is recorded on the model first (from then on those versions are unclean, whatever their
        verdict), then each version that saw the batch is tagged failed with a reason naming it, then the alias is
        read and moved. Versions that did not see the batch are never touched. NO_OP when the batch was already
        condemned and nothing was left to do.
        """
        by = by or self.actor

        def result(status: ActionStatus, message: str, **extra: object) -> CondemnResult:
            return CondemnResult(model=self.name, alias=self.alias, batch=batch, status=status, message=message,
                                 **extra)  # type: ignore[arg-type]

        def body() -> CondemnResult:
            snap = self._read()
            known = condemned_suffix(batch) in snap.condemned
            if not known:
                key, value = condemnation_tag(Condemnation(batch=batch, reason=reason, check=check, run_id=run_id,
                                                           at=self.clock(), by=by))
                self.registry.set_model_tag(self.name, key, value)
            why = f"lineage includes condemned batch {batch.label}" + (f" ({check})" if check else "") + \
                f": {reason}"
            saw = self.versions_that_saw(batch)
            tagged = []
            for number in saw:
                current = snap.version(number)
                if current is None or current.verdict is None or current.verdict.passed:
                    self._record_verdict(number, Verdict(
                        status=VerdictStatus.FAILED, checks=(check,) if check else (), run_id=run_id, at=self.clock(),
                        reason=cap_text(why, MESSAGE_CHARS)))
                    tagged.append(number)
            after = self._read()
            facts = {"reason": why, "check": check, "run_id": run_id, "by": by}
            move, where = self._move_off_failed(after, MoveAction.CONDEMN, facts)
            observed = move.to_version if move else after.alias_version
            seen = (f"versions that saw it: {', '.join(f'v{n}' for n in saw)}" if saw
                    else "no version's lineage includes it")
            message = f"batch {batch.label} condemned; {seen}; {where}"
            if move is None and after.alias_on_blocked:
                return result(ActionStatus.REFUSED, message, error=where, failed_versions=tuple(saw),
                              observed_version=observed)
            status = ActionStatus.NO_OP if known and not tagged and move is None else ActionStatus.APPLIED
            return result(status, message, move=move, failed_versions=tuple(saw), observed_version=observed)

        return self._act(result, "condemn", body)

    # --- holds -------------------------------------------------------------------------------------------------

    def hold(
        self,
        reason: str,
        *,
        check: str,
        partitions: Sequence[str | None] = (),
        run_id: str | None = None,
        incident: str | None = None,
        at: datetime | None = None,
        by: str | None = None,
    ) -> HoldResult:
        """Hold automatic promotion: a batch failed and was quarantined before storage (it touched no model), or
        data did not arrive (freshness; `partitions` empty or ``[None]``). No verdict is written, the alias does
        not move; `promote` is REFUSED until the hold is released.

        The hold records each failing (check, partition) with `at`, when the failing evaluation ran (default: now,
        by the guard's clock); `release_hold(at=...)` clears it only with a pass evaluated at or after that time.
        A second failure joins the hold (one ``hold`` history entry per call that adds something). NO_OP when
        every pair is already held; a repeat failure evaluated later than the one held moves that pair's `at`
        forward (no history entry), so a pass older than the latest failure does not release it.
        """
        by = by or self.actor
        pairs = tuple(dict.fromkeys(_partition_list(partitions, "partitions")))
        failed_at = as_utc(at) if at is not None else None

        def result(status: ActionStatus, message: str, **extra: object) -> HoldResult:
            return HoldResult(model=self.name, alias=self.alias, status=status, message=message,
                              **extra)  # type: ignore[arg-type]

        def body() -> HoldResult:
            snap = self._read()
            existing = snap.hold
            have = {(f.check, f.partition): f for f in existing.failing} if existing else {}
            new = [p for p in pairs if (check, p) not in have]
            if existing is not None and not new:
                # A repeat failure evaluated later moves its pair's time forward: an older pass must not release it.
                latest = dict(have)
                for p in pairs if failed_at is not None else ():
                    held = have[(check, p)]
                    if held.at is not None and failed_at > as_utc(held.at):  # type: ignore[operator]
                        latest[(check, p)] = replace(held, run_id=run_id or held.run_id, at=failed_at)
                        self.registry.set_model_tag(self.name, *hold_failing_tag(latest[(check, p)]))
                kept = replace(existing, failing=tuple(latest[(f.check, f.partition)] for f in existing.failing))
                return result(ActionStatus.NO_OP, f"promotion of {self.name!r} already held for {check} "
                              f"{_parts(pairs)}", hold=kept, observed_version=snap.alias_version)
            now = self.clock()
            header = existing or Hold(reason=cap_text(reason, REASON_CHARS), incident=incident, run_id=run_id,
                                      at=now, by=by)
            if existing is None:
                # The header first: from here on promotion is refused even if the rest is interrupted.
                self.registry.set_model_tag(self.name, *hold_header_tag(header))
            added = [HoldFailure(check=check, partition=p, run_id=run_id, at=failed_at or now) for p in new]
            for failure in added:
                self.registry.set_model_tag(self.name, *hold_failing_tag(failure))
            entry = self._append(snap, MoveAction.HOLD, snap.alias_version, reason=f"{reason} ({check} "
                                 f"{_parts(new)})", check=check, run_id=run_id, by=by)
            self._write_entry(entry)
            hold = replace(header, failing=tuple(sorted((*(existing.failing if existing else ()), *added),
                                                        key=lambda f: (f.check, f.partition or ""))))
            verb = "joined the hold on" if existing else "held"
            return result(ActionStatus.APPLIED, f"promotion of {self.name!r} {verb}: {check} {_parts(new)} failed "
                          f"({reason}); alias {self.alias!r} stays on {_v(snap.alias_version)}", hold=hold, move=entry,
                          observed_version=snap.alias_version)

        return self._act(result, "hold", body)

    def release_hold(
        self,
        check: str,
        partitions_passed: Sequence[str | None] = (),
        *,
        run_id: str | None = None,
        at: datetime | None = None,
        by: str | None = None,
    ) -> HoldResult:
        """`check` passed for `partitions_passed` (empty or ``[None]``: a check with no partition, e.g. freshness):
        drop those failing pairs from the hold, and release the hold when none is left (the incident rule: every
        failing partition has a later passing evaluation). With `at` (when the passing evaluation ran), only
        failures evaluated at or before `at` (`HoldFailure.at`, as given to `hold(at=...)`) are dropped: a pass
        older than the failure does not clear it. NO_OP when not held or nothing matched.
        """
        by = by or self.actor
        passed = set(_partition_list(partitions_passed, "partitions_passed"))

        def result(status: ActionStatus, message: str, **extra: object) -> HoldResult:
            return HoldResult(model=self.name, alias=self.alias, status=status, message=message,
                              **extra)  # type: ignore[arg-type]

        def body() -> HoldResult:
            snap = self._read()
            hold = snap.hold
            if hold is None:
                return result(ActionStatus.NO_OP, f"promotion of {self.name!r} is not held",
                              observed_version=snap.alias_version)
            cleared = [f for f in hold.failing if f.check == check and f.partition in passed
                       and (at is None or f.at is None or as_utc(f.at) <= as_utc(at))]
            left = tuple(f for f in hold.failing if f not in cleared)
            for failure in cleared:
                self.registry.delete_model_tag(self.name, hold_failing_key(failure.check, failure.partition))
            if left or not cleared:
                status = ActionStatus.APPLIED if cleared else ActionStatus.NO_OP
                return result(status, f"{check} {_parts([f.partition for f in cleared])} passed; promotion of "
                              f"{self.name!r} still held ({_failing(replace(hold, failing=left))})",
                              hold=replace(hold, failing=left), observed_version=snap.alias_version)
            return self._release(snap, hold, result, reason=f"every failing partition passed again (last: {check} "
                                 f"{_parts([f.partition for f in cleared])})", run_id=run_id, by=by, check=check)

        return self._act(result, "release_hold", body)

    def unhold(self, *, reason: str, by: str | None = None) -> HoldResult:
        """Release the hold by hand (``guardrails models unhold NAME``); the alias stays. NO_OP when not held."""
        by = by or self.actor

        def result(status: ActionStatus, message: str, **extra: object) -> HoldResult:
            return HoldResult(model=self.name, alias=self.alias, status=status, message=message,
                              **extra)  # type: ignore[arg-type]

        def body() -> HoldResult:
            snap = self._read()
            hold = snap.hold
            if hold is None:
                return result(ActionStatus.NO_OP, f"promotion of {self.name!r} is not held",
                              observed_version=snap.alias_version)
            for key in snap.model.tags:
                if key.startswith(HOLD_FAILING_PREFIX):
                    self.registry.delete_model_tag(self.name, key)
            return self._release(snap, hold, result, reason=reason, run_id=None, by=by, check=None)

        return self._act(result, "unhold", body)

    def _release(self, snap: _Snapshot, hold: Hold, result: Callable[..., HoldResult], *, reason: str,
                 run_id: str | None, by: str, check: str | None) -> HoldResult:
        # The failing entries go first, the header last: an interrupted release stays held (fail closed).
        self.registry.delete_model_tag(self.name, HOLD_TAG)
        entry = self._append(snap, MoveAction.UNHOLD, snap.alias_version, reason=reason, check=check,
                             run_id=run_id, by=by)
        self._write_entry(entry)
        return result(ActionStatus.APPLIED, f"promotion of {self.name!r} released ({reason}); alias {self.alias!r} "
                      f"on {_v(snap.alias_version)}", released=hold, move=entry, observed_version=snap.alias_version)

    # --- the reconciler ----------------------------------------------------------------------------------------

    def reconcile(self, *, by: str | None = None) -> ReconcileResult:
        """Make the registry agree with the guard's rules; run every sensor tick and by ``guardrails models
        reconcile NAME``.

        1. If the alias is not where the last history entry left it, record an ``observed`` entry (a move the guard
           did not make, or a set-alias that landed after the guard gave up on it).
        2. If the alias rests on a version that failed or whose lineage includes a condemned batch, move it to the
           highest passed clean version (a ``reconcile`` entry; an active pin follows).

        Never moves an alias that rests on a version that neither failed nor is unclean. NO_OP when nothing was
        written; REFUSED when the alias is on a failed version and no version is eligible.
        """
        by = by or self.actor

        def result(status: ActionStatus, message: str, **extra: object) -> ReconcileResult:
            return ReconcileResult(model=self.name, alias=self.alias, status=status, message=message,
                                   **extra)  # type: ignore[arg-type]

        def body() -> ReconcileResult:
            snap = self._read()
            mine = [e for e in snap.history if e.alias == self.alias]
            last_to = mine[-1].to_version if mine else None
            observed = None
            notes = []
            if snap.alias_version != last_to:
                observed = self._entry(snap.next_seq, MoveAction.OBSERVED, last_to, snap.alias_version,
                                       reason=f"alias found on {_v(snap.alias_version)}; no recorded move put it "
                                       "there", by=by)
                self._write_entry(observed)
                notes.append(f"recorded an observed move {_v(last_to)} -> {_v(snap.alias_version)}")
                snap = self._read()
            facts = {"reason": f"{_v(snap.alias_version)} {_why(snap.version(snap.alias_version or -1))}",
                     "check": None, "run_id": None, "by": by}
            move, where = self._move_off_failed(snap, MoveAction.RECONCILE, facts)
            if move is not None:
                notes.append(where)
            observed_version = move.to_version if move else snap.alias_version
            if move is None and snap.alias_on_blocked:
                return result(ActionStatus.REFUSED, "; ".join([*notes, where]), error=where, observed=observed,
                              observed_version=observed_version)
            if not notes:
                return result(ActionStatus.NO_OP, f"{self.name!r} consistent: {where}",
                              observed_version=observed_version)
            return result(ActionStatus.APPLIED, f"{self.name!r}: " + "; ".join(notes), observed=observed, move=move,
                          observed_version=observed_version)

        return self._act(result, "reconcile", body)

    # --- pins --------------------------------------------------------------------------------------------------

    def pin(
        self,
        failing_version: int,
        *,
        reason: str,
        check: str | None = None,
        run_id: str | None = None,
        by: str | None = None,
    ) -> PinResult:
        """`failing_version` failed: tag it, move the alias to the best passed clean version, and pin it there.

        APPLIED: the failing version is tagged failed, the alias is on the highest passed clean version (it may
        have been there already), the model carries the pin, and the history has the entry. NO_OP: a complete pin
        is already active; another failing version (say a new v4) is still tagged failed if it was not yet, but
        the pinned version itself never is: while pinned, `failing_version` equal to the pin's target means the
        alias version a caller defaulted to, not a new failure (pass `Pin.failing_version` instead). REFUSED: no
        other version is eligible, so the alias stays where it is, no pin is set, and the message says what is
        being served. ERROR: the registry failed; the result says what was done before it did.

        Prefer `fail_version` for a model's own failure and `hold`/`condemn` for data failures: a pin also stops
        promotion until someone unpins.
        """
        by = by or self.actor

        def result(status: ActionStatus, message: str, **extra: object) -> PinResult:
            return PinResult(model=self.name, alias=self.alias, failing_version=failing_version, status=status,
                             message=message, **extra)  # type: ignore[arg-type]

        def body() -> PinResult:
            snap = self._read()
            if snap.version(failing_version) is None:
                return result(ActionStatus.REFUSED, f"{self.name!r} has no version {failing_version}; nothing pinned")
            facts = {"reason": reason, "check": check, "run_id": run_id, "by": by}
            try:
                return self._pin(snap, failing_version, facts, result)
            except RegistryError as first:
                # Two pins of the same failure write the same tags; on some stores the two upserts collide. Re-read
                # once and finish (or find finished) the pin; if the registry is really down this fails fast too.
                try:
                    return self._pin(self._read(), failing_version, facts, result)
                except (RegistryError, _Interrupted) as exc:
                    detail = exc.error if isinstance(exc, _Interrupted) else str(exc)
                    seen = ""
                    observed = exc.observed if isinstance(exc, _Interrupted) else None
                    if "set_alias" in (first.operation, getattr(exc, "operation", None)):
                        # A set-alias that errored may still land: read back before saying where the alias is.
                        readable, observed = self._settle(snap.best(excluding=(failing_version,)))
                        seen = f"; after the error it is {'observed on ' + _v(observed) if readable else 'unknown'}"
                    return result(
                        ActionStatus.ERROR,
                        f"pin of {self.name!r} after v{failing_version} failed interrupted; alias {self.alias!r} was "
                        f"on {_v(snap.alias_version)} before{seen}; a retry completes or repeats it",
                        error=f"{first}; retry: {detail}",
                        observed_version=observed,
                    )

        return self._act(result, "pin", body)

    def _pin(
        self,
        snap: _Snapshot,
        failing_version: int,
        facts: dict[str, str | None],
        result: Callable[..., PinResult],
    ) -> PinResult:
        if (pin := snap.pin) is not None and snap.pin_complete and failing_version == pin.version:
            # The alias is on the pinned good version, so "the alias version failed" (a sensor or CLI default on a
            # second bad day) names the version we fell back to, not a new failure: never tag it failed, or the
            # champion serves a version marked failed and every repeat fails one more good version.
            return result(
                ActionStatus.NO_OP,
                f"{self.name!r} already pinned on v{pin.version} since {pin.at.isoformat()} ({pin.reason}); "
                f"v{failing_version} is the pinned version, its verdict is unchanged and nothing moved. To judge "
                f"it, record a verdict on v{failing_version} (or unpin and pin again)",
                pin=pin,
            )
        failing = snap.version(failing_version)
        if failing is None or failing.verdict is None or failing.verdict.passed:
            self._record_verdict(
                failing_version,
                Verdict(
                    status=VerdictStatus.FAILED,
                    checks=(facts["check"],) if facts["check"] else (),
                    run_id=facts["run_id"],
                    at=self.clock(),
                    reason=facts["reason"] or "",
                ),
            )
        if pin is not None:
            if snap.pin_complete:
                tagged = f"v{failing_version} is tagged failed; " if failing_version != pin.failing_version else ""
                return result(
                    ActionStatus.NO_OP,
                    f"{self.name!r} already pinned on v{pin.version} since {pin.at.isoformat()} ({pin.reason}); "
                    f"{tagged}nothing moved",
                    pin=pin,
                )
            return self._complete(snap, pin, result)
        candidates = [v.version for v in snap.versions if v.eligible and v.version != failing_version]
        if not candidates:
            serving = snap.alias_version
            danger = " - it is serving the FAILING version" if serving == failing_version else ""
            message = (
                f"no version of {self.name!r} other than v{failing_version} has a passed verdict: alias "
                f"{self.alias!r} left on {_v(serving)}{danger}; not pinned. Record a passed verdict on a good "
                "version or register a fixed one, then pin again"
            )
            return result(ActionStatus.REFUSED, message, error=message)
        target = max(candidates)
        entry = self._append(snap, MoveAction.PIN, target, **facts)
        pin = Pin(
            alias=self.alias,
            version=target,
            from_version=snap.alias_version,
            failing_version=failing_version,
            reason=facts["reason"] or "",
            check=facts["check"],
            run_id=facts["run_id"],
            at=entry.at,
            by=facts["by"] or self.actor,
            key=f"v{failing_version}:{facts['check'] or ''}:{facts['run_id'] or ''}",
            history_id=entry.id,
        )
        # Pin first: if we are interrupted after this, promotion is already blocked and a retry completes the pin.
        self.registry.set_model_tag(self.name, PIN_TAG, pin_tag(pin))
        if snap.alias_version != target:
            self.registry.set_alias(self.name, self.alias, target)
        self._write_entry(entry)
        verb = "moved" if entry.moved else "kept"
        return result(
            ActionStatus.APPLIED,
            f"alias {self.alias!r} of {self.name!r} {verb} {_v(entry.from_version)} -> v{target} and pinned: "
            f"{pin.reason}",
            move=entry,
            pin=pin,
        )

    def _complete(self, snap: _Snapshot, pin: Pin, result: Callable[..., PinResult]) -> PinResult:
        """Finish a pin whose tag was written but whose alias move or history entry was not."""
        target = snap.version(pin.version)
        if snap.alias_version != pin.version and (target is None or not target.eligible):
            # The verdict of the pin's target changed since the pin was written: never move onto it now.
            return result(
                ActionStatus.REFUSED,
                f"the interrupted pin of {self.name!r} targets v{pin.version}, which no longer passes; alias "
                f"{self.alias!r} left on {_v(snap.alias_version)}. Unpin and pin again",
                error=f"pin target v{pin.version} is not eligible",
                pin=pin,
            )
        if snap.alias_version != pin.version:
            self.registry.set_alias(self.name, self.alias, pin.version)
        entry = next((e for e in snap.history if e.id == pin.history_id), None)
        if entry is None:
            entry = AliasMove(
                id=pin.history_id,
                seq=int(pin.history_id.split("-", 1)[0]),
                action=MoveAction.PIN,
                alias=pin.alias,
                from_version=pin.from_version,
                to_version=pin.version,
                reason=pin.reason,
                check=pin.check,
                run_id=pin.run_id,
                at=pin.at,
                by=pin.by,
            )
            self._write_entry(entry)
        return result(
            ActionStatus.APPLIED,
            f"completed the interrupted pin of {self.name!r}: alias {self.alias!r} on v{pin.version} ({pin.reason})",
            move=entry,
            pin=pin,
        )

    def unpin(self, *, reason: str, by: str | None = None) -> UnpinResult:
        """Release the pin so promotion works again; the alias stays where it is. NO_OP when not pinned."""
        def result(status: ActionStatus, message: str, **extra: object) -> UnpinResult:
            return UnpinResult(model=self.name, alias=self.alias, status=status, message=message,
                               **extra)  # type: ignore[arg-type]

        return self._act(result, "unpin", lambda: self._unpin(reason, by, result))

    def _unpin(self, reason: str, by: str | None, result: Callable[..., UnpinResult]) -> UnpinResult:
        try:
            snap = self._read()
        except RegistryError as exc:
            return result(ActionStatus.ERROR, f"could not read {self.name!r}; pin not released", error=str(exc))
        pin = snap.pin
        if pin is None:
            return result(ActionStatus.NO_OP, f"{self.name!r} is not pinned")
        entry = self._append(snap, MoveAction.UNPIN, snap.alias_version, reason=reason, check=None, run_id=None,
                             by=by or self.actor)
        try:
            self.registry.delete_model_tag(self.name, PIN_TAG)
        except RegistryError as exc:
            return result(ActionStatus.ERROR, f"pin of {self.name!r} not released", error=str(exc))
        try:
            self._write_entry(entry)
        except RegistryError as exc:
            return result(ActionStatus.ERROR, f"pin of {self.name!r} released but the history entry could not be "
                          "written", error=str(exc), released=pin, move=entry)
        return result(ActionStatus.APPLIED, f"{self.name!r} unpinned (alias {self.alias!r} stays on "
                      f"{_v(snap.alias_version)}): {reason}", released=pin, move=entry)

    # --- canary (see guardrails.models._canary) ----------------------------------------------------------------

    def start_canary(self, version: int, *, challenger: str = _canary.DEFAULT_CHALLENGER, reason: str = "",
                     run_id: str | None = None, by: str | None = None) -> ChallengerResult:
        """Serve `version` under the `challenger` alias (the canary's candidate arm); its promotion then requires a
        canary pass. Recorded as a ``challenge`` history entry. See `guardrails.models._canary.start_canary`."""
        return _canary.start_canary(self, version, challenger=challenger, reason=reason, run_id=run_id, by=by)

    def judge_canary(self, version: int, judgement: _canary.CanaryJudgement, *,
                     challenger: str = _canary.DEFAULT_CHALLENGER, check: str = _canary.CANARY_CHECK,
                     run_id: str | None = None, by: str | None = None) -> CanaryResult:
        """Act on candidate `version`'s canary verdict (a `CanaryReport`, its outcome, or ``"pass"``/``"fail"``/...):
        fail -> `fail_version` and the challenger alias removed; pass -> passed verdict, `promote`, challenger removed;
        inconclusive or error -> nothing moves. See `guardrails.models._canary.judge_canary`."""
        return _canary.judge_canary(self, version, judgement, challenger=challenger, check=check, run_id=run_id,
                                    by=by)

    def retire_challenger(self, version: int, *, reason: str, challenger: str = _canary.DEFAULT_CHALLENGER,
                          check: str | None = None, run_id: str | None = None,
                          by: str | None = None) -> ChallengerResult:
        """Remove the `challenger` alias from `version` (no more traffic reaches it), as a ``retire`` history entry;
        NO_OP when it is not on `version`."""
        return _canary.retire_challenger(self, version, challenger=challenger, reason=reason, check=check,
                                         run_id=run_id, by=by)

    # --- consistency -----------------------------------------------------------------------------------------

    def check_signature(self, version: int, contract: Contract) -> CheckOutcome:
        """Does `version`'s logged input signature agree with `contract`? ERROR if it could not be read."""
        started = self.clock()
        try:
            inputs = self.registry.get_signature_inputs(self.name, version)
        except RegistryError as exc:
            return CheckOutcome(
                check=SIGNATURE_CHECK,
                kind=CheckKind.MODEL,
                status=CheckStatus.ERROR,
                severity=Severity.ERROR,
                started_at=started,
                finished_at=self.clock(),
                contract_id=contract.id,
                contract_version=contract.version,
                message=f"could not read the signature of {self.name} v{version}",
                error=str(exc),
            )
        return check_signature(contract, inputs, model=self.name, version=version, now=self.clock)


def _partition_list(partitions: Sequence[str | None], field_name: str) -> tuple[str | None, ...]:
    """The partitions as a tuple, ``(None,)`` for none (a check with no partition); a bare string is refused, since
    iterating it would hold one partition per character."""
    if isinstance(partitions, str):
        raise TypeError(f"{field_name}: expected a list of partition keys, got the string {partitions!r}; "
                        f"pass [{partitions!r}]")
    return tuple(partitions) or (None,)
