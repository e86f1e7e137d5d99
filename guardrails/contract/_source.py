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

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml

from guardrails.errors import ContractError

FieldPath = tuple[str | int, ...]

# Limits that keep a hostile file from taking the machine down, checked while PyYAML composes, before anything
# is expanded or walked. An ODCS contract nests about ten levels deep and uses a handful of anchors (shared
# defaults merged with `<<`), so these are far above any real contract and far below any damage.
MAX_DEPTH = 100  # nodes nested inside each other; PyYAML's composer recurses once per level
MAX_ALIASES = 100  # alias uses (`*name`) per document
MAX_ALIAS_NODES = 10_000  # nodes that alias uses add once expanded ("billion laughs" adds 10**9)


class _LimitExceeded(yaml.YAMLError):
    """A document goes past one of the limits above, at `mark`, inside the node at `path`."""

    def __init__(self, mark: yaml.Mark, path: FieldPath, *, expected: str, got: str, hint: str) -> None:
        super().__init__(got)
        self.mark, self.path, self.expected, self.got, self.hint = mark, path, expected, got, hint


class _CoreSchemaLoader(yaml.SafeLoader):
    """PyYAML's safe loader restricted to the YAML 1.2 core schema (null, bool, int, float, str), within limits.

    The composer counts as it goes, in one pass: depth, alias uses, and the nodes each alias stands for once
    expanded (an anchor's expanded size is known when its node is finished, so an alias costs one lookup, and
    nothing is ever expanded to be counted). An alias to an anchor whose node is still open is recursive:
    PyYAML would build a cyclic graph that every later walk recurses into forever, so it is refused too.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str | int] = []
        self._open_anchors: set[str] = set()
        self._expanded: dict[str, int] = {}  # anchor -> nodes its node stands for, aliases inside expanded
        self._nodes = 0  # nodes so far, each alias counted as the nodes it expands to
        self._aliases = 0
        self._alias_nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if parent is not None:
            self._path.append(self._path_part(parent, index))
        try:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                self._count_alias(event)
                return super().compose_node(parent, index)
            if len(self._path) >= MAX_DEPTH:
                self._refuse(
                    event, expected=f"at most {MAX_DEPTH} levels of nesting",
                    got=f"YAML nested deeper than {MAX_DEPTH} levels", hint="a contract needs about ten",
                )
            start, anchor = self._nodes, event.anchor
            self._nodes += 1
            if anchor is not None:
                self._open_anchors.add(anchor)
            node = super().compose_node(parent, index)
            if anchor is not None:
                self._open_anchors.discard(anchor)
                self._expanded[anchor] = self._nodes - start
            return node
        finally:
            if parent is not None:
                self._path.pop()

    def _count_alias(self, event: yaml.AliasEvent) -> None:
        anchor = event.anchor
        if anchor in self._open_anchors:
            self._refuse(
                event, expected="an alias to an anchor whose node is complete",
                got=f"recursive alias *{anchor} inside its own anchor &{anchor}",
                hint="a recursive structure never ends; copy the values instead",
            )
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            self._refuse(
                event, expected=f"at most {MAX_ALIASES} YAML aliases", got=f"alias *{anchor}, number {self._aliases}",
                hint="write the values out, or share fewer of them",
            )
        added = self._expanded.get(anchor, 0)  # an undefined anchor: PyYAML's own error follows
        self._alias_nodes += added
        self._nodes += added
        if self._alias_nodes > MAX_ALIAS_NODES:
            self._refuse(
                event, expected=f"YAML aliases that expand to at most {MAX_ALIAS_NODES} nodes in all",
                got=f"*{anchor}, after which YAML aliases expand to more than {MAX_ALIAS_NODES} nodes",
                hint="an alias of an alias multiplies; write the values out",
            )

    # PyYAML's scanner keeps one "possible simple key" per open flow level and scans every one of them for each
    # token, and it reads up to 1024 characters ahead: `[[[[...` costs a second before the composer sees depth
    # 100. The keys are only ever added at the end of the dict (`save_possible_simple_key` deletes, then
    # inserts), so the dict is in creation order, which is index and line order: the oldest key is the
    # first, and the stale ones are a prefix. Same results, constant time per token.

    def next_possible_simple_key(self) -> int | None:
        key = next(iter(self.possible_simple_keys.values()), None)
        return None if key is None else key.token_number

    def stale_possible_simple_keys(self) -> None:
        keys = self.possible_simple_keys
        while keys:
            level, key = next(iter(keys.items()))
            if key.line == self.line and self.index - key.index <= 1024:
                return  # this key is fresh, so every later (newer) one is too
            if key.required:
                raise yaml.scanner.ScannerError(
                    "while scanning a simple key", key.mark, "could not find expected ':'", self.get_mark()
                )
            del keys[level]

    def _path_part(self, parent: yaml.Node, index: Any) -> str | int:
        """The field-path step from `parent` to the node about to be composed (as `_index_lines` names it)."""
        if isinstance(index, int):
            return index  # a sequence item
        key = index
        if key is None:  # the mapping key itself: name it by its own text when it is a plain scalar
            event = self.peek_event()
            return event.value if isinstance(event, yaml.ScalarEvent) else "?"
        return key.value if isinstance(key, yaml.ScalarNode) else "?"

    def _refuse(self, event: yaml.Event, *, expected: str, got: str, hint: str) -> NoReturn:
        raise _LimitExceeded(event.start_mark, tuple(self._path), expected=expected, got=got, hint=hint)


_CoreSchemaLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:merge", r"^<<$", ["<"]),  # `<<: *defaults`, so anchors keep working
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
):
    _CoreSchemaLoader.add_implicit_resolver(_tag, re.compile(_pattern), _first)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)


_CoreSchemaLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


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


def parse_yaml(text: str, path: str) -> SourceDocument:
    """Parse `text` (named `path` in messages), keeping lines; raise `ContractError` on bad YAML or repeated keys."""
    try:
        node = yaml.compose(text, Loader=_CoreSchemaLoader)
    except _LimitExceeded as exc:
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
    _index_lines(node, (), lines, duplicates, path)
    if duplicates:
        raise ContractError(
            duplicates[0].path, duplicates[0].field, expected=duplicates[0].expected, got=duplicates[0].got,
            line=duplicates[0].line, more=duplicates[1:],
        )
    loader = _CoreSchemaLoader("")
    try:
        data = loader.construct_document(node)
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ContractError(path, "(document)", expected="plain YAML values", got=str(exc.problem), line=line) from exc
    finally:
        loader.dispose()
    return SourceDocument(path, data, lines)


def _index_lines(
    node: yaml.Node, path: FieldPath, lines: dict[FieldPath, int], duplicates: list[ContractError], file: str
) -> None:
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
            _index_lines(value_node, child, lines, duplicates, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _index_lines(item, child, lines, duplicates, file)


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
