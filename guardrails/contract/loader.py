"""Load an ODCS v3 contract file into the typed `Contract`, rejecting anything malformed with file, line and field.

The file is read in three passes, each reporting every problem it finds (one `ContractError` for the first,
all of them in its `errors`, "... and N more" in its message):

1. YAML, keeping the line where each field path starts (`guardrails.contract._source`);
2. structure: the official `open_data_contract_standard` pydantic model, plus the keys the ODCS JSON schema
   forbids but the pydantic model silently drops (``requird: true`` or ``mustBeAbout: 3`` would otherwise
   disable a check without a word);
3. meaning: the standard's own fields become rules, and our extras in ``customProperties`` are checked
   against a registry (`guardrails.contract.custom_properties`).

Standard field -> rule (rule id ``"<column>.<kind>"``, ``_2``, ``_3``... when repeated; a quality rule with an
``id`` or ``name`` keeps it):

==========================================================  ==============================================
``logicalType`` / ``physicalType`` (+ ``format``)            `ColumnTypeRule` (``<col>.type``)
``required: true``                                           `ColumnTypeRule.required` and `NotNullRule`
``unique: true``                                             `UniqueRule`
``primaryKey`` (+ ``primaryKeyPosition``)                    `Contract.primary_key`; not-null; one `UniqueRule`
                                                             over all key columns (``<table>.primary_key``
                                                             when composite)
``logicalTypeOptions`` minimum / maximum / exclusive*        `RangeRule` (numbers, dates, timestamps, times)
``logicalTypeOptions.pattern``                               `PatternRule`
``logicalTypeOptions`` minLength / maxLength                 `LengthRule`
``enum: [{value: ...}]``                                     `AllowedValuesRule`
``quality`` library metrics                                  see `guardrails.contract._quality`
``customProperties`` notInFuture / maxAge                    `NotInFutureRule` / `MaxAgeRule`
``slaProperties``                                            `Contract.sla` (plain dicts by property name)
==========================================================  ==============================================

Example:
    >>> contract = load_contract("expectations/transactions.odcs.yaml")
    >>> contract.table, contract.primary_key, contract.line_of["amount.range"]
    ('transactions', ('transaction_id',), 43)
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pydantic
from open_data_contract_standard.model import (
    CustomProperty,
    DataQuality,
    EnumValue,
    OpenDataContractStandard,
    SchemaObject,
    SchemaProperty,
)

from guardrails.contract import _quality
from guardrails.contract._quality import RuleDraft, check_pattern, did_you_mean, is_number, is_scalar
from guardrails.contract._source import FieldPath, Problems, SourceDocument, combine, describe_value, parse_yaml
from guardrails.contract.custom_properties import (
    COLUMN_PROPERTIES,
    CONTRACT_PROPERTIES,
    OUR_VENDOR,
    CustomValueError,
)
from guardrails.contract.model import (
    AllowedValuesRule,
    ColumnTypeRule,
    Contract,
    LengthRule,
    LogicalType,
    MaxAgeRule,
    NotInFutureRule,
    NotNullRule,
    PatternRule,
    QuarantinePolicy,
    RangeRule,
    Rule,
    UniqueRule,
)
from guardrails.errors import ContractError

__all__ = ["load_contract"]

# logicalTypeOptions we translate into rules (or record), per logical type, from the ODCS v3 JSON schema.
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
SUPPORTED_OPTIONS: dict[LogicalType, tuple[str, ...]] = {
    LogicalType.STRING: ("minLength", "maxLength", "pattern", "format"),
    LogicalType.NUMBER: (*_BOUNDS, "format"),
    LogicalType.INTEGER: (*_BOUNDS, "format"),
    LogicalType.DATE: (*_BOUNDS, "format"),
    LogicalType.TIMESTAMP: (*_BOUNDS, "format", "timezone", "defaultTimezone"),
    LogicalType.TIME: (*_BOUNDS, "format", "timezone", "defaultTimezone"),
    LogicalType.BOOLEAN: (),
    LogicalType.OBJECT: (),
    LogicalType.ARRAY: (),
}
# Standard options that constrain data but that no rule checks yet: refused rather than silently unchecked.
UNSUPPORTED_OPTIONS: dict[LogicalType, tuple[str, ...]] = {
    LogicalType.NUMBER: ("multipleOf",),
    LogicalType.INTEGER: ("multipleOf",),
    LogicalType.OBJECT: ("minProperties", "maxProperties", "required"),
    LogicalType.ARRAY: ("minItems", "maxItems", "uniqueItems"),
}
_NUMBER_FORMATS = {
    LogicalType.INTEGER: ("i8", "i16", "i32", "i64", "i128", "u8", "u16", "u32", "u64", "u128"),
    LogicalType.NUMBER: ("f32", "f64"),
}
_TEMPORAL = (LogicalType.DATE, LogicalType.TIMESTAMP, LogicalType.TIME)
# JDK DateTimeFormatter pattern letters (ODCS date formats follow it); anything else is a typo.
_JDK_FORMAT_LETTERS = set("GuyDMLdQqYwWEecFaBhKkHmsSAnNVvzOXxZp")

# physicalType -> logicalType, for contracts that give only a physical type (after lower-casing, sans "(...)")
_PHYSICAL_TO_LOGICAL = {
    **dict.fromkeys(("string", "varchar", "text", "char", "nvarchar", "large_string", "utf8", "str"), LogicalType.STRING),
    **dict.fromkeys(
        ("int", "integer", "bigint", "smallint", "tinyint", "long", "int8", "int16", "int32", "int64", "uint8",
         "uint16", "uint32", "uint64"),
        LogicalType.INTEGER,
    ),
    **dict.fromkeys(
        ("double", "float", "real", "decimal", "numeric", "number", "float32", "float64", "double precision"),
        LogicalType.NUMBER,
    ),
    **dict.fromkeys(("bool", "boolean"), LogicalType.BOOLEAN),
    "date": LogicalType.DATE,
    **dict.fromkeys(
        ("timestamp", "datetime", "timestamptz", "timestamp_tz", "timestamp_ntz", "timestamp_ltz"),
        LogicalType.TIMESTAMP,
    ),
    "time": LogicalType.TIME,
}

_KNOWN_KEYS = {
    model: {info.alias or name for name, info in model.model_fields.items()}
    for model in (SchemaObject, SchemaProperty, DataQuality, CustomProperty, EnumValue)
}
_CONTRACT_DEFAULTS = {"quarantinePolicy": QuarantinePolicy.BATCH, "sampleSize": 20}


def load_contract(path: str | os.PathLike[str], *, table: str | None = None) -> Contract:
    """Load the contract for `table` (or the file's only ``schema[]`` object) from an ODCS v3 YAML file.

    Raises:
        ContractError: naming the file, line, field path, what was expected and what arrived; when there are
            several problems, the first one, with all of them in `errors`.
    """
    loaded = load_with_warnings(path, table=table)
    if loaded.errors:
        raise loaded.errors[0]
    assert loaded.contract is not None
    return loaded.contract


@dataclass(frozen=True, slots=True)
class LoadedContract:
    """Everything one read of a contract file found: the contract (if it loaded), its errors and warnings."""

    contract: Contract | None
    errors: tuple[ContractError, ...]
    warnings: tuple[ContractError, ...]


def load_with_warnings(path: str | os.PathLike[str], *, table: str | None = None) -> LoadedContract:
    """Read a contract, collecting every error and warning instead of raising (what `lint_contract` needs)."""
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
        doc = parse_yaml(text, name)
    except ContractError as exc:
        return LoadedContract(None, exc.errors, ())
    except (OSError, UnicodeDecodeError) as exc:
        error = ContractError(name, "(file)", expected="a readable UTF-8 YAML file", got=f"{type(exc).__name__}: {exc}")
        return LoadedContract(None, (error,), ())
    problems = Problems(doc)
    contract = _Translator(doc, problems).contract(table)
    if problems.errors:
        first = combine(problems.errors)
        return LoadedContract(None, first.errors, tuple(problems.warnings))
    return LoadedContract(contract, (), tuple(problems.warnings))


class _Translator:
    """Turns one validated document into a `Contract`, recording every problem in `problems`."""

    def __init__(self, doc: SourceDocument, problems: Problems) -> None:
        self.doc = doc
        self.problems = problems

    # --- document ----------------------------------------------------------------------------------------

    def contract(self, table: str | None) -> Contract | None:
        data = self.doc.data
        if not isinstance(data, dict):
            got = "an empty file" if data is None else f"a {type(data).__name__} ({describe_value(data)})"
            self.problems.error(
                (), expected="a mapping of ODCS fields (apiVersion, kind, id, version, schema, ...)", got=got
            )
            return None
        self._unknown_keys(data)
        try:
            model = OpenDataContractStandard.model_validate(data)
        except pydantic.ValidationError as exc:
            self._pydantic_errors(exc)
            return None
        if self.problems.errors:
            return None
        self._header(data)
        selected = self._select_schema(data, table)
        if selected is None:
            return None
        index, schema = selected
        return self._schema(data, model, index, schema)

    def _header(self, data: dict[str, Any]) -> None:
        api = data.get("apiVersion")
        if api is None:
            self.problems.error(("apiVersion",), expected="an ODCS v3 apiVersion such as v3.1.0", got="nothing")
        elif not re.fullmatch(r"v3\.\d+\.\d+", str(api)):
            self.problems.error(("apiVersion",), expected="an ODCS v3 apiVersion such as v3.1.0", got=repr(api))
        if data.get("kind") != "DataContract":
            got = "nothing" if data.get("kind") is None else repr(data.get("kind"))
            self.problems.error(("kind",), expected="DataContract", got=got)
        for key in ("id", "version"):
            if not data.get(key):
                self.problems.error((key,), expected="a non-empty string (ODCS requires it)", got="nothing")

    def _select_schema(self, data: dict[str, Any], table: str | None) -> tuple[int, dict[str, Any]] | None:
        schemas = data.get("schema")
        if not schemas:
            self.problems.error(
                ("schema",), expected="a list with at least one schema object (the table and its properties)",
                got="nothing" if schemas is None else "an empty list",
            )
            return None
        names = [s.get("name") for s in schemas]
        if table is None:
            if len(schemas) == 1:
                return 0, schemas[0]
            self.problems.error(
                ("schema",), expected="one schema object, or a table= argument naming one",
                got=f"{len(schemas)} objects: " + ", ".join(repr(n) for n in names),
            )
            return None
        for index, schema in enumerate(schemas):
            if table in (schema.get("name"), schema.get("physicalName")):
                return index, schema
        self.problems.error(
            ("schema",), expected=f"a schema object named {table!r}",
            got="only " + ", ".join(repr(n) for n in names), hint=did_you_mean(table, [str(n) for n in names]),
        )
        return None

    def _schema(
        self, data: dict[str, Any], model: OpenDataContractStandard, index: int, schema: dict[str, Any]
    ) -> Contract | None:
        spath: FieldPath = ("schema", index)
        table = schema.get("name")
        if not isinstance(table, str) or not table:
            self.problems.error((*spath, "name"), expected="the table name", got="nothing")
            return None
        settings = dict(_CONTRACT_DEFAULTS)
        settings |= self._custom_properties(data.get("customProperties"), ("customProperties",), CONTRACT_PROPERTIES)
        settings |= self._custom_properties(schema.get("customProperties"), (*spath, "customProperties"), CONTRACT_PROPERTIES)

        properties = schema.get("properties") or []
        if not properties:
            self.problems.error(
                (*spath, "properties"), expected="a list of properties (the table's columns)", got="nothing"
            )
        columns: dict[str, FieldPath] = {}
        for pindex, prop in enumerate(properties):
            ppath = (*spath, "properties", pindex)
            name = prop.get("name")
            if not isinstance(name, str) or not name:
                self.problems.error((*ppath, "name"), expected="a column name", got=describe_value(name))
            elif name in columns:
                first_line = self.doc.line_of(columns[name])
                self.problems.error(
                    (*ppath, "name"), expected="each column declared once",
                    got=f"{name!r} again (first declared on line {first_line})",
                )
            else:
                columns[name] = ppath

        drafts: list[RuleDraft] = []
        keys: list[tuple[int, int, str, FieldPath]] = []
        for name, ppath in columns.items():
            prop = properties[ppath[-1]]
            drafts += self._property(name, prop, ppath, table, columns, keys)
        unique_columns = {n for n, p in columns.items() if properties[p[-1]].get("unique") is True}
        for draft in self._primary_key(keys, table, unique_columns):
            if draft.column == table:  # composite key: a table-wide rule, after the columns
                drafts.append(draft)
            else:  # one-column key: next to that column's other rules
                last = max(i for i, d in enumerate(drafts) if d.column == draft.column)
                drafts.insert(last + 1, draft)
        for qindex, item in enumerate(schema.get("quality") or []):
            draft = _quality.translate_quality(
                item, (*spath, "quality", qindex), level="schema", column=None, table=table, columns=columns,
                problems=self.problems,
            )
            if draft is not None:
                drafts.append(draft)
        sla = self._sla(data, table, columns)
        rules, line_of = self._assign_ids(drafts)
        if self.problems.errors:
            return None  # lint findings about a contract that does not load would only be noise
        self._lint(rules, columns, properties, drafts)
        custom = {k: v for k, v in settings.items() if k not in _CONTRACT_DEFAULTS}
        return Contract(
            id=str(data["id"]),
            version=str(data["version"]),
            name=str(data.get("name") or table),
            table=table,
            rules=tuple(rules),
            primary_key=tuple(name for _, _, name, _ in sorted(keys)),
            policy=settings["quarantinePolicy"],
            sample_size=settings["sampleSize"],
            custom=custom,
            sla=sla,
            source=self.doc.path,
            line_of=line_of,
        )

    # --- one property ------------------------------------------------------------------------------------

    def _property(
        self,
        name: str,
        prop: dict[str, Any],
        path: FieldPath,
        table: str,
        columns: dict[str, FieldPath],
        keys: list[tuple[int, int, str, FieldPath]],
    ) -> list[RuleDraft]:
        logical = self._logical_type(prop, path)
        if logical is None:
            return []
        options = prop.get("logicalTypeOptions") or {}
        opath = (*path, "logicalTypeOptions")
        required = prop.get("required") is True
        drafts = [
            RuleDraft(
                ColumnTypeRule,
                {
                    "column": name,
                    "logical_type": logical,
                    "physical_type": prop.get("physicalType"),
                    "required": required,
                    "format": self._format(options.get("format"), logical, (*opath, "format")),
                    "description": f"{name} is a {logical.value}",
                },
                path,
                name,
            )
        ]
        if required:
            drafts.append(RuleDraft(NotNullRule, {"column": name, "description": f"{name} is required"}, (*path, "required"), name))
        if prop.get("primaryKey") is True:
            position = prop.get("primaryKeyPosition")
            keys.append((position if position is not None and position > 0 else 1 << 30, len(keys), name, path))
            if not required:
                drafts.append(
                    RuleDraft(NotNullRule, {"column": name, "description": f"primary key {name} is not null"}, (*path, "primaryKey"), name)
                )
        elif prop.get("primaryKeyPosition") not in (None, -1):
            self.problems.warn(
                (*path, "primaryKeyPosition"), expected="primaryKey: true alongside a key position",
                got="a position without primaryKey", hint="the column is not treated as a key",
            )
        if prop.get("unique") is True:
            drafts.append(RuleDraft(UniqueRule, {"column": name, "description": f"{name} is unique"}, (*path, "unique"), name))
        drafts += self._options(name, logical, options, opath)
        drafts += self._enum(name, logical, prop.get("enum"), (*path, "enum"))
        for qindex, item in enumerate(prop.get("quality") or []):
            draft = _quality.translate_quality(
                item, (*path, "quality", qindex), level="property", column=name, table=table, columns=columns,
                problems=self.problems,
            )
            if draft is not None:
                drafts.append(draft)
        drafts += self._column_customs(name, logical, prop.get("customProperties"), (*path, "customProperties"))
        for nested in ("properties", "items", "map"):
            if prop.get(nested):
                self.problems.warn(
                    (*path, nested), expected="a flat column", got=f"nested {nested}",
                    hint="only the column's own type and rules are checked, not its nested fields",
                )
        return drafts

    def _logical_type(self, prop: dict[str, Any], path: FieldPath) -> LogicalType | None:
        word = prop.get("logicalType")
        choices = ", ".join(t.value for t in LogicalType)
        if word is None:
            physical = str(prop.get("physicalType") or "").lower().split("(")[0].strip()
            if physical in _PHYSICAL_TO_LOGICAL:
                return _PHYSICAL_TO_LOGICAL[physical]
            self.problems.error(
                (*path, "logicalType"), expected="one of " + choices, got="nothing",
                hint="add logicalType (it could not be inferred from physicalType "
                f"{prop.get('physicalType')!r})" if prop.get("physicalType") else "add logicalType",
            )
            return None
        if word not in LogicalType._value2member_map_:
            hint = "map and vector columns are not supported yet" if word in ("map", "vector") else did_you_mean(word, [t.value for t in LogicalType])
            self.problems.error((*path, "logicalType"), expected="one of " + choices, got=describe_value(word), hint=hint)
            return None
        return LogicalType(word)

    def _format(self, value: Any, logical: LogicalType, path: FieldPath) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            self.problems.error(path, expected="a format string", got=describe_value(value))
            return None
        if logical in _NUMBER_FORMATS and value not in _NUMBER_FORMATS[logical]:
            self.problems.error(path, expected="one of " + ", ".join(_NUMBER_FORMATS[logical]), got=repr(value))
        elif logical in _TEMPORAL:
            unquoted = re.sub(r"'[^']*'", "", value)
            bad = sorted({c for c in unquoted if c.isascii() and c.isalpha() and c not in _JDK_FORMAT_LETTERS})
            if bad:
                self.problems.error(
                    path, expected="a JDK DateTimeFormatter pattern such as yyyy-MM-dd HH:mm:ss",
                    got=f"{value!r} (unknown pattern letters: {', '.join(bad)})", hint="quote literal text with '...'",
                )
        elif logical is LogicalType.STRING:
            self.problems.warn(path, expected="a checked constraint", got=f"format {value!r}", hint="string formats are recorded, not checked")
        return value

    def _options(self, name: str, logical: LogicalType, options: Any, path: FieldPath) -> list[RuleDraft]:
        if not isinstance(options, dict):
            self.problems.error(path, expected="a mapping", got=describe_value(options))
            return []
        supported = SUPPORTED_OPTIONS[logical]
        for key in options:
            if key in UNSUPPORTED_OPTIONS.get(logical, ()):
                self.problems.error(
                    (*path, key), expected="an option guardrails checks: " + (", ".join(supported) or "none"),
                    got=repr(key), hint=f"{key} is valid ODCS but not checked yet; remove it rather than rely on it",
                )
            elif key not in supported:
                self.problems.error(
                    (*path, key), expected=f"a logicalTypeOptions key for {logical.value}: " + (", ".join(supported) or "none"),
                    got=f"unknown option {key!r}", hint=did_you_mean(key, supported),
                )
        drafts = []
        if any(k in options for k in _BOUNDS):
            draft = self._range(name, logical, options, path)
            if draft is not None:
                drafts.append(draft)
        if logical is LogicalType.STRING:
            lengths = {}
            for key in ("minLength", "maxLength"):
                value = options.get(key)
                if value is None:
                    continue
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    self.problems.error((*path, key), expected="a whole number >= 0", got=describe_value(value))
                else:
                    lengths[key] = value
            if "minLength" in lengths and "maxLength" in lengths and lengths["minLength"] > lengths["maxLength"]:
                self.problems.error(
                    (*path, "maxLength"), expected=f"maxLength >= minLength ({lengths['minLength']})",
                    got=str(lengths["maxLength"]),
                )
            elif lengths:
                drafts.append(
                    RuleDraft(
                        LengthRule,
                        {"column": name, "min_length": lengths.get("minLength"), "max_length": lengths.get("maxLength"),
                         "description": f"{name} length within [{lengths.get('minLength', 0)}, {lengths.get('maxLength', '∞')}]"},
                        (*path, "minLength" if "minLength" in lengths else "maxLength"),
                        name,
                    )
                )
            if "pattern" in options:
                errors_before = len(self.problems.errors)
                check_pattern(options["pattern"], (*path, "pattern"), self.problems)
                if len(self.problems.errors) == errors_before:
                    drafts.append(
                        RuleDraft(
                            PatternRule, {"column": name, "pattern": options["pattern"], "description": f"{name} matches {options['pattern']}"},
                            (*path, "pattern"), name,
                        )
                    )
        if logical in _TEMPORAL:
            if "timezone" in options and not isinstance(options["timezone"], bool):
                self.problems.error((*path, "timezone"), expected="true or false", got=describe_value(options["timezone"]))
            self._zone(options, path)
        return drafts

    def _zone(self, options: dict[str, Any], path: FieldPath) -> ZoneInfo | None:
        value = options.get("defaultTimezone", "Etc/UTC")
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            self.problems.error(
                (*path, "defaultTimezone"), expected="an IANA time zone such as Etc/UTC or Europe/Paris",
                got=describe_value(value),
            )
            return None

    def _range(self, name: str, logical: LogicalType, options: dict[str, Any], path: FieldPath) -> RuleDraft | None:
        if logical not in (LogicalType.NUMBER, LogicalType.INTEGER, *_TEMPORAL):
            return None  # already reported as an unknown option for this type
        bounds: dict[str, Any] = {}
        legacy_flags: dict[str, bool] = {}
        for key in _BOUNDS:
            if key not in options:
                continue
            value = options[key]
            if key.startswith("exclusive") and isinstance(value, bool):
                # ODCS v3.0.x examples wrote `exclusiveMaximum: true` next to `maximum` (JSON Schema draft 4 style)
                legacy_flags[key] = value
                self.problems.warn(
                    (*path, key), expected=f"the bound itself ({key}: <value>, ODCS v3.1)", got=str(value).lower(),
                    hint=f"the boolean form makes {'minimum' if 'Min' in key else 'maximum'} exclusive",
                )
                continue
            parsed = self._bound(value, logical, options, (*path, key))
            if parsed is not None:
                bounds[key] = parsed
        low = self._pick(bounds, legacy_flags, "minimum", "exclusiveMinimum", path, lower=True)
        high = self._pick(bounds, legacy_flags, "maximum", "exclusiveMaximum", path, lower=False)
        if low is None and high is None:
            return None
        if low is not None and high is not None:
            (lo, lo_ex), (hi, hi_ex) = low, high
            if lo > hi or (lo == hi and (lo_ex or hi_ex)):
                key = "exclusiveMaximum" if "exclusiveMaximum" in bounds and hi_ex else "maximum"
                self.problems.error(
                    (*path, key), expected=f"an upper bound above the lower bound ({lo})", got=str(hi),
                    hint="the bounds are inverted, so every value would fail",
                )
                return None
        fields: dict[str, Any] = {"column": name}
        text = []
        if low is not None:
            fields |= {"minimum": low[0], "exclusive_minimum": low[1]}
            text.append(f"{'>' if low[1] else '>='} {low[0]}")
        if high is not None:
            fields |= {"maximum": high[0], "exclusive_maximum": high[1]}
            text.append(f"{'<' if high[1] else '<='} {high[0]}")
        fields["description"] = f"{name} " + " and ".join(text)
        first = next(k for k in _BOUNDS if k in options)
        return RuleDraft(RangeRule, fields, (*path, first), name)

    def _pick(
        self, bounds: dict[str, Any], legacy: dict[str, bool], inclusive: str, exclusive: str, path: FieldPath, *, lower: bool
    ) -> tuple[Any, bool] | None:
        """The effective bound: the stricter of the inclusive and exclusive one (JSON Schema semantics)."""
        if legacy.get(exclusive) and inclusive not in bounds:
            self.problems.error((*path, exclusive), expected=f"{inclusive} next to the boolean {exclusive}", got="no " + inclusive)
        inc, exc = bounds.get(inclusive), bounds.get(exclusive)
        if inc is not None and legacy.get(exclusive):
            return inc, True
        if inc is None and exc is None:
            return None
        if inc is None:
            return exc, True
        if exc is None:
            return inc, False
        stricter_is_exclusive = exc >= inc if lower else exc <= inc
        return (exc, True) if stricter_is_exclusive else (inc, False)

    def _bound(self, value: Any, logical: LogicalType, options: dict[str, Any], path: FieldPath) -> Any:
        if logical in (LogicalType.NUMBER, LogicalType.INTEGER):
            if is_number(value):
                return value
            self.problems.error(path, expected="a number", got=describe_value(value))
            return None
        if isinstance(value, str):
            try:
                if logical is LogicalType.DATE:
                    return date.fromisoformat(value)
                if logical is LogicalType.TIME:
                    return time.fromisoformat(value)
                parsed = datetime.fromisoformat(value)
            except ValueError:
                pass  # reported below with the accepted form
            else:
                if parsed.tzinfo is None:
                    zone = self._zone(options, path[:-1])
                    parsed = parsed.replace(tzinfo=zone) if zone else parsed
                return parsed
        example = {LogicalType.DATE: "2024-01-31", LogicalType.TIME: "08:30:00"}.get(logical, "2024-01-31T08:30:00Z")
        self.problems.error(path, expected=f"an ISO 8601 {logical.value} such as {example!r}", got=describe_value(value))
        return None

    def _enum(self, name: str, logical: LogicalType, entries: list[dict[str, Any]] | None, path: FieldPath) -> list[RuleDraft]:
        if not entries:
            if entries is not None:
                self.problems.error(path, expected="at least one allowed value", got="an empty list")
            return []
        values = []
        for index, entry in enumerate(entries):
            value = entry.get("value")
            if value is None or not is_scalar(value):
                self.problems.error(
                    (*path, index, "value"), expected="an allowed value (a string, number or boolean)",
                    got=describe_value(value),
                )
            elif value in values and type(value) is type(values[values.index(value)]):
                self.problems.error((*path, index, "value"), expected="each allowed value once", got=f"{value!r} again")
            else:
                values.append(value)
        if not values:
            return []
        self._check_value_types(values, logical, path)
        return [RuleDraft(AllowedValuesRule, {"column": name, "values": tuple(values), "description": f"{name} in {values}"}, path, name)]

    def _check_value_types(self, values: list[Any], logical: LogicalType, path: FieldPath) -> None:
        kinds = {"number" if is_number(v) else type(v).__name__ for v in values}
        if len(kinds) > 1:
            self.problems.warn(path, expected="allowed values of one type", got="mixed " + ", ".join(sorted(kinds)),
                               hint="a value of another type never matches the column")
            return
        expected = {LogicalType.STRING: "str", LogicalType.NUMBER: "number", LogicalType.INTEGER: "number",
                    LogicalType.BOOLEAN: "bool"}.get(logical)
        if expected and kinds != {expected}:
            self.problems.warn(path, expected=f"{logical.value} values", got=", ".join(sorted(kinds)) + " values",
                               hint="they will never match the column's values")

    # --- customProperties --------------------------------------------------------------------------------

    def _custom_properties(self, entries: list[dict[str, Any]] | None, path: FieldPath, registry: dict) -> dict[str, Any]:
        """Validate our entries against `registry`; return {key: parsed value}. Other vendors' entries are skipped."""
        found: dict[str, Any] = {}
        for index, entry in enumerate(entries or []):
            epath = (*path, index)
            vendor = entry.get("vendor")
            if vendor not in (None, OUR_VENDOR):
                continue
            key = entry.get("property")
            if key not in registry:
                self.problems.error(
                    (*epath, "property"), expected="a guardrails customProperty here: " + ", ".join(registry),
                    got=describe_value(key),
                    hint=did_you_mean(key, list(registry)) or "set `vendor: <tool>` on another tool's property",
                )
                continue
            if key in found:
                self.problems.error((*epath, "property"), expected="each customProperty once", got=f"{key!r} again")
                continue
            try:
                found[key] = registry[key](entry.get("value"))
            except CustomValueError as exc:
                self.problems.error((*epath, "value"), expected=exc.expected, got=describe_value(entry.get("value")), hint=exc.hint)
        return found

    def _column_customs(self, name: str, logical: LogicalType, entries: Any, path: FieldPath) -> list[RuleDraft]:
        found = self._custom_properties(entries, path, COLUMN_PROPERTIES)
        if found and logical not in (LogicalType.TIMESTAMP, LogicalType.DATE):
            self.problems.error(path, expected="notInFuture / maxAge on a timestamp or date column",
                                got=f"them on a {logical.value} column")
            return []
        lines = {e.get("property"): (*path, i) for i, e in enumerate(entries or []) if isinstance(e, dict)}
        drafts = []
        if found.get("notInFuture") is not None:
            tolerance = found["notInFuture"]
            drafts.append(RuleDraft(NotInFutureRule, {"column": name, "tolerance": tolerance,
                                                      "description": f"{name} is not in the future"}, lines["notInFuture"], name))
        if "maxAge" in found:
            drafts.append(RuleDraft(MaxAgeRule, {"column": name, "max_age": found["maxAge"],
                                                 "description": f"{name} is at most {_human(found['maxAge'])} old"}, lines["maxAge"], name))
        return drafts

    # --- keys, SLA, ids ----------------------------------------------------------------------------------

    def _primary_key(self, keys: list[tuple[int, int, str, FieldPath]], table: str, unique: set[str]) -> list[RuleDraft]:
        if not keys or (len(keys) == 1 and keys[0][2] in unique):
            return []  # no key, or a one-column key whose `unique: true` already made the rule
        positions = [p for p, _, _, _ in keys if p != 1 << 30]
        for position, _, name, path in keys:
            if position != 1 << 30 and positions.count(position) > 1:
                self.problems.error((*path, "primaryKeyPosition"), expected="a key position used once",
                                    got=f"{position} again (column {name!r})")
                return []
        ordered = tuple(name for _, _, name, _ in sorted(keys))
        first_path = (*sorted(keys)[0][3], "primaryKey")
        description = "primary key (" + ", ".join(ordered) + ") is unique"
        if len(ordered) == 1:
            return [RuleDraft(UniqueRule, {"column": ordered[0], "description": description}, first_path, ordered[0])]
        return [RuleDraft(UniqueRule, {"column": ordered[0], "key_columns": ordered, "description": description},
                          first_path, table, kind_label="primary_key")]

    def _sla(self, data: dict[str, Any], table: str, columns: dict[str, FieldPath]) -> dict[str, Any]:
        sla: dict[str, Any] = {}
        default_element = data.get("slaDefaultElement")
        for index, entry in enumerate(data.get("slaProperties") or []):
            path = ("slaProperties", index)
            key = entry.get("property")
            if not isinstance(key, str) or not key:
                self.problems.error((*path, "property"), expected="an SLA property name", got=describe_value(key))
                continue
            if key in sla:
                self.problems.error((*path, "property"), expected="each SLA property once", got=f"{key!r} again")
                continue
            element = entry.get("element") or default_element
            sla[key] = {"property": key, "value": entry.get("value"), "unit": entry.get("unit"), "element": element}
            for part in str(element or "").split(","):
                part = part.strip()
                column = part.split(".", 1)[1] if part.startswith(f"{table}.") else part
                if part and "." in part and part.split(".", 1)[0] == table and column not in columns:
                    self.problems.warn((*path, "element"), expected=f"a column of {table}", got=repr(part),
                                       hint=did_you_mean(column, list(columns)))
        return sla

    def _assign_ids(self, drafts: list[RuleDraft]) -> tuple[list[Rule], dict[str, int]]:
        taken: dict[str, FieldPath] = {}
        for draft in drafts:
            if draft.explicit_id is None:
                continue
            if draft.explicit_id in taken:
                self.problems.error(
                    draft.path, expected="a rule id used once",
                    got=f"{draft.explicit_id!r} again (first on line {self.doc.line_of(taken[draft.explicit_id])})",
                )
            taken[draft.explicit_id] = draft.path
        rules: list[Rule] = []
        line_of: dict[str, int] = {}
        for draft in drafts:
            rule_id = draft.explicit_id
            if rule_id is None:
                base = f"{draft.column}.{draft.kind_label or _kind_of(draft.cls)}"
                rule_id, n = base, 1
                while rule_id in taken:
                    n += 1
                    rule_id = f"{base}_{n}"
                taken[rule_id] = draft.path
            elif rule_id in line_of:
                continue  # duplicate explicit id, already reported
            try:
                rules.append(draft.cls(rule_id=rule_id, **draft.fields))
            except ValueError as exc:  # a model invariant we did not pre-check: still a contract error, not a crash
                self.problems.error(draft.path, expected="a valid rule", got=str(exc))
                continue
            line_of[rule_id] = self.doc.line_of(draft.path) or 0
        return rules, line_of

    # --- structure ---------------------------------------------------------------------------------------

    def _unknown_keys(self, data: dict[str, Any]) -> None:
        """Keys the ODCS JSON schema forbids (``unevaluatedProperties: false``) but pydantic silently drops."""

        def check(obj: Any, path: FieldPath, model: type[pydantic.BaseModel], what: str) -> None:
            if not isinstance(obj, dict):
                return  # pydantic reports the wrong type
            known = _KNOWN_KEYS[model]
            for key in obj:
                if key not in known:
                    if model is DataQuality:
                        expected = "an ODCS quality field or operator (" + ", ".join(_quality.OPERATORS) + ")"
                    else:
                        expected = f"a field of an ODCS {what}"
                    self.problems.error((*path, key), expected=expected, got=f"unknown field {key!r}",
                                        hint=did_you_mean(str(key), sorted(known)))

        def each(obj: Any, path: FieldPath, key: str) -> list[tuple[Any, FieldPath]]:
            items = obj.get(key) if isinstance(obj, dict) else None
            return [(item, (*path, key, i)) for i, item in enumerate(items)] if isinstance(items, list) else []

        for item, path in each(data, (), "customProperties"):
            check(item, path, CustomProperty, "customProperty")
        for schema, spath in each(data, (), "schema"):
            check(schema, spath, SchemaObject, "schema object")
            for sub, path in each(schema, spath, "customProperties"):
                check(sub, path, CustomProperty, "customProperty")
            for sub, path in each(schema, spath, "quality"):
                check(sub, path, DataQuality, "quality rule")
            for prop, ppath in each(schema, spath, "properties"):
                check(prop, ppath, SchemaProperty, "property")
                for sub, path in each(prop, ppath, "quality"):
                    check(sub, path, DataQuality, "quality rule")
                for sub, path in each(prop, ppath, "customProperties"):
                    check(sub, path, CustomProperty, "customProperty")
                for sub, path in each(prop, ppath, "enum"):
                    check(sub, path, EnumValue, "enum entry")

    def _pydantic_errors(self, exc: pydantic.ValidationError) -> None:
        seen: set[FieldPath] = set()
        for error in exc.errors():
            path = self._data_path(error["loc"])
            if path in seen:
                continue  # one message per field, not one per branch of a union
            seen.add(path)
            kind, value = error["type"], error.get("input")
            last = path[-1] if path else ""
            if last in _quality.BETWEEN:
                self.problems.error(path, expected="a [low, high] pair of numbers", got=describe_value(value))
            elif kind == "extra_forbidden":
                known = sorted(OpenDataContractStandard.model_fields) + ["schema"]
                self.problems.error(path, expected="a top-level ODCS field", got=f"unknown field {last!r}",
                                    hint=did_you_mean(str(last), known))
            elif len(path) >= 2 and path[-2] == "enum" and kind == "model_type":
                self.problems.error(path, expected="an enum entry {value: ...}", got=describe_value(value),
                                    hint=f"write `- value: {value}` (ODCS v3.2 enum entries are objects)")
            else:
                self.problems.error(path, expected=_EXPECTED.get(kind, error["msg"].removeprefix("Input should be ")),
                                    got=describe_value(value))

    def _data_path(self, loc: tuple[Any, ...]) -> FieldPath:
        """Pydantic's location minus the union-branch labels it inserts (``('team', 'Team')`` -> ``('team',)``)."""
        path: list[str | int] = []
        node: Any = self.doc.data
        for part in loc:
            if isinstance(node, dict) and part in node:
                node = node[part]
                path.append(part)
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
                path.append(part)
            elif isinstance(node, dict) and not isinstance(part, int) and part[:1].islower() and "[" not in part:
                path.append(part)  # a field that is missing: keep it so the message names it
                node = None
        return tuple(path)

    # --- lint-only findings -----------------------------------------------------------------------------

    def _lint(self, rules: list[Rule], columns: dict[str, FieldPath], properties: list[dict[str, Any]], drafts: list[RuleDraft]) -> None:
        checked = {c for r in rules if not isinstance(r, ColumnTypeRule) for c in r.columns}
        for name, path in columns.items():
            if name not in checked:
                self.problems.warn(path, expected="at least one check besides the column's type",
                                   got=f"none for {name!r}", hint="add required, enum, logicalTypeOptions or quality rules")
        for draft in drafts:
            threshold = draft.fields.get("threshold")
            if draft.cls is NotNullRule and threshold is not None and threshold.accepts(1) and draft.fields["column"] in columns:
                prop = properties[columns[draft.fields["column"]][-1]]
                if prop.get("required") is True:
                    self.problems.warn(draft.path, expected="nullValues consistent with required: true",
                                       got="a threshold that tolerates nulls",
                                       hint="required: true already fails any null; drop one of the two")
            if threshold is not None and threshold.unit == "percent":
                values = threshold.value if isinstance(threshold.value, tuple) else (threshold.value,)
                if any(v < 0 or v > 100 for v in values):
                    self.problems.warn(draft.path, expected="a percentage between 0 and 100", got=threshold.describe())


def _human(duration: timedelta) -> str:
    """``timedelta(days=30)`` -> ``"30d"`` (the largest unit that divides it)."""
    seconds = int(duration.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{duration.total_seconds():g}s"


def _kind_of(cls: type[Rule]) -> str:
    """The `kind` a rule class sets (a slots dataclass keeps field defaults on the field, not the class)."""
    return next(f.default for f in dataclasses.fields(cls) if f.name == "kind")  # type: ignore[arg-type]


_EXPECTED = {
    "string_type": "a string",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "list_type": "a list",
    "model_type": "a mapping",
    "dict_type": "a mapping",
    "model_attributes_type": "a mapping",
}
