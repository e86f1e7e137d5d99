"""Fixtures: the example transactions contract built by hand (mirrors expectations/transactions.odcs.yaml)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from definitions.data import CATEGORIES, CHANNELS, CURRENCIES
from guardrails.contract.model import (
    AllowedValuesRule,
    ColumnTypeRule,
    Contract,
    LengthRule,
    LogicalType,
    MaxAgeRule,
    NotInFutureRule,
    NotNullRule,
    PatternRule,
    RangeRule,
    RowCountRule,
    Threshold,
    UniqueRule,
)
from guardrails.outcome import Severity

DAY = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
"""Judging time for a batch of `DAY`: the morning after, so clean event times are neither future nor stale."""

REQUIRED = ("transaction_id", "account_id", "merchant_id", "amount", "currency", "merchant_category", "channel",
            "card_present", "event_time")


def transactions_contract() -> Contract:
    """The example contract, rule for rule, with the rule ids the loader gives them."""
    types = {
        "transaction_id": (LogicalType.STRING, "string"),
        "account_id": (LogicalType.STRING, None),
        "merchant_id": (LogicalType.STRING, None),
        "amount": (LogicalType.NUMBER, "double"),
        "currency": (LogicalType.STRING, None),
        "merchant_category": (LogicalType.STRING, None),
        "channel": (LogicalType.STRING, None),
        "country": (LogicalType.STRING, None),
        "card_present": (LogicalType.BOOLEAN, None),
        "event_time": (LogicalType.TIMESTAMP, "timestamp"),
        "is_fraud": (LogicalType.BOOLEAN, None),
    }
    rules = [
        ColumnTypeRule(rule_id=f"{c}.type", column=c, logical_type=t, physical_type=p) for c, (t, p) in types.items()
    ]
    rules += [NotNullRule(rule_id=f"{c}.not_null", column=c) for c in REQUIRED]
    rules += [
        UniqueRule(rule_id="transaction_id.unique", column="transaction_id"),
        PatternRule(rule_id="transaction_id.pattern", column="transaction_id", pattern="^tx_[0-9]{12}$"),
        PatternRule(rule_id="account_id.pattern", column="account_id", pattern="^acct_[0-9]{7}$"),
        LengthRule(rule_id="merchant_id.length", column="merchant_id", min_length=7, max_length=7),
        RangeRule(rule_id="amount.range", column="amount", minimum=0, maximum=50_000),
        AllowedValuesRule(rule_id="currency.allowed_values", column="currency", values=CURRENCIES),
        AllowedValuesRule(rule_id="merchant_category.invalid_values", column="merchant_category", values=CATEGORIES),
        AllowedValuesRule(rule_id="channel.invalid_values", column="channel", values=CHANNELS),
        PatternRule(rule_id="country.invalid_values", column="country", pattern="^[A-Z]{2}$"),
        NotNullRule(
            rule_id="country.null_values",
            column="country",
            threshold=Threshold("mustBeLessThan", 1, unit="percent"),
            severity=Severity.WARNING,
        ),
        NotInFutureRule(rule_id="event_time.not_in_future", column="event_time"),
        MaxAgeRule(rule_id="event_time.max_age", column="event_time", max_age=timedelta(days=30)),
        RowCountRule(rule_id="transactions.row_count", threshold=Threshold("mustBeBetween", (100, 20_000_000))),
        UniqueRule(
            rule_id="transactions.duplicate_values",
            column="account_id",
            key_columns=("account_id", "event_time", "amount"),
            severity=Severity.WARNING,
        ),
    ]
    return Contract(
        id="urn:datacontract:payments:transactions",
        version="1.2.0",
        name="Card transactions",
        table="transactions",
        rules=tuple(rules),
        primary_key=("transaction_id",),
    )


@pytest.fixture(scope="session")
def contract() -> Contract:
    return transactions_contract()
