"""The circuit breaker in Airflow, over the REST API: count a guarded task's failures, pause the DAGs feeding its
asset, and unpause exactly those on re-arm. Host-free (httpx only), so the CLI re-arms without Airflow installed.

The judgement is the core's (`guardrails.incidents.judge_breaker`, `BreakerPolicy`), fed with the guarded task's
finished task instances as Airflow recorded them (one batch per DAG run: ``success`` passed, ``failed`` failed).
The feeds of an asset are the DAGs with a task producing it (the asset's ``producing_tasks``) and the DAG whose
task failed. A trip pauses each of them that is not paused already (``PATCH /api/v2/dags/{dag_id}``), and is kept
in the incident state (`IncidentStateStore`, ``$GUARDRAILS_STATE``) as a `BreakerTrip` whose `stopped` entries are
``kind="dag"``: the CLI's incident report shows it, the breaker trips once, and a re-arm unpauses exactly what the
trip paused (a DAG someone already unpaused, or deleted, is left as it is). The state directory must be shared by
the workers and the machine that re-arms (as for Dagster).

No asset event records a trip: an event on the asset would tell its consumers it was updated, and start them.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from guardrails.airflow._rest import AirflowApi, AirflowApiError
from guardrails.incidents import BreakerPolicy, BreakerTrip, Evaluation, IncidentStateStore, StoppedInstigator, judge_breaker

DAG_FEED = "dag"
"""`StoppedInstigator.kind` of a DAG the breaker paused (Dagster's are ``schedule`` and ``sensor``)."""
UNPAUSED = "unpaused"
HISTORY = 200
"""How many of the task's newest finished task instances are read (enough for any sensible window)."""


def task_evaluations(
    api: AirflowApi, asset_uri: str, dag_id: str, task_id: str, *, current_run_id: str | None = None,
    now: datetime | None = None,
) -> list[Evaluation]:
    """The guarded task's finished runs as evaluations of `asset_uri` (newest `HISTORY`), from Airflow's records.

    The run whose failure callback is running (`current_run_id`) counts as failed even if Airflow has not stored
    its state yet (callbacks run before the task runner reports the final state).
    """
    instances = api.task_instances(dag_id, task_id=task_id, state=["success", "failed"], max_items=HISTORY)
    evaluations = [
        Evaluation(asset_key=asset_uri, check_name=task_id, timestamp=_when(ti.get("end_date")) or now or _now(),
                   passed=ti.get("state") == "success", run_id=str(ti.get("dag_run_id") or ""))
        for ti in instances
    ]
    if current_run_id and not any(e.run_id == current_run_id and not e.passed for e in evaluations):
        evaluations = [e for e in evaluations if e.run_id != current_run_id]
        evaluations.append(Evaluation(asset_key=asset_uri, check_name=task_id, timestamp=now or _now(),
                                      passed=False, run_id=current_run_id))
    return evaluations


def feeding_dags(api: AirflowApi, asset_uri: str, *, also: Iterable[str] = ()) -> tuple[str, ...]:
    """The DAGs with a task producing `asset_uri` (from the asset's details), plus `also`, sorted."""
    asset = api.asset_by_uri(asset_uri)
    producers = {str(t["dag_id"]) for t in (asset or {}).get("producing_tasks", ()) if t.get("dag_id")}
    return tuple(sorted(producers | set(also)))


def pause_dags(api: AirflowApi, dag_ids: Iterable[str]) -> tuple[StoppedInstigator, ...]:
    """Pause each DAG that is not paused; return those this call paused (a paused one was not ours to pause)."""
    paused = []
    for dag_id in dag_ids:
        if api.dag(dag_id).get("is_paused"):
            continue
        api.set_paused(dag_id, True)
        paused.append(StoppedInstigator(kind=DAG_FEED, name=dag_id, origin_id=api.url, selector_id=dag_id,
                                        previous_status=UNPAUSED))
    return tuple(paused)


def trip_breaker_if_needed(
    api: AirflowApi,
    asset_uri: str,
    evaluations: Sequence[Evaluation],
    *,
    policy: BreakerPolicy,
    state: IncidentStateStore,
    dags: Sequence[str],
    now: datetime | None = None,
) -> BreakerTrip | None:
    """Trip `asset_uri`'s breaker when `policy` says so and it is not open yet: pause `dags`, store the trip.

    Returns the new trip, or None (within limits, or already open).

    Raises:
        AirflowApiError: Airflow could not be asked or refused a pause. When nothing was paused, no trip is stored
            (the next failure tries again); when some DAGs were, the trip is stored with them (a re-arm unpauses
            them) and its reason says the others are still running.
    """
    if state.active_trip(asset_uri) is not None:
        return None
    verdict = judge_breaker(policy, [e for e in evaluations if e.asset_key == asset_uri],
                            after=state.last_rearm(asset_uri))
    if not verdict.tripped:
        return None
    paused: list[StoppedInstigator] = []
    try:
        for dag_id in dags:
            paused.extend(pause_dags(api, [dag_id]))
    except AirflowApiError as exc:
        if not paused:
            raise  # nothing changed: no trip stored, the next failure tries again
        # Some DAGs are paused: keep them on record so a re-arm unpauses them, and say what is still running.
        reason = f"{verdict.reason}; NOT all feeds paused ({exc})"
        state.record_trip(BreakerTrip(asset_key=asset_uri, tripped_at=now or _now(), reason=reason,
                                      stopped=tuple(paused)))
        raise
    trip = BreakerTrip(asset_key=asset_uri, tripped_at=now or _now(), reason=verdict.reason, stopped=tuple(paused))
    if not state.record_trip(trip):
        return None  # a concurrent failure callback tripped it first
    return trip


def rearm_breaker(
    api: AirflowApi, asset_uri: str, *, state: IncidentStateStore, by: str | None = None
) -> BreakerTrip | None:
    """Unpause the DAGs `asset_uri`'s open trip paused and close the trip; None when the breaker was not open.

    Raises:
        AirflowApiError: Airflow could not be asked; the trip stays open (run the re-arm again).
    """
    trip = state.active_trip(asset_uri)
    if trip is None:
        return None
    for feed in trip.stopped:
        if feed.kind != DAG_FEED:
            continue
        try:
            paused = api.dag(feed.selector_id).get("is_paused")
        except AirflowApiError as exc:
            if exc.status == 404:
                continue  # deleted since: nothing to unpause
            raise
        if paused:
            api.set_paused(feed.selector_id, False)
    return state.record_rearm(asset_uri, _now(), by or actor())


def paused_names(trip: BreakerTrip) -> str:
    """``dag a, dag b`` (or ``nothing``): what a trip paused, for a log line or the CLI."""
    return ", ".join(f"{s.kind} {s.name}" for s in trip.stopped) or "nothing"


def is_airflow_trip(trip: BreakerTrip) -> bool:
    """Whether an Airflow breaker made the trip (it paused DAGs, or it is keyed by a URI as Airflow assets are)."""
    return any(s.kind == DAG_FEED for s in trip.stopped) or "://" in trip.asset_key


def actor() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except Exception:  # no user name in a bare container: the host alone still says where
        return socket.gethostname()


def _now() -> datetime:
    return datetime.now(UTC)


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
