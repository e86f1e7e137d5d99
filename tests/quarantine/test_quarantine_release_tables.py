"""`guardrails quarantine release --table`: a batch guarded by one table of a multi-table contract file."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import yaml
from typer.testing import CliRunner

from definitions.data import Defect, generate_transactions
from guardrails.cli import app
from guardrails.contract import Contract, load_contract_file
from guardrails.quarantine import QuarantineStore, guard_batch

DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parents[2] / "expectations" / "transactions.odcs.yaml"
runner = CliRunner()


def two_table_contract(tmp_path: Path) -> Path:
    """The example contract, fixed to accept negative amounts, with a second table (refunds) in the same file."""
    data = yaml.safe_load(EXAMPLE.read_text().replace("          minimum: 0\n", "          minimum: -10000000\n"))
    data["schema"].append({"name": "refunds", "properties": [{"name": "refund_id", "logicalType": "string",
                                                              "required": True}]})
    path = tmp_path / "payments.odcs.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_release_names_the_table_and_without_it_lists_the_tables(
    tmp_path: Path, contract: Contract, store: QuarantineStore
) -> None:
    """Without --table the release is refused (exit 2) naming both tables; with --table transactions it publishes."""
    batch_id = guard_batch(generate_transactions(DAY, 300, defect=Defect.OUT_OF_RANGE_AMOUNTS), contract, store,
                           as_of=AS_OF).batch_id
    path = two_table_contract(tmp_path)
    assert load_contract_file(path).tables == ("transactions", "refunds")
    args = ["quarantine", "release", batch_id, "--contract", str(path), "--store", str(store.root),
            "--as-of", AS_OF.isoformat()]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "got 2 tables: 'transactions', 'refunds'" in refused.stderr
    released = runner.invoke(app, [*args, "--table", "transactions", "--json"])
    assert released.exit_code == 0, released.output
    assert json.loads(released.stdout)["status"] == "released"
