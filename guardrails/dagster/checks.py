"""`build_contract_checks`: contract checks for assets you do not want to wrap (existing pipelines).

Each check loads the *stored* asset through its IO manager (the asset is the check's input) and validates it
with the same engine guarded assets use. It cannot quarantine: by the time it runs, the IO manager has
already stored the batch and it is the asset's latest materialization (Dagster 1.13: a blocking check does
not stop storage). What it can do: fail (blocking, ERROR severity), so downstream steps in the same run are
skipped and `guarded_automation_condition()` keeps declarative automation from running downstream. Use
`guarded_asset` when bad data must never be stored.

Example:
    >>> import dagster as dg
    >>> @dg.asset
    ... def raw_transactions(): ...
    >>> [c.check_key.name for c in build_contract_checks([raw_transactions],
    ...                                                   contract="expectations/transactions.odcs.yaml")]
    ['transactions_contract']
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg

from guardrails.contract.model import Contract
from guardrails.dagster import metadata as md
from guardrails.dagster._scope import AuditScope
from guardrails.dagster.asset import (
    contract_check_spec,
    load_contract_at_run_time,
    load_contract_for_definitions,
    rule_text,
)
from guardrails.dagster.resources import ContractsResource
from guardrails.outcome import CheckOutcome, CheckStatus, Severity
from guardrails.validation import validate

AssetLike = dg.AssetsDefinition | dg.SourceAsset | dg.AssetSpec | dg.AssetKey | str | Sequence[str]


def build_contract_checks(
    assets_or_keys: Iterable[AssetLike],
    *,
    contract: Contract | str | os.PathLike[str],
    table: str | None = None,
    severity: Severity | str | None = None,
    blocking: bool | None = None,
    check_name: str | None = None,
    contracts_resource_key: str | None = None,
) -> list[dg.AssetChecksDefinition]:
    """One contract check per asset, validating the stored asset loaded by its IO manager.

    Args:
        assets_or_keys: assets definitions, specs, source assets or keys (``"raw/transactions"`` is a
            two-part key) to check.
        contract: a `Contract`, or an ODCS file path resolved like `guarded_asset`'s (loaded now: a malformed
            file fails the code location load with the file and field named).
        table: which ``schema[]`` object of the file, when it has several.
        severity: force the check's severity (``warning`` makes it record-only and non-blocking); default:
            the severity of the most severe failed rule.
        blocking: override blocking (default: True when the check can fail at ERROR severity).
        check_name: the check's name (default ``<table>_contract``).
        contracts_resource_key: re-read the contract at run time through this `ContractsResource` key.

    Returns:
        A list of `AssetChecksDefinition`, one per asset, each emitting the metadata listed in
        `guardrails.dagster.metadata`.
    """
    loaded = load_contract_for_definitions(contract, table=table)
    forced = Severity(severity) if severity is not None else None
    if blocking is None:
        blocking = forced is not Severity.WARNING and any(r.severity is Severity.ERROR for r in loaded.rules)
    runtime_path = None if isinstance(contract, Contract) else contract
    return [
        _build_one(
            _key_of(item), _partitions_def_of(item), loaded, forced=forced, blocking=blocking,
            check_name=check_name, runtime_path=runtime_path, table=table,
            contracts_resource_key=contracts_resource_key,
        )
        for item in assets_or_keys
    ]


def _build_one(
    asset_key: dg.AssetKey, partitions_def: dg.PartitionsDefinition | None, contract: Contract, *,
    forced: Severity | None, blocking: bool, check_name: str | None, runtime_path: Any, table: str | None,
    contracts_resource_key: str | None,
) -> dg.AssetChecksDefinition:
    spec = contract_check_spec(contract, asset_key, name=check_name, blocking=blocking, partitions_def=partitions_def)

    def run_check(context, batch):  # no annotations: with postponed evaluation Dagster would see strings
        judged_by = contract
        if contracts_resource_key and runtime_path is not None:
            resource: ContractsResource = getattr(context.resources, contracts_resource_key)
            judged_by = load_contract_at_run_time(resource, runtime_path, table=table, policy=None,
                                                  expected_id=contract.id)
        scope = AuditScope.from_context(context, asset_key, partitions_def)
        outcome = validate(judged_by, batch, as_of=scope.as_of).outcome
        return contract_check_result(outcome, spec, scope, forced=forced)

    return asset_check(
        run_check,
        op_name=f"{asset_key.to_python_identifier()}__{spec.name}",
        asset=asset_key,
        name=spec.name,
        description=spec.description,
        blocking=spec.blocking,
        metadata=dict(spec.metadata),
        required_resource_keys={contracts_resource_key} if contracts_resource_key else None,
        partitions_def=partitions_def,
    )


def contract_check_result(
    outcome: CheckOutcome, spec: dg.AssetCheckSpec, scope: AuditScope, *, forced: Severity | None = None
) -> dg.AssetCheckResult:
    """A contract outcome as the check's result, described by its failed rules."""
    failed = outcome.failed_rules
    description = (
        f"all {len(outcome.rules)} rules passed" if outcome.passed
        else None if outcome.status is CheckStatus.ERROR
        else f"{len(failed)} rule(s) failed: " + ", ".join(rule_text(r) for r in failed[:5])
    )
    return outcome_check_result(outcome, spec, scope, forced=forced, description=description)


