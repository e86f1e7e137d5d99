"""Drift asset checks against a reference profile of accepted batches, and the asset that keeps that profile."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from guardrails._text import cap_text
from guardrails.checks import ColumnDrift, DriftSettings, assess_drift, render_drift_markdown
from guardrails.contract.model import Contract
from guardrails.dagster import metadata as md
from guardrails.dagster._scope import AuditScope
from guardrails.dagster.checks import AssetLike, _key_of, _partitions_def_of, asset_check, rename
from guardrails.dagster.ml._common import (
    ContractLike,
    check_result,
    error_outcome,
    load_optional_contract,
    optional_float,
    scores_metadata,
)
from guardrails.dagster.ml._reference import ReferenceProfiles
from guardrails.dagster.ml._verdicts import materialization_verdicts
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity, Verdict
from guardrails.profile import ProfileError

DRIFT_COLUMNS_KEY = "guardrails/drift_columns"
DRIFT_REPORT_KEY = "guardrails/drift_report"
DRIFT_SCORE_PREFIX = "guardrails/drift/"
REFERENCE_BATCHES_KEY = "guardrails/reference_batches"
REFERENCE_ROWS_KEY = "guardrails/reference_rows"
REFERENCE_LOCATION_KEY = "guardrails/reference_location"
REFERENCE_SUFFIX = "__reference_profile"

PROFILES_RESOURCE_KEY = "reference_profiles"


class ReferenceProfilesResource(dg.ConfigurableResource):
    """Where reference profiles live, so a deployment (or a test) points them elsewhere without a code change.

    Attributes:
        directory: the root directory; each asset's accepted batches go to ``<directory>/<asset>/``.
    """

    directory: str


class _ProfilesLocation:
    """A fixed directory, or the `ReferenceProfilesResource` under a key, resolved when the step runs."""

    def __init__(self, profiles: str | os.PathLike[str] | None, resource_key: str, name: str) -> None:
        self.fixed, self.resource_key, self.name = profiles, resource_key, name
        ReferenceProfiles(profiles or ".", name)  # refuse a bad name at build time

    @property
    def required_resource_keys(self) -> set[str] | None:
        return {self.resource_key} if self.fixed is None else None

    def describe(self) -> str:
        where = self.fixed if self.fixed is not None else f"resource {self.resource_key!r}"
        return f"{where}/{self.name}"

    def store(self, context: Any) -> ReferenceProfiles:
        if self.fixed is not None:
            return ReferenceProfiles(self.fixed, self.name)
        return ReferenceProfiles(getattr(context.resources, self.resource_key).directory, self.name)


DRIFT_COLUMNS_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("column", "string"),
        dg.TableColumn("kind", "string"),
        dg.TableColumn("verdict", "string", description="ok, warning, error or not comparable"),
        dg.TableColumn("statistic", "string", description="The statistic that decided the verdict."),
        dg.TableColumn("score", "float", description="Its value."),
        dg.TableColumn("psi", "float"),
        dg.TableColumn("js", "float", description="Jensen-Shannon distance (base 2)."),
        dg.TableColumn("wasserstein", "float", description="Wasserstein-1 / reference std (numeric)."),
        dg.TableColumn("ks", "float", description="Two-sample KS statistic (numeric)."),
        dg.TableColumn("ks_pvalue", "float", description="Reported, never judged."),
        dg.TableColumn("linf", "float", description="Largest change of one category's share (categorical)."),
        dg.TableColumn("chi2_pvalue", "float", description="Reported, never judged (categorical)."),
        dg.TableColumn("null_rate_change", "float"),
        dg.TableColumn("message", "string"),
    ]
)


def drift_settings_for(contract: Contract | None, settings: DriftSettings | None) -> DriftSettings:
    """Explicit settings win; else the contract's ``drift`` custom property; else the defaults."""
    if settings is not None:
        return settings
    return DriftSettings.from_contract(contract) if contract is not None else DriftSettings()


