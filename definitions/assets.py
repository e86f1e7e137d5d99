"""The fraud-detection pipeline, one daily partition at a time.

    raw_transactions ──▶ clean_transactions ──▶ transaction_features ──▶ fraud_model ──▶ scored_transactions
      (lands a file)      (guarded by the          (per-account            (MLflow          (scored with the
                           contract: audited        rolling aggregates)      registry)        `champion` model)
                           before it is stored)

`raw_transactions` plays the upstream producer: it drops the day's batch as a Parquet file in the landing
zone, bad in a named way when asked to (run config ``defect``, or ``GUARDRAILS_DEMO_DEFECT``).
`clean_transactions` audits that file against ``expectations/transactions.odcs.yaml`` before anything is
stored: a good batch goes to the IO manager, a bad one (including an unreadable file) goes to the quarantine
store, the run fails, and nothing downstream runs on it.
`fraud_model` registers each day's model with its lineage (the feature batch it was trained and evaluated on) and
a guardrail verdict, and promotes it only through the model guard. The model guard sensor (`definitions.ml`)
acts on what each failure means: a quarantined or late batch holds promotion and blames no version; a stored
feature batch condemned later fails the versions that saw it; a failed evaluation fails the version it judged.
"""

# No `from __future__ import annotations` here: Dagster reads the annotations of asset functions (config
# classes, resources, context) when the definitions load, and string annotations hide them.
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from pydantic import Field

from definitions.data import Defect
from definitions.features import FEATURE_COLUMNS, KEY_COLUMNS, LABEL, build_features
from definitions.model import (
    ALERT_THRESHOLD,
    EVALUATION_CHECK,
    MIN_ROC_AUC,
    TrainedModel,
    evaluation_outcome,
    evaluation_roc_auc,
    evaluation_scores,
    feature_matrix,
    train_fraud_model,
)
from definitions.resources import LandingZone, ModelRegistry, ServingLog
from definitions.settings import DEFECT_ENV, PARTITIONS_START, DemoSettings
from guardrails.checks import FreshnessSettings
from guardrails.contract import load_contract
from guardrails.dagster import (
    ContractsResource,
    guarded_asset,
    guarded_automation_condition,
)
from guardrails.dagster.lineage import materialized_batch
from guardrails.dagster.metadata import outcome_metadata
from guardrails.dagster.ml import fairness_metadata, freshness_policy_for
from guardrails.dagster.models import MODEL_VERSION_KEY
from guardrails.models import SIGNATURE_CHECK, ActionStatus, Lineage, verdict_from_outcomes
from guardrails.outcome import Verdict as FairnessVerdict

daily = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START)
GROUP = "fraud_detection"
SEGMENT_COLUMNS = ("country", "channel")
"""The segments the fairness check judges the scored decisions across (expectations/transactions.fairness.yaml)."""
TRANSACTIONS_CONTRACT = DemoSettings.from_env().contracts_dir / "transactions.odcs.yaml"
"""In ``$GUARDRAILS_CONTRACTS`` (by default the repository's expectations/), read when the code location loads."""
TRANSACTIONS_FRESHNESS_POLICY = freshness_policy_for(
    FreshnessSettings.from_contract(load_contract(TRANSACTIONS_CONTRACT))
)
"""Dagster's own freshness status from the contract's SLA; `definitions.ml` adds the quality-aware checks and sensor."""


def business_day(context: dg.AssetExecutionContext) -> date:
    return date.fromisoformat(context.partition_key)


def parse_defect(value: str | None, *, source: str) -> Defect | None:
    """`value` as a `Defect` (empty means none); raises naming `source` and the valid names otherwise."""
    if not value:
        return None
    try:
        return Defect(value)
    except ValueError:
        names = ", ".join(d.value for d in Defect)
        raise ValueError(f"{source}: expected one of {names} (or empty), got {value!r}") from None


class LandingConfig(dg.Config):
    """How the upstream producer behaves for this run."""

    defect: str = Field(
        default="",
        description=f"Make the batch bad in a named way ({', '.join(d.value for d in Defect)}); "
        f"empty means ${DEFECT_ENV}, or a good batch when that is unset too.",
    )
    rows: int = Field(default=5_000, description="Transactions in the day's batch.")
    accounts: int = Field(default=1_500, description="Card-holder accounts the transactions are drawn from.")


