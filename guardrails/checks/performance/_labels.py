"""Delayed labels joined to logged predictions: which units are mature, their outcome, label coverage and delay.

A unit is *mature* when ``as_of - prediction_time >= label_maturity``. Its outcome is its label when one arrived
within the maturity window, else negative (for fraud, negatives never arrive: no chargeback after 30 days means
no fraud). A label that arrived after the window (`label_time` known) is ignored and counted as late, so a
period's realized value is fixed once it is mature and never changes when a straggler arrives. Immature units
are never judged: a missing label there means "not yet", not "negative".

One polars pass: a left join on the key, then expressions; no Python loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from guardrails._time import as_utc
from guardrails.checks.performance._spec import PerformanceSpec

PERIOD, SCORE, OUTCOME, MATURE, LABELLED = "__period", "__score", "__outcome", "__mature", "__labelled"
ALL_PERIODS = "all"


def period_label(spec: PerformanceSpec, number: int) -> str:
    """A period's name from its number (periods since the epoch): ``2026-11-04`` for whole days, else its start.

    Example:
        >>> spec = PerformanceSpec(key="k", prediction="p", label="y", prediction_time="t",
        ...                        label_maturity=timedelta(days=30), period=timedelta(days=1))
        >>> period_label(spec, 20_761)
        '2026-11-04'
    """
    if spec.period is None:
        return ALL_PERIODS
    moment = datetime.fromtimestamp(number * int(spec.period.total_seconds()), tz=UTC)
    return moment.strftime("%Y-%m-%d") if spec.period % timedelta(days=1) == timedelta(0) else \
        moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class PreparationError(ValueError):
    """The predictions or labels cannot be used (a column missing or of the wrong type): the check cannot run."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelStats:
    """What arrived: predictions, labels joined, their delay, and the units the spec lets us judge.

    `predictions` counts units with a prediction time (each key once); `missing_times` those left out for having
    none; `duplicate_keys` the repeated logs of a key (its first counts).
    """

    predictions: int
    duplicate_keys: int
    labelled: int
    late_labels: int
    unmatched_labels: int
    mature: int
    median_delay_seconds: float | None
    p90_delay_seconds: float | None
    missing_times: int = 0

    @property
    def coverage(self) -> float:
        """Labels joined per prediction (positives only, for fraud-style labels)."""
        return self.labelled / self.predictions if self.predictions else 0.0


def _utc(frame: pl.DataFrame, column: str, what: str) -> pl.Expr:
    dtype = frame.schema[column]
    if isinstance(dtype, pl.Datetime):
        expr = pl.col(column)
        return expr.dt.replace_time_zone("UTC") if dtype.time_zone is None else expr.dt.convert_time_zone("UTC")
    if isinstance(dtype, pl.Date):
        return pl.col(column).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    raise PreparationError(f"{what} column {column!r} is {dtype}, expected a datetime or date")


def _require(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PreparationError(f"{what} lack the column(s) {', '.join(map(repr, missing))} the spec names "
                               f"(have: {', '.join(frame.columns[:20])})")


def _outcome_expr(frame: pl.DataFrame, column: str) -> pl.Expr:
    dtype = frame.schema[column]
    if dtype == pl.Boolean:
        return pl.col(column).cast(pl.Int8)
    if dtype.is_numeric():
        bad = frame.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in([0, 1])).height
        if bad:
            raise PreparationError(f"label column {column!r} has {bad:,} value(s) other than 0, 1 or null")
        return pl.col(column).cast(pl.Int8)
    raise PreparationError(f"label column {column!r} is {dtype}, expected boolean or 0/1")


