"""The canary through the model guard: a candidate serves under ``challenger``, and its canary verdict fails it
(alias removed), promotes it (after a recorded pass) or moves nothing; on a real SQLite MLflow store and on the
in-memory registry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from mlflow import MlflowClient

from guardrails.models import (
    CANARY_CHECK,
    REQUIRES_TAG,
    ActionStatus,
    MlflowModelRegistry,
    ModelGuard,
    MoveAction,
    check_tag,
)
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity
from guardrails.outcome import Verdict as CheckVerdict

T = datetime(2026, 12, 1, tzinfo=UTC)
from tests.models.conftest import failed, passed, register_versions
from tests.models.memory import MemoryRegistry


@pytest.fixture(params=["sqlite", "memory"])
def guard(request: pytest.FixtureRequest, model_name: str) -> ModelGuard:
    """Champion on a passed v1; v2 registered with no verdict, serving as the canary's challenger."""
    if request.param == "sqlite":
        uri = request.getfixturevalue("sqlite_uri")
        register_versions(uri, model_name, request.getfixturevalue("saved_model_dir"), 2)
        registry = MlflowModelRegistry(uri)
    else:
        registry = MemoryRegistry()
        registry.create(model_name, 2)
    guard = ModelGuard(registry, model_name, actor="test")
    guard.record_verdict(1, passed())
    assert guard.promote(1).status is ActionStatus.APPLIED
    assert guard.start_canary(2).status is ActionStatus.APPLIED
    return guard


def aliases(guard: ModelGuard) -> dict[str, int]:
    return dict(guard.status().aliases)


def canary(verdict: CheckVerdict, message: str = "") -> CheckOutcome:
    status = {CheckVerdict.PASS: CheckStatus.PASSED, CheckVerdict.ERROR: CheckStatus.ERROR}.get(verdict,
                                                                                                  CheckStatus.FAILED)
    severity = Severity.WARNING if verdict is CheckVerdict.INCONCLUSIVE else Severity.ERROR
    return CheckOutcome(check="canary", kind=CheckKind.CANARY, status=status, severity=severity, started_at=T,
                        finished_at=T, message=message, verdict=verdict)


def test_start_canary_serves_the_candidate_and_requires_a_canary_pass(guard: ModelGuard) -> None:
    """The challenger points at the candidate, the move is in the history, and promote is refused until it passes."""
    assert aliases(guard) == {"champion": 1, "challenger": 2}
    [entry] = [e for e in guard.history() if e.action is MoveAction.CHALLENGE]
    assert (entry.alias, entry.from_version, entry.to_version) == ("challenger", None, 2)
    guard.record_verdict(2, passed())  # a passed evaluation alone is not enough
    refused = guard.promote(2)
    assert refused.status is ActionStatus.REFUSED
    assert "needs a pass of canary" in refused.message
    assert aliases(guard)["champion"] == 1
    assert guard.start_canary(2).status is ActionStatus.NO_OP


def test_a_failed_canary_fails_the_candidate_and_removes_the_challenger(guard: ModelGuard) -> None:
    """fail: v2 tagged failed (check canary), champion stays on v1, challenger removed and recorded; a repeat is a
    no-op."""
    result = guard.judge_canary(2, canary(CheckVerdict.FAIL, "ctr worse than the margin"), run_id="r-1")
    assert result.status is ActionStatus.APPLIED, result.message
    assert aliases(guard) == {"champion": 1}
    state = guard.status().version(2)
    assert state is not None and state.failed and "ctr worse" in state.verdict.reason
    assert state.verdict.checks == (CANARY_CHECK,)
    [retired] = [e for e in guard.history() if e.action is MoveAction.RETIRE]
    assert (retired.alias, retired.from_version, retired.to_version, retired.run_id) == ("challenger", 2, None, "r-1")
    again = guard.judge_canary(2, canary(CheckVerdict.FAIL, "ctr worse than the margin"), run_id="r-1")
    assert again.status is ActionStatus.NO_OP, again.message
    assert len([e for e in guard.history() if e.action is MoveAction.RETIRE]) == 1
    assert guard.promote(2).status is ActionStatus.REFUSED


def test_a_passed_canary_records_the_pass_promotes_and_removes_the_challenger(guard: ModelGuard) -> None:
    """pass: v2 gets a passed verdict with check canary and the canary tag, becomes champion, challenger removed."""
    result = guard.judge_canary(2, canary(CheckVerdict.PASS, "no metric worse than its margin"))
    assert result.status is ActionStatus.APPLIED, result.message
    assert aliases(guard) == {"champion": 2}
    assert result.move is not None and (result.move.from_version, result.move.to_version) == (1, 2)
    state = guard.status().version(2)
    assert state is not None and state.eligible and CANARY_CHECK in state.verdict.checks
    actions = [e.action for e in guard.history()]
    assert actions[-2:] == [MoveAction.PROMOTE, MoveAction.RETIRE]
    assert guard.judge_canary(2, "pass").status is ActionStatus.NO_OP


