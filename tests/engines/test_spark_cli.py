"""``guardrails validate CONTRACT DIR --engine spark``: the contract run in Spark gives the polars engine's verdict.

Run in-process on the test session's SparkSession (the CLI uses the active session), on a hive-partitioned
directory of real Parquet files.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from definitions.data import Defect, generate_transactions
from guardrails.cli import app
from tests.engines.spark_backend import SPARK, spark  # noqa: F401

pytestmark = [SPARK, pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:.*(copy keyword|infer_string).*")]

CONTRACT = Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml"


def _validate(data: Path | str, *engine: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["validate", str(CONTRACT), str(data), *engine, "--as-of", "2026-11-21T00:00Z",
                                      "--json"])
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("defect", [None, Defect.DUPLICATE_IDS], ids=["clean", "duplicates"])
def test_validate_with_engine_spark_agrees_with_polars(spark: Any, tmp_path: Path, defect: Defect | None) -> None:
    """Exit code, status and every rule's failing count are the same through Spark as through polars."""
    partition = tmp_path / "tx" / "date=2026-11-20"
    partition.mkdir(parents=True)
    generate_transactions(date(2026, 11, 20), rows=400, defect=defect).write_parquet(partition / "part-0.parquet")
    code, ours = _validate(tmp_path / "tx", "--engine", "spark")
    reference_code, theirs = _validate(tmp_path / "tx", "--engine", "polars")
    assert code == reference_code == (0 if defect is None else 1)
    assert ours["status"] == theirs["status"]
    assert {r["rule_id"]: r["failing_rows"] for r in ours["rules"]} == {
        r["rule_id"]: r["failing_rows"] for r in theirs["rules"]
    }
    assert not spark.sparkContext._jsc.sc().isStopped()  # the CLI left the caller's session running


def test_validate_reads_a_table_of_the_active_session(spark: Any, tmp_path: Path) -> None:
    """A ``spark:///?table=NAME`` URI is judged on that table of the running session's catalog."""
    path = tmp_path / "tx.parquet"
    generate_transactions(date(2026, 11, 20), rows=200, defect=Defect.UNKNOWN_CATEGORIES).write_parquet(path)
    spark.read.parquet(str(path)).createOrReplaceTempView("engine_spark_tx")
    code, ours = _validate("spark:///?table=engine_spark_tx")
    failing = {r["rule_id"]: r["failing_rows"] for r in ours["rules"] if r["failing_rows"]}
    assert code == 1 and set(failing) == {"merchant_category.allowed_values"}
