"""The Airflow task joins the conformance table: a `GuardedOperator` per fixture, run by real Airflow
(``dag.test()`` on a migrated SQLite metadata DB), reports the core's verdict and settles the same rows.

The run's data interval is the fixture day (`DAY` to `AS_OF`), so the task judges as of `AS_OF`, as the core,
the CLI and the Dagster partition do. The verdict is read back from XCom: the return value of a task that
published, ``guardrails_outcome`` of one that quarantined.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("airflow") is None:  # checked before tests.airflow.home changes the environment
    pytest.skip("needs the [airflow] extra (make test-airflow)", allow_module_level=True)

from tests.airflow.home import CONFORMANCE_SPEC, airflow_db  # noqa: F401  (sets AIRFLOW_HOME before Airflow loads)

from sqlalchemy import select

from guardrails.outcome import CheckStatus, Severity
from tests.conformance.fixtures import AS_OF, FIXTURES, Fixture
from tests.conformance.test_entry_points import Verdict, core_verdicts  # noqa: F401  (the reference fixture)

pytestmark = pytest.mark.xdist_group("airflow")


def _verdict(record: dict[str, Any]) -> Verdict:
    return Verdict(
        status=CheckStatus(record["status"]),
        rows=record["rows_in"],
        rules={rule_id: (CheckStatus(rule["status"]), rule["failing_rows"], rule["observed"],
                         Severity(rule["severity"]), rule["ran"])
               for rule_id, rule in record["rules"].items()},
        published=record["rows_published"],
        quarantined=record["rows_quarantined"],
        unrun_policy=record["unrun_policy"],
    )


@pytest.fixture(scope="module")
def airflow_verdicts(
    airflow_db: Path, batches: dict[str, Path], contracts: dict[str, Path], conformance_dir: Path  # noqa: F811
) -> dict[str, Verdict]:
    """Every fixture judged by its guarded task in one DAG run."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from tests.airflow.conformance_dag import build, task_id

    spec = {"out": str(conformance_dir / "airflow"),
            "fixtures": [{"name": f.name, "path": str(batches[f.name]), "contract": str(contracts[f.policy]),
                          "allow_unrun": f.allow_unrun}
                         for f in FIXTURES]}
    CONFORMANCE_SPEC.write_text(json.dumps(spec))
    dag_run = build(spec).test(logical_date=AS_OF)
    with create_session() as session:
        rows = session.scalars(select(XComModel).where(
            XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id,
            XComModel.key.in_(["return_value", "guardrails_outcome"]))).all()
        records = {row.task_id: XComModel.deserialize_value(row) for row in rows}
    missing = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances() if ti.task_id not in records}
    assert not missing, f"tasks without an outcome record: {missing}"
    return {f.name: _verdict(records[task_id(f.name)]) for f in FIXTURES}


@pytest.mark.parametrize("fixture", FIXTURES, ids=str)
def test_airflow_guarded_task_judges_as_the_core(
    fixture: Fixture, airflow_verdicts: dict[str, Verdict], core_verdicts: dict[str, Verdict]  # noqa: F811
) -> None:
    """A guarded task's outcome record carries the core's status, row count and per-rule counts."""
    assert airflow_verdicts[fixture.name].judged == core_verdicts[fixture.name].judged


@pytest.mark.parametrize("fixture", FIXTURES, ids=str)
def test_airflow_guarded_task_settles_rows_as_the_core(
    fixture: Fixture, airflow_verdicts: dict[str, Verdict], core_verdicts: dict[str, Verdict]  # noqa: F811
) -> None:
    """A guarded task publishes and keeps the rows the core published and kept."""
    assert airflow_verdicts[fixture.name].settled == core_verdicts[fixture.name].settled
