"""The example code location: `defs`, loaded by ``workspace.yaml`` (``dagster dev -w workspace.yaml``).

Resources are configured from `DemoSettings`, i.e. from environment variables, once, when the code location
loads; `build_definitions` lets tests build the same code location on a temporary home.

The incident sensor (running by default, every minute under ``make ui``) attaches an incident report to
``clean_transactions`` when its checks fail, as an observation carrying the report as Markdown: the ML team
reads it on the asset, next to the failed check.
"""

from __future__ import annotations

import dagster as dg

from definitions import assets, canary, ml, performance
from definitions.resources import LandingZone, ModelRegistry, ParquetIOManager, ServingLog
from definitions.settings import DemoSettings
from guardrails.dagster import ContractsResource, QuarantineResource
from guardrails.dagster.incidents import build_incident_sensor
from guardrails.dagster.models import MODEL_REGISTRY_RESOURCE_KEY
from guardrails.dagster.ml import PROFILES_RESOURCE_KEY, ReferenceProfilesResource


def build_definitions(settings: DemoSettings | None = None) -> dg.Definitions:
    """The pipeline's assets, checks, job and schedule, with resources rooted at `settings.home`."""
    settings = settings or DemoSettings.from_env()
    return dg.Definitions(
        assets=[
            assets.raw_transactions,
            assets.clean_transactions,
            assets.transaction_features,
            assets.fraud_model,
            assets.scored_transactions,
            *ml.ML_ASSETS,
            *performance.PERFORMANCE_ASSETS,
            *canary.CANARY_ASSETS,
        ],
        asset_checks=[*ml.ML_CHECKS, *performance.PERFORMANCE_CHECKS, *canary.CANARY_CHECKS],
        sensors=[*ml.ML_SENSORS, incident_sensor(settings), *canary.CANARY_SENSORS],
        jobs=[assets.daily_pipeline, *performance.PERFORMANCE_JOBS, *canary.CANARY_JOBS],
        schedules=[dg.build_schedule_from_partitioned_job(assets.daily_pipeline, hour_of_day=2),
                   *performance.PERFORMANCE_SCHEDULES],
        resources={
            "quarantine": QuarantineResource(location=str(settings.quarantine_dir)),
            "contracts": ContractsResource(directory=str(settings.contracts_dir)),
            "io_manager": ParquetIOManager(base_dir=str(settings.warehouse_dir)),
            "landing": LandingZone(directory=str(settings.landing_dir)),
            "serving_log": ServingLog(directory=str(settings.serving_dir)),
            performance.PERFORMANCE_RESOURCE_KEY: performance.PerformanceData(warehouse_dir=str(settings.warehouse_dir)),
            PROFILES_RESOURCE_KEY: ReferenceProfilesResource(directory=str(settings.home / "profiles")),
            MODEL_REGISTRY_RESOURCE_KEY: ModelRegistry(
                tracking_uri=settings.tracking_uri, artifact_location=str(settings.artifacts_dir)
            ),
        },
    )


INCIDENT_SENSOR = "guardrails_incidents"


def incident_sensor(settings: DemoSettings) -> dg.SensorDefinition:
    """Incident reports for the guarded asset; its state (reports attached, messages sent) lives in the home."""
    return build_incident_sensor(
        [assets.clean_transactions.key],
        name=INCIDENT_SENSOR,
        state_dir=settings.home / "incidents",
        quarantine_location=str(settings.quarantine_dir),
    )


defs = build_definitions()
