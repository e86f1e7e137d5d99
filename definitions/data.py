"""Deterministic synthetic card transactions, with named defects, for the example pipeline, tests and benchmarks.

A day's batch is a pure function of (day, rows, seed): the same call always returns the same table, so tests
can assert exact counts and benchmarks compare engines on identical data. Generation is vectorized (numpy and
polars), so 10M rows take a few seconds.

A `Defect` makes the batch bad in one named, countable way, the way real upstream incidents look:

    >>> from datetime import date
    >>> bad = generate_transactions(date(2026, 11, 20), rows=1_000, defect=Defect.UNKNOWN_CATEGORIES)
    >>> int((bad["merchant_category"] == "crypto").sum()) == defect_rows(1_000, Defect.UNKNOWN_CATEGORIES)
    True
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import numpy as np
import polars as pl

CURRENCIES = ("USD", "EUR", "GBP", "CAD")
CATEGORIES = (
    "grocery",
    "electronics",
    "travel",
    "restaurants",
    "fuel",
    "fashion",
    "gaming",
    "health",
    "utilities",
    "entertainment",
)
CHANNELS = ("online", "pos", "atm")
COUNTRIES = ("US", "GB", "DE", "FR", "CA", "ES", "IT", "NL")
EPOCH = date(2026, 1, 1)
DEFECT_FRACTION = 0.05
"""Share of rows a row-level defect touches."""


class Defect(StrEnum):
    """A named way for a batch to go bad."""

    NULLS = "nulls"
    """5% of `amount` and `account_id` are null (an upstream join lost its right side)."""
    OUT_OF_RANGE_AMOUNTS = "out_of_range_amounts"
    """5% of amounts are negative or far above the maximum (a unit change: cents sent as dollars)."""
    UNKNOWN_CATEGORIES = "unknown_categories"
    """5% of rows carry a merchant category the contract does not know (`crypto`)."""
    DUPLICATE_IDS = "duplicate_ids"
    """5% of rows repeat an earlier row's transaction_id (a replayed file)."""
    SCHEMA_CHANGE = "schema_change"
    """`amount` renamed to `amount_usd` and sent as a string (an upstream release)."""
    FUTURE_TIMESTAMPS = "future_timestamps"
    """5% of event times are two days ahead (a producer with a broken clock): in the future for any as-of time
    up to a day after the batch's day."""
    CORRUPT_FILE = "corrupt_file"
    """The Parquet file on disk is truncated (a failed upload); only `write_batch` produces it."""


def defect_rows(rows: int, defect: Defect) -> int:
    """How many rows a row-level defect touches in a batch of `rows` rows."""
    return int(rows * DEFECT_FRACTION) if defect not in (Defect.SCHEMA_CHANGE, Defect.CORRUPT_FILE) else 0


def _day_seed(day: date, seed: int) -> int:
    return seed * 100_003 + (day - EPOCH).days


