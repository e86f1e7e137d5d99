"""The ``apache_airflow_provider`` entry point: registers ``@task.guarded``, ``@task.model_gate`` and the operators
(`GuardedOperator`, `ModelGateOperator`, `CanaryGateOperator`) with Airflow."""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    """What Airflow's providers manager reads (its ``package-name`` must be this distribution's name)."""
    from guardrails import __version__

    return {
        "package-name": "pipeline-guardrails",
        "name": "Pipeline Guardrails",
        "description": "Write-audit-publish guardrails: audit a task's batch against a data contract before it is "
        "published; quarantine and fail the task when it breaks the contract.",
        "versions": [__version__],
        "integrations": [{"integration-name": "Pipeline Guardrails", "tags": ["software"]}],
        "operators": [
            {"integration-name": "Pipeline Guardrails", "python-modules": ["guardrails.airflow.operator", "guardrails.airflow.gate"]}
        ],
        "task-decorators": [
            {"name": "guarded", "class-name": "guardrails.airflow.decorator.guarded_task"},
            {"name": "model_gate", "class-name": "guardrails.airflow.gate.model_gate_task"},
        ],
    }