def build_drift_checks(
    assets: Iterable[AssetLike],
    *,
    profiles: str | os.PathLike[str] | None = None,
    profiles_resource_key: str = PROFILES_RESOURCE_KEY,
    contract: ContractLike | None = None,
    settings: DriftSettings | None = None,
    profile_name: str | None = None,
    check_name: str = "drift",
    blocking: bool = False,
    window: int | None = None,
    top: int = 10,
) -> list[dg.AssetChecksDefinition]:
    """One drift check per asset: the stored batch (loaded by its IO manager) against its reference profile.

    The reference is the merge of the profiles of accepted batches kept under ``<profiles>/<name>/`` by
    `build_reference_profile_asset`, leaving out the batch under audit (its partition, or its run for an
    unpartitioned asset), so the order of the check and the profile update in a run does not matter.

    Severity follows the outcome: a column over its error threshold fails at ERROR (blocks downstream when
    `blocking`), a warning band at WARN. No reference yet, or one with fewer than ``minReferenceRows`` values,
    fails at WARN ("insufficient reference"), never a pass. A corrupt reference, a missing column or a type
    change fails at ERROR with the reason (the check could not run).

    Args:
        assets: assets, specs or keys to check.
        profiles: directory of the reference profiles (e.g. next to the contracts, or under the data home);
            None: the `ReferenceProfilesResource` under `profiles_resource_key`, read at run time.
        profiles_resource_key: the resource key used when `profiles` is None.
        contract: a `Contract` or ODCS path whose ``drift`` custom property configures the check.
        settings: explicit `DriftSettings` (win over the contract's).
        profile_name: sub-directory of `profiles` (default: the asset key as a Python identifier); one asset only.
        check_name: the asset check's name.
        blocking: block downstream steps (and automation) on an ERROR-severity failure.
        window: compare with the merge of only the latest `window` accepted batches.
        top: columns shown in the markdown report (worst first).

    Metadata (besides `guardrails.dagster.metadata`'s outcome keys): ``guardrails/drift_columns`` (a table,
    one row per column: verdict, deciding statistic and every score), ``guardrails/drift_report`` (markdown:
    the worst columns with a bar against their error threshold), ``guardrails/drift/<statistic>.<column>``
    (every raw score as a float, also when passing), ``guardrails/reference_batches``, ``guardrails/reference_rows``
    and ``guardrails/reference_location``.

    Example:
        >>> import dagster as dg, tempfile
        >>> @dg.asset
        ... def features(): ...
        >>> [c.check_key.name for c in build_drift_checks([features], profiles=tempfile.mkdtemp())]
        ['drift']
    """
    loaded = load_optional_contract(contract)
    resolved = drift_settings_for(loaded, settings)
    items = list(assets)
    if profile_name is not None and len(items) != 1:
        raise ValueError(f"profile_name names one asset's profiles; got {len(items)} assets")
    checks = []
    for item in items:
        key = _key_of(item)
        location = _ProfilesLocation(profiles, profiles_resource_key, profile_name or key.to_python_identifier())
        checks.append(_drift_check(key, _partitions_def_of(item), location, resolved, loaded, check_name=check_name,
                                   blocking=blocking, window=window, top=top))
    return checks


def _drift_check(
    key: dg.AssetKey, partitions_def: dg.PartitionsDefinition | None, location: _ProfilesLocation,
    settings: DriftSettings, contract: Contract | None, *, check_name: str, blocking: bool, window: int | None,
    top: int,
) -> dg.AssetChecksDefinition:
    spec = dg.AssetCheckSpec(
        check_name, asset=key, blocking=blocking,
        description=f"Drift against the reference profile of accepted batches ({location.describe()})",
    )

    def run_check(context, batch):  # no annotations: with postponed evaluation Dagster would see strings
        scope = AuditScope.from_context(context, key, partitions_def)
        outcome, extra = evaluate_drift(batch, location.store(context), settings, batch_name=batch_name(scope),
                                        check=check_name, contract=contract, as_of=scope.as_of, window=window,
                                        top=top)
        return check_result(outcome, spec, scope, extra)

    return asset_check(run_check, op_name=f"{key.to_python_identifier()}__{check_name}", asset=key, name=check_name,
                       description=spec.description, blocking=blocking, partitions_def=partitions_def,
                       required_resource_keys=location.required_resource_keys)


def batch_name(scope: AuditScope) -> str:
    """The name a batch's profile is stored under: its partition, or its run for an unpartitioned asset."""
    return scope.partition_key if scope.partition_key is not None else scope.run_id


