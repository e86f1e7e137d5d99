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


# --- lineage, holds, condemnations --------------------------------------------------------------------------------

from guardrails.models import BatchRef, Condemnation, CondemnResult, Hold, HoldFailure, Lineage  # noqa: E402
from guardrails.models._tags import (  # noqa: E402
    hold_failing_tag,
    hold_header_tag,
    lineage_from_tags,
    lineage_tags,
    saw_tag,
)

MLFLOW_TAG_KEY = __import__("re").compile(r"^[/\w.\- :]{1,250}$")
any_text = st.text(max_size=300)
batch_strategy = st.builds(
    BatchRef,
    asset=any_text.filter(bool),
    partition=st.none() | any_text,
    batch_id=st.none() | any_text,
    content_hash=st.none() | texts,
    contract_id=st.none() | texts,
    contract_version=st.none() | texts,
    run_id=st.none() | texts,
)
lineage_strategy = st.builds(Lineage, trained_on=st.lists(batch_strategy, max_size=4).map(tuple),
                             evaluated_on=st.lists(batch_strategy, max_size=3).map(tuple))
hold_strategy = st.builds(Hold, reason=texts, incident=st.none() | texts, run_id=st.none() | texts, at=times,
                          by=texts, failing=st.lists(st.builds(HoldFailure, check=texts, partition=st.none() | texts,
                                                               run_id=st.none() | texts, at=times), max_size=3))


@given(lineage_strategy, hold_strategy, batch_strategy, times)
def test_lineage_holds_and_condemnations_survive_json(
    lineage: Lineage, hold: Hold, batch: BatchRef, at: datetime
) -> None:
    """Lineage, holds, condemnations and a condemn result come back equal from JSON."""
    assert Lineage.from_dict(json.loads(json.dumps(lineage.to_dict()))) == lineage
    assert Hold.from_dict(json.loads(json.dumps(hold.to_dict()))) == hold
    condemnation = Condemnation(batch=batch, reason="drift", check="c", run_id=None, at=at, by="me")
    assert Condemnation.from_dict(json.loads(json.dumps(condemnation.to_dict()))) == condemnation
    result = CondemnResult(model="m", alias="champion", status=ActionStatus.APPLIED, message="ok", batch=batch,
                           failed_versions=(2, 3))
    data = json.loads(json.dumps(result.to_dict()))
    assert BatchRef.from_dict(data["batch"]) == batch and data["failed_versions"] == [2, 3]


@given(lineage_strategy)
def test_lineage_tags_are_valid_mlflow_tags_and_read_back(lineage: Lineage) -> None:
    """Whatever the asset and partition names (long, any characters), every lineage tag key is one MLflow
    accepts, each batch's search key is among them, and the lineage reads back whole."""
    tags = dict(lineage_tags(lineage))
    assert all(MLFLOW_TAG_KEY.match(key) for key in tags)
    assert all(len(value) <= 100_000 for value in tags.values())
    assert all(tags.get(saw_tag(b)) == "true" for b in lineage.batches)
    assert lineage_from_tags(tags) == lineage


@given(batch_strategy, batch_strategy)
def test_search_keys_differ_for_different_batches(a: BatchRef, b: BatchRef) -> None:
    """Two batches share a search key only if they name the same (asset, partition, id)."""
    same = (a.asset, a.partition, a.identity) == (b.asset, b.partition, b.identity)
    assert (saw_tag(a) == saw_tag(b)) == same


@given(hold_strategy)
def test_hold_tags_fit_a_registered_model_tag(hold: Hold) -> None:
    """A hold's header and failing entries fit MLflow's 5,000-character registered-model tag values."""
    assert len(hold_header_tag(hold)[1]) <= 5000
    assert all(len(hold_failing_tag(f)[1]) <= 5000 and MLFLOW_TAG_KEY.match(hold_failing_tag(f)[0])
               for f in hold.failing)


def test_a_long_lineage_is_split_over_several_tags_and_reads_back() -> None:
    """Two years of daily partitions (730 batches, ~200 kB of JSON) fit in chunked tags under MLflow's limit."""
    days = tuple(BatchRef(asset="clean_transactions", partition=f"day-{i:04d}", batch_id=f"{i:064x}",
                          contract_id="transactions", contract_version="1.0.0", run_id=f"{i:032x}")
                 for i in range(730))
    lineage = Lineage(trained_on=days, evaluated_on=days[-7:])
    tags = dict(lineage_tags(lineage))
    chunks = [k for k in tags if k.startswith("guardrails.lineage")]
    assert len(chunks) >= 2 and all(len(tags[k]) <= 100_000 for k in chunks)
    assert lineage_from_tags(tags) == lineage
