"""Freshness from the contract's SLA: an asset check in runs, a sensor when no run comes, and `FreshnessPolicy`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from guardrails.checks import FreshnessSettings, check_freshness
from guardrails.contract.model import Contract
from guardrails.dagster import metadata as md
from guardrails.dagster._compat import check_execution_history, evaluation_target
from guardrails.dagster._scope import AuditScope
from guardrails.dagster.checks import AssetLike, _key_of, _partitions_def_of, asset_check
from guardrails.dagster.ml._common import ContractLike, check_result, describe, load_optional_contract
from guardrails.dagster.ml._verdicts import MaterializationVerdict, last_passing_materialization
from guardrails.outcome import CheckOutcome, CheckStatus, Severity

LAST_PASSED_AT_KEY = "guardrails/last_passed_at"
LAST_PASSED_RUN_KEY = "guardrails/last_passed_run_id"
LAST_PASSED_PARTITION_KEY = "guardrails/last_passed_partition"
EVALUATED_BY_KEY = "guardrails/evaluated_by"
FRESHNESS_SCORE_PREFIX = "guardrails/freshness/"


def freshness_settings_for(contract: Contract | None, settings: FreshnessSettings | None) -> FreshnessSettings:
    """Explicit settings win; else the contract's ``slaProperties`` (and ``freshness`` custom property)."""
    if settings is not None:
        return settings
    if contract is None:
        raise ValueError("freshness needs a contract with slaProperties or explicit FreshnessSettings")
    return FreshnessSettings.from_contract(contract)


def freshness_policy_for(settings: FreshnessSettings) -> dg.FreshnessPolicy:
    """Dagster's `FreshnessPolicy` for the same SLA: warn after `frequency`, fail after `frequency` + `grace`.

    Without a frequency, the event-time `max_age` is used as the window (the policy can only see
    materialization times, so this is the closest it gets).

    Example:
        >>> from datetime import timedelta
        >>> policy = freshness_policy_for(FreshnessSettings(frequency=timedelta(days=1), grace=timedelta(hours=2)))
        >>> policy.fail_window.to_timedelta(), policy.warn_window.to_timedelta()
        (datetime.timedelta(days=1, seconds=7200), datetime.timedelta(days=1))
    """
    window = settings.frequency if settings.frequency is not None else settings.max_age
    assert window is not None  # FreshnessSettings refuses an SLA with neither
    fail = window + settings.grace
    return dg.FreshnessPolicy.time_window(fail_window=fail, warn_window=window if fail > window else None)


def evaluate_freshness(
    instance: dg.DagsterInstance,
    asset_key: dg.AssetKey,
    settings: FreshnessSettings,
    *,
    as_of: datetime,
    batch: Any | None = None,
    partition: str | None = None,
    check: str = "freshness",
    contract: Contract | None = None,
) -> tuple[CheckOutcome, MaterializationVerdict | None]:
    """`check_freshness` with the time of the asset's last *passing* materialization read from the instance.

    `partition` restricts "last passing" to one partition; None looks at every partition. The freshness check
    itself is left out when judging whether a materialization passed (it judges time, not the batch).
    """
    last = last_passing_materialization(instance, asset_key, partition=partition, ignore_checks=(check,))
    outcome = check_freshness(batch, settings, as_of=as_of, last_passed_at=last.timestamp if last else None,
                              check=check, contract=contract)
    return outcome, last