def evaluate_drift(
    batch: Any, store: ReferenceProfiles, settings: DriftSettings, *, batch_name: str | None, check: str = "drift",
    contract: Contract | None = None, as_of: datetime | None = None, window: int | None = None, top: int = 10,
) -> tuple[CheckOutcome, dict[str, dg.MetadataValue]]:
    """Judge one batch against the stored reference (without `batch_name`); the outcome and the drift metadata."""
    extra: dict[str, dg.MetadataValue] = {REFERENCE_LOCATION_KEY: dg.MetadataValue.path(str(store.directory))}
    try:
        merged = store.reference(excluding=batch_name, window=window)
    except (ProfileError, OSError) as exc:
        return _no_verdict(check, contract, as_of, error=f"the reference profile cannot be read: {exc}"), extra
    if merged is None:
        extra[REFERENCE_BATCHES_KEY] = dg.MetadataValue.int(0)
        return _no_verdict(check, contract, as_of, error=None), extra
    extra[REFERENCE_BATCHES_KEY] = dg.MetadataValue.int(len(merged.batches))
    extra[REFERENCE_ROWS_KEY] = dg.MetadataValue.int(merged.rows)
    try:
        report = assess_drift(batch, merged.profile, settings, check=check, contract=contract, as_of=as_of)
    except (ValueError, TypeError, ProfileError) as exc:  # a batch that cannot be profiled: fail closed
        return _no_verdict(check, contract, as_of, error=f"the batch cannot be profiled: {exc}"), extra
    extra[DRIFT_COLUMNS_KEY] = drift_columns_table(report.columns)
    if report.columns:
        extra[DRIFT_REPORT_KEY] = dg.MetadataValue.md(render_drift_markdown(report.columns, top=top))
    extra.update(scores_metadata(report.outcome.metrics, DRIFT_SCORE_PREFIX))
    return report.outcome, extra


def _no_verdict(check: str, contract: Contract | None, as_of: datetime | None, *, error: str | None) -> CheckOutcome:
    """No reference yet (a warning, never a pass) or an unreadable one (the check could not run)."""
    if error is not None:
        return error_outcome(check, CheckKind.DRIFT, contract, as_of, error)
    now = datetime.now(UTC)
    message = "insufficient reference: no accepted batch has been profiled yet, so drift cannot be judged"
    rule = RuleResult(rule_id="drift.reference", kind="drift", columns=(), severity=Severity.WARNING,
                      status=CheckStatus.FAILED, observed=0.0, expected=">= 1 accepted batch in the reference",
                      message=message)
    return CheckOutcome(check=check, kind=CheckKind.DRIFT, status=CheckStatus.FAILED, severity=Severity.WARNING,
                        started_at=now, finished_at=now, rules=(rule,), metrics={"reference_rows": 0},
                        contract_id=getattr(contract, "id", None), contract_version=getattr(contract, "version", None),
                        as_of=as_of or now, message=message, verdict=Verdict.INSUFFICIENT)


def _verdict(column: ColumnDrift) -> str:
    if column.status is CheckStatus.ERROR:
        return "not comparable"
    if column.status is CheckStatus.PASSED:
        return "ok"
    return column.severity.value


def drift_columns_table(columns: Sequence[ColumnDrift]) -> dg.TableMetadataValue:
    """One row per column: verdict, deciding statistic and score, and every raw score (names cut at 1 KiB)."""
    records = []
    for c in columns:
        scores = c.scores

        def score(name: str, scores: Any = scores) -> float | None:
            return optional_float(getattr(scores, name, None)) if scores is not None else None

        records.append(dg.TableRecord({
            "column": cap_text(c.column), "kind": c.kind or "", "verdict": _verdict(c), "statistic": c.statistic or "",
            "score": optional_float(c.observed), "psi": score("psi"), "js": score("js"),
            "wasserstein": score("wasserstein"), "ks": score("ks"), "ks_pvalue": score("ks_pvalue"),
            "linf": score("linf"), "chi2_pvalue": score("chi2_pvalue"), "null_rate_change": score("null_rate_change"),
            "message": c.message,
        }))
    return dg.MetadataValue.table(records=records, schema=DRIFT_COLUMNS_SCHEMA)


def reference_profile_key(asset_key: dg.AssetKey) -> dg.AssetKey:
    """``<asset>__reference_profile`` next to the asset (same prefix)."""
    return dg.AssetKey([*asset_key.path[:-1], f"{asset_key.path[-1]}{REFERENCE_SUFFIX}"])


