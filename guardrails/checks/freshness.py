"""Freshness: how old the newest data is, how many rows arrived late, and how long since the last good batch.

Pure arithmetic on an event-time column and explicit times, so Dagster, Airflow and the CLI get the same
answer. Three rules, each present only when its SLA is configured:

- ``freshness.data_age``: age of the newest row, ``as_of - max(event_time)``, must not exceed `max_age`
  (ODCS ``freshness``, else ``latency``).
- ``freshness.late_rows``: a row is late when its lag exceeds `latency`; the lag is
  ``arrival - event_time`` with an `arrival_column` (e.g. ``ingested_at``), else ``as_of - event_time``.
  The late share is judged with `late_share` (default warn > 1 %, error > 5 %).
- ``freshness.since_last_pass``: ``as_of - last_passed_at`` must not exceed `frequency` + `grace`.
  `last_passed_at` is the caller's time of the asset's last *passing* materialization, so a quarantined batch
  never makes an asset fresh; with no passing materialization on record the rule fails.

Dagster's `FreshnessPolicy` looks only at the time of the last materialization and ignores quality; this check
adds the data's own event times and requires the last materialization to have *passed*. Use both: the policy
for the UI's freshness status, this check (from a sensor, which runs even when no batch arrives) to block and
alert.

Naive datetimes are taken as UTC; a ``Date`` column counts as midnight UTC. Rows with a null event time are
counted (``null_event_times``) and left out; an empty batch, or one with no event time at all, is an ERROR
outcome (the check could not run, fail closed); a batch whose event-time column is missing or of another type
fails at severity error, its ``freshness.data_age`` rule in status ERROR (could not run on this batch), as
every check judges a lost column (`guardrails.outcome.judge`).

Configuration from ODCS ``slaProperties`` (units: s, m = minutes, h, d, w and their long forms)::

    slaProperties:
      - {property: latency, value: 4, unit: h, element: transactions.event_time}
      - {property: frequency, value: 1, unit: d}
    customProperties:
      - property: freshness
        value: {lateShare: {warn: 0.01, error: 0.05}, grace: {value: 30, unit: m}, arrivalColumn: ingested_at}

Example:
    >>> from datetime import datetime, timedelta
    >>> import polars as pl
    >>> as_of = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    >>> batch = pl.DataFrame({"event_time": [datetime(2026, 1, 2, 8, 0), datetime(2026, 1, 1, 20, 0)]})
    >>> settings = FreshnessSettings(column="event_time", latency=timedelta(hours=4), frequency=timedelta(days=1))
    >>> outcome = check_freshness(batch, settings, as_of=as_of, last_passed_at=datetime(2026, 1, 1, 9, 30))
    >>> for rule in outcome.rules:
    ...     print(rule.rule_id, rule.status.value, rule.observed)
    freshness.data_age passed 3600.0
    freshness.late_rows failed 0.5
    freshness.since_last_pass passed 84600.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from guardrails._time import as_utc
from guardrails.checks._settings import SettingsReader
from guardrails.checks.band import Band
from guardrails.contract.durations import parse_duration
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity, judge
from guardrails.validation._frames import to_polars

__all__ = ["FreshnessSettings", "check_freshness"]

@dataclass(frozen=True, slots=True, kw_only=True)
class FreshnessSettings:
    """What fresh means for one asset. At least one of `max_age`/`latency` (with `column`) or `frequency`."""

    column: str | None = None
    latency: timedelta | None = None
    max_age: timedelta | None = None
    frequency: timedelta | None = None
    grace: timedelta = timedelta(0)
    late_share: Band = Band(0.01, 0.05)
    arrival_column: str | None = None

    def __post_init__(self) -> None:
        if self.max_age is None and self.latency is not None:
            object.__setattr__(self, "max_age", self.latency)
        if self.max_age is None and self.frequency is None:
            raise ValueError("freshness needs a latency / freshness (with an event-time column) or a frequency")
        if self.max_age is not None and self.column is None:
            raise ValueError("a latency / freshness SLA needs the event-time column (ODCS `element`)")
        for name in ("latency", "max_age", "frequency", "grace"):
            value = getattr(self, name)
            if value is not None and value < timedelta(0):
                raise ValueError(f"{name} must not be negative, got {value}")

    @classmethod
    def from_sla(cls, sla: Any, custom: Mapping[str, Any] | None = None, *,
                 source: str = "<settings>") -> FreshnessSettings:
        """Parse ODCS ``slaProperties`` (a list of property objects, or a mapping keyed by property name) and
        the optional ``freshness`` custom property; raises `ContractError` naming the field when invalid."""
        entries: list[tuple[str, Mapping[str, Any]]] = []
        if isinstance(sla, Mapping):
            entries = [(f"slaProperties.{k}", {"property": k, **v} if isinstance(v, Mapping) else v)
                       for k, v in sla.items()]
        elif isinstance(sla, Sequence) and not isinstance(sla, str):
            entries = [(f"slaProperties[{i}]", v) for i, v in enumerate(sla)]
        elif sla is not None:
            raise ContractError(source, "slaProperties", expected="a list of SLA properties", got=repr(sla))
        found: dict[str, timedelta] = {}
        column: str | None = None
        for where, entry in entries:
            if not isinstance(entry, Mapping):
                raise ContractError(source, where, expected="an object with property/value/unit", got=repr(entry))
            prop = entry.get("property")
            if prop not in ("latency", "freshness", "frequency"):
                continue  # retention, availability, ...: not ours to check
            try:
                found[prop] = parse_duration(entry.get("value"), entry.get("unit"))
            except ValueError as exc:
                raise ContractError(source, f"{where}.value/unit", expected=f"a {prop} duration",
                                    got=str(exc)) from exc
            element = entry.get("element")
            if prop != "frequency" and element is not None:
                if not isinstance(element, str) or not element.strip():
                    raise ContractError(source, f"{where}.element", expected="table.column", got=repr(element))
                first = element.split(",")[0].strip()
                column = first.rsplit(".", 1)[-1] if "." in first else first
        reader = SettingsReader(source, "customProperties.freshness")
        extra = reader.mapping(custom or {}, "", {"lateShare", "grace", "arrivalColumn"})
        options: dict[str, Any] = {}
        if "lateShare" in extra:
            options["late_share"] = reader.band(extra["lateShare"], "lateShare") or Band()
        if "grace" in extra:
            grace = reader.mapping(extra["grace"], "grace", {"value", "unit"})
            try:
                options["grace"] = parse_duration(grace.get("value"), grace.get("unit"), allow_zero=True)
            except ValueError as exc:
                raise reader.fail("grace", "{value: <number>, unit: s|m|h|d|w}", grace) from exc
        if "arrivalColumn" in extra:
            if not isinstance(extra["arrivalColumn"], str):
                raise reader.fail("arrivalColumn", "a column name", extra["arrivalColumn"])
            options["arrival_column"] = extra["arrivalColumn"]
        try:
            return cls(column=column, latency=found.get("latency"), max_age=found.get("freshness"),
                       frequency=found.get("frequency"), **options)
        except ValueError as exc:
            raise ContractError(source, "slaProperties", expected="latency/freshness with an element, or frequency",
                                got=str(exc)) from exc

    @classmethod
    def from_contract(cls, contract: Any) -> FreshnessSettings:
        """The settings the loader parsed into `Contract.freshness` (from its SLA and ``freshness`` property).

        A contract built by hand rather than loaded is parsed here, from `Contract.sla` and `Contract.custom`.
        """
        if contract.freshness is not None:
            return contract.freshness  # type: ignore[no-any-return]
        return cls.from_sla(contract.sla, contract.custom.get("freshness"), source=contract.source or contract.id)


def _as_utc_us(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Microseconds since the epoch (UTC) of a Date / Datetime column."""
    if dtype == pl.Date:
        return expr.cast(pl.Datetime("us")).dt.epoch("us")
    return expr.dt.epoch("us")


