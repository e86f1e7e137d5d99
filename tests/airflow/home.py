"""One temporary ``AIRFLOW_HOME`` per test process, set up on import (Airflow reads it when first imported).

Imported by this directory's conftest and by the conformance suite's Airflow entry point, before either imports
Airflow. The metadata DB is SQLite, migrated once per session by `airflow_db` (about 2 s). The DAGs folder holds
the files ``dag.test()`` serializes the DAGs it runs from: the example (`definitions.airflow_dag`), its
partitioned-asset form (`tests.airflow.partitioned_dag`) and the conformance table
(`tests.airflow.conformance_dag`, built from ``conformance.json`` when a test writes it).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(tempfile.mkdtemp(prefix="guardrails-airflow-"))
atexit.register(shutil.rmtree, ROOT, ignore_errors=True)
HOME = ROOT / "airflow_home"
DAGS = ROOT / "dags"
GUARDRAILS_HOME = ROOT / "guardrails_home"
CONFORMANCE_SPEC = DAGS / "conformance.json"
for directory in (HOME, DAGS, GUARDRAILS_HOME):
    directory.mkdir()
(DAGS / "fraud_transactions.py").write_text("from definitions.airflow_dag import dag  # the example airflow DAG\n")
(DAGS / "partitioned.py").write_text(
    "from tests.airflow.partitioned_dag import features, landing  # the partitioned-asset airflow DAGs\n")
(DAGS / "conformance.py").write_text(
    "# the conformance table as an airflow DAG (when a test has written conformance.json)\n"
    "from pathlib import Path\n"
    "if Path(__file__).with_name('conformance.json').exists():\n"
    "    from tests.airflow.conformance_dag import build_from_file\n"
    "    dag = build_from_file(Path(__file__).with_name('conformance.json'))\n"
)
os.environ.update({
    "AIRFLOW_HOME": str(HOME),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "GUARDRAILS_HOME": str(GUARDRAILS_HOME),
})


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[Path]:
    """The migrated SQLite metadata DB under the temporary ``AIRFLOW_HOME`` (migrated once per session).

    In this process, by the function ``airflow db migrate`` calls: a child process would import Airflow a second
    time (about 3.5 s of CPU) only to create the tables.
    """
    from airflow.utils.db import upgradedb

    upgradedb()
    yield HOME
