"""Decision replay: score one stored batch with two model versions and count the decisions that change.

The decision is ``score >= threshold`` (the fairness spec's threshold, the one the scored asset flags with). The
count is overall and per value of each segment column, in one polars ``group_by`` per column; a segment's value
is data, so renderers escape it.

Example:
    >>> import polars as pl
    >>> frame = pl.DataFrame({"country": ["FR", "FR", "DE"]})
    >>> replay = replay_decisions(frame, [0.9, 0.2, 0.8], [0.9, 0.8, 0.1], threshold=0.5, segments=["country"])
    >>> replay.changed, replay.newly_flagged, replay.no_longer_flagged
    (2, 1, 1)
    >>> [(s.segment, s.changed) for s in replay.segments]
    [('DE', 1), ('FR', 1)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentReplay:
    """How the decisions of one segment (a value of a segment column) change from version A to version B."""

    column: str
    segment: str | None
    rows: int
    flagged_a: int
    flagged_b: int
    changed: int
    newly_flagged: int
    no_longer_flagged: int

    @property
    def share_changed(self) -> float:
        return self.changed / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "share_changed": self.share_changed}


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionReplay:
    """Both versions' decisions on one batch: how many rows, how many flagged by each, how many changed."""

    version_a: str
    version_b: str
    threshold: float
    rows: int
    flagged_a: int
    flagged_b: int
    changed: int
    newly_flagged: int
    no_longer_flagged: int
    segments: tuple[SegmentReplay, ...] = ()

    @property
    def share_changed(self) -> float:
        return self.changed / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"version_a": self.version_a, "version_b": self.version_b, "threshold": self.threshold,
                "rows": self.rows, "flagged_a": self.flagged_a, "flagged_b": self.flagged_b, "changed": self.changed,
                "newly_flagged": self.newly_flagged, "no_longer_flagged": self.no_longer_flagged,
                "share_changed": self.share_changed, "segments": [s.to_dict() for s in self.segments]}


_COUNTS = [
    pl.len().alias("rows"),
    pl.col("_a").sum().alias("flagged_a"),
    pl.col("_b").sum().alias("flagged_b"),
    (pl.col("_a") != pl.col("_b")).sum().alias("changed"),
    (~pl.col("_a") & pl.col("_b")).sum().alias("newly_flagged"),
    (pl.col("_a") & ~pl.col("_b")).sum().alias("no_longer_flagged"),
]


def replay_decisions(
    data: pl.DataFrame,
    scores_a: Sequence[float] | np.ndarray,
    scores_b: Sequence[float] | np.ndarray,
    *,
    threshold: float,
    segments: Sequence[str] = (),
    version_a: str = "A",
    version_b: str = "B",
) -> DecisionReplay:
    """Count the rows of `data` whose decision (score >= `threshold`) differs between the two score vectors.

    Raises:
        ValueError: a score vector's length differs from the batch's, or a segment column is missing.
    """
    a, b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    if a.shape != (data.height,) or b.shape != (data.height,):
        raise ValueError(f"scores: expected {data.height} per version (one per row), got {a.shape} and {b.shape}")
    missing = [c for c in segments if c not in data.columns]
    if missing:
        raise ValueError(f"segments: {', '.join(missing)} not among the batch's columns ({', '.join(data.columns)})")
    frame = data.select(segments).with_columns(_a=pl.Series(a >= threshold), _b=pl.Series(b >= threshold))
    [total] = frame.select(_COUNTS).to_dicts()
    per_segment: list[SegmentReplay] = []
    for column in segments:
        counts = frame.group_by(column).agg(_COUNTS).sort(column, nulls_last=True)
        per_segment += [SegmentReplay(column=column, segment=None if row[column] is None else str(row[column]),
                                      **{k: int(v) for k, v in row.items() if k != column})
                        for row in counts.to_dicts()]
    return DecisionReplay(version_a=version_a, version_b=version_b, threshold=float(threshold),
                          **{k: int(v) for k, v in total.items()}, segments=tuple(per_segment))
