"""Model features from clean transactions: per-transaction attributes and per-account rolling aggregates.

Everything is one vectorized polars expression chain; the rolling windows use `rolling_*_by` over
``event_time`` per account, so a feature at a row only sees that account's earlier (and current) transactions
and the same code can run at serving time without leaking the future.

Example:
    >>> from datetime import date
    >>> from definitions.data import generate_transactions
    >>> features = build_features(generate_transactions(date(2026, 11, 2), rows=500, accounts=50))
    >>> features.height, features["account_tx_count_1h"].min() >= 1
    (500, True)
"""

from __future__ import annotations

import polars as pl

from definitions.data import CATEGORIES

KEY_COLUMNS = ("transaction_id", "account_id", "event_time")
LABEL = "is_fraud"
FEATURE_COLUMNS = (
    "amount",
    "log_amount",
    "card_present",
    "is_online",
    "is_atm",
    "hour_of_day",
    "account_tx_count_1h",
    "account_tx_count_24h",
    "account_amount_sum_24h",
    "amount_to_account_mean_24h",
    "seconds_since_account_prev_tx",
    *(f"category_{name}" for name in CATEGORIES),
)
"""The model's inputs, in the order the model is trained and served with."""

NO_PREVIOUS_TRANSACTION_SECONDS = 86_400.0
"""Value of `seconds_since_account_prev_tx` for an account's first transaction in the window (one day)."""


def build_features(transactions: pl.DataFrame) -> pl.DataFrame:
    """Keys, `FEATURE_COLUMNS` (all Float64) and the label, one row per transaction, ordered by event time."""
    per_account = {"partition_by": "account_id"}
    by_time = pl.col("event_time")
    one = pl.col("transaction_id").is_not_null().cast(pl.Float64)  # a column of ones (a literal would not roll)
    return (
        transactions.sort("event_time")
        .with_columns(
            pl.col("amount").log1p().alias("log_amount"),
            pl.col("card_present").cast(pl.Float64),
            (pl.col("channel") == "online").cast(pl.Float64).alias("is_online"),
            (pl.col("channel") == "atm").cast(pl.Float64).alias("is_atm"),
            by_time.dt.hour().cast(pl.Float64).alias("hour_of_day"),
            one.rolling_sum_by(by_time, "1h").over(**per_account).alias("account_tx_count_1h"),
            one.rolling_sum_by(by_time, "24h").over(**per_account).alias("account_tx_count_24h"),
            pl.col("amount").rolling_sum_by(by_time, "24h").over(**per_account).alias("account_amount_sum_24h"),
            (pl.col("amount") / pl.col("amount").rolling_mean_by(by_time, "24h").over(**per_account)).alias(
                "amount_to_account_mean_24h"
            ),
            by_time.diff()
            .over(**per_account)
            .dt.total_seconds(fractional=True)
            .fill_null(NO_PREVIOUS_TRANSACTION_SECONDS)
            .alias("seconds_since_account_prev_tx"),
            *((pl.col("merchant_category") == name).cast(pl.Float64).alias(f"category_{name}") for name in CATEGORIES),
        )
        .select(*KEY_COLUMNS, *(pl.col(name).cast(pl.Float64) for name in FEATURE_COLUMNS), LABEL)
    )
