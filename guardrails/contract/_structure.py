"""The structure pass: the official ODCS pydantic model, plus the keys the ODCS JSON schema forbids but it drops.

The pydantic model forbids unknown keys only at the top level; deeper down it silently ignores them, while
the JSON schema (``unevaluatedProperties: false``) forbids them. A silently ignored ``requird: true`` or
``mustBeAbout: 3`` would disable a check without a word, so we report them, with a "did you mean".
Pydantic's locations (``schema.0.properties.4.enum.0``, with union-branch labels such as ``Team``) become our
field paths (``schema[0].properties[4].enum[0]``) with a line.
"""

from __future__ import annotations

from typing import Any

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
from guardrails.contract._quality import did_you_mean
from guardrails.contract._source import FieldPath, Problems, describe_value

_KNOWN_KEYS = {
    model: {info.alias or name for name, info in model.model_fields.items()}
    for model in (SchemaObject, SchemaProperty, DataQuality, CustomProperty, EnumValue)
}


class StructureChecker:
    """Reports structural problems of one document into `problems`."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems


    def unknown_keys(self, data: dict[str, Any]) -> None:
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

    def pydantic_errors(self, exc: pydantic.ValidationError) -> None:
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
        node: Any = self.problems.doc.data
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
