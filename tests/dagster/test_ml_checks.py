"""Drift, freshness and parity as Dagster asset checks and a sensor, on a real instance and real Parquet files."""


from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest

from definitions.data import Defect, generate_transactions
from guardrails.checks import DriftSettings, FreshnessSettings, ParitySettings
from guardrails.dagster import build_contract_checks, guarded_asset, outcome_from_metadata, read_check_history
from guardrails.dagster._scope import AuditScope
from guardrails.dagster.checks import outcome_check_result
from guardrails.dagster.ml import (
    DRIFT_COLUMNS_KEY,
    DRIFT_REPORT_KEY,
    PARITY_FEATURES_KEY,
    build_drift_checks,
    build_freshness_checks,
    build_freshness_sensor,
    build_parity_check,
    build_reference_profile_asset,
    freshness_policy_for,
    last_passing_materialization,
    materialization_verdicts,
)
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity, Verdict
from guardrails.profile import ProfileStore
from tests.dagster.conftest import recent_day

DAYS = ("2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04")
daily = dg.DailyPartitionsDefinition(start_date="2026-09-01")
DRIFT = DriftSettings(columns=("amount", "channel"), min_reference_rows=500)


def _features(day: str, *, shifted: bool) -> pl.DataFrame:
    """2,000 rows of a stable distribution per day; `shifted` triples amounts and flips the channel mix."""
    rng = np.random.default_rng(int(day.replace("-", "")))
    n = 2_000
    amount = rng.lognormal(3, 0.5, n) * (3 if shifted else 1)
    channel = rng.choice(["online", "pos", "atm"], n, p=[0.7, 0.2, 0.1] if shifted else [0.3, 0.6, 0.1])
    return pl.DataFrame({"id": np.arange(n), "amount": amount, "channel": channel})


def _drift_defs(profiles: Path, state: dict) -> list:
    @dg.asset(partitions_def=daily)
    def features(context: dg.AssetExecutionContext) -> pl.DataFrame:
        return _features(context.partition_key, shifted=context.partition_key in state.get("shifted", ()))

    checks = build_drift_checks([features], profiles=profiles, settings=DRIFT, blocking=True)
    reference = build_reference_profile_asset(features, profiles=profiles, settings=DRIFT)
    return [features, reference, *checks]


def _evaluation(instance: dg.DagsterInstance, asset: str, check: str) -> dg.AssetCheckEvaluation:
    """The latest evaluation of a check as stored in the instance's event log."""
    [record] = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey(asset), check), limit=1)
    return record.evaluation


def test_drift_check_warns_without_reference_passes_on_same_distribution_and_fails_on_shift(instance, resources,
                                                                                              tmp_path):
    """First day: WARN (no reference); same distribution: passes; shifted day: fails at ERROR with full metadata."""
    state: dict = {"shifted": {DAYS[2]}}
    defs = _drift_defs(tmp_path / "profiles", state)

    first = dg.materialize(defs, instance=instance, resources=resources, partition_key=DAYS[0])
    [evaluation] = first.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity is dg.AssetCheckSeverity.WARN
    assert "insufficient reference" in evaluation.description
    assert outcome_from_metadata(evaluation.metadata).verdict is Verdict.INSUFFICIENT

    same = dg.materialize(defs, instance=instance, resources=resources, partition_key=DAYS[1])
    assert same.success
    stored = _evaluation(instance, "features", "drift")
    assert stored.passed
    outcome = outcome_from_metadata(stored.metadata)
    assert outcome.status is CheckStatus.PASSED and outcome.metrics["reference_rows"] == 2_000
    assert stored.metadata["guardrails/drift/psi.amount"].value < 0.1  # raw scores recorded even when passing

    shifted = dg.materialize(defs, instance=instance, resources=resources, partition_key=DAYS[2],
                             raise_on_error=False)
    stored = _evaluation(instance, "features", "drift")
    assert not stored.passed and stored.severity is dg.AssetCheckSeverity.ERROR
    assert stored.metadata["guardrails/drift/psi.amount"].value > 0.25
    assert stored.metadata["guardrails/reference_batches"].value == 2
    table = {r.data["column"]: r.data for r in stored.metadata[DRIFT_COLUMNS_KEY].records}
    assert table["amount"]["verdict"] == "error" and table["amount"]["ks"] > 0.3
    assert table["channel"]["verdict"] == "error" and table["channel"]["linf"] == pytest.approx(0.4, abs=0.05)
    assert "❌ error" in stored.metadata[DRIFT_REPORT_KEY].value and "█" in stored.metadata[DRIFT_REPORT_KEY].value
    # The blocking drift failure kept the shifted day out of the reference.
    assert "features__reference_profile" not in {
        e.asset_key.to_user_string() for e in shifted.get_asset_materialization_events()}
    assert ProfileStore(tmp_path / "profiles").batches("features") == DAYS[:2]

    # A re-run of an accepted day is compared with the *other* accepted days and replaces its own profile.
    again = dg.materialize(defs, instance=instance, resources=resources, partition_key=DAYS[1])
    [evaluation] = again.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.metadata["guardrails/reference_batches"].value == 1
    merged = ProfileStore(tmp_path / "profiles").reference("features")
    assert merged.batches == DAYS[:2] and merged.rows == 4_000


