"""Hostile YAML (alias bombs, recursive aliases, deep nesting) is refused fast, with file, line and field."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from definitions.data import Defect, generate_transactions, write_batch
from guardrails.cli import app
from guardrails.contract import lint_contract, load_contract
from guardrails.contract._source import parse_yaml
from guardrails.contract._yaml import LOADERS, MAX_ALIAS_NODES, MAX_ALIASES, MAX_DEPTH
from guardrails.errors import ContractError
from guardrails.quarantine import QuarantineState, QuarantineStore, guard_batch

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "expectations" / "transactions.odcs.yaml"
HEADER = "apiVersion: v3.1.0\nkind: DataContract\nid: hostile\nversion: 1.0.0\n"
DEEP = 20_000
runner = CliRunner()


def _billion_laughs() -> str:
    """The classic: nine levels of nine aliases, a billion "lol"s once expanded, in well under 1 KB."""
    lines = ['  lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"  lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return HEADER + "description:\n" + "\n".join(lines) + "\n"


# name -> (document, 1-based line of the refusal, field path of the refusal, words in the message)
HOSTILE = {
    "billion_laughs": (_billion_laughs(), 10, "description.lol4[0]", "aliases expand to more than"),
    "recursive_alias": (HEADER + "tags: &a [*a]\n", 5, "tags[0]", "recursive alias *a"),
    "recursive_mapping": (HEADER + "team: &t {lead: *t}\n", 5, "team.lead", "recursive alias *t"),
    "deep_flow_sequence": (
        HEADER + "tags: " + "[" * DEEP + "]" * DEEP + "\n", 5, "tags" + "[0]" * (MAX_DEPTH - 1), "deeper than"
    ),
    "deep_flow_mapping": (
        HEADER + "team: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n", 5, "team" + ".a" * (MAX_DEPTH - 1),
        "deeper than",
    ),
    "deep_block_sequence": (
        HEADER + "tags:\n  " + "- " * DEEP + "x\n", 6, "tags" + "[0]" * (MAX_DEPTH - 1), "deeper than"
    ),
    "deep_block_mapping": (
        HEADER + "team:\n" + "".join(" " * depth + "a:\n" for depth in range(1, 2_000)) + " " * 2_000 + "1\n",
        4 + MAX_DEPTH, "team" + ".a" * (MAX_DEPTH - 1), "deeper than",  # the line of the key too deep to hold
    ),
}
IDS = list(HOSTILE)


def _write(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.odcs.yaml"
    path.write_text(HOSTILE[name][0])
    return path


@pytest.mark.parametrize("name", IDS)
def test_hostile_yaml_is_refused_in_well_under_a_second_with_file_line_and_field(tmp_path: Path, name: str) -> None:
    """`load_contract` refuses each bomb with a ContractError naming file, line and field, in under a second."""
    path = _write(tmp_path, name)
    _, line, field, words = HOSTILE[name]
    started = time.perf_counter()
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{name} took {elapsed:.2f}s"
    error = caught.value
    assert (error.path, error.line) == (str(path), line)
    assert _same_place(error.field, field)
    assert words in str(error)
    assert str(error).startswith(f"{path}:{line}: {error.field}: ")


@pytest.mark.parametrize("loader", LOADERS, ids=[loader.__name__ for loader in LOADERS])
@pytest.mark.parametrize("name", IDS)
def test_each_yaml_parser_refuses_the_bomb_fast(name: str, loader: type) -> None:
    """libyaml's and the pure-Python parser both refuse each bomb in under a second, at the same line."""
    text, line, field, words = HOSTILE[name]
    started = time.perf_counter()
    with pytest.raises(ContractError, match=re.escape(words)) as caught:
        parse_yaml(text, "bomb.yaml", loader=loader)
    assert time.perf_counter() - started < 1.0
    assert caught.value.line == line and _same_place(caught.value.field, field)
    if loader.__name__ == "PythonLoader":
        assert caught.value.field == field


def _same_place(found: str, expected: str) -> bool:
    """The refusal names `expected`, or, for libyaml on deep flow nesting, a field on the way to it.

    libyaml refuses `[[[[...` at its own nesting limit while reading a line ahead, before our composer gets
    to depth MAX_DEPTH; the field is then the deepest one composed so far (``tags`` for ``tags: [[[[...``).
    """
    return found == expected or (found not in ("", "(document)") and expected.startswith(found))


def test_billion_laughs_fits_in_a_kilobyte() -> None:
    """The bomb under test is the small file of the report (under 1 KB), not a large file that is slow to read."""
    assert len(HOSTILE["billion_laughs"][0].encode()) < 1024


def test_too_many_aliases_are_refused_at_the_first_one_over_the_limit() -> None:
    """Alias uses past MAX_ALIASES are refused at the line of the first one too many, even if each is tiny."""
    text = "base: &b 1\nuses:\n" + "".join(f"  - *b\n" for _ in range(MAX_ALIASES + 1))
    with pytest.raises(ContractError) as caught:
        parse_yaml(text, "many.yaml")
    assert (caught.value.line, caught.value.field) == (MAX_ALIASES + 3, f"uses[{MAX_ALIASES}]")
    assert f"at most {MAX_ALIASES} YAML aliases" in str(caught.value)


