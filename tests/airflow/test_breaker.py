"""The Airflow circuit breaker against a real api-server: real failed DAG runs trip it, it pauses every DAG feeding
the asset, ``guardrails incident rearm`` unpauses exactly those; with Airflow unreachable the quarantine stands."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow.sdk")

from typer.testing import CliRunner

from definitions.data import Defect
from guardrails.cli import app
from guardrails.incidents import IncidentStateStore
from tests.airflow.api_server import ApiServer, free_port

pytestmark = pytest.mark.xdist_group("airflow")

BAD = {"defect": Defect.FUTURE_TIMESTAMPS.value}


def _run(day: int, conf: dict[str, Any] | None) -> Any:
    from tests.airflow.breaker_dag import land_dag

    return land_dag.test(logical_date=datetime(2026, 11, day, tzinfo=UTC), run_conf=conf)


def _task_state(dag_run: Any) -> str:
    [ti] = dag_run.get_task_instances()
    return str(ti.state)


def _paused(api_server: ApiServer) -> dict[str, bool]:
    from tests.airflow.breaker_dag import BACKFILL, LAND

    with api_server.client() as api:
        return {dag_id: bool(api.dag(dag_id)["is_paused"]) for dag_id in (LAND, BACKFILL)}


def test_breaker_trips_after_n_failures_pauses_the_feeds_and_rearm_unpauses_them(
    api_server: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A good run then one failure stay within limits; the second consecutive failure pauses both producers of the
    asset (seen over REST) and stores the trip; the CLI re-arm unpauses both and closes the trip."""
    from tests.airflow.breaker_dag import ASSET_URI, BACKFILL, LAND

    for name, value in {**api_server.env(), "GUARDRAILS_STATE": str(tmp_path / "state")}.items():
        monkeypatch.setenv(name, value)
    state = IncidentStateStore(tmp_path / "state")
    assert str(_run(2, None).state) == "success"
    with api_server.client() as api:  # new DAGs are paused at creation; the feeds of a live pipeline are not
        for dag_id in (LAND, BACKFILL):
            api.set_paused(dag_id, False)
    first = _run(3, BAD)
    assert str(first.state) == "failed" and _task_state(first) == "failed"
    assert state.active_trip(ASSET_URI) is None
    assert _paused(api_server) == {LAND: False, BACKFILL: False}

    second = _run(4, BAD)

    assert str(second.state) == "failed" and _task_state(second) == "failed"  # the quarantine, unchanged
    assert _paused(api_server) == {LAND: True, BACKFILL: True}
    trip = state.active_trip(ASSET_URI)
    assert trip is not None and trip.reason == "2 consecutive failed batches (limit 2)"
    assert sorted((s.kind, s.name) for s in trip.stopped) == [("dag", BACKFILL), ("dag", LAND)]
    assert f"CIRCUIT BREAKER TRIPPED for {ASSET_URI}" in capfd.readouterr().out

    rearmed = CliRunner().invoke(app, ["incident", "rearm", ASSET_URI, "--by", "on-call@test"])

    assert rearmed.exit_code == 0, rearmed.output
    assert f"unpaused dag {BACKFILL}, dag {LAND}" in rearmed.output
    assert _paused(api_server) == {LAND: False, BACKFILL: False}
    assert state.active_trip(ASSET_URI) is None
    [closed] = state.breaker_trips()
    assert closed.rearmed_by == "on-call@test"
    again = CliRunner().invoke(app, ["incident", "rearm", ASSET_URI])
    assert again.exit_code == 0 and "not open" in again.output


def test_unreachable_airflow_is_logged_and_the_quarantine_stands(
    airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """With nothing listening at the API's address the failed task stays failed by its quarantine, nothing trips,
    and the task log says loudly that the breaker could not run."""
    from tests.airflow.breaker_dag import ASSET_URI

    monkeypatch.setenv("GUARDRAILS_AIRFLOW_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("GUARDRAILS_AIRFLOW_TOKEN", "unused-token")
    monkeypatch.setenv("GUARDRAILS_STATE", str(tmp_path / "state"))

    dag_run = _run(9, BAD)

    assert str(dag_run.state) == "failed" and _task_state(dag_run) == "failed"
    out = capfd.readouterr().out
    assert "BatchQuarantined" in out
    assert "CIRCUIT BREAKER NOT EVALUATED" in out and "is unreachable" in out
    assert IncidentStateStore(tmp_path / "state").active_trip(ASSET_URI) is None
