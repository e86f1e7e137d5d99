"""The ODCS ``quality`` library: metrics, operators, units and severities, turned into rule drafts.

Supported (ODCS v3.1 library metrics, as datacontract-cli writes them): ``nullValues``, ``missingValues``
(``arguments.missingValues``), ``invalidValues`` (``arguments.validValues`` or ``arguments.pattern``),
``duplicateValues`` (property level, or schema level with ``arguments.properties`` for a composite key) and
``rowCount`` (schema level), each with exactly one operator and a ``unit`` of ``rows`` (default) or ``percent``.

``type: text`` rules only describe and are skipped.

``type: sql`` (`SqlRule`): a ``query`` and exactly one operator, judged against the query's one scalar result;
placeholders are resolved and the query is refused at load unless it is one read-only SELECT
(`guardrails.contract._sql`; the check needs the ``[duckdb]`` extra, without which the rule cannot run anyway).

``type: custom`` (`CustomRule`): ``engine`` and ``implementation``. ``great-expectations`` (or
``greatExpectations``) rules run through Great Expectations and need an implementation with an expectation
``type`` (``expect_...``) and ``kwargs``; a rule for any other engine loads with a lint warning and is *not run*:
validation reports the check incomplete (see `guardrails.outcome.not_run`).

Severity: ``error`` (the default) blocks publication; ``warning`` is recorded only. ``info`` is accepted and
treated as ``warning`` (recorded, never blocks; `lint` says so), since ODCS lists it as an example severity.
Anything else is an error, so that ``severity: critcal`` cannot quietly become a warning.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any

from open_data_contract_standard.model import DataQuality

from guardrails.contract import _sql
from guardrails.contract._patterns import engine_error, portability_findings
from guardrails.contract._source import FieldPath, Problems, describe_value
from guardrails.contract.model import (
    OPERATORS,
    AllowedValuesRule,
    CustomRule,
    MissingValuesRule,
    NotNullRule,
    PatternRule,
    RowCountRule,
    Rule,
    SqlRule,
    Threshold,
    UniqueRule,
)
from guardrails.outcome import Severity

PROPERTY_METRICS = ("nullValues", "missingValues", "invalidValues", "duplicateValues")
SCHEMA_METRICS = ("rowCount", "duplicateValues")
METRICS = ("nullValues", "missingValues", "invalidValues", "duplicateValues", "rowCount")
UNITS = ("rows", "percent")
SEVERITIES = {"error": Severity.ERROR, "warning": Severity.WARNING, "warn": Severity.WARNING, "info": Severity.WARNING}
QUALITY_TYPES = ("library", "text", "sql", "custom")
BETWEEN = ("mustBeBetween", "mustNotBeBetween")

# arguments each metric accepts, per level
_ARGUMENTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("nullValues", "property"): (),
    ("missingValues", "property"): ("missingValues",),
    ("invalidValues", "property"): ("validValues", "pattern"),
    ("duplicateValues", "property"): (),
    ("duplicateValues", "schema"): ("properties",),
    ("rowCount", "schema"): (),
}


@dataclass(frozen=True, slots=True)
class RuleDraft:
    """A rule before its id is known: the class, its fields, where it came from, and a preferred id."""

    cls: type[Rule]
    fields: dict[str, Any]
    path: FieldPath
    column: str  # the column (or table, for table-wide rules) in the generated id "<column>.<kind>"
    explicit_id: str | None = None
    kind_label: str = ""  # overrides the kind in the generated id (e.g. "primary_key")


def is_number(value: Any) -> bool:
    """A finite int or float, and not a bool (YAML ``true`` is an int in Python)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_scalar(value: Any) -> bool:
    """A value a column cell can hold and JSON keeps as is (no lists or mappings)."""
    return value is None or isinstance(value, str | int | float | bool)


