"""Helpers that build a real history for the incident tests: the example pipeline run through good, bad, bad, release, good days.

Built once per module on a real Dagster instance (temporary SQLite), real Parquet files and the real quarantine
store under tmp_path. Good days run only the landing and the guard (training a model adds nothing here); bad
days run the whole job, so the report can show what the failure kept from materializing downstream. The release
is done the way an on-call engineer does it: the contract learns the new category (`definitions.demo`'s fix),
the store re-validates and publishes each batch, and the passing re-validation is recorded in Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from definitions.demo import end_of
from definitions.settings import REPOSITORY_ROOT, DemoSettings
from guardrails.contract import load_contract
from guardrails.dagster import metadata as md
from guardrails.quarantine import QuarantineStore, ReleaseStatus

ROWS = 2_000
ASSET = "clean_transactions"
CHECK = "transactions_contract"
GOOD_1, BAD_1, BAD_2, GOOD_2 = "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"
DOWNSTREAM = ("transaction_features", "fraud_model", "scored_transactions")


@dataclass(frozen=True)
class History:
    """The instance after the five days, the stores, and what each step returned."""

    instance: dg.DagsterInstance
    settings: DemoSettings
    store: QuarantineStore
    results: dict[str, dg.ExecuteInProcessResult]
    quarantined: tuple[str, ...]
    fixed_contract: Path


def run_day(defs: dg.Definitions, instance: dg.DagsterInstance, day: str, defect: str = "", *,
            whole_job: bool) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def("daily_pipeline")
    config = {"ops": {"raw_transactions": {"config": {"defect": defect, "rows": ROWS}}},
              "loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    selection = None if whole_job else [dg.AssetKey("raw_transactions"), dg.AssetKey(ASSET)]
    return job.execute_in_process(run_config=config, instance=instance, partition_key=day,
                                  asset_selection=selection, raise_on_error=False)


def release_batch(instance: dg.DagsterInstance, store: QuarantineStore, batch_id: str, contract_path: Path,
                  day: str | None = None, *, asset: str = ASSET, check: str = CHECK) -> None:
    """Release one batch against the fixed contract and record the passing re-validation on the asset."""
    released = store.release(batch_id, load_contract(contract_path), as_of=end_of(day) if day else None)
    assert released.status is ReleaseStatus.RELEASED, released.message
    outcome = released.outcome
    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(asset), check_name=check, passed=outcome.passed, partition=day,
            metadata={**md.outcome_metadata(outcome), md.BATCH_ID_KEY: dg.MetadataValue.text(batch_id)},
            description=f"Re-validated on release against contract v{outcome.contract_version}",
        )
    )


def settings_for(home: Path) -> DemoSettings:
    return DemoSettings(home=home, contracts_dir=REPOSITORY_ROOT / "expectations",
                        tracking_uri=f"sqlite:///{home / 'mlflow.db'}")
