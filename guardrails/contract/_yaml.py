"""PyYAML, bounded: the YAML 1.2 core schema, composed within limits that keep a hostile file harmless.

A contract file comes from people and pull requests, so it is read as untrusted input. Three shapes of YAML
take a naive loader down: an alias bomb ("billion laughs": nine aliases of nine aliases... a billion nodes
from a few hundred bytes), a recursive alias (``&a [*a]``, a cycle every later walk recurses into forever) and
deep nesting (``[[[[...`` 20,000 deep overflows PyYAML's recursive composer). The composer below refuses
each of them at the node where the limit is crossed, before anything is expanded or walked, in time linear
in the part of the file read so far.

Events come from libyaml (PyYAML's C parser) when PyYAML was built with it, several times faster than the
pure-Python parser on a large contract; the composer, which enforces the limits, is always ours.

Example:
    >>> compose("a: &x [1, 2]\\nb: *x\\n").value[1][1].value[0].value
    '1'
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner, ScannerError

FieldPath = tuple[str | int, ...]

# An ODCS contract nests about ten levels deep and uses a handful of anchors (shared defaults merged with
# `<<`), so these are far above any real contract and far below any damage.
MAX_DEPTH = 100  # nodes nested inside each other; PyYAML's composer recurses once per level
MAX_ALIASES = 100  # alias uses (`*name`) per document
MAX_ALIAS_NODES = 10_000  # nodes that alias uses add once expanded ("billion laughs" adds 10**9)


class YamlLimitError(yaml.YAMLError):
    """A document goes past one of the limits above at `mark`, at the node whose field path is `path`."""

    def __init__(self, mark: yaml.Mark, path: FieldPath, *, expected: str, got: str, hint: str) -> None:
        super().__init__(got)
        self.mark, self.path, self.expected, self.got, self.hint = mark, path, expected, got, hint


class _CoreSchema(SafeConstructor, Resolver):
    """The YAML 1.2 core schema (null, bool, int, float, str) instead of PyYAML's YAML 1.1 default."""

    def __init__(self) -> None:
        SafeConstructor.__init__(self)
        Resolver.__init__(self)


_CoreSchema.yaml_implicit_resolvers = {}
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
    _CoreSchema.add_implicit_resolver(_tag, re.compile(_pattern), _first)


def _construct_int(loader: SafeConstructor, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)


_CoreSchema.add_constructor("tag:yaml.org,2002:int", _construct_int)


