"""Loading ODCS v3 contract files into the typed `Contract`, and refusing malformed ones with precise messages."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrails.contract import (
    lint_contract,
    AllowedValuesRule,
    ColumnTypeRule,
    LogicalType,
    MaxAgeRule,
    MissingValuesRule,
    NotInFutureRule,
    NotNullRule,
    PatternRule,
    QuarantinePolicy,
    RangeRule,
    RowCountRule,
    Threshold,
    UniqueRule,
    load_contract,
    parse_duration,
)
from guardrails.contract import _columns, _quality
from guardrails.contract._source import parse_yaml
from guardrails.contract.custom_properties import COLUMN_PROPERTIES, CONTRACT_PROPERTIES
from guardrails.contract.model import OPERATORS
from guardrails.errors import ContractError
from guardrails.outcome import Severity

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "expectations" / "transactions.odcs.yaml"
FIXTURES = Path(__file__).parent / "fixtures"
GOOD = sorted((FIXTURES / "good").glob("*.odcs.yaml"))
BAD = sorted((FIXTURES / "bad").glob("*.odcs.yaml"))


def line_containing(path: Path, text: str, *, after: str | None = None) -> int:
    """The 1-based line of the first occurrence of `text` (after the first line containing `after`)."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and text in line) + 1


def rules_by_id(contract: Any) -> dict[str, Any]:
    return {rule.rule_id: rule for rule in contract.rules}


# --- the example contract ------------------------------------------------------------------------------------


def test_example_contract_loads_into_the_expected_rules() -> None:
    """The lead's transactions contract becomes exactly the rules its YAML describes."""
    contract = load_contract(EXAMPLE)
    rules = rules_by_id(contract)

    assert (contract.id, contract.version, contract.table) == ("urn:datacontract:payments:transactions", "1.2.0", "transactions")
    assert contract.primary_key == ("transaction_id",)
    assert contract.policy is QuarantinePolicy.BATCH and contract.sample_size == 20
    assert [c.column for c in contract.columns] == [
        "transaction_id", "account_id", "merchant_id", "amount", "currency", "merchant_category", "channel",
        "country", "card_present", "event_time", "is_fraud",
    ]
    assert rules["amount.type"] == ColumnTypeRule(
        rule_id="amount.type", column="amount", logical_type=LogicalType.NUMBER, physical_type="double",
        required=True, description="amount is a number",
    )
    assert not rules["is_fraud.type"].required and "is_fraud.not_null" not in rules
    assert {r.column for r in contract.rules if isinstance(r, NotNullRule) and r.severity is Severity.ERROR} == {
        "transaction_id", "account_id", "merchant_id", "amount", "currency", "merchant_category", "channel",
        "card_present", "event_time",
    }
    assert (rules["amount.range"].minimum, rules["amount.range"].maximum) == (0, 50000)
    assert rules["transaction_id.pattern"].pattern == "^tx_[0-9]{12}$"
    assert (rules["merchant_id.length"].min_length, rules["merchant_id.length"].max_length) == (7, 7)
    assert rules["currency.allowed_values"].values == ("USD", "EUR", "GBP", "CAD")
    assert rules["channel.allowed_values"].values == ("online", "pos", "atm")
    assert len(rules["merchant_category.allowed_values"].values) == 10
    assert isinstance(rules["country.pattern"], PatternRule) and rules["country.pattern"].pattern == "^[A-Z]{2}$"
    country_nulls = rules["country.not_null"]
    assert country_nulls.severity is Severity.WARNING
    assert country_nulls.threshold == Threshold("mustBeLessThan", 1, "percent")
    assert rules["transaction_id.unique"].key_columns == ("transaction_id",)
    assert rules["event_time.not_in_future"] == NotInFutureRule(
        rule_id="event_time.not_in_future", column="event_time", description="event_time is not in the future"
    )
    assert rules["event_time.max_age"].max_age == timedelta(days=30)
    assert rules["transactions.row_count"].threshold == Threshold("mustBeBetween", (100, 20_000_000))
    replay = rules["transactions.unique"]
    assert replay.key_columns == ("account_id", "event_time", "amount") and replay.severity is Severity.WARNING
    assert replay.description.startswith("The same account charged")
    assert contract.sla["latency"] == {"property": "latency", "value": 26, "unit": "h", "element": "transactions.event_time"}
    assert contract.custom == {} and contract.source == str(EXAMPLE)