@dg.asset(partitions_def=daily, group_name=GROUP, kinds={"parquet"})
def raw_transactions(
    context: dg.AssetExecutionContext, config: LandingConfig, landing: LandingZone
) -> dg.MaterializeResult:
    """The day's card transactions as delivered by the payments system: one Parquet file in the landing zone."""
    defect = parse_defect(config.defect, source="raw_transactions.config.defect") or parse_defect(
        os.environ.get(DEFECT_ENV), source=DEFECT_ENV
    )
    path, frame = landing.land_transactions(
        business_day(context), rows=config.rows, accounts=config.accounts, defect=defect
    )
    if defect:
        context.log.warning(f"Landed a deliberately bad batch ({defect.value}) at {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "rows": frame.height,
            "bytes": path.stat().st_size,
            "injected_defect": defect.value if defect else "none",
        }
    )


@guarded_asset(
    contract=TRANSACTIONS_CONTRACT,
    contracts_resource_key="contracts",  # re-read at run time: each run is judged by the contract on disk
    partitions_def=daily,
    group_name=GROUP,
    deps=[raw_transactions],
    kinds={"polars"},
    freshness_policy=TRANSACTIONS_FRESHNESS_POLICY,
)
def clean_transactions(context: dg.AssetExecutionContext, landing: LandingZone) -> Path:
    """The day's transactions, published only if they honour the transactions contract.

    The body just names the landed file: the guard reads it (an unreadable file is quarantined byte for byte
    instead of crashing the run), audits it as of the end of the day, and hands the IO manager a good batch only.
    """
    return landing.path_for("transactions", business_day(context))


# Declarative automation for everything downstream of the guard: run when parents update, never on a batch
# whose blocking check failed (plain `eager()` ignores checks).
DOWNSTREAM_AUTOMATION = guarded_automation_condition()


@dg.asset(partitions_def=daily, group_name=GROUP, kinds={"polars"}, automation_condition=DOWNSTREAM_AUTOMATION)
def transaction_features(clean_transactions: pl.DataFrame) -> dg.MaterializeResult:
    """Model features per transaction: amount, channel, time of day, category, per-account 1h/24h aggregates."""
    features = build_features(clean_transactions)
    return dg.MaterializeResult(
        value=features,
        metadata={"rows": features.height, "features": len(FEATURE_COLUMNS), "fraud_rate": features["is_fraud"].mean()},
    )


FEATURES_CONTRACT_FILE = "transaction_features.odcs.yaml"
"""The contract of the feature table, which also describes the model's inputs (`check_signature` compares them)."""


FAIRNESS_CHECK = "fairness"
FAIRNESS_SPEC_FILE = "transactions.fairness.yaml"


class FraudModelConfig(dg.Config):
    """`fairness_gate` (on by default): judge the candidate's per-segment gaps, and their widening against the
    champion's on the same evaluation batch, before promoting it (expectations/transactions.fairness.yaml).

    What each verdict does to promotion: ``pass`` promotes as usual; ``fail`` tags the candidate failed and does
    not promote it; ``insufficient`` (some gap could not be judged: too few rows in its segments) or ``error``
    (the check could not run) **holds** this candidate: it is not promoted and not tagged (a gate that cannot
    judge is not a pass); the run logs a warning and the materialization says why, and a person may promote it
    by hand (``guardrails models promote``). The spec's ``min_group_size`` is chosen so that a day's evaluation
    batch (1,250 transactions) judges every country and both large channels: ordinary days are never
    insufficient. Turn it off (``fairness_gate: false``) only to reproduce an ungated history."""

    fairness_gate: bool = Field(default=True, description="Gate promotion on fairness across country and channel "
                                "(expectations/transactions.fairness.yaml); insufficient or error holds the candidate.")


