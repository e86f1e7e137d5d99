"""What the core needs from each store, as small protocols (the way Deequ hides storage behind a repository).

The checks, the guard and the incident builder need only a few verbs from each store; naming them here lets a
store on another backend (an object store, a database) plug in without the core changing, and lets tests use a
real fake that implements the protocol instead of patching internals. The concrete stores satisfy them as they
are (``tests/core/test_stores.py`` checks names, parameters and defaults):

=============================  ==============================================  ============================
protocol                       concrete store                                  who needs it
=============================  ==============================================  ============================
`QuarantineRepository`         `guardrails.quarantine.QuarantineStore`         guard, release, CLI, incidents
`ReferenceProfileRepository`   `guardrails.profile.ProfileStore`               drift checks, reference asset
`IncidentStateRepository`      `guardrails.incidents.IncidentStateStore`       notifier, breaker, sensors
`ModelRegistry`                `guardrails.models` (MLflow adapter, fakes)     model guard
=============================  ==============================================  ============================

`ModelRegistry` already lives with the model guard and is re-exported here, so there is one place to look.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from guardrails.models._registry import ModelRegistry
from guardrails.profile import ReferenceSource

if TYPE_CHECKING:
    import pyarrow as pa

    from guardrails.contract.model import Contract, QuarantinePolicy
    from guardrails.incidents._records import BreakerTrip
    from guardrails.outcome import CheckOutcome
    from guardrails.profile import Profile
    from guardrails.quarantine._manifest import DataFormat, QuarantineManifest, QuarantineState
    from guardrails.quarantine._published import PublishRecord
    from guardrails.quarantine._release import Publish, ReleaseResult

__all__ = [
    "IncidentStateRepository",
    "ModelRegistry",
    "QuarantineRepository",
    "ReferenceProfileRepository",
]


@runtime_checkable
class QuarantineRepository(Protocol):
    """Keep a condemned batch, find it again, release it once, purge its data."""

    def put(
        self,
        data: pa.Table | bytes,
        outcome: CheckOutcome,
        *,
        batch_id: str | None = None,
        content_hash: str | None = None,
        content_hash_of: Literal["bytes", "arrow_ipc"] | None = None,
        data_format: DataFormat | None = None,
        source: str = "",
        run_id: str | None = None,
        policy: QuarantinePolicy = ...,
        rows_in: int | None = None,
        reason: str | None = None,
    ) -> QuarantineManifest:
        """Keep `data` with the outcome that condemned it (idempotent for the same data under the same id)."""
        ...

    def list(self, state: QuarantineState | str | None = None) -> list[QuarantineManifest]:
        """Every readable batch, oldest first; only those in `state` if given."""
        ...

    def show(self, batch_id: str) -> QuarantineManifest:
        """One batch's manifest; raises `QuarantineError` when there is none."""
        ...

    def read(self, batch_id: str) -> pa.Table | bytes:
        """The kept data, byte for byte."""
        ...

    def release(
        self,
        batch_id: str,
        contract: Contract,
        *,
        as_of: datetime | None = None,
        publish: Publish | None = None,
        break_claim: bool = False,
        force: bool = False,
        also_published: Iterable[PublishRecord] = (),
    ) -> ReleaseResult:
        """Re-check a batch against `contract` and publish it exactly once if nothing blocks it."""
        ...

    def purge(self, batch_id: str) -> None:
        """Delete a batch's data for good; its manifest stays as a tombstone."""
        ...


@runtime_checkable
class ReferenceProfileRepository(ReferenceSource, Protocol):
    """The drift reference store: accepted batches in, the merged reference out (`judge_drift` reads only the
    `ReferenceSource` half)."""

    def accept(self, name: str, rows: Any, *, batch_name: str | None = None, **build_options: Any) -> Profile:
        """Profile an accepted (published, passing) batch of `name` and keep it as `batch_name`."""
        ...


@runtime_checkable
class IncidentStateRepository(Protocol):
    """Which notifications went out, which reports were attached, and the circuit breaker's trips."""

    def notified(self, incident_id: str) -> dict[str, str]: ...

    def mark_notified(self, incident_id: str, event: str, at: datetime) -> None: ...

    def attached(self, incident_id: str) -> bool: ...

    def mark_attached(self, incident_id: str, at: datetime) -> None: ...

    def breaker_trips(self) -> tuple[BreakerTrip, ...]: ...

    def active_trip(self, asset_key: str) -> BreakerTrip | None: ...

    def last_rearm(self, asset_key: str) -> datetime | None: ...

    def record_trip(self, trip: BreakerTrip) -> bool:
        """Store a trip; False when the asset's breaker is already open (exactly one of two racers wins)."""
        ...

    def record_rearm(self, asset_key: str, at: datetime, by: str) -> BreakerTrip | None: ...
