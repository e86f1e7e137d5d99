"""Record a release in Airflow: the released batch's asset gets an event through the REST API, once.

A batch an Airflow task quarantined has a manifest whose ``run_id`` is the DAG run's id and whose ``source`` is its
target (``target:<uri>``) or ``airflow:<dag>.<task>[<partition>]``. The task pushed its outcome record to XCom
(``guardrails_outcome``) with the DAG, the task and the asset's URI, so the release finds the asset over REST:
XCom entries of the run with that key -> the one whose ``batch_id`` is the batch -> the asset by URI. It then posts
``POST /api/v2/assets/events`` with the extra ``{"guardrails_release": {...}}`` (batch, partition, release
status, who, when, where to). Consumers scheduled on the asset run, as they would have after a good day: the
data is now where they read it.

Recording is idempotent: when an event of the asset already carries this batch's release (same batch id and
release time), nothing is posted again, so a release that published but could not reach Airflow is recorded
later by running it again (or with ``--record-only``). This module imports no Airflow (the CLI runs it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.airflow._rest import OUTCOME_XCOM_KEY, AirflowApi, AirflowApiError
from guardrails.quarantine import QuarantineManifest, QuarantineState

RELEASE_EXTRA_KEY = "guardrails_release"
"""The key of a release event's extra (its value describes the release)."""
_AIRFLOW_SOURCES = ("target:", "airflow:")
_SCANNED_EVENTS = 500
"""How many of the asset's newest events are searched for an earlier record of the same release."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AirflowOrigin:
    """The task instance that quarantined a batch, and the asset its events go to."""

    dag_id: str
    task_id: str
    run_id: str
    asset_uri: str
    partition: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseEventResult:
    """Whether the release is on record in Airflow: `recorded` (now, or `already` before), or why not."""

    recorded: bool
    message: str
    already: bool = False
    asset_uri: str | None = None
    asset_id: int | None = None
    event_id: int | None = None
    unreachable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"recorded": self.recorded, "already": self.already, "message": self.message,
                "asset_uri": self.asset_uri, "asset_id": self.asset_id, "event_id": self.event_id,
                "unreachable": self.unreachable}


def came_from_airflow(manifest: QuarantineManifest) -> bool:
    """Whether an Airflow task guarded the batch: it names a run and a target or an ``airflow:`` source."""
    return bool(manifest.run_id) and manifest.source.startswith(_AIRFLOW_SOURCES)


def release_extra(manifest: QuarantineManifest, origin: AirflowOrigin | None = None) -> dict[str, Any]:
    """The event's extra: ``{"guardrails_release": {batch_id, partition, status, released_by, ...}}``.

    ``status`` is the release's re-validation status (``passed``, or ``warning`` when only warnings failed).
    """
    step = next((t for t in reversed(manifest.history) if t.state is QuarantineState.RELEASED), None)
    outcome = manifest.release_outcome
    return {RELEASE_EXTRA_KEY: {
        "batch_id": manifest.batch_id,
        "partition": origin.partition if origin is not None else None,
        "status": outcome.status.value if outcome is not None else None,
        "released_at": manifest.released_at.isoformat() if manifest.released_at is not None else None,
        "released_by": step.actor if step is not None else None,
        "released_to": manifest.released_to,
        "reason": cap_text(step.reason, MESSAGE_CHARS) if step is not None else None,
        "rows": manifest.rows_quarantined,
        "contract_id": manifest.contract_id,
        "contract_version": outcome.contract_version if outcome is not None else manifest.contract_version,
        "quarantined_by": {"dag_id": origin.dag_id, "task_id": origin.task_id, "run_id": origin.run_id}
        if origin is not None else {"run_id": manifest.run_id},
    }}


def find_origin(api: AirflowApi, manifest: QuarantineManifest) -> AirflowOrigin | None:
    """The task instance of the manifest's run that pushed this batch's outcome record, or None."""
    for entry in api.xcom_entries(dag_run_id=str(manifest.run_id), key=OUTCOME_XCOM_KEY):
        record = api.xcom_value(entry["dag_id"], entry["run_id"], entry["task_id"], OUTCOME_XCOM_KEY,
                                map_index=entry.get("map_index", -1))
        if isinstance(record, dict) and record.get("batch_id") == manifest.batch_id and record.get("asset_uri"):
            return AirflowOrigin(dag_id=entry["dag_id"], task_id=entry["task_id"], run_id=entry["run_id"],
                                 asset_uri=str(record["asset_uri"]), partition=record.get("partition"))
    return None


def record_release_event(api: AirflowApi, manifest: QuarantineManifest) -> ReleaseEventResult:
    """Post the release of a released batch as an event of its asset, unless one already records it.

    Never raises for Airflow's sake: an unreachable server or an error answer is a result saying so (the data
    is published either way; recording is retried by running the release again).
    """
    if manifest.state is not QuarantineState.RELEASED:
        return ReleaseEventResult(recorded=False, message=f"batch {manifest.batch_id} is {manifest.state.value}, "
                                  "not released: there is no release to record")
    try:
        origin = find_origin(api, manifest)
        if origin is None:
            return ReleaseEventResult(recorded=False, message=(
                f"Airflow at {api.url} has no {OUTCOME_XCOM_KEY} XCom of batch {manifest.batch_id} in run "
                f"{manifest.run_id}: the asset to record the release on is unknown"))
        asset = api.asset_by_uri(origin.asset_uri)
        if asset is None:
            return ReleaseEventResult(recorded=False, asset_uri=origin.asset_uri, message=(
                f"Airflow at {api.url} has no asset {origin.asset_uri}"))
        extra = release_extra(manifest, origin)
        mine = extra[RELEASE_EXTRA_KEY]
        for event in api.asset_events(asset_id=asset["id"], max_items=_SCANNED_EVENTS):
            earlier = (event.get("extra") or {}).get(RELEASE_EXTRA_KEY)
            if isinstance(earlier, dict) and earlier.get("batch_id") == mine["batch_id"] and \
                    earlier.get("released_at") == mine["released_at"]:
                return ReleaseEventResult(recorded=True, already=True, asset_uri=origin.asset_uri,
                                          asset_id=asset["id"], event_id=event.get("id"),
                                          message=f"already recorded as asset event {event.get('id')} of "
                                                  f"{origin.asset_uri}")
        event = api.create_asset_event(asset["id"], extra)
    except AirflowApiError as exc:
        return ReleaseEventResult(recorded=False, message=str(exc), unreachable=exc.status is None)
    return ReleaseEventResult(recorded=True, asset_uri=origin.asset_uri, asset_id=asset["id"],
                              event_id=event.get("id"),
                              message=f"recorded as asset event {event.get('id')} of {origin.asset_uri}")
