"""Contract checks on assets we do not wrap, and automation that holds downstream while a blocking check fails."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import polars as pl
import pytest

from definitions.data import Defect, defect_rows, generate_transactions
from guardrails.dagster import build_contract_checks, guarded_automation_condition, outcome_from_metadata
from guardrails.outcome import Severity
from tests.dagster.conftest import recent_day, stored

ROWS = 300


def _unwrapped(state: dict):
    @dg.asset
    def transactions() -> pl.DataFrame:
        return generate_transactions(recent_day(), rows=ROWS, defect=state.get("defect"))

    return transactions


def test_contract_check_validates_the_stored_asset_and_blocks_downstream(instance, resources, tmp_path, contract_path):
    """A post-hoc check cannot stop storage, but it fails (ERROR, blocking) and downstream in the run is skipped."""
    state: dict = {"defect": Defect.NULLS}
    transactions = _unwrapped(state)

    @dg.asset(deps=[transactions])
    def daily_totals() -> int:
        state["downstream_ran"] = True
        return 1

    [check] = build_contract_checks([transactions], contract=str(contract_path))
    result = dg.materialize([transactions, daily_totals, check], instance=instance, resources=resources,
                            raise_on_error=False)

    assert not result.success
    assert stored(tmp_path / "warehouse", "transactions").height == ROWS  # documented: storage already happened
    assert "downstream_ran" not in state
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity is dg.AssetCheckSeverity.ERROR
    assert evaluation.target_materialization_data.run_id == result.run_id
    outcome = outcome_from_metadata(evaluation.metadata)
    failing = {r.rule_id: r.failing_rows for r in outcome.failed_rules}
    assert failing["amount.not_null"] == defect_rows(ROWS, Defect.NULLS)
    assert failing["account_id.not_null"] == defect_rows(ROWS, Defect.NULLS)


def test_warning_severity_records_without_blocking(instance, resources, contract_path):
    """With severity 'warning' a failing check is recorded as WARN, is not blocking, and the run succeeds."""
    transactions = _unwrapped({"defect": Defect.UNKNOWN_CATEGORIES})
    [check] = build_contract_checks(["transactions"], contract=str(contract_path), severity="warning")
    result = dg.materialize([transactions, check], instance=instance, resources=resources)

    assert result.success
    [spec] = check.check_specs
    assert not spec.blocking
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity is dg.AssetCheckSeverity.WARN
    assert outcome_from_metadata(evaluation.metadata).severity is Severity.ERROR  # the outcome itself is kept whole


def test_misconfigured_contract_fails_at_build_time(tmp_path):
    """A contract file that is not valid ODCS raises when the checks are built, naming the file."""
    from guardrails.errors import ContractError

    bad = tmp_path / "broken.odcs.yaml"
    bad.write_text("apiVersion: v3.1.0\nkind: DataContract\nid: x\nschema: 7\n")
    with pytest.raises(ContractError) as raised:
        build_contract_checks(["transactions"], contract=str(bad))
    assert str(bad) in str(raised.value)


def test_automation_holds_downstream_after_failed_blocking_check(instance, resources, contract_path):
    """eager() alone requests downstream of a failed blocking check; the guarded condition waits for a pass."""
    state: dict = {}
    transactions = _unwrapped(state)
    checks = build_contract_checks([transactions], contract=str(contract_path))

    @dg.asset(deps=[transactions], automation_condition=guarded_automation_condition())
    def features() -> None: ...

    @dg.asset(deps=[transactions], automation_condition=dg.AutomationCondition.eager())
    def features_eager() -> None: ...

    defs = [transactions, features, features_eager, *checks]
    downstream = [features, features_eager]

    def tick(cursor=None):
        return dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)

    first = tick()
    assert first.get_num_requested(features.key) == 0  # the parent is still missing

    assert dg.materialize([transactions, *checks], instance=instance, resources=resources).success
    after_pass = tick(first.cursor)
    assert after_pass.get_num_requested(features.key) == 1
    assert after_pass.get_num_requested(features_eager.key) == 1
    assert dg.materialize(downstream, instance=instance, resources=resources,
                          selection=[features.key, features_eager.key]).success
    quiet = tick(after_pass.cursor)

    state["defect"] = Defect.OUT_OF_RANGE_AMOUNTS
    failed_run = dg.materialize([transactions, *checks], instance=instance, resources=resources, raise_on_error=False)
    assert not failed_run.success
    after_fail = tick(quiet.cursor)
    assert after_fail.get_num_requested(features_eager.key) == 1  # eager ignores the failed check
    assert after_fail.get_num_requested(features.key) == 0  # ours holds

    state["defect"] = None
    assert dg.materialize([transactions, *checks], instance=instance, resources=resources).success
    recovered = tick(after_fail.cursor)
    assert recovered.get_num_requested(features.key) == 1


def test_contract_check_on_a_partitioned_asset_judges_one_partition(instance, resources, contract_path):
    """On a partitioned asset the check is partitioned too: it loads only the run's partition and judges it alone."""
    day = recent_day()
    days = dg.DailyPartitionsDefinition(start_date=(day - timedelta(days=3)).isoformat())
    bad_day = (day - timedelta(days=1)).isoformat()

    @dg.asset(partitions_def=days)
    def transactions(context):  # unannotated: this module postpones annotations, which Dagster cannot read
        partition_day = date.fromisoformat(context.partition_key)
        defect = Defect.UNKNOWN_CATEGORIES if context.partition_key == bad_day else None
        return generate_transactions(partition_day, rows=ROWS, defect=defect)

    [check] = build_contract_checks([transactions], contract=str(contract_path))
    assert check.partitions_def == days

    good = dg.materialize([transactions, check], instance=instance, resources=resources, partition_key=day.isoformat())
    bad = dg.materialize([transactions, check], instance=instance, resources=resources, partition_key=bad_day,
                         raise_on_error=False)

    [passed] = good.get_asset_check_evaluations()
    [failed] = bad.get_asset_check_evaluations()
    assert passed.passed and outcome_from_metadata(passed.metadata).rows == ROWS
    failing = {r.rule_id: r.failing_rows for r in outcome_from_metadata(failed.metadata).failed_rules}
    assert not failed.passed and failing == {
        "merchant_category.allowed_values": defect_rows(ROWS, Defect.UNKNOWN_CATEGORIES)
    }
