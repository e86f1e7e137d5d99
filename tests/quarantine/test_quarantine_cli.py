"""`guardrails quarantine list|show|release|purge`: tables, --json, and exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from definitions.data import Defect, generate_transactions, write_batch
from guardrails.cli import app
from guardrails.contract import Contract
from guardrails.quarantine import QuarantineState, QuarantineStore, guard_batch

DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
ROWS = 400
runner = CliRunner()


@pytest.fixture
def quarantined(contract: Contract, store: QuarantineStore) -> dict[Defect, str]:
    """Two batches of the example quarantined under the example contract: null amounts, negative amounts."""
    return {
        defect: guard_batch(generate_transactions(DAY, ROWS, defect=defect), contract, store, as_of=AS_OF).batch_id
        for defect in (Defect.NULLS, Defect.OUT_OF_RANGE_AMOUNTS)
    }


@pytest.fixture
def fixed_contract(tmp_path: Path) -> Path:
    """The example contract as it would be after upstream agreed refunds are negative amounts (version 1.3.0)."""
    text = (Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml").read_text()
    assert "          minimum: 0\n" in text and "version: 1.2.0" in text
    path = tmp_path / "transactions.odcs.yaml"
    fixed = text.replace("          minimum: 0\n", "          minimum: -10000000\n")
    fixed = fixed.replace("version: 1.2.0", "version: 1.3.0")
    path.write_text(fixed)
    return path


def _cli(*args: str, **kwargs: object):  # noqa: ANN202 - click's Result
    return runner.invoke(app, ["quarantine", *args], **kwargs)  # type: ignore[arg-type]


def test_list_prints_a_table_and_json(store: QuarantineStore, quarantined: dict[Defect, str]) -> None:
    """`list` shows every batch with its reason; `--json` gives the manifests; `--state` filters."""
    result = _cli("list", "--store", store.root)
    assert result.exit_code == 0, result.output
    assert "2 batches" in result.output
    assert all(batch_id in result.output for batch_id in quarantined.values())
    listed = json.loads(_cli("list", "--store", store.root, "--json").stdout)
    assert {m["batch_id"] for m in listed} == set(quarantined.values())
    assert all(m["state"] == "quarantined" and m["rows_in"] == ROWS for m in listed)
    assert json.loads(_cli("list", "--store", store.root, "--state", "released", "--json").stdout) == []


def test_store_defaults_to_the_environment_variable(store: QuarantineStore, quarantined: dict[Defect, str]) -> None:
    """Without --store the CLI reads $GUARDRAILS_QUARANTINE."""
    result = _cli("list", "--json", env={"GUARDRAILS_QUARANTINE": store.root})
    assert {m["batch_id"] for m in json.loads(result.stdout)} == set(quarantined.values())


def test_show_prints_the_manifest(store: QuarantineStore, quarantined: dict[Defect, str]) -> None:
    """`show` prints the batch's facts, history and failing rules; `--json` is exactly the manifest."""
    batch_id = quarantined[Defect.NULLS]
    result = _cli("show", batch_id, "--store", store.root)
    assert result.exit_code == 0, result.output
    assert "amount.not_null" in result.output and "history" in result.output and "quarantined" in result.output
    shown = json.loads(_cli("show", batch_id, "--store", store.root, "--json").stdout)
    assert shown == store.show(batch_id).to_dict()


def test_unknown_batch_is_exit_code_2_with_one_clear_line(store: QuarantineStore) -> None:
    """An unknown id exits 2 with a message naming it, on stderr, and no traceback."""
    result = _cli("show", "tx-nope", "--store", store.root)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("guardrails: batch tx-nope: no such batch")
    assert "Traceback" not in result.output


def test_release_still_failing_is_refused_with_exit_code_1(
    store: QuarantineStore, quarantined: dict[Defect, str], fixed_contract: Path
) -> None:
    """Null amounts still break the fixed contract: exit 1, the new outcome in the JSON, the batch stays quarantined."""
    batch_id = quarantined[Defect.NULLS]
    as_of = AS_OF.isoformat()
    result = _cli(
        "release", batch_id, "--contract", str(fixed_contract), "--store", store.root, "--as-of", as_of, "--json"
    )
    assert result.exit_code == 1, result.output
    body = json.loads(result.stdout)
    assert body["status"] == "refused" and body["outcome"]["contract_version"] == "1.3.0"
    assert "amount.not_null" in body["message"]
    assert store.show(batch_id).state is QuarantineState.QUARANTINED