def generate_transactions(
    day: date, rows: int = 5_000, *, seed: int = 7, defect: Defect | None = None, accounts: int = 200_000
) -> pl.DataFrame:
    """One day's batch of `rows` transactions, optionally with a `defect`.

    Args:
        day: the business day; event times fall inside it (UTC), and ids are unique across days.
        rows: number of rows.
        seed: changes every value while keeping the shape (use the default for the example).
        defect: a named defect to inject (``CORRUPT_FILE`` only affects `write_batch`).
        accounts: size of the card-holder population the account ids are drawn from (at most 10,000,000); fewer
            accounts means more transactions per account, which per-account features need.
    """
    rng = np.random.default_rng(_day_seed(day, seed))
    day_index = (day - EPOCH).days
    ids = np.arange(rows, dtype=np.int64) + day_index * 100_000_000
    account_numbers = rng.integers(0, accounts, rows)
    merchants = rng.integers(0, 20_000, rows)
    amount = np.round(np.clip(rng.lognormal(3.6, 1.1, rows), 0.5, 25_000), 2)
    category = rng.choice(len(CATEGORIES), rows, p=_weights(len(CATEGORIES)))
    channel = rng.choice(len(CHANNELS), rows, p=[0.55, 0.4, 0.05])
    currency = rng.choice(len(CURRENCIES), rows, p=[0.6, 0.2, 0.15, 0.05])
    country = rng.choice(len(COUNTRIES), rows)
    card_present = (channel != 0) & (rng.random(rows) < 0.95)
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    offsets_us = np.sort(rng.integers(0, 86_400_000_000, rows))
    # A fraud label a model can learn: large online card-not-present spends in risky categories.
    risk = -5.0 + 0.9 * np.log1p(amount) / 3 + 1.2 * (~card_present) + 0.8 * np.isin(category, (1, 6))
    is_fraud = rng.random(rows) < 1 / (1 + np.exp(-risk))

    frame = pl.DataFrame(
        {
            "transaction_id": pl.Series(ids).cast(pl.String).str.zfill(12),
            "account_id": pl.Series(account_numbers).cast(pl.String).str.zfill(7),
            "merchant_id": pl.Series(merchants).cast(pl.String).str.zfill(5),
            "amount": amount,
            "currency": pl.Series(currency, dtype=pl.UInt32),
            "merchant_category": pl.Series(category, dtype=pl.UInt32),
            "channel": pl.Series(channel, dtype=pl.UInt32),
            "country": pl.Series(country, dtype=pl.UInt32),
            "card_present": card_present,
            "event_time": pl.Series(offsets_us).cast(pl.Duration("us")) + start,
            "is_fraud": is_fraud,
        }
    ).with_columns(
        ("tx_" + pl.col("transaction_id")).alias("transaction_id"),
        ("acct_" + pl.col("account_id")).alias("account_id"),
        ("m_" + pl.col("merchant_id")).alias("merchant_id"),
        pl.col("currency").replace_strict(list(range(len(CURRENCIES))), CURRENCIES, return_dtype=pl.String),
        pl.col("merchant_category").replace_strict(list(range(len(CATEGORIES))), CATEGORIES, return_dtype=pl.String),
        pl.col("channel").replace_strict(list(range(len(CHANNELS))), CHANNELS, return_dtype=pl.String),
        pl.col("country").replace_strict(list(range(len(COUNTRIES))), COUNTRIES, return_dtype=pl.String),
        pl.col("event_time").dt.convert_time_zone("UTC"),
    )
    return _inject(frame, defect, rng) if defect else frame


def _weights(n: int) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1)
    return w / w.sum()


def _inject(frame: pl.DataFrame, defect: Defect, rng: np.random.Generator) -> pl.DataFrame:
    rows = frame.height
    hit = np.zeros(rows, dtype=bool)
    hit[rng.choice(rows, defect_rows(rows, defect), replace=False)] = True
    mask = pl.Series("hit", hit)
    match defect:
        case Defect.NULLS:
            return frame.with_columns(
                pl.when(mask).then(None).otherwise(pl.col("amount")).alias("amount"),
                pl.when(mask).then(None).otherwise(pl.col("account_id")).alias("account_id"),
            )
        case Defect.OUT_OF_RANGE_AMOUNTS:
            return frame.with_columns(
                pl.when(mask).then(pl.col("amount") * -100 - 1).otherwise(pl.col("amount")).alias("amount")
            )
        case Defect.UNKNOWN_CATEGORIES:
            return frame.with_columns(
                pl.when(mask).then(pl.lit("crypto")).otherwise(pl.col("merchant_category")).alias("merchant_category")
            )
        case Defect.DUPLICATE_IDS:
            # Each hit row takes the id of the row just before it, so 2 * hits rows share an id (fewer if hits touch).
            return frame.with_columns(
                pl.when(mask)
                .then(pl.col("transaction_id").shift(1, fill_value=pl.col("transaction_id").first()))
                .otherwise(pl.col("transaction_id"))
                .alias("transaction_id")
            )
        case Defect.SCHEMA_CHANGE:
            return frame.with_columns(pl.col("amount").cast(pl.String)).rename({"amount": "amount_usd"})
        case Defect.FUTURE_TIMESTAMPS:
            return frame.with_columns(
                pl.when(mask)
                .then(pl.col("event_time") + timedelta(days=2))
                .otherwise(pl.col("event_time"))
                .alias("event_time")
            )
        case Defect.CORRUPT_FILE:
            return frame
    raise AssertionError(defect)


def write_batch(frame: pl.DataFrame, path: str | os.PathLike[str], *, defect: Defect | None = None) -> Path:
    """Write a batch as Parquet the way an upstream producer would; `CORRUPT_FILE` truncates the file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    if defect is Defect.CORRUPT_FILE:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return path
