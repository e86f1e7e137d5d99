"""The evidence pack core: the serving timeline, the window, what counts as the model's, and safe rendering."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import polars as pl

from guardrails.evidence import (
    CheckEvidence,
    EvidenceRecords,
    ScoredBatch,
    SegmentMetrics,
    build_evidence_pack,
    evidence_json,
    evidence_markdown,
    replay_decisions,
    serving_periods,
)
from guardrails.incidents import Evaluation
from guardrails.models import AliasMove, BatchRef, Lineage, ModelStatus, ModelVersionState, MoveAction, Verdict

T0 = datetime(2026, 11, 2, tzinfo=UTC)


def _move(seq: int, action: str, old: int | None, new: int | None, hours: int, reason: str = "ok") -> AliasMove:
    return AliasMove(id=f"m{seq}", seq=seq, action=MoveAction(action), alias="champion", from_version=old,
                     to_version=new, reason=reason, at=T0 + timedelta(hours=hours), by="test")


def _state(version: int, hours: int, *, passed: bool = True, partition: str = "2026-11-02") -> ModelVersionState:
    return ModelVersionState(
        version=version, status="READY", created_at=T0 + timedelta(hours=hours),
        verdict=Verdict(status="passed" if passed else "failed", reason="all checks passed" if passed else "gap"),
        lineage=Lineage(trained_on=(BatchRef(asset="transaction_features", partition=partition,
                                             batch_id=f"b{version}"),)),
    )


def _check(asset: str, hours: int, *, passed: bool = True, version: int | None = None,
           text: str = "fine") -> CheckEvidence:
    return CheckEvidence(evaluation=Evaluation(asset_key=asset, check_name="c", timestamp=T0 + timedelta(hours=hours),
                                               passed=passed, description=text), model_version=version)


def _records(**changes: object) -> EvidenceRecords:
    status = ModelStatus(name="fraud", alias="champion", alias_version=2,
                         versions=(_state(1, 0), _state(2, 10), _state(3, 20, passed=False)))
    moves = (_move(1, "promote", None, 1, 1), _move(2, "hold", 1, 1, 5), _move(3, "promote", 1, 2, 11),
             _move(4, "fail", 2, 2, 21, reason="v3 widened the gap"))
    fields = dict(model_name="fraud", status=status, alias_moves=moves,
                  checks=(_check("transaction_features", 2), _check("fraud_model", 20, passed=False, version=3),
                          _check("unrelated", 3), _check("fraud_model", 4, version=9)),
                  scored=(ScoredBatch(asset="scored", partition="2026-11-02", version=1, at=T0 + timedelta(hours=3),
                                      rows=10),))
    fields.update(changes)
    return EvidenceRecords(**fields)  # type: ignore[arg-type]


def test_serving_periods_follow_real_moves_only() -> None:
    """A hold or a no-move entry does not cut the period; a move ends one version's period and starts the next."""
    periods = serving_periods(_records().alias_moves, "champion")
    assert [(p.version, p.start.hour, p.end.hour if p.end else None) for p in periods] == [(1, 1, 11), (2, 11, None)]


def test_pack_keeps_the_models_checks_and_its_inputs_only() -> None:
    """Checks on the lineage and scored assets and on the model's versions are kept; others' and unrelated are not."""
    pack = build_evidence_pack(_records())
    kept = {(c.evaluation.asset_key, c.model_version) for c in pack.checks}
    assert kept == {("transaction_features", None), ("fraud_model", 3)}
    assert [v.state.version for v in pack.versions] == [1, 2, 3]
    assert pack.versions[0].scored[0].rows == 10 and pack.versions[0].served
    assert [m.seq for m in pack.history] == [1, 2, 3, 4]


def test_window_selects_versions_serving_and_checks_in_it() -> None:
    """Only what happened between since and until: v1 served before, v2 served through it, v3 was judged in it."""
    pack = build_evidence_pack(_records(), since=T0 + timedelta(hours=12), until=T0 + timedelta(hours=22))
    assert [p.version for p in pack.serving] == [2]
    assert [v.state.version for v in pack.versions] == [2, 3]
    assert [c.model_version for c in pack.checks] == [3]
    assert [m.seq for m in pack.history] == [4]


def test_markdown_escapes_and_caps_text_from_records() -> None:
    """A reason carrying Markdown/HTML and a huge segment value cannot break the tables or grow the pack."""
    hostile = "<script>x</script> | **bold** [link](http://e)\n# heading"
    segments = SegmentMetrics(asset_key="scored", check_name="fairness", timestamp=T0 + timedelta(hours=3),
                              verdict="fail", segments=[{"column": "country", "segment": "Z" * 50_000,
                                                         "metric": "precision", "value": 0.5}])
    records = _records(alias_moves=(_move(1, "promote", None, 1, 1, reason=hostile),), segment_metrics=(segments,))
    text = evidence_markdown(build_evidence_pack(records))
    assert "<script>" not in text and "\\<script\\>" in text
    assert "\\| \\*\\*bold\\*\\*" in text
    assert len(text) < 20_000 and "cut" in text
    widths, current = [], None
    for line in text.splitlines():  # every row of a table has as many cell separators as its header
        cells = len(re.findall(r"(?<!\\)\|", line)) if line.startswith("|") else None
        current = current or cells
        widths.append(cells == current if cells is not None else True)
        current = current if cells is not None else None
    assert all(widths)


def test_json_holds_every_row_and_is_valid() -> None:
    """The JSON form parses and carries the serving timeline, versions with lineage, and notes."""
    data = json.loads(evidence_json(build_evidence_pack(_records(notes=("registry down",)))))
    assert [p["version"] for p in data["serving"]] == [1, 2]
    assert data["versions"][0]["lineage"]["trained_on"][0]["batch_id"] == "b1"
    assert data["notes"] == ["registry down"]


def test_replay_counts_changed_decisions_overall_and_per_segment() -> None:
    """Changed decisions are those on opposite sides of the threshold; per segment they add up to the total."""
    frame = pl.DataFrame({"country": ["FR"] * 3 + ["DE"] * 2 + [None], "channel": ["a", "b"] * 3})
    a = [0.9, 0.1, 0.6, 0.2, 0.8, 0.5]
    b = [0.9, 0.7, 0.4, 0.2, 0.1, 0.49]
    replay = replay_decisions(frame, a, b, threshold=0.5, segments=["country", "channel"])
    assert (replay.rows, replay.flagged_a, replay.flagged_b) == (6, 4, 2)
    assert (replay.changed, replay.newly_flagged, replay.no_longer_flagged) == (4, 1, 3)
    by_country = {s.segment: s.changed for s in replay.segments if s.column == "country"}
    assert by_country == {"FR": 2, "DE": 1, None: 1}
    assert sum(s.changed for s in replay.segments if s.column == "channel") == replay.changed
