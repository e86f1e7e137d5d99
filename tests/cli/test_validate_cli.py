"""`guardrails validate`: exit codes, JSON output and clear errors on real Parquet files."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from definitions.data import Defect, defect_rows, generate_transactions, write_batch
from guardrails.cli import app

CONTRACT = "expectations/transactions.odcs.yaml"
SUITE = "expectations/transactions.gx.json"
DAY = date(2026, 11, 20)
AS_OF = "2026-11-21T06:00:00+00:00"
ROWS = 1_000

runner = CliRunner()


def batch(tmp_path: Path, defect: Defect | None = None) -> Path:
    frame = generate_transactions(DAY, ROWS, defect=defect)
    return write_batch(frame, tmp_path / f"{defect or 'good'}.parquet", defect=defect)


def test_clean_batch_exits_zero(tmp_path: Path) -> None:
    """A batch that honours the contract exits 0 and says every rule passed."""
    result = runner.invoke(app, ["validate", CONTRACT, str(batch(tmp_path)), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert "passed" in result.output


@pytest.mark.parametrize(
    ("defect", "rule_id"),
    [
        (Defect.UNKNOWN_CATEGORIES, "merchant_category.allowed_values"),
        (Defect.OUT_OF_RANGE_AMOUNTS, "amount.range"),
        (Defect.FUTURE_TIMESTAMPS, "event_time.not_in_future"),
    ],
)
def test_failing_batch_exits_one_and_json_names_the_rule(tmp_path: Path, defect: Defect, rule_id: str) -> None:
    """A batch breaking an error rule exits 1, and --json reports that rule with the exact failing-row count."""
    result = runner.invoke(app, ["validate", CONTRACT, str(batch(tmp_path, defect)), "--as-of", AS_OF, "--json"])
    assert result.exit_code == 1, result.output
    outcome = json.loads(result.stdout)
    failed = {r["rule_id"]: r["failing_rows"] for r in outcome["rules"] if r["status"] == "failed"}
    assert failed == {rule_id: defect_rows(ROWS, defect)}
    assert outcome["as_of"].startswith("2026-11-21T06:00:00")


def test_corrupt_file_exits_two_with_the_cause(tmp_path: Path) -> None:
    """A truncated Parquet file is reported as unreadable (exit 2), naming the file, with no traceback."""
    path = batch(tmp_path, Defect.CORRUPT_FILE)
    result = runner.invoke(app, ["validate", CONTRACT, str(path)])
    assert result.exit_code == 2
    assert f"cannot read {path}" in result.output
    assert "Traceback" not in result.output


def test_malformed_contract_exits_two_naming_file_and_field(tmp_path: Path) -> None:
    """A contract with a non-numeric minimum exits 2 with the file, the field path and what was expected."""
    text = Path(CONTRACT).read_text().replace("minimum: 0\n", "minimum: ten\n", 1)
    bad = tmp_path / "bad.odcs.yaml"
    bad.write_text(text)
    result = runner.invoke(app, ["validate", str(bad), str(batch(tmp_path))])
    assert result.exit_code == 2
    assert str(bad) in result.output and "logicalTypeOptions.minimum" in result.output


def test_great_expectations_suite_runs_through_the_same_command(tmp_path: Path) -> None:
    """A GX suite (*.json) is validated by the GX engine and fails the same defect with the same count."""
    data = str(batch(tmp_path, Defect.UNKNOWN_CATEGORIES))
    cutoff = ["--param", "max_age_cutoff=2026-10-22T06:00:00+00:00"]
    result = runner.invoke(app, ["validate", SUITE, data, "--as-of", AS_OF, *cutoff, "--json"])
    assert result.exit_code == 1, result.output
    outcome = json.loads(result.stdout)
    assert outcome["kind"] == "great_expectations"
    assert sum(r["failing_rows"] for r in outcome["rules"] if r["status"] == "failed") == defect_rows(
        ROWS, Defect.UNKNOWN_CATEGORIES
    )


def test_piped_output_never_folds_ids(tmp_path: Path) -> None:
    """Captured (non-terminal) output is wide enough that rule ids and the sample's ids stay on one line."""
    result = runner.invoke(
        app, ["validate", CONTRACT, str(batch(tmp_path, Defect.UNKNOWN_CATEGORIES)), "--as-of", AS_OF], env={"TERM": "dumb"}
    )
    assert result.exit_code == 1
    assert "merchant_category.allowed_values" in result.output
    assert "tx_" in result.output and all(len(line) <= 200 for line in result.output.splitlines())


def test_missing_suite_parameter_says_how_to_pass_it(tmp_path: Path) -> None:
    """A GX suite whose $PARAMETER was not given exits 2 and names the parameter and the --param option."""
    result = runner.invoke(app, ["validate", SUITE, str(batch(tmp_path)), "--as-of", AS_OF])
    assert result.exit_code == 2
    assert "max_age_cutoff" in result.output and "--param NAME=VALUE" in result.output


def test_json_reports_could_not_run_as_an_error_outcome(tmp_path: Path) -> None:
    """Under --json an unreadable file still yields a JSON outcome: status error, the cause, exit 2."""
    result = runner.invoke(app, ["validate", CONTRACT, str(batch(tmp_path, Defect.CORRUPT_FILE)), "--json"])
    assert result.exit_code == 2
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "error" and outcome["error"].startswith("ArrowInvalid")
    assert outcome["contract_id"] == "urn:datacontract:payments:transactions"


