"""The typed contract: what an ODCS file means to us, parsed once at the edge.

A `Contract` is a tuple of `Rule`s plus the policy for what to do with a failing batch. Every rule is either
row-level (each row passes or fails it, so failing rows can be counted, sampled and quarantined one by one) or
table-level (it judges the batch as a whole: row count, column presence and type).

Row-level rules carry a `Threshold` on the number (or percentage) of failing rows. Rules that come from the
schema (`required`, `unique`, `logicalTypeOptions`, `enum`) tolerate no failing row; rules from the ODCS
`quality` library (`nullValues`, `invalidValues`, ...) carry the operator the contract gave them.

Example:
    >>> rule = RangeRule(rule_id="amount.range", column="amount", minimum=0, maximum=10_000)
    >>> rule.threshold.accepts(0), rule.threshold.accepts(1)
    (True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from guardrails.errors import ContractError
from guardrails.outcome import JsonScalar, Severity

if TYPE_CHECKING:  # the checks build on the contract package; only their settings types are named here
    from guardrails.checks.drift import DriftSettings
    from guardrails.checks.freshness import FreshnessSettings
    from guardrails.checks.parity import ParitySettings

Operator = Literal[
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
]
OPERATORS: tuple[Operator, ...] = Operator.__args__  # type: ignore[attr-defined]


class QuarantinePolicy(StrEnum):
    """What a failing batch becomes: all of it quarantined (`batch`) or only its invalid rows (`rows`)."""

    BATCH = "batch"
    ROWS = "rows"


class LogicalType(StrEnum):
    """ODCS v3 logical types."""

    STRING = "string"
    DATE = "date"
    TIMESTAMP = "timestamp"
    TIME = "time"
    NUMBER = "number"
    INTEGER = "integer"
    OBJECT = "object"
    ARRAY = "array"
    BOOLEAN = "boolean"


class RuleKind(StrEnum):
    """What a rule checks. A `StrEnum`, so outcomes, manifests and history write (and read back) the same strings."""

    TYPE = "type"
    ROW_COUNT = "row_count"
    NOT_NULL = "not_null"
    MISSING_VALUES = "missing_values"
    UNIQUE = "unique"
    RANGE = "range"
    ALLOWED_VALUES = "allowed_values"
    PATTERN = "pattern"
    LENGTH = "length"
    NOT_IN_FUTURE = "not_in_future"
    MAX_AGE = "max_age"
    SQL = "sql"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class Threshold:
    """An ODCS comparison on a measured value, e.g. ``Threshold("mustBeLessThan", 10, unit="percent")``.

    `value` is a number for the unary operators and a ``(low, high)`` pair for the two *Between* operators
    (inclusive, as in ODCS). `unit` says whether the measured value is a row count or a percentage of rows.
    """

    operator: Operator = "mustBe"
    value: float | tuple[float, float] = 0
    unit: Literal["rows", "percent"] = "rows"

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"operator must be one of {', '.join(OPERATORS)}, got {self.operator!r}")
        between = self.operator in ("mustBeBetween", "mustNotBeBetween")
        if between != isinstance(self.value, tuple):
            shape = "a [low, high] pair" if between else "a single number"
            raise ValueError(f"{self.operator} takes {shape}, got {self.value!r}")
        if between and self.value[0] > self.value[1]:  # type: ignore[index]
            raise ValueError(f"{self.operator} bounds are inverted: {self.value!r}")

    def accepts(self, observed: float) -> bool:
        """True when `observed` satisfies the comparison."""
        v = self.value
        match self.operator:
            case "mustBe":
                return observed == v
            case "mustNotBe":
                return observed != v
            case "mustBeGreaterThan":
                return observed > v  # type: ignore[operator]
            case "mustBeGreaterOrEqualTo":
                return observed >= v  # type: ignore[operator]
            case "mustBeLessThan":
                return observed < v  # type: ignore[operator]
            case "mustBeLessOrEqualTo":
                return observed <= v  # type: ignore[operator]
            case "mustBeBetween":
                return v[0] <= observed <= v[1]  # type: ignore[index]
            case "mustNotBeBetween":
                return not v[0] <= observed <= v[1]  # type: ignore[index]
        raise AssertionError(self.operator)

    def describe(self, *, with_unit: bool = True) -> str:
        """The comparison in words, e.g. ``"< 10 %"`` (``"< 10"`` without the unit, for a value a query returns)."""
        unit = "" if not with_unit else " %" if self.unit == "percent" else " rows"
        symbols = {
            "mustBe": "=",
            "mustNotBe": "!=",
            "mustBeGreaterThan": ">",
            "mustBeGreaterOrEqualTo": ">=",
            "mustBeLessThan": "<",
            "mustBeLessOrEqualTo": "<=",
        }
        if isinstance(self.value, tuple):
            word = "between" if self.operator == "mustBeBetween" else "not between"
            return f"{word} {_number(self.value[0])} and {_number(self.value[1])}{unit}"
        return f"{symbols[self.operator]} {_number(self.value)}{unit}"


def _number(value: float) -> str:
    """``20000000`` -> ``"20,000,000"``, ``0.5`` -> ``"0.5"``."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,g}"


