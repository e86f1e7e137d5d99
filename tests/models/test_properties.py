"""Properties of the model guard: result types survive JSON, history ids collapse duplicates only, and the pin
target is always the highest other passed version (checked against the real SQLite store)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow import MlflowClient

from guardrails.models import (
    ActionStatus,
    AliasMove,
    MlflowModelRegistry,
    ModelGuard,
    MoveAction,
    Pin,
    PinResult,
    Verdict,
    VerdictStatus,
)
from guardrails.models._tags import VERDICT_TAG, history_from_tags, history_id, history_tag, verdict_tags
from tests.models.conftest import register_versions

texts = st.text(max_size=30)
times = st.datetimes(timezones=st.just(UTC))
versions = st.integers(min_value=1, max_value=10_000)
maybe_versions = st.none() | versions

verdict_strategy = st.builds(
    Verdict,
    status=st.sampled_from(VerdictStatus),
    checks=st.lists(texts, max_size=3).map(tuple),
    run_id=st.none() | texts.filter(bool),
    at=times,
    reason=texts,
)
move_strategy = st.builds(
    AliasMove,
    id=texts,
    seq=versions,
    action=st.sampled_from(MoveAction),
    alias=texts,
    from_version=maybe_versions,
    to_version=maybe_versions,
    reason=texts,
    check=st.none() | texts,
    run_id=st.none() | texts,
    at=times,
    by=texts,
)
pin_strategy = st.builds(
    Pin,
    alias=texts,
    version=versions,
    from_version=maybe_versions,
    failing_version=versions,
    reason=texts,
    check=st.none() | texts,
    run_id=st.none() | texts,
    at=times,
    by=texts,
    key=texts,
    history_id=texts,
)


@given(verdict_strategy)
def test_verdict_survives_json_round_trip(verdict: Verdict) -> None:
    """A verdict serialized to JSON and back is equal to the original."""
    assert Verdict.from_dict(json.loads(json.dumps(verdict.to_dict()))) == verdict


@given(move_strategy, pin_strategy)
def test_moves_and_pins_survive_json_round_trip(move: AliasMove, pin: Pin) -> None:
    """History entries and pins serialized to JSON and back are equal to the originals."""
    assert AliasMove.from_dict(json.loads(json.dumps(move.to_dict()))) == move
    assert Pin.from_dict(json.loads(json.dumps(pin.to_dict()))) == pin


@given(pin_strategy, move_strategy)
def test_results_serialize_to_plain_json(pin: Pin, move: AliasMove) -> None:
    """A pin result's dict is plain JSON carrying its status, pin and move."""
    result = PinResult(model="m", alias="champion", status=ActionStatus.APPLIED, message="ok", failing_version=3,
                       pin=pin, move=move)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == "applied"
    assert Pin.from_dict(data["pin"]) == pin and AliasMove.from_dict(data["move"]) == move


@given(verdict_strategy)
def test_verdict_write_order_is_fail_safe(verdict: Verdict) -> None:
    """A failed verdict writes its status tag first, a passed one last."""
    keys = [key for key, _ in verdict_tags(verdict)]
    assert keys.index(VERDICT_TAG) == (0 if verdict.status is VerdictStatus.FAILED else len(keys) - 1)


@given(
    st.integers(1, 999),
    st.sampled_from(MoveAction),
    maybe_versions,
    maybe_versions,
    st.integers(1, 999),
    st.sampled_from(MoveAction),
    maybe_versions,
    maybe_versions,
)
def test_history_ids_are_equal_exactly_for_identical_actions(
    seq_a: int, act_a: MoveAction, from_a: int | None, to_a: int | None,
    seq_b: int, act_b: MoveAction, from_b: int | None, to_b: int | None,
) -> None:
    """Two history ids collide if and only if (seq, action, from, to) are the same, so only duplicates merge."""
    same = (seq_a, act_a, from_a, to_a) == (seq_b, act_b, from_b, to_b)
    id_a = history_id(seq_a, act_a, "champion", from_a, to_a)
    assert (id_a == history_id(seq_b, act_b, "champion", from_b, to_b)) == same


@given(st.lists(move_strategy, max_size=8, unique_by=lambda m: m.id), st.randoms())
def test_history_reads_back_in_sequence_order_whatever_the_tag_order(
    moves: list[AliasMove], rnd  # noqa: ANN001
) -> None:
    """However the store returns the tags, history comes back ordered by sequence number then time."""
    tags = dict(history_tag(m) for m in moves)
    shuffled = list(tags.items())
    rnd.shuffle(shuffled)
    history = history_from_tags(dict(shuffled))
    assert sorted(history, key=lambda m: m.id) == sorted(moves, key=lambda m: m.id)
    assert [(m.seq, m.at) for m in history] == sorted((m.seq, m.at) for m in moves)


_counter = iter(range(10**9))


@settings(max_examples=8, deadline=None)
@given(st.data())
def test_pin_target_is_the_highest_other_passed_version(
    sqlite_uri: str, saved_model_dir: Path, data  # noqa: ANN001
) -> None:
    """Against the real store, a pin moves the alias to the highest passed version other than the failing one,
    or, when there is none, leaves the alias where it was and refuses."""
    verdicts = data.draw(st.lists(st.sampled_from([VerdictStatus.PASSED, VerdictStatus.FAILED, None]),
                                  min_size=1, max_size=5))
    failing = data.draw(st.integers(1, len(verdicts)))
    start = data.draw(st.integers(1, len(verdicts)))
    name = f"pin-property-{next(_counter)}-{datetime.now(UTC).timestamp()}"
    register_versions(sqlite_uri, name, saved_model_dir, len(verdicts))
    guard = ModelGuard(MlflowModelRegistry(sqlite_uri), name)
    for number, status in enumerate(verdicts, start=1):
        if status is not None:
            guard.record_verdict(number, Verdict(status=status, at=datetime.now(UTC)))
    client = MlflowClient(tracking_uri=sqlite_uri, registry_uri=sqlite_uri)
    client.set_registered_model_alias(name, "champion", str(start))  # moved by hand, outside the guard

    result = guard.pin(failing, reason="property")

    good = [n for n, s in enumerate(verdicts, start=1) if s is VerdictStatus.PASSED and n != failing]
    alias_now = int(client.get_model_version_by_alias(name, "champion").version)
    if good:
        assert result.status is ActionStatus.APPLIED
        assert alias_now == max(good)
        assert [(m.from_version, m.to_version) for m in guard.history()] == [(start, max(good))]
    else:
        assert result.status is ActionStatus.REFUSED
        assert alias_now == start
        assert guard.history() == ()
    assert guard.status().version(failing).verdict.status is VerdictStatus.FAILED
