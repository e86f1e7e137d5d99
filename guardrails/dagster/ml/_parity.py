"""The training/serving parity check: offline feature rows vs the features actually served."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg

from guardrails.checks import FeatureParity, ParitySettings, assess_parity
from guardrails.contract.model import Contract
from guardrails.dagster._scope import AuditScope
from guardrails.dagster.checks import AssetLike, _key_of, _partitions_def_of, asset_check
from guardrails.dagster.ml._common import (
    ContractLike,
    check_result,
    error_outcome,
    load_optional_contract,
    optional_float,
    scores_metadata,
)
from guardrails.outcome import CheckKind

PARITY_FEATURES_KEY = "guardrails/parity_features"
PARITY_SCORE_PREFIX = "guardrails/parity/"

PARITY_FEATURES_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("feature", "string"),
        dg.TableColumn("verdict", "string", description="ok, warning, error or not comparable"),
        dg.TableColumn("match_rate", "float", description="Share of joined rows whose values agree."),
        dg.TableColumn("mismatches", "int"),
        dg.TableColumn("compared", "int", description="Rows present on both sides."),
        dg.TableColumn("statistic", "string", description="What decided: mismatch or a skew statistic."),
        dg.TableColumn("score", "float"),
        dg.TableColumn("skew_psi", "float", description="PSI between the offline and online distributions."),
        dg.TableColumn("message", "string"),
    ]
)

OnlineLoader = Callable[[dg.AssetCheckExecutionContext], Any]
"""Reads the served features for the check's run (e.g. the serving log of its partition)."""


def parity_settings_for(contract: Contract | None, settings: ParitySettings | None) -> ParitySettings:
    if settings is not None:
        return settings
    if contract is None:
        raise ValueError("parity needs a contract (customProperties.parity or a primary key) or ParitySettings")
    return ParitySettings.from_contract(contract)


def build_parity_check(
    asset: AssetLike,
    *,
    offline: AssetLike,
    online: OnlineLoader | None = None,
    contract: ContractLike | None = None,
    settings: ParitySettings | None = None,
    check_name: str = "feature_parity",
    blocking: bool = False,
    required_resource_keys: Sequence[str] = (),
) -> dg.AssetChecksDefinition:
    """A check on the serving side `asset`: are the served features the offline (training) features?

    The offline side is the `offline` asset, loaded through its IO manager (same partition). The online side is
    `asset`'s stored value, or what `online(context)` returns (e.g. the serving log written at scoring time,
    read through a resource named in `required_resource_keys`). Both are joined on the contract's parity keys
    and compared per feature (exact for categoricals, within tolerance for numbers), with the share of keys
    missing on either side and the distribution skew (drift statistics); thresholds from the contract's
    ``parity`` custom property. Severity follows the outcome; a missing key column fails at ERROR.

    Metadata (besides the outcome keys): ``guardrails/parity_features`` (a table: one row per feature with its
    match rate, mismatches and skew), ``guardrails/failing_sample`` (mismatched pairs, offline and online values
    side by side) and ``guardrails/parity/<metric>`` floats (``match_rate.<feature>``, ``missing_online_share``...).

    Example:
        >>> import dagster as dg
        >>> @dg.asset
        ... def features(): ...
        >>> @dg.asset
        ... def served(): ...
        >>> build_parity_check(served, offline=features,
        ...                    contract="expectations/transaction_features.odcs.yaml").check_key.name
        'feature_parity'
    """
    loaded = load_optional_contract(contract)
    resolved = parity_settings_for(loaded, settings)
    key, partitions_def, offline_key = _key_of(asset), _partitions_def_of(asset), _key_of(offline)
    spec = dg.AssetCheckSpec(
        check_name, asset=key, blocking=blocking,
        description=f"Served features of {key.to_user_string()} match the offline {offline_key.to_user_string()} "
                    f"(keys {', '.join(resolved.keys)})",
    )

    def judge(context, served, offline_features):
        scope = AuditScope.from_context(context, key, partitions_def)
        report = assess_parity(offline_features, served, resolved, check=check_name, contract=loaded,
                               as_of=scope.as_of)
        extra = {PARITY_FEATURES_KEY: parity_features_table(report.features),
                 **scores_metadata(report.outcome.metrics, PARITY_SCORE_PREFIX)}
        return check_result(report.outcome, spec, scope, extra)

    if online is None:
        def run_check(context, served, offline_features):  # the checked asset's value is the served side
            return judge(context, served, offline_features)
    else:
        def run_check(context, offline_features):
            try:
                served = online(context)
            except Exception as exc:  # no served features to compare: the check could not run (fail closed)
                scope = AuditScope.from_context(context, key, partitions_def)
                outcome = error_outcome(check_name, CheckKind.PARITY, loaded, scope.as_of,
                                        f"the served features could not be read: {exc}")
                return check_result(outcome, spec, scope, {})
            return judge(context, served, offline_features)

    return asset_check(run_check, op_name=f"{key.to_python_identifier()}__{check_name}", asset=key, name=check_name,
                       description=spec.description, blocking=blocking, partitions_def=partitions_def,
                       additional_ins={"offline_features": dg.AssetIn(offline_key)},
                       required_resource_keys=set(required_resource_keys) or None)


def _verdict(feature: FeatureParity) -> str:
    if feature.status.value == "error":
        return "not comparable"
    return "ok" if feature.status.value == "passed" else feature.severity.value


def parity_features_table(features: Sequence[FeatureParity]) -> dg.TableMetadataValue:
    """One row per feature, failed ones first."""
    ordered = sorted(features, key=lambda f: (f.status.value == "passed", f.feature))
    records = [
        dg.TableRecord({
            "feature": f.feature, "verdict": _verdict(f), "match_rate": optional_float(f.match_rate),
            "mismatches": int(f.mismatches), "compared": int(f.compared), "statistic": f.statistic or "",
            "score": optional_float(f.observed),
            "skew_psi": optional_float(f.skew.scores.psi) if f.skew is not None and f.skew.scores is not None else None,
            "message": f.message,
        })
        for f in ordered
    ]
    return dg.MetadataValue.table(records=records, schema=PARITY_FEATURES_SCHEMA)