def did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """``"did you mean 'maxAge'?"`` for a near miss, else ``""``."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def translate_quality(
    item: DataQuality,
    path: FieldPath,
    *,
    level: str,
    column: str | None,
    table: str,
    columns: dict[str, FieldPath],
    problems: Problems,
) -> RuleDraft | None:
    """One validated ``quality[]`` entry -> a `RuleDraft` (None for text rules and entries with errors, recorded).

    A key the file gives, even as null, is in the entry's ``model_fields_set``: that is how ``mustBe: null``
    (an operator without a number) and ``metric: null`` are told from an absent key.
    """
    given = item.model_fields_set
    kind = item.type or "library"
    if kind == "text":
        return None
    if kind == "sql":
        return _sql_rule(item, path, column=column, table=table, problems=problems)
    if kind == "custom":
        return _custom_rule(item, path, column=column, table=table, problems=problems)
    if kind != "library":
        problems.error((*path, "type"), expected="one of " + ", ".join(QUALITY_TYPES), got=describe_value(kind))
        return None

    metric_key = "metric" if "metric" in given else "rule"  # `rule` is ODCS's deprecated name for `metric`
    metric = item.metric if metric_key == "metric" else item.rule
    level_metrics = PROPERTY_METRICS if level == "property" else SCHEMA_METRICS
    if metric is None:
        problems.error(
            (*path, "metric"), expected="a library metric: " + ", ".join(level_metrics), got="nothing",
            hint="a library rule needs `metric` (or `type: text` for a description only)",
        )
        return None
    if metric not in METRICS:
        problems.error(
            (*path, metric_key), expected="one of " + ", ".join(level_metrics), got=describe_value(metric),
            hint=did_you_mean(metric, METRICS),
        )
        return None
    if metric not in level_metrics:
        where = "under a property's quality" if level == "schema" else "in the schema object's quality"
        problems.error(
            (*path, metric_key), expected=f"a {level}-level metric: " + ", ".join(level_metrics), got=repr(metric),
            hint=f"{metric} belongs {where}",
        )
        return None

    errors_before = len(problems.errors)
    threshold = _threshold(item, path, metric, problems)
    severity = _severity(item.severity, path, problems)
    arguments = _arguments(item.arguments or {}, path, metric, level, columns, problems)
    explicit_id = _explicit_id(item, path, problems)
    if len(problems.errors) > errors_before or threshold is None or severity is None or arguments is None:
        return None

    common = {"severity": severity, "description": item.description or f"{metric} {threshold.describe()}"}
    if metric == "rowCount":
        return RuleDraft(RowCountRule, {**common, "threshold": threshold}, path, table, explicit_id)
    row_fields = {**common, "threshold": threshold}
    if metric == "duplicateValues" and level == "schema":
        keys = tuple(arguments["properties"])
        return RuleDraft(
            UniqueRule, {**row_fields, "column": keys[0], "key_columns": keys}, path, table, explicit_id
        )
    assert column is not None
    row_fields["column"] = column
    if metric == "nullValues":
        return RuleDraft(NotNullRule, row_fields, path, column, explicit_id)
    if metric == "missingValues":
        values = tuple(v for v in arguments.get("missingValues", ()) if v is not None)
        fields = {**row_fields, "missing_values": values}
        return RuleDraft(MissingValuesRule, fields, path, column, explicit_id)
    if metric == "duplicateValues":
        return RuleDraft(UniqueRule, row_fields, path, column, explicit_id)
    if "validValues" in arguments:
        values = tuple(arguments["validValues"])
        return RuleDraft(AllowedValuesRule, {**row_fields, "values": values}, path, column, explicit_id)
    fields = {**row_fields, "pattern": arguments["pattern"]}
    return RuleDraft(PatternRule, fields, path, column, explicit_id)


GX_ENGINES = ("great-expectations", "greatexpectations", "great_expectations", "gx")
"""How contracts spell Great Expectations as a custom rule's engine (compared lower-cased)."""


