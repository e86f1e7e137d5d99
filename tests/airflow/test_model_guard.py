"""The model guard on real Airflow 3 (``dag.test()`` on the migrated SQLite home) and a real MLflow store.

A guarded task that feeds a model holds its promotion on a quarantine and releases it on a later pass; the model
gate promotes an eligible candidate and fails one whose own check failed; the canary gate promotes, fails or waits;
an unreachable registry moves nothing and fails the task with one line.
"""

from __future__ import annotations

import json
import re
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow.sdk")
pytest.importorskip("mlflow")

from sqlalchemy import select

from guardrails.airflow.models import model_asset
from guardrails.models import MlflowModelRegistry, ModelGuard, Verdict, VerdictStatus
from tests.airflow.home import DAGS
from definitions.airflow_demo import xcom_value as _xcom

pytestmark = pytest.mark.xdist_group("airflow")

ROOT = Path(__file__).resolve().parents[2]
DAY = datetime(2026, 11, 4, tzinfo=UTC)  # the data interval 2026-11-03
(DAGS / "model_guard.py").write_text(
    "# the model guard's test airflow DAGs (when a test has written model_guard.json)\n"
    "from pathlib import Path\n"
    "if Path(__file__).with_name('model_guard.json').exists():\n"
    "    from tests.airflow.model_dags import build_from_file\n"
    "    for _dag in build_from_file(Path(__file__).with_name('model_guard.json')):\n"
    "        globals()[_dag.dag_id] = _dag\n"
)


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A file-backed MLflow tracking and registry store (SQLite) for this module."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def model(request: pytest.FixtureRequest, tracking_uri: str, tmp_path: Path) -> str:
    """A registered model of its own per test: v1 and v2 READY with passed verdicts, v1 serving as champion."""
    from mlflow import MlflowClient

    name = re.sub(r"[^A-Za-z0-9_-]", "_", f"mg-{request.node.name}")[:60]
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    client.create_registered_model(name)
    guard = _guard(tracking_uri, name)
    for _ in range(2):
        version = int(client.create_model_version(name, source=str(tmp_path)).version)
        guard.record_verdict(version, Verdict(status=VerdictStatus.PASSED, at=datetime.now(UTC), reason="fixture"))
    assert guard.promote(1, reason="fixture").ok
    return name


def _guard(uri: str, name: str) -> ModelGuard:
    return ModelGuard(MlflowModelRegistry(uri), name, actor="test")


def _dag(dag_id: str, *, model: str, tracking_uri: str, out: Path) -> Any:
    """Write the spec the DAGs folder builds from, and build the same DAG here."""
    from tests.airflow.model_dags import SPEC_NAME, build

    spec = {"model": model, "tracking_uri": tracking_uri, "dead_uri": f"http://127.0.0.1:{_free_port()}",
            "out": str(out), "contract": str(ROOT / "expectations" / "transactions.odcs.yaml"),
            "canary_spec": str(ROOT / "expectations" / "fraud_model.canary.yaml")}
    (DAGS / SPEC_NAME).write_text(json.dumps(spec))
    return next(d for d in build(spec) if d.dag_id == dag_id)


def _free_port() -> int:
    """A loopback port nobody listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}




def _model_events(dag_run: Any, model: str) -> list[dict[str, Any]]:
    """The extras of the asset events the run recorded on the model's asset."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.scalars(
            select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == model_asset(model).uri, AssetEvent.source_run_id == dag_run.run_id)
        ).all()
        return [dict(event.extra) for event in events]


