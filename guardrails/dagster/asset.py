"""`@guarded_asset`: an asset whose output is audited against a contract *before* the IO manager sees it.

Why in the step: in Dagster 1.13 a blocking asset check does not stop storage (the IO manager has already
written the batch), so write-audit-publish must happen between the asset body and the IO manager. The body
returns a batch (polars, pandas, pyarrow, or a path to a Parquet file); `guard_batch` audits it and stages the
bad part in the quarantine store; only what may be published is yielded as `Output`, so any IO manager works.

How a quarantined batch shows in Dagster (a deliberate choice, tested in tests/dagster):

* The step yields an `AssetObservation` on the guarded asset (same partition) whose metadata is the quarantine
  manifest: batch id, location, rules that failed, rows kept; tag ``guardrails/quarantined=<batch id>`` (as a valid tag value).
* It yields the contract check's evaluation (failed, severity ERROR, blocking) with the full outcome as
  metadata plus ``guardrails/batch_id`` and ``guardrails/run_id``. The evaluation is built here rather than by
  Dagster from an `AssetCheckResult`, because Dagster would point ``target_materialization_data`` at the
  *previous* materialization (the last good batch) and the UI would attribute the failure to it. Ours carries
  no target materialization: the quarantined batch never became one.
* It then raises `dagster.Failure` (metadata: batch id, location, failed rules), so the run is FAILED,
  ``run_failure_sensor``/alerting fire, the IO manager never runs, and downstream steps are skipped.

Under the ``rows`` policy a batch whose bad rows can be told apart is split: the valid rows are published
(materialization + a check that failed with severity WARN, so the run stays green and downstream proceeds on
clean rows) and the bad rows are quarantined (the observation above). A batch that cannot be split (a column
missing, the file unreadable, the check could not run) is quarantined whole, as under the ``batch`` policy.
The check spec is blocking under the ``batch`` policy (when the contract has error-severity rules) and not
under ``rows`` (whose failures are published-around, not stopped).

A published batch's check is evaluated against its own materialization. Failed warning-severity rules give
a failed check with severity WARN: Dagster does not stop the run for it, but note that Dagster's
``all_deps_blocking_checks_passed()`` (and so `guarded_automation_condition`) treats any failed blocking
check as not passed, whatever its severity.

Partitions: each partition is its own batch (``<asset>.<partition>`` in the store), judged as of its time
window's end; a single-run backfill over a partition range is one batch (``<asset>.<start>..<end>``).

Example:
    >>> import polars as pl
    >>> @guarded_asset(contract="expectations/transactions.odcs.yaml")
    ... def clean_transactions(raw_transactions: pl.DataFrame) -> pl.DataFrame:
    ...     return raw_transactions.unique("transaction_id")
    >>> [spec.name for spec in clean_transactions.check_specs]
    ['transactions_contract']
"""

from __future__ import annotations

import inspect
import json
import os
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

import dagster as dg

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.contract import load_contract
from guardrails.contract.model import Contract, QuarantinePolicy
from guardrails.errors import ContractError
from guardrails.dagster import metadata as md
from guardrails.dagster._compat import evaluation_target, give_signature
from guardrails.dagster._scope import AuditScope
from guardrails.dagster.resources import (
    QUARANTINE_RESOURCE_KEY,
    ContractsResource,
    QuarantineResource,
    resolve_contract_path,
)
from guardrails.outcome import CheckOutcome, CheckStatus, Severity
from guardrails.quarantine import (
    GuardedBatch,
    GuardedTable,
    QuarantineError,
    QuarantineManifest,
    QuarantineStore,
    StagedTable,
    guard_batch,
    guard_table,
)

_CONTEXT_NAMES = ("context", "_context", "_")


def load_contract_for_definitions(
    contract: Contract | str | os.PathLike[str], *, table: str | None = None, policy: QuarantinePolicy | str | None = None
) -> Contract:
    """The contract a definition is built with, loaded when the code location loads (fail fast on bad YAML)."""
    if isinstance(contract, Contract):
        loaded = contract
    else:
        loaded = load_contract(resolve_contract_path(contract), table=table)
    return replace(loaded, policy=QuarantinePolicy(policy)) if policy is not None else loaded