NO_FAILING_ROWS = Threshold()


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """Fields every rule has. `rule_id` is stable across runs (``"<column>.<kind>"`` unless the contract names it)."""

    rule_id: str
    severity: Severity = Severity.ERROR
    description: str = ""

    kind: RuleKind = field(init=False)  # each concrete rule class sets its own

    @property
    def columns(self) -> tuple[str, ...]:
        column = getattr(self, "column", None)
        return (column,) if column else ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RowRule(Rule):
    """A rule each row passes or fails; the rule fails when the failing-row count breaks `threshold`."""

    column: str
    threshold: Threshold = NO_FAILING_ROWS


# --- table-level rules -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnTypeRule(Rule):
    """The column exists (if `required`) and its type matches the logical type (and physical type, if given)."""

    column: str
    logical_type: LogicalType
    physical_type: str | None = None
    required: bool = True
    format: str | None = None  # ODCS logicalTypeOptions.format ("email", "yyyy-MM-dd", "i64"): recorded, not checked
    kind: RuleKind = field(init=False, default=RuleKind.TYPE)


@dataclass(frozen=True, slots=True, kw_only=True)
class RowCountRule(Rule):
    """The number of rows in the batch satisfies `threshold` (unit ``rows``)."""

    threshold: Threshold
    kind: RuleKind = field(init=False, default=RuleKind.ROW_COUNT)


@dataclass(frozen=True, slots=True, kw_only=True)
class SqlRule(Rule):
    """A read-only SQL query over the batch whose one scalar result satisfies `threshold` (ODCS ``type: sql``).

    `query` is the query as it runs: the batch is the table named `table` (the schema object's name), and the
    ``{model}``/``{object}``/``{property}`` placeholders are already replaced by quoted names at load
    (`guardrails.contract._sql`). `column` is the property whose ``quality`` it sits under, if any.
    """

    query: str
    threshold: Threshold
    table: str
    column: str | None = None
    kind: RuleKind = field(init=False, default=RuleKind.SQL)


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomRule(Rule):
    """A rule written for another engine (ODCS ``type: custom``): `engine` and its `implementation`, as given.

    ``great-expectations`` (or ``greatExpectations``) rules run through Great Expectations: `implementation` is
    then ``{"type": "expect_...", "kwargs": {...}}``. Rules for engines guardrails does not have are *not run*:
    the outcome lists them with the reason and the check is incomplete (see `guardrails.outcome.not_run`).
    """

    engine: str
    implementation: Mapping[str, Any] | str
    column: str | None = None
    kind: RuleKind = field(init=False, default=RuleKind.CUSTOM)


# --- row-level rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NotNullRule(RowRule):
    """Null is a failure (ODCS ``required: true`` or ``quality: nullValues``)."""

    kind: RuleKind = field(init=False, default=RuleKind.NOT_NULL)


@dataclass(frozen=True, slots=True, kw_only=True)
class MissingValuesRule(RowRule):
    """Null or one of `missing_values` (e.g. ``""``, ``"N/A"``) is a failure (``quality: missingValues``)."""

    missing_values: tuple[JsonScalar, ...] = ()
    kind: RuleKind = field(init=False, default=RuleKind.MISSING_VALUES)