def test_example_rule_lines_point_at_the_yaml_that_made_them() -> None:
    """`line_of` maps each rule id to the line of the field it came from."""
    contract = load_contract(EXAMPLE)
    assert contract.line_of["amount.range"] == line_containing(EXAMPLE, "minimum: 0", after="name: amount")
    assert contract.line_of["currency.allowed_values"] == line_containing(EXAMPLE, "enum:", after="name: currency")
    assert contract.line_of["event_time.max_age"] == line_containing(EXAMPLE, "property: maxAge")
    assert contract.line_of["transactions.row_count"] == line_containing(EXAMPLE, "metric: rowCount")
    assert contract.line_of["transaction_id.type"] == line_containing(EXAMPLE, "name: transaction_id")
    assert set(contract.line_of) == {r.rule_id for r in contract.rules}


def test_loading_twice_gives_equal_contracts() -> None:
    """Rule ids and rules are stable: the same file always loads into the same contract."""
    assert load_contract(EXAMPLE) == load_contract(EXAMPLE)


# --- every supported feature ---------------------------------------------------------------------------------


def test_all_features_fixture_translates_each_field() -> None:
    """Each standard field and extra in the all-features fixture lands in the rule (or setting) it means."""
    path = FIXTURES / "good" / "all_features.odcs.yaml"
    contract = load_contract(path)
    rules = rules_by_id(contract)

    assert contract.primary_key == ("tenant_id", "order_id")
    key = rules["orders.primary_key"]
    assert isinstance(key, UniqueRule) and key.key_columns == ("tenant_id", "order_id")
    assert isinstance(rules["tenant_id.not_null"], NotNullRule)  # a key column is not-null even without required
    assert rules["tenant_id.type"].physical_type == "varchar(8)" and rules["tenant_id.type"].format == "uuid"
    assert rules["quantity.type"].logical_type is LogicalType.INTEGER  # inferred from physicalType: int
    assert isinstance(rules["quantity.unique"], UniqueRule)

    order_range = rules["order_id.range"]
    assert (order_range.minimum, order_range.exclusive_minimum) == (1, False)
    assert (order_range.maximum, order_range.exclusive_maximum) == (1_000_000, True)
    price = rules["price.range"]
    assert (price.minimum, price.exclusive_minimum, price.maximum, price.exclusive_maximum) == (0, True, 99999.99, False)

    ordered_on = rules["ordered_on.range"]
    assert (ordered_on.minimum, ordered_on.maximum, ordered_on.exclusive_maximum) == (date(2020, 1, 1), date(2100, 1, 1), True)
    created = rules["created_at.range"]
    # minimum 2020-01-01T00:00 in Europe/Paris is 2019-12-31T23:00Z, the same instant as exclusiveMinimum: the
    # exclusive bound is the stricter one.
    assert created.minimum == datetime(2019, 12, 31, 23, tzinfo=timezone.utc) and created.exclusive_minimum
    assert created.maximum == datetime(2099, 12, 31, 22, tzinfo=timezone.utc) and not created.exclusive_maximum
    assert rules["cutoff.range"].minimum == time(6) and rules["cutoff.range"].maximum == time(22)
    assert rules["created_at.not_in_future"].tolerance == timedelta(minutes=5)
    assert rules["created_at.max_age"] == MaxAgeRule(
        rule_id="created_at.max_age", column="created_at", max_age=timedelta(days=30),
        description="created_at is at most 30d old",
    )

    assert rules["status.allowed_values"].values == ("open", "shipped", "closed")
    missing = rules["status.missing_values"]
    assert isinstance(missing, MissingValuesRule) and missing.missing_values == ("", "N/A")
    assert missing.severity is Severity.WARNING and missing.threshold == Threshold("mustBeLessThan", 10, "rows")
    assert rules["country_iso"].threshold == Threshold("mustNotBe", 3) and isinstance(rules["country_iso"], PatternRule)
    known = rules["country_known"]
    assert isinstance(known, AllowedValuesRule) and known.values == ("FR", "DE", "NO", "GB")  # NO is not False
    assert rules["price.not_null"].threshold == Threshold("mustBeLessOrEqualTo", 5, "percent")
    assert rules["email.unique"].threshold == Threshold("mustBeGreaterThan", -1)
    assert rules["payload.not_null"].threshold == Threshold("mustBeBetween", (0, 10))
    assert rules["tags.not_null"].threshold == Threshold("mustNotBeBetween", (50, 100), "percent")
    assert isinstance(rules["orders.row_count"], RowCountRule)
    assert rules["orders.unique"].key_columns == ("country", "email")
    assert rules["orders.unique"].severity is Severity.WARNING  # severity words are case-insensitive
    assert not any("text" in r.rule_id for r in contract.rules)  # type: text only describes

    assert contract.policy is QuarantinePolicy.ROWS
    assert contract.sample_size == 50  # the schema object's customProperties win over the contract's
    assert contract.custom == {
        "drift": {"columns": ["price", "quantity"], "thresholds": {"psi": {"warn": 0.1, "error": 0.25}}},
        "parity": {"keys": ["tenant_id", "order_id"], "tolerance": {"abs": 0.001}},
        "freshness": {"arrivalColumn": "created_at", "grace": {"value": 2, "unit": "h"}},
    }
    assert contract.sla["latency"]["element"] == "orders.created_at"  # slaDefaultElement
    assert contract.sla["retention"] == {"property": "retention", "value": 1, "unit": "y", "element": "orders.ordered_on"}


