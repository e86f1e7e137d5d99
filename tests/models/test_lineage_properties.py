"""The model guard's promise, as a property over random histories.

A history mixes every kind of event: versions registered with lineage (and a verdict of their own evaluation),
batches quarantined before storage (holds), stored batches condemned later (with or without a batch id),
freshness failures (holds with no partition), later passes (hold releases), a model's own failures, promotes,
canaries started on candidates (which then require a canary pass) and their verdicts (pass, fail, inconclusive,
error), alias moves made by hand in the MLflow UI, hand unholds and reconciles. An independent oracle tracks what
each version saw, which failures involve it and which checks it still awaits. After every reconcile:

- the alias never rests on a version that failed, whose lineage includes a condemned batch, or with an unmet
  requirement (a canary candidate without a canary pass), unless no version is eligible at all, and then the
  reconciler says so;
- a reconcile never moves an alias that rested on a version that is none of those;
- every failed verdict names a version that the oracle says was involved (its own failure, or a condemned batch
  in its lineage); no passed verdict is ever rewritten otherwise;
- the history's last entry ends where the alias is (every move is recorded, made or observed).

It runs on the in-memory `MemoryRegistry` (hundreds of histories) and, smaller, on a real SQLite MLflow store.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from guardrails.models import (
    ActionStatus,
    BatchRef,
    Lineage,
    MlflowModelRegistry,
    ModelGuard,
    Verdict,
    VerdictStatus,
)
from tests.models.conftest import register_versions
from tests.models.memory import MemoryRegistry

STORED = [("d1", "a"), ("d1", "b"), ("d2", "a")]
QUARANTINED = ["q1", "q2"]
CHECKS = ["contract", "freshness"]

stored_batch = st.sampled_from(STORED)
lineage_strategy = st.lists(stored_batch, max_size=3, unique=True)
event = st.one_of(
    st.tuples(st.just("register"), lineage_strategy, st.sampled_from(["passed", "passed", "failed", None])),
    st.tuples(st.just("promote"), st.integers(1, 8)),
    st.tuples(st.just("fail"), st.integers(1, 8)),
    st.tuples(st.just("condemn"), stored_batch, st.booleans()),
    st.tuples(st.just("hold"), st.sampled_from(CHECKS), st.lists(st.sampled_from(QUARANTINED), max_size=2)),
    st.tuples(st.just("release"), st.sampled_from(CHECKS), st.lists(st.sampled_from(QUARANTINED), max_size=2)),
    st.tuples(st.just("unhold")),
    st.tuples(st.just("hand_move"), st.integers(1, 8)),
    st.tuples(st.just("canary_start"), st.integers(1, 8)),
    st.tuples(st.just("canary"), st.integers(1, 8), st.sampled_from(["pass", "fail", "inconclusive", "error"])),
    st.tuples(st.just("reconcile")),
)
initial = st.lists(st.tuples(lineage_strategy, st.sampled_from(["passed", "failed", None])), min_size=1, max_size=4)


def ref(partition: str, batch_id: str | None) -> BatchRef:
    return BatchRef(asset="clean_transactions", partition=partition, batch_id=batch_id)


@dataclass
class Oracle:
    """What the guard should believe, computed without the guard: lineage, condemned batches, involvement."""

    lineage: dict[int, set[tuple[str, str]]] = field(default_factory=dict)
    condemned: set[tuple[str, str | None]] = field(default_factory=set)
    own_failure: set[int] = field(default_factory=set)
    verdict: dict[int, str | None] = field(default_factory=dict)
    requires_canary: set[int] = field(default_factory=set)
    canary: dict[int, str] = field(default_factory=dict)

    def saw_condemned(self, version: int) -> bool:
        return any(p == cp and (ci is None or ci == i) for p, i in self.lineage[version] for cp, ci in self.condemned)

    def involved(self, version: int) -> bool:
        return version in self.own_failure or self.saw_condemned(version)

    def failed(self, version: int) -> bool:
        return self.verdict[version] == "failed" or self.saw_condemned(version)

    def unmet(self, version: int) -> bool:
        """A canary started on it and no canary pass recorded since."""
        return version in self.requires_canary and self.canary.get(version) != "pass"

    def bad(self, version: int) -> bool:
        """The alias must not rest here: failed, unclean, or awaiting a required check."""
        return self.failed(version) or self.unmet(version)

    def eligible(self, version: int) -> bool:
        return self.verdict[version] == "passed" and not self.saw_condemned(version) and not self.unmet(version)


def _verdict(status: str, reason: str) -> Verdict:
    return Verdict(status=VerdictStatus(status), checks=("evaluation",), at=datetime.now(UTC), reason=reason)


def play(guard: ModelGuard, register: callable, hand_move: callable,  # type: ignore[valid-type]
         start: list[tuple[list[tuple[str, str]], str | None]], events: list[tuple]) -> None:
    """Run a history through `guard`, checking the properties after every reconcile and at the end."""
    oracle = Oracle()

    def add(lineage: list[tuple[str, str]], status: str | None) -> None:
        version = register()
        guard.record_lineage(version, Lineage(trained_on=tuple(ref(p, i) for p, i in lineage)))
        if status is not None:
            guard.record_verdict(version, _verdict(status, "evaluation"))
        if status == "failed":
            oracle.own_failure.add(version)
        oracle.lineage[version] = set(lineage)
        oracle.verdict[version] = status

    def sync_verdicts() -> None:
        """Fold in the verdicts the guard wrote, checking each new failure involves its version."""
        for state in guard.status().versions:
            now = state.verdict.status.value if state.verdict else None
            if now != oracle.verdict[state.version]:
                assert now == "failed" and oracle.involved(state.version), (state.version, now, state.verdict)
                oracle.verdict[state.version] = now

    def check_reconcile() -> None:
        before = guard.status().alias_version
        result = guard.reconcile(by="property")
        assert result.status is not ActionStatus.ERROR, result.message
        after = guard.status().alias_version
        if before is not None and not oracle.bad(before):
            assert after == before, ("moved a good alias", before, after, result.message)
        if after is not None and oracle.bad(after):
            assert not any(oracle.eligible(v) for v in oracle.verdict), ("rests on a bad version", after)
            assert result.status is ActionStatus.REFUSED
        history = [e for e in guard.history() if e.alias == guard.alias]  # not the challenger's entries
        assert (history[-1].to_version if history else None) == after

    for lineage, status in start:
        add(lineage, status)
    for item in events:
        kind = item[0]
        versions = sorted(oracle.verdict)
        verdicts_before = dict(oracle.verdict)
        alias_before = guard.status().alias_version
        if kind == "register":
            add(item[1], item[2])
        elif kind == "promote":
            number = versions[(item[1] - 1) % len(versions)]
            held = guard.status().held
            result = guard.promote(number)
            if result.status is ActionStatus.APPLIED:
                assert oracle.eligible(number) and not held, (number, result.message)
        elif kind == "fail":
            number = versions[(item[1] - 1) % len(versions)]
            oracle.own_failure.add(number)
            guard.fail_version(number, reason="canary failed", check="canary")
        elif kind == "condemn":
            (partition, batch_id), exact = item[1], item[2]
            oracle.condemned.add((partition, batch_id if exact else None))
            guard.condemn(ref(partition, batch_id if exact else None), reason="drift after publish", check="drift")
        elif kind == "hold":
            guard.hold("batch quarantined", check=item[1], partitions=item[2])
        elif kind == "release":
            guard.release_hold(item[1], item[2])
        elif kind == "unhold":
            guard.unhold(reason="by hand")
        elif kind == "hand_move":
            hand_move(versions[(item[1] - 1) % len(versions)])
        elif kind == "reconcile":
            check_reconcile()
        elif kind == "canary_start":
            number = versions[(item[1] - 1) % len(versions)]
            result = guard.start_canary(number)
            # Refused for a failed version and for the one the champion serves (it needs no canary).
            assert result.ok == (not oracle.failed(number) and alias_before != number), (number, result.message)
            if result.ok:
                oracle.requires_canary.add(number)
            assert guard.status().alias_version == alias_before, ("a canary start moved the champion", result.message)
        elif kind == "canary":
            number, verdict = versions[(item[1] - 1) % len(versions)], item[2]
            held = guard.status().held
            if verdict == "fail":
                oracle.own_failure.add(number)
            if verdict in ("pass", "fail"):
                oracle.canary[number] = verdict
            if verdict == "pass" and oracle.verdict[number] is None:
                oracle.verdict[number] = "passed"  # a canary pass vouches for an unverified candidate
            result = guard.judge_canary(number, verdict)
            assert result.status is not ActionStatus.ERROR, result.message
            alias_after = guard.status().alias_version
            if verdict == "pass" and alias_after != alias_before:
                assert alias_after == number and oracle.eligible(number) and not held, (number, result.message)
        sync_verdicts()
        if kind in ("hold", "release", "unhold", "promote", "hand_move", "reconcile", "canary_start"):
            assert oracle.verdict == verdicts_before, (kind, "wrote a verdict")
        if kind == "canary" and item[2] in ("inconclusive", "error"):
            assert oracle.verdict == verdicts_before and guard.status().alias_version == alias_before, item
        automatic = ("hold", "release", "unhold", "fail", "condemn", "canary_start")
        if (kind in automatic or (kind == "canary" and item[2] == "fail")) and alias_before is not None:
            # An automatic action moves the alias only off a version that is now failed or unclean.
            alias_after = guard.status().alias_version
            assert alias_after == alias_before or oracle.bad(alias_before), (kind, alias_before, alias_after)
            if kind in ("fail", "condemn", "canary") and alias_after is not None and oracle.bad(alias_after):
                # A failure moves the alias off any bad version it finds it on, if there is somewhere to go.
                assert not any(oracle.eligible(v) for v in oracle.verdict), (kind, "left alias on bad", alias_after)
    check_reconcile()
    sync_verdicts()


_names = itertools.count()


@settings(max_examples=200, deadline=None)
@given(initial, st.lists(event, max_size=25))
def test_alias_rests_only_on_good_versions_in_memory(
    start: list[tuple[list[tuple[str, str]], str | None]], events: list[tuple]
) -> None:
    """Over random histories on the in-memory registry, reconcile leaves the alias on a passed clean version with
    no unmet requirement (or says none exists), never moves a good alias, and verdicts are only written on involved
    versions."""
    registry = MemoryRegistry()
    name = f"m{next(_names)}"
    registry.create(name, 0)
    guard = ModelGuard(registry, name, actor="property", sleep=lambda _: None)
    play(guard, lambda: registry.add_version(name),
         lambda v: registry.set_alias(name, "champion", v), start, events)


@settings(max_examples=5, deadline=None)
@given(initial.map(lambda s: s[:3]), st.lists(event, max_size=8))
def test_alias_rests_only_on_good_versions_on_a_real_store(
    sqlite_uri: str, saved_model_dir: Path,
    start: list[tuple[list[tuple[str, str]], str | None]], events: list[tuple],
) -> None:
    """The same property, fewer and shorter histories, against a real SQLite MLflow store."""
    from mlflow import MlflowClient

    name = f"lineage-property-{next(_names)}-{datetime.now(UTC).timestamp()}"
    register_versions(sqlite_uri, name, saved_model_dir, 0)
    client = MlflowClient(tracking_uri=sqlite_uri, registry_uri=sqlite_uri)
    guard = ModelGuard(MlflowModelRegistry(sqlite_uri), name, actor="property", settle_seconds=0)

    def register() -> int:
        return int(client.create_model_version(name, source=str(saved_model_dir)).version)

    play(guard, register, lambda v: client.set_registered_model_alias(name, "champion", str(v)), start, events)