def test_release_that_passes_publishes_once_with_exit_code_0(
    store: QuarantineStore, quarantined: dict[Defect, str], fixed_contract: Path
) -> None:
    """Negative amounts pass the fixed contract: released (exit 0); a second release publishes nothing (exit 0)."""
    batch_id = quarantined[Defect.OUT_OF_RANGE_AMOUNTS]
    args = ("release", batch_id, "--contract", str(fixed_contract), "--store", store.root, "--as-of", AS_OF.isoformat())
    result = _cli(*args)
    assert result.exit_code == 0, result.output
    assert "released" in result.output
    assert Path(store.released_path(batch_id)).exists()
    again = _cli(*args, "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["status"] == "already_released"
    assert store.show(batch_id).release_outcome.contract_version == "1.3.0"  # type: ignore[union-attr]


def test_release_of_unreadable_data_is_exit_code_2(
    contract: Contract, store: QuarantineStore, tmp_path: Path, fixed_contract: Path
) -> None:
    """A batch kept because it could not be read still cannot be checked: exit 2, and it stays quarantined."""
    path = write_batch(generate_transactions(DAY, ROWS), tmp_path / "cut.parquet", defect=Defect.CORRUPT_FILE)
    batch_id = guard_batch(path, contract, store, as_of=AS_OF).batch_id
    result = _cli("release", batch_id, "--contract", str(fixed_contract), "--store", store.root, "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["outcome"]["status"] == "error"
    assert store.show(batch_id).state is QuarantineState.QUARANTINED


@pytest.mark.parametrize(
    "contract_text", [None, "apiVersion: v3.1.0\nkind: DataContract\nschema: 12\n"], ids=["missing", "malformed"]
)
def test_release_with_a_bad_contract_file_is_exit_code_2(
    store: QuarantineStore, quarantined: dict[Defect, str], tmp_path: Path, contract_text: str | None
) -> None:
    """A contract file that does not exist or does not parse exits 2 naming the file, and touches nothing."""
    path = tmp_path / "bad.odcs.yaml"
    if contract_text is not None:
        path.write_text(contract_text)
    batch_id = quarantined[Defect.OUT_OF_RANGE_AMOUNTS]
    result = _cli("release", batch_id, "--contract", str(path), "--store", store.root)
    assert result.exit_code == 2
    assert "bad.odcs.yaml" in result.stderr
    assert store.show(batch_id).state is QuarantineState.QUARANTINED


def test_purge_asks_first_and_keeps_a_tombstone(store: QuarantineStore, quarantined: dict[Defect, str]) -> None:
    """`purge` without --yes asks and does nothing on "no" (exit 1); with --yes it deletes and prints the tombstone."""
    batch_id = quarantined[Defect.NULLS]
    declined = _cli("purge", batch_id, "--store", store.root, input="n\n")
    assert declined.exit_code == 1 and store.show(batch_id).state is QuarantineState.QUARANTINED
    result = _cli("purge", batch_id, "--store", store.root, "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["state"] == "purged"
    assert store.show(batch_id).state is QuarantineState.PURGED


@pytest.mark.parametrize("command", ["list", "show", "release", "purge"])
def test_every_command_has_help(command: str) -> None:
    """Each subcommand documents itself under --help."""
    result = _cli(command, "--help")
    assert result.exit_code == 0 and "--store" in result.output and "--json" in result.output


def test_list_says_when_the_store_does_not_exist(tmp_path: Path) -> None:
    """A mistyped --store is not shown as an empty quarantine: the listing says no store is there."""
    result = runner.invoke(app, ["quarantine", "list", "--store", str(tmp_path / "typo")])
    assert result.exit_code == 0
    assert "there is no store there yet" in result.output