def test_quarantine_holds_promotion_and_a_later_pass_releases_it(
    airflow_db: Path, model: str, tracking_uri: str, tmp_path: Path
) -> None:
    """A quarantined batch feeding the model holds its promotion (no alias moves, the gate downstream never runs,
    the run fails; another gate's promotion is refused); the same day re-delivered and passing releases the hold and
    the gate then promotes v2."""
    dag = _dag("mg_hold", model=model, tracking_uri=tracking_uri, out=tmp_path)
    guard = _guard(tracking_uri, model)

    bad = dag.test(logical_date=DAY, run_conf={"defect": "future_timestamps", "version": 2})
    assert str(bad.state) == "failed"
    assert _states(bad) == {"clean": "failed", "gate": "upstream_failed"}
    record = _xcom(bad, "clean", "guardrails_outcome")
    assert record["quarantined"] is True and record["published"] is False
    assert [(m["model"], m["action"], m["status"]) for m in record["model_guard"]] == [(model, "hold", "applied")]
    status = guard.status()
    assert status.alias_version == 1
    assert [(f.check, f.partition) for f in status.hold.failing] == [("mg_hold.clean:contract", "2026-11-03")]
    gate = _dag("mg_gate", model=model, tracking_uri=tracking_uri, out=tmp_path)
    refused = gate.test(logical_date=DAY, run_conf={"version": 2, "auc": 0.8})
    assert str(refused.state) == "success"  # an eligible candidate waits for the hold; it is not the model's fault
    verdict = _xcom(refused, "gate", "return_value")
    assert (verdict["status"], verdict["promoted"], verdict["serving"]) == ("refused", False, 1)
    assert "held" in verdict["message"] and verdict["hold"]

    dag = _dag("mg_hold", model=model, tracking_uri=tracking_uri, out=tmp_path)
    good = dag.test(logical_date=DAY, run_conf={"version": 2})
    assert str(good.state) == "success", _states(good)
    record = _xcom(good, "clean", "return_value")
    assert [(m["action"], m["status"]) for m in record["model_guard"]] == [("release_hold", "applied")]
    status = guard.status()
    assert status.hold is None and status.alias_version == 2  # noqa: PLR2004
    assert [m.action.value for m in guard.history()][-3:] == ["hold", "unhold", "promote"]
    lineage = guard.lineage(2)
    assert [b.label for b in lineage.trained_on] == [f"{record['asset']}[2026-11-03]#transactions.2026-11-03"]
    assert lineage.trained_on[0].content_hash.startswith("sha256:")


def test_gate_promotes_an_eligible_candidate_and_fails_one_whose_own_check_failed(
    airflow_db: Path, model: str, tracking_uri: str, tmp_path: Path
) -> None:
    """The gate promotes v2 (its evaluation passed; verdict in XCom and on the model's asset event); with v2
    serving, a failed evaluation of v2 fails the task and `fail_version` moves the alias back to v1."""
    dag = _dag("mg_gate", model=model, tracking_uri=tracking_uri, out=tmp_path)
    guard = _guard(tracking_uri, model)

    promoted = dag.test(logical_date=DAY, run_conf={"version": 2, "auc": 0.8})
    assert str(promoted.state) == "success"
    verdict = _xcom(promoted, "gate", "return_value")
    assert verdict["verdict"] == "passed" and verdict["promoted"] is True and verdict["serving"] == 2  # noqa: PLR2004
    assert _model_events(promoted, model) == [verdict]
    assert guard.status().alias_version == 2  # noqa: PLR2004
    assert [b.label for b in guard.lineage(2).trained_on] == ["transaction_features[2026-11-03]#features.2026-11-03"]

    failed = dag.test(logical_date=datetime(2026, 11, 5, tzinfo=UTC), run_conf={"version": 2, "auc": 0.4})
    assert str(failed.state) == "failed"
    assert _states(failed)["gate"] == "failed"
    verdict = _xcom(failed, "gate", "guardrails_model_verdict")
    assert verdict["verdict"] == "failed" and verdict["action"] == "fail_version" and verdict["serving"] == 1
    assert "ROC AUC 0.40" in verdict["reason"]
    status = guard.status()
    assert status.alias_version == 1 and status.version(2).failed
    assert _model_events(failed, model) == []


def _units(tmp_path: Path, name: str, *, effect: float, units: int, control: int, candidate: int) -> str:
    """One look of canary traffic (the example's simulation), every outcome matured, as a Parquet file."""
    from definitions.canary import look_seed, simulate_look

    frame = simulate_look(units, effect=effect, control=control, candidate=candidate, look=1,
                          seed=look_seed(candidate, 1))
    path = tmp_path / f"{name}.parquet"
    frame.with_columns(matured=True).write_parquet(path)
    return str(path)