def build_reference_profile_asset(
    asset: AssetLike,
    *,
    profiles: str | os.PathLike[str] | None = None,
    profiles_resource_key: str = PROFILES_RESOURCE_KEY,
    contract: ContractLike | None = None,
    settings: DriftSettings | None = None,
    profile_name: str | None = None,
    partitions_def: dg.PartitionsDefinition | None = None,
    ignore_checks: Iterable[str] = (),
    **asset_kwargs: Any,
) -> dg.AssetsDefinition:
    """The asset ``<asset>__reference_profile``: folds each accepted batch of `asset` into its reference profile.

    It reads the batch the IO manager stored, which for a `guarded_asset` is published data only (a quarantined
    batch is never stored). It refuses, and records an observation saying why, when the batch's materialization
    failed a check at ERROR severity (e.g. a blocking contract check of `build_contract_checks`, or the drift
    check itself): a reference built from bad data hides drift. Make the checks of `asset` blocking so that, in
    the same run, this step waits for them (Dagster then skips it when one fails). A re-run of a partition
    replaces that partition's profile instead of counting it twice.

    Args:
        asset: the asset whose batches are profiled (an `AssetsDefinition` lends its partitions).
        profiles / profiles_resource_key: the same location as `build_drift_checks`'s.
        contract / settings: the drift settings (columns, layout) as for `build_drift_checks`.
        profile_name: sub-directory (default: the asset key as a Python identifier).
        partitions_def: default: the asset's.
        ignore_checks: checks whose failures do not keep a batch out (e.g. a freshness check).
        **asset_kwargs: passed to `dagster.asset` (``group_name``, ``automation_condition``, ``kinds``...).

    Example:
        >>> import dagster as dg, tempfile
        >>> @dg.asset
        ... def features(): ...
        >>> build_reference_profile_asset(features, profiles=tempfile.mkdtemp()).key.to_user_string()
        'features__reference_profile'
    """
    upstream = _key_of(asset)
    resolved = drift_settings_for(load_optional_contract(contract), settings)
    location = _ProfilesLocation(profiles, profiles_resource_key, profile_name or upstream.to_python_identifier())
    partitions = partitions_def if partitions_def is not None else _partitions_def_of(asset)
    own_key = reference_profile_key(upstream)
    ignored = tuple(ignore_checks)

    def compute(context, batch):  # no annotations: with postponed evaluation Dagster would see strings
        scope = AuditScope.from_context(context, upstream, partitions)
        name = batch_name(scope)
        verdicts = materialization_verdicts(context.instance, upstream, partition=scope.single_partition_key,
                                            limit=1, ignore_checks=ignored)
        refusal = None
        if not verdicts:
            refusal = f"{upstream.to_user_string()} has no materialization for this batch"
        elif not verdicts[0].passed:
            refusal = f"its materialization failed {', '.join(verdicts[0].failed_checks)}"
        if refusal is not None:
            context.log.warning(f"Reference profile not updated with batch {name}: {refusal}")
            yield dg.AssetObservation(
                asset_key=own_key, partition=scope.single_partition_key,
                description=f"Batch {name} kept out of the reference: {refusal}",
                metadata={"guardrails/refused_batch": name, "guardrails/reason": refusal},
            )
            return
        store = location.store(context)
        profile = store.accept(name, batch, resolved)
        merged = store.reference()
        yield dg.MaterializeResult(metadata={
            "guardrails/accepted_batch": dg.MetadataValue.text(name),
            "guardrails/accepted_rows": dg.MetadataValue.int(profile.rows),
            REFERENCE_BATCHES_KEY: dg.MetadataValue.int(len(merged.batches) if merged else 0),
            REFERENCE_ROWS_KEY: dg.MetadataValue.int(merged.rows if merged else 0),
            REFERENCE_LOCATION_KEY: dg.MetadataValue.path(str(store.directory)),
            "guardrails/columns": dg.MetadataValue.text(", ".join(profile.columns)),
            md.RUN_ID_KEY: dg.MetadataValue.text(scope.run_id),
        })

    asset_kwargs.setdefault("description", f"Reference profile of accepted {upstream.to_user_string()} batches (drift "
                                           f"checks compare new batches with it); files in {location.describe()}")
    if location.required_resource_keys:
        asset_kwargs["required_resource_keys"] = {*asset_kwargs.get("required_resource_keys", ()),
                                                  *location.required_resource_keys}
    return dg.asset(
        key=own_key, ins={"batch": dg.AssetIn(upstream)}, partitions_def=partitions, output_required=False,
        **asset_kwargs,
    )(rename(compute, own_key.to_python_identifier()))
