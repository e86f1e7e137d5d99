"""Real Airflow for the adapter's tests (`tests.airflow.home`: a temporary ``AIRFLOW_HOME``, migrated once).

Every test that touches the metadata DB is in the ``airflow`` xdist group, meant to keep one worker owning the
home; each process has a home of its own anyway, so the tests stay correct however they are distributed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

if importlib.util.find_spec("airflow") is not None:  # else the test modules skip, and the environment stays as it is
    from tests.airflow.home import GUARDRAILS_HOME, airflow_db  # noqa: F401  (sets AIRFLOW_HOME before Airflow loads)
    from tests.airflow.api_server import api_server  # noqa: F401  (a real api-server, for the REST tests)

    @pytest.fixture(scope="session")
    def example_home() -> Path:
        """Where the example DAG writes: the warehouse targets and the quarantine store (``$GUARDRAILS_HOME``)."""
        return GUARDRAILS_HOME