@dataclass(frozen=True, slots=True, kw_only=True)
class UniqueRule(RowRule):
    """Every row whose key (`key_columns`, one or more) occurs more than once fails.

    Covers ``unique: true``, a (composite) ``primaryKey``, and ``quality: duplicateValues``. `column` is the
    first key column; nulls are not duplicates of each other (SQL semantics).
    """

    key_columns: tuple[str, ...] = ()
    kind: RuleKind = field(init=False, default=RuleKind.UNIQUE)

    def __post_init__(self) -> None:
        if not self.key_columns:
            object.__setattr__(self, "key_columns", (self.column,))

    @property
    def columns(self) -> tuple[str, ...]:
        return self.key_columns


@dataclass(frozen=True, slots=True, kw_only=True)
class RangeRule(RowRule):
    """A non-null value outside ``[minimum, maximum]`` fails (bounds exclusive when the flags say so).

    Bounds are numbers for number/integer columns, `date` for date columns, time-zone-aware `datetime` for
    timestamp columns (a bound written without an offset is in the column's ``defaultTimezone``, UTC unless
    the contract says otherwise), and `time` for time columns.
    """

    minimum: float | date | datetime | time | None = None
    maximum: float | date | datetime | time | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    kind: RuleKind = field(init=False, default=RuleKind.RANGE)

    def __post_init__(self) -> None:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"{self.rule_id}: minimum {self.minimum} is above maximum {self.maximum}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowedValuesRule(RowRule):
    """A non-null value not in `values` fails (ODCS ``enum``, or ``invalidValues`` with ``validValues``)."""

    values: tuple[JsonScalar, ...]
    kind: RuleKind = field(init=False, default=RuleKind.ALLOWED_VALUES)


@dataclass(frozen=True, slots=True, kw_only=True)
class PatternRule(RowRule):
    """A non-null string not matching `pattern` (a full match, anchored by us) fails."""

    pattern: str
    kind: RuleKind = field(init=False, default=RuleKind.PATTERN)


@dataclass(frozen=True, slots=True, kw_only=True)
class LengthRule(RowRule):
    """A non-null string shorter than `min_length` or longer than `max_length` (characters) fails."""

    min_length: int | None = None
    max_length: int | None = None
    kind: RuleKind = field(init=False, default=RuleKind.LENGTH)


@dataclass(frozen=True, slots=True, kw_only=True)
class NotInFutureRule(RowRule):
    """A timestamp later than the validation's as-of time (plus `tolerance` for clock skew) fails."""

    tolerance: timedelta = timedelta(0)
    kind: RuleKind = field(init=False, default=RuleKind.NOT_IN_FUTURE)


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxAgeRule(RowRule):
    """A timestamp older than the as-of time minus `max_age` fails."""

    max_age: timedelta
    kind: RuleKind = field(init=False, default=RuleKind.MAX_AGE)


ROW_RULES = (
    NotNullRule,
    MissingValuesRule,
    UniqueRule,
    RangeRule,
    AllowedValuesRule,
    PatternRule,
    LengthRule,
    NotInFutureRule,
    MaxAgeRule,
)
TABLE_RULES = (ColumnTypeRule, RowCountRule, SqlRule, CustomRule)


