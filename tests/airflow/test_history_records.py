"""What the Airflow reader rebuilds from an outcome record alone (a published batch has no manifest): every verdict the
record carries comes back as the guard produced it, and a run's partition follows the task's own rule."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

pytest.importorskip("airflow.sdk")

from definitions.data import Defect, generate_transactions
from definitions.settings import REPOSITORY_ROOT
from guardrails.airflow._publish import outcome_record
from guardrails.airflow._scope import TaskScope
from guardrails.airflow.records import describe, outcome_from_record, partition_of_run
from guardrails.contract import load_contract
from guardrails.outcome import CheckOutcome
from guardrails.quarantine import QuarantineStore, guard_batch

CONTRACT = REPOSITORY_ROOT / "expectations" / "transactions.odcs.yaml"
AS_OF = datetime(2026, 11, 5, tzinfo=UTC)


def _verdicts(outcome: CheckOutcome) -> tuple[object, ...]:
    return (outcome.status, outcome.severity, outcome.passed, outcome.rows, outcome.contract_id,
            outcome.contract_version, outcome.as_of, outcome.error,
            sorted((r.rule_id, r.status, r.severity, r.failing_rows, r.observed, r.ran) for r in outcome.rules))


@pytest.mark.parametrize(("policy", "defect"), [("batch", None), ("batch", Defect.FUTURE_TIMESTAMPS),
                                                ("rows", Defect.OUT_OF_RANGE_AMOUNTS), ("batch", Defect.SCHEMA_CHANGE)])
def test_record_gives_back_the_guards_verdicts(policy: str, defect: Defect | None, tmp_path: Path) -> None:
    """Status, severity, rows, contract, as-of, error and each rule's status, severity, count, observed value and
    whether it ran survive the trip through the outcome record, under both quarantine policies."""
    from dataclasses import replace

    from guardrails.contract.model import QuarantinePolicy

    contract = replace(load_contract(CONTRACT), policy=QuarantinePolicy(policy))
    scope = TaskScope("fraud", "clean_transactions", "scheduled__2026-11-05", "2026-11-04", AS_OF)
    guarded = guard_batch(generate_transactions(date(2026, 11, 4), rows=400, defect=defect), contract,
                          QuarantineStore(tmp_path / "q"), batch_id=scope.batch_id("transactions"),
                          run_id=scope.run_id, as_of=AS_OF)
    record = outcome_record(guarded, contract, scope, QuarantineStore(tmp_path / "q"))

    rebuilt = outcome_from_record(record, started_at=AS_OF, finished_at=AS_OF)

    assert _verdicts(rebuilt) == _verdicts(guarded.outcome)
    assert (len(guarded.outcome.failed_rules) > 0) is (defect is not None)
    text = describe(record, rebuilt, published=guarded.published is not None)
    assert all(r.rule_id in text for r in rebuilt.failed_rules[:5])


def test_partition_of_a_run_follows_the_tasks_rule() -> None:
    """A daily interval is its day; a partition key wins; an instant is its date; no logical date is the run id."""
    daily = {"logical_date": "2026-11-05T00:00:00Z", "data_interval_start": "2026-11-04T00:00:00Z",
             "data_interval_end": "2026-11-05T00:00:00Z", "dag_run_id": "scheduled__2026-11-05"}
    assert partition_of_run(daily) == "2026-11-04"
    assert partition_of_run({**daily, "partition_key": "eu|2026-11-04"}) == "eu|2026-11-04"
    assert partition_of_run({**daily, "data_interval_start": daily["data_interval_end"]}) == "2026-11-05"
    assert partition_of_run({"logical_date": None, "dag_run_id": "manual__x"}) == "manual__x"