def fairness_gate(guard: Any, version: int, trained: TrainedModel, features: pl.DataFrame, clean: pl.DataFrame,
                  spec_path: Path, *, run_id: str, partition: str) -> Any:
    """Judge the candidate against the serving champion on the day's evaluation batch; act on the verdict.

    `fail` (a gap beyond tolerance, or wider than the champion's): the candidate is tagged failed
    (`fail_version`, the reason naming the gaps and rule ids) and not promoted; `insufficient` or `error`: not
    promoted, no tag (fail closed: the alias does not move; see `FraudModelConfig`). Without a champion (the
    first version) only the absolute tolerance is judged. Returns the `FairnessReport`.
    """
    import mlflow

    from guardrails.checks.fairness import assess_fairness, load_fairness_spec

    spec = load_fairness_spec(spec_path)
    segments = clean.select("transaction_id", *spec.segments)
    champion_version = guard.status().alias_version
    champion = None
    if champion_version is not None and champion_version != version:
        model = mlflow.sklearn.load_model(f"models:/{guard.name}/{champion_version}")
        champion = evaluation_scores(model, features, segments)
    report = assess_fairness(evaluation_scores(trained.pipeline, features, segments), spec, champion=champion,
                             check=FAIRNESS_CHECK)
    if report.verdict is FairnessVerdict.FAIL:
        rules = ", ".join([f"fairness.{g.key}" for g in report.gaps if g.verdict is FairnessVerdict.FAIL]
                          + [f"fairness.{g.key}.vs_champion" for g in report.gaps
                             if g.champion_verdict is FairnessVerdict.FAIL])
        against = f" (champion v{champion_version})" if champion is not None else ""
        guard.fail_version(version, reason=f"{partition}: {report.outcome.message} [{rules}]{against}",
                           check=FAIRNESS_CHECK, run_id=run_id)
    return report


def training_lineage(context: dg.AssetExecutionContext, contract_id: str, contract_version: str) -> Lineage:
    """The day's `transaction_features` batch the model is trained on (its earlier share) and evaluated on (the
    latest share), named as `materialized_batch` names it, so a condemnation of that batch finds this version."""
    batch = materialized_batch(context.instance, "transaction_features", context.partition_key,
                               contract_id=contract_id, contract_version=contract_version)
    if batch is None:  # the input was loaded, so it was materialized: a missing record is the instance's fault
        raise dg.Failure(f"no materialization of transaction_features[{context.partition_key}] recorded; the model's "
                         "lineage cannot be named, so no model is trained")
    return Lineage(trained_on=(batch,), evaluated_on=(batch,))