def test_corrupt_reference_fails_closed(instance, resources, tmp_path):
    """An unreadable reference profile gives a failed ERROR evaluation naming the file, never a pass."""
    defs = _drift_defs(tmp_path / "profiles", {})
    ProfileStore(tmp_path / "profiles").accept("features", _features(DAYS[0], shifted=False), batch_name=DAYS[0],
                                              **DRIFT.profile_options())
    (tmp_path / "profiles" / "features" / f"{DAYS[0]}.profile.json").write_text("{not json")

    result = dg.materialize(defs[::2], instance=instance, resources=resources, partition_key=DAYS[1],
                            raise_on_error=False)
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity is dg.AssetCheckSeverity.ERROR
    outcome = outcome_from_metadata(evaluation.metadata)
    assert outcome.status is CheckStatus.ERROR and f"{DAYS[0]}.profile.json" in outcome.error


def _guarded_transactions(contract_path: Path, state: dict):
    @guarded_asset(contract=str(contract_path), partitions_def=daily)
    def transactions(context: dg.AssetExecutionContext) -> pl.DataFrame:
        return generate_transactions(date.fromisoformat(context.partition_key), rows=400,
                                     defect=state.get(context.partition_key))

    return transactions


def test_warning_failures_do_not_make_a_materialization_fail(instance, resources, contract_path):
    """Only ERROR-severity failures count against a materialization; a WARN failure still passes."""

    @dg.asset
    def transactions() -> pl.DataFrame:
        return generate_transactions(recent_day(), rows=300, defect=Defect.UNKNOWN_CATEGORIES)

    checks = build_contract_checks([transactions], contract=str(contract_path), severity="warning")
    result = dg.materialize([transactions, *checks], instance=instance, resources=resources)

    assert not result.get_asset_check_evaluations()[0].passed
    last = last_passing_materialization(instance, transactions.key)
    assert last is not None and last.run_id == result.run_id


FRESHNESS = FreshnessSettings(frequency=timedelta(hours=1))


def _sensor_tick(instance: dg.DagsterInstance, asset, as_of: datetime, **kwargs) -> dg.AssetCheckEvaluation:
    """Evaluate the freshness sensor once at `as_of` and return the evaluation it recorded in the instance."""
    sensor = build_freshness_sensor([asset], settings=FRESHNESS, clock=lambda: as_of, **kwargs)
    sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    return _evaluation(instance, asset.key.to_user_string(), "freshness")


def _materialized_at(instance: dg.DagsterInstance, key: dg.AssetKey) -> datetime:
    record = instance.fetch_materializations(key, limit=1).records[0]
    return datetime.fromtimestamp(record.timestamp, tz=UTC)


def test_quarantined_batch_stays_out_of_the_reference_and_does_not_make_the_asset_fresh(instance, resources, tmp_path,
                                                                                       contract_path):
    """A batch the guard quarantines is never stored: the reference keeps the good day, and freshness counts from it."""
    good, bad = (recent_day() - timedelta(days=1)).isoformat(), recent_day().isoformat()
    transactions = _guarded_transactions(contract_path, {bad: Defect.NULLS})
    reference = build_reference_profile_asset(transactions, profiles=tmp_path / "profiles",
                                              settings=DriftSettings(columns=("amount", "channel")))
    assert dg.materialize([transactions, reference], instance=instance, resources=resources, partition_key=good).success
    passed_at = _materialized_at(instance, transactions.key)
    quarantined = dg.materialize([transactions, reference], instance=instance, resources=resources, partition_key=bad,
                                 raise_on_error=False)

    assert not quarantined.success
    assert ProfileStore(tmp_path / "profiles").batches("transactions") == (good,)
    # Had the quarantined attempt (seconds after the good run) counted, the asset would be fresh at this time.
    evaluation = _sensor_tick(instance, transactions, passed_at + FRESHNESS.frequency + timedelta(seconds=1))
    assert not evaluation.passed
    assert evaluation.metadata["guardrails/last_passed_partition"].value == good


