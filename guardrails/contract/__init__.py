"""Data contracts: the typed model, and loading ODCS v3 files into it."""

from guardrails.contract.durations import parse_duration
from guardrails.contract.lint import LintIssue, LintReport, lint_contract
from guardrails.contract.loader import load_contract, load_contract_file
from guardrails.contract.model import (
    AllowedValuesRule,
    ColumnTypeRule,
    Contract,
    ContractFile,
    LengthRule,
    LogicalType,
    MaxAgeRule,
    MissingValuesRule,
    NotInFutureRule,
    NotNullRule,
    PatternRule,
    QuarantinePolicy,
    RangeRule,
    RowCountRule,
    RowRule,
    Rule,
    RuleKind,
    Threshold,
    UniqueRule,
)

__all__ = [
    "AllowedValuesRule",
    "ColumnTypeRule",
    "Contract",
    "ContractFile",
    "LengthRule",
    "LintIssue",
    "LintReport",
    "LogicalType",
    "MaxAgeRule",
    "MissingValuesRule",
    "NotInFutureRule",
    "NotNullRule",
    "PatternRule",
    "QuarantinePolicy",
    "RangeRule",
    "RowCountRule",
    "RowRule",
    "Rule",
    "RuleKind",
    "Threshold",
    "UniqueRule",
    "lint_contract",
    "load_contract",
    "load_contract_file",
    "parse_duration",
]