def prepare(predictions: pl.DataFrame, labels: pl.DataFrame | None, spec: PerformanceSpec,
            as_of: datetime) -> tuple[pl.DataFrame, LabelStats]:
    """One frame of units (`PERIOD` (the period's number since the epoch; 0 with no period), `SCORE`, `OUTCOME` (null: unknown yet), `MATURE`, `LABELLED`) and the stats.

    `labels` None: the label (and label time) columns are read from `predictions`.
    """
    as_of = as_utc(as_of)
    _require(predictions, (spec.key, spec.prediction, spec.prediction_time), "the predictions")
    if predictions.height == 0:
        raise PreparationError("no predictions: 0 rows")
    if not predictions.schema[spec.prediction].is_numeric():
        raise PreparationError(f"prediction column {spec.prediction!r} is {predictions.schema[spec.prediction]}, "
                               "expected a probability (a number in [0, 1])")
    label_columns = (spec.key, spec.label) + ((spec.label_time,) if spec.label_time else ())
    if labels is None:
        _require(predictions, label_columns[1:], "the predictions (no labels given)")
        source = predictions
    else:
        _require(labels, label_columns, "the labels")
        source = labels
    outcome = _outcome_expr(source, spec.label)
    label_time = _utc(source, spec.label_time, "label time") if spec.label_time else None

    units = predictions.select(
        pl.col(spec.key),
        pl.col(spec.prediction).cast(pl.Float64).alias(SCORE),
        _utc(predictions, spec.prediction_time, "prediction time").alias("__at"),
    )
    untimed = units["__at"].null_count()
    if untimed:  # no prediction time: neither a period nor maturity; counted, never judged
        units = units.filter(pl.col("__at").is_not_null())
    out_of_range = units.filter(pl.col(SCORE).is_null() | ~pl.col(SCORE).is_between(0.0, 1.0)).height
    if out_of_range:
        raise PreparationError(f"prediction column {spec.prediction!r} has {out_of_range:,} value(s) outside [0, 1] "
                               "or null: a probability of the positive class is expected")
    rows = units.height
    duplicates = rows - units[spec.key].n_unique()
    if duplicates:  # a prediction logged twice counts once (its first log)
        units = units.unique(subset=[spec.key], keep="first", maintain_order=True)

    arrived = source.select(pl.col(spec.key), outcome.alias("__label"),
                            *([label_time.alias("__label_at")] if label_time is not None else []))
    arrived = arrived.filter(pl.col("__label").is_not_null())
    if labels is not None:
        if label_time is not None:
            arrived = arrived.sort("__label_at", nulls_last=True)
        arrived = arrived.unique(subset=[spec.key], keep="first", maintain_order=True)
        if units[spec.key].dtype.is_numeric() and units[spec.key].is_sorted():
            # Logged predictions usually come in key order: flagged sorted, polars merges instead of hashing 10M keys.
            units = units.with_columns(pl.col(spec.key).set_sorted())
            arrived = arrived.sort(spec.key).with_columns(pl.col(spec.key).set_sorted())
        joined = units.join(arrived, on=spec.key, how="left", coalesce=True)
        unmatched = arrived.height - int(joined["__label"].is_not_null().sum())  # keys are unique on both sides
    else:
        unmatched = 0
        joined = units.join(arrived, on=spec.key, how="left", coalesce=True)  # same frame: aligned by key

    maturity = pl.lit(spec.label_maturity)
    mature = (pl.lit(as_of) - pl.col("__at")) >= maturity
    if label_time is not None:
        delay = pl.col("__label_at") - pl.col("__at")
        in_window = pl.col("__label").is_not_null() & (delay <= maturity) & (pl.col("__label_at") <= pl.lit(as_of))
        late = pl.col("__label").is_not_null() & (delay > maturity)
    else:
        delay = pl.lit(None, dtype=pl.Duration("us"))
        in_window = pl.col("__label").is_not_null()
        late = pl.lit(False)
    if spec.period is None:
        period = pl.lit(0, pl.Int64)
    else:  # an integer key (the period's number since the epoch) groups far faster than a formatted string
        period = pl.col("__at").dt.epoch("s") // int(spec.period.total_seconds())
    frame = joined.select(
        period.alias(PERIOD),
        pl.col(SCORE),
        pl.when(in_window).then(pl.col("__label")).when(mature).then(pl.lit(0, pl.Int8))
        .otherwise(pl.lit(None, pl.Int8)).alias(OUTCOME),
        mature.alias(MATURE),
        in_window.alias(LABELLED),
        late.alias("__late"),
        delay.dt.total_seconds(fractional=True).alias("__delay") if label_time is not None else delay.alias("__delay"),
    )
    summary = frame.select(
        pl.col(LABELLED).sum().alias("labelled"), pl.col("__late").sum().alias("late"),
        pl.col(MATURE).sum().alias("mature"),
        pl.col("__delay").filter(pl.col(LABELLED)).median().alias("median"),
        pl.col("__delay").filter(pl.col(LABELLED)).quantile(0.9, "nearest").alias("p90"),
    ).row(0, named=True)
    stats = LabelStats(
        predictions=units.height, missing_times=untimed, duplicate_keys=duplicates,
        labelled=int(summary["labelled"] or 0),
        late_labels=int(summary["late"] or 0), unmatched_labels=unmatched, mature=int(summary["mature"] or 0),
        median_delay_seconds=_seconds(summary["median"]), p90_delay_seconds=_seconds(summary["p90"]),
    )
    return frame.select(PERIOD, SCORE, OUTCOME, MATURE, LABELLED), stats


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