def test_bounds_take_the_stricter_of_inclusive_and_exclusive() -> None:
    """For each logical type, the effective bound is the stricter one, exclusive when the exclusive one wins."""
    rules = rules_by_id(load_contract(FIXTURES / "good" / "bounds.odcs.yaml"))
    sensor, value, day = rules["sensor.range"], rules["value.range"], rules["day.range"]
    assert (sensor.minimum, sensor.exclusive_minimum, sensor.maximum, sensor.exclusive_maximum) == (0, True, 500, False)
    assert (value.minimum, value.exclusive_minimum, value.maximum, value.exclusive_maximum) == (-40.5, False, 125, True)
    assert (day.minimum, day.exclusive_minimum, day.maximum) == (date(2023, 12, 31), True, date(2030, 12, 31))
    read_at = rules["read_at.range"]
    assert read_at.minimum is None and read_at.maximum == datetime(2031, 1, 1, tzinfo=timezone.utc)
    assert read_at.exclusive_maximum
    shift = rules["shift_start.range"]
    assert (shift.minimum, shift.maximum, shift.exclusive_minimum, shift.exclusive_maximum) == (time(0), time(23, 59, 59), True, True)
    assert rules["shift_start.type"].format == "HH:mm:ss"
    assert rules["readings.row_count"].severity is Severity.WARNING


def test_datacontract_cli_style_contract_loads_unchanged() -> None:
    """A datacontract-cli style ODCS 3.1 contract (servers, team, library metrics) loads as is."""
    contract = load_contract(FIXTURES / "good" / "datacontract_cli_style.odcs.yaml")
    kinds = {r.rule_id: r.kind for r in contract.rules}
    assert kinds == {
        "order_id.type": "type", "order_id.not_null": "not_null", "order_id.unique": "unique",
        "order_timestamp.type": "type", "order_timestamp.not_null": "not_null",
        "order_total.type": "type", "order_total.not_null": "not_null", "order_total.range": "range",
        "order_total.not_null_2": "not_null",
        "customer_email_address.type": "type", "customer_email_address.missing_values": "missing_values",
        "customer_email_address.unique": "unique",
        "order_status.type": "type", "order_status.not_null": "not_null",
        "order_status.allowed_values": "allowed_values",
        "iban.type": "type", "iban.pattern": "pattern",
        "processed_at.type": "type", "processed_at.not_null": "not_null",
        "orders.row_count": "row_count", "orders.unique": "unique",
    }
    assert contract.primary_key == ("order_id",)
    assert rules_by_id(contract)["customer_email_address.missing_values"].threshold == Threshold("mustBeLessThan", 5, "percent")


