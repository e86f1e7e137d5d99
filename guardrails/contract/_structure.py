"""The structure pass: the official ODCS pydantic model, plus the keys the ODCS JSON schema forbids but it drops.

The pydantic model forbids unknown keys only at the top level; deeper down it silently ignores them, while
the JSON schema shipped with the same package (``additionalProperties``/``unevaluatedProperties: false``)
forbids them. A silently ignored ``requird: true`` or ``mustBeAbout: 3`` would disable a check without a
word, so every object the JSON schema closes is checked against it, with a "did you mean".
Pydantic's locations (``schema.0.properties.4.enum.0``, with union-branch labels such as ``Team``) become our
field paths (``schema[0].properties[4].enum[0]``) with a line.

Files that declare v3 but still use an ODCS v2 property name (``isNullable``, ``isUnique``, ...; tools that
migrated half-way write them) are read as their v3 field means, with a warning naming that field
(`upgrade_pre_v3_fields`): datacontract-cli users wrote ``isNullable: false`` to make a column required, and
silently dropping it would disable the check they meant.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import open_data_contract_standard
import pydantic
from open_data_contract_standard.model import OpenDataContractStandard

from guardrails.contract import _quality
from guardrails.contract._quality import did_you_mean
from guardrails.contract._source import FieldPath, Problems, describe_value

_JSON_SCHEMA: dict[str, Any] = json.loads(
    (Path(open_data_contract_standard.__file__).parent / "schema.json").read_text(encoding="utf-8")
)
# How a message names an object, by the JSON-schema definition that describes it (else: by its field name).
_WHAT = {
    "SchemaObject": "schema object",
    "SchemaProperty": "property",
    "SchemaItemProperty": "property",
    "DataQuality": "quality rule",
    "CustomProperty": "customProperty",
    "EnumValue": "enum entry",
    "ServiceLevelAgreementProperty": "slaProperties entry",
}

# Checked key by key, per logical type, by `guardrails.contract._columns` (with messages naming that type).
_CHECKED_BY_COLUMNS = frozenset({"logicalTypeOptions"})


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the JSON schema says about one object: its known keys, whether others are refused, and sub-schemas."""

    name: str | None
    known: frozenset[str]
    closed: bool
    children: dict[str, tuple[int, ...]]  # key -> ids of its schemas (see `_NODES`)
    items: tuple[int, ...]  # for an array: ids of its item schemas


_NODES: dict[int, Any] = {}  # id -> schema node, so shapes can be cached by a hashable key


def _node_id(node: Any) -> int:
    _NODES[id(node)] = node
    return id(node)


def _branches(node: dict[str, Any], is_object: bool, out: list[tuple[str | None, dict[str, Any]]],
              name: str | None) -> None:
    """Every sub-schema that can apply to a value: the node, what it references, its allOf, if/then and the
    oneOf/anyOf branches of the value's JSON type (``then`` branches are all taken: a looser, never stricter,
    reading of conditionals, which `_columns` narrows by logical type itself)."""
    out.append((name, node))
    if "$ref" in node:
        target: Any = _JSON_SCHEMA
        for part in node["$ref"].removeprefix("#/").split("/"):  # a local JSON pointer: #/$defs/A/$defs/B
            target = target[part]
        _branches(target, is_object, out, name or node["$ref"].rsplit("/", 1)[-1])
    for sub in node.get("allOf", ()):
        _branches(sub, is_object, out, name)
        if "then" in sub:
            _branches(sub["then"], is_object, out, name)
    for key in ("oneOf", "anyOf"):
        for sub in node.get(key, ()):
            kind = sub.get("type")
            if kind is None or (kind == "object") == is_object:
                _branches(sub, is_object, out, name)


@functools.cache
def _shape(node_ids: tuple[int, ...], is_object: bool) -> _Shape:
    branches: list[tuple[str | None, dict[str, Any]]] = []
    for node_id in node_ids:
        _branches(_NODES[node_id], is_object, branches, None)
    known: set[str] = set()
    children: dict[str, list[int]] = {}
    items: list[int] = []
    closed = False
    for _, branch in branches:
        closed |= branch.get("additionalProperties") is False or branch.get("unevaluatedProperties") is False
        for key, sub in (branch.get("properties") or {}).items():
            known.add(key)
            children.setdefault(key, []).append(_node_id(sub))
        if isinstance(branch.get("items"), dict):
            items.append(_node_id(branch["items"]))
    name = next((n for n, _ in branches if n in _WHAT), None)
    return _Shape(name, frozenset(known), closed, {k: tuple(v) for k, v in children.items()}, tuple(items))


# ODCS v2 property field -> (its v3 field, whether the boolean is inverted). Applied when the v3 field is absent.
PRE_V3_FIELDS: dict[str, tuple[str, bool]] = {
    "isNullable": ("required", True),
    "isUnique": ("unique", False),
    "isPrimaryKey": ("primaryKey", False),
    "partitionStatus": ("partitioned", False),
    "criticalDataElementStatus": ("criticalDataElement", False),
    "encryptedColumnName": ("encryptedName", False),
    "transformSourceTables": ("transformSourceObjects", False),
    "sampleValues": ("examples", False),
}
_BOOLEAN_V3 = frozenset({"required", "unique", "primaryKey", "partitioned", "criticalDataElement"})