@dg.asset(
    partitions_def=daily,
    group_name=GROUP,
    kinds={"mlflow", "scikitlearn"},
    automation_condition=DOWNSTREAM_AUTOMATION,
    check_specs=[
        dg.AssetCheckSpec(
            EVALUATION_CHECK,
            asset="fraud_model",
            description=f"The serving model, after this run, has ROC AUC of at least {MIN_ROC_AUC} on the day's "
            "latest transactions (failing fails that version: the alias moves to the highest passed clean one).",
        ),
        dg.AssetCheckSpec(
            SIGNATURE_CHECK,
            asset="fraud_model",
            description=f"The new version's MLflow input signature agrees with contract {FEATURES_CONTRACT_FILE}.",
        ),
    ],
)
def fraud_model(
    context: dg.AssetExecutionContext,
    config: FraudModelConfig,
    transaction_features: pl.DataFrame,
    clean_transactions: pl.DataFrame,
    model_registry: ModelRegistry,
    contracts: ContractsResource,
) -> dg.MaterializeResult:
    """Retrain the fraud model on the day's features, register it in MLflow, and promote it if its guardrails pass.

    The new version records its lineage first: the `transaction_features` batch of the day it was trained on and
    evaluated on (asset, partition, data version, file hash, features contract, run), so a later check that
    condemns that batch fails exactly the versions that saw it. Then it gets a guardrail verdict (its evaluation
    and its signature against the features contract); `ModelGuard.promote` moves ``champion`` to it only if that
    verdict passed, its lineage is clean and promotion is neither held nor pinned. The evaluation check then
    judges whatever serves after this run on the day's latest transactions (metadata ``guardrails/model_version``
    names it): if even that fails, the model guard sensor fails that version and moves ``champion`` to the
    highest passed clean one.
    """
    import mlflow
    from mlflow.models import infer_signature

    started = datetime.now(UTC)
    features_contract = contracts.load(FEATURES_CONTRACT_FILE)
    lineage = training_lineage(context, features_contract.id, features_contract.version)
    trained = train_fraud_model(transaction_features)
    experiment_id = model_registry.activate()
    name = model_registry.model_name
    inputs = feature_matrix(transaction_features).head(200).to_pandas()
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"fraud_model-{context.partition_key}") as run:
        mlflow.log_params({"partition": context.partition_key, "rows": transaction_features.height})
        mlflow.log_metrics(trained.metrics)
        logged = mlflow.sklearn.log_model(
            trained.pipeline,
            name="model",
            signature=infer_signature(inputs, trained.pipeline.predict_proba(inputs)[:, 1]),
            registered_model_name=name,
            pip_requirements=["scikit-learn", "pandas"],  # skip MLflow's slow requirement inference
        )
    version = int(logged.registered_model_version)
    mlflow.MlflowClient().set_model_version_tag(name, str(version), "partition", context.partition_key)

    guard = model_registry.get_guard(actor=f"dagster:run/{context.run.run_id}")
    guard.record_lineage(version, lineage)  # before the verdict: once it can be promoted, its lineage is searchable
    signature = guard.check_signature(version, features_contract)
    verdict = verdict_from_outcomes(
        [evaluation_outcome(trained, version, started), signature], run_id=context.run.run_id, at=datetime.now(UTC)
    )
    fairness = None
    if config.fairness_gate and verdict.passed:
        fairness = fairness_gate(guard, version, trained, transaction_features, clean_transactions,
                                 contracts.resolve(FAIRNESS_SPEC_FILE), run_id=context.run.run_id,
                                 partition=context.partition_key)
    if fairness is None or fairness.verdict is not FairnessVerdict.FAIL:  # a failed gate wrote the verdict itself
        guard.record_verdict(version, verdict)
    reason = f"{context.partition_key}: {verdict.reason}"
    if fairness is not None and fairness.verdict is not FairnessVerdict.PASS:
        promoted = False
        held = "" if fairness.verdict is FairnessVerdict.FAIL else " (held: the gate could not judge it)"
        outcome = f"v{version} not promoted{held}: fairness {fairness.verdict.value}: {fairness.outcome.message}"
        context.log.warning(outcome)
    elif verdict.passed:
        promotion = guard.promote(version, reason=reason, check=EVALUATION_CHECK, run_id=context.run.run_id)
        promoted, outcome = promotion.status is ActionStatus.APPLIED, promotion.message
        if promotion.status in (ActionStatus.APPLIED, ActionStatus.NO_OP):
            context.log.info(promotion.message)
        else:  # refused while pinned, or the registry failed: the champion stays where it is
            context.log.warning(f"{name} v{version} not promoted: {promotion.message}")
    else:
        promoted, outcome = False, f"v{version} failed its guardrails: {verdict.reason}"
        context.log.warning(f"{name} v{version} not promoted: {verdict.reason}")

    serving = guard.status().alias_version
    if serving is None or serving == version:
        serving_auc = trained.metrics["roc_auc"]
    else:  # the candidate was not promoted: judge the model that keeps serving on the same day
        champion = mlflow.sklearn.load_model(f"models:/{name}/{serving}")
        serving_auc = evaluation_roc_auc(champion, transaction_features)
    judged = serving if serving is not None else version
    return dg.MaterializeResult(
        metadata={
            "model": f"{name} v{version}",
            "model_uri": f"models:/{name}/{version}",
            "mlflow_run_id": run.info.run_id,
            "verdict": verdict.status.value,
            "promoted_to": model_registry.alias if promoted else "none",
            "promotion": outcome,
            "serving_version": serving if serving is not None else "none",
            "lineage": dg.MetadataValue.json(lineage.to_dict()),
            # The gate's per-gap and per-segment tables, shown on the materialization (the evidence pack reads them).
            **({"fairness": fairness.verdict.value, **fairness_metadata(fairness)} if fairness is not None else {}),
            **{metric: float(value) for metric, value in trained.metrics.items()},
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=EVALUATION_CHECK,
                passed=serving_auc >= MIN_ROC_AUC,
                severity=dg.AssetCheckSeverity.WARN,
                description=f"{name} v{judged} (serving) ROC AUC {serving_auc:.3f}, minimum {MIN_ROC_AUC}",
                metadata={
                    "roc_auc": serving_auc,
                    "minimum": MIN_ROC_AUC,
                    MODEL_VERSION_KEY: judged,  # the version the model guard fails if this check fails
                    "model_version": judged,
                    "candidate_version": version,
                    "candidate_roc_auc": trained.metrics["roc_auc"],
                },
            ),
            dg.AssetCheckResult(
                check_name=SIGNATURE_CHECK,
                passed=signature.passed,
                severity=dg.AssetCheckSeverity.WARN,
                description=signature.message if not signature.passed
                else f"v{version}: {signature.metrics['inputs']} inputs agree with {FEATURES_CONTRACT_FILE}",
                metadata={"model_version": version, **outcome_metadata(signature)},
            ),
        ],
    )


