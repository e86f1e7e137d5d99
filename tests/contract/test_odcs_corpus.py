"""A corpus of real-world-style ODCS files, written for these tests in the style of other tools' contracts.

Each valid file (``fixtures/odcs_corpus/*.odcs.yaml``) declares in its header the tables it holds
(``# corpus: valid; tables: a, b``), the warnings lint must give (``# warn: field; field``), the rule types
it exercises (``# uses: ...``) and, for a file a feature not merged yet would accept, what it needs
(``# needs: ...``: expected to fail until then). Each invalid file (``invalid/``) names the exact field its
first error must name (``# field: ...``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from guardrails.contract import ContractFile, lint_contract, load_contract, load_contract_file
from guardrails.contract._source import parse_yaml
from guardrails.errors import ContractError

CORPUS = Path(__file__).parent / "fixtures" / "odcs_corpus"
VALID = sorted(CORPUS.glob("*.odcs.yaml"))
INVALID = sorted((CORPUS / "invalid").glob("*.odcs.yaml"))


def header(path: Path, key: str) -> str | None:
    """The value of a ``# key: value`` header line (for ``corpus``, the part after ``tables:``)."""
    for line in path.read_text().splitlines():
        if line.startswith(f"# {key}: "):
            value = line.removeprefix(f"# {key}: ")
            return value.split("tables: ", 1)[1] if key == "corpus" else value
    return None


def listed(value: str | None, sep: str) -> list[str]:
    return [v.strip() for v in (value or "").split(sep) if v.strip()]


def valid_case(path: Path) -> pytest.param:  # type: ignore[valid-type]
    needs = header(path, "needs")
    marks = [pytest.mark.xfail(reason=f"{needs}: refused until it lands", raises=AssertionError, strict=True)] if needs else []
    return pytest.param(path, marks=marks, id=path.name.removesuffix(".odcs.yaml"))


def test_the_corpus_covers_what_issue_19_asks_for() -> None:
    """Multi-table files (one with many tables), the full example's sections, v3.0/3.1/3.2, pre-v3 names, part B
    rules and invalid files are all in the corpus."""
    texts = {p.name: p.read_text() for p in VALID}
    assert max(len(listed(header(p, "corpus"), ",")) for p in VALID) >= 30
    assert sum(len(listed(header(p, "corpus"), ",")) > 1 for p in VALID) >= 4
    assert {v for t in texts.values() for v in ("v3.0.", "v3.1.", "v3.2.") if f"apiVersion: {v}" in t} == {
        "v3.0.", "v3.1.", "v3.2."}
    full = texts["full_example_style_settlements.odcs.yaml"]
    for section in ("team:", "roles:", "servers:", "support:", "price:", "authoritativeDefinitions:", "driver:"):
        assert section in full
    assert any("isNullable" in t for t in texts.values()) and len(INVALID) >= 8
    assert {header(p, "uses") for p in VALID} >= {"type: sql quality rules (issue 19 part B)",
                                                  "type: custom quality rules (issue 19 part B)"}


@pytest.mark.parametrize("path", [valid_case(p) for p in VALID])
def test_valid_file_loads_every_table_and_lints_with_the_expected_warnings(path: Path) -> None:
    """Every table loads, alone or with the others, and lint reports the file ok with the listed warnings."""
    tables = listed(header(path, "corpus"), ",")
    report = lint_contract(path)
    assert report.ok, [e.message for e in report.errors]
    assert list(report.tables) == tables and [c.table for c in report.contracts] == tables
    expected_warnings = set(listed(header(path, "warn"), ";"))
    assert expected_warnings <= {w.field for w in report.warnings}
    file = load_contract_file(path)
    assert isinstance(file, ContractFile) and list(file.tables) == tables
    for table in tables:  # one table alone is the same contract as that table read with all the others
        assert load_contract(path, table=table) == file.contract(table)
    if len(tables) == 1:
        assert load_contract(path) == file.contracts[0] == report.contract


