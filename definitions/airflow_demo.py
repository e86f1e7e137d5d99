"""`make airflow-demo`: the example Airflow DAG headless on a temporary AIRFLOW_HOME: a good day, a bad day, a release.

1. ``airflow db migrate`` once on a SQLite metadata DB (no examples loaded).
2. A good day (``dag.test()``, data interval 2026-11-03): published to the target, asset event with the outcome;
   the model is trained, registered in MLflow (a SQLite store under the home) and the gate promotes v1.
3. A bad day (2026-11-05, a producer whose clock runs two days fast): quarantined, the task fails, the downstream
   tasks are ``upstream_failed``, the DAG run fails, nothing is written to the target; promotion of the model is
   held and ``champion`` stays on v1.
4. ``guardrails quarantine release`` once that time has passed (``--as-of``): re-checked and published exactly
   once to the target the manifest recorded.
5. The producer fixed its clock and the day is run again: the batch passes, the hold is released (every failing
   partition passed again), v2 is trained and the gate promotes it.

Everything is written under one fresh temporary directory (or ``$GUARDRAILS_HOME`` if set), printed at the end.
Exits non-zero when any step did not do what it should.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GOOD_DAY = datetime(2026, 11, 4, tzinfo=UTC)  # the run for logical date D covers the day before D
BAD_DAY = datetime(2026, 11, 6, tzinfo=UTC)  # 2026-11-05: the model trained on it passes its evaluation
RELEASE_AS_OF = "2026-11-08T00:00:00+00:00"


def _prepare() -> tuple[Path, Path]:
    """Point Airflow and the example at a fresh directory; must run before Airflow is imported."""
    root = Path(tempfile.mkdtemp(prefix="guardrails-airflow-demo-"))
    home = Path(os.environ.get("GUARDRAILS_HOME") or root / "guardrails_home").resolve()
    dags = root / "dags"
    for directory in (root / "airflow_home", dags, home):
        directory.mkdir(parents=True, exist_ok=True)
    (dags / "fraud_transactions.py").write_text("from definitions.airflow_dag import dag  # the example airflow DAG\n")
    os.environ.update({
        "AIRFLOW_HOME": str(root / "airflow_home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
        "GUARDRAILS_HOME": str(home),
    })
    return root, home


def _step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def _states(dag_run: Any) -> str:
    return ", ".join(f"{ti.task_id}={ti.state}" for ti in sorted(dag_run.get_task_instances(), key=lambda t: t.task_id))


def xcom_value(dag_run: Any, task_id: str, key: str) -> Any:
    """The value a task of `dag_run` pushed under `key` (None when it pushed none), read from the metadata DB."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(select(XComModel).where(
            XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id,
            XComModel.task_id == task_id, XComModel.key == key)).first()
        return None if row is None else XComModel.deserialize_value(row)


def _run(dag: Any, logical_date: datetime, conf: dict[str, Any] | None = None) -> Any:
    started = time.perf_counter()
    dag_run = dag.test(logical_date=logical_date, run_conf=conf)
    print(f"   dag.test() took {time.perf_counter() - started:.1f} s; run {dag_run.run_id}: {dag_run.state}")
    print(f"   tasks: {_states(dag_run)}")
    return dag_run


def _model(settings: Any) -> str:
    """One line: where ``champion`` rests and whether promotion is held."""
    from definitions.airflow_dag import MODEL
    from guardrails.models import MlflowModelRegistry, ModelGuard

    status = ModelGuard(MlflowModelRegistry(settings.tracking_uri), MODEL).status()
    hold = f"HELD ({status.hold.reason[:100]}...)" if status.hold is not None else "not held"
    return f"{MODEL}: champion v{status.alias_version}, {len(status.versions)} version(s), promotion {hold}"


