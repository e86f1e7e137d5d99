"""Text from data or a contract is printed literally by the CLI (no markup, no emoji, no raw control characters),
and what the CLI and the quarantine manifest show of huge values is capped; the quarantined data is never cut."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from guardrails.cli import app
from guardrails.contract import load_contract
from guardrails.quarantine import QuarantineStore, guard_batch

HOSTILE = ("[/]", "[bold red]x", "\x1b[31mred", ":100:")
SHOWN = ("[/]", "[bold red]x", "\\x1b[31mred", ":100:")
"""How each hostile value must appear in human output: literally, with the escape character made visible."""

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: "urn:test:[/]notes:100:"
name: notes
version: 1.0.0
status: active
customProperties:
  - property: sampleSize
    value: 200
schema:
  - name: notes
    properties:
      - name: id
        logicalType: integer
        required: true
        primaryKey: true
        primaryKeyPosition: 1
      - name: note
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [ok]
            mustBe: 0
"""

runner = CliRunner()


@pytest.fixture
def contract_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.odcs.yaml"
    path.write_text(CONTRACT)
    return path


def _batch(tmp_path: Path, notes: list[str]) -> Path:
    path = tmp_path / "notes.parquet"
    pl.DataFrame({"id": list(range(len(notes))), "note": notes}).write_parquet(path)
    return path


def _assert_literal(output: str) -> None:
    assert "\x1b" not in output, "a raw escape character reached the terminal"
    for shown in SHOWN:
        assert shown in output, f"{shown!r} is not shown literally"
    assert "\N{HUNDRED POINTS SYMBOL}" not in output


def test_validate_prints_hostile_values_literally_and_exits_one(tmp_path: Path, contract_file: Path) -> None:
    """Markup, an ANSI escape and an emoji code in failing rows are printed as text; the exit code is 1 (failed)."""
    result = runner.invoke(app, ["validate", str(contract_file), str(_batch(tmp_path, [*HOSTILE, "ok"]))])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    _assert_literal(result.output)
    assert "urn:test:[/]notes:100:" in result.output


def test_validate_json_keeps_hostile_values_exact_and_escaped(tmp_path: Path, contract_file: Path) -> None:
    """--json carries the exact values (JSON-escaped, no raw ESC) and exits 1."""
    result = runner.invoke(app, ["validate", str(contract_file), str(_batch(tmp_path, [*HOSTILE, "ok"])), "--json"])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    assert "\x1b" not in result.stdout
    outcome = json.loads(result.stdout)
    assert [row["note"] for row in outcome["sample"]] == list(HOSTILE)


def test_contract_error_keeps_its_line_number(tmp_path: Path, contract_file: Path) -> None:
    """A contract error on line 100 prints `file:100: field`, never an emoji in place of the line number."""
    padded = tmp_path / "padded.odcs.yaml"
    padding = "# padding\n" * (100 - CONTRACT.count("\n"))  # `mustBe` is the contract's last line
    padded.write_text(CONTRACT.replace("status: active\n", "status: active\n" + padding, 1).replace("mustBe: 0", "mustBe: zero"))
    result = runner.invoke(app, ["validate", str(padded), str(_batch(tmp_path, ["ok"]))])
    assert result.exit_code == 2, result.output
    assert f"{padded}:100: " in result.output
    assert "\N{HUNDRED POINTS SYMBOL}" not in result.output


def test_quarantine_show_prints_hostile_values_literally(tmp_path: Path, contract_file: Path) -> None:
    """`quarantine show` of a batch holding markup, ANSI and emoji codes prints them as text and exits 0."""
    store = QuarantineStore(tmp_path / "quarantine")
    frame = pl.DataFrame({"id": [0, 1, 2, 3, 4], "note": [*HOSTILE, "ok"]})
    batch_id = guard_batch(frame, load_contract(contract_file), store, batch_id="hostile").batch_id
    result = runner.invoke(app, ["quarantine", "show", batch_id, "--store", str(store.root)])
    assert result.exit_code == 0, result.output
    _assert_literal(result.output)
    listed = runner.invoke(app, ["quarantine", "list", "--store", str(store.root)])
    assert listed.exit_code == 0 and "\x1b" not in listed.output


MEGABYTE = "m" * 1_000_000
ROWS = 80  # 80 one-megabyte values: more than the 64 KiB sample holds even at 1 KiB per value


def test_megabyte_values_are_capped_in_output_and_manifest_but_not_in_quarantine(
    tmp_path: Path, contract_file: Path
) -> None:
    """80 rows of 1 MB strings: validate prints < 100 KB (table and JSON), the manifest is < 100 KB, and says what
    it cut, while the quarantined Parquet keeps every full string."""
    notes = [MEGABYTE] * ROWS
    data = _batch(tmp_path, notes)
    shown = runner.invoke(app, ["validate", str(contract_file), str(data)])
    assert shown.exit_code == 1, shown.output
    assert len(shown.output.encode()) < 100_000
    assert "dropped" in shown.output
    as_json = runner.invoke(app, ["validate", str(contract_file), str(data), "--json"])
    assert as_json.exit_code == 1 and len(as_json.stdout.encode()) < 100_000
    outcome = json.loads(as_json.stdout)
    assert 0 < len(outcome["sample"]) < ROWS
    assert all(row["note"] == "m" * 1024 + "…[cut 998,976 chars]" for row in outcome["sample"])
    assert outcome["metrics"]["sample_rows_dropped"] == ROWS - len(outcome["sample"])

    store = QuarantineStore(tmp_path / "quarantine")
    guarded = guard_batch(pl.read_parquet(data), load_contract(contract_file), store, batch_id="huge")
    manifest = Path(store.root, guarded.batch_id, "manifest.json")
    assert manifest.stat().st_size < 100_000
    kept = pq.read_table(Path(store.root, guarded.batch_id, store.show(guarded.batch_id).data_file))
    assert kept.num_rows == ROWS and kept.column("note").to_pylist() == notes
    show = runner.invoke(app, ["quarantine", "show", guarded.batch_id, "--store", str(store.root)])
    assert show.exit_code == 0 and len(show.output.encode()) < 100_000