def test_stored_batch_that_failed_its_contract_is_refused_and_does_not_make_the_asset_fresh(instance, resources,
                                                                                           tmp_path, contract_path):
    """A stored batch whose contract check failed at ERROR is kept out of the reference (an observation says why),
    and freshness still counts from the last passing materialization although Dagster's latest is the bad one."""
    state = {"defect": None}

    @dg.asset
    def transactions() -> pl.DataFrame:
        return generate_transactions(recent_day(), rows=300, defect=state["defect"])

    checks = build_contract_checks([transactions], contract=str(contract_path), blocking=False)
    reference = build_reference_profile_asset(transactions, profiles=tmp_path / "profiles",
                                              settings=DriftSettings(columns=("channel",)))
    good = dg.materialize([transactions, *checks], instance=instance, resources=resources)
    passed_at = _materialized_at(instance, transactions.key)
    state["defect"] = Defect.NULLS
    dg.materialize([transactions, *checks], instance=instance, resources=resources, raise_on_error=False)
    assert _materialized_at(instance, transactions.key) > passed_at  # what Dagster's FreshnessPolicy looks at

    result = dg.materialize([reference, transactions], selection=[reference], instance=instance, resources=resources)
    assert result.success and not result.get_asset_materialization_events()
    [observation] = [e.asset_observation_data.asset_observation for e in result.all_events
                     if e.event_type_value == "ASSET_OBSERVATION"]
    assert "transactions_contract" in observation.metadata["guardrails/reason"].value
    assert ProfileStore(tmp_path / "profiles").batches("transactions") == ()
    latest, previous = materialization_verdicts(instance, transactions.key, limit=2)
    assert latest.failed_checks == ("transactions_contract",) and previous.passed

    evaluation = _sensor_tick(instance, transactions, passed_at + FRESHNESS.frequency + timedelta(seconds=1))
    assert not evaluation.passed
    assert evaluation.metadata["guardrails/last_passed_run_id"].value == good.run_id


@pytest.mark.parametrize("storage", ["sqlite", "postgres"])
def test_freshness_sensor_records_stale_and_fresh_without_a_run(storage, request, resources, contract_path):
    """Without any run, the sensor records a failed check for a stale asset and a passed one for a fresh asset."""
    instance = request.getfixturevalue("instance" if storage == "sqlite" else "pg_instance")
    day = recent_day().isoformat()
    transactions = _guarded_transactions(contract_path, {})
    dg.materialize([transactions], instance=instance, resources=resources, partition_key=day)
    passed_at = _materialized_at(instance, transactions.key)
    runs_before = len(instance.get_run_records())

    stale = _sensor_tick(instance, transactions, passed_at + timedelta(hours=3))
    assert not stale.passed and stale.severity is dg.AssetCheckSeverity.ERROR
    outcome = outcome_from_metadata(stale.metadata)
    [rule] = outcome.failed_rules
    assert rule.rule_id == "freshness.since_last_pass" and rule.observed == pytest.approx(3 * 3600, abs=1)
    assert stale.metadata["guardrails/last_passed_at"].value == pytest.approx(passed_at.timestamp())

    fresh = _sensor_tick(instance, transactions, passed_at + timedelta(minutes=30))
    assert fresh.passed
    assert len(instance.get_run_records()) == runs_before  # recorded runless: no run was launched
    history = read_check_history(instance, "transactions", "freshness")
    assert [e.passed for e in history] == [True, False] and all(not e.run_id for e in history)