def freshness_metadata(outcome: CheckOutcome, last: MaterializationVerdict | None) -> dict[str, dg.MetadataValue]:
    """The last passing materialization (when, run, partition) and every measured number as float metadata."""
    extra: dict[str, dg.MetadataValue] = {
        f"{FRESHNESS_SCORE_PREFIX}{name}": dg.MetadataValue.float(float(value))
        for name, value in outcome.metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    if last is not None:
        extra[LAST_PASSED_AT_KEY] = dg.MetadataValue.timestamp(last.timestamp)
        extra[LAST_PASSED_RUN_KEY] = dg.MetadataValue.text(last.run_id or "(runless)")
        if last.partition is not None:
            extra[LAST_PASSED_PARTITION_KEY] = dg.MetadataValue.text(last.partition)
    return extra


def _batch_settings(settings: FreshnessSettings) -> FreshnessSettings:
    """In a run, the batch's event times are judged; time since the last pass is the sensor's question.

    A run judging "time since the last passing materialization" would look at itself (or, in a backfill judged
    as of the partition's end, at a materialization from the future). So when the SLA names an event-time
    column, the in-run check judges the batch only; with a frequency alone, it judges the frequency at run time.
    """
    if settings.column is None or settings.frequency is None:
        return settings
    return dataclasses.replace(settings, frequency=None)


def build_freshness_checks(
    assets: Iterable[AssetLike],
    *,
    contract: ContractLike | None = None,
    settings: FreshnessSettings | None = None,
    check_name: str = "freshness",
    blocking: bool = False,
) -> list[dg.AssetChecksDefinition]:
    """One freshness check per asset, evaluated in runs on the stored batch, per partition.

    In a run the check judges the batch's event times (``freshness.data_age``: age of the newest row;
    ``freshness.late_rows``: share of rows later than the SLA's latency) as of the partition's end for a
    time-window partition (a backfill is held to its own day), else as of now. The same check is evaluated
    without any run by `build_freshness_sensor`, which judges the time since the asset's last *passing*
    materialization at wall-clock time; both record under this check's name, so the UI shows one history.

    Metadata: the outcome keys of `guardrails.dagster.metadata`, ``guardrails/freshness/<metric>``
    (``data_age_seconds``, ``max_lag_seconds``, ``late_share``, ``since_last_pass_seconds``...), and, when one is
    on record, ``guardrails/last_passed_at`` / ``_run_id`` / ``_partition``.

    Example:
        >>> import dagster as dg
        >>> @dg.asset
        ... def transactions(): ...
        >>> [c.check_key.name for c in build_freshness_checks(
        ...     [transactions], contract="expectations/transactions.odcs.yaml")]
        ['freshness']
    """
    loaded = load_optional_contract(contract)
    resolved = freshness_settings_for(loaded, settings)
    in_run = _batch_settings(resolved)
    return [_freshness_check(_key_of(item), _partitions_def_of(item), in_run, loaded, check_name, blocking)
            for item in assets]


def _freshness_check(key: dg.AssetKey, partitions_def: dg.PartitionsDefinition | None, settings: FreshnessSettings,
                     contract: Contract | None, check_name: str, blocking: bool) -> dg.AssetChecksDefinition:
    spec = dg.AssetCheckSpec(check_name, asset=key, blocking=blocking, description=_describe_sla(settings))

    def judge(context, batch):
        scope = AuditScope.from_context(context, key, partitions_def)
        # Event times are judged as of the partition's end; time since the last pass only makes sense now.
        as_of = (scope.as_of if settings.column is not None else None) or datetime.now(UTC)
        outcome, last = evaluate_freshness(context.instance, key, settings, as_of=as_of, batch=batch,
                                           partition=scope.single_partition_key, check=check_name, contract=contract)
        extra = {**freshness_metadata(outcome, last), EVALUATED_BY_KEY: dg.MetadataValue.text("run")}
        return check_result(outcome, spec, scope, extra)

    def judge_without_batch(context):
        return judge(context, None)

    fn = judge if settings.column is not None else judge_without_batch  # a frequency-only SLA reads no data
    return asset_check(fn, op_name=f"{key.to_python_identifier()}__{check_name}", asset=key, name=check_name,
                       description=spec.description, blocking=blocking, partitions_def=partitions_def)


def _describe_sla(settings: FreshnessSettings) -> str:
    parts = []
    if settings.max_age is not None:
        parts.append(f"newest {settings.column} at most {settings.max_age} old")
    if settings.latency is not None:
        parts.append(f"rows at most {settings.latency} late ({settings.late_share.describe()})")
    if settings.frequency is not None:
        parts.append(f"a passing materialization every {settings.frequency} (+{settings.grace} grace)")
    return "Freshness: " + "; ".join(parts)


def build_freshness_sensor(
    assets: Iterable[AssetLike],
    *,
    contract: ContractLike | None = None,
    settings: FreshnessSettings | None = None,
    check_name: str = "freshness",
    name: str = "guardrails_freshness_sensor",
    minimum_interval_seconds: int = 300,
    remediation_job: Any = None,
    clock: Callable[[], datetime] | None = None,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
) -> dg.SensorDefinition:
    """A sensor that judges freshness on a schedule, even when no run happens (stale data is when none comes).

    Every tick, for each asset, it judges the time since the last *passing* materialization (a quarantined
    batch, or a stored one whose checks failed at ERROR, does not count) against the SLA's frequency + grace,
    records the result as an evaluation of the asset's freshness check
    (``instance.report_runless_asset_event(AssetCheckEvaluation(...))``) on the partition it judged (see
    `judged_partition`), and, when stale and a
    `remediation_job` is given, requests one run of it (for the latest complete partition of a time-partitioned
    asset). The run key names the last passing materialization, so one stale episode asks for one run.

    Args:
        assets: the assets to watch (their freshness checks come from `build_freshness_checks`).
        contract / settings: the SLA; it needs a ``frequency`` to judge anything without a batch.
        check_name: the check the evaluations are recorded under (same default as `build_freshness_checks`).
        name: the sensor's name.
        minimum_interval_seconds: how often it evaluates.
        remediation_job: a job (or asset job) to request when an asset is stale; None only records.
        clock: returns the evaluation time (tests freeze it); default: now, UTC.
        default_status: STOPPED by default: turn it on where a stale asset should alert and remediate.
    """
    loaded = load_optional_contract(contract)
    resolved = freshness_settings_for(loaded, settings)
    if resolved.frequency is None:
        raise ValueError(f"{name}: the freshness SLA has no frequency, so there is nothing to judge without a run "
                         "(add slaProperties: [{property: frequency, value: 1, unit: d}])")
    sensor_settings = dataclasses.replace(resolved, column=None, latency=None, max_age=None)
    targets = [(_key_of(item), _partitions_def_of(item)) for item in assets]
    now = clock or (lambda: datetime.now(UTC))

    def evaluate(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        as_of = now()
        requests: list[dg.RunRequest] = []
        summary: list[str] = []
        for key, partitions_def in targets:
            outcome, last = evaluate_freshness(context.instance, key, sensor_settings, as_of=as_of,
                                               check=check_name, contract=loaded)
            partition, target = judged_partition(context.instance, key, partitions_def, outcome, last, as_of)
            recorded_on = partition
            if partition is not None and _has_runless_evaluation(context.instance, key, check_name, partition):
                recorded_on, target = None, None
            record_freshness(context.instance, key, check_name, outcome, last, evaluated_by=f"sensor {name}",
                             partition=recorded_on, target=target)
            summary.append(f"{key.to_user_string()}: {'fresh' if outcome.passed else 'stale'}")
            if not outcome.passed and remediation_job is not None:
                requests.append(_remediation(key, partition, last))
        if requests:
            return dg.SensorResult(run_requests=requests)
        return dg.SkipReason("; ".join(summary) or "no assets to watch")

    return dg.sensor(
        name=name, minimum_interval_seconds=minimum_interval_seconds, default_status=default_status,
        job=remediation_job,
        description=f"Records {check_name} of {', '.join(k.to_user_string() for k, _ in targets)} without a run "
                    f"({_describe_sla(sensor_settings)})" + ("; requests a remediation run when stale"
                                                               if remediation_job is not None else ""),
    )(evaluate)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class JudgedMaterialization:
    """The materialization a runless evaluation judged (its target, in Dagster's terms)."""

    storage_id: int
    run_id: str
    timestamp: float


def judged_partition(
    instance: dg.DagsterInstance, key: dg.AssetKey, partitions_def: dg.PartitionsDefinition | None,
    outcome: CheckOutcome, last: MaterializationVerdict | None, as_of: datetime,
) -> tuple[str | None, JudgedMaterialization | None]:
    """The partition a runless freshness verdict is about, and the materialization of it that was judged.

    Fresh: the partition of the last passing materialization (the one that makes the asset fresh). Stale: the
    newest partition due by `as_of` for a time-window partitioned asset (the one a remediation run lands), with
    its latest materialization if it has one (a stored batch that failed its checks). An unpartitioned asset, or
    a stale asset with other partitions, gets no partition.

    Why: for a partitioned check, Dagster's UI aggregates the check's status over its per-partition statuses
    and ignores an evaluation without a partition (or one that does not target the partition's latest
    materialization), while the check's latest execution shows it; without the partition, the check list said
    "Failed" (a quarantined day's check, planned in the failed run, never ran) while the latest execution said
    "Passed".

    Dagster keeps at most one runless evaluation per check and partition (its ``asset_check_executions`` table
    is unique on asset, check, run id and partition, and a runless event's run id is empty), so the sensor
    names a partition only the first time it judges it; later verdicts on that partition are recorded without
    one, as before (the partition's status then comes from its next run).
    """
    if partitions_def is None:
        return None, None
    if outcome.passed and last is not None:
        return last.partition, JudgedMaterialization(storage_id=last.storage_id, run_id=last.run_id,
                                                     timestamp=last.timestamp.timestamp())
    if not isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return None, None
    with dg.partition_loading_context(effective_dt=as_of, dynamic_partitions_store=instance):
        due = partitions_def.get_last_partition_key()
    if due is None:
        return None, None
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=[due]),
                                              limit=1).records
    if not records:
        return due, None
    [record] = records
    return due, JudgedMaterialization(storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp)


