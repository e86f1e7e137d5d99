"""A threshold band on a score where higher is worse: the one way every check here turns a score into a level."""

from __future__ import annotations

import math
from dataclasses import dataclass

from guardrails.outcome import Severity

__all__ = ["Band"]


@dataclass(frozen=True, slots=True)
class Band:
    """Thresholds on a score where higher is worse: above `warn` is a warning, above `error` an error.

    Either bound may be None (no such level). Refuses negative, non-finite or inverted bounds at build time.
    """

    warn: float | None = None
    error: float | None = None

    def __post_init__(self) -> None:
        for name in ("warn", "error"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value) or value < 0):
                raise ValueError(f"{name} must be a finite number >= 0 or None, got {value!r}")
        if self.warn is not None and self.error is not None and self.warn > self.error:
            raise ValueError(f"warn ({self.warn}) is above error ({self.error})")

    def judge(self, score: float) -> Severity | None:
        """The severity `score` earns, or None when it is within the band."""
        if self.error is not None and score > self.error:
            return Severity.ERROR
        if self.warn is not None and score > self.warn:
            return Severity.WARNING
        return None

    def describe(self) -> str:
        parts = []
        if self.warn is not None:
            parts.append(f"warn > {self.warn:g}")
        if self.error is not None:
            parts.append(f"error > {self.error:g}")
        return ", ".join(parts) or "not judged"
