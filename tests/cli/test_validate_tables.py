"""`guardrails validate --table`: a contract file with several tables validates the one DATA holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from guardrails.cli import app

CORPUS = Path(__file__).resolve().parents[1] / "contract" / "fixtures" / "odcs_corpus"
SENSORS = CORPUS / "sensor_readings_v3_2.odcs.yaml"
AS_OF = "2026-11-30T13:00:00+00:00"

runner = CliRunner()


def readings(tmp_path: Path, value: float) -> Path:
    path = tmp_path / "readings.parquet"
    at = datetime(2026, 11, 30, 12, 55, tzinfo=UTC)
    pl.DataFrame({"device_id": ["dev-0000000a"], "measured_at": [at], "value": [value]}).write_parquet(path)
    return path


def test_table_option_validates_that_table_by_name_or_physical_name(tmp_path: Path) -> None:
    """--table readings (or iot.readings) judges DATA by that table's rules: in range passes, out of range fails."""
    good = runner.invoke(app, ["validate", str(SENSORS), str(readings(tmp_path, 21.5)), "--table", "readings",
                               "--as-of", AS_OF, "--json"])
    assert good.exit_code == 0, good.output
    assert {r["rule_id"] for r in json.loads(good.stdout)["rules"]} >= {"value.range", "readings.row_count"}
    bad = runner.invoke(app, ["validate", str(SENSORS), str(readings(tmp_path, 5000.0)), "--table", "iot.readings",
                              "--as-of", AS_OF, "--json"])
    assert bad.exit_code == 1
    assert [r["rule_id"] for r in json.loads(bad.stdout)["rules"] if r["status"] == "failed"] == ["value.range"]


def test_without_table_a_multi_table_contract_exits_two_naming_its_tables(tmp_path: Path) -> None:
    """No --table on a two-table file: one line naming both tables, exit 2, nothing validated."""
    result = runner.invoke(app, ["validate", str(SENSORS), str(readings(tmp_path, 21.5))])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"guardrails: {SENSORS}:27: schema: expected --table naming the table DATA holds, "
        "got 2 tables: devices, readings"
    ]
    assert result.stdout == ""


def test_an_unknown_table_exits_two_with_a_suggestion(tmp_path: Path) -> None:
    """--table naming no table of the file is a contract error with a did-you-mean, exit 2."""
    result = runner.invoke(app, ["validate", str(SENSORS), str(readings(tmp_path, 21.5)), "--table", "reading"])
    assert result.exit_code == 2 and "did you mean 'readings'?" in result.stderr
