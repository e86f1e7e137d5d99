"""The example fraud pipeline as an Airflow 3 DAG, guarded by the same contracts and model guard as the Dagster one.

    clean_transactions (@task.guarded, transactions.odcs.yaml) ──▶ transaction_features (@task.guarded, features)
      ──▶ train_fraud_model (@task: fit, register in MLflow) ──▶ promote_fraud_model (@task.model_gate)

`clean_transactions` plays the upstream delivery and returns the day's batch (`definitions.data`); the guard audits
it before anything is written and publishes it to ``<home>/airflow/warehouse/transactions/date=<day>/data.parquet``,
or quarantines it under ``<home>/quarantine`` and fails the task, so `transaction_features` is ``upstream_failed``
and the DAG run fails. `transaction_features` reads the published file, builds the model features and is guarded in
turn by ``transaction_features.odcs.yaml``.

The schedule is a daily data interval (`CronDataIntervalTimetable`): the run for logical date D covers the day
before D, which is the partition (``2026-11-03``) and the as-of time of its checks is the interval's end. A run
triggered with ``{"defect": "<name>"}`` as its conf lands a bad batch (`definitions.data.Defect`).

Both guarded tasks feed the model (``model=MODEL``): a quarantined batch holds the promotion of ``fraud_detector``
before its task fails (the alias stays where it is), and a later pass of that day releases the hold. The training
task fits the same scikit-learn model as the Dagster example (`definitions.model`), registers it and hands the gate
the candidate: its evaluation and the published feature batch it was trained on (its lineage). The gate promotes
it to ``champion`` only if its evaluation passed and promotion is not held (`guardrails.airflow.gate`).

Locations come from `definitions.settings.DemoSettings` (``$GUARDRAILS_HOME``, ``$GUARDRAILS_CONTRACTS``);
`make airflow-demo` (`definitions.airflow_demo`) runs it headless on a temporary ``AIRFLOW_HOME``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable

from definitions.data import Defect, generate_transactions
from definitions.features import build_features
from definitions.settings import DemoSettings
from guardrails.airflow import ModelCandidate, RegistrySettings

DAG_ID = "fraud_transactions"
MODEL = "fraud_detector"
EXPERIMENT = "fraud_detection_airflow"
ROWS = 2_000
ACCOUNTS = 1_500


def build_dag(settings: DemoSettings, dag_id: str = DAG_ID) -> DAG:
    """The example DAG on `settings`' locations (the contracts are loaded now, at parse time)."""
    warehouse = settings.home / "airflow" / "warehouse"
    quarantine = str(settings.quarantine_dir)
    registry = RegistrySettings(tracking_uri=settings.tracking_uri)
    with DAG(
        dag_id,
        schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
        start_date=datetime(2026, 11, 1, tzinfo=UTC),
        catchup=False,
        tags=["guardrails", "example"],
        doc_md=__doc__,
    ) as dag:

        @task.guarded(
            contract=settings.contracts_dir / "transactions.odcs.yaml",
            target=str(warehouse / "transactions" / "date={partition}"),
            quarantine=quarantine,
            model=MODEL,
            model_registry=registry,
        )
        def clean_transactions(data_interval_start: datetime | None = None, dag_run: Any = None) -> pl.DataFrame:
            """The day's card transactions as delivered (a conf ``defect`` makes them bad in one named way)."""
            defect = (dag_run.conf or {}).get("defect") if dag_run is not None else None
            return generate_transactions(
                data_interval_start.date(), rows=ROWS, accounts=ACCOUNTS, defect=Defect(defect) if defect else None
            )

        @task.guarded(
            contract=settings.contracts_dir / "transaction_features.odcs.yaml",
            target=str(warehouse / "transaction_features" / "date={partition}"),
            quarantine=quarantine,
            model=MODEL,
            model_registry=registry,
        )
        def transaction_features(published: dict[str, Any]) -> pl.DataFrame:
            """Model features from the published (audited) transactions; never from a quarantined batch."""
            return build_features(pl.read_parquet(published["target"]))

        @task(show_return_value_in_logs=False)
        def train_fraud_model(features: dict[str, Any]) -> dict[str, Any]:
            """Fit the fraud model on the published features, register it in MLflow; the candidate for the gate."""
            return train_and_register(settings, features)

        @task.model_gate(model=MODEL, model_registry=registry)
        def promote_fraud_model(candidate: dict[str, Any]) -> dict[str, Any]:
            """Promote the candidate to ``champion`` if its evaluation passed and nothing holds promotion."""
            return candidate

        promote_fraud_model(train_fraud_model(transaction_features(clean_transactions())))
    return dag


def train_and_register(settings: DemoSettings, features: dict[str, Any]) -> dict[str, Any]:
    """Train on the published feature batch `features` (its outcome record), log and register the model, and
    return the `ModelCandidate` (evaluation and lineage) as XCom can carry it."""
    import mlflow
    from mlflow.models import infer_signature

    from definitions.model import evaluation_outcome, feature_matrix, train_fraud_model

    started = datetime.now(UTC)
    frame = pl.read_parquet(features["target"])
    trained = train_fraud_model(frame)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    experiment_id = experiment.experiment_id if experiment is not None else mlflow.create_experiment(
        EXPERIMENT, artifact_location=(settings.home / "mlartifacts").as_uri())
    inputs = feature_matrix(frame).head(200).to_pandas()
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"fraud_model-{features['partition']}"):
        mlflow.log_metrics(trained.metrics)
        logged = mlflow.sklearn.log_model(
            trained.pipeline, name="model", registered_model_name=MODEL,
            signature=infer_signature(inputs, trained.pipeline.predict_proba(inputs)[:, 1]),
            pip_requirements=["scikit-learn", "pandas"],  # skip MLflow's slow requirement inference
        )
    version = int(logged.registered_model_version)
    return ModelCandidate(version=version, checks=(evaluation_outcome(trained, version, started),),
                          trained_on=(features,)).to_dict()


dag = build_dag(DemoSettings.from_env())
