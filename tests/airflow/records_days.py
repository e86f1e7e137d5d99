"""A good day and a quarantined day of the example DAG, run once per test process, for the history and incident tests.

The example pipeline (`definitions.airflow_dag.build_dag`) under a DAG id and a home of its own
(``guardrails_records``, ``<root>/records_home``), so its asset, its runs and its quarantine store are not those of
the other Airflow tests (which release their bad day). `recorded_days` runs ``dag.test()`` for logical dates
2026-11-04 (a good batch, partition 2026-11-03) and 2026-11-05 (future timestamps: quarantined, partition
2026-11-04) the first time it is asked, and returns what the readers must find.
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

    good_run: str
    bad_run: str
    home: Path

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"


@functools.cache
def recorded_days() -> RecordedDays:
    """Run the good day, then the bad day (once per process); the bad run must fail, as a quarantine does."""
    good = dag.test(logical_date=datetime(2026, 11, 4, tzinfo=UTC))
    bad = dag.test(logical_date=datetime(2026, 11, 5, tzinfo=UTC), run_conf={"defect": Defect.FUTURE_TIMESTAMPS.value})
    assert (str(good.state), str(bad.state)) == ("success", "failed")
    return RecordedDays(good_run=good.run_id, bad_run=bad.run_id, home=HOME)
