"""Contract files with several tables in the Dagster adapter: one guardrail per table, checks naming their table."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from dagster.components.testing import create_defs_folder_sandbox

from guardrails.dagster import GuardrailsComponent, build_contract_checks
from guardrails.errors import ContractError
from tests.dagster.conftest import stored

CORPUS = Path(__file__).resolve().parents[1] / "contract" / "fixtures" / "odcs_corpus"
SENSORS = CORPUS / "sensor_readings_v3_2.odcs.yaml"


@dg.asset(key=["iot", "devices"])
def devices() -> pl.DataFrame:
    return pl.DataFrame({"device_id": ["dev-0000000a", "dev-0000000b"], "kind": ["thermometer", "barometer"],
                         "installed_on": [date(2024, 1, 1), date(2025, 6, 1)]})


@dg.asset(key=["iot", "readings"])
def readings() -> pl.DataFrame:
    at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    return pl.DataFrame({"device_id": ["dev-0000000a", "dev-0000000b", "dev-0000000b"],
                         "measured_at": [at, at, at], "value": [21.5, 1013.0, 5000.0]})  # 5000 hPa: out of range


def _defs_yaml(guardrails: list[dict]) -> str:
    return json.dumps({"type": "guardrails.dagster.GuardrailsComponent", "attributes": {"guardrails": guardrails}})


def test_one_entry_guards_every_table_of_the_file_each_on_its_own_asset(instance, resources, tmp_path):
    """`tables: all` checks each table's asset by name; a mapping with `{table}` names adds an audited copy; each
    check names its table and judges only that table's rules."""
    with create_defs_folder_sandbox() as sandbox:
        defs_path = sandbox.defs_folder_path / "guardrails"
        defs_path.mkdir()
        shutil.copy(SENSORS, defs_path / "sensors.odcs.yaml")
        (defs_path / "defs.yaml").write_text(_defs_yaml([
            {"contract": "sensors.odcs.yaml", "tables": "all", "asset_key_prefix": "iot"},
            {"contract": "sensors.odcs.yaml", "tables": {"readings": "iot/readings"},
             "check_name": "{table}_landing", "severity": "warning", "publish_as": "audited_{table}"},
        ]))
        with sandbox.load_component_and_build_defs(defs_path=defs_path) as (component, defs):
            assert isinstance(component, GuardrailsComponent)
            checks = {c.check_key: c for c in defs.asset_checks}
            device_key = dg.AssetCheckKey(devices.key, "devices_contract")
            reading_key = dg.AssetCheckKey(readings.key, "readings_contract")
            landing_key = dg.AssetCheckKey(readings.key, "readings_landing")
            assert set(checks) == {device_key, reading_key, landing_key}
            spec = next(iter(checks[device_key].check_specs))
            assert spec.metadata["guardrails/contract_table"] == "devices"
            [audited] = [a for a in defs.assets if a.key == dg.AssetKey("audited_readings")]
            assert next(iter(audited.check_specs)).name == "readings_contract"

            result = dg.materialize([devices, readings, audited, *checks.values()], instance=instance,
                                    resources=resources, raise_on_error=False)

    evaluations = {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}
    assert evaluations[(devices.key, "devices_contract")].passed
    failed = evaluations[(readings.key, "readings_contract")]
    assert not failed.passed and "value.range" in (failed.description or "")
    assert not evaluations[(readings.key, "readings_landing")].passed
    assert evaluations[(readings.key, "readings_landing")].severity is dg.AssetCheckSeverity.WARN
    assert stored(tmp_path / "warehouse", "iot", "readings").height == 3  # a check cannot un-store it
    assert stored(tmp_path / "warehouse", "audited_readings") is None  # the audited copy quarantined it


def test_a_table_the_file_lacks_fails_the_load_naming_the_tables_it_has():
    """A mapping naming a missing table is refused when the definitions load, with the tables there are."""
    component = GuardrailsComponent.resolve_from_yaml(json.dumps(
        {"guardrails": [{"contract": str(SENSORS), "tables": {"reading": "iot/readings"}}]}))
    with pytest.raises(ContractError, match=r"got only 'devices', 'readings' \(did you mean 'readings'\?\)"):
        component.guardrails[0].targets(SENSORS)


@pytest.mark.parametrize(("entry", "message"), [
    ({"asset": "iot/readings", "tables": "all"}, "either 'asset'"),
    ({}, "either 'asset'"),
    ({"tables": "all", "publish_as": "audited"}, "publish_as must contain {table}"),
    ({"tables": {"readings": "r"}, "asset_key_prefix": "iot"}, "only applies with tables: all"),
])
def test_ambiguous_entries_are_refused_when_the_yaml_is_read(entry, message):
    """An entry must say which asset(s) it guards, and per-table names must differ by table."""
    with pytest.raises(Exception, match=message):
        GuardrailsComponent.resolve_from_yaml(json.dumps({"guardrails": [{"contract": str(SENSORS), **entry}]}))


def test_a_multi_table_file_without_a_table_fails_the_definitions_listing_them():
    """`build_contract_checks` on a two-table file with no `table=` stops the code location load, naming both."""
    with pytest.raises(ContractError, match=r"got 2 tables: 'devices', 'readings'"):
        build_contract_checks(["iot/readings"], contract=SENSORS)
    [check] = build_contract_checks(["iot/readings"], contract=SENSORS, table="iot.readings")
    assert check.check_key.name == "readings_contract"


def test_incident_reports_find_a_multi_table_contract_by_its_id(tmp_path):
    """The contracts directory scan that names a contract's file in incident reports reads multi-table files."""
    from guardrails.dagster.incidents import contract_paths

    shutil.copy(SENSORS, tmp_path / "sensors.odcs.yaml")
    assert contract_paths(tmp_path) == {"iot-sensor-readings": str(tmp_path / "sensors.odcs.yaml")}
