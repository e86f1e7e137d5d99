"""`CircuitBreakerNotifier`: a failure callback that pauses the DAGs feeding an asset after too many failures.

Airflow 3 forbids task code to touch the metadata DB, so the breaker works through the REST API
(`guardrails.airflow._circuit`): it reads the failing task's finished task instances, judges them with the core's
`judge_breaker` against a `BreakerPolicy` (N consecutive failed runs, or a failure rate over a window), and when it
trips pauses every DAG producing the asset (``PATCH /api/v2/dags/{dag_id}``), records the trip in the incident state
(``$GUARDRAILS_STATE``, what ``guardrails incident`` reads) and logs what it paused and why. Re-arm explicitly:
``guardrails incident rearm <asset-uri>`` unpauses exactly the DAGs the trip paused.

The asset is the guarded task's (``@task.guarded`` / `GuardedOperator`), else the task's first outlet, else the
`asset` argument. Every failed run of the task counts: a quarantine, or a crash of its callable (fail closed).

The callback never raises: Airflow unreachable, a refused call or a bug here is logged loudly (``ERROR``) and the
task's own failure, the quarantine, stays what Airflow reports.

Example (in a DAG file)::

    @task.guarded(contract=..., target=...,
                  on_failure_callback=[QuarantineNotifier(hook), CircuitBreakerNotifier(consecutive_failures=3)])

Airflow's address comes from `conn_id` (an HTTP connection: host, port, login/password or ``{"token": ...}`` in its
extra), else ``$GUARDRAILS_AIRFLOW_URL`` with ``$GUARDRAILS_AIRFLOW_TOKEN`` or ``..._USERNAME``/``..._PASSWORD``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import BaseNotifier

from guardrails._text import cap_text
from guardrails.airflow._circuit import (
    feeding_dags,
    paused_names,
    rearm_breaker,
    task_evaluations,
    trip_breaker_if_needed,
)
from guardrails.airflow._rest import AirflowApi, AirflowApiError
from guardrails.incidents import BreakerPolicy, IncidentStateStore

__all__ = ["CircuitBreakerNotifier", "rearm_breaker", "trip_breaker_if_needed"]


class CircuitBreakerNotifier(BaseNotifier):
    """Pause the DAGs feeding the failing task's asset when `policy` trips (see the module docstring).

    Args:
        consecutive_failures: trip after this many failed runs in a row (None: only the rate).
        failure_rate: trip when at least this share of the last `window` runs failed (None: only the streak).
        window: runs the rate is judged over.
        conn_id: an Airflow HTTP connection naming the api-server (default: the ``GUARDRAILS_AIRFLOW_*`` variables).
        state_dir: the incident state directory (default ``$GUARDRAILS_STATE``, else ``.guardrails/state``).
        asset: the asset URI to guard, when the task is not a guarded task and has no outlet.
        timeout_seconds: per REST call.

    Raises:
        ValueError: a threshold out of range, or none (when the DAG file is parsed: `BreakerPolicy`).
    """

    template_fields = ("conn_id", "state_dir", "asset")

    def __init__(
        self,
        consecutive_failures: int | None = 3,
        *,
        failure_rate: float | None = None,
        window: int = 10,
        conn_id: str | None = None,
        state_dir: str | None = None,
        asset: str | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        super().__init__()
        self.policy = BreakerPolicy(consecutive_failures=consecutive_failures, failure_rate=failure_rate,
                                    window=window)
        self.conn_id = conn_id
        self.state_dir = state_dir
        self.asset = asset
        self.timeout_seconds = timeout_seconds

    def notify(self, context: Any) -> None:
        ti = context["ti"]
        try:
            self._judge(context)
        except AirflowApiError as exc:
            self.log.error("CIRCUIT BREAKER NOT EVALUATED for %s.%s: %s; the feeding DAGs were NOT paused "
                           "(the task's own failure stands)", ti.dag_id, ti.task_id, exc)
        except Exception as exc:  # a callback must never add a second exception that hides the quarantine
            self.log.error("CIRCUIT BREAKER FAILED for %s.%s: %s: %s; the feeding DAGs were NOT paused",
                           ti.dag_id, ti.task_id, type(exc).__name__, cap_text(str(exc)), exc_info=True)

    def _judge(self, context: Any) -> None:
        ti = context["ti"]
        asset_uri = self.asset or _asset_of(context.get("task") or getattr(ti, "task", None))
        if asset_uri is None:
            self.log.error("CIRCUIT BREAKER NOT EVALUATED for %s.%s: the task guards no asset and has no outlet; "
                           "pass CircuitBreakerNotifier(asset=...)", ti.dag_id, ti.task_id)
            return
        api = self._api()
        if api is None:
            self.log.error("CIRCUIT BREAKER NOT EVALUATED for %s.%s: no Airflow API configured (conn_id, or "
                           "$GUARDRAILS_AIRFLOW_URL)", ti.dag_id, ti.task_id)
            return
        state = IncidentStateStore(self.state_dir)
        now = datetime.now(UTC)
        with api:
            evaluations = task_evaluations(api, asset_uri, ti.dag_id, ti.task_id, current_run_id=ti.run_id, now=now)
            trip = trip_breaker_if_needed(api, asset_uri, evaluations, policy=self.policy, state=state,
                                          dags=feeding_dags(api, asset_uri, also=[ti.dag_id]), now=now)
        if trip is not None:
            self.log.error("CIRCUIT BREAKER TRIPPED for %s: %s; paused %s. Re-arm once fixed: "
                           "guardrails incident rearm %s", asset_uri, trip.reason, paused_names(trip), asset_uri)
        elif (open_trip := state.active_trip(asset_uri)) is not None:
            self.log.warning("circuit breaker of %s is open since %s (%s); paused %s", asset_uri,
                             open_trip.tripped_at.isoformat(timespec="seconds"), open_trip.reason,
                             paused_names(open_trip))
        else:
            self.log.info("circuit breaker of %s: within limits (%s)", asset_uri, self.policy)

    def _api(self) -> AirflowApi | None:
        if self.conn_id:
            return AirflowApi.from_connection(self.conn_id, timeout_seconds=self.timeout_seconds)
        return AirflowApi.from_env(timeout_seconds=self.timeout_seconds)


def _asset_of(task: Any) -> str | None:
    """The URI of the guarded task's asset, else of its first outlet with a URI."""
    guard = getattr(task, "guard", None)
    if guard is not None:
        return str(guard.asset.uri)
    for outlet in getattr(task, "outlets", None) or ():
        uri = getattr(outlet, "uri", None)
        if uri:
            return str(uri)
    return None
