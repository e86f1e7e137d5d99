"""What happens when Airflow parses a DAG file with guarded tasks: the contract is loaded and checked then, the
data is not touched, and the provider entry point makes ``@task.guarded`` available."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("airflow.sdk")

from guardrails.airflow import GuardedOperator, TaskScope, guarded_task
from guardrails.quarantine import ParquetTarget

pytestmark = pytest.mark.xdist_group("airflow")

CONTRACT = Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml"

DAG_FILE = '''
from datetime import datetime, timezone
from pathlib import Path
from airflow.sdk import DAG, task

with DAG("parsed", schedule=None, start_date=datetime(2026, 11, 1, tzinfo=timezone.utc)):
    @task.guarded(contract={contract!r}, target={target!r}, quarantine={quarantine!r})
    def land():
        Path({marker!r}).write_text("the data was read")
        return None
    land()
'''


def _parse(tmp_path: Path, contract: Path, target: str = "") -> tuple[object, Path]:
    from airflow.dag_processing.dagbag import DagBag

    folder = tmp_path / "dags"
    folder.mkdir()
    marker = tmp_path / "touched"
    (folder / "parsed.py").write_text(DAG_FILE.format(
        contract=str(contract), target=target or str(tmp_path / "lake" / "date={partition}"),
        quarantine=str(tmp_path / "q"), marker=str(marker)))
    return DagBag(dag_folder=str(folder)), marker


def test_a_good_dag_file_loads_its_contract_at_parse_time_and_never_reads_data(tmp_path: Path) -> None:
    """Parsing builds the guarded task with its contract loaded and does not run the callable."""
    bag, marker = _parse(tmp_path, CONTRACT)

    assert bag.import_errors == {}
    task = bag.dags["parsed"].get_task("land")
    assert isinstance(task, GuardedOperator)
    assert (task.guard.contract.id, task.guard.contract.version) == ("urn:datacontract:payments:transactions", "1.2.0")
    assert task.guard.asset in task.outlets
    assert not marker.exists()


def test_a_bad_contract_is_an_import_error_naming_file_line_and_field(tmp_path: Path) -> None:
    """A malformed contract makes the DAG file fail to import, and the error names the file, line and field."""
    text = CONTRACT.read_text()
    broken = tmp_path / "transactions.odcs.yaml"
    broken.write_text(text.replace("minimum: 0\n", "minimum: ten\n", 1))
    line = text[: text.index("minimum: 0\n")].count("\n") + 1

    bag, marker = _parse(tmp_path, broken)

    [(path, message)] = bag.import_errors.items()
    assert path.endswith("parsed.py")
    assert f"{broken}:{line}: schema[0].properties[3].logicalTypeOptions.minimum" in message
    assert not marker.exists()


def test_a_bad_target_pattern_is_an_import_error(tmp_path: Path) -> None:
    """A target pattern with a placeholder other than {partition} fails the DAG file's import, saying which."""
    bag, _ = _parse(tmp_path, CONTRACT, target=str(tmp_path / "lake" / "day={ds}"))

    [message] = bag.import_errors.values()
    assert "unknown placeholder(s) ds; the only one is {partition}" in message


def test_the_provider_entry_point_registers_task_guarded() -> None:
    """``@task.guarded`` resolves, through the apache_airflow_provider entry point, to `guarded_task`."""
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk import task

    assert task.guarded is guarded_task
    assert "pipeline-guardrails" in ProvidersManager().providers


def test_a_run_without_a_logical_date_is_its_own_partition_judged_as_of_its_start() -> None:
    """A manual run with no logical date (Airflow 3) is partitioned by its run id and judged as of its start."""
    started = datetime(2026, 11, 5, 9, 30, tzinfo=UTC)
    context = {"ti": SimpleNamespace(dag_id="fraud", task_id="clean"), "run_id": "manual__2026-11-05T09:30:00+00:00",
               "dag_run": SimpleNamespace(run_id="manual__2026-11-05T09:30:00+00:00", start_date=started,
                                          partition_key=None),
               "logical_date": None, "data_interval_start": None, "data_interval_end": None}

    scope = TaskScope.from_context(context)

    assert (scope.partition, scope.as_of) == ("manual__2026-11-05T09:30:00+00:00", started)
    assert scope.batch_id("transactions") == "transactions.manual__2026-11-05T09_30_00_00_00"
    assert ParquetTarget("/lake/tx/date={partition}").uri(scope.partition).endswith(
        "date=manual__2026-11-05T09:30:00+00:00/data.parquet")


def test_a_trigger_timetable_run_is_partitioned_by_its_logical_date() -> None:
    """Under a trigger timetable (a one-instant interval) the partition is the logical day, judged as of the start."""
    day = datetime(2026, 11, 4, tzinfo=UTC)
    started = datetime(2026, 11, 4, 0, 5, tzinfo=UTC)
    context = {"ti": SimpleNamespace(dag_id="fraud", task_id="clean"), "run_id": "scheduled__2026-11-04",
               "dag_run": SimpleNamespace(run_id="scheduled__2026-11-04", start_date=started, partition_key=None),
               "logical_date": day, "data_interval_start": day, "data_interval_end": day}

    scope = TaskScope.from_context(context)

    assert (scope.partition, scope.as_of) == ("2026-11-04", started)


@pytest.mark.parametrize("module", [
    "guardrails.airflow._scope", "guardrails.airflow.operator", "guardrails.airflow.notifier"])
def test_docstring_examples_run(module: str) -> None:
    """The worked examples in the adapter's docstrings are correct (run as doctests)."""
    import doctest
    import importlib

    assert doctest.testmod(importlib.import_module(module)).failed == 0