def test_translation_is_comprehensive() -> None:
    """Every field, option, metric, operator, unit, severity and customProperty the loader supports appears in a
    good fixture (and sql/custom rules in a bad one), so nothing the loader accepts goes untested."""
    used: set[tuple[str, Any]] = set()

    def walk_quality(items: list[dict[str, Any]], level: str) -> None:
        for item in items or []:
            used.add(("quality.type", item.get("type", "library")))
            metric = item.get("metric") or item.get("rule")
            used.add(("metric", (metric, level)))
            used.update(("operator", op) for op in OPERATORS if op in item)
            used.update(("quality field", k) for k in ("id", "name", "rule", "description") if k in item)
            used.add(("unit", item.get("unit", "rows")))
            if "severity" in item:
                used.add(("severity", item["severity"].lower()))
            used.update(("argument", (metric, level, a)) for a in item.get("arguments") or {})

    for path in GOOD:
        doc = parse_yaml(path.read_text(), str(path)).data
        used.update(("contract customProperty", c["property"]) for c in doc.get("customProperties") or [])
        used.update(("document field", k) for k in ("slaProperties", "slaDefaultElement") if k in doc)
        for schema in doc["schema"]:
            used.update(("contract customProperty", c["property"]) for c in schema.get("customProperties") or [])
            walk_quality(schema.get("quality"), "schema")
            for prop in schema["properties"]:
                used.add(("logicalType", prop.get("logicalType", "(inferred)")))
                used.update(("property field", k) for k in prop)
                for key in prop.get("logicalTypeOptions") or {}:
                    used.add(("option", (prop.get("logicalType"), key)))
                for custom in prop.get("customProperties") or []:
                    used.add(("column customProperty", custom["property"]))
                    if "vendor" in custom:
                        used.add(("customProperty", "foreign vendor"))
                walk_quality(prop.get("quality"), "property")
    for path in BAD:
        text = path.read_text()
        used.update(("quality.type", t) for t in ("sql", "custom") if f"type: {t}" in text)

    supported: set[tuple[str, Any]] = set()
    supported |= {("logicalType", t.value) for t in LogicalType} | {("logicalType", "(inferred)")}
    supported |= {("option", (t.value, o)) for t, options in _columns.SUPPORTED_OPTIONS.items() for o in options}
    supported |= {("property field", f) for f in (
        "name", "logicalType", "physicalType", "required", "unique", "primaryKey", "primaryKeyPosition",
        "logicalTypeOptions", "enum", "quality", "customProperties",
    )}
    supported |= {("metric", (m, "property")) for m in _quality.PROPERTY_METRICS}
    supported |= {("metric", (m, "schema")) for m in _quality.SCHEMA_METRICS}
    supported |= {("argument", (m, level, a)) for (m, level), args in _quality._ARGUMENTS.items() for a in args}
    supported |= {("operator", op) for op in OPERATORS}
    supported |= {("unit", u) for u in _quality.UNITS}
    supported |= {("severity", s) for s in _quality.SEVERITIES}
    supported |= {("quality.type", t) for t in _quality.QUALITY_TYPES}
    supported |= {("quality field", f) for f in ("id", "name", "rule", "description")}
    supported |= {("contract customProperty", k) for k in CONTRACT_PROPERTIES}
    supported |= {("column customProperty", k) for k in COLUMN_PROPERTIES}
    supported |= {("customProperty", "foreign vendor"), ("document field", "slaProperties"),
                  ("document field", "slaDefaultElement")}

    missing = supported - used
    assert not missing, f"supported but exercised by no fixture: {sorted(missing, key=str)}"