def check_freshness(
    batch: Any | None,
    settings: FreshnessSettings,
    *,
    as_of: datetime | None = None,
    last_passed_at: datetime | None = None,
    check: str = "freshness",
    contract: Any = None,
) -> CheckOutcome:
    """Judge freshness at `as_of` (default now, UTC) from a batch's event times and the last passing run.

    Args:
        batch: The rows to measure (polars, pandas or Arrow), or None when no batch is at hand (a scheduled
            sensor): only ``freshness.since_last_pass`` is judged then.
        settings: The SLA (see `FreshnessSettings.from_contract`).
        as_of: The evaluation time.
        last_passed_at: When the asset last materialized with its checks passing (None: never).
        check: The check name recorded in the outcome.
        contract: If given, its id and version are recorded.

    Returns:
        A `CheckOutcome(kind=FRESHNESS)`; metrics ``data_age_seconds``, ``max_lag_seconds``, ``late_rows``,
        ``late_share``, ``null_event_times``, ``since_last_pass_seconds`` (those that could be measured).
    """
    started = datetime.now(UTC)
    now = as_utc(as_of) if as_of is not None else started
    rules: list[RuleResult] = []
    metrics: dict[str, Any] = {}
    error: str | None = None

    if batch is not None and settings.column is not None:
        frame = to_polars(batch)
        metrics["rows"] = frame.height
        error = _measure_rows(frame, settings, now, rules, metrics)

    if settings.frequency is not None:
        allowed = settings.frequency + settings.grace
        expected = f"<= {allowed} since the last passing materialization"
        if last_passed_at is None:
            rules.append(RuleResult(rule_id="freshness.since_last_pass", kind="freshness", columns=(),
                                    severity=Severity.ERROR, status=CheckStatus.FAILED, expected=expected,
                                    message="no passing materialization on record"))
        else:
            since = (now - as_utc(last_passed_at)).total_seconds()
            metrics["since_last_pass_seconds"] = since
            late = since > allowed.total_seconds()
            rules.append(RuleResult(rule_id="freshness.since_last_pass", kind="freshness", columns=(),
                                    severity=Severity.ERROR,
                                    status=CheckStatus.FAILED if late else CheckStatus.PASSED, observed=since,
                                    expected=expected,
                                    message=f"last passing materialization {timedelta(seconds=round(since))} ago"))

    nothing_to_judge = error is None and not rules
    if nothing_to_judge:
        error = "nothing to judge: no batch for the latency SLA and no frequency SLA"
    failed = [r for r in rules if r.status is not CheckStatus.PASSED]
    status, severity = judge(rules, could_run=error is None)
    if error is not None:
        message = error if nothing_to_judge else f"freshness could not be measured: {error}"
    elif failed:
        message = "; ".join(r.message if r.status is CheckStatus.ERROR else f"stale: {r.message}" for r in failed)
    else:
        message = "fresh"
    return CheckOutcome(check=check, kind=CheckKind.FRESHNESS, status=status, severity=severity,
                        started_at=started, finished_at=datetime.now(UTC), rows=metrics.get("rows"),
                        rules=tuple(rules), metrics=metrics, contract_id=getattr(contract, "id", None),
                        contract_version=getattr(contract, "version", None), as_of=now, message=message,
                        error=error)


