"""The ML guardrails of the example: drift of the features, freshness of the transactions, training/serving parity.

    clean_transactions ──▶ transaction_features ──▶ fraud_model ──▶ scored_transactions
      [freshness]            [drift] (blocking)                       [feature_parity]
      FreshnessPolicy           │                                       served features (serving log)
      + freshness sensor        │                                       vs the offline features
                                │                                     [fairness] (served decisions per
                                ▼                                      country and channel)
                          transaction_features__reference_profile
                          (accepted days only; drift compares the next day with it)

The model guard sensor (`model_guard`) watches these checks, the transactions contract and the model's evaluation,
and acts on what each failure means for the model (see `guardrails.dagster.models`).

Settings come from the contracts: freshness from the transactions contract's ``slaProperties`` (latency 26 h on
``event_time``, a new passing batch every day), drift and parity from ``expectations/transaction_features.odcs.yaml``
(``customProperties``: drift columns and PSI bands; parity key, features and mismatch bands). Reference profiles
live under the `ReferenceProfilesResource` (``$GUARDRAILS_HOME/profiles`` in the example).
"""

from __future__ import annotations

import dagster as dg

from definitions.assets import (
    EVALUATION_CHECK,
    GROUP,
    TRANSACTIONS_CONTRACT,
    clean_transactions,
    daily_pipeline,
    fraud_model,
    scored_transactions,
    transaction_features,
)
from definitions.settings import DemoSettings
from guardrails.dagster import guarded_automation_condition
from guardrails.dagster.ml import (
    build_drift_checks,
    build_fairness_checks,
    build_freshness_checks,
    build_freshness_sensor,
    build_parity_check,
    build_reference_profile_asset,
)
from guardrails.dagster.models import WatchedCheck, build_model_guard_sensor

FEATURES_CONTRACT = DemoSettings.from_env().contracts_dir / "transaction_features.odcs.yaml"
"""Drift and parity settings of the model features (read when the code location loads)."""
FRESHNESS_CHECK = "freshness"
FAIRNESS_SPEC = DemoSettings.from_env().contracts_dir / "transactions.fairness.yaml"
"""The fairness spec the model's promotion gate uses (`definitions.assets.fairness_gate`), judged here daily too."""

freshness_checks = build_freshness_checks([clean_transactions], contract=TRANSACTIONS_CONTRACT,
                                          check_name=FRESHNESS_CHECK)

# Blocking: a drifted day neither trains the model nor enters the reference profile (Dagster skips both).
drift_checks = build_drift_checks([transaction_features], contract=FEATURES_CONTRACT, blocking=True)

features_reference_profile = build_reference_profile_asset(
    transaction_features,
    contract=FEATURES_CONTRACT,
    group_name=GROUP,
    kinds={"json"},
    automation_condition=guarded_automation_condition(),
)


def served_features(context: dg.AssetCheckExecutionContext):
    """The features `scored_transactions` logged as it served them, for the run's partition."""
    return context.resources.serving_log.read(context.op_execution_context.partition_key)


parity_check = build_parity_check(
    scored_transactions,
    offline=transaction_features,
    online=served_features,
    required_resource_keys=("serving_log",),
    contract=FEATURES_CONTRACT,
)

# The served decisions of each day, judged across country and channel so the UI shows the per-segment tables (and
# every gap as a plotted float) day by day. Absolute tolerance only (the day was decided by one model), not
# blocking and not watched by the model guard: the gate on promotion is what acts on a model's fairness.
fairness_checks = build_fairness_checks([scored_transactions], spec=FAIRNESS_SPEC)

freshness_sensor = build_freshness_sensor(
    [clean_transactions],
    contract=TRANSACTIONS_CONTRACT,
    check_name=FRESHNESS_CHECK,
    remediation_job=daily_pipeline,  # stale: re-run the latest day (stopped by default; turn it on in the UI)
    minimum_interval_seconds=15 * 60,
)

# The model guard. A quarantined batch (contract) or a late one (freshness) holds promotion, blaming no version,
# until its partition passes again; drift on the stored features, or a parity failure of the features served
# with them, condemns that feature batch (the versions trained on it fail); a failed evaluation fails the version
# it judged; realized performance failing with concept drift fails the version that served the day (covariate
# shift holds promotion). Every tick also reconciles the alias.
[contract_check] = clean_transactions.check_keys
model_guard_sensor = build_model_guard_sensor(
    data_checks=[
        contract_check,
        dg.AssetCheckKey(clean_transactions.key, FRESHNESS_CHECK),
        *(key for checks in drift_checks for key in checks.check_keys),
        WatchedCheck(parity_check.check_key, batch_of=transaction_features.key),
    ],
    model_checks=[
        dg.AssetCheckKey(fraud_model.key, EVALUATION_CHECK),
        dg.AssetCheckKey(dg.AssetKey("prediction_log"), "performance"),  # realized performance (definitions.performance)
    ],
    model_asset=fraud_model.key,
    name="model_guard",
)

ML_ASSETS = [features_reference_profile]
ML_CHECKS = [*freshness_checks, *drift_checks, parity_check, *fairness_checks]
ML_SENSORS = [freshness_sensor, model_guard_sensor]
