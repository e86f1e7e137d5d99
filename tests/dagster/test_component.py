"""GuardrailsComponent builds contract checks (and audited copies) from a defs.yaml, and dg lists it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from dagster.components.testing import create_defs_folder_sandbox

from definitions.data import Defect, generate_transactions
from guardrails.dagster import GuardrailsComponent
from tests.dagster.conftest import CONTRACT, recent_day, stored

ROWS = 300


@dg.asset
def raw_transactions() -> pl.DataFrame:
    return generate_transactions(recent_day(), rows=ROWS, defect=Defect.SCHEMA_CHANGE)


def _yaml(attributes: dict) -> dict:
    return {"type": "guardrails.dagster.GuardrailsComponent", "attributes": attributes}


def test_component_from_defs_yaml_builds_checks_and_a_guarded_copy(instance, resources, tmp_path):
    """A defs.yaml with no Python yields contract checks and an audited copy that quarantines a bad batch."""
    with create_defs_folder_sandbox() as sandbox:
        defs_path = sandbox.defs_folder_path / "guardrails"
        defs_path.mkdir()
        shutil.copy(CONTRACT, defs_path / "transactions.odcs.yaml")  # resolved relative to the defs.yaml
        (defs_path / "defs.yaml").write_text(json.dumps(_yaml({
            "guardrails": [
                {"asset": "landing/transactions", "contract": "transactions.odcs.yaml"},
                {"asset": "raw_transactions", "contract": "transactions.odcs.yaml", "check_name": "landing_contract",
                 "severity": "warning", "publish_as": "audited_transactions", "policy": "rows"},
            ]
        })))
        with sandbox.load_component_and_build_defs(defs_path=defs_path) as (component, defs):
            assert isinstance(component, GuardrailsComponent)
            checks = {c.check_key: c for c in defs.asset_checks}
            blocking_key = dg.AssetCheckKey(dg.AssetKey(["landing", "transactions"]), "transactions_contract")
            warning_key = dg.AssetCheckKey(raw_transactions.key, "landing_contract")
            assert set(checks) == {blocking_key, warning_key}
            assert next(iter(checks[blocking_key].check_specs)).blocking
            assert not next(iter(checks[warning_key].check_specs)).blocking
            [audited] = [a for a in defs.assets if a.key == dg.AssetKey("audited_transactions")]
            assert audited.asset_deps[audited.key] == {raw_transactions.key}

            result = dg.materialize([raw_transactions, audited, checks[warning_key]], instance=instance,
                                    resources=resources, raise_on_error=False)

    assert not result.success  # the schema change cannot be split row by row: the whole batch is quarantined
    assert stored(tmp_path / "warehouse", "raw_transactions").height == ROWS
    assert stored(tmp_path / "warehouse", "audited_transactions") is None
    evaluations = {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}
    landing = evaluations[(raw_transactions.key, "landing_contract")]
    assert not landing.passed and landing.severity is dg.AssetCheckSeverity.WARN
    guard = evaluations[(audited.key, "transactions_contract")]
    assert not guard.passed and guard.severity is dg.AssetCheckSeverity.ERROR
    assert guard.target_materialization_data is None
    assert guard.metadata["guardrails/batch_id"].value == "audited_transactions"


def test_policy_without_publish_as_is_rejected_at_load():
    """A policy on a plain check cannot quarantine anything, so loading the YAML fails and says why."""
    with pytest.raises(Exception, match="publish_as"):
        GuardrailsComponent.resolve_from_yaml(json.dumps(_yaml({
            "guardrails": [{"asset": "raw_transactions", "contract": str(CONTRACT), "policy": "rows"}]
        })["attributes"]))


@pytest.mark.slow
def test_dg_lists_the_component(tmp_path):
    """`dg list components --json` shows guardrails.dagster.GuardrailsComponent via the entry point."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    dg_cli = Path(sys.executable).with_name("dg")
    done = subprocess.run([str(dg_cli), "list", "components", "--json"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120, env={**os.environ, "DAGSTER_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout[done.stdout.index("{"):])["items"]
    [ours] = [item for item in items if item["key"] == "guardrails.dagster.GuardrailsComponent"]
    assert "Contract checks" in ours["summary"]
