"""A good day and a quarantined day of the example DAG, run once per test process, for the history and incident tests.

The example pipeline (`definitions.airflow_dag.build_dag`) under a DAG id and a home of its own
(``guardrails_records``, ``<root>/records_home``), so its asset, its runs and its quarantine store are not those of
the other Airflow tests (which release their bad day). `recorded_days` runs ``dag.test()`` the first time it is
asked, and returns what the readers must find: first a day whose task fails before its batch is judged (a conf naming
no defect: the callable raises, no verdict, no XCom record; logical date 2026-11-06, partition 2026-11-05), then a
good day (2026-11-04: partition 2026-11-03, published) and a bad one (2026-11-05: future timestamps, partition
2026-11-04, quarantined).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from definitions.airflow_dag import build_dag
from definitions.data import Defect, defect_rows
from definitions.settings import REPOSITORY_ROOT, DemoSettings
from tests.airflow.home import DAGS, ROOT

DAG_ID = "guardrails_records"
HOME = ROOT / "records_home"
ROWS = 2_000
SETTINGS = DemoSettings(home=HOME, contracts_dir=REPOSITORY_ROOT / "expectations", tracking_uri="sqlite://")
ASSET = str(HOME / "airflow" / "warehouse" / "transactions")
"""The clean task's asset: its target's directory (the default asset of a Parquet target), as a user types it."""
ASSET_NAME = f"file://{ASSET}"
"""The same asset as Airflow names it (a local path becomes a ``file://`` URI)."""
FAILING_ROWS = defect_rows(ROWS, Defect.FUTURE_TIMESTAMPS)

(DAGS / f"{DAG_ID}.py").write_text(
    "# the example DAG under its own id and home, for the history and incident tests\n"
    "from tests.airflow.records_days import dag\n"
)
dag = build_dag(SETTINGS, dag_id=DAG_ID)


@dataclass(frozen=True, slots=True)
class RecordedDays:
    """The two runs and where they wrote."""

    crashed_run: str
    good_run: str
    bad_run: str
    home: Path

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"


@functools.cache
def recorded_days() -> RecordedDays:
    """Run the crashing day, the good day, then the bad day (once per process); only the good run succeeds."""
    crashed = dag.test(logical_date=datetime(2026, 11, 6, tzinfo=UTC), run_conf={"defect": "no_such_defect"})
    good = dag.test(logical_date=datetime(2026, 11, 4, tzinfo=UTC))
    bad = dag.test(logical_date=datetime(2026, 11, 5, tzinfo=UTC), run_conf={"defect": Defect.FUTURE_TIMESTAMPS.value})
    assert (str(crashed.state), str(good.state), str(bad.state)) == ("failed", "success", "failed")
    return RecordedDays(crashed_run=crashed.run_id, good_run=good.run_id, bad_run=bad.run_id, home=HOME)
