"""The example's performance wiring without a run: chargebacks follow the true outcome and arrive later, the
clock bounds what has arrived, the concept changes on its day, and the matured schedule names the right day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl

from definitions.data import generate_transactions
from definitions.features import build_features
from definitions.performance import (
    CONCEPT_CHANGE,
    PerformanceData,
    chargebacks_for,
    matured_performance_schedule,
)

BEFORE = CONCEPT_CHANGE - timedelta(days=1)


def _features(day: date) -> pl.DataFrame:
    return build_features(generate_transactions(day, rows=2_000, accounts=300))


def test_chargebacks_before_the_change_are_the_true_frauds_arriving_later() -> None:
    """Before the concept change every fraud (and only fraud) gets a chargeback, after its transaction."""
    features = _features(BEFORE)
    arrived = chargebacks_for(features, BEFORE)
    assert set(arrived["transaction_id"]) == set(features.filter(pl.col("is_fraud"))["transaction_id"])
    joined = arrived.join(features.select("transaction_id", "event_time"), on="transaction_id")
    assert (joined["label_time"] > joined["event_time"]).all()
    assert arrived.equals(chargebacks_for(features, BEFORE))  # deterministic


def test_from_the_change_on_fraud_follows_another_pattern() -> None:
    """On the concept-change day the chargebacks fall mostly on card-present spends, unlike the features' label."""
    features = _features(CONCEPT_CHANGE)
    arrived = chargebacks_for(features, CONCEPT_CHANGE).join(features, on="transaction_id")
    assert arrived.height > 50  # noqa: PLR2004
    assert arrived["card_present"].mean() > features.filter(pl.col("is_fraud"))["card_present"].mean() + 0.2


def test_the_clock_bounds_which_chargebacks_have_arrived(tmp_path: Path) -> None:
    """A day after the transactions few chargebacks are in; 60 days later all of them are."""
    features = _features(BEFORE)
    (tmp_path / "transaction_features").mkdir()
    features.write_parquet(tmp_path / "transaction_features" / f"{BEFORE}.parquet")
    end = datetime.combine(BEFORE + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    early = PerformanceData(warehouse_dir=str(tmp_path), as_of=end.isoformat()).chargebacks(BEFORE.isoformat())
    late = PerformanceData(warehouse_dir=str(tmp_path), as_of=(end + timedelta(days=60)).isoformat())
    everything = late.chargebacks(BEFORE.isoformat())
    assert everything.height == int(features["is_fraud"].sum()) and early.height < everything.height / 2


def test_the_matured_schedule_judges_the_day_31_days_back_and_skips_before_the_first() -> None:
    """On 2026-12-05 it asks for 2026-11-04; on 2026-11-20 there is no logged day that old."""
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 12, 5, 5, tzinfo=UTC))
    request = matured_performance_schedule(context)
    assert isinstance(request, dg.RunRequest) and request.partition_key == "2026-11-04"
    early = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 20, 5, tzinfo=UTC))
    assert isinstance(matured_performance_schedule(early), dg.SkipReason)
