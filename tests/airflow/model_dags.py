"""The model guard's test DAGs, built from ``model_guard.json`` in the DAGs folder (written by the tests' fixture).

``dag.test()`` serializes a DAG from its file, so the DAGs are built from a spec file there; each run's conf says
what the run does (a defect in the batch, the candidate's version and ROC AUC, the canary's units table):

- ``mg_hold``: a guarded task feeding the model (``model=``): a quarantine holds, a pass releases;
- ``mg_gate``: ``@task.model_gate``: a candidate with its evaluation and lineage, promoted or failed;
- ``mg_canary``: `CanaryGateOperator` on the units table named by the conf (``mg_canary_wait``: as a sensor);
- ``mg_dead``: the same tasks against a registry nobody listens on.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable

from guardrails.airflow import CanaryGateOperator, ModelCandidate, RegistrySettings
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity

SPEC_NAME = "model_guard.json"
ROWS = 400
START = datetime(2026, 11, 1, tzinfo=UTC)


def _dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=CronDataIntervalTimetable("@daily", timezone="UTC"), start_date=START, catchup=False)


def evaluation(version: int, auc: float) -> CheckOutcome:
    """A candidate's evaluation as the model's own check (passes at ROC AUC 0.6)."""
    now = datetime.now(UTC)
    return CheckOutcome(check="evaluation_roc_auc", kind=CheckKind.MODEL,
                        status=CheckStatus.PASSED if auc >= 0.6 else CheckStatus.FAILED,  # noqa: PLR2004
                        severity=Severity.ERROR, started_at=now, finished_at=now, metrics={"roc_auc": auc},
                        message=f"v{version} ROC AUC {auc:.2f} (minimum 0.6)")


def build(spec: dict[str, Any]) -> list[DAG]:
    """`spec`: ``{"model", "tracking_uri", "dead_uri", "out", "contract", "canary_spec"}``."""
    out = Path(spec["out"])
    dags = []
    for dag_id, uri in (("mg_hold", spec["tracking_uri"]), ("mg_dead", spec["dead_uri"])):
        registry = RegistrySettings(tracking_uri=uri, timeout_seconds=1, max_retries=0)
        with _dag(dag_id) as dag:

            @task.guarded(contract=spec["contract"], target=str(out / dag_id / "transactions" / "{partition}"),
                          quarantine=str(out / dag_id / "quarantine"), model=spec["model"], model_registry=registry)
            def clean(data_interval_start: datetime | None = None, dag_run: Any = None) -> Any:
                from definitions.data import Defect, generate_transactions

                defect = (dag_run.conf or {}).get("defect")
                day: date = data_interval_start.date()  # type: ignore[union-attr]
                return generate_transactions(day, rows=ROWS, accounts=300, defect=Defect(defect) if defect else None)

            @task.model_gate(model=spec["model"], model_registry=registry)
            def gate(published: dict[str, Any], dag_run: Any = None) -> ModelCandidate:
                conf = dag_run.conf or {}
                version = int(conf.get("version", 1))
                return ModelCandidate(version=version, checks=(evaluation(version, float(conf.get("auc", 0.8))),),
                                      trained_on=(published,))

            gate(clean())
            if dag_id == "mg_dead":

                @task.model_gate(task_id="gate_alone", model=spec["model"], model_registry=registry)
                def gate_alone() -> int:
                    return 2

                gate_alone()
        dags.append(dag)
    with _dag("mg_gate") as dag:

        @task
        def published() -> dict[str, Any]:
            """A guarded task's outcome record, as the training task would receive it."""
            return {"asset": "transaction_features", "partition": "2026-11-03", "batch_id": "features.2026-11-03",
                    "contract_id": "transaction_features", "contract_version": "1.0.0", "run_id": "r-features"}

        @task.model_gate(model=spec["model"], model_registry=spec["tracking_uri"])
        def gate(record: dict[str, Any], dag_run: Any = None) -> dict[str, Any]:
            conf = dag_run.conf or {}
            version = int(conf["version"])
            return ModelCandidate(version=version, checks=(evaluation(version, float(conf["auc"])),),
                                  trained_on=(record,)).to_dict()

        gate(published())
    dags.append(dag)
    with _dag("mg_canary") as dag:
        CanaryGateOperator(task_id="canary", model=spec["model"], spec=spec["canary_spec"],
                           observations="{{ dag_run.conf['units'] }}", model_registry=spec["tracking_uri"])
    dags.append(dag)
    with _dag("mg_canary_wait") as dag:
        CanaryGateOperator(task_id="canary", model=spec["model"], spec=spec["canary_spec"],
                           observations="{{ dag_run.conf['units'] }}", model_registry=spec["tracking_uri"],
                           wait=True, poke_interval=0.5, timeout=2, mode="poke")
    dags.append(dag)
    return dags


def build_from_file(path: Path) -> list[DAG]:
    return build(json.loads(path.read_text()))