def is_gx_engine(engine: str) -> bool:
    """True for the engine names that mean Great Expectations (``great-expectations``, ``greatExpectations``...)."""
    return engine.strip().lower() in GX_ENGINES


def _sql_rule(
    item: DataQuality, path: FieldPath, *, column: str | None, table: str, problems: Problems
) -> RuleDraft | None:
    """A ``type: sql`` entry -> a `SqlRule` draft: placeholders resolved, read-only checked, one operator."""
    errors_before = len(problems.errors)
    query = item.query
    if not isinstance(query, str) or not query.strip():
        problems.error((*path, "query"), expected="a SQL query returning one number", got=describe_value(query))
        return None
    try:
        resolved = _sql.resolve_placeholders(query, table=table, column=column)
    except ValueError as exc:
        problems.error((*path, "query"), expected="placeholders this rule can fill", got=str(exc),
                       hint="use the property's name, or move the rule under the property's quality")
        return None
    known = (*_sql.TABLE_PLACEHOLDERS, *_sql.COLUMN_PLACEHOLDERS)
    for name in _sql.placeholders(resolved):  # the known ones are resolved: these are unknown
        problems.error((*path, "query"), expected="placeholders " + ", ".join(f"{{{p}}}" for p in known),
                       got=f"{{{name}}}", hint=did_you_mean(name, known))
    if len(problems.errors) > errors_before:
        return None
    try:
        _sql.check_query(resolved)
    except _sql.UnsafeQueryError as exc:
        problems.error((*path, "query"), expected="one read-only SELECT (or WITH ... SELECT)", got=exc.reason,
                       hint="quality queries read the batch and return one number; they cannot change or read anything else")
        return None
    except ImportError:
        pass  # without duckdb the rule cannot run at all; validation says so ("needs the [duckdb] extra")
    threshold = _threshold(item, path, "sql", problems)
    severity = _severity(item.severity, path, problems)
    explicit_id = _explicit_id(item, path, problems)
    if len(problems.errors) > errors_before or threshold is None or severity is None:
        return None
    fields = {
        "severity": severity, "description": item.description or f"query result {threshold.describe(with_unit=False)}",
        "query": resolved, "threshold": threshold, "table": table, "column": column,
    }
    return RuleDraft(SqlRule, fields, path, column or table, explicit_id)


def _custom_rule(
    item: DataQuality, path: FieldPath, *, column: str | None, table: str, problems: Problems
) -> RuleDraft | None:
    """A ``type: custom`` entry -> a `CustomRule` draft; a GX implementation is checked for its shape."""
    errors_before = len(problems.errors)
    engine = item.engine
    if not isinstance(engine, str) or not engine.strip():
        problems.error((*path, "engine"), expected="the engine that runs the rule (e.g. great-expectations)",
                       got=describe_value(engine))
        return None
    implementation = item.implementation
    if implementation is None or (isinstance(implementation, str) and not implementation.strip()):
        problems.error((*path, "implementation"), expected="the rule in the engine's own form", got="nothing")
        return None
    if is_gx_engine(engine):
        implementation = gx_expectation(implementation, (*path, "implementation"), problems)
    else:
        problems.warn(
            (*path, "engine"), expected="an engine guardrails runs: great-expectations", got=repr(engine),
            hint="this rule is not run: validation reports the check incomplete and fails closed "
            "unless unrun rules are allowed (--allow-unrun)",
        )
    severity = _severity(item.severity, path, problems)
    explicit_id = _explicit_id(item, path, problems)
    if len(problems.errors) > errors_before or implementation is None or severity is None:
        return None
    description = item.description or f"{engine} rule"
    fields = {"severity": severity, "description": description, "engine": engine.strip(),
              "implementation": implementation, "column": column}
    return RuleDraft(CustomRule, fields, path, column or table, explicit_id)