def contract_check_name(contract: Contract) -> str:
    """The default check name for a contract: ``<table>_contract`` (a valid Dagster name)."""
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in contract.table).strip("_") or "table"
    return f"{name}_contract"


def contract_check_spec(
    contract: Contract, asset_key: dg.AssetKey, *, name: str | None = None, blocking: bool | None = None,
    description: str | None = None, partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.AssetCheckSpec:
    """The check spec for a contract on an asset; blocking when any rule can fail at error severity.

    `partitions_def` is the asset's: the UI shows a check's Partition column (and per-partition statuses) only
    when its spec has one. Dagster 1.13 calls partitioned check specs a preview and warns each time one is
    built; the warning is silenced here, where our contract specs are built.
    """
    if blocking is None:
        blocking = any(rule.severity is Severity.ERROR for rule in contract.rules)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name or contract_check_name(contract),
            asset=asset_key,
            blocking=blocking,
            description=description or f"Contract {contract.id} v{contract.version} ({len(contract.rules)} rules)",
            metadata={md.CONTRACT_ID_KEY: contract.id, md.CONTRACT_VERSION_KEY: contract.version,
                      md.CONTRACT_TABLE_KEY: contract.table,
                      **({md.CONTRACT_PATH_KEY: os.path.abspath(contract.source)} if contract.source else {})},
            partitions_def=partitions_def,
        )


