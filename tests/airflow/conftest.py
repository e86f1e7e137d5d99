"""Real Airflow for the adapter's tests: one temporary ``AIRFLOW_HOME`` per test process, migrated once.

Airflow reads ``AIRFLOW_HOME`` when it is first imported, so the environment is set here, before any test module
imports it. The metadata DB is SQLite (``airflow db migrate`` once per session, about 6 s); every test that
touches it is in the ``airflow`` xdist group, so under ``pytest -n 2 --dist loadgroup`` one worker owns the home.
The DAGs folder holds one file importing the example DAG (`definitions.airflow_dag`): ``dag.test()`` serializes
the DAG it runs from there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_ROOT = Path(tempfile.mkdtemp(prefix="guardrails-airflow-"))
HOME = _ROOT / "airflow_home"
DAGS = _ROOT / "dags"
GUARDRAILS_HOME = _ROOT / "guardrails_home"
for directory in (HOME, DAGS, GUARDRAILS_HOME):
    directory.mkdir()
(DAGS / "fraud_transactions.py").write_text("from definitions.airflow_dag import dag  # the example airflow DAG\n")
os.environ.update({
    "AIRFLOW_HOME": str(HOME),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "GUARDRAILS_HOME": str(GUARDRAILS_HOME),
})


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[Path]:
    """The migrated SQLite metadata DB under the temporary ``AIRFLOW_HOME`` (migrated once per session)."""
    result = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True,
                            timeout=300, env=os.environ.copy())
    assert result.returncode == 0, result.stderr[-3000:]
    yield HOME


@pytest.fixture(scope="session")
def example_home() -> Path:
    """Where the example DAG writes: the warehouse targets and the quarantine store (``$GUARDRAILS_HOME``)."""
    return GUARDRAILS_HOME