def main() -> int:
    root, home = _prepare()
    _step(f"1. airflow db migrate (AIRFLOW_HOME={os.environ['AIRFLOW_HOME']}, SQLite, no examples)")
    started = time.perf_counter()
    migrate = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True)
    if migrate.returncode != 0:
        print(migrate.stderr[-3000:])
        return 1
    print(f"   migrated in {time.perf_counter() - started:.1f} s")

    from definitions.airflow_dag import dag
    from definitions.data import Defect
    from definitions.settings import DemoSettings
    from guardrails.quarantine import QuarantineStore

    ok = True
    _step("2. a good day: data interval 2026-11-03")
    good = _run(dag, GOOD_DAY)
    record = xcom_value(good, "clean_transactions", "return_value") or {}
    print(f"   asset event extra: status={record.get('status')} batch={record.get('batch_id')} "
          f"contract v{record.get('contract_version')} rows={record.get('rows_published')} -> {record.get('target')}")
    gate = (xcom_value(good, "promote_fraud_model", "return_value")
            or xcom_value(good, "promote_fraud_model", "guardrails_model_verdict") or {})
    print(f"   model gate: {gate.get('message')} ({gate.get('reason')})")
    print(f"   {_model(DemoSettings.from_env())}")
    ok &= str(good.state) == "success" and record.get("status") == "passed" and gate.get("serving") == 1

    _step("3. a bad day: data interval 2026-11-05, the producer's clock runs two days fast")
    bad = _run(dag, BAD_DAY, {"defect": Defect.FUTURE_TIMESTAMPS.value})
    outcome = xcom_value(bad, "clean_transactions", "guardrails_outcome") or {}
    target = home / "airflow" / "warehouse" / "transactions" / "date=2026-11-05" / "data.parquet"
    print(f"   XCom guardrails_outcome: status={outcome.get('status')} failed rules={outcome.get('failed_rules')} "
          f"rows quarantined={outcome.get('rows_quarantined')} batch={outcome.get('batch_id')}")
    print(f"   target {target}: {'WRITTEN (wrong!)' if target.exists() else 'not written'}")
    held = [m["message"] for m in outcome.get("model_guard", [])]
    print(f"   model guard: {held[0][:160] if held else 'nothing'}")
    print(f"   {_model(DemoSettings.from_env())}")
    ok &= str(bad.state) == "failed" and outcome.get("quarantined") is True and not target.exists()
    ok &= bool(held) and "held" in held[0]

    _step("4. the release, once that time has passed: re-checked, published to the recorded target exactly once")
    command = [str(Path(sys.executable).parent / "guardrails"), "quarantine", "release", str(outcome.get("batch_id")),
               "--contract", str(dag.get_task("clean_transactions").guard.contract.source),
               "--store", str(home / "quarantine"), "--as-of", RELEASE_AS_OF]
    print("   $ " + " ".join(command))
    released = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    print("   " + " ".join(line.strip() for line in released.stdout.strip().splitlines()[:2]))
    manifest = QuarantineStore(home / "quarantine").show(str(outcome.get("batch_id")))
    print(f"   manifest: {manifest.state.value}, released to {manifest.released_to}")
    ok &= released.returncode == 0 and target.exists()

    _step("5. the producer fixed its clock; the day runs again: the hold is released and v2 promoted")
    rerun = _run(dag, BAD_DAY)
    record = xcom_value(rerun, "clean_transactions", "return_value") or {}
    print(f"   model guard: {[m['message'][:120] for m in record.get('model_guard', [])]}")
    gate = (xcom_value(rerun, "promote_fraud_model", "return_value")
            or xcom_value(rerun, "promote_fraud_model", "guardrails_model_verdict") or {})
    print(f"   model gate: {gate.get('message')} ({gate.get('reason')})")
    print(f"   {_model(DemoSettings.from_env())}")
    ok &= str(rerun.state) == "success" and gate.get("serving") == 2 and gate.get("hold") is None

    _step("done" if ok else "FAILED: a step did not do what it should")
    print(f"   everything is under {root} (and {home})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