@pytest.mark.parametrize("path", INVALID, ids=[p.name.removesuffix(".odcs.yaml") for p in INVALID])
def test_invalid_file_is_refused_with_file_line_and_the_exact_field(path: Path) -> None:
    """The first error names the file, a line and exactly the field the header says; lint agrees."""
    field = header(path, "field")
    assert field, f"{path.name} has no '# field:' line"
    with pytest.raises(ContractError) as caught:
        load_contract_file(path)
    error = caught.value
    assert (error.path, error.field) == (str(path), field)
    assert error.line is not None and str(error).startswith(f"{path}:{error.line}: {field}: expected ")
    lines = parse_yaml(path.read_text(), str(path)).lines
    where = tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", field) if p)
    if where in lines:  # a field that is there (not a missing one): the error is on its own line
        assert error.line == lines[where]
    report = lint_contract(path)
    assert not report.ok and report.errors[0].field == field and report.contracts == ()


def test_each_table_keeps_its_own_key_and_the_sla_entries_that_name_it() -> None:
    """Orders and line items keep their own keys; an SLA entry whose element names one table applies to it only,
    and one without an element takes slaDefaultElement's table (retention: orders)."""
    file = load_contract_file(CORPUS / "orders_and_line_items.odcs.yaml")
    orders, items = file.contract("orders"), file.contract("public.order_lines")
    assert orders.primary_key == ("order_id",) and items.primary_key == ("order_id", "line_number")
    assert items.table == "line_items" and items.physical_name == "public.order_lines"
    assert orders.sla["latency"]["element"] == "orders.order_timestamp"
    assert items.sla["latency"]["element"] == "line_items.shipped_at"
    assert orders.sla["retention"]["element"] == "orders.order_timestamp" and "retention" not in items.sla
    assert orders.freshness is not None and orders.freshness.column == "order_timestamp"
    assert items.freshness is not None and items.freshness.column == "shipped_at"
    assert (file.id, file.version) == ("urn:datacontract:retail:orders", "2.3.0")


def test_sla_entries_differing_only_in_driver_are_valid_and_the_strictest_latency_is_checked() -> None:
    """Two timeOfAvailability entries (regulatory, analytics) load; of two latencies, the freshness check holds the
    batch to the stricter one, whichever driver it belongs to."""
    settlements = load_contract(CORPUS / "full_example_style_settlements.odcs.yaml")
    assert settlements.sla["timeOfAvailability"]["driver"] == "regulatory"  # first in file order: not checked
    readings = load_contract(CORPUS / "sensor_readings_v3_2.odcs.yaml", table="readings")
    assert readings.sla["latency"]["driver"] == "operational"
    assert readings.freshness is not None and readings.freshness.latency is not None
    assert readings.freshness.latency.total_seconds() == 15 * 60


def test_pre_v3_field_names_are_read_as_the_v3_fields_they_name() -> None:
    """isNullable: false makes a column required, isUnique a unique rule, isPrimaryKey the key; isNullable: true
    leaves the column optional."""
    contract = load_contract(CORPUS / "legacy_field_names_v3_0.odcs.yaml")
    ids = {r.rule_id for r in contract.rules}
    assert {"full_name.not_null", "email.unique", "customer_id.unique", "customer_id.not_null"} <= ids
    assert "email.not_null" not in ids and contract.primary_key == ("customer_id",)
    report = lint_contract(CORPUS / "legacy_field_names_v3_0.odcs.yaml")
    nullable = next(w for w in report.warnings if w.field.endswith("properties[1].isNullable"))
    assert nullable.line == 17 and "'required'" in nullable.expected and "required: true" in nullable.hint


def test_a_v3_field_next_to_its_pre_v3_name_wins(tmp_path: Path) -> None:
    """When both are written, the v3 field decides and the old one is reported as dropped."""
    path = tmp_path / "both.odcs.yaml"
    path.write_text("apiVersion: v3.0.0\nkind: DataContract\nid: both\nversion: 1.0.0\nschema:\n"
                    "  - name: t\n    properties:\n      - {name: id, logicalType: string, required: false, "
                    "isNullable: false}\n")
    report = lint_contract(path)
    assert report.ok and report.contract is not None
    assert "id.not_null" not in {r.rule_id for r in report.contract.rules}
    [warning] = [w for w in report.warnings if w.field.endswith("isNullable")]
    assert warning.hint == "required wins; remove isNullable"


