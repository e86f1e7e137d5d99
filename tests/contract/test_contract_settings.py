"""Our customProperties (drift, parity, freshness) become typed settings when the contract is loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guardrails.checks import DriftSettings, FreshnessSettings, ParitySettings
from guardrails.checks.band import Band
from guardrails.contract import load_contract
from guardrails.contract.model import RuleKind
from guardrails.errors import ContractError
from guardrails.validation import validate

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = Path(__file__).parents[2] / "expectations" / "transactions.odcs.yaml"


def test_settings_are_typed_on_the_loaded_contract() -> None:
    """Drift, parity and freshness settings are parsed once at load and `from_contract` returns those objects."""
    contract = load_contract(FIXTURES / "good" / "all_features.odcs.yaml")
    assert isinstance(contract.drift, DriftSettings) and contract.drift.columns == ("price", "quantity")
    assert contract.drift.thresholds.psi == Band(0.1, 0.25)
    assert isinstance(contract.parity, ParitySettings) and contract.parity.keys == ("tenant_id", "order_id")
    assert isinstance(contract.freshness, FreshnessSettings) and contract.freshness.arrival_column == "created_at"
    assert DriftSettings.from_contract(contract) is contract.drift
    assert ParitySettings.from_contract(contract) is contract.parity
    assert FreshnessSettings.from_contract(contract) is contract.freshness


def test_settings_absent_from_the_contract_stay_unset() -> None:
    """A contract without drift or parity settings has none; the checks fall back to their defaults as before."""
    contract = load_contract(EXAMPLE)
    assert contract.drift is None and contract.parity is None
    assert isinstance(contract.freshness, FreshnessSettings)  # from slaProperties latency and frequency
    assert DriftSettings.from_contract(contract) == DriftSettings()
    assert ParitySettings.from_contract(contract).keys == contract.primary_key


def test_bad_settings_fail_the_load_with_file_line_and_field() -> None:
    """Settings that their checks refuse fail `load_contract` itself (not the first run), naming file, line, field."""
    path = FIXTURES / "lint" / "bad_settings.odcs.yaml"
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    assert [(e.path, e.line, e.field) for e in caught.value.errors] == [
        (str(path), 11, "customProperties.parity.tolerance.abs"),
        (str(path), 14, "customProperties.drift.bogus"),
    ]
    assert str(caught.value).startswith(f"{path}:11: customProperties.parity.tolerance.abs: expected")


def test_bad_freshness_sla_fails_the_load_on_its_line(tmp_path: Path) -> None:
    """A freshness SLA the freshness check cannot use (a unit it does not know) fails at load, on the SLA's line."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("    value: 26\n    unit: h\n", "    value: 26\n    unit: fortnights\n")
    path = tmp_path / "c.odcs.yaml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("  - property: latency") + 1
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    assert (caught.value.line, caught.value.field) == (line, "slaProperties.latency.value/unit")


def test_rule_kinds_are_an_enum_serialised_as_their_strings() -> None:
    """Every rule's kind is a `RuleKind`, and an outcome's JSON carries the same plain strings as before."""
    import polars as pl

    contract = load_contract(EXAMPLE)
    assert all(isinstance(rule.kind, RuleKind) for rule in contract.rules)
    kinds = {rule.rule_id: rule.kind for rule in contract.rules}
    assert kinds["amount.range"] is RuleKind.RANGE and kinds["amount.range"] == "range"
    outcome = validate(contract, pl.DataFrame({"transaction_id": ["a"]})).outcome
    data = json.loads(json.dumps(outcome.to_dict()))
    written = {r["rule_id"]: r["kind"] for r in data["rules"]}
    assert written["amount.range"] == "range" and type(written["amount.range"]) is str
    assert written == {rule_id: kind.value for rule_id, kind in kinds.items() if rule_id in written}
