"""ML guardrails for Dagster: drift against reference profiles, freshness from the SLA, training/serving parity.

Thin translations of the core checks (`guardrails.checks`) into asset checks with rich metadata, plus the two
pieces that need Dagster's event log: which materializations *passed*, and a sensor that judges freshness
when no run comes.

Drift
    `build_drift_checks(assets, profiles=..., contract=...)` compares the stored batch with the reference
    profile (PSI, Jensen-Shannon, Wasserstein, KS, L-infinity, chi-square, null rate; judged on effect size
    with the contract's ``drift`` thresholds). Metadata: a per-column table of scores and verdicts, every raw
    score as a float (also when passing), and a markdown table with unicode bars for the worst columns.
    `build_reference_profile_asset(asset, profiles=...)` is the asset ``<asset>__reference_profile`` that
    folds each *accepted* batch into the reference (a core `guardrails.profile.ProfileStore`: one profile
    file per partition, merged on demand, so a re-run replaces instead of double counting); it refuses batches whose materialization failed a check at
    ERROR and never sees quarantined ones. The policy is the core's `guardrails.checks.judge_drift`: no
    reference yet -> a WARN failure ("insufficient reference"), never a pass; an unreadable one -> ERROR.

Freshness
    `build_freshness_checks(assets, contract=...)` judges the batch's event times in runs, per partition (age
    of the newest row and share of late rows, as of the partition's end). `build_freshness_sensor(...)` judges
    the time since the last *passing* materialization on a schedule, records it as an evaluation of the same
    check with ``instance.report_runless_asset_event(AssetCheckEvaluation(...))``, and can request a
    remediation run. `freshness_policy_for(settings)` gives Dagster's `FreshnessPolicy` for the same SLA.

    How this relates to Dagster's `FreshnessPolicy`: the policy (evaluated by Dagster's freshness daemon)
    looks only at the time of the last materialization and ignores quality, so a batch stored with failing
    blocking checks, or a partial publish, still counts as fresh there; and it cannot see event times (a
    late-arriving yesterday batch looks fresh). Use both: set the policy (from the same SLA, via
    `freshness_policy_for`) for Dagster's native freshness status, and these checks for what the data says and
    for "fresh *and* passing". They agree when every materialization passes; when they disagree, the check is
    the stricter one. A quarantined `guarded_asset` batch is no materialization, so neither treats it as fresh.

Fairness
    `build_fairness_checks(scored_assets, spec="expectations/transactions.fairness.yaml", champion=...)` judges the
    per-segment gaps of a scored asset (`guardrails.checks.assess_fairness`); metadata: a table per gap, a table per
    segment and metric (flagged and too-small first), a Markdown report and every gap as a float.

Parity
    `build_parity_check(serving_asset, offline=features_asset, online=loader, contract=...)` joins the offline
    (training) features with the served ones on the contract's parity keys: per-feature match rate, missing
    keys on either side, distribution skew, and a sample of mismatched pairs.

Canary
    `build_canary_check(asset, spec="expectations/fraud_model.canary.yaml")` judges a candidate model against
    the control on the per-unit observations of live traffic (the asset's value or an `observations` loader):
    pass, fail, inconclusive (a WARN failure) or could not run, with a per-metric table of intervals and
    units still needed (``guardrails/canary_metrics``).
"""

from guardrails.dagster.ml._canary import CANARY_METRICS_KEY, CANARY_VERDICT_KEY, build_canary_check
from guardrails.dagster.ml._drift import (
    DRIFT_COLUMNS_KEY,
    DRIFT_REPORT_KEY,
    DRIFT_SCORE_PREFIX,
    PROFILES_RESOURCE_KEY,
    ReferenceProfilesResource,
    build_drift_checks,
    build_reference_profile_asset,
    drift_metadata,
    evaluate_drift,
    reference_profile_key,
)
from guardrails.dagster.ml._fairness import (
    FAIRNESS_GAPS_KEY,
    FAIRNESS_REPORT_KEY,
    FAIRNESS_SEGMENTS_KEY,
    build_fairness_checks,
    fairness_metadata,
)
from guardrails.dagster.ml._freshness import (
    build_freshness_checks,
    build_freshness_sensor,
    evaluate_freshness,
    freshness_policy_for,
    record_freshness,
)
from guardrails.dagster.ml._parity import PARITY_FEATURES_KEY, build_parity_check
from guardrails.dagster.ml._performance import (
    PERFORMANCE_DIAGNOSIS_KEY,
    PERFORMANCE_METRICS_KEY,
    build_performance_check,
    performance_metadata,
)
from guardrails.dagster.ml._verdicts import (
    MaterializationVerdict,
    last_passing_materialization,
    materialization_verdicts,
)

__all__ = [
    "CANARY_METRICS_KEY",
    "CANARY_VERDICT_KEY",
    "DRIFT_COLUMNS_KEY",
    "DRIFT_REPORT_KEY",
    "DRIFT_SCORE_PREFIX",
    "FAIRNESS_GAPS_KEY",
    "FAIRNESS_REPORT_KEY",
    "FAIRNESS_SEGMENTS_KEY",
    "PARITY_FEATURES_KEY",
    "PERFORMANCE_DIAGNOSIS_KEY",
    "PERFORMANCE_METRICS_KEY",
    "PROFILES_RESOURCE_KEY",
    "MaterializationVerdict",
    "ReferenceProfilesResource",
    "build_canary_check",
    "build_drift_checks",
    "build_fairness_checks",
    "build_freshness_checks",
    "build_freshness_sensor",
    "build_parity_check",
    "build_performance_check",
    "build_reference_profile_asset",
    "drift_metadata",
    "evaluate_drift",
    "evaluate_freshness",
    "fairness_metadata",
    "freshness_policy_for",
    "last_passing_materialization",
    "materialization_verdicts",
    "performance_metadata",
    "record_freshness",
    "reference_profile_key",
]