def record_freshness(instance: dg.DagsterInstance, key: dg.AssetKey, check_name: str, outcome: CheckOutcome,
                     last: MaterializationVerdict | None, *, evaluated_by: str, partition: str | None = None,
                     target: JudgedMaterialization | None = None) -> dg.AssetCheckEvaluation:
    """Record a runless freshness evaluation in the event log (what the UI and `read_check_history` show).

    `partition` and `target` (the materialization judged) place it where Dagster's per-partition check status
    counts it; see `judged_partition`.
    """
    severity = Severity.ERROR if outcome.status is CheckStatus.ERROR else outcome.severity
    evaluation = dg.AssetCheckEvaluation(
        asset_key=key,
        check_name=check_name,
        passed=outcome.passed,
        severity=md.severity_to_dagster(severity),
        metadata={**md.outcome_metadata(outcome), **freshness_metadata(outcome, last),
                  EVALUATED_BY_KEY: dg.MetadataValue.text(evaluated_by),
                  **({md.PARTITION_KEY: dg.MetadataValue.text(partition)} if partition is not None else {})},
        description=describe(outcome),
        partition=partition,
        target_materialization_data=evaluation_target(
            storage_id=target.storage_id, run_id=target.run_id, timestamp=target.timestamp
        ) if target is not None else None,
    )
    instance.report_runless_asset_event(evaluation)
    return evaluation


def _has_runless_evaluation(instance: dg.DagsterInstance, key: dg.AssetKey, check_name: str, partition: str) -> bool:
    """Whether this check already has a runless evaluation recorded on `partition` (Dagster stores one at most)."""
    records = check_execution_history(instance, dg.AssetCheckKey(key, check_name), limit=1_000, partition=partition)
    return any(not record.run_id for record in records)


def _remediation(key: dg.AssetKey, partition: str | None, last: MaterializationVerdict | None) -> dg.RunRequest:
    episode = str(last.storage_id) if last is not None else "never"
    return dg.RunRequest(
        run_key=f"guardrails-freshness:{key.to_user_string()}:{episode}:{partition or ''}",
        partition_key=partition,
        tags={"guardrails/remediation": "freshness", "guardrails/stale_asset": key.to_user_string()},
    )
