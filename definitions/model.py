"""Training and evaluating the fraud model: plain scikit-learn on the feature table, no orchestration here.

The evaluation split is by time (the last `EVALUATION_SHARE` of the day's transactions), the way the model
meets new data in production; a random split would let it peek at the future.

Example:
    >>> from datetime import date
    >>> from definitions.data import generate_transactions
    >>> from definitions.features import build_features
    >>> trained = train_fraud_model(build_features(generate_transactions(date(2026, 11, 2), accounts=1_500)))
    >>> trained.metrics["roc_auc"] > 0.6
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from definitions.features import FEATURE_COLUMNS, LABEL
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

EVALUATION_SHARE = 0.25
MIN_ROC_AUC = 0.6
"""A model below this evaluation ROC AUC is registered but never becomes the serving champion."""
ALERT_THRESHOLD = 0.75
"""Score at or above which a transaction is flagged for review (about 5% of transactions for this model)."""


@dataclass(frozen=True, slots=True)
class TrainedModel:
    """A fitted model and its evaluation on the held-out (latest) transactions."""

    pipeline: Pipeline
    metrics: dict[str, float]

    @property
    def good_enough(self) -> bool:
        return self.metrics["roc_auc"] >= MIN_ROC_AUC


def feature_matrix(features: pl.DataFrame) -> pl.DataFrame:
    """The model's input columns in training order (the frame the MLflow signature describes)."""
    return features.select(FEATURE_COLUMNS)


def time_split(features: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The earlier transactions (training) and the latest `EVALUATION_SHARE` of them (evaluation)."""
    ordered = features.sort("event_time")
    split = int(ordered.height * (1 - EVALUATION_SHARE))
    return ordered[:split], ordered[split:]


def evaluation_roc_auc(model: Pipeline, features: pl.DataFrame) -> float:
    """ROC AUC of any fitted model (e.g. the serving one) on the day's evaluation share of `features`."""
    from sklearn.metrics import roc_auc_score

    _, test = time_split(features)
    return float(roc_auc_score(test[LABEL].to_numpy(), model.predict_proba(feature_matrix(test).to_pandas())[:, 1]))


def train_fraud_model(features: pl.DataFrame) -> TrainedModel:
    """Fit a class-balanced logistic regression on the earlier transactions, evaluate on the later ones."""
    # Imported here: scikit-learn takes seconds to import, and the code location should load fast.
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train, test = time_split(features)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1_000))
    pipeline.fit(feature_matrix(train).to_pandas(), train[LABEL].to_numpy())
    truth = test[LABEL].to_numpy()
    scores = pipeline.predict_proba(feature_matrix(test).to_pandas())[:, 1]
    metrics = {
        "roc_auc": float(roc_auc_score(truth, scores)),
        "average_precision": float(average_precision_score(truth, scores)),
        "fraud_rate": float(np.mean(truth)),
        "train_rows": float(train.height),
        "evaluation_rows": float(test.height),
    }
    return TrainedModel(pipeline=pipeline, metrics=metrics)


EVALUATION_CHECK = "evaluation_roc_auc"


def evaluation_outcome(trained: TrainedModel, version: int, started: datetime) -> CheckOutcome:
    """The candidate's evaluation as a guardrail outcome (what its verdict, and so its promotion, rests on); the
    Dagster asset and the Airflow training task both judge a candidate with it."""
    roc_auc = trained.metrics["roc_auc"]
    return CheckOutcome(
        check=EVALUATION_CHECK,
        kind=CheckKind.MODEL,
        status=CheckStatus.PASSED if trained.good_enough else CheckStatus.FAILED,
        severity=Severity.ERROR,
        started_at=started,
        finished_at=datetime.now(UTC),
        metrics={"roc_auc": roc_auc, "minimum": MIN_ROC_AUC},
        message=f"v{version} ROC AUC {roc_auc:.3f} on the day's latest transactions (minimum {MIN_ROC_AUC})",
    )


SEGMENT_KEY = "transaction_id"


def evaluation_scores(model: Pipeline, features: pl.DataFrame, segments: pl.DataFrame) -> pl.DataFrame:
    """`model`'s scores on the day's evaluation share with the label and the segments (from `segments`, joined on
    the transaction id): what the fairness gate judges, for the candidate and the champion alike."""
    _, test = time_split(features)
    test = test.join(segments, on=SEGMENT_KEY, how="left", maintain_order="left")
    scores = model.predict_proba(feature_matrix(test).to_pandas())[:, 1]
    return test.select(LABEL, *(c for c in segments.columns if c != SEGMENT_KEY)).with_columns(
        pl.Series("fraud_score", scores)
    )