@dg.asset(
    partitions_def=daily,
    group_name=GROUP,
    deps=[fraud_model],
    kinds={"polars", "mlflow"},
    automation_condition=DOWNSTREAM_AUTOMATION,
)
def scored_transactions(
    context: dg.AssetExecutionContext,
    transaction_features: pl.DataFrame,
    clean_transactions: pl.DataFrame,
    model_registry: ModelRegistry,
    serving_log: ServingLog,
) -> dg.MaterializeResult:
    """Fraud scores from the serving (`champion`) model; the served features are logged for parity checks.

    Each scored row carries the label and the segments (`SEGMENT_COLUMNS`, from the day's clean transactions) next
    to its score, so the fairness check can judge the decisions per country and channel; the served features are
    logged with the segments too (not the label: it is not known when serving), so a stored day can be replayed
    with another version (``guardrails evidence replay``). Metadata ``model_version``/``model_name`` say which
    version decided.
    """
    import mlflow

    model_registry.activate()
    try:
        champion = mlflow.MlflowClient().get_model_version_by_alias(model_registry.model_name, model_registry.alias)
    except mlflow.exceptions.MlflowException as error:
        raise dg.Failure(f"No {model_registry.model_name}@{model_registry.alias} to score with: {error}") from error
    model = mlflow.sklearn.load_model(f"models:/{model_registry.model_name}@{model_registry.alias}")
    segments = clean_transactions.select("transaction_id", *SEGMENT_COLUMNS)
    served = transaction_features.select(*KEY_COLUMNS, *FEATURE_COLUMNS).join(
        segments, on="transaction_id", how="left", maintain_order="left"
    ).with_columns(pl.lit(champion.version).alias("model_version"), pl.lit(datetime.now(UTC)).alias("served_at"))
    log_path = serving_log.write(context.partition_key, served)
    scores = model.predict_proba(feature_matrix(served).to_pandas())[:, 1]
    scored = served.select(*KEY_COLUMNS, "model_version").with_columns(
        pl.Series("fraud_score", scores), (pl.Series(scores) >= ALERT_THRESHOLD).alias("flagged"),
        transaction_features[LABEL], *(served[c] for c in SEGMENT_COLUMNS),  # same rows, same order
    )
    return dg.MaterializeResult(
        value=scored,
        metadata={
            "rows": scored.height,
            "flagged": int(scored["flagged"].sum()),
            "model": f"{model_registry.model_name} v{champion.version} (@{model_registry.alias})",
            "model_name": model_registry.model_name,
            "model_version": int(champion.version),
            "served_features": dg.MetadataValue.path(str(log_path)),
        },
    )


daily_pipeline = dg.define_asset_job(
    "daily_pipeline",
    selection=dg.AssetSelection.groups(GROUP),
    description="Land, audit, featurize, retrain and score one day of transactions.",
    # The steps are sequential and light: one process saves re-importing the code location for every step.
    executor_def=dg.in_process_executor,
)