@pytest.mark.parametrize(("effect", "units", "verdict", "serving", "challenger", "failed"), [
    (0.30, 40_000, "pass", 2, None, False),
    (-0.15, 40_000, "fail", 1, None, True),
    (0.0, 2_000, "inconclusive", 1, 2, False),
])
def test_canary_gate_acts_on_each_verdict(
    airflow_db: Path, model: str, tracking_uri: str, tmp_path: Path, effect: float, units: int, verdict: str,
    serving: int, challenger: int | None, failed: bool,
) -> None:
    """pass -> the candidate is promoted and the challenger removed; fail -> the candidate is failed and the
    challenger removed (the task succeeds with verdict fail); inconclusive -> nothing moves. Each verdict is the
    task's XCom and the extra of the model asset's event."""
    guard = _guard(tracking_uri, model)
    assert guard.start_canary(2).ok
    dag = _dag("mg_canary", model=model, tracking_uri=tracking_uri, out=tmp_path)
    path = _units(tmp_path, verdict, effect=effect, units=units, control=1, candidate=2)

    dag_run = dag.test(logical_date=DAY, run_conf={"units": path})

    assert str(dag_run.state) == "success"
    record = _xcom(dag_run, "canary", "return_value")
    assert record["verdict"] == verdict and record["version"] == 2 and record["serving"] == serving  # noqa: PLR2004
    assert record["promoted"] is (verdict == "pass")
    assert _model_events(dag_run, model) == [record]
    status = guard.status()
    assert status.alias_version == serving
    assert status.aliases.get("challenger") == challenger
    assert status.version(2).failed is failed


def test_unreachable_registry_moves_nothing_and_fails_the_task_with_one_line(
    airflow_db: Path, model: str, tracking_uri: str, tmp_path: Path
) -> None:
    """With nobody listening on the registry's port a quarantine says promotion was NOT held and a passing batch
    fails its task (the gate never runs); nothing in the registry changes."""
    dag = _dag("mg_dead", model=model, tracking_uri=tracking_uri, out=tmp_path)
    guard = _guard(tracking_uri, model)
    before, moves = guard.status(), len(guard.history())

    bad = dag.test(logical_date=DAY, run_conf={"defect": "future_timestamps"})
    [entry] = _xcom(bad, "clean", "guardrails_outcome")["model_guard"]
    assert entry["status"] == "error"
    assert _xcom(bad, "gate_alone", "guardrails_model_verdict")["status"] == "error"
    assert "\n" not in entry["message"]
    good = dag.test(logical_date=DAY)
    assert _states(good) == {"clean": "failed", "gate": "upstream_failed", "gate_alone": "failed"}
    verdict = _xcom(good, "gate_alone", "guardrails_model_verdict")
    assert verdict["status"] == "error" and "registry unreachable" in verdict["message"]
    after = guard.status()
    assert (after.alias_version, after.hold, len(guard.history())) == (before.alias_version, None, moves)


def test_the_provider_entry_point_registers_task_model_gate(tmp_path: Path) -> None:
    """``@task.model_gate`` resolves through the provider entry point, and a malformed canary spec fails when the
    DAG file is parsed (the operator is built), not when the task runs."""
    from airflow.sdk import task

    from guardrails.airflow import CanaryGateOperator, model_gate_task
    from guardrails.errors import GuardrailsError

    assert task.model_gate is model_gate_task
    bad = tmp_path / "bad.canary.yaml"
    bad.write_text("canary:\n  variant_column: variant\n  metrics: []\n")
    with pytest.raises((GuardrailsError, ValueError)):
        CanaryGateOperator(task_id="canary", model="m", spec=bad, observations=str(tmp_path))


def test_waiting_canary_gate_looks_again_until_its_timeout_and_moves_nothing(
    airflow_db: Path, model: str, tracking_uri: str, tmp_path: Path
) -> None:
    """With ``wait=True`` an inconclusive canary is looked at again every poke interval; when the timeout passes
    with no verdict the task fails as a sensor does, and the candidate keeps serving under the challenger."""
    guard = _guard(tracking_uri, model)
    assert guard.start_canary(2).ok
    dag = _dag("mg_canary_wait", model=model, tracking_uri=tracking_uri, out=tmp_path)
    path = _units(tmp_path, "few", effect=0.0, units=2_000, control=1, candidate=2)

    dag_run = dag.test(logical_date=DAY, run_conf={"units": path})

    assert _states(dag_run) == {"canary": "failed"}
    assert _xcom(dag_run, "canary", "return_value") is None
    status = guard.status()
    assert (status.alias_version, status.aliases.get("challenger")) == (1, 2)
    assert not status.version(2).failed


def test_an_explicit_tracking_uri_is_the_registry_whatever_the_environment_exports(
    model: str, tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task given ``tracking_uri=`` acts on that store even when an earlier task in the process ran
    `mlflow.set_registry_uri`, which exports ``$MLFLOW_REGISTRY_URI`` (the example DAG's training does)."""
    from guardrails.airflow.models import RegistrySettings

    monkeypatch.setenv("MLFLOW_REGISTRY_URI", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    guard = RegistrySettings(tracking_uri=tracking_uri).guard(model, actor="test")
    assert guard.status().alias_version == 1  # the fixture's champion: the store named, not the exported one