def test_a_passed_canary_never_overrides_a_failed_verdict(guard: ModelGuard) -> None:
    """A candidate that failed another check stays failed: the pass is recorded as the canary's, nothing promotes,
    and it stops serving."""
    guard.record_verdict(2, failed("fairness gap"))
    result = guard.judge_canary(2, "pass")
    assert result.status is ActionStatus.REFUSED
    assert aliases(guard) == {"champion": 1}
    state = guard.status().version(2)
    assert state is not None and state.failed and state.verdict.reason == "fairness gap"


def test_a_held_model_keeps_the_challenger_serving_after_a_pass(guard: ModelGuard) -> None:
    """A pass while promotion is held is recorded but refused; the challenger keeps serving so a later look retries."""
    guard.hold("contract failed", check="clean:contract", partitions=["2026-11-03"])
    result = guard.judge_canary(2, "pass")
    assert result.status is ActionStatus.REFUSED and "held" in result.message
    assert aliases(guard) == {"champion": 1, "challenger": 2}
    guard.unhold(reason="fixed")
    assert guard.judge_canary(2, "pass").status is ActionStatus.APPLIED
    assert aliases(guard) == {"champion": 2}


@pytest.mark.parametrize("verdict", [CheckVerdict.INCONCLUSIVE, CheckVerdict.ERROR])
def test_no_verdict_or_could_not_run_moves_nothing(guard: ModelGuard, verdict: CheckVerdict) -> None:
    """inconclusive and error write nothing and move nothing (error is reported REFUSED: fail closed)."""
    before = (aliases(guard), guard.history(), guard.status().version(2))
    result = guard.judge_canary(2, canary(verdict, "sample ratio mismatch"))
    expected = ActionStatus.NO_OP if verdict is CheckVerdict.INCONCLUSIVE else ActionStatus.REFUSED
    assert result.status is expected
    assert (aliases(guard), guard.history(), guard.status().version(2)) == before


def test_an_old_verdict_never_retires_a_newer_candidate(guard: ModelGuard) -> None:
    """A late fail for v2 arriving after v3 took over the challenger leaves v3 serving."""
    registry = guard.registry
    if isinstance(registry, MemoryRegistry):
        registry.add_version(guard.name)
    else:
        client = MlflowClient(tracking_uri=registry.tracking_uri, registry_uri=registry.tracking_uri)
        client.create_model_version(guard.name, source=client.get_model_version(guard.name, "1").source)
    assert guard.start_canary(3).status is ActionStatus.APPLIED
    guard.judge_canary(2, "fail")
    assert aliases(guard) == {"champion": 1, "challenger": 3}


def test_a_model_level_requirement_applies_to_every_version(model_name: str) -> None:
    """``guardrails.requires`` on the registered model makes every promotion wait for a canary pass."""
    registry = MemoryRegistry()
    registry.create(model_name, 2)
    guard = ModelGuard(registry, model_name)
    registry.set_model_tag(model_name, REQUIRES_TAG, '["canary"]')
    for version in (1, 2):
        guard.record_verdict(version, passed())
    assert guard.promote(1).status is ActionStatus.REFUSED
    registry.set_version_tag(model_name, 1, check_tag("canary"), "pass")
    assert guard.promote(1).status is ActionStatus.APPLIED


def test_a_bad_judgement_is_refused_at_the_call() -> None:
    """A verdict that is not a canary verdict raises, naming the valid ones."""
    registry = MemoryRegistry()
    registry.create("m", 1)
    with pytest.raises(ValueError, match="inconclusive"):
        ModelGuard(registry, "m").judge_canary(1, "maybe")


def test_results_survive_json(guard: ModelGuard) -> None:
    """The canary result, with its steps, turns into plain JSON-ready data."""
    import json

    data = guard.judge_canary(2, "fail").to_dict()
    json.dumps(data)
    assert data["verdict"] == "fail" and [s["status"] for s in data["steps"]] == ["applied", "applied"]


def test_a_replayed_pass_never_undoes_a_later_promotion(guard: ModelGuard) -> None:
    """After v2 passed and v3 became champion, the same pass handled again (a sensor with no cursor) moves nothing."""
    assert guard.judge_canary(2, "pass").status is ActionStatus.APPLIED
    registry = guard.registry
    if isinstance(registry, MemoryRegistry):
        registry.add_version(guard.name)
    else:
        client = MlflowClient(tracking_uri=registry.tracking_uri, registry_uri=registry.tracking_uri)
        client.create_model_version(guard.name, source=client.get_model_version(guard.name, "1").source)
    guard.record_verdict(3, passed())
    assert guard.promote(3).status is ActionStatus.APPLIED
    assert guard.judge_canary(2, "pass").status is ActionStatus.NO_OP
    assert aliases(guard) == {"champion": 3}
