"""One ODCS property (a column) -> its rules: type, required, unique, key, logicalTypeOptions, enum, quality, extras.

Bounds follow the ODCS v3 JSON schema: ``minimum``/``maximum`` are inclusive, ``exclusiveMinimum``/
``exclusiveMaximum`` carry their own (exclusive) value, and when both are given the stricter one wins. Date,
timestamp and time bounds are ISO 8601 strings; a timestamp bound without an offset is in the column's
``defaultTimezone`` (UTC unless given). The ODCS v3.0 boolean ``exclusiveMaximum: true`` is still accepted.
Standard options that constrain data but are not checked yet (``multipleOf``, object and array sizes) are
refused rather than silently unchecked.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pydantic
from open_data_contract_standard.model import CustomProperty, EnumValue, SchemaProperty

from guardrails.contract import _quality
from guardrails.contract._quality import RuleDraft, check_pattern, did_you_mean, is_number, is_scalar
from guardrails.contract._source import FieldPath, Problems, describe_value
from guardrails.contract.custom_properties import COLUMN_PROPERTIES, OUR_VENDOR, CustomValueError
from guardrails.contract.model import (
    AllowedValuesRule,
    ColumnTypeRule,
    LengthRule,
    LogicalType,
    MaxAgeRule,
    NotInFutureRule,
    NotNullRule,
    PatternRule,
    RangeRule,
    UniqueRule,
)

KeyColumn = tuple[int, int, str, FieldPath]  # (primaryKeyPosition or "last", contract order, name, path)
NO_POSITION = 1 << 30  # sorts key columns without a primaryKeyPosition last, in contract order

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
_LOGICAL_TYPE_CHOICES = ", ".join(t.value for t in LogicalType)  # once: a schema can have 100k properties
_TEMPORAL = (LogicalType.DATE, LogicalType.TIMESTAMP, LogicalType.TIME)
# JDK DateTimeFormatter pattern letters (ODCS date formats follow it); anything else is a typo.
_JDK_FORMAT_LETTERS = set("GuyDMLdQqYwWEecFaBhKkHmsSAnNVvzOXxZp")

# physicalType -> logicalType, for contracts that give only a physical type (after lower-casing, sans "(...)")
_PHYSICAL_TO_LOGICAL = {
    **dict.fromkeys(
        ("string", "varchar", "text", "char", "nvarchar", "large_string", "utf8", "str"), LogicalType.STRING
    ),
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


class ColumnReader:
    """Translates validated ODCS properties into `RuleDraft`s, recording every problem (and lint warning) in `problems`.

    `logicalTypeOptions` (a free mapping in the ODCS model) is the one part checked key by key here.
    """

    def __init__(self, problems: Problems) -> None:
        self.problems = problems

    def column(
        self,
        name: str,
        prop: SchemaProperty,
        path: FieldPath,
        table: str,
        columns: dict[str, FieldPath],
        keys: list[KeyColumn],
    ) -> list[RuleDraft]:
        logical = self._logical_type(prop, path)
        if logical is None:
            return []
        options = prop.logicalTypeOptions or {}
        opath = (*path, "logicalTypeOptions")
        required = prop.required is True
        drafts = [
            RuleDraft(
                ColumnTypeRule,
                {
                    "column": name,
                    "logical_type": logical,
                    "physical_type": prop.physicalType,
                    "required": required,
                    "format": self._format(options.get("format"), logical, (*opath, "format")),
                    "description": f"{name} is a {logical.value}",
                },
                path,
                name,
            )
        ]
        if required:
            not_null = {"column": name, "description": f"{name} is required"}
            drafts.append(RuleDraft(NotNullRule, not_null, (*path, "required"), name))
        if prop.primaryKey is True:
            position = prop.primaryKeyPosition
            keys.append((position if position is not None and position > 0 else NO_POSITION, len(keys), name, path))
            if not required:
                not_null = {"column": name, "description": f"primary key {name} is not null"}
                drafts.append(RuleDraft(NotNullRule, not_null, (*path, "primaryKey"), name))
        elif prop.primaryKeyPosition not in (None, -1):
            self.problems.warn(
                (*path, "primaryKeyPosition"), expected="primaryKey: true alongside a key position",
                got="a position without primaryKey", hint="the column is not treated as a key",
            )
        if prop.unique is True:
            unique = {"column": name, "description": f"{name} is unique"}
            drafts.append(RuleDraft(UniqueRule, unique, (*path, "unique"), name))
        drafts += self._options(name, logical, options, opath)
        drafts += self._enum(name, logical, prop.enum, (*path, "enum"))
        for qindex, item in enumerate(prop.quality or []):
            draft = _quality.translate_quality(
                item, (*path, "quality", qindex), level="property", column=name, table=table, columns=columns,
                problems=self.problems,
            )
            if draft is not None:
                drafts.append(draft)
        drafts += self._column_customs(name, logical, prop.customProperties, (*path, "customProperties"))
        for nested, value in (("properties", prop.properties), ("items", prop.items), ("map", prop.map)):
            if _given(value):
                self.problems.warn(
                    (*path, nested), expected="a flat column", got=f"nested {nested}",
                    hint="only the column's own type and rules are checked, not its nested fields",
                )
        return drafts

    def _logical_type(self, prop: SchemaProperty, path: FieldPath) -> LogicalType | None:
        word = prop.logicalType
        choices = _LOGICAL_TYPE_CHOICES
        if word is None:
            physical = (prop.physicalType or "").lower().split("(")[0].strip()
            if physical in _PHYSICAL_TO_LOGICAL:
                return _PHYSICAL_TO_LOGICAL[physical]
            self.problems.error(
                (*path, "logicalType"), expected="one of " + choices, got="nothing",
                hint="add logicalType (it could not be inferred from physicalType "
                f"{prop.physicalType!r})" if prop.physicalType else "add logicalType",
            )
            return None
        if word not in LogicalType._value2member_map_:
            if word in ("map", "vector"):
                hint = "map and vector columns are not supported yet"
            else:
                hint = did_you_mean(word, [t.value for t in LogicalType])
            self.problems.error(
                (*path, "logicalType"), expected="one of " + choices, got=describe_value(word), hint=hint
            )
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
            self.problems.warn(
                path, expected="a checked constraint", got=f"format {value!r}",
                hint="string formats are recorded, not checked",
            )
        return value

    def _options(self, name: str, logical: LogicalType, options: dict[str, Any], path: FieldPath) -> list[RuleDraft]:
        supported = SUPPORTED_OPTIONS[logical]
        for key in options:
            if key in UNSUPPORTED_OPTIONS.get(logical, ()):
                self.problems.error(
                    (*path, key), expected="an option guardrails checks: " + (", ".join(supported) or "none"),
                    got=repr(key), hint=f"{key} is valid ODCS but not checked yet; remove it rather than rely on it",
                )
            elif key not in supported:
                self.problems.error(
                    (*path, key),
                    expected=f"a logicalTypeOptions key for {logical.value}: " + (", ".join(supported) or "none"),
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
                        {
                            "column": name,
                            "min_length": lengths.get("minLength"),
                            "max_length": lengths.get("maxLength"),
                            "description": f"{name} length within "
                            f"[{lengths.get('minLength', 0)}, {lengths.get('maxLength', '∞')}]",
                        },
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
                            PatternRule,
                            {
                                "column": name,
                                "pattern": options["pattern"],
                                "description": f"{name} matches {options['pattern']}",
                            },
                            (*path, "pattern"), name,
                        )
                    )
        if logical in _TEMPORAL:
            if "timezone" in options and not isinstance(options["timezone"], bool):
                self.problems.error(
                    (*path, "timezone"), expected="true or false", got=describe_value(options["timezone"])
                )
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
        self,
        bounds: dict[str, Any],
        legacy: dict[str, bool],
        inclusive: str,
        exclusive: str,
        path: FieldPath,
        *,
        lower: bool,
    ) -> tuple[Any, bool] | None:
        """The effective bound: the stricter of the inclusive and exclusive one (JSON Schema semantics)."""
        if legacy.get(exclusive) and inclusive not in bounds:
            self.problems.error(
                (*path, exclusive), expected=f"{inclusive} next to the boolean {exclusive}", got="no " + inclusive
            )
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
        self.problems.error(
            path, expected=f"an ISO 8601 {logical.value} such as {example!r}", got=describe_value(value)
        )
        return None

    def _enum(
        self, name: str, logical: LogicalType, entries: list[EnumValue] | None, path: FieldPath
    ) -> list[RuleDraft]:
        if not entries:
            if entries is not None:
                self.problems.error(path, expected="at least one allowed value", got="an empty list")
            return []
        values = []
        seen: set[tuple[type, Any]] = set()  # by type too: 1, 1.0 and true are three different values
        for index, entry in enumerate(entries):
            value = entry.value
            if value is None or not is_scalar(value):
                self.problems.error(
                    (*path, index, "value"), expected="an allowed value (a string, number or boolean)",
                    got=describe_value(value),
                )
            elif (type(value), value) in seen:
                self.problems.error((*path, index, "value"), expected="each allowed value once", got=f"{value!r} again")
            else:
                seen.add((type(value), value))
                values.append(value)
        if not values:
            return []
        self._check_value_types(values, logical, path)
        allowed = {"column": name, "values": tuple(values), "description": f"{name} in {values}"}
        return [RuleDraft(AllowedValuesRule, allowed, path, name)]

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

    def custom_properties(
        self, entries: list[CustomProperty] | None, path: FieldPath, registry: dict[str, Any]
    ) -> dict[str, Any]:
        """Validate our entries against `registry`; return {key: parsed value}. Other vendors' entries are skipped."""
        found: dict[str, Any] = {}
        for index, entry in enumerate(entries or []):
            epath = (*path, index)
            vendor = entry.vendor
            if vendor not in (None, OUR_VENDOR):
                continue
            key = entry.property
            if key not in registry:
                # A near miss of one of our keys (or an entry claiming to be ours) would silently skip a check, so
                # it is an error; any other key is taken to be another tool's, as datacontract-cli contracts
                # carry such keys without `vendor`, and only lint mentions it.
                near_miss = did_you_mean(key, list(registry))
                report = self.problems.error if near_miss or vendor == OUR_VENDOR else self.problems.warn
                report(
                    (*epath, "property"), expected="a guardrails customProperty here: " + ", ".join(registry),
                    got=describe_value(key),
                    hint=near_miss or "ignored; set `vendor: <tool>` on another tool's property to silence this",
                )
                continue
            if key in found:
                self.problems.error((*epath, "property"), expected="each customProperty once", got=f"{key!r} again")
                continue
            try:
                found[key] = registry[key](entry.value)
            except CustomValueError as exc:
                self.problems.error(
                    (*epath, "value"), expected=exc.expected, got=describe_value(entry.value), hint=exc.hint
                )
        return found

    def _column_customs(
        self, name: str, logical: LogicalType, entries: list[CustomProperty] | None, path: FieldPath
    ) -> list[RuleDraft]:
        found = self.custom_properties(entries, path, COLUMN_PROPERTIES)
        if found and logical not in (LogicalType.TIMESTAMP, LogicalType.DATE):
            self.problems.error(path, expected="notInFuture / maxAge on a timestamp or date column",
                                got=f"them on a {logical.value} column")
            return []
        lines = {e.property: (*path, i) for i, e in enumerate(entries or []) if e.vendor in (None, OUR_VENDOR)}
        drafts = []
        if found.get("notInFuture") is not None:
            fields = {"column": name, "tolerance": found["notInFuture"], "description": f"{name} is not in the future"}
            drafts.append(RuleDraft(NotInFutureRule, fields, lines["notInFuture"], name))
        if "maxAge" in found:
            age = found["maxAge"]
            fields = {"column": name, "max_age": age, "description": f"{name} is at most {_human(age)} old"}
            drafts.append(RuleDraft(MaxAgeRule, fields, lines["maxAge"], name))
        return drafts


def _given(nested: list[SchemaProperty] | pydantic.BaseModel | None) -> bool:
    """Whether a nested ``properties`` / ``items`` / ``map`` says anything (``items: {}`` or ``[]`` does not)."""
    if isinstance(nested, pydantic.BaseModel):
        return bool(nested.model_fields_set)
    return bool(nested)


def _human(duration: timedelta) -> str:
    """``timedelta(days=30)`` -> ``"30d"`` (the largest unit that divides it)."""
    seconds = int(duration.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{duration.total_seconds():g}s"