class _BoundedComposer(Composer):
    """PyYAML's composer, counting as it goes: depth, alias uses, and the nodes each alias stands for.

    An anchor's expanded size is known when its node is finished, so an alias costs one dict lookup and
    nothing is ever expanded to be counted. An alias to an anchor whose node is still open is recursive.
    """

    def __init__(self) -> None:
        super().__init__()
        self._path: list[str | int] = []
        self._open_anchors: set[str] = set()
        self._expanded: dict[str, int] = {}  # anchor -> nodes its node stands for, aliases inside expanded
        self._nodes = 0  # nodes so far, each alias counted as the nodes it expands to
        self._aliases = 0
        self._alias_nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if parent is not None:
            self._path.append(self._path_part(index))
        try:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                self._count_alias(event)
                return super().compose_node(parent, index)
            if len(self._path) >= MAX_DEPTH:
                self._refuse_depth(event.start_mark)
            start, anchor = self._nodes, event.anchor
            self._nodes += 1
            if anchor is not None:
                self._open_anchors.add(anchor)
            node = super().compose_node(parent, index)
            if anchor is not None:
                self._open_anchors.discard(anchor)
                self._expanded[anchor] = self._nodes - start
            return node
        except ScannerError as exc:
            # libyaml refuses nesting past its own limit (1000) while reading ahead, before this composer
            # reaches MAX_DEPTH: the same refusal, at the deepest field composed so far.
            if exc.problem == "exceeded maximum nesting depth" and exc.problem_mark is not None:
                self._refuse_depth(exc.problem_mark)
            raise
        finally:
            if parent is not None:
                self._path.pop()

    def _count_alias(self, event: yaml.AliasEvent) -> None:
        anchor = event.anchor
        if anchor in self._open_anchors:
            self._refuse(
                event, expected="an alias to an anchor whose node is complete",
                got=f"recursive alias *{anchor} inside its own anchor &{anchor}",
                hint="a recursive structure never ends; write the values out",
            )
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            self._refuse(
                event, expected=f"at most {MAX_ALIASES} YAML aliases", got=f"alias *{anchor}, number {self._aliases}",
                hint="write the values out, or share fewer of them",
            )
        added = self._expanded.get(anchor, 0)  # an undefined anchor adds nothing: PyYAML's own error follows
        self._alias_nodes += added
        self._nodes += added
        if self._alias_nodes > MAX_ALIAS_NODES:
            self._refuse(
                event, expected=f"YAML aliases that expand to at most {MAX_ALIAS_NODES} nodes in all",
                got=f"*{anchor}, after which YAML aliases expand to more than {MAX_ALIAS_NODES} nodes",
                hint="an alias of an alias multiplies; write the values out",
            )

    def _path_part(self, index: Any) -> str | int:
        """The field-path step to the node about to be composed, named as `_source` names it."""
        if isinstance(index, int):
            return index  # a sequence item
        if index is None:  # a mapping key itself: named by its own text when it is a scalar
            event = self.peek_event()
            return event.value if isinstance(event, yaml.ScalarEvent) else "?"
        return index.value if isinstance(index, yaml.ScalarNode) else "?"  # a value, named by its key

    def _refuse_depth(self, mark: yaml.Mark) -> NoReturn:
        raise YamlLimitError(
            mark, tuple(self._path), expected=f"at most {MAX_DEPTH} levels of nesting",
            got=f"YAML nested deeper than {MAX_DEPTH} levels", hint="a contract needs about ten",
        ) from None

    def _refuse(self, event: yaml.Event, *, expected: str, got: str, hint: str) -> NoReturn:
        raise YamlLimitError(event.start_mark, tuple(self._path), expected=expected, got=got, hint=hint)


class _LinearScanner(Scanner):
    """PyYAML's scanner without its quadratic lookahead on nested flow collections.

    It keeps one "possible simple key" per open flow level and scans all of them for each token while reading
    up to 1024 characters ahead, so ``[[[[...`` costs a second before the composer reaches depth 100. Keys are
    only ever added at the end of the dict (`save_possible_simple_key` deletes, then inserts), so the dict is
    in creation order, which is index and line order: the oldest key comes first and the stale ones are a
    prefix. Same results, constant time per token.
    """

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
                raise ScannerError("while scanning a simple key", key.mark, "could not find expected ':'",
                                   self.get_mark())
            del keys[level]


class PythonLoader(_BoundedComposer, Reader, _LinearScanner, Parser, _CoreSchema):
    """The bounded composer on PyYAML's pure-Python parser (used where PyYAML has no libyaml)."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        _LinearScanner.__init__(self)
        Parser.__init__(self)
        _BoundedComposer.__init__(self)
        _CoreSchema.__init__(self)


LOADERS: tuple[type[_BoundedComposer], ...] = (PythonLoader,)
if yaml.__with_libyaml__:
    from yaml.cyaml import CParser

    class LibyamlLoader(_BoundedComposer, CParser, _CoreSchema):  # type: ignore[misc]
        """The bounded composer on libyaml's events (our composer's `get_single_node` comes first in the MRO)."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _BoundedComposer.__init__(self)
            _CoreSchema.__init__(self)

    LOADERS = (LibyamlLoader, PythonLoader)


def compose(text: str, loader: type[_BoundedComposer] = LOADERS[0]) -> yaml.Node | None:
    """The node graph of `text` (aliases shared, never expanded), or `YamlLimitError` / PyYAML's errors."""
    composer = loader(text)
    try:
        return composer.get_single_node()
    finally:
        composer.dispose()


def construct(node: yaml.Node) -> Any:
    """The plain Python data of a composed document (bounded: the composer has checked it)."""
    constructor = _CoreSchema()
    return constructor.construct_document(node)
