"""The fraud model's realized performance in the example: a prediction log, chargebacks arriving later, the check.

    scored_transactions ──▶ prediction_log [performance] ◀── chargebacks (PerformanceData: arrive days later)
                                                          ◀── validation_predictions (the champion, labelled)

- `prediction_log` (daily): what the serving model said, per transaction: key, score, event time and the model
  version that scored it (the spec's ``model_version``, so a failure tags only that version).
- `validation_predictions`: the serving version's labelled predictions on the evaluation share of the day it was
  trained on (its registered evaluation): the estimate calibrates on them and the reference values are measured
  on them, so they always match the model.
- The check (`build_performance_check`, ``expectations/fraud_model.performance.yaml``) runs with the log every
  day: labels are not in yet, so the verdict is *insufficient* and the day's **estimate** (from calibrated
  scores) is shown. Run again once the day's labels have matured (30 days), it judges the **realized**
  precision, recall and ROC AUC, and says which drift explains a fall. The `model_guard` sensor
  (`definitions.ml`) acts on it: concept drift fails the version that served the day, covariate shift holds
  promotion.

Chargebacks come from outside the pipeline (the payment processor); `PerformanceData` plays it from the stored
features' true outcome, each arriving after an exponential delay (mean `LABEL_DELAY_DAYS`), and is the clock the
check judges maturity at (``as_of``; empty: now), so the demo can jump ahead for labels to mature. From
`CONCEPT_CHANGE` on, fraud follows a new pattern (fraudsters moved to small card-present spends): the inputs look
as before, every data check passes, only the outcomes differ.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl

from definitions.assets import daily, scored_transactions
from definitions.features import LABEL
from definitions.model import feature_matrix, time_split
from definitions.resources import ModelRegistry
from definitions.settings import PARTITIONS_START, DemoSettings
from guardrails.dagster.ml import build_performance_check

PERFORMANCE_GROUP = "model_performance"
PERFORMANCE_CHECK = "performance"
PERFORMANCE_RESOURCE_KEY = "performance_data"
SPEC_FILE = "fraud_model.performance.yaml"
CONCEPT_CHANGE = date(2026, 11, 5)
"""From this day on, fraud follows a new pattern the model never saw (concept drift; the inputs are unchanged)."""
LABEL_DELAY_DAYS = 7.0
PREDICTION_COLUMNS = ("transaction_id", "fraud_score", "event_time", "model_version")


def chargebacks_for(features: pl.DataFrame, day: date) -> pl.DataFrame:
    """The chargebacks (positives only) of one day's transactions: transaction_id, is_fraud, label_time.

    Deterministic per day. Before `CONCEPT_CHANGE` the outcome is the features' own label; from it on, fraud
    concentrates on small card-present spends (the relation the model learned no longer holds).
    """
    rng = np.random.default_rng(20_261_101 + (day - date(2026, 1, 1)).days)
    if day >= CONCEPT_CHANGE:
        amount = features["amount"].to_numpy()
        present = features["card_present"].to_numpy().astype(float)
        risk = -2.6 - 0.3 * np.log1p(amount) + 1.2 * present
        truth = rng.random(features.height) < 1.0 / (1.0 + np.exp(-risk))
    else:
        truth = features[LABEL].to_numpy()
    delay_us = (rng.exponential(LABEL_DELAY_DAYS, features.height) * 86_400e6).astype(np.int64)
    return (
        features.select("transaction_id", "event_time")
        .with_columns(pl.Series(LABEL, truth, dtype=pl.Boolean),
                      (pl.col("event_time") + pl.Series(delay_us).cast(pl.Duration("us"))).alias("label_time"))
        .filter(pl.col(LABEL))
        .select("transaction_id", LABEL, "label_time")
    )


class PerformanceData(dg.ConfigurableResource):
    """The labels' world: chargebacks as the payment processor sends them, and the clock they are judged at.

    Attributes:
        warehouse_dir: where the stored feature table is (``<warehouse>/transaction_features/<day>.parquet``),
            whose true outcomes the processor's chargebacks follow.
        as_of: "now" for labels, ISO 8601 (empty: the real clock): chargebacks arrived by then count, and a day is
            mature 30 days after it.
    """

    warehouse_dir: str
    as_of: str = ""

    def now(self) -> datetime:
        if not self.as_of:
            return datetime.now(UTC)
        moment = datetime.fromisoformat(self.as_of)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def features(self, day: str) -> pl.DataFrame:
        path = Path(self.warehouse_dir, "transaction_features", f"{day}.parquet")
        if not path.exists():
            raise dg.Failure(f"no stored transaction_features for {day} at {path}: run the day first")
        return pl.read_parquet(path)

    def chargebacks(self, day: str) -> pl.DataFrame:
        """The chargebacks of `day`'s transactions that had arrived by `now()`."""
        arrived = chargebacks_for(self.features(day), date.fromisoformat(day))
        return arrived.filter(pl.col("label_time") <= self.now())


