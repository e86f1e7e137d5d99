"""Load an ODCS v3 contract file into the typed `Contract`, rejecting anything malformed with file, line and field.

The file is read in three passes, each reporting every problem it finds (one `ContractError` for the first,
all of them in its `errors`, "... and N more" in its message):

1. YAML, keeping the line where each field path starts (`guardrails.contract._source`);
2. structure: the official `open_data_contract_standard` pydantic model, plus the keys the ODCS JSON schema
   (shipped in the same package) forbids but the pydantic model silently drops (``requird: true`` or
   ``mustBeAbout: 3`` would otherwise disable a check without a word);
3. meaning, read from the validated model objects (each field path built from the positions in their lists,
   which are the YAML's, so every error keeps its line): the standard's own fields become rules; our extras
   in ``customProperties`` are checked against a registry (`guardrails.contract.custom_properties`), and the
   drift, parity and freshness settings are parsed into the checks' typed settings (`Contract.drift`,
   `.parity`, `.freshness`), each refusal an error on the line of its customProperty or SLA entry.

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
``slaProperties``                                            `Contract.sla` (plain dicts by property name; of
                                                             one property's several drivers, the strictest
                                                             latency/freshness, else the first)
==========================================================  ==============================================

A file may describe several tables (one ``schema[]`` object each): `load_contract` translates the one `table=`
names (or the file's only one), `load_contract_file` all of them into a `ContractFile`. The document's fields
(``id``, ``version``, ``customProperties``, ``slaProperties``) apply to every table; an SLA entry whose
``element`` names only other tables of the file is left out of this one's.

Example:
    >>> contract = load_contract("expectations/transactions.odcs.yaml")
    >>> contract.table, contract.primary_key, contract.line_of["amount.range"]
    ('transactions', ('transaction_id',), 43)
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic
from open_data_contract_standard.model import OpenDataContractStandard, SchemaObject, SchemaProperty

from guardrails.contract import _quality
from guardrails.contract._columns import NO_POSITION, ColumnReader, KeyColumn
from guardrails.contract._quality import RuleDraft, did_you_mean
from guardrails.contract._source import FieldPath, Problems, SourceDocument, combine, describe_value, parse_yaml
from guardrails.contract._structure import StructureChecker, upgrade_pre_v3_fields
from guardrails.contract.custom_properties import CONTRACT_PROPERTIES, FRESHNESS_SLA, configures_checks
from guardrails.contract.durations import parse_duration
from guardrails.contract.model import (
    ColumnTypeRule,
    Contract,
    ContractFile,
    NotNullRule,
    QuarantinePolicy,
    Rule,
    UniqueRule,
    match_table,
)
from guardrails.errors import ContractError

if TYPE_CHECKING:
    from guardrails.checks._settings import CheckSettings

__all__ = ["LoadedContract", "load_contract", "load_contract_file", "load_with_warnings"]

_CONTRACT_DEFAULTS = {"quarantinePolicy": QuarantinePolicy.BATCH, "sampleSize": 20}


def load_contract(path: str | os.PathLike[str], *, table: str | None = None) -> Contract:
    """Load the contract for `table` (or the file's only ``schema[]`` object) from an ODCS v3 YAML file.

    Only that table is translated: another table's problems do not stop this one from loading (`lint_contract`
    and `load_contract_file` read them all).

    Raises:
        ContractError: naming the file, line, field path, what was expected and what arrived; when there are
            several problems, the first one, with all of them in `errors`. A file with several tables and no
            `table` is an error listing them.
    """
    loaded = load_with_warnings(path, table=table)
    if loaded.errors:
        raise loaded.errors[0]
    assert loaded.contract is not None
    return loaded.contract


def load_contract_file(path: str | os.PathLike[str]) -> ContractFile:
    """Load every table of an ODCS v3 YAML file: one `Contract` per ``schema[]`` object, in file order.

    Example:
        >>> file = load_contract_file("expectations/transactions.odcs.yaml")
        >>> file.id, file.tables, file.contract().table
        ('urn:datacontract:payments:transactions', ('transactions',), 'transactions')

    Raises:
        ContractError: as `load_contract`, with the problems of every table.
    """
    loaded = load_with_warnings(path, every_table=True)
    if loaded.errors:
        raise loaded.errors[0]
    assert loaded.file is not None
    return loaded.file


@dataclass(frozen=True, slots=True)
class LoadedContract:
    """Everything one read of a contract file found: the contract (if it loaded), its errors and warnings.

    `tables` names the file's schema objects whenever the YAML got that far (even if the file did not load),
    so a caller can say which tables there are. `file` holds every table when they were all read
    (``every_table=True``); `contract` is the table asked for, or the file's only table.
    """

    contract: Contract | None
    errors: tuple[ContractError, ...]
    warnings: tuple[ContractError, ...]
    tables: tuple[str, ...] = ()
    file: ContractFile | None = None


def load_with_warnings(
    path: str | os.PathLike[str], *, table: str | None = None, every_table: bool = False
) -> LoadedContract:
    """Read a contract, collecting every error and warning instead of raising (what `lint_contract` needs).

    With `every_table`, every schema object is translated (their problems all collected) and `table` is
    ignored; otherwise only `table` (or the file's only table) is.
    """
    with _cyclic_gc_paused():
        return _load(os.fspath(path), table, every_table)


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a contract is read, then restore it as it was.

    Reading builds hundreds of thousands of small containers for a large contract (YAML nodes, dicts, rule
    drafts), none of them in a cycle (the YAML composer refuses recursive aliases), and the collector would
    scan them again and again: half the time of a 100,000-property lint. Reference counting still frees
    everything as usual; only the search for cycles waits until the read is over.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load(name: str, table: str | None, every_table: bool) -> LoadedContract:
    try:
        text = Path(name).read_text(encoding="utf-8")
        doc = parse_yaml(text, name)
    except ContractError as exc:
        return LoadedContract(None, exc.errors, ())
    except (OSError, UnicodeDecodeError) as exc:
        error = ContractError(name, "(file)", expected="a readable UTF-8 YAML file", got=f"{type(exc).__name__}: {exc}")
        return LoadedContract(None, (error,), ())
    problems = Problems(doc)
    translator = _Translator(doc, problems)
    odcs = translator.document()
    tables = _table_names(doc.data)
    contract: Contract | None = None
    file: ContractFile | None = None
    if odcs is not None and every_table:
        assert odcs.schema_ is not None  # `document` refuses a file without tables
        contracts = [translator.table(odcs, index, schema) for index, schema in enumerate(odcs.schema_)]
        if not problems.errors:
            loaded = tuple(c for c in contracts if c is not None)
            file = ContractFile(id=str(odcs.id), version=str(odcs.version), source=doc.path, contracts=loaded,
                                line=doc.line_of(("schema",)))
            contract = loaded[0] if len(loaded) == 1 else None
    elif odcs is not None:
        assert odcs.schema_ is not None
        found = match_table(table, [(s.name, s.physicalName) for s in odcs.schema_])
        if isinstance(found, int):
            contract = translator.table(odcs, found, odcs.schema_[found])
            # what the document pass found in the other tables (v2 field names) is theirs, not this table's
            others = [f"schema[{i}]" for i in range(len(odcs.schema_)) if i != found]
            problems.warnings[:] = [w for w in problems.warnings if not w.field.startswith(tuple(others))]
        else:
            expected, got, hint = found
            problems.error(("schema",), expected=expected, got=got, hint=hint)
    if problems.errors:
        first = combine(problems.errors)
        return LoadedContract(None, first.errors, tuple(problems.warnings), tables)
    return LoadedContract(contract, (), tuple(problems.warnings), tables, file)


def _table_names(data: Any) -> tuple[str, ...]:
    """The names of the schema objects as written (read from the plain data, so even a file that does not load
    can say which tables it has)."""
    schemas = data.get("schema") if isinstance(data, dict) else None
    if not isinstance(schemas, list):
        return ()
    return tuple(str(s["name"]) for s in schemas if isinstance(s, dict) and isinstance(s.get("name"), str))


class _Translator:
    """Turns one validated document into a `Contract`, recording every problem in `problems`."""

    def __init__(self, doc: SourceDocument, problems: Problems) -> None:
        self.doc = doc
        self.problems = problems
        self.columns = ColumnReader(problems)

    # --- document ----------------------------------------------------------------------------------------

    def document(self) -> OpenDataContractStandard | None:
        """The validated standard model of the whole file (None, with the problems recorded, if it is not one)."""
        data = self.doc.data
        if not isinstance(data, dict):
            got = "an empty file" if data is None else f"a {type(data).__name__} ({describe_value(data)})"
            self.problems.error(
                (), expected="a mapping of ODCS fields (apiVersion, kind, id, version, schema, ...)", got=got
            )
            return None
        api = data.get("apiVersion")
        if isinstance(api, str) and not re.fullmatch(r"v3\.\d+\.\d+", api):
            # another major version: its fields would only bury this one error under dozens of "unknown field"
            v2 = "an ODCS v2 file: migrate it to v3, where dataset[].columns[] became schema[].properties[]"
            self.problems.error(("apiVersion",), expected="an ODCS v3 apiVersion such as v3.1.0", got=repr(api),
                                hint=v2 if api.startswith("v2") else "")
            return None
        upgrade_pre_v3_fields(data, self.problems)
        StructureChecker(self.problems).unknown_keys(data)
        try:
            # strict: pydantic's lax mode would turn `required: "yes"` into True, which ODCS refuses; JSON-schema
            # types are exact, so strict is also what ODCS means.
            odcs = OpenDataContractStandard.model_validate(data, strict=True)
        except pydantic.ValidationError as exc:
            StructureChecker(self.problems).pydantic_errors(exc)
            return None
        if self.problems.errors:
            return None
        self._header(odcs)
        self._tables(odcs)
        self._sla_entries(odcs)
        return None if self.problems.errors else odcs

    def _header(self, odcs: OpenDataContractStandard) -> None:
        api = odcs.apiVersion
        if api is None:
            self.problems.error(("apiVersion",), expected="an ODCS v3 apiVersion such as v3.1.0", got="nothing")
        elif not re.fullmatch(r"v3\.\d+\.\d+", api):
            self.problems.error(("apiVersion",), expected="an ODCS v3 apiVersion such as v3.1.0", got=repr(api))
        if odcs.kind != "DataContract":
            got = "nothing" if odcs.kind is None else repr(odcs.kind)
            self.problems.error(("kind",), expected="DataContract", got=got)
        for key, value in (("id", odcs.id), ("version", odcs.version)):
            if not value:
                self.problems.error((key,), expected="a non-empty string (ODCS requires it)", got="nothing")

    def _tables(self, odcs: OpenDataContractStandard) -> None:
        """At least one schema object, each with a name of its own (a table is chosen, and reported, by name)."""
        schemas = odcs.schema_
        if not schemas:
            self.problems.error(
                ("schema",), expected="a list with at least one schema object (the table and its properties)",
                got="nothing" if schemas is None else "an empty list",
            )
            return
        first: dict[str, int] = {}
        for index, schema in enumerate(schemas):
            if not schema.name:
                self.problems.error(("schema", index, "name"), expected="the table name", got="nothing")
            elif schema.name in first:
                line = self.doc.line_of(("schema", first[schema.name]))
                self.problems.error(("schema", index, "name"), expected="each table named once",
                                    got=f"{schema.name!r} again (first on line {line})")
            else:
                first[schema.name] = index

    def _sla_entries(self, odcs: OpenDataContractStandard) -> None:
        """Each SLA promise once: an entry may repeat a property for another ``driver`` (the standard's own
        example has a regulatory and an analytics ``timeOfAvailability``) or another element, not verbatim."""
        seen: dict[tuple[str, str | None, str | None], int] = {}
        for index, entry in enumerate(odcs.slaProperties or []):
            path = ("slaProperties", index)
            if not entry.property:
                self.problems.error((*path, "property"), expected="an SLA property name",
                                    got=describe_value(entry.property))
                continue
            key = (entry.property, entry.driver, entry.element or odcs.slaDefaultElement)
            if key in seen:
                driver = f" and driver {entry.driver!r}" if entry.driver else ""
                first = self.doc.line_of(("slaProperties", seen[key]))
                self.problems.error(
                    (*path, "property"), expected="each SLA property once per driver and element",
                    got=f"{entry.property!r}{driver} again (first on line {first})",
                    hint="give each entry its own driver (regulatory, analytics, operational) or drop the copy",
                )
            else:
                seen[key] = index

    def table(self, odcs: OpenDataContractStandard, index: int, schema: SchemaObject) -> Contract | None:
        """The `Contract` of one schema object (None if it has errors, which are recorded)."""
        errors_before = len(self.problems.errors)
        contract = self._schema(odcs, index, schema)
        return contract if len(self.problems.errors) == errors_before else None

    def _schema(self, odcs: OpenDataContractStandard, index: int, schema: SchemaObject) -> Contract | None:
        spath: FieldPath = ("schema", index)
        table = schema.name
        assert table  # `_tables` refused a schema object without a name
        errors_before = len(self.problems.errors)
        settings = dict(_CONTRACT_DEFAULTS)
        read = self.columns.custom_properties
        settings |= read(odcs.customProperties, ("customProperties",), CONTRACT_PROPERTIES)
        settings |= read(schema.customProperties, (*spath, "customProperties"), CONTRACT_PROPERTIES)

        properties = schema.properties or []
        if not properties:  # a table being drafted: it loads, and only its schema-level rules (if any) run
            self.problems.warn(
                (*spath, "properties"), expected="a list of properties (the table's columns)",
                got="nothing" if schema.properties is None else "an empty list",
                hint="no column is checked until they are declared",
            )
        columns: dict[str, FieldPath] = {}
        for pindex, prop in enumerate(properties):
            ppath = (*spath, "properties", pindex)
            name = prop.name
            if not name:
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
        keys: list[KeyColumn] = []
        for name, ppath in columns.items():
            prop = properties[ppath[-1]]
            drafts += self.columns.column(name, prop, ppath, table, columns, keys)
        unique_columns = {n for n, p in columns.items() if properties[p[-1]].unique is True}
        for draft in self._primary_key(keys, table, unique_columns):
            if draft.column == table:  # composite key: a table-wide rule, after the columns
                drafts.append(draft)
            else:  # one-column key: next to that column's other rules
                last = max(i for i, d in enumerate(drafts) if d.column == draft.column)
                drafts.insert(last + 1, draft)
        for qindex, item in enumerate(schema.quality or []):
            draft = _quality.translate_quality(
                item, (*spath, "quality", qindex), level="schema", column=None, table=table, columns=columns,
                problems=self.problems,
            )
            if draft is not None:
                drafts.append(draft)
        sla, checked_sla = self._sla(odcs, schema, columns, properties)
        custom = {k: v for k, v in settings.items() if k not in _CONTRACT_DEFAULTS}
        primary_key = tuple(name for _, _, name, _ in sorted(keys))
        checks = self._check_settings(odcs, index, custom, checked_sla, primary_key)
        rules, line_of = self._assign_ids(drafts)
        if len(self.problems.errors) > errors_before:
            return None  # lint findings about a table that does not load would only be noise
        self._lint(rules, columns, properties, drafts)
        return Contract(
            id=str(odcs.id),
            version=str(odcs.version),
            name=odcs.name or table,
            table=table,
            rules=tuple(rules),
            physical_name=schema.physicalName,
            primary_key=primary_key,
            policy=settings["quarantinePolicy"],
            sample_size=settings["sampleSize"],
            custom=custom,
            sla=sla,
            drift=checks.drift if checks else None,
            parity=checks.parity if checks else None,
            freshness=checks.freshness if checks else None,
            source=self.doc.path,
            line_of=line_of,
        )

    # --- one property ------------------------------------------------------------------------------------

    # --- keys, SLA, ids ----------------------------------------------------------------------------------

    def _primary_key(self, keys: list[KeyColumn], table: str, unique: set[str]) -> list[RuleDraft]:
        if not keys or (len(keys) == 1 and keys[0][2] in unique):
            return []  # no key, or a one-column key whose `unique: true` already made the rule
        positions = [p for p, _, _, _ in keys if p != NO_POSITION]
        for position, _, name, path in keys:
            if position != NO_POSITION and positions.count(position) > 1:
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

    def _sla(self, odcs: OpenDataContractStandard, schema: SchemaObject, columns: dict[str, FieldPath],
             properties: list[SchemaProperty]) -> tuple[dict[str, Any], dict[str, Any]]:
        """This table's SLA, and the part of it the freshness check can hold a batch to.

        Every entry counts except those whose ``element`` names only other tables of the file. One entry per
        property: when several drivers (or elements) promise the same freshness property, the strictest, since
        a batch has to keep every one of those promises; for other properties the first. A latency or freshness
        promise about no date or timestamp column of this table (an API's response time, a whole table, an
        object column) is recorded but not checked, with a warning: it is a promise, not a malformed file.
        """
        mine = {n for n in (schema.name, schema.physicalName) if n}
        others = {n for s in odcs.schema_ or [] if s is not schema for n in (s.name, s.physicalName) if n} - mine
        found: dict[str, list[dict[str, Any]]] = {}
        checkable: dict[str, list[dict[str, Any]]] = {}
        for index, entry in enumerate(odcs.slaProperties or []):
            path = ("slaProperties", index)
            element = entry.element or odcs.slaDefaultElement
            parts = [p.strip() for p in str(element or "").split(",") if p.strip()]
            owners = {p.split(".", 1)[0] if "." in p else p for p in parts} & (mine | others)
            if owners and owners <= others:
                continue  # another table's promise
            value = {"property": entry.property, "value": entry.value, "unit": entry.unit, "element": element}
            if entry.driver:
                value["driver"] = entry.driver
            found.setdefault(str(entry.property), []).append(value)
            for part in parts:
                owner, _, column = part.partition(".")
                if column and owner in mine and column not in columns:
                    self.problems.warn((*path, "element"), expected=f"a column of {schema.name}", got=repr(part),
                                       hint=did_you_mean(column, list(columns)))
            why_not = self._unchecked_freshness(entry.property, parts, mine, columns, properties)
            if why_not:
                self.problems.warn((*path, "element"), expected=f"the date or timestamp column a {entry.property} "
                                   "SLA is measured on", got=why_not, hint="recorded in the contract, not checked")
            else:
                checkable.setdefault(str(entry.property), []).append(value)
        return ({key: _strictest(key, entries) for key, entries in found.items()},
                {key: _strictest(key, entries) for key, entries in checkable.items()})

    @staticmethod
    def _unchecked_freshness(prop: str | None, parts: list[str], mine: set[str], columns: dict[str, FieldPath],
                             properties: list[SchemaProperty]) -> str:
        """Why a latency/freshness entry names no column the freshness check can read ("" when it does, or when
        the entry is another property)."""
        if prop not in ("latency", "freshness") or not parts:
            return ""  # frequency needs no column; no element at all is refused by the check itself
        owner, _, column = parts[0].rpartition(".")
        if not owner and column in mine:
            return f"the table {column!r} itself"
        if column in columns:
            logical = properties[columns[column][-1]].logicalType
            if logical is not None and logical not in ("date", "timestamp"):
                return f"{column!r}, a column of logical type {logical}"
        return ""

    def _check_settings(self, odcs: OpenDataContractStandard, index: int, custom: dict[str, Any], sla: dict[str, Any],
                        primary_key: tuple[str, ...]) -> CheckSettings | None:
        """The checks' typed settings (None: no check configured); each refusal is an error on its setting's line."""
        if not configures_checks(custom, sla):
            return None
        # Imported here, and only when needed: the checks build on this package, and bring polars, numpy, scipy.
        from guardrails.checks._settings import read_check_settings

        checks = read_check_settings(custom, sla, primary_key=primary_key, source=self.doc.path)
        lines = self._setting_lines(odcs, index)
        for error in checks.errors:
            self.problems.errors.append(ContractError(
                self.doc.path, error.field, expected=error.expected, got=error.got, hint=error.hint,
                line=lines.get(_setting_of(error.field), self.doc.line_of(("slaProperties",))),
            ))
        return checks

    def _setting_lines(self, odcs: OpenDataContractStandard, index: int) -> dict[str, int | None]:
        """Line of each check setting: its customProperty entry (the schema object's wins) or its SLA entry."""
        assert odcs.schema_ is not None  # the schema object at `index` was selected from it
        places: tuple[tuple[FieldPath, str, list[Any] | None], ...] = (
            (("slaProperties",), "slaProperties.", odcs.slaProperties),
            (("customProperties",), "customProperties.", odcs.customProperties),
            (("schema", index, "customProperties"), "customProperties.", odcs.schema_[index].customProperties),
        )
        lines: dict[str, int | None] = {}
        for place, prefix, entries in places:
            for position, entry in enumerate(entries or []):
                repeated = place == ("slaProperties",) and prefix + str(entry.property) in lines
                if entry.property is not None and not repeated:  # a repeated SLA property: its first entry
                    lines[prefix + entry.property] = self.doc.line_of((*place, position))
        return lines

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

    # --- lint-only findings -----------------------------------------------------------------------------

    def _lint(
        self,
        rules: list[Rule],
        columns: dict[str, FieldPath],
        properties: list[SchemaProperty],
        drafts: list[RuleDraft],
    ) -> None:
        checked = {c for r in rules if not isinstance(r, ColumnTypeRule) for c in r.columns}
        for name, path in columns.items():
            if name not in checked:
                self.problems.warn(path, expected="at least one check besides the column's type",
                                   got=f"none for {name!r}",
                                   hint="add required, enum, logicalTypeOptions or quality rules")
        for draft in drafts:
            threshold = draft.fields.get("threshold")
            one_null = 1 if threshold is not None and threshold.unit == "rows" else 1e-9  # 1 row, or "a few" %
            tolerates_nulls = draft.cls is NotNullRule and threshold is not None and threshold.accepts(one_null)
            if tolerates_nulls and draft.fields["column"] in columns:
                prop = properties[columns[draft.fields["column"]][-1]]
                if prop.required is True:
                    self.problems.warn(draft.path, expected="nullValues consistent with required: true",
                                       got="a threshold that tolerates nulls",
                                       hint="required: true already fails any null; drop one of the two")
            if threshold is not None and threshold.unit == "percent":
                values = threshold.value if isinstance(threshold.value, tuple) else (threshold.value,)
                if any(v < 0 or v > 100 for v in values):
                    self.problems.warn(draft.path, expected="a percentage between 0 and 100", got=threshold.describe())


def _strictest(key: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The entry of a repeated SLA property the checks hold the batch to (see `_Translator._sla`)."""
    if len(entries) == 1 or key not in FRESHNESS_SLA:
        return entries[0]
    durations = []
    for entry in entries:
        try:
            durations.append(parse_duration(entry["value"], entry["unit"]))
        except ValueError:
            return entry  # unreadable: the freshness settings refuse it with its field and line
    return entries[durations.index(min(durations))]


def _setting_of(field: str) -> str:
    """``customProperties.drift.thresholds.psi`` -> ``customProperties.drift``; the same for ``slaProperties``."""
    return ".".join(field.split(".")[:2])


@functools.cache  # once per rule class, not once per rule
def _kind_of(cls: type[Rule]) -> str:
    """The `kind` a rule class sets (a slots dataclass keeps field defaults on the field, not the class)."""
    return next(f.default for f in dataclasses.fields(cls) if f.name == "kind")  # type: ignore[arg-type]


