"""`guardrails quarantine release` of an Airflow batch records an asset event through the real api-server, once.

The bad day is run with ``dag.test()`` on the session's metadata DB; the api-server (its own process) reads the same
DB, so the release finds the quarantining task's XCom and its asset over REST, as it would in a deployment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow.sdk")

import pyarrow.parquet as pq
from typer.testing import CliRunner

from definitions.data import Defect
from guardrails.airflow._release_event import RELEASE_EXTRA_KEY
from guardrails.cli import app
from guardrails.quarantine import QuarantineStore
from tests.airflow.api_server import ApiServer, free_port

pytestmark = pytest.mark.xdist_group("airflow")

CONTRACTS = Path(__file__).resolve().parents[2] / "expectations"


def _bad_day(day: datetime) -> Any:
    """A run whose batch has future timestamps: quarantined, the task and the run fail."""
    from definitions.airflow_dag import dag

    dag_run = dag.test(logical_date=day, run_conf={"defect": Defect.FUTURE_TIMESTAMPS.value})
    assert str(dag_run.state) == "failed"
    return dag_run


def _release(example_home: Path, batch_id: str, as_of: datetime, env: dict[str, str], *extra: str) -> Any:
    args = ["quarantine", "release", batch_id, "--store", str(example_home / "quarantine"), *extra]
    if "--record-only" not in extra:
        args += ["--contract", str(CONTRACTS / "transactions.odcs.yaml"), "--as-of", as_of.isoformat()]
    return CliRunner().invoke(app, args, env=env)


def _release_events(api_server: ApiServer, batch_id: str) -> list[dict[str, Any]]:
    with api_server.client() as api:
        asset = api.asset_by_uri(f"file://{_warehouse()}/transactions")
        assert asset is not None
        return [event for event in api.asset_events(asset_id=asset["id"])
                if (event.get("extra") or {}).get(RELEASE_EXTRA_KEY, {}).get("batch_id") == batch_id]


def _warehouse() -> Path:
    from definitions.settings import DemoSettings

    return DemoSettings.from_env().home / "airflow" / "warehouse"


def test_release_publishes_once_and_records_an_asset_event_with_the_release(
    api_server: ApiServer, example_home: Path
) -> None:
    """The release publishes to the target and posts one asset event whose extra describes it; a rerun adds none."""
    day = datetime(2026, 11, 14, tzinfo=UTC)
    _bad_day(day)
    batch_id, partition = "transactions.2026-11-13", "2026-11-13"

    released = _release(example_home, batch_id, day + timedelta(days=3), api_server.env())

    assert released.exit_code == 0, released.output
    assert "recorded" in released.output and "in Airflow" in released.output
    target = _warehouse() / "transactions" / f"date={partition}" / "data.parquet"
    assert pq.read_metadata(target).num_rows == 2_000
    [event] = _release_events(api_server, batch_id)
    manifest = QuarantineStore(example_home / "quarantine").show(batch_id)
    release = event["extra"][RELEASE_EXTRA_KEY]
    assert release["partition"] == partition and release["status"] == "passed"
    assert release["released_to"] == f"file://{target}" and release["rows"] == 2_000
    assert release["released_by"] == manifest.history[-1].actor and "@" in release["released_by"]
    assert release["quarantined_by"] == {"dag_id": "fraud_transactions", "task_id": "clean_transactions",
                                         "run_id": manifest.run_id}
    assert event["extra"]["from_rest_api"] is True

    again = _release(example_home, batch_id, day + timedelta(days=3), api_server.env())
    assert again.exit_code == 0, again.output
    assert "already released" in again.output and "already recorded" in again.output
    assert len(_release_events(api_server, batch_id)) == 1


def test_unreachable_airflow_still_publishes_once_and_the_event_is_recorded_later(
    api_server: ApiServer, example_home: Path
) -> None:
    """With Airflow down the data is published once and the command exits 3 saying so; --record-only records it."""
    day = datetime(2026, 11, 16, tzinfo=UTC)
    _bad_day(day)
    batch_id = "transactions.2026-11-15"
    down = {**api_server.env(), "GUARDRAILS_AIRFLOW_URL": f"http://127.0.0.1:{free_port()}"}

    released = _release(example_home, batch_id, day + timedelta(days=3), down)

    assert released.exit_code == 3, released.output
    assert "published but NOT recorded in Airflow" in released.output and "unreachable" in released.output
    assert "--record-only" in released.output and api_server.password not in released.output
    target = _warehouse() / "transactions" / "date=2026-11-15" / "data.parquet"
    assert pq.read_metadata(target).num_rows == 2_000
    assert _release_events(api_server, batch_id) == []

    recorded = _release(example_home, batch_id, day, api_server.env(), "--record-only")
    assert recorded.exit_code == 0, recorded.output
    assert len(_release_events(api_server, batch_id)) == 1
    manifest = QuarantineStore(example_home / "quarantine").show(batch_id)
    assert [step.state.value for step in manifest.history] == ["quarantined", "released"]