def test_ordinary_anchors_and_merge_keys_still_load() -> None:
    """Anchors, aliases and `<<` merge keys within the limits still load, with lines for the aliased fields."""
    text = "defaults: &d {required: true, unique: false}\ncolumns:\n  - {<<: *d, name: a}\n  - {<<: *d, name: b}\n"
    doc = parse_yaml(text, "ok.yaml")
    assert doc.data["columns"] == [
        {"required": True, "unique": False, "name": "a"}, {"required": True, "unique": False, "name": "b"}
    ]
    assert doc.line_of(("columns", 1, "name")) == 4


def test_a_field_reached_through_an_alias_has_the_line_of_the_alias() -> None:
    """Fields under an alias are not indexed again: they point at the alias, where that copy is used."""
    doc = parse_yaml("a: &x {k: 1}\nb: *x\n", "alias.yaml")
    assert (doc.line_of(("a", "k")), doc.line_of(("b", "k"))) == (1, 2)


def test_a_repeated_key_in_an_aliased_mapping_is_reported_once() -> None:
    """A mapping with a repeated key, aliased three times, gives one error, not four."""
    with pytest.raises(ContractError) as caught:
        parse_yaml("a: &x {k: 1, k: 2}\nb: [*x, *x, *x]\n", "dup.yaml")
    assert [(e.line, e.field) for e in caught.value.errors] == [(1, "a.k")]


def test_an_alias_expansion_at_the_limit_loads_and_one_node_more_is_refused() -> None:
    """Aliases adding exactly MAX_ALIAS_NODES nodes load; one more node is refused (the limit is exact)."""
    def document(width: int) -> str:
        return "big: &big [" + ", ".join(["0"] * (width - 1)) + "]\ncopy: *big\n"

    assert parse_yaml(document(MAX_ALIAS_NODES), "at.yaml").data["copy"] == [0] * (MAX_ALIAS_NODES - 1)
    with pytest.raises(ContractError, match=f"expand to more than {MAX_ALIAS_NODES} nodes"):
        parse_yaml(document(MAX_ALIAS_NODES + 1), "over.yaml")


def test_nesting_at_the_limit_loads_and_one_level_more_is_refused() -> None:
    """A document nested exactly MAX_DEPTH deep loads; one level deeper is refused."""
    def document(depth: int) -> str:
        return "[" * depth + "]" * depth

    assert parse_yaml(document(MAX_DEPTH), "at.yaml").data is not None
    with pytest.raises(ContractError, match=f"nested deeper than {MAX_DEPTH} levels"):
        parse_yaml(document(MAX_DEPTH + 1), "over.yaml")


@pytest.mark.parametrize("name", IDS)
def test_contract_lint_reports_the_bomb_as_a_bad_contract(tmp_path: Path, name: str) -> None:
    """`guardrails contract lint` on a bomb exits 1 (a bad contract) with the file and line, no traceback."""
    path = _write(tmp_path, name)
    started = time.perf_counter()
    result = runner.invoke(app, ["contract", "lint", str(path), "--json"])
    assert time.perf_counter() - started < 1.0
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    [error] = json.loads(result.stdout)["errors"]
    assert error["line"] == HOSTILE[name][1] and _same_place(error["field"], HOSTILE[name][2])
    assert lint_contract(path).errors[0].line == HOSTILE[name][1]


@pytest.mark.parametrize("name", IDS)
def test_validate_with_a_bomb_contract_exits_2_with_one_line(tmp_path: Path, name: str) -> None:
    """`guardrails validate` with a bomb contract runs nothing and exits 2 with one line on stderr."""
    path = _write(tmp_path, name)
    data = write_batch(generate_transactions(date(2026, 11, 20), 50), tmp_path / "batch.parquet")
    started = time.perf_counter()
    result = runner.invoke(app, ["validate", str(path), str(data)])
    assert time.perf_counter() - started < 1.0
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.count("\n") == 1 and f"{path}:{HOSTILE[name][1]}: " in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", IDS)
def test_release_with_a_bomb_contract_exits_2_and_keeps_the_batch(tmp_path: Path, name: str) -> None:
    """`guardrails quarantine release --contract bomb` exits 2 with one line and leaves the batch quarantined."""
    store = QuarantineStore(str(tmp_path / "store"))
    frame = generate_transactions(date(2026, 11, 20), 50, defect=Defect.NULLS)
    as_of = datetime(2026, 11, 21, 6, tzinfo=UTC)
    batch_id = guard_batch(frame, load_contract(EXAMPLE), store, as_of=as_of).batch_id
    path = _write(tmp_path, name)
    started = time.perf_counter()
    result = runner.invoke(app, ["quarantine", "release", batch_id, "--contract", str(path), "--store", store.root])
    assert time.perf_counter() - started < 1.0
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.count("\n") == 1 and f"{path}:{HOSTILE[name][1]}: " in result.stderr
    assert store.show(batch_id).state is QuarantineState.QUARANTINED