def upgrade_pre_v3_fields(data: dict[str, Any], problems: Problems) -> None:
    """Rename the ODCS v2 property fields of `data` (in place) to their v3 names, warning once for each.

    ``isNullable: false`` becomes ``required: true`` (``isNullable: true``: ``required: false``), ``isUnique``
    becomes ``unique``, and so on (`PRE_V3_FIELDS`). When the v3 field is also there, it wins and the old one
    is dropped with a warning saying so. A non-boolean ``isNullable`` is an error on its own line. The new
    field keeps the old one's line, so later errors about it point at what the author wrote.

    Example:
        >>> from guardrails.contract._source import parse_yaml
        >>> doc = parse_yaml("schema: [{name: t, properties: [{name: id, isNullable: false}]}]", "c")
        >>> problems = Problems(doc)
        >>> upgrade_pre_v3_fields(doc.data, problems)
        >>> doc.data["schema"][0]["properties"][0], problems.warnings[0].hint
        ({'name': 'id', 'required': True}, 'read as required: true; rename it to the v3 field')
    """
    schemas = data.get("schema")
    for sindex, schema in enumerate(schemas if isinstance(schemas, list) else []):
        if isinstance(schema, dict):
            _upgrade_properties(schema.get("properties"), ("schema", sindex, "properties"), problems)
    _upgrade_team_comments(data, problems)


def _upgrade_team_comments(data: dict[str, Any], problems: Problems) -> None:
    """A team member's ``comment`` (ODCS v3.0) is its ``description`` since v3.1: valid in a v3.0 file, a warning
    in a later one (the standard's own full example, written for v3.0, has one)."""
    team = data.get("team")
    members, path = (team, ("team",)) if isinstance(team, list) else (None, ())
    if isinstance(team, dict):
        members, path = team.get("members"), ("team", "members")
    since_v3_1 = not str(data.get("apiVersion", "")).startswith("v3.0.")
    for index, member in enumerate(members if isinstance(members, list) else []):
        if not isinstance(member, dict) or "comment" not in member:
            continue
        comment = member.pop("comment")
        if since_v3_1:
            problems.warn((*path, index, "comment"), expected="description (a team member's comment until ODCS v3.1)",
                          got=f"comment: {describe_value(comment)}", hint="read as its description; rename it")
        if "description" not in member:
            member["description"] = comment


def _upgrade_properties(properties: Any, path: FieldPath, problems: Problems) -> None:
    for index, prop in enumerate(properties if isinstance(properties, list) else []):
        if isinstance(prop, dict):
            _upgrade_property(prop, (*path, index), problems)


def _upgrade_property(prop: dict[str, Any], ppath: FieldPath, problems: Problems) -> None:
    for old in [k for k in prop if k in PRE_V3_FIELDS]:
        new, inverted = PRE_V3_FIELDS[old]
        value = prop.pop(old)
        opath, npath = (*ppath, old), (*ppath, new)
        if new in _BOOLEAN_V3 and not isinstance(value, bool):
            problems.error(opath, expected=f"true or false (ODCS v2's {old}; v3 calls it {new})",
                           got=describe_value(value))
            continue
        meant = (not value) if inverted else value
        if new in prop:
            problems.warn(opath, expected=f"the ODCS v3 field {new!r} only ({old} is ODCS v2)",
                          got=f"{old}: {describe_value(value)} next to {new}: {describe_value(prop[new])}",
                          hint=f"{new} wins; remove {old}")
            continue
        prop[new] = meant
        lines = problems.doc.lines
        lines.setdefault(npath, lines.get(opath) or problems.doc.line_of(ppath) or 0)
        shown = str(meant).lower() if isinstance(meant, bool) else describe_value(meant)
        problems.warn(opath, expected=f"the ODCS v3 field {new!r} ({old} is ODCS v2)",
                      got=f"{old}: {describe_value(value) if not isinstance(value, bool) else str(value).lower()}",
                      hint=f"read as {new}: {shown}; rename it to the v3 field")
    _upgrade_properties(prop.get("properties"), (*ppath, "properties"), problems)
    if isinstance(prop.get("items"), dict):  # an array's items: the same shape as a property
        _upgrade_property(prop["items"], (*ppath, "items"), problems)


class StructureChecker:
    """Reports structural problems of one document into `problems`."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems

    def unknown_keys(self, data: dict[str, Any]) -> None:
        """Keys the ODCS JSON schema forbids but pydantic silently drops, anywhere below the top level (pydantic
        refuses unknown top-level keys itself)."""
        root = _shape((_node_id(_JSON_SCHEMA),), True)
        for key, value in data.items():
            if key in root.children:
                self._walk(value, (key,), root.children[key])

    def _walk(self, value: Any, path: FieldPath, schemas: tuple[int, ...]) -> None:
        if isinstance(value, dict):
            shape = _shape(schemas, True)
            for key, item in value.items():
                if key in _CHECKED_BY_COLUMNS:
                    continue
                sub = shape.children.get(key)
                if sub is not None:
                    self._walk(item, (*path, key), sub)
                elif shape.closed:
                    self._unknown(shape, (*path, key), key)
        elif isinstance(value, list):
            items = _shape(schemas, False).items
            if items:
                for index, item in enumerate(value):
                    if isinstance(item, dict | list):
                        self._walk(item, (*path, index), items)

    def _unknown(self, shape: _Shape, path: FieldPath, key: Any) -> None:
        if shape.name == "DataQuality":
            expected = "an ODCS quality field or operator (" + ", ".join(_quality.OPERATORS) + ")"
        else:
            named = _WHAT.get(shape.name or "") or next(str(p) for p in reversed(path[:-1]) if isinstance(p, str))
            expected = f"a field of an ODCS {named}"
        self.problems.error(path, expected=expected, got=f"unknown field {key!r}",
                            hint=did_you_mean(str(key), sorted(shape.known)))

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
