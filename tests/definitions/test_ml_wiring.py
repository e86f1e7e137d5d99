"""The example's ML guardrails on a real instance: freshness, drift, reference profile and training/serving parity."""

from datetime import timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from definitions import assets, ml
from definitions.resources import ServingLog
from definitions.settings import DemoSettings
from guardrails.dagster import outcome_from_metadata
from guardrails.dagster.ml import PARITY_FEATURES_KEY
from guardrails.profile import ProfileStore

GOOD_DAY, NEXT_DAY = "2026-11-05", "2026-11-06"
ROWS = 3_000


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


@pytest.fixture(scope="module")
def good_day(demo_defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    job = demo_defs.resolve_job_def("daily_pipeline")
    config = {"ops": {"raw_transactions": {"config": {"rows": ROWS}}}}
    return job.execute_in_process(run_config=config, instance=instance, partition_key=GOOD_DAY)


@pytest.mark.slow
def test_good_day_runs_every_ml_check_and_accepts_the_day_into_the_reference(good_day, demo_settings: DemoSettings):
    """Freshness and parity pass, drift warns (no reference yet), and the day's features become the reference."""
    checks = evaluations(good_day)
    assert checks["freshness"].passed
    assert checks["feature_parity"].passed
    assert outcome_from_metadata(checks["feature_parity"].metadata).metrics["keys_matched"] == ROWS
    drift = checks["drift"]
    assert not drift.passed and drift.severity is dg.AssetCheckSeverity.WARN
    assert ProfileStore(demo_settings.home / "profiles").batches("transaction_features") == (GOOD_DAY,)


@pytest.mark.slow
def test_next_day_is_judged_against_the_accepted_reference(good_day, demo_defs, instance, demo_settings):
    """The next day's features pass drift against the accepted day, and are accepted in turn."""
    job = demo_defs.resolve_job_def("daily_pipeline")
    selection = [dg.AssetKey(k) for k in ("raw_transactions", "clean_transactions", "transaction_features",
                                          "transaction_features__reference_profile")]
    result = job.execute_in_process(run_config={"ops": {"raw_transactions": {"config": {"rows": ROWS}}}},
                                    instance=instance, partition_key=NEXT_DAY, asset_selection=selection)
    drift = evaluations(result)["drift"]
    assert drift.passed and drift.metadata["guardrails/reference_batches"].value == 1
    assert drift.metadata["guardrails/drift/psi.amount"].value < 0.1
    assert ProfileStore(demo_settings.home / "profiles").batches("transaction_features") == (GOOD_DAY, NEXT_DAY)


class RoundingServingLog(ServingLog):
    """A serving path with a bug: every tenth transaction's amount is served rounded to whole units."""

    def write(self, partition: str, served: pl.DataFrame) -> Path:
        every_tenth = pl.int_range(pl.len()) % 10 == 0
        return super().write(partition, served.with_columns(
            pl.when(every_tenth).then(pl.col("amount").round(0)).otherwise(pl.col("amount")).alias("amount")))


@pytest.mark.slow
def test_parity_check_catches_serving_skew_in_the_serving_log(good_day, demo_defs, instance, demo_settings):
    """Served features that differ from the offline table (a rounding bug in 10% of rows) fail the parity check."""
    pipeline = [assets.raw_transactions, assets.clean_transactions, assets.transaction_features, assets.fraud_model,
                assets.scored_transactions]
    resources = {**demo_defs.resources, "serving_log": RoundingServingLog(directory=str(demo_settings.serving_dir))}
    result = dg.materialize([*pipeline, ml.parity_check], instance=instance, resources=resources,
                            partition_key=GOOD_DAY,
                            selection=dg.AssetSelection.assets(assets.scored_transactions)
                            | dg.AssetSelection.checks(ml.parity_check))

    [parity] = result.get_asset_check_evaluations()
    assert not parity.passed and parity.severity is dg.AssetCheckSeverity.ERROR
    offline = pl.read_parquet(demo_settings.warehouse_dir / "transaction_features" / f"{GOOD_DAY}.parquet")
    served = pl.read_parquet(demo_settings.serving_dir / f"{GOOD_DAY}.parquet")
    changed = int((served.sort("transaction_id")["amount"] != offline.sort("transaction_id")["amount"]).sum())
    table = {r.data["feature"]: r.data for r in parity.metadata[PARITY_FEATURES_KEY].records}
    assert 0 < changed <= ROWS // 10 and table["amount"]["mismatches"] == changed
    assert table["amount"]["verdict"] == "error"
    assert table["log_amount"]["mismatches"] == 0  # the bug touched one served feature only


def test_freshness_sensor_of_the_example_records_without_a_run(good_day, demo_defs, instance):
    """The example's sensor judges clean_transactions fresh right after a passing day, and launches nothing."""
    sensor = demo_defs.resolve_sensor_def(ml.freshness_sensor.name)
    result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=demo_defs))
    assert not result.run_requests
    [record] = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey("clean_transactions"), ml.FRESHNESS_CHECK), limit=1)
    assert record.evaluation.passed and record.run_id == ""
    since = record.evaluation.metadata["guardrails/freshness/since_last_pass_seconds"].value
    assert 0 <= since < timedelta(hours=1).total_seconds()