def test_sql_rules_of_each_table_run_against_that_table_with_known_answers() -> None:
    """A query naming its table (``FROM shipments``) or ``{model}`` / ``{object}`` runs on the batch of the table
    it belongs to: a 1,500 kg shipment breaks the weight rule, 600 parcels of one shipment the per-shipment rule."""
    import polars as pl

    from guardrails.validation import validate

    file = load_contract_file(CORPUS / "sql_rules_multi_table.odcs.yaml")
    shipments = pl.DataFrame({"shipment_id": ["s1", "s2"], "weight_kg": [10.0, 1500.0]})
    outcome = validate(file.contract("shipments"), shipments, as_of=datetime(2026, 12, 1, tzinfo=UTC)).outcome
    status = {r.rule_id: r.status.value for r in outcome.rules}
    assert (status["weight_kg.sql"], status["shipments.sql"]) == ("failed", "passed")
    parcels = pl.DataFrame({"parcel_id": [f"p{i}" for i in range(600)], "shipment_id": ["s1"] * 599 + ["s2"]})
    outcome = validate(file.contract("parcels"), parcels, as_of=datetime(2026, 12, 1, tzinfo=UTC)).outcome
    assert {r.rule_id: r.status.value for r in outcome.rules}["parcels_per_shipment"] == "failed"
    fewer = parcels.head(400)
    outcome = validate(file.contract("parcels"), fewer, as_of=datetime(2026, 12, 1, tzinfo=UTC)).outcome
    assert {r.rule_id: r.status.value for r in outcome.rules}["parcels_per_shipment"] == "passed"


def test_an_sla_about_no_date_or_timestamp_column_is_recorded_not_checked() -> None:
    """An API's 300 ms latency (about the table itself) and a freshness on an object column stay in `sla`, configure
    no freshness check, and lint says why; a v3.0 team member's comment is not an unknown field."""
    path = CORPUS / "api_response_sla_v3_0.odcs.yaml"
    contract = load_contract(path)
    assert contract.sla["latency"]["unit"] == "ms" and contract.freshness is None
    warnings = {w.field: w.got for w in lint_contract(path).warnings}
    assert warnings["slaProperties[0].element"] == "the table 'exchange_rates' itself"
    assert warnings["slaProperties[1].element"] == "'quote', a column of logical type object"
    assert not any("comment" in field for field in warnings)


def test_a_team_member_comment_after_v3_0_is_read_as_its_description_with_a_warning(tmp_path: Path) -> None:
    """ODCS v3.1 renamed a team member's comment to description: a v3.1 file with one loads, with a warning."""
    path = tmp_path / "team.odcs.yaml"
    path.write_text("apiVersion: v3.1.0\nkind: DataContract\nid: t\nversion: 1.0.0\nteam:\n  members:\n"
                    "    - {username: ana, comment: keeper}\nschema:\n  - name: t\n    properties:\n"
                    "      - {name: id, logicalType: string, required: true}\n")
    report = lint_contract(path)
    assert report.ok
    [warning] = [w for w in report.warnings if w.field == "team.members[0].comment"]
    assert warning.line == 7 and warning.expected.startswith("description")


def test_a_table_without_properties_loads_with_a_warning_and_no_rules() -> None:
    """A drafted table has no column rules; lint says so on its line, and the other table is unaffected."""
    path = CORPUS / "draft_table_without_properties.odcs.yaml"
    report = lint_contract(path)
    [warning] = [w for w in report.warnings if w.field == "schema[1].properties"]
    assert warning.line == 18 and "properties" in warning.expected
    assert load_contract(path, table="returns").rules == ()
    assert load_contract(path, table="shipments").primary_key == ("shipment_id",)


def test_one_table_loads_even_when_another_table_of_the_file_is_invalid() -> None:
    """`load_contract(table=...)` translates that table only; the whole file (and lint) still refuses the other."""
    path = CORPUS / "invalid" / "bad_rule_in_second_table.odcs.yaml"
    assert load_contract(path, table="orders").table == "orders"
    with pytest.raises(ContractError, match=r"schema\[1\]\.properties\[1\]\.logicalTypeOptions\.minimum"):
        load_contract(path, table="line_items")
    assert lint_contract(path, table="orders").ok and not lint_contract(path).ok


def test_choosing_a_table_by_name_physical_name_or_not_at_all() -> None:
    """A ContractFile picks a table by name or physical name, and without one refuses several, listing them."""
    file = load_contract_file(CORPUS / "jaffle_shop_dbt.odcs.yaml")
    assert file.contract("main.orders") is file.contract("orders")
    with pytest.raises(ContractError, match=r"got 5 tables: 'stg_customers', 'stg_orders', 'stg_payments', "
                                            r"'customers', 'orders'"):
        file.contract()
    with pytest.raises(ContractError, match=r"did you mean 'customers'\?"):
        file.contract("customer")