def gx_expectation(implementation: Any, path: FieldPath, problems: Problems) -> dict[str, Any] | None:
    """A GX implementation (a mapping, or YAML text as the ODCS examples write it) as ``{"type", "kwargs"}``.

    ``expectation_type`` is read as ``type``; camelCase kwargs (``minValue``, as in the ODCS example) become GX's
    snake_case (``min_value``). Whether GX knows the expectation is checked when it runs (importing GX costs
    seconds, too much for every load): an unknown one is then that rule's *could not run*.
    """
    if isinstance(implementation, str):
        import yaml

        try:
            implementation = yaml.safe_load(implementation)
        except yaml.YAMLError as exc:
            problems.error(path, expected="YAML with an expectation type and kwargs",
                           got=str(exc).splitlines()[0] if str(exc) else "invalid YAML")
            return None
    if not isinstance(implementation, dict):
        problems.error(path, expected="a mapping: {type: expect_..., kwargs: {...}}", got=describe_value(implementation))
        return None
    kind = implementation.get("type", implementation.get("expectation_type"))
    if not isinstance(kind, str) or not kind.startswith("expect_"):
        problems.error((*path, "type"), expected="a Great Expectations expectation type (expect_...)",
                       got=describe_value(kind))
        return None
    kwargs = implementation.get("kwargs", {})
    if not isinstance(kwargs, dict):
        problems.error((*path, "kwargs"), expected="a mapping of the expectation's arguments", got=describe_value(kwargs))
        return None
    unknown = [k for k in implementation if k not in ("type", "expectation_type", "kwargs", "meta")]
    for key in unknown:
        problems.error((*path, key), expected="type, kwargs or meta", got=repr(key))
    if unknown:
        return None
    return {"type": kind, "kwargs": {_snake(str(k)): v for k, v in kwargs.items()}}