def guarded_asset(
    *,
    contract: Contract | str | os.PathLike[str],
    table: str | None = None,
    policy: QuarantinePolicy | str | None = None,
    check_name: str | None = None,
    quarantine_resource_key: str = QUARANTINE_RESOURCE_KEY,
    contracts_resource_key: str | None = None,
    allow_unrun: bool = False,
    **asset_kwargs: Any,
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """Decorate a function returning a batch into an asset guarded by a contract (write-audit-publish).

    Args:
        contract: a `Contract`, or the path of an ODCS file (absolute, relative to the working directory, or
            to ``$GUARDRAILS_CONTRACTS``/``expectations``), loaded when the definitions load.
        table: which ``schema[]`` object of the file, when it has several.
        policy: overrides the contract's quarantine policy (``batch`` or ``rows``).
        check_name: the asset check's name (default ``<table>_contract``).
        quarantine_resource_key: key of the `QuarantineResource` (default ``quarantine``).
        contracts_resource_key: if set, the contract is re-read at run time through the `ContractsResource`
            under this key (a deployment can point at another contracts directory; the run records the
            version on disk then). Default: the contract loaded with the definitions is used.
        allow_unrun: record contract rules guardrails cannot run (``type: custom`` for an engine such as soda)
            as warnings instead of failing closed (the default); see `guard_batch`.
        **asset_kwargs: passed to `dagster.asset` (``name``, ``key_prefix``, ``ins``, ``deps``,
            ``partitions_def``, ``io_manager_key``, ``group_name``, ``automation_condition``, ...).

    Returns:
        A decorator producing an `AssetsDefinition` with one asset check (`check_specs`).

    Raises:
        ContractError: the contract file is malformed (at definition time).
        ValueError: `check_specs` or `output_required` were passed (the guard owns them).
    """
    for owned in ("check_specs", "output_required"):
        if owned in asset_kwargs:
            raise ValueError(f"guarded_asset sets {owned!r} itself; declare other checks with @asset_check instead")
    loaded = load_contract_for_definitions(contract, table=table, policy=policy)
    runtime_path = None if isinstance(contract, Contract) else contract

    def decorator(fn: Callable[..., Any]) -> dg.AssetsDefinition:
        name = asset_kwargs.get("name") or fn.__name__
        key = dg.AssetKey([*_prefix(asset_kwargs.get("key_prefix")), name])
        if asset_kwargs.get("key") is not None:
            key = dg.AssetKey.from_coercible(asset_kwargs["key"])
        spec = contract_check_spec(loaded, key, name=check_name,
                                   blocking=None if loaded.policy is QuarantinePolicy.BATCH else False,
                                   partitions_def=asset_kwargs.get("partitions_def"))
        compute = _guarded_compute(
            fn,
            contract=loaded,
            runtime_path=runtime_path,
            table=table,
            policy=policy,
            check_spec=spec,
            partitions_def=asset_kwargs.get("partitions_def"),
            quarantine_key=quarantine_resource_key,
            contracts_key=contracts_resource_key,
            resource_keys_in_decorator="required_resource_keys" in asset_kwargs,
            allow_unrun=allow_unrun,
        )
        kwargs = dict(asset_kwargs)
        if kwargs.get("required_resource_keys") is not None:
            kwargs["required_resource_keys"] = {
                *kwargs["required_resource_keys"], quarantine_resource_key,
                *([contracts_resource_key] if contracts_resource_key else []),
            }
        return dg.asset(check_specs=[spec], output_required=False, **kwargs)(compute)

    return decorator


def _prefix(key_prefix: str | list[str] | None) -> list[str]:
    if key_prefix is None:
        return []
    return [key_prefix] if isinstance(key_prefix, str) else list(key_prefix)


def _guarded_compute(
    fn: Callable[..., Any],
    *,
    contract: Contract,
    runtime_path: str | os.PathLike[str] | None,
    table: str | None,
    policy: QuarantinePolicy | str | None,
    check_spec: dg.AssetCheckSpec,
    partitions_def: dg.PartitionsDefinition | None,
    quarantine_key: str,
    contracts_key: str | None,
    resource_keys_in_decorator: bool,
    allow_unrun: bool = False,
) -> Callable[..., Iterator[Any]]:
    """A generator compute function with the user's signature plus the context and the guard's resources."""
    params = list(_signature(fn).parameters.values())
    user_wants_context = bool(params) and params[0].name in _CONTEXT_NAMES
    user_params = params[1:] if user_wants_context else params
    user_names = {p.name for p in user_params}
    injected: dict[str, type] = {}
    if not resource_keys_in_decorator:
        injected[quarantine_key] = QuarantineResource
        if contracts_key:
            injected[contracts_key] = ContractsResource
    extra = [
        inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, annotation=cls)
        for key, cls in injected.items()
        if key not in user_names
    ]
    signature = inspect.Signature(
        [inspect.Parameter("context", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=dg.AssetExecutionContext),
         *user_params, *extra]
    )

    def compute(context: dg.AssetExecutionContext, **kwargs: Any) -> Iterator[Any]:
        resources = {k: (kwargs[k] if k in kwargs else getattr(context.resources, k)) for k in
                     [quarantine_key, *([contracts_key] if contracts_key else [])]}
        user_kwargs = {k: v for k, v in kwargs.items() if k in user_names}
        judged_by = contract
        if contracts_key and runtime_path is not None:
            judged_by = load_contract_at_run_time(resources[contracts_key], runtime_path, table=table,
                                                  policy=policy, expected_id=contract.id)
        batch = fn(context, **user_kwargs) if user_wants_context else fn(**user_kwargs)
        scope = AuditScope.from_context(context, check_spec.asset_key, partitions_def)
        yield from audit_and_publish(batch, judged_by, resources[quarantine_key].get_store(), scope, check_spec,
                                     context, allow_unrun=allow_unrun)

    compute.__name__ = fn.__name__
    compute.__qualname__ = fn.__qualname__
    compute.__module__ = fn.__module__
    compute.__doc__ = fn.__doc__
    give_signature(compute, signature)
    return compute


def _signature(fn: Callable[..., Any]) -> inspect.Signature:
    """The user's signature with string annotations evaluated, so Dagster recognises resource parameters."""
    try:
        return inspect.signature(fn, eval_str=True)
    except (NameError, TypeError):  # an annotation only valid under TYPE_CHECKING: Dagster sees the string, as usual
        return inspect.signature(fn)


