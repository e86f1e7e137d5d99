"""The README's PostgreSQL `dagster.yaml`, with Dagster's ordinary `postgresql://` URL, runs a guarded asset."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from typer.testing import CliRunner

from definitions.data import Defect, generate_transactions
from guardrails.cli import app as cli
from guardrails.dagster import QuarantineResource, guarded_asset, read_check_history
from tests.dagster.conftest import ParquetIOManager, recent_day

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.postgres


def readme_dagster_yaml() -> str:
    """The README's ```yaml block that configures PostgreSQL storage (the one naming `postgres_url`)."""
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), flags=re.S)
    (block,) = [b for b in blocks if "postgres_url:" in b]
    return block


def test_readme_dagster_yaml_uses_the_ordinary_url():
    """The README shows the plain `postgresql://` URL Dagster documents, not a driver-qualified one."""
    assert re.search(r"postgres_url: postgresql://\S+", readme_dagster_yaml())


def test_readme_dagster_yaml_runs_a_guarded_asset(postgres_url, tmp_path, contract_path, monkeypatch):
    """With the README's dagster.yaml (pointed at a fresh database), a bad batch is quarantined and the
    failed evaluation is read back by `guardrails history`: SQLAlchemy's default driver for the URL is installed."""
    database = postgres_url.rsplit("/", 1)[1]
    config = re.sub(r"(postgres_url: postgresql://\S+/)\S+", rf"\g<1>{database}", readme_dagster_yaml())
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(config)

    @guarded_asset(contract=str(contract_path))
    def transactions() -> pl.DataFrame:
        return generate_transactions(recent_day(), rows=200, defect=Defect.FUTURE_TIMESTAMPS)

    resources = {"quarantine": QuarantineResource(location=str(tmp_path / "quarantine")),
                 "io_manager": ParquetIOManager(base_dir=str(tmp_path / "warehouse"))}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.wipe()
        result = dg.materialize([transactions], instance=instance, resources=resources, raise_on_error=False)
        assert not result.success
        (entry,) = read_check_history(instance, "transactions", "transactions_contract")
        assert (entry.status, entry.run_id) == ("FAILED", result.run_id)

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    printed = CliRunner().invoke(cli, ["history", "transactions", "--json"])
    assert printed.exit_code == 0, printed.output
    assert result.run_id in printed.output