def _measure_rows(frame: pl.DataFrame, settings: FreshnessSettings, now: datetime, rules: list[RuleResult],
                  metrics: dict[str, Any]) -> str | None:
    """Add the row-based rules and metrics; returns why they could not be measured, or None."""
    column = settings.column
    assert column is not None
    for name in (column, settings.arrival_column):
        problem = None
        if name is not None and name not in frame.columns:
            problem = f"event-time column {name!r} is missing from the batch"
        elif name is not None and frame.schema[name] != pl.Date and not isinstance(frame.schema[name], pl.Datetime):
            problem = f"column {name!r} has type {frame.schema[name]}, expected Datetime or Date"
        if problem is not None:
            # The batch lost (or retyped) a column the rule reads: the rule could not run on this batch, which
            # fails the check like any schema change (`guardrails.outcome.judge`), rather than erroring it.
            rules.append(RuleResult(rule_id="freshness.data_age", kind="freshness", columns=(name,),
                                    severity=Severity.ERROR, status=CheckStatus.ERROR,
                                    expected=f"<= {settings.max_age} old", message=problem))
            return None
    if frame.height == 0:
        return "empty batch: 0 rows, so event-time lag cannot be measured"
    now_us = (now - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    event = _as_utc_us(pl.col(column), frame.schema[column])
    arrival = (_as_utc_us(pl.col(settings.arrival_column), frame.schema[settings.arrival_column])
               if settings.arrival_column else pl.lit(now_us, dtype=pl.Int64))
    lag = arrival - event
    latency_us = settings.latency // timedelta(microseconds=1) if settings.latency is not None else None
    stats = frame.select(
        event.max().alias("newest"),
        lag.max().alias("max_lag"),
        event.null_count().alias("nulls"),
        (lag > latency_us).sum().alias("late") if latency_us is not None else pl.lit(0).alias("late"),
        lag.is_not_null().sum().alias("measured"),
    ).row(0, named=True)
    metrics["null_event_times"] = int(stats["nulls"])
    if stats["newest"] is None:
        return f"event-time column {column!r} has no value (all {frame.height} rows are null)"
    age = (now_us - stats["newest"]) / 1e6
    metrics["data_age_seconds"] = age
    if stats["max_lag"] is not None:
        metrics["max_lag_seconds"] = stats["max_lag"] / 1e6
    assert settings.max_age is not None
    stale = age > settings.max_age.total_seconds()
    rules.append(RuleResult(rule_id="freshness.data_age", kind="freshness", columns=(column,),
                            severity=Severity.ERROR, status=CheckStatus.FAILED if stale else CheckStatus.PASSED,
                            observed=age, expected=f"<= {settings.max_age} old",
                            message=f"newest {column} is {timedelta(seconds=round(age))} old"))
    if settings.latency is not None and stats["measured"]:
        late, measured = int(stats["late"]), int(stats["measured"])
        share = late / measured
        metrics.update(late_rows=late, late_share=share)
        level = settings.late_share.judge(share)
        rules.append(RuleResult(rule_id="freshness.late_rows", kind="freshness", columns=(column,),
                                severity=level or Severity.ERROR,
                                status=CheckStatus.FAILED if level else CheckStatus.PASSED, failing_rows=late,
                                observed=share, expected=f"late share: {settings.late_share.describe()}",
                                message=f"{late} of {measured} rows lag more than {settings.latency}"))
    return None