@dataclass(frozen=True, slots=True, kw_only=True)
class Contract:
    """A data contract for one table (one ODCS ``schema[]`` object).

    `primary_key` orders the key columns (ODCS ``primaryKeyPosition``); failing-row samples carry them.
    `custom` holds our extras from ``customProperties`` as the contract wrote them (plain JSON values);
    `drift`, `parity` and `freshness` are the same extras parsed once, at load, into the checks' typed settings
    (None when the contract configures no such check; `freshness` also reads ``slaProperties``). `source` is
    the file it was loaded from, and
    `line_of` maps a rule id to its line there, so runtime messages can point at the YAML. A file that describes
    several tables loads into a `ContractFile`, one `Contract` per table (`physical_name` is the schema object's
    ``physicalName``, when it has one).
    """

    id: str
    version: str
    name: str
    table: str
    rules: tuple[Rule, ...]
    physical_name: str | None = None
    primary_key: tuple[str, ...] = ()
    policy: QuarantinePolicy = QuarantinePolicy.BATCH
    sample_size: int = 20
    custom: Mapping[str, Any] = field(default_factory=dict)
    sla: Mapping[str, Any] = field(default_factory=dict)
    drift: DriftSettings | None = None
    parity: ParitySettings | None = None
    freshness: FreshnessSettings | None = None
    source: str | None = None
    line_of: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.rule_id in seen:
                raise ValueError(f"contract {self.id}: rule id {rule.rule_id!r} is used twice")
            seen.add(rule.rule_id)

    @property
    def columns(self) -> tuple[ColumnTypeRule, ...]:
        """The declared columns, in contract order."""
        return tuple(r for r in self.rules if isinstance(r, ColumnTypeRule))

    @property
    def row_rules(self) -> tuple[RowRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, RowRule))

    @property
    def table_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if not isinstance(r, RowRule))


@dataclass(frozen=True, slots=True, kw_only=True)
class ContractFile:
    """Every table one ODCS file describes: one `Contract` per ``schema[]`` object, in file order.

    A contract file is one contract (one `id` and `version`, one owner, one set of SLAs) over any number of
    tables: an order and its line items, a dbt project's models. Each table keeps its own rules, key and
    settings; the document's ``customProperties`` and ``slaProperties`` apply to every table (an SLA whose
    ``element`` names a table applies to that table only).

    Example:
        >>> orders = Contract(id="urn:shop", version="1.0.0", name="orders", table="orders", rules=())
        >>> items = Contract(id="urn:shop", version="1.0.0", name="line_items", table="line_items", rules=(),
        ...                  physical_name="shop.order_lines")
        >>> file = ContractFile(id="urn:shop", version="1.0.0", source="shop.odcs.yaml", contracts=(orders, items))
        >>> file.tables, file.contract("shop.order_lines").table
        (('orders', 'line_items'), 'line_items')
    """

    id: str
    version: str
    source: str | None
    contracts: tuple[Contract, ...]
    line: int | None = None  # of the file's ``schema`` list, for messages about choosing a table

    @property
    def tables(self) -> tuple[str, ...]:
        """The table names, in file order."""
        return tuple(c.table for c in self.contracts)

    def contract(self, table: str | None = None) -> Contract:
        """The contract of `table` (its name or physical name); with no `table`, the file's only one.

        Raises:
            ContractError: `table` is missing while the file has several tables, or names none of them; the
                message lists the tables there are.
        """
        found = match_table(table, [(c.table, c.physical_name) for c in self.contracts])
        if isinstance(found, int):
            return self.contracts[found]
        expected, got, hint = found
        raise ContractError(self.source or self.id, "schema", expected=expected, got=got, line=self.line, hint=hint)


def match_table(table: str | None, names: list[tuple[str | None, str | None]]) -> int | tuple[str, str, str]:
    """The index of the schema object `table` names (by name, else physical name; None: the only one), or the
    (expected, got, hint) of the error saying why there is none.

    Example:
        >>> match_table("crm_customers", [("orders", None), ("customers", "crm_customers")])
        1
        >>> match_table(None, [("orders", None), ("customers", None)])[1]
        "2 tables: 'orders', 'customers'"
    """
    listed = ", ".join(repr(n) for n, _ in names)
    if table is None:
        if len(names) == 1:
            return 0
        return ("one schema object, or a table= argument naming one", f"{len(names)} tables: {listed}", "")
    for key in (0, 1):  # a name wins over another object's physical name
        hits = [i for i, pair in enumerate(names) if pair[key] == table]
        if len(hits) == 1:
            return hits[0]
        if hits:
            return (f"one schema object named {table!r}", f"{len(hits)} of them", "give each table its own name")
    from guardrails.contract._quality import did_you_mean  # _quality builds on this module

    return (f"a schema object named {table!r}", f"only {listed}", did_you_mean(table, [str(n) for n, _ in names]))