def _snake(name: str) -> str:
    """``minValue`` -> ``min_value``; snake_case stays as it is."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _threshold(item: DataQuality, path: FieldPath, metric: str, problems: Problems) -> Threshold | None:
    given = [op for op in OPERATORS if op in item.model_fields_set]
    if len(given) != 1:
        problems.error(
            path, expected="exactly one operator: " + ", ".join(OPERATORS),
            got=", ".join(given) if given else "none",
            hint="e.g. `mustBe: 0`" if not given else "split the rule in two to combine comparisons",
        )
        return None
    operator = given[0]
    value = getattr(item, operator)
    unit = item.unit or "rows"
    ok = True
    if metric == "sql":
        unit = "rows"  # a query's result is compared as it is; a unit the contract gives only describes it
    elif unit not in UNITS:
        problems.error((*path, "unit"), expected="rows or percent", got=describe_value(unit))
        ok = False
    elif metric == "rowCount" and unit != "rows":
        problems.error((*path, "unit"), expected="rows (a row count has no percentage)", got=repr(unit))
        ok = False
    if operator in BETWEEN:
        if not (isinstance(value, list) and len(value) == 2 and all(is_number(v) for v in value)):
            problems.error((*path, operator), expected="a [low, high] pair of numbers", got=describe_value(value))
            return None
        if value[0] > value[1]:
            problems.error(
                (*path, operator), expected="low <= high", got=describe_value(value),
                hint=f"write [{value[1]}, {value[0]}]",
            )
            return None
        return Threshold(operator, (value[0], value[1]), unit) if ok else None  # type: ignore[arg-type]
    if not is_number(value):
        problems.error((*path, operator), expected="a number", got=describe_value(value))
        return None
    return Threshold(operator, value, unit) if ok else None  # type: ignore[arg-type]


def _severity(word: str | None, path: FieldPath, problems: Problems) -> Severity | None:
    if word is None:
        return Severity.ERROR
    severity = SEVERITIES.get(word.lower())
    if severity is None:
        problems.error(
            (*path, "severity"), expected="error, warning or info", got=describe_value(word),
            hint=did_you_mean(str(word).lower(), list(SEVERITIES)),
        )
    elif word.lower() == "info":
        problems.warn(
            (*path, "severity"), expected="error or warning", got="'info'",
            hint="info is treated as warning: the failure is recorded and never blocks publication",
        )
    return severity


def _arguments(
    arguments: dict[str, Any], path: FieldPath, metric: str, level: str, columns: dict[str, FieldPath],
    problems: Problems,
) -> dict[str, Any] | None:
    """Check a metric's ``arguments`` (a free mapping in the ODCS model) key by key."""
    apath = (*path, "arguments")
    allowed = _ARGUMENTS[(metric, level)]
    unknown = [key for key in arguments if key not in allowed]
    for key in unknown:
        problems.error(
            (*apath, key),
            expected=f"{metric} arguments: " + (", ".join(allowed) if allowed else "none"),
            got=f"unknown argument {key!r}", hint=did_you_mean(key, allowed),
        )
    if metric == "missingValues" and "missingValues" in arguments:
        values = arguments["missingValues"]
        if not isinstance(values, list) or not all(is_scalar(v) for v in values):
            problems.error((*apath, "missingValues"), expected="a list of values", got=describe_value(values))
    if metric == "invalidValues":
        present = [k for k in ("validValues", "pattern") if k in arguments]
        if len(present) != 1 and not unknown:  # a misspelt argument is the better message
            problems.error(
                apath, expected="exactly one of validValues, pattern", got=", ".join(present) if present else "none",
            )
        if "validValues" in arguments:
            values = arguments["validValues"]
            if not isinstance(values, list) or not values or not all(is_scalar(v) for v in values):
                problems.error(
                    (*apath, "validValues"), expected="a non-empty list of values", got=describe_value(values)
                )
        if "pattern" in arguments:
            check_pattern(arguments["pattern"], (*apath, "pattern"), problems)
    if metric == "duplicateValues" and level == "schema":
        keys = arguments.get("properties")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            problems.error(
                (*apath, "properties"), expected="a non-empty list of property names (the composite key)",
                got=describe_value(keys),
            )
        else:
            for index, key in enumerate(keys):
                if key not in columns:
                    problems.error(
                        (*apath, "properties", index), expected="a property of this schema object",
                        got=repr(key), hint=did_you_mean(key, list(columns)),
                    )
    return arguments


def _explicit_id(item: DataQuality, path: FieldPath, problems: Problems) -> str | None:
    for key, value in (("id", item.id), ("name", item.name)):
        if value is None:
            continue
        if not value.strip():
            problems.error((*path, key), expected="a non-empty string (used as the rule id)", got=describe_value(value))
            return None
        return value.strip()
    return None


def check_pattern(pattern: Any, path: FieldPath, problems: Problems) -> None:
    """A regex must compile in the engine that runs it (polars: Rust `regex`) and mean the same everywhere.

    Refused: what Rust cannot compile (lookaround, backreferences, atomic groups, ``\\Z``, size bombs such as
    ``a{100000}{100000}``) and what Rust reads differently from Python, Java and SQL engines (possessive
    quantifiers, ``\\<``); a lint warning: what runs as meant in Rust but is outside the portable subset
    (see `guardrails.contract._patterns` and the README).
    """
    if not isinstance(pattern, str):
        problems.error(path, expected="a regular expression (a string)", got=describe_value(pattern))
        return
    problem = engine_error(pattern)
    if problem is not None:
        problems.error(
            path, expected="a regular expression the polars engine (Rust regex) compiles",
            got=f"{pattern!r} ({problem})", hint="see the portable pattern subset in the README",
        )
        return
    for finding in portability_findings(pattern):
        report = problems.error if finding.level == "error" else problems.warn
        expected = "a pattern that means the same in every engine" if finding.level == "error" else (
            "a pattern in the portable subset"
        )
        report(path, expected=expected, got=f"{finding.construct} at position {finding.position} of {pattern!r}",
               hint=finding.reason)