def load_contract_at_run_time(
    contracts: ContractsResource, path: str | os.PathLike[str], *, table: str | None,
    policy: QuarantinePolicy | str | None, expected_id: str,
) -> Contract:
    """Re-read a contract through the resource; a file naming another contract is a misconfiguration."""
    try:
        loaded = contracts.load(path, table=table)
    except ContractError as exc:  # misconfiguration: say which file and field, and do not retry
        raise dg.Failure(description=f"contract cannot be loaded at run time: {exc}", allow_retries=False) from exc
    if loaded.id != expected_id:
        raise dg.Failure(
            description=f"contract {contracts.resolve(path)} is {loaded.id!r} at run time, but the definitions were "
            f"built for {expected_id!r}; point the contracts resource at the same contract or reload the code location",
            allow_retries=False,
        )
    return replace(loaded, policy=QuarantinePolicy(policy)) if policy is not None else loaded


def audit_and_publish(
    batch: Any, contract: Contract, store: QuarantineStore, scope: AuditScope, check_spec: dg.AssetCheckSpec,
    context: dg.AssetExecutionContext, *, allow_unrun: bool = False,
) -> Iterator[Any]:
    """Audit one batch with `guard_batch` and translate the `GuardedBatch` into Dagster events.

    Yields, in order: `Output` of what may be published (if anything), an `AssetObservation` of the
    quarantine (if anything was quarantined), the check evaluation; then raises `dagster.Failure` when
    nothing could be published.
    """
    started = time.perf_counter()
    try:
        guarded: GuardedBatch | GuardedTable
        if isinstance(batch, StagedTable):  # staged in a database: audited and published there (guard_table)
            guarded = guard_table(contract, batch, store=store, partition=_table_partition(scope, batch),
                                  batch_id=scope.batch_id, source=scope.source, run_id=scope.run_id, as_of=scope.as_of,
                                  allow_unrun=allow_unrun)
        else:
            guarded = guard_batch(batch, contract, store, batch_id=scope.batch_id, source=scope.source,
                                  run_id=scope.run_id, as_of=scope.as_of, allow_unrun=allow_unrun)
    except QuarantineError as exc:  # the store is unwritable: nothing was published either (fail closed)
        raise dg.Failure(
            description=f"{scope.asset_key.to_user_string()}: nothing published, the quarantine store failed: {exc}",
            metadata={md.BATCH_ID_KEY: dg.MetadataValue.text(scope.batch_id),
                      md.RUN_ID_KEY: dg.MetadataValue.text(scope.run_id)},
        ) from exc
    outcome: CheckOutcome = guarded.outcome
    audit_seconds = time.perf_counter() - started
    published = guarded.published
    rows_published = guarded.rows_published
    rows_quarantined = _rows_quarantined(guarded, outcome, rows_published)
    shared = {
        md.BATCH_ID_KEY: dg.MetadataValue.text(guarded.batch_id),
        md.RUN_ID_KEY: dg.MetadataValue.text(scope.run_id),
        md.ROWS_PUBLISHED_KEY: dg.MetadataValue.int(rows_published),
        md.ROWS_QUARANTINED_KEY: dg.MetadataValue.int(rows_quarantined),
        md.AUDIT_DURATION_KEY: dg.MetadataValue.float(round(audit_seconds, 6)),
    }
    if scope.partition_key is not None:
        shared[md.PARTITION_KEY] = dg.MetadataValue.text(scope.partition_key)
    # Passing or failing, the evaluation says which store and contract judged it: the CLI's defaults read them.
    recorded = md.recorded_locations_metadata(store.uri, contract.source)
    shared.update(recorded)
    location = _manifest_location(store, guarded) if guarded.manifest is not None else None
    if location is not None:
        shared[md.QUARANTINE_LOCATION_KEY] = md.location_metadata(location)
    check_metadata = {**md.outcome_metadata(outcome), **shared}

    if published is not None:
        yield dg.Output(
            _like(batch, published),
            metadata={"dagster/row_count": dg.MetadataValue.int(rows_published), **shared,
                      md.CONTRACT_VERSION_KEY: dg.MetadataValue.text(outcome.contract_version or contract.version)},
        )
    if guarded.manifest is not None:
        yield quarantine_observation(scope, guarded, location, outcome, rows_quarantined, recorded)
    if published is not None:
        # The published part is clean: what the contract flagged is either tolerated (warnings) or quarantined.
        result = dg.AssetCheckResult(
            asset_key=check_spec.asset_key,
            check_name=check_spec.name,
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.WARN,
            metadata=check_metadata,
            description=_summary(outcome, guarded.batch_id, rows_quarantined),
        )
        if scope.single_partition_key is None:
            yield result
        else:
            yield from _partition_check_events(result, check_spec, scope, context)
        return
    yield dg.AssetCheckEvaluation(
        asset_key=check_spec.asset_key,
        check_name=check_spec.name,
        passed=False,
        metadata=check_metadata,
        target_materialization_data=None,  # the quarantined batch was never materialized
        severity=dg.AssetCheckSeverity.ERROR,
        description=_summary(outcome, guarded.batch_id, rows_quarantined),
        blocking=check_spec.blocking,
        # Dagster plans one check row per partition of a partitioned run; naming the partition makes this
        # evaluation complete that row (an AssetCheckResult would leave it PLANNED and add a second one).
        partition=scope.single_partition_key,
    )
    # A data failure, not a crash: no retry (the same batch would be judged and quarantined again) and no chained
    # cause. Dagster still prints this Failure's stack on the run page (its UI shows the stack of every failed
    # step, under the description and this metadata); the README's "What a quarantine looks like in the UI" says so.
    raise dg.Failure(
        description=f"{scope.asset_key.to_user_string()}: nothing published; "
        + _summary(outcome, guarded.batch_id, rows_quarantined),
        metadata=md.bounded_metadata({
            **shared,
            md.STATUS_KEY: dg.MetadataValue.text(outcome.status.value),
            md.RULES_KEY: md.rules_table(outcome),
            **({md.ERROR_KEY: dg.MetadataValue.text(cap_text(outcome.error, MESSAGE_CHARS))} if outcome.error else {}),
        }, md.EVENT_METADATA_BYTES),
        allow_retries=False,
    )


