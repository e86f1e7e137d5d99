"""Read an alias back after a write that failed: what is it actually on, once in-flight requests have landed?

A write that raised (a timeout, a dropped connection, a 5xx from a proxy) may still be applied: the request can
sit in a proxy or in the server's queue after the client gave up, and MLflow cannot cancel it. So "ERROR" alone
does not say whether the alias moved. `settle_alias` reads the alias back for a settle window and returns what
it observed, so the guard reports the alias actually seen ("alias 'champion' observed on v1 after the error"),
never a guess. A request delivered after the window is the reconciler's job (it records the move as observed).

The registry is any `ModelRegistry`; `read_alias` is used when it has one (one small request on MLflow), else
`get_model(...).aliases`.

Example:
    >>> seen = settle_alias(registry, "fraud", "champion", target=1, window_seconds=4)  # doctest: +SKIP
    >>> seen.version, seen.reached_target  # doctest: +SKIP
    (1, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from guardrails.models._registry import ModelRegistry, RegistryError


@dataclass(frozen=True, slots=True, kw_only=True)
class AliasObservation:
    """What a settle read-back saw.

    Attributes:
        version: the alias's version at the last successful read (None: unset, or never read; see `known`).
        known: at least one read succeeded, so `version` is a fact and not a default.
        reached_target: some read saw the alias on the target version (the write landed).
        reads: how many reads succeeded.
        error: the last read error's text, if any read failed.
        waited_seconds: how long the read-back took.
    """

    version: int | None
    known: bool
    reached_target: bool
    reads: int
    error: str | None
    waited_seconds: float

    def describe(self, alias: str) -> str:
        """``alias 'champion' observed on v1`` / ``... not set`` / ``... unknown (registry unreachable: ...)``."""
        if not self.known:
            return f"alias {alias!r} unknown (could not be read back: {self.error or 'no read'})"
        if self.version is None:
            return f"alias {alias!r} observed unset"
        return f"alias {alias!r} observed on v{self.version}"


def read_alias(registry: ModelRegistry, name: str, alias: str) -> int | None:
    """The alias's version now (None if unset); raises `RegistryError`."""
    reader = getattr(registry, "read_alias", None)
    if reader is not None:
        return reader(name, alias)
    return registry.get_model(name).aliases.get(alias)


def settle_alias(
    registry: ModelRegistry,
    name: str,
    alias: str,
    *,
    target: int | None,
    window_seconds: float,
    interval_seconds: float = 0.25,
    stop_when_reached: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> AliasObservation:
    """Read `alias` back for up to `window_seconds`; return early once it is on `target` (if `stop_when_reached`).

    Never raises for registry trouble: a read that fails is counted in `error`, and the observation says
    whether anything was read at all. Use a window of at least the registry's per-call budget (e.g.
    `MlflowModelRegistry.call_budget_seconds`) so a request that was still being retried has landed or failed.
    With `target=None` the whole window is read and the last value returned (an alias that should not have
    moved: did it?).
    """
    if window_seconds < 0 or interval_seconds <= 0:
        raise ValueError(f"window_seconds >= 0 and interval_seconds > 0 expected, got {window_seconds}, "
                         f"{interval_seconds}")
    started = monotonic()
    version: int | None = None
    known = reached = False
    reads = 0
    error: str | None = None
    while True:
        try:
            version = read_alias(registry, name, alias)
            known = True
            reads += 1
            reached = reached or (target is not None and version == target)
        except RegistryError as exc:
            error = str(exc)
        elapsed = monotonic() - started
        if (reached and stop_when_reached) or elapsed >= window_seconds:
            return AliasObservation(version=version, known=known, reached_target=reached, reads=reads,
                                    error=error, waited_seconds=elapsed)
        sleep(min(interval_seconds, max(0.0, window_seconds - elapsed)))