@dg.asset(partitions_def=daily, group_name=PERFORMANCE_GROUP, kinds={"polars"})
def prediction_log(scored_transactions: pl.DataFrame) -> dg.MaterializeResult:
    """What the serving model said, per transaction: key, score, event time and the model version that scored it."""
    log = scored_transactions.select(*PREDICTION_COLUMNS).with_columns(pl.col("model_version").cast(pl.Int64))
    versions = ", ".join(f"v{v}" for v in log["model_version"].unique().sort().to_list())
    return dg.MaterializeResult(value=log, metadata={"rows": log.height, "model_versions": versions})


@dg.asset(group_name=PERFORMANCE_GROUP, kinds={"polars", "mlflow"}, deps=[scored_transactions])
def validation_predictions(model_registry: ModelRegistry, performance_data: PerformanceData) -> dg.MaterializeResult:
    """The serving (`champion`) version's scores on the evaluation share of the day it was trained on, with their
    labels: the reference the performance check calibrates its estimate on and measures reference values on."""
    import mlflow

    model_registry.activate()
    client = mlflow.MlflowClient()
    champion = client.get_model_version_by_alias(model_registry.model_name, model_registry.alias)
    day = champion.tags.get("partition")
    if not day:
        raise dg.Failure(f"{model_registry.model_name} v{champion.version} names no training day (tag 'partition')")
    model = mlflow.sklearn.load_model(f"models:/{model_registry.model_name}/{champion.version}")
    _, evaluation = time_split(performance_data.features(day))
    scores = model.predict_proba(feature_matrix(evaluation).to_pandas())[:, 1]
    frame = pl.DataFrame({"fraud_score": scores, LABEL: evaluation[LABEL],
                          "model_version": [int(champion.version)] * evaluation.height})
    return dg.MaterializeResult(value=frame, metadata={
        "rows": frame.height, "model_version": int(champion.version), "evaluated_on": day,
        "fraud_rate": float(frame[LABEL].mean())})  # type: ignore[arg-type]


def _chargebacks(context: dg.AssetCheckExecutionContext) -> pl.DataFrame:
    return context.resources.performance_data.chargebacks(context.op_execution_context.partition_key)


def _as_of(context: dg.AssetCheckExecutionContext) -> datetime:
    return context.resources.performance_data.now()


performance_check = build_performance_check(
    prediction_log,
    spec=DemoSettings.from_env().contracts_dir / SPEC_FILE,
    labels=_chargebacks,
    reference_data=validation_predictions,
    as_of=_as_of,
    check_name=PERFORMANCE_CHECK,
    required_resource_keys=(PERFORMANCE_RESOURCE_KEY,),
)

performance_job = dg.define_asset_job(
    "model_performance",
    selection=dg.AssetSelection.groups(PERFORMANCE_GROUP),
    description="Log a scored day's predictions and estimate its performance (labels are not in yet).",
    executor_def=dg.in_process_executor,
)
# The log again with its check: Dagster validates a run's partition against its selected assets, so a run of the
# check alone cannot name the day. Re-logging is cheap and the validation set is left as it was.
matured_performance_job = dg.define_asset_job(
    "matured_performance",
    selection=dg.AssetSelection.assets(prediction_log),
    description="Judge a logged day's realized performance once its labels have matured (30 days later).",
    executor_def=dg.in_process_executor,
)


@dg.schedule(job=matured_performance_job, cron_schedule="0 5 * * *")
def matured_performance_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Every morning, the day whose labels matured overnight (31 days ago)."""
    day = (context.scheduled_execution_time.date() - timedelta(days=31)).isoformat()
    if day < PARTITIONS_START:
        return dg.SkipReason(f"{day} is before the first logged day ({PARTITIONS_START})")
    return dg.RunRequest(run_key=f"matured-{day}", partition_key=day)


PERFORMANCE_ASSETS = [prediction_log, validation_predictions]
PERFORMANCE_CHECKS = [performance_check]
PERFORMANCE_JOBS = [performance_job, matured_performance_job]
PERFORMANCE_SCHEDULES = [
    dg.build_schedule_from_partitioned_job(performance_job, hour_of_day=4),
    matured_performance_schedule,
]
