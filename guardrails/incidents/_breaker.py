"""The circuit breaker's judgement: has an asset failed often enough that its feeds must stop?

A *batch* is one run's evaluations of an asset's checks (release re-validations are not batches and do not
count); it failed when any of its evaluations failed. The breaker trips after `consecutive_failures` failed
batches in a row (exactly at N), or when at least `failure_rate` of the last `window` batches failed (only once
`window` batches are on record). Failures before the last re-arm are forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from guardrails.incidents._records import Evaluation


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerPolicy:
    """When to trip. Set `consecutive_failures`, `failure_rate` (with `window`), or both (either trips).

    Raises:
        ValueError: a threshold out of range, or no threshold at all (at construction).
    """

    consecutive_failures: int | None = 3
    failure_rate: float | None = None
    window: int = 10

    def __post_init__(self) -> None:
        if self.consecutive_failures is None and self.failure_rate is None:
            raise ValueError("BreakerPolicy: set consecutive_failures, failure_rate, or both (got neither)")
        if self.consecutive_failures is not None and (
            isinstance(self.consecutive_failures, bool) or not isinstance(self.consecutive_failures, int)
            or self.consecutive_failures < 1
        ):
            raise ValueError(f"BreakerPolicy.consecutive_failures: expected an integer >= 1, got {self.consecutive_failures!r}")
        if self.failure_rate is not None and not 0 < self.failure_rate <= 1:
            raise ValueError(f"BreakerPolicy.failure_rate: expected a share in (0, 1], got {self.failure_rate!r}")
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 1:
            raise ValueError(f"BreakerPolicy.window: expected an integer >= 1 (batches), got {self.window!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerVerdict:
    """Whether to trip, why, and the counts it was judged on."""

    tripped: bool
    reason: str
    consecutive_failures: int
    failures_in_window: int
    batches_in_window: int


def judge_breaker(
    policy: BreakerPolicy, evaluations: Iterable[Evaluation], *, after: datetime | None = None
) -> BreakerVerdict:
    """Judge one asset's recent batches against `policy`; evaluations at or before `after` are ignored.

    Example:
        >>> from datetime import datetime, timezone
        >>> day = lambda d: datetime(2026, 11, d, tzinfo=timezone.utc)
        >>> batches = [Evaluation(asset_key="a", check_name="c", timestamp=day(d), passed=d == 1, run_id=f"r{d}")
        ...            for d in (1, 2, 3)]
        >>> judge_breaker(BreakerPolicy(consecutive_failures=2), batches).tripped
        True
        >>> judge_breaker(BreakerPolicy(consecutive_failures=3), batches).consecutive_failures
        2
    """
    batches: dict[str, tuple[datetime, bool]] = {}
    for evaluation in evaluations:
        if not evaluation.run_id or (after is not None and evaluation.timestamp <= after):
            continue
        seen = batches.get(evaluation.run_id)
        at = max(seen[0], evaluation.timestamp) if seen else evaluation.timestamp
        failed = (seen[1] if seen else False) or not evaluation.passed
        batches[evaluation.run_id] = (at, failed)
    ordered = [failed for _, failed in sorted(batches.values(), key=lambda b: b[0])]
    streak = 0
    for failed in reversed(ordered):
        if not failed:
            break
        streak += 1
    recent = ordered[-policy.window:]
    failures = sum(recent)
    if policy.consecutive_failures is not None and streak >= policy.consecutive_failures:
        reason = f"{streak} consecutive failed batches (limit {policy.consecutive_failures})"
        return BreakerVerdict(tripped=True, reason=reason, consecutive_failures=streak,
                              failures_in_window=failures, batches_in_window=len(recent))
    if policy.failure_rate is not None and len(recent) >= policy.window and failures / len(recent) >= policy.failure_rate:
        reason = f"{failures} of the last {len(recent)} batches failed (limit {policy.failure_rate:.0%})"
        return BreakerVerdict(tripped=True, reason=reason, consecutive_failures=streak,
                              failures_in_window=failures, batches_in_window=len(recent))
    return BreakerVerdict(tripped=False, reason="within limits", consecutive_failures=streak,
                          failures_in_window=failures, batches_in_window=len(recent))