def test_freshness_sensor_requests_one_remediation_run_per_stale_episode(instance, resources, contract_path):
    """A stale partitioned asset gets a run request for the latest complete partition, keyed to the stale episode."""
    transactions = _guarded_transactions(contract_path, {})
    job = dg.define_asset_job("land_transactions", selection=[transactions])
    as_of = datetime.combine(recent_day(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=5)
    sensor = build_freshness_sensor([transactions], settings=FRESHNESS, clock=lambda: as_of, remediation_job=job)
    defs = dg.Definitions(assets=[transactions], jobs=[job], sensors=[sensor], resources=resources)

    first, second = (sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs)).run_requests
                     for _ in range(2))
    assert [r.partition_key for r in first] == [(recent_day() - timedelta(days=1)).isoformat()]
    assert first[0].run_key == second[0].run_key and first[0].tags["guardrails/remediation"] == "freshness"
    assert not _evaluation(instance, "transactions", "freshness").passed  # never materialized: stale


def test_freshness_check_in_a_run_judges_the_partition_event_times(instance, resources, contract_path):
    """In a run, each partition's newest event time and late rows are judged as of that partition's end."""
    on_time, late = "2026-10-01", "2026-10-02"

    @dg.asset(partitions_def=daily)
    def transactions(context: dg.AssetExecutionContext) -> pl.DataFrame:
        frame = generate_transactions(date.fromisoformat(context.partition_key), rows=300)
        if context.partition_key == late:  # yesterday's events delivered as today's batch
            frame = frame.with_columns(pl.col("event_time") - timedelta(days=2))
        return frame

    checks = build_freshness_checks([transactions], contract=str(contract_path))
    results = {day: dg.materialize([transactions, *checks], instance=instance, resources=resources, partition_key=day)
               for day in (on_time, late)}

    [ok] = results[on_time].get_asset_check_evaluations()
    [stale] = results[late].get_asset_check_evaluations()
    assert ok.passed and ok.metadata["guardrails/freshness/data_age_seconds"].value < 26 * 3600
    assert not stale.passed and stale.metadata["guardrails/partition"].value == late
    failed = {r.rule_id for r in outcome_from_metadata(stale.metadata).failed_rules}
    assert failed == {"freshness.data_age", "freshness.late_rows"}


def test_freshness_configuration_errors_are_raised_at_build_time(tmp_path):
    """A sensor without a frequency SLA, or a check without any SLA, is refused when the definitions are built."""
    with pytest.raises(ValueError, match="no frequency"):
        build_freshness_sensor(["transactions"],
                               settings=FreshnessSettings(column="event_time", latency=timedelta(hours=1)))
    with pytest.raises(ValueError, match="slaProperties"):
        build_freshness_checks(["transactions"])
    bad = tmp_path / "bad.odcs.yaml"
    bad.write_text(Path(__file__).resolve().parents[2].joinpath("expectations", "transactions.odcs.yaml").read_text()
                   .replace("unit: h\n", "unit: fortnights\n"))
    with pytest.raises(ContractError, match="slaProperties"):
        build_freshness_checks(["transactions"], contract=str(bad))


def test_freshness_policy_mirrors_the_sla():
    """The `FreshnessPolicy` set next to the checks fails after frequency + grace and warns after the frequency."""
    policy = freshness_policy_for(FreshnessSettings(frequency=timedelta(days=1), grace=timedelta(hours=2)))
    assert policy.fail_window.to_timedelta() == timedelta(hours=26)
    assert policy.warn_window.to_timedelta() == timedelta(days=1)


PARITY = ParitySettings(keys=("id",), features=("amount", "channel"))


def _parity_defs(state: dict) -> list:
    @dg.asset
    def offline_features() -> pl.DataFrame:
        return _features("2026-10-01", shifted=False)

    @dg.asset(deps=[offline_features])
    def served_features() -> pl.DataFrame:
        served = _features("2026-10-01", shifted=False)
        if state.get("skew"):  # the online path rounds amounts to whole units and maps 'atm' to 'pos'
            served = served.with_columns(pl.col("amount").round(0),
                                         pl.col("channel").replace({"atm": "pos"}))
        return served

    check = build_parity_check(served_features, offline=offline_features, settings=PARITY)
    return [offline_features, served_features, check]