# --- bad contracts -------------------------------------------------------------------------------------------


def expectations(path: Path) -> list[str]:
    return [line.removeprefix("# expect: ") for line in path.read_text().splitlines() if line.startswith("# expect: ")]


@pytest.mark.parametrize("path", BAD, ids=[p.name.removesuffix(".odcs.yaml") for p in BAD])
def test_bad_contract_is_refused_with_file_line_field_expected_and_got(path: Path) -> None:
    """Each malformed fixture raises a ContractError whose message names file, line, field, expected and got."""
    fragments = expectations(path)
    assert fragments, f"{path.name} has no '# expect:' line"
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    error = caught.value
    message = str(error)
    for fragment in fragments:
        located = re.match(r"(\d+): ", fragment)
        assert (f"{path}:{fragment}" if located else fragment) in message
    first = error.errors[0]
    assert first is error and message.startswith(f"{path}:{error.line}: {error.field}: expected {error.expected}, got ")
    assert [e.line for e in error.errors] == sorted(e.line or 0 for e in error.errors)  # file order


def test_every_error_is_collected_not_just_the_first() -> None:
    """Three independent mistakes give one error carrying all three, in file order, and '... and 2 more'."""
    path = FIXTURES / "bad" / "many_errors.odcs.yaml"
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    fields = [e.field for e in caught.value.errors]
    assert fields == [
        "schema[0].properties[0].logicalTypeOptions.minimum",
        "schema[0].properties[1].logicalTypeOptions.pattern",
        "schema[0].properties[2].customProperties[0].value",
    ]
    assert str(caught.value).endswith("... and 2 more")


