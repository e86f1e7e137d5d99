"""A guarded Airflow task that stages a DuckDB table: ``dag.test()`` audits and publishes it in the engine."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import importlib.util

import pytest

if importlib.util.find_spec("airflow") is None:
    pytest.skip("Airflow is not installed here (it runs in .venv-airflow)", allow_module_level=True)
from tests.airflow.home import DAGS, airflow_db  # noqa: E402, F401  (sets AIRFLOW_HOME before Airflow loads)

pytest.importorskip("ibis")
from tests.engines.wap import BAD_IDS, GOOD_IDS, ids, write_contract  # noqa: E402

pytestmark = pytest.mark.xdist_group("airflow")


def _asset_extras(dag_run: Any) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.scalars(select(AssetEvent).where(AssetEvent.source_run_id == dag_run.run_id)).all()
        return [dict(event.extra) for event in events]


def test_dag_stages_a_table_and_publishes_it_in_duckdb(airflow_db: Path, tmp_path: Path) -> None:
    """The task's staged table is split in DuckDB; the asset event's extra is the outcome record, as for frames."""
    database = str(tmp_path / "warehouse.duckdb")
    spec = {"database": database, "contract": str(write_contract(tmp_path)), "quarantine": str(tmp_path / "q")}
    (DAGS / "engine_wap.json").write_text(json.dumps(spec))
    (DAGS / "engine_wap.py").write_text(
        "from pathlib import Path\n"
        "if Path(__file__).with_name('engine_wap.json').exists():\n"
        "    from tests.engines.airflow_table_dag import build_from_file\n"
        "    dag = build_from_file(Path(__file__).with_name('engine_wap.json'))\n"
    )
    from tests.engines.airflow_table_dag import build_from_file

    dag_run = build_from_file(DAGS / "engine_wap.json").test(logical_date=datetime(2026, 11, 4, tzinfo=UTC))

    assert str(dag_run.state) == "success"
    assert set(ids(database, "tx")) == GOOD_IDS and set(ids(database, "tx_quarantine")) == BAD_IDS
    [extra] = _asset_extras(dag_run)
    assert extra["status"] == "failed" and extra["quarantined"] is True
    assert (extra["rows_in"], extra["rows_published"], extra["rows_quarantined"]) == (6, 4, 2)
    assert extra["partition"] == "2026-11-03" and extra["batch_id"] == "tx.2026-11-03"
    assert extra["target"].endswith(f"{database}?table=tx") and extra["quarantine_table"] == "tx_quarantine"
    assert sorted(extra["failed_rules"]) == ["amount.not_null", "amount.range"]
    assert (extra["dag_id"], extra["task_id"]) == ("guardrails_engine_wap", "stage_transactions")


def test_table_targets_name_their_asset_without_credentials() -> None:
    """A table URI target is parsed when the DAG is, and its default asset names the table without the password."""
    from guardrails.airflow.operator import build_guard_spec
    from guardrails.quarantine import TableTarget

    contract = Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml"
    spec = build_guard_spec(contract, "postgresql://etl:s3cr3t@db.internal/warehouse?table=raw.tx")
    assert isinstance(spec.target, TableTarget)
    assert spec.asset.uri == "postgres://db.internal:5432/warehouse/raw/tx"
    duck = build_guard_spec(contract, "duckdb:///srv/warehouse.duckdb?table=tx")
    assert duck.asset.uri.startswith("duckdb:") and duck.asset.uri.endswith("/srv/warehouse.duckdb/tx")