def outcome_check_result(
    outcome: CheckOutcome,
    spec: dg.AssetCheckSpec,
    scope: AuditScope,
    *,
    forced: Severity | None = None,
    extra: Mapping[str, dg.MetadataValue] | None = None,
    description: str | None = None,
) -> dg.AssetCheckResult:
    """Any outcome as the check's result; the check could not run -> failed at ERROR (fail closed).

    Every guardrail check (contract, drift, freshness, parity) reports through here, so the outcome metadata,
    run id and partition keys are the same everywhere.
    """
    metadata = {**md.outcome_metadata(outcome), md.RUN_ID_KEY: dg.MetadataValue.text(scope.run_id), **(extra or {})}
    if scope.partition_key is not None:
        metadata[md.PARTITION_KEY] = dg.MetadataValue.text(scope.partition_key)
    if outcome.status is CheckStatus.ERROR:
        description = f"check could not run: {outcome.error or outcome.message}"
    return dg.AssetCheckResult(
        asset_key=spec.asset_key,
        check_name=spec.name,
        passed=outcome.passed,
        severity=md.evaluation_severity(outcome, forced),
        metadata=md.bounded_metadata(metadata, md.EVENT_METADATA_BYTES, keep=(md.OUTCOME_KEY,)),  # extras too
        description=description if description is not None else outcome.message,
    )


def asset_check(fn: Any, *, op_name: str, **check_kwargs: Any) -> dg.AssetChecksDefinition:
    """`dagster.asset_check(**check_kwargs)` over `fn` renamed `op_name`, partitioned like its asset if it is.

    A check on a partitioned asset must be partitioned too, or its input would load every partition at once;
    Dagster 1.13 labels partitioned check specs "preview" and warns each time one is built. The warning is
    silenced here, the one place that builds our checks.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.asset_check(**check_kwargs)(rename(fn, op_name))


def rename(fn: Any, name: str) -> Any:
    """Give a generated function the op name Dagster will show."""
    fn.__name__ = name
    fn.__qualname__ = name
    return fn


def _key_of(item: AssetLike) -> dg.AssetKey:
    if isinstance(item, dg.AssetsDefinition):
        if len(item.keys) != 1:
            raise ValueError(f"build_contract_checks takes single assets; {item.node_def.name} has {len(item.keys)} "
                             "keys: pass the keys you mean")
        return item.key
    if isinstance(item, dg.SourceAsset | dg.AssetSpec):
        return item.key
    if isinstance(item, str):
        return dg.AssetKey.from_user_string(item)
    return dg.AssetKey.from_coercible(item)


def _partitions_def_of(item: AssetLike) -> dg.PartitionsDefinition | None:
    if isinstance(item, dg.AssetsDefinition | dg.SourceAsset | dg.AssetSpec):
        return item.partitions_def
    return None
