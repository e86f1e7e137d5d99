"""The vectorized feature code agrees with a plain per-row definition and does not depend on row order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from definitions.data import CATEGORIES, generate_transactions
from definitions.features import FEATURE_COLUMNS, NO_PREVIOUS_TRANSACTION_SECONDS, build_features

START = datetime(2026, 11, 2, tzinfo=UTC)


@st.composite
def transactions(draw: st.DrawFn) -> pl.DataFrame:
    """A small day of transactions over a few accounts, with distinct event times (seconds apart or more)."""
    rows = draw(st.integers(1, 40))
    seconds = draw(st.lists(st.integers(0, 86_399), min_size=rows, max_size=rows, unique=True))
    return pl.DataFrame(
        {
            "transaction_id": [f"tx_{i:012d}" for i in range(rows)],
            "account_id": draw(st.lists(st.sampled_from(["acct_0000001", "acct_0000002", "acct_0000003"]),
                                        min_size=rows, max_size=rows)),
            "amount": draw(st.lists(st.floats(0.5, 5_000, allow_nan=False), min_size=rows, max_size=rows)),
            "merchant_category": draw(st.lists(st.sampled_from(CATEGORIES), min_size=rows, max_size=rows)),
            "channel": draw(st.lists(st.sampled_from(["online", "pos", "atm"]), min_size=rows, max_size=rows)),
            "card_present": draw(st.lists(st.booleans(), min_size=rows, max_size=rows)),
            "event_time": [START + timedelta(seconds=s) for s in seconds],
            "is_fraud": draw(st.lists(st.booleans(), min_size=rows, max_size=rows)),
        }
    )


def brute_force(frame: pl.DataFrame) -> dict[str, dict[str, float]]:
    """Per transaction id: the account features computed row by row from their definitions."""
    rows = frame.to_dicts()
    result = {}
    for row in rows:
        same = [r for r in rows if r["account_id"] == row["account_id"]]
        last_1h = [r for r in same if row["event_time"] - timedelta(hours=1) < r["event_time"] <= row["event_time"]]
        last_24h = [r for r in same if row["event_time"] - timedelta(hours=24) < r["event_time"] <= row["event_time"]]
        earlier = [r["event_time"] for r in same if r["event_time"] < row["event_time"]]
        amounts = [r["amount"] for r in last_24h]
        result[row["transaction_id"]] = {
            "account_tx_count_1h": len(last_1h),
            "account_tx_count_24h": len(last_24h),
            "account_amount_sum_24h": sum(amounts),
            "amount_to_account_mean_24h": row["amount"] / (sum(amounts) / len(amounts)),
            "seconds_since_account_prev_tx": (row["event_time"] - max(earlier)).total_seconds()
            if earlier
            else NO_PREVIOUS_TRANSACTION_SECONDS,
        }
    return result


@given(transactions())
def test_account_features_match_their_row_by_row_definition(frame: pl.DataFrame) -> None:
    """Rolling counts, sums, ratios and gaps per account equal a direct per-row computation."""
    features = build_features(frame)
    expected = brute_force(frame)
    for row in features.to_dicts():
        for name, value in expected[row["transaction_id"]].items():
            assert np.isclose(row[name], value, rtol=1e-9), (name, row[name], value)


@given(transactions(), st.randoms(use_true_random=False))
def test_features_do_not_depend_on_row_order(frame: pl.DataFrame, random: object) -> None:
    """Shuffling the input rows gives the same features for every transaction."""
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=random.randrange(2**32))  # type: ignore[attr-defined]
    assert build_features(shuffled).sort("transaction_id").equals(build_features(frame).sort("transaction_id"))


def test_every_feature_is_a_float_and_never_null() -> None:
    """The model input is dense: every feature column is Float64 without nulls, one-hot categories sum to one."""
    features = build_features(generate_transactions(START.date(), rows=2_000, accounts=300))
    assert all(features.schema[name] == pl.Float64 for name in FEATURE_COLUMNS)
    assert all(features[name].null_count() == 0 for name in FEATURE_COLUMNS)
    one_hot = features.select(pl.sum_horizontal([f"category_{name}" for name in CATEGORIES]))
    assert (one_hot.to_series() == 1.0).all()
