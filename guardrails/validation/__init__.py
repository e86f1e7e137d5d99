"""Validating batches against data contracts (our one-pass polars engine) and Great Expectations suites."""

from guardrails.validation._engine import ContractValidation, validate
from guardrails.validation._great_expectations import validate_expectation_suite
from guardrails.validation._pandera import to_pandera_schema

__all__ = ["ContractValidation", "to_pandera_schema", "validate", "validate_expectation_suite"]