def write(tmp_path: Path, text: str, name: str = "c.odcs.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


TWO_TABLES = """\
apiVersion: v3.1.0
kind: DataContract
id: two
version: 1.0.0
schema:
  - name: orders
    properties:
      - {name: id, logicalType: string, required: true}
  - name: customers
    physicalName: crm_customers
    properties:
      - {name: id, logicalType: integer, unique: true}
"""


def test_table_argument_selects_one_schema_object(tmp_path: Path) -> None:
    """With several schema objects, `table=` picks one by name or physicalName."""
    path = write(tmp_path, TWO_TABLES)
    assert load_contract(path, table="orders").columns[0].logical_type is LogicalType.STRING
    customers = load_contract(path, table="crm_customers")
    assert customers.table == "customers" and [r.rule_id for r in customers.rules] == ["id.type", "id.unique"]


def test_several_schema_objects_without_table_is_an_error(tmp_path: Path) -> None:
    """Without `table=`, a file with two tables is ambiguous and the error lists them; a wrong name gets a hint."""
    path = write(tmp_path, TWO_TABLES)
    with pytest.raises(ContractError, match=r"schema: expected one schema object, or a table= argument naming one, "
                                            r"got 2 tables: 'orders', 'customers'"):
        load_contract(path)
    with pytest.raises(ContractError, match=r"did you mean 'orders'\?"):
        load_contract(path, table="order")


def test_missing_and_empty_files_are_contract_errors(tmp_path: Path) -> None:
    """A missing file and an empty file are reported as contract errors naming the file."""
    with pytest.raises(ContractError, match=r"nope\.odcs\.yaml: \(file\): expected a readable UTF-8 YAML file, got FileNotFoundError"):
        load_contract(tmp_path / "nope.odcs.yaml")
    with pytest.raises(ContractError, match=r"\(document\): expected a mapping of ODCS fields .*, got an empty file"):
        load_contract(write(tmp_path, "# nothing here\n"))


def test_repeated_kinds_get_numbered_ids_and_named_rules_keep_their_names(tmp_path: Path) -> None:
    """A second rule of the same kind on a column gets `_2`; a quality rule's `id` (else `name`) is its rule id."""
    path = write(tmp_path, """\
apiVersion: v3.1.0
kind: DataContract
id: ids
version: 1.0.0
schema:
  - name: t
    properties:
      - name: code
        logicalType: string
        required: true
        quality:
          - metric: nullValues
            mustBe: 0
          - metric: nullValues
            mustBeLessThan: 3
          - metric: invalidValues
            name: code_shape
            arguments: {pattern: "^[a-z]+$"}
            mustBe: 0
""")
    contract = load_contract(path)
    assert [r.rule_id for r in contract.rules] == ["code.type", "code.not_null", "code.not_null_2", "code.not_null_3", "code_shape"]
    assert contract.line_of["code.not_null_3"] == 14 and contract.line_of["code_shape"] == 16


def test_deprecated_rule_key_and_empty_nested_fields_read_as_odcs_means(tmp_path: Path) -> None:
    """`rule:` is read as `metric:`, and only a nested `items` that says something gets the flat-column warning."""
    head = """\
apiVersion: v3.1.0
kind: DataContract
id: n
version: 1.0.0
schema:
  - name: t
    properties:
      - name: code
        logicalType: string
"""
    deprecated = head + "        quality:\n          - rule: nullValues\n            mustBeLessThan: 2\n"
    rule = rules_by_id(load_contract(write(tmp_path, deprecated)))["code.not_null"]
    assert isinstance(rule, NotNullRule) and rule.threshold == Threshold("mustBeLessThan", 2, "rows")
    empty = lint_contract(write(tmp_path, head + "        required: true\n        items: {}\n"))
    assert empty.ok and not empty.warnings
    nested = lint_contract(write(tmp_path, head + "        required: true\n        items: {logicalType: string}\n"))
    assert [(w.field, w.line) for w in nested.warnings] == [("schema[0].properties[0].items", 11)]


def test_other_vendors_custom_properties_are_left_alone(tmp_path: Path) -> None:
    """Another tool's customProperty loads (lint warns unless it names its `vendor`); one claiming to be ours fails."""
    base = """\
apiVersion: v3.1.0
kind: DataContract
id: v
version: 1.0.0
schema:
  - name: t
    properties:
      - {name: id, logicalType: string, required: true}
customProperties:
  - property: catalogOwner
    value: team-a
"""
    assert load_contract(write(tmp_path, base)).custom == {}
    warnings = lint_contract(write(tmp_path, base)).warnings
    assert [w.field for w in warnings] == ["customProperties[0].property"] and "catalogOwner" in warnings[0].got
    assert load_contract(write(tmp_path, base + "    vendor: atlan\n")).custom == {}
    assert not lint_contract(write(tmp_path, base + "    vendor: atlan\n")).warnings
    with pytest.raises(ContractError, match=r"customProperties\[0\]\.property: .*got 'catalogOwner'"):
        load_contract(write(tmp_path, base + "    vendor: guardrails\n"))


def test_yaml_is_read_with_the_core_schema() -> None:
    """NO, yes, 12:30:00 and 2024-01-01 stay strings; true/false, ints, floats and null are typed as in JSON."""
    doc = parse_yaml("a: [NO, yes, '12:30:00', 12:30:00, 2024-01-01, true, 0x1F, 1.5e3, null, ~]\n", "x.yaml")
    assert doc.data == {"a": ["NO", "yes", "12:30:00", "12:30:00", "2024-01-01", True, 31, 1500.0, None, None]}


def test_yaml_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    """A property can reuse another's settings through an anchor and a merge key."""
    path = write(tmp_path, """\
apiVersion: v3.1.0
kind: DataContract
id: anchors
version: 1.0.0
schema:
  - name: t
    properties:
      - &code {name: a, logicalType: string, required: true, logicalTypeOptions: {pattern: "^[a-z]+$"}}
      - <<: *code
        name: b
""")
    rules = rules_by_id(load_contract(path))
    assert rules["b.pattern"].pattern == "^[a-z]+$" and isinstance(rules["b.not_null"], NotNullRule)


# --- durations -----------------------------------------------------------------------------------------------


@given(
    weeks=st.integers(0, 3), days=st.integers(0, 400), hours=st.integers(0, 48), minutes=st.integers(0, 120),
    seconds=st.integers(0, 120),
)
def test_compact_and_iso_durations_agree_with_timedelta(weeks: int, days: int, hours: int, minutes: int, seconds: int) -> None:
    """``1w2d3h4m5s`` and ``P1W2DT3H4M5S`` both parse to the timedelta of their parts."""
    parts = {"w": weeks, "d": days, "h": hours, "m": minutes, "s": seconds}
    expected = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    compact = "".join(f"{v}{u}" for u, v in parts.items() if v)
    if expected == timedelta(0):
        with pytest.raises(ValueError):
            parse_duration(compact or "0s")
        return
    iso = "P" + "".join(f"{v}{u.upper()}" for u, v in parts.items() if v and u in "wd")
    time_part = "".join(f"{v}{u.upper()}" for u, v in parts.items() if v and u in "hms")
    iso += f"T{time_part}" if time_part else ""
    assert parse_duration(compact) == expected
    assert parse_duration(iso) == expected


@pytest.mark.parametrize("text", ["30", "30 days", "-5d", "0d", "P1M", "P1Y", "PT", "P", "d30", "", "1.5.2h"])
def test_malformed_durations_are_refused(text: str) -> None:
    """Durations without a unit, negative, zero, or in months/years are refused."""
    with pytest.raises(ValueError, match="expected"):
        parse_duration(text)


# --- properties ----------------------------------------------------------------------------------------------

BOUNDED = """\
apiVersion: v3.1.0
kind: DataContract
id: bounds
version: 1.0.0
schema:
  - name: t
    properties:
      - name: x
        logicalType: number
        logicalTypeOptions:
{options}
"""
numbers = st.one_of(st.integers(-1000, 1000), st.floats(-1000, 1000, allow_nan=False).map(lambda f: round(f, 3)))


@given(
    bounds=st.dictionaries(
        st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]), numbers, min_size=1
    ),
    probes=st.lists(numbers, min_size=1, max_size=20),
)
def test_range_rule_accepts_exactly_what_the_bounds_allow(bounds: dict[str, float], probes: list[float]) -> None:
    """Whatever mix of inclusive and exclusive bounds a contract gives, the RangeRule accepts exactly the values
    the ODCS bounds accept; bounds that admit no value at all are refused at load time instead."""
    import tempfile

    options = "\n".join(f"          {key}: {value!r}" for key, value in bounds.items())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "b.odcs.yaml"
        path.write_text(BOUNDED.format(options=options))
        low = max([bounds[k] for k in ("minimum", "exclusiveMinimum") if k in bounds], default=None)
        high = min([bounds[k] for k in ("maximum", "exclusiveMaximum") if k in bounds], default=None)
        low_open = "exclusiveMinimum" in bounds and bounds["exclusiveMinimum"] == low
        high_open = "exclusiveMaximum" in bounds and bounds["exclusiveMaximum"] == high
        empty = low is not None and high is not None and (low > high or (low == high and (low_open or high_open)))
        if empty:
            with pytest.raises(ContractError, match=r"logicalTypeOptions\.(exclusiveM|m)aximum: expected an upper bound"):
                load_contract(path)
            return
        rule = load_contract(path).rules[1]
    assert isinstance(rule, RangeRule)

    def odcs_accepts(v: float) -> bool:
        return (
            ("minimum" not in bounds or v >= bounds["minimum"])
            and ("maximum" not in bounds or v <= bounds["maximum"])
            and ("exclusiveMinimum" not in bounds or v > bounds["exclusiveMinimum"])
            and ("exclusiveMaximum" not in bounds or v < bounds["exclusiveMaximum"])
        )

    def rule_accepts(v: float) -> bool:
        above = rule.minimum is None or (v > rule.minimum if rule.exclusive_minimum else v >= rule.minimum)
        below = rule.maximum is None or (v < rule.maximum if rule.exclusive_maximum else v <= rule.maximum)
        return above and below

    for v in [*probes, *bounds.values()]:
        assert rule_accepts(v) == odcs_accepts(v), v