def test_json_reports_a_malformed_contract_with_file_line_and_field(tmp_path: Path) -> None:
    """Under --json a malformed contract yields a JSON error naming the file, line and field (exit 2)."""
    bad = tmp_path / "bad.odcs.yaml"
    bad.write_text(Path(CONTRACT).read_text().replace("minimum: 0\n", "minimum: ten\n", 1))
    result = runner.invoke(app, ["validate", str(bad), str(batch(tmp_path)), "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert error["path"] == str(bad) and error["field"].endswith("logicalTypeOptions.minimum") and error["line"] > 0


def test_empty_directory_could_not_run(tmp_path: Path) -> None:
    """A directory without Parquet files is reported as unreadable (exit 2), not validated as a 0-column table."""
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["validate", CONTRACT, str(empty)])
    assert result.exit_code == 2 and "no Parquet files" in result.output


def test_failed_rule_says_why(tmp_path: Path) -> None:
    """A schema change shows the reason (the column is missing) next to the failed rules, not only in JSON."""
    result = runner.invoke(app, ["validate", CONTRACT, str(batch(tmp_path, Defect.SCHEMA_CHANGE)), "--as-of", AS_OF])
    assert result.exit_code == 1
    assert "amount.type" in result.output and "column is missing" in result.output


def test_version_prints_the_installed_version() -> None:
    """`guardrails --version` prints the distribution's version and exits 0."""
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"guardrails {version('pipeline-guardrails')}"


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a fresh interpreter (what a user runs), with its own stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-c", "from guardrails.cli import main; main()", *args],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(Path.cwd())}, check=False,
    )


def test_a_column_type_polars_cannot_hold_is_one_line_and_exit_two(tmp_path: Path) -> None:
    """A decimal256 column exits 2 with one line naming the column and its type: no panic, no backtrace."""
    table = generate_transactions(DAY, ROWS).to_arrow()
    path = tmp_path / "wide.parquet"
    pq.write_table(table.append_column("fee", pa.array([1] * ROWS, pa.decimal256(60, 0))), path)
    result = _run_cli("validate", CONTRACT, str(path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"guardrails: cannot read {path}: UnreadableBatchError: column 'fee' has a type the engine (polars) cannot "
        "read: decimal256(60, 0); cast upstream (e.g. to decimal128 with precision <= 38, float64 or string)"
    ]


def test_duplicated_column_names_are_named_on_one_line(tmp_path: Path) -> None:
    """Duplicated column names exit 2 with one line naming them, not a dump of the schema."""
    table = generate_transactions(DAY, ROWS).to_arrow()
    path = tmp_path / "dup.parquet"
    pq.write_table(table.append_column("amount", table["amount"]), path)
    result = runner.invoke(app, ["validate", CONTRACT, str(path), "--json"])
    assert result.exit_code == 2
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "error" and outcome["message"] == f"cannot read {path}"
    assert outcome["error"] == "UnreadableBatchError: column name is duplicated: 'amount'; rename them upstream"


@pytest.mark.parametrize("hive", [False, True], ids=["flat", "hive"])
def test_a_directory_of_parquet_files_is_validated_as_one_batch(tmp_path: Path, hive: bool) -> None:
    """A (hive-partitioned) directory is one dataset: every row counted once, the defect found with its exact count."""
    frame = generate_transactions(DAY, ROWS, defect=Defect.OUT_OF_RANGE_AMOUNTS)
    for index, part in enumerate((frame[: ROWS // 2], frame[ROWS // 2 :])):
        target = tmp_path / "landing" / (f"part={index}/data.parquet" if hive else f"data-{index}.parquet")
        target.parent.mkdir(parents=True, exist_ok=True)
        part.write_parquet(target)
    result = runner.invoke(app, ["validate", CONTRACT, str(tmp_path / "landing"), "--as-of", AS_OF, "--json"])
    assert result.exit_code == 1, result.output
    outcome = json.loads(result.stdout)
    assert outcome["rows"] == ROWS
    assert {r["rule_id"]: r["failing_rows"] for r in outcome["rules"] if r["status"] == "failed"} == {
        "amount.range": defect_rows(ROWS, Defect.OUT_OF_RANGE_AMOUNTS)
    }


def test_validate_imports_no_host_or_pandas(tmp_path: Path) -> None:
    """`guardrails validate` on an ODCS contract loads neither pandas nor dagster, mlflow, GX or pandera."""
    data = str(batch(tmp_path))
    script = (
        "import sys\nfrom guardrails.cli import main\n"
        "try:\n    main()\nexcept SystemExit as done:\n    code = done.code\n"
        "heavy = ('pandas', 'dagster', 'mlflow', 'great_expectations', 'pandera')\n"
        "print([m for m in heavy if m in sys.modules], code, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "validate", CONTRACT, data, "--as-of", AS_OF, "--json"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(Path.cwd())}, check=False,
    )
    assert result.stderr.strip().splitlines()[-1] == "[] 0", result.stderr


def test_a_suite_run_refuses_unreadable_columns_the_same_way(tmp_path: Path) -> None:
    """A GX suite over a file with a decimal256 column could not run either: exit 2, one line naming the column."""
    table = generate_transactions(DAY, ROWS).to_arrow()
    path = tmp_path / "wide.parquet"
    pq.write_table(table.append_column("fee", pa.array([1] * ROWS, pa.decimal256(60, 0))), path)
    result = runner.invoke(app, ["validate", SUITE, str(path), "--json"])
    assert result.exit_code == 2
    outcome = json.loads(result.stdout)
    assert outcome["kind"] == "great_expectations" and outcome["message"] == f"cannot read {path}"
    assert outcome["error"].startswith("UnreadableBatchError: column 'fee'") and "\n" not in outcome["error"]