def test_parity_check_passes_when_serving_matches_and_catches_injected_skew(instance, resources):
    """Identical served features pass; an injected serving skew fails at ERROR with per-feature metadata."""
    state: dict = {}
    same = dg.materialize(_parity_defs(state), instance=instance, resources=resources)
    assert same.get_asset_check_evaluations()[0].passed

    state["skew"] = True
    result = dg.materialize(_parity_defs(state), instance=instance, resources=resources)
    stored = _evaluation(instance, "served_features", "feature_parity")
    assert not stored.passed and stored.severity is dg.AssetCheckSeverity.ERROR
    table = {r.data["feature"]: r.data for r in stored.metadata[PARITY_FEATURES_KEY].records}
    served = _features("2026-10-01", shifted=False)
    atm = int((served["channel"] == "atm").sum())
    assert table["channel"]["mismatches"] == atm and table["channel"]["verdict"] == "error"
    assert table["amount"]["match_rate"] < 0.1
    assert stored.metadata["guardrails/parity/match_rate.channel"].value == pytest.approx(1 - atm / 2_000)
    sample = outcome_from_metadata(stored.metadata).sample
    assert sample and {"amount.offline", "amount.online"} <= set(sample[0])
    assert result.success  # a non-blocking check records; it does not fail the run


def test_parity_check_reads_served_features_through_a_loader(instance, resources, tmp_path):
    """With an `online` loader the served side comes from a file (a serving log), not from the checked asset."""
    log = tmp_path / "served.parquet"
    _features("2026-10-01", shifted=False).head(1_900).write_parquet(log)

    @dg.asset
    def offline_features() -> pl.DataFrame:
        return _features("2026-10-01", shifted=False)

    @dg.asset(deps=[offline_features])
    def scores() -> pl.DataFrame:
        return pl.DataFrame({"id": [1]})

    check = build_parity_check(scores, offline=offline_features, settings=PARITY,
                               online=lambda context: pl.read_parquet(log))
    result = dg.materialize([offline_features, scores, check], instance=instance, resources=resources)
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.metadata["guardrails/parity/missing_online_share"].value == pytest.approx(0.05)
    assert {r.rule_id for r in outcome_from_metadata(evaluation.metadata).failed_rules} == {"parity.missing_online"}


def test_ml_checks_read_their_settings_from_the_features_contract():
    """The features contract configures drift columns and parity keys; `guardrails contract lint` accepts it."""
    contract = Path(__file__).resolve().parents[2] / "expectations" / "transaction_features.odcs.yaml"
    [drift] = build_drift_checks(["features"], profiles="unused", contract=str(contract))
    parity = build_parity_check("served", offline="features", contract=str(contract))
    assert drift.check_key.name == "drift" and parity.check_key.name == "feature_parity"
    from guardrails.contract import lint_contract

    assert not lint_contract(contract).errors


def test_ml_exports_are_curated_and_documented_examples_run():
    """`guardrails.dagster.ml` exports exactly its public API, and the docstring examples of its modules pass."""
    import doctest

    import guardrails.dagster.ml as ml
    from guardrails.dagster.ml import _drift, _freshness, _parity

    assert all(hasattr(ml, name) for name in ml.__all__)
    assert {"build_drift_checks", "build_reference_profile_asset", "build_freshness_checks", "build_freshness_sensor",
            "build_parity_check", "freshness_policy_for", "ReferenceProfilesResource"} <= set(ml.__all__)
    for module in (_drift, _freshness, _parity):
        assert doctest.testmod(module).failed == 0, module.__name__


@pytest.mark.parametrize("verdict", [Verdict.INCONCLUSIVE, Verdict.INSUFFICIENT])
@pytest.mark.parametrize("forced", [None, Severity.ERROR])
def test_no_verdict_yet_is_a_failed_warning_never_passed_nor_blocking(verdict, forced):
    """An inconclusive or insufficient outcome becomes a failed WARN evaluation, even under a forced ERROR."""
    now = datetime(2026, 10, 1, tzinfo=UTC)
    outcome = CheckOutcome(check="canary", kind=CheckKind.MODEL, status=CheckStatus.FAILED, severity=Severity.WARNING,
                           started_at=now, finished_at=now, message="not enough data yet", verdict=verdict)
    spec = dg.AssetCheckSpec("canary", asset="model")
    result = outcome_check_result(outcome, spec, AuditScope(dg.AssetKey("model"), "run-1", None, now), forced=forced)
    assert not result.passed and result.severity is dg.AssetCheckSeverity.WARN
    assert outcome_from_metadata(result.metadata).verdict is verdict