def _partition_check_events(
    result: dg.AssetCheckResult, check_spec: dg.AssetCheckSpec, scope: AuditScope, context: dg.AssetExecutionContext
) -> Iterator[Any]:
    """A check result for one partition, as Dagster should record it.

    Dagster 1.13 plans one check row per partition of a partitioned run but, for a check spec without its own
    partitions (ours: partitioned check specs are a preview feature), records an `AssetCheckResult` with no
    partition: the planned row stays PLANNED (shown as skipped) beside a second, unpartitioned row. So we emit
    what `AssetCheckResult` would, naming the partition and the materialization just written.
    """
    [record] = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=scope.asset_key, asset_partitions=[scope.single_partition_key]), limit=1
    ).records
    yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_check_key(check_spec.key))
    yield dg.AssetCheckEvaluation(
        asset_key=check_spec.asset_key,
        check_name=check_spec.name,
        passed=result.passed,
        metadata=result.metadata,
        target_materialization_data=evaluation_target(
            storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
        ),
        severity=result.severity,
        description=result.description,
        blocking=check_spec.blocking,
        partition=scope.single_partition_key,
    )


def quarantine_observation(
    scope: AuditScope, guarded: GuardedBatch, location: str | None, outcome: CheckOutcome, rows_quarantined: int,
    recorded: Mapping[str, dg.MetadataValue],
) -> dg.AssetObservation:
    """The record of a quarantine in the asset's event log: the manifest as metadata, tagged with the batch id.

    `recorded` is `metadata.recorded_locations_metadata`: the store's URI and the contract's absolute path.
    The manifest is recorded with its outcome as an event may carry it (`metadata.recordable_outcome`) and its
    reason cut at 4 KiB, and the whole metadata stays under the event guard (`metadata.bounded_metadata`): an
    entry too large is replaced by a text saying so. The manifest in the store keeps everything.
    """
    manifest = guarded.manifest
    metadata: dict[str, Any] = {
        **recorded,
        md.BATCH_ID_KEY: dg.MetadataValue.text(guarded.batch_id),
        md.RUN_ID_KEY: dg.MetadataValue.text(scope.run_id),
        md.STATUS_KEY: dg.MetadataValue.text(outcome.status.value),
        md.ROWS_QUARANTINED_KEY: dg.MetadataValue.int(rows_quarantined),
        md.MANIFEST_KEY: dg.MetadataValue.json(_recordable_manifest(manifest)),
        md.RULES_KEY: md.rules_table(outcome),
    }
    if location is not None:
        metadata[md.QUARANTINE_LOCATION_KEY] = md.location_metadata(location)
    if outcome.contract_version:
        metadata[md.CONTRACT_VERSION_KEY] = dg.MetadataValue.text(outcome.contract_version)
    if outcome.sample:
        metadata[md.SAMPLE_KEY] = md.sample_table(outcome.sample)
    return dg.AssetObservation(
        asset_key=scope.asset_key,
        partition=scope.single_partition_key,
        description=f"Quarantined batch {guarded.batch_id}: {rows_quarantined} rows held back",
        metadata=md.bounded_metadata(metadata, md.EVENT_METADATA_BYTES),
        tags={md.QUARANTINE_TAG: md.tag_value(guarded.batch_id)},
    )


