"""The example pipeline on a real Dagster instance, real Parquet files and a real (SQLite) MLflow registry."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import mlflow
import polars as pl
import pytest

from definitions.data import Defect, defect_rows, generate_transactions
from definitions.features import FEATURE_COLUMNS
from definitions.settings import DEFECT_ENV, DemoSettings
from guardrails.dagster import outcome_from_metadata
from guardrails.outcome import CheckStatus
from guardrails.quarantine import QuarantineState, QuarantineStore

GOOD_DAY = "2026-11-02"
ROWS = 3_000
DOWNSTREAM = ("transaction_features", "fraud_model", "scored_transactions")
# Which rule each defect must trip (rule ids as the contract loader names them); None: the check cannot run.
EXPECTED_FAILED_RULE = {
    Defect.NULLS: "amount.not_null",
    Defect.OUT_OF_RANGE_AMOUNTS: "amount.range",
    Defect.UNKNOWN_CATEGORIES: "merchant_category.allowed_values",
    Defect.DUPLICATE_IDS: "transaction_id.unique",
    Defect.SCHEMA_CHANGE: "amount.type",
    Defect.FUTURE_TIMESTAMPS: "event_time.not_in_future",
    Defect.CORRUPT_FILE: None,
}
BAD_DAYS = {defect: f"2026-11-{10 + i:02d}" for i, defect in enumerate(Defect)}


def run_day(
    defs: dg.Definitions, instance: dg.DagsterInstance, day: str, defect: str = ""
) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def("daily_pipeline")
    config = {"ops": {"raw_transactions": {"config": {"defect": defect, "rows": ROWS}}}}
    return job.execute_in_process(run_config=config, instance=instance, partition_key=day, raise_on_error=False)


def started_steps(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}


def stored(settings: DemoSettings, asset: str, day: str) -> Path:
    return settings.warehouse_dir / asset / f"{day}.parquet"


@pytest.fixture(scope="module")
def good_day(demo_defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return run_day(demo_defs, instance, GOOD_DAY)


def test_good_day_materializes_every_asset(good_day: dg.ExecuteInProcessResult, demo_settings: DemoSettings) -> None:
    """A good day runs all five assets, passes the contract check, and stores the published tables."""
    assert good_day.success
    materialized = {e.asset_key.to_user_string() for e in good_day.get_asset_materialization_events()}
    assert {"raw_transactions", "clean_transactions", *DOWNSTREAM} <= materialized
    contract_check = next(e for e in good_day.get_asset_check_evaluations() if e.check_name == "transactions_contract")
    assert contract_check.passed
    expected = generate_transactions(date.fromisoformat(GOOD_DAY), ROWS, accounts=1_500)
    clean = pl.read_parquet(stored(demo_settings, "clean_transactions", GOOD_DAY))
    assert clean.height == ROWS
    assert clean["transaction_id"].to_list() == expected["transaction_id"].to_list()
    features = pl.read_parquet(stored(demo_settings, "transaction_features", GOOD_DAY))
    assert set(FEATURE_COLUMNS) <= set(features.columns)
    scored = pl.read_parquet(stored(demo_settings, "scored_transactions", GOOD_DAY))
    assert scored.height == ROWS and scored["fraud_score"].is_between(0, 1).all()
    assert (demo_settings.serving_dir / f"{GOOD_DAY}.parquet").exists()


def test_good_day_registers_the_champion_model(
    good_day: dg.ExecuteInProcessResult, demo_settings: DemoSettings
) -> None:
    """The trained model is registered in MLflow with a signature; `champion` points at it if it evaluates well."""
    model = next(
        e.materialization.metadata for e in good_day.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "fraud_model"
    )
    version = model["model_uri"].value.rsplit("/", 1)[1]
    client = mlflow.MlflowClient(tracking_uri=demo_settings.tracking_uri, registry_uri=demo_settings.tracking_uri)
    registered = client.get_model_version("fraud_detector", version)
    assert registered.tags["partition"] == GOOD_DAY
    signature = mlflow.models.get_model_info(f"models:/fraud_detector/{version}").signature
    assert [c.name for c in signature.inputs.inputs] == list(FEATURE_COLUMNS)
    evaluation = next(e for e in good_day.get_asset_check_evaluations() if e.check_name == "evaluation_roc_auc")
    if evaluation.passed:
        assert str(client.get_model_version_by_alias("fraud_detector", "champion").version) == version


@pytest.mark.parametrize("defect", list(Defect), ids=str)
def test_bad_day_is_quarantined_and_downstream_does_not_run(
    defect: Defect,
    good_day: dg.ExecuteInProcessResult,
    demo_defs: dg.Definitions,
    instance: dg.DagsterInstance,
    demo_settings: DemoSettings,
) -> None:
    """Each named defect fails the run at the guard, keeps the batch in quarantine, and stores nothing downstream."""
    day = BAD_DAYS[defect]
    result = run_day(demo_defs, instance, day, defect.value)

    assert not result.success
    assert started_steps(result) == {"raw_transactions", "clean_transactions"}
    for asset in ("clean_transactions", *DOWNSTREAM):
        assert not stored(demo_settings, asset, day).exists()
    assert stored(demo_settings, "clean_transactions", GOOD_DAY).exists()  # partitions are isolated

    evaluation = next(e for e in result.get_asset_check_evaluations() if e.check_name == "transactions_contract")
    assert not evaluation.passed
    assert evaluation.severity is dg.AssetCheckSeverity.ERROR
    outcome = outcome_from_metadata(evaluation.metadata)
    expected_rule = EXPECTED_FAILED_RULE[defect]
    if expected_rule is None:
        assert outcome.status is CheckStatus.ERROR and outcome.error
    else:
        failed = {rule.rule_id: rule for rule in outcome.failed_rules}
        assert expected_rule in failed, sorted(failed)
        if defect_rows(ROWS, defect):
            assert failed[expected_rule].failing_rows >= defect_rows(ROWS, defect)

    batch_id = evaluation.metadata["guardrails/batch_id"].value
    manifest = QuarantineStore(demo_settings.quarantine_dir).show(batch_id)
    assert manifest.state is QuarantineState.QUARANTINED
    assert manifest.rows_published == 0
    landed = demo_settings.landing_dir / "transactions" / f"{day}.parquet"
    assert manifest.data_bytes == landed.stat().st_size  # kept byte for byte, as it arrived


def test_env_var_makes_the_next_batch_bad(
    monkeypatch: pytest.MonkeyPatch, demo_defs: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    """With no defect in the run config, GUARDRAILS_DEMO_DEFECT decides the batch, and the guard catches it."""
    monkeypatch.setenv(DEFECT_ENV, Defect.DUPLICATE_IDS.value)
    result = run_day(demo_defs, instance, "2026-11-20")
    assert not result.success
    landed = next(
        e.materialization.metadata for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "raw_transactions"
    )
    assert landed["injected_defect"].value == Defect.DUPLICATE_IDS.value


def test_unknown_defect_name_fails_before_landing(
    monkeypatch: pytest.MonkeyPatch,
    demo_defs: dg.Definitions,
    instance: dg.DagsterInstance,
    demo_settings: DemoSettings,
) -> None:
    """A misspelt defect name stops the run with a message naming the setting and the valid names; nothing lands."""
    monkeypatch.setenv(DEFECT_ENV, "nul")
    result = run_day(demo_defs, instance, "2026-11-21")
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.event_specific_data.error.to_string()  # the cause chain, as the UI shows it
    assert DEFECT_ENV in message and "'nul'" in message and "duplicate_ids" in message
    assert not (demo_settings.landing_dir / "transactions" / "2026-11-21.parquet").exists()
