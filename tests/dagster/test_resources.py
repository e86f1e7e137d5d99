"""Resources: where contracts and quarantined batches live, configurable per deployment."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

import guardrails.dagster as adapter
from definitions.data import Defect, generate_transactions
from guardrails.dagster import ContractsResource, QuarantineResource, guarded_asset, guardrails_resources
from guardrails.dagster import outcome_from_metadata
from tests.dagster.conftest import CONTRACT, recent_day


def test_exported_members_are_curated():
    """The package exports exactly its public API, each name importable."""
    assert sorted(adapter.__all__) == sorted(
        ["OUTCOME_KEY", "CheckHistoryEntry", "ContractGuardrail", "ContractsResource", "GuardrailsComponent",
         "ModelRegistryResource", "QuarantineResource", "build_contract_checks", "build_model_guard_sensor",
         "build_model_pin_sensor",
         "guarded_asset", "guarded_automation_condition", "guarded_table_asset", "guardrails_resources", "outcome_from_metadata",
         "read_check_history", "release_guarded_batch"]
    )
    assert all(hasattr(adapter, name) for name in adapter.__all__)


def test_guardrails_resources_read_the_environment(monkeypatch, tmp_path):
    """GUARDRAILS_QUARANTINE / GUARDRAILS_CONTRACTS configure the default resources; unset means defaults."""
    monkeypatch.delenv("GUARDRAILS_QUARANTINE", raising=False)
    monkeypatch.delenv("GUARDRAILS_CONTRACTS", raising=False)
    defaults = guardrails_resources()
    assert defaults["quarantine"].location == ".guardrails/quarantine"
    assert defaults["contracts"].directory == "expectations"

    monkeypatch.setenv("GUARDRAILS_QUARANTINE", str(tmp_path / "q"))
    monkeypatch.setenv("GUARDRAILS_CONTRACTS", str(CONTRACT.parent))
    configured = guardrails_resources()

    @dg.asset
    def probe(quarantine: QuarantineResource, contracts: ContractsResource) -> str:
        return f"{quarantine.get_store().root}|{contracts.load('transactions.odcs.yaml').version}"

    result = dg.materialize([probe], resources=configured)
    assert result.output_for_node("probe") == f"{tmp_path / 'q'}|1.2.0"


def test_contract_is_reread_at_run_time_through_the_contracts_resource(instance, resources, tmp_path, monkeypatch):
    """With contracts_resource_key the run is judged by the file in the resource's directory (its version)."""
    monkeypatch.setenv("GUARDRAILS_CONTRACTS", str(CONTRACT.parent))  # where the definitions find it
    deployed = tmp_path / "contracts"
    deployed.mkdir()
    (deployed / "transactions.odcs.yaml").write_text(CONTRACT.read_text().replace("version: 1.2.0", "version: 1.3.0"))

    @guarded_asset(contract="transactions.odcs.yaml", contracts_resource_key="contracts")
    def transactions() -> pl.DataFrame:
        return generate_transactions(recent_day(), rows=200)

    result = dg.materialize([transactions], instance=instance,
                            resources={**resources, "contracts": ContractsResource(directory=str(deployed))})
    [evaluation] = result.get_asset_check_evaluations()
    assert outcome_from_metadata(evaluation.metadata).contract_version == "1.3.0"
    [spec] = transactions.check_specs
    assert spec.metadata["guardrails/contract_version"] == "1.2.0"  # what the definitions were built with


def test_guarded_asset_refuses_options_it_owns():
    """check_specs and output_required belong to the guard; passing them is a definition-time error."""
    with pytest.raises(ValueError, match="output_required"):
        guarded_asset(contract=str(CONTRACT), output_required=True)


def test_unwritable_quarantine_store_fails_closed(instance, resources, tmp_path):
    """If the quarantine store cannot be written, the run fails naming the store and nothing is published."""
    blocker = tmp_path / "not_a_directory"
    blocker.write_text("a file where the store's directory should be")

    @guarded_asset(contract=str(CONTRACT))
    def transactions() -> pl.DataFrame:
        return generate_transactions(recent_day(), rows=200, defect=Defect.NULLS)

    result = dg.materialize([transactions], instance=instance, raise_on_error=False,
                            resources={**resources, "quarantine": QuarantineResource(location=str(blocker / "q"))})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "quarantine store failed" in failure.step_failure_data.user_failure_data.description
    assert not (tmp_path / "warehouse").exists()
