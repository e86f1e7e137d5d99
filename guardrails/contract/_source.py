"""Reading a contract file: YAML with a line for every field path, and a collector for the problems found.

Two YAML choices are deliberate. The file is read with the YAML 1.2 core schema, not PyYAML's YAML 1.1
default: ``NO`` (Norway) stays a string instead of becoming ``False``, ``12:30:00`` stays a string instead of
the sexagesimal integer 45000, and ``2024-01-01`` stays a string as in JSON (the ODCS JSON schema types
dates as strings; we parse them where a field means a date). And a mapping that repeats a key is an error:
PyYAML would silently keep the last value.

Example:
    >>> doc = parse_yaml("a:\\n  b: [1, NO]\\n", "x.yaml")
    >>> doc.data, doc.line_of(("a", "b", 1))
    ({'a': {'b': [1, 'NO']}}, 2)
    >>> format_path(("schema", 0, "properties", 4, "enum", 0))
    'schema[0].properties[4].enum[0]'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from guardrails.contract._yaml import LOADERS, FieldPath, YamlLimitError, compose, construct
from guardrails.errors import ContractError

def format_path(path: FieldPath) -> str:
    """Our field-path style: ``schema[0].properties[3].logicalTypeOptions.minimum``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def describe_value(value: Any, limit: int = 60) -> str:
    """A short, quoted rendering of a value for "got ..." (``'ten'``, ``[5]``, ``a mapping``)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        text = "a mapping {" + ", ".join(repr(k) for k in list(value)[:4]) + (", ...}" if len(value) > 4 else "}")
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """A parsed YAML file: its plain data and the line (1-based) where each field path starts."""

    path: str
    data: Any
    lines: dict[FieldPath, int]

    def line_of(self, path: FieldPath) -> int | None:
        """The line of `path`, or of its nearest parent that has one (a missing field points at its parent)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def parse_yaml(text: str, path: str, *, loader: type[Any] = LOADERS[0]) -> SourceDocument:
    """Parse `text` (named `path` in messages), keeping lines; raise `ContractError` on bad YAML or repeated keys.

    Hostile YAML (alias bombs, recursive aliases, nesting deeper than `MAX_DEPTH`) is refused while it is
    composed (`guardrails.contract._yaml`): the line index walks each node once, the data shares what aliases
    share, and any later walk of the data meets at most `MAX_ALIAS_NODES` nodes more than the file spells
    out. `loader` is one of `LOADERS` (the fastest by default).
    """
    try:
        node = compose(text, loader)
    except YamlLimitError as exc:
        raise ContractError(
            path, format_path(exc.path), expected=exc.expected, got=exc.got, line=exc.mark.line + 1, hint=exc.hint
        ) from None  # the composer's stack says nothing the message does not
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ContractError(
            path, "(document)", expected="valid YAML", got=problem or str(exc), line=line,
            hint="check the indentation and quoting on this line and the one before",
        ) from exc
    except yaml.YAMLError as exc:
        raise ContractError(path, "(document)", expected="valid YAML", got=str(exc)) from exc
    lines: dict[FieldPath, int] = {}
    if node is None:
        return SourceDocument(path, None, lines)
    lines[()] = node.start_mark.line + 1
    duplicates: list[ContractError] = []
    _index_lines(node, (), lines, duplicates, path, set())
    if duplicates:
        raise ContractError(
            duplicates[0].path, duplicates[0].field, expected=duplicates[0].expected, got=duplicates[0].got,
            line=duplicates[0].line, more=duplicates[1:],
        )
    try:
        data = construct(node)
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ContractError(path, "(document)", expected="plain YAML values", got=str(exc.problem), line=line) from exc
    return SourceDocument(path, data, lines)


def _index_lines(
    node: yaml.Node,
    path: FieldPath,
    lines: dict[FieldPath, int],
    duplicates: list[ContractError],
    file: str,
    visited: set[int],
) -> None:
    """Record the line of every field path under `node`; repeated keys go to `duplicates`.

    Each node is walked once: at an alias, the anchored node's fields are not indexed again, so a field
    reached through the alias has the line of the alias (`SourceDocument.line_of` falls back to the nearest
    indexed parent). The walk is linear in the file, whatever the aliases would expand to.
    """
    if isinstance(node, yaml.ScalarNode) or id(node) in visited:
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            child = (*path, key)
            if key in seen:
                duplicates.append(
                    ContractError(
                        file, format_path(child), expected="each key once per mapping",
                        got=f"{key!r} again (YAML would silently keep only the last one)",
                        line=key_node.start_mark.line + 1,
                    )
                )
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _index_lines(value_node, child, lines, duplicates, file, visited)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _index_lines(item, child, lines, duplicates, file, visited)


@dataclass(slots=True)
class Problems:
    """Collects every `ContractError` found in one document, so one load reports them all."""

    doc: SourceDocument
    errors: list[ContractError] = field(default_factory=list)
    warnings: list[ContractError] = field(default_factory=list)

    def error(self, path: FieldPath, *, expected: str, got: str, hint: str = "") -> None:
        """Record an error at `path` (the line comes from the document)."""
        self.errors.append(self._make(path, expected, got, hint))

    def warn(self, path: FieldPath, *, expected: str, got: str, hint: str = "") -> None:
        """Record something that loads but is probably not what the author meant (only `lint` shows these)."""
        self.warnings.append(self._make(path, expected, got, hint))

    def _make(self, path: FieldPath, expected: str, got: str, hint: str) -> ContractError:
        return ContractError(
            self.doc.path, format_path(path), expected=expected, got=got, line=self.doc.line_of(path), hint=hint
        )


def combine(errors: Sequence[ContractError]) -> ContractError:
    """One `ContractError` for the first of `errors` in file order, with all of them in its `errors`."""
    ordered = sorted(errors, key=lambda e: (e.line if e.line is not None else 0))
    first = ordered[0]
    return ContractError(
        first.path, first.field, expected=first.expected, got=first.got, line=first.line, hint=first.hint,
        more=ordered[1:],
    )