def _summary(outcome: CheckOutcome, batch_id: str, rows_quarantined: int) -> str:
    """One line for an event's description, cut at 4 KiB (rule ids and errors can be long)."""
    return cap_text(_full_summary(outcome, batch_id, rows_quarantined), MESSAGE_CHARS)


def _full_summary(outcome: CheckOutcome, batch_id: str, rows_quarantined: int) -> str:
    if outcome.status is CheckStatus.ERROR:
        return f"check could not run ({outcome.error or outcome.message}); batch {batch_id} quarantined"
    failed = outcome.failed_rules
    names = ", ".join(rule_text(r) for r in failed[:5])
    more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
    if not failed:
        return f"all {len(outcome.rules)} rules passed"
    held = f"; {rows_quarantined} rows quarantined as {batch_id}" if rows_quarantined else ""
    return f"{len(failed)} rule(s) failed: {names}{more}{held}"


def rule_text(rule: Any) -> str:
    """``amount.range (25 rows)``; table-level rules (no row count) by id alone."""
    return f"{rule.rule_id} ({rule.failing_rows} rows)" if rule.failing_rows else rule.rule_id


def _rows_quarantined(guarded: GuardedBatch, outcome: CheckOutcome, rows_published: int) -> int:
    if guarded.manifest is None:
        return 0
    if guarded.manifest.rows_quarantined is not None:
        return int(guarded.manifest.rows_quarantined)
    return max((outcome.rows or 0) - rows_published, 0)


def _recordable_manifest(manifest: QuarantineManifest) -> Mapping[str, Any]:
    """The manifest as JSON for an event: outcomes capped as `metadata.recordable_outcome` does, reason cut."""
    outcomes = {name: md.recordable_outcome(getattr(manifest, name)) for name in ("outcome", "release_outcome")
                if getattr(manifest, name) is not None}
    recordable = replace(manifest, reason=cap_text(manifest.reason, MESSAGE_CHARS), **outcomes)
    return json.loads(json.dumps(recordable.to_dict(), default=str))


def _manifest_location(store: QuarantineStore, guarded: GuardedBatch) -> str:
    """Where the batch sits: a local path for a directory store, a URL for a remote one."""
    path = store.batch_path(guarded.batch_id)
    return path if store.uri.startswith("file://") else store.fs.unstrip_protocol(path)


def _table_partition(scope: AuditScope, staged: StagedTable) -> str | None:
    """The partition a staged table replaces in its target; a partition range cannot be replaced as one batch."""
    if scope.partition_key is not None and scope.single_partition_key is None:
        raise dg.Failure(
            description=f"{scope.asset_key.to_user_string()}: a table asset is guarded one partition per run, "
            f"got the range {scope.partition_key}; launch the backfill with one run per partition",
            allow_retries=False,
        )
    return scope.single_partition_key


def _like(original: Any, published: Any) -> Any:
    """Hand the IO manager the same kind of frame the body returned (polars in, polars out)."""
    if isinstance(original, StagedTable):
        return None  # the rows are already in the target table: nothing for an IO manager (the output is Nothing)
    module = type(original).__module__.split(".")[0]
    if module == "polars":
        import polars as pl

        return pl.from_arrow(published)
    if module == "pandas":
        return published.to_pandas()
    return published
