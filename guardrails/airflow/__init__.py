"""The Airflow 3 adapter: write-audit-publish tasks through the same core as the Dagster adapter.

- ``@task.guarded(contract=..., target=...)`` (`guarded_task`) and `GuardedOperator`: the task's batch is
  audited by `guardrails.quarantine.guard_batch` before anything is written; a good batch is published to the
  target and emits an asset event whose extra is the outcome record; a bad one is quarantined, its record pushed
  to XCom (``guardrails_outcome``) and the task fails (`AirflowFailException`).
- Model guard (`guardrails.airflow.models`, `guardrails.airflow.gate`): ``model=`` on a guarded task holds the
  promotion of the models its batch feeds while it is quarantined; ``@task.model_gate`` / `ModelGateOperator`
  promotes a trained candidate only if eligible; `CanaryGateOperator` judges a running canary.
- `QuarantineNotifier`: a failure callback posting one webhook message per quarantine (the core's delivery).
- `CircuitBreakerNotifier`: a failure callback pausing the DAGs that feed the task's asset after N failures
  (through the REST API); ``guardrails incident rearm <asset-uri>`` unpauses them.
- `TaskScope`: the partition (the data interval; the run id when there is no logical date) and the as-of time.
- `get_provider_info`: the ``apache_airflow_provider`` entry point.

`AirflowApi` (`guardrails.airflow._rest`) is the one client of Airflow's REST API. It needs only httpx, so this
package imports without Airflow (the CLI posts release events and re-arms breakers from a machine without it);
every other name needs the ``[airflow]`` extra and says so when it is used.

Names are imported on first use, so Airflow's providers manager can read `provider_info` without importing the
operators (and so without importing Airflow's own operator modules while it is discovering them).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from guardrails._extras import require_extra

_LAZY = {
    "AirflowApi": "guardrails.airflow._rest",
    "AirflowApiError": "guardrails.airflow._rest",
    "AirflowUnreachable": "guardrails.airflow._rest",
    "AirflowNotConfigured": "guardrails.airflow._rest",
    "GuardedOperator": "guardrails.airflow.operator",
    "build_guard_spec": "guardrails.airflow.operator",
    "guarded_task": "guardrails.airflow.decorator",
    "GuardSpec": "guardrails.airflow._publish",
    "OUTCOME_XCOM_KEY": "guardrails.airflow._publish",
    "guard_and_publish": "guardrails.airflow._publish",
    "outcome_record": "guardrails.airflow._publish",
    "TaskScope": "guardrails.airflow._scope",
    "BatchQuarantined": "guardrails.airflow._publish",
    "QuarantineNotifier": "guardrails.airflow.notifier",
    "quarantine_message": "guardrails.airflow.notifier",
    "get_provider_info": "guardrails.airflow.provider_info",
    "ModelGateOperator": "guardrails.airflow.gate",
    "CanaryGateOperator": "guardrails.airflow.gate",
    "ModelCandidate": "guardrails.airflow.gate",
    "model_gate_task": "guardrails.airflow.gate",
    "RegistrySettings": "guardrails.airflow.models",
    "lineage_of": "guardrails.airflow.models",
    "model_asset": "guardrails.airflow.models",
    "CircuitBreakerNotifier": "guardrails.airflow.breaker",
}
_HOST_FREE = "guardrails.airflow._rest"

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'guardrails.airflow' has no attribute {name!r}")
    if _LAZY[name] != _HOST_FREE:
        require_extra("airflow", "airflow", f"guardrails.airflow.{name}")
    return getattr(import_module(_LAZY[name]), name)
