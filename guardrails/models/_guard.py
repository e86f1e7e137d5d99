"""`ModelGuard`: verdicts on model versions, guarded promotion, pinning to the last good version, alias history.

The guard keeps all of its state in the registry itself (see `guardrails.models._tags`), so any process with
registry access sees the same verdicts, pin and history, and nothing is lost when a sensor restarts.

Which version a pin falls back to: the **highest version number whose verdict passed** (and whose registry
status is READY), never the failing one. We chose it over "most recently promoted" because it depends only on
the verdict tags, which MLflow can search and which every writer sees, not on our history log (which misses
moves made outside the guard, e.g. in the MLflow UI). It is also deterministic, which is what lets two
concurrent pins agree on the target. The cost: a newer version that passed its checks but was never promoted
can become the champion through a pin; record a failed (or no) verdict on candidates you do not want served.

Concurrency: MLflow has no compare-and-set. A pin is made idempotent instead: it is a deterministic function of
the registry state it read (same target, same history entry id ``<seq>-<digest>``), so two sensors that react
to the same failure at the same moment write the same tags and the history shows one move. A pin that finds a
complete pin is a no-op; one that finds an interrupted pin (pin tag written, alias or history entry missing)
completes it. A write that collides with a concurrent identical write is retried once from a fresh read.
A promote racing a pin within the same few milliseconds is not excluded: the pin's next run moves the alias
back, since a pin that finds the alias off its version completes itself again.

Example:
    >>> guard = ModelGuard(MlflowModelRegistry("sqlite:///mlflow.db"), "fraud")  # doctest: +SKIP
    >>> guard.pin(3, reason="contract failed on 2026-01-01 batch", check="transactions/contract",
    ...           run_id="abc").message  # doctest: +SKIP
    "alias 'champion' of 'fraud' moved v3 -> v2 and pinned: contract failed on 2026-01-01 batch"
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from guardrails.contract.model import Contract
from guardrails.models._registry import ModelRegistry, RegisteredModelRecord, RegistryError
from guardrails.models._signature import SIGNATURE_CHECK, check_signature
from guardrails.models._tags import (
    PIN_TAG,
    VERDICT_TAG,
    history_from_tags,
    history_id,
    history_tag,
    pin_from_tags,
    pin_tag,
    verdict_from_tags,
    verdict_tags,
)
from guardrails.models._types import (
    ActionStatus,
    AliasMove,
    ModelStatus,
    ModelVersionState,
    MoveAction,
    Pin,
    PinResult,
    PromoteResult,
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


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """One consistent-enough read of the model: its tags and aliases, and every version with its verdict."""

    model: RegisteredModelRecord
    versions: tuple[ModelVersionState, ...]
    alias: str

    @property
    def pin(self) -> Pin | None:
        return pin_from_tags(self.model.tags)

    @property
    def alias_version(self) -> int | None:
        return self.model.aliases.get(self.alias)

    @property
    def history(self) -> tuple[AliasMove, ...]:
        return history_from_tags(self.model.tags)

    @property
    def next_seq(self) -> int:
        return max((e.seq for e in self.history), default=0) + 1

    @property
    def pin_complete(self) -> bool:
        pin = self.pin
        return (
            pin is not None
            and self.alias_version == pin.version
            and any(e.id == pin.history_id for e in self.history)
        )

    def version(self, number: int) -> ModelVersionState | None:
        return next((v for v in self.versions if v.version == number), None)


class ModelGuard:
    """Guards one registered model's serving alias.

    Args:
        registry: how to reach the registry (e.g. `MlflowModelRegistry`).
        name: the registered model name.
        alias: the serving alias the guard moves (default ``champion``).
        actor: who or what acts, recorded in history when a call gives no `by` (e.g. ``"dagster:model_sensor"``).
        clock: the current time, injectable for tests.

    `status` and `history` raise `RegistryError`; the actions (`promote`, `pin`, `unpin`) never raise for
    registry trouble: they return a result with `ActionStatus.ERROR` and the cause, having moved nothing
    further (fail closed).
    """

    def __init__(
        self,
        registry: ModelRegistry,
        name: str,
        *,
        alias: str = "champion",
        actor: str = "guardrails",
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not name:
            raise ValueError("name: expected a registered model name, got ''")
        if not alias or alias.lower() == "latest":
            raise ValueError(f"alias: expected a serving alias such as 'champion', got {alias!r} (reserved or empty)")
        self.registry = registry
        self.name = name
        self.alias = alias
        self.actor = actor
        self.clock = clock

    def __repr__(self) -> str:
        return f"ModelGuard({self.registry!r}, {self.name!r}, alias={self.alias!r})"

    # --- reading ---------------------------------------------------------------------------------------------

    def _read(self) -> _Snapshot:
        model = self.registry.get_model(self.name)
        versions = tuple(
            ModelVersionState(
                version=v.version,
                status=v.status,
                verdict=verdict_from_tags(v.tags),
                run_id=v.run_id,
                created_at=v.created_at,
            )
            for v in self.registry.search_versions(self.name)
        )
        return _Snapshot(model=model, versions=versions, alias=self.alias)

    def status(self) -> ModelStatus:
        """Versions with verdicts, where the alias points, and the pin (raises `RegistryError`)."""
        snap = self._read()
        return ModelStatus(
            name=self.name,
            alias=self.alias,
            alias_version=snap.alias_version,
            versions=snap.versions,
            pin=snap.pin,
            aliases=dict(snap.model.aliases),
        )

    def history(self) -> tuple[AliasMove, ...]:
        """Every recorded alias move and pin/unpin of this model, oldest first (raises `RegistryError`)."""
        return history_from_tags(self.registry.get_model(self.name).tags)

    def passed_versions(self) -> tuple[int, ...]:
        """Version numbers whose verdict passed, found with the registry's own tag search (raises `RegistryError`)."""
        found = self.registry.search_versions(self.name, {VERDICT_TAG: VerdictStatus.PASSED.value})
        return tuple(v.version for v in found)

    # --- writing ---------------------------------------------------------------------------------------------

    def record_verdict(self, version: int, verdict: Verdict) -> None:
        """Tag `version` with `verdict` (raises `RegistryError`; a failed verdict blocks the version first)."""
        for key, value in verdict_tags(verdict):
            self.registry.set_version_tag(self.name, version, key, value)

    def _append(self, snap: _Snapshot, action: MoveAction, to_version: int | None, **facts: str | None) -> AliasMove:
        seq = snap.next_seq
        return AliasMove(
            id=history_id(seq, action, self.alias, snap.alias_version, to_version),
            seq=seq,
            action=action,
            alias=self.alias,
            from_version=snap.alias_version,
            to_version=to_version,
            at=self.clock(),
            **facts,  # type: ignore[arg-type]
        )

    def _write_entry(self, entry: AliasMove) -> None:
        key, value = history_tag(entry)
        self.registry.set_model_tag(self.name, key, value)

    def promote(
        self,
        version: int,
        *,
        reason: str = "",
        check: str | None = None,
        run_id: str | None = None,
        by: str | None = None,
    ) -> PromoteResult:
        """Point the alias at `version` if its verdict passed and no pin is active.

        REFUSED (nothing moves) when pinned, when the version does not exist, is not READY, or has a failed or
        no verdict. NO_OP when the alias is already there. Every move is recorded in the history.
        """
        def result(status: ActionStatus, message: str, **extra: object) -> PromoteResult:
            return PromoteResult(model=self.name, alias=self.alias, version=version, status=status,
                                 message=message, **extra)  # type: ignore[arg-type]

        try:
            snap = self._read()
        except RegistryError as exc:
            return result(ActionStatus.ERROR, f"could not read {self.name!r}; alias not moved", error=str(exc))
        if (pin := snap.pin) is not None:
            return result(
                ActionStatus.REFUSED,
                f"{self.name!r} is pinned on v{pin.version} since {pin.at.isoformat()} by {pin.by} ({pin.reason}); "
                f"unpin it before promoting v{version}",
            )
        target = snap.version(version)
        refusal = _ineligible(self.name, version, target)
        if refusal:
            return result(ActionStatus.REFUSED, refusal)
        if snap.alias_version == version:
            return result(ActionStatus.NO_OP, f"alias {self.alias!r} of {self.name!r} already on v{version}")
        entry = self._append(snap, MoveAction.PROMOTE, version, reason=reason, check=check, run_id=run_id,
                             by=by or self.actor)
        try:
            self.registry.set_alias(self.name, self.alias, version)
        except RegistryError as exc:
            return result(ActionStatus.ERROR, f"alias {self.alias!r} not moved to v{version}", error=str(exc))
        try:
            self._write_entry(entry)
        except RegistryError as exc:
            return result(
                ActionStatus.ERROR,
                f"alias {self.alias!r} moved to v{version} but the history entry could not be written",
                error=str(exc),
                move=entry,
            )
        return result(ActionStatus.APPLIED, f"alias {self.alias!r} of {self.name!r} moved "
                      f"{_v(entry.from_version)} -> v{version}", move=entry)

    def pin(
        self,
        failing_version: int,
        *,
        reason: str,
        check: str | None = None,
        run_id: str | None = None,
        by: str | None = None,
    ) -> PinResult:
        """`failing_version` failed: tag it, move the alias to the best passed version, and pin it there.

        APPLIED: the failing version is tagged failed, the alias is on the highest passed version (it may have
        been there already), the model carries the pin, and the history has the entry. NO_OP: a complete pin
        is already active; another failing version (say a new v4) is still tagged failed if it was not yet, but
        the pinned version itself never is: while pinned, `failing_version` equal to the pin's target means the
        alias version a caller defaulted to, not a new failure (pass `Pin.failing_version` instead). REFUSED: no
        other version passed, so the alias stays where it is, no pin is set, and the message says what is being
        served. ERROR: the registry failed; the result says what was done before it did.
        """
        by = by or self.actor

        def result(status: ActionStatus, message: str, **extra: object) -> PinResult:
            return PinResult(model=self.name, alias=self.alias, failing_version=failing_version, status=status,
                             message=message, **extra)  # type: ignore[arg-type]

        try:
            snap = self._read()
        except RegistryError as exc:
            return result(ActionStatus.ERROR, f"could not read {self.name!r}; alias not moved", error=str(exc))
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
            except RegistryError as exc:
                return result(
                    ActionStatus.ERROR,
                    f"pin of {self.name!r} after v{failing_version} failed interrupted; alias {self.alias!r} was on "
                    f"{_v(snap.alias_version)} before; a retry completes or repeats it",
                    error=f"{first}; retry: {exc}",
                )

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
            self.record_verdict(
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


def _v(version: int | None) -> str:
    return f"v{version}" if version is not None else "(unset)"


def _ineligible(name: str, number: int, version: ModelVersionState | None) -> str:
    """Why the alias may not point at this version, or '' if it may."""
    if version is None:
        return f"{name!r} has no version {number}"
    if version.status != "READY":
        return f"{name!r} v{number} is {version.status}, not READY"
    if version.verdict is None:
        return f"{name!r} v{number} has no guardrail verdict (unverified); record a passed verdict first"
    if not version.verdict.passed:
        return f"{name!r} v{number} failed its guardrails ({version.verdict.reason or 'no reason recorded'})"
    return ""
