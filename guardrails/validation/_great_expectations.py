"""`validate_expectation_suite`: an existing Great Expectations 1.x suite run as-is, mapped to a CheckOutcome.

Teams that already own GX suites keep them: the suite runs through GX's own API (an ephemeral context, a pandas
data source, a whole-dataframe batch definition, ``batch.validate``), and each expectation result becomes a
`RuleResult` so Dagster, Airflow and the CLI show it like any contract rule:

- ``rule_id``: the expectation's ``meta.rule_id`` if set, else ``<column>.<expectation type>``;
- ``severity``: ``meta.severity`` (``error``/``warning``) if set, else GX's own field (``critical`` -> error,
  ``warning``/``info`` -> warning);
- ``failing_rows``: ``unexpected_count`` (0 for table-level expectations, which report ``observed`` instead);
- an expectation that raised (missing column, wrong type) is a rule with status ERROR, the outcome FAILED;
- the sample merges ``partial_unexpected_index_list`` across expectations: row index, `key_columns`, and the
  rules the row broke.

Suites may reference parameters (``{"$PARAMETER": "as_of"}``) for time-relative rules; `as_of` fills the
``as_of`` parameter. A suite that cannot be read is misconfiguration and raises `ContractError`; data GX
cannot validate is an outcome with status ERROR. GX is imported lazily: it costs seconds to import.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from polars.exceptions import PanicException
import pyarrow as pa

from guardrails._extras import require_extra
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity, judge
from guardrails._time import as_utc
from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.validation._sample import capped_sample, json_safe

if TYPE_CHECKING:
    import pandas as pd

_GX_SEVERITY = {"critical": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.WARNING}


def _load_suite(suite: str | os.PathLike[str] | Mapping[str, Any]) -> tuple[Any, str]:
    gx = require_extra("great_expectations", "gx", "validate_expectation_suite")
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    where = "<dict>"
    if not isinstance(suite, Mapping):
        where = str(suite)
        try:
            suite = json.loads(Path(suite).read_text())
        except (OSError, ValueError) as exc:
            raise ContractError(where, "(file)", expected="a Great Expectations suite JSON file", got=repr(exc)) from exc
    try:
        built = gx.ExpectationSuite(**dict(suite))
    except Exception as exc:  # GX raises a zoo of types for malformed suites; all are misconfiguration here
        raise ContractError(
            where, "expectations", expected="a valid Great Expectations 1.x suite", got=f"{type(exc).__name__}: {exc}"
        ) from exc
    # GX logs and drops an expectation it cannot build instead of raising; a dropped rule must not pass silently.
    for index, expectation in enumerate(suite.get("expectations") or ()):
        try:
            ExpectationConfiguration(**expectation).to_domain_obj()
        except Exception as exc:
            raise ContractError(
                where, f"expectations[{index}]", expected="a known expectation with valid arguments",
                got=f"{type(exc).__name__}: {exc}",
            ) from exc
    return built, where


def _to_pandas(data: Any) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pl.LazyFrame):
        data = data.collect()
    if isinstance(data, pl.DataFrame):
        return data.to_pandas()
    if isinstance(data, pa.Table):
        return data.to_pandas()
    if isinstance(data, str | os.PathLike):
        return pd.read_parquet(data)
    raise TypeError(f"expected a pyarrow.Table, polars or pandas DataFrame or Parquet path, got {type(data).__name__}")


def _columns(kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    if "column" in kwargs:
        return (kwargs["column"],)
    return tuple(kwargs.get("column_list") or kwargs.get("column_set") or ())


def _describe(kwargs: Mapping[str, Any]) -> str:
    shown = {k: v for k, v in kwargs.items() if k not in ("column", "column_list", "batch_id") and v is not None}
    return ", ".join(f"{k}={json.dumps(json_safe(v))}" for k, v in shown.items())[:200]


def _raised(info: Mapping[str, Any] | None) -> str | None:
    """The exception message if the expectation could not run (GX nests it per metric, or not), else None."""
    if not info:
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message", "")) if info["raised_exception"] else None
    for nested in info.values():
        if isinstance(nested, Mapping) and nested.get("raised_exception"):
            return str(nested.get("exception_message", ""))
    return None


def _rule_result(result: Any, rule_id: str) -> RuleResult:
    config = result.expectation_config
    meta = config.meta or {}
    severity = Severity(meta["severity"]) if "severity" in meta else _GX_SEVERITY[str(getattr(config.severity, "value", config.severity))]
    details = result.result or {}
    raised = _raised(result.exception_info)
    failing = int(details.get("unexpected_count") or 0)
    observed = details.get("observed_value")
    if raised is not None:
        status = CheckStatus.ERROR
        message = raised[:500]
    else:
        status = CheckStatus.PASSED if result.success else CheckStatus.FAILED
        message = f"observed {json.dumps(json_safe(observed))}" if observed is not None else ""
    return RuleResult(
        rule_id=rule_id,
        kind=config.type,
        columns=_columns(config.kwargs),
        severity=severity,
        status=status,
        failing_rows=failing,
        observed=float(observed) if isinstance(observed, int | float) and not isinstance(observed, bool) else float(failing),
        expected=_describe(config.kwargs),
        message=message,
    )


def validate_expectation_suite(
    suite: str | os.PathLike[str] | Mapping[str, Any],
    data: Any,
    *,
    name: str | None = None,
    as_of: datetime | None = None,
    parameters: Mapping[str, Any] | None = None,
    key_columns: Sequence[str] = (),
    sample_size: int = 20,
    result_format: str = "SUMMARY",
) -> CheckOutcome:
    """Run a GX 1.x expectation suite (a JSON file or its dict) over `data`; never raises for data problems.

    Args:
        suite: path to the suite JSON (as written by ``ExpectationSuite.to_json_dict()``) or that dict.
        data: a pandas, polars or Arrow frame, or a Parquet path (GX validates pandas).
        name: the outcome's check name (default: the suite's name).
        as_of: fills the suite parameter ``as_of`` (UTC) for time-relative expectations.
        parameters: further suite parameters (``{"$PARAMETER": ...}`` values).
        key_columns: columns shown with each sampled failing row (e.g. the primary key).
        sample_size: cap on sampled failing rows.
        result_format: GX result format; ``SUMMARY`` keeps memory flat, ``COMPLETE`` lists every failure.

    Raises:
        ContractError: the suite cannot be read or is not a valid GX suite.
    """
    pd = require_extra("pandas", "gx", "validate_expectation_suite")

    started, clock = datetime.now(UTC), time.perf_counter()
    gx_suite, where = _load_suite(suite)
    params = dict(parameters or {})
    if as_of is not None:
        params.setdefault("as_of", pd.Timestamp(as_utc(as_of)))

    def outcome(**fields: Any) -> CheckOutcome:
        return CheckOutcome(
            check=name or gx_suite.name,
            kind=CheckKind.GREAT_EXPECTATIONS,
            started_at=started,
            finished_at=datetime.now(UTC),
            contract_id=gx_suite.name,
            as_of=as_utc(as_of) if as_of is not None else None,
            **fields,
        )

    try:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        frame = _to_pandas(data)
        context = gx.get_context(mode="ephemeral")
        # GX draws "Calculating Metrics" progress bars on stderr by default; in a pipeline log or a CLI table
        # they are noise, so they are off for our ephemeral context.
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        batch = (
            context.data_sources.add_pandas("guardrails")
            .add_dataframe_asset("batch")
            .add_batch_definition_whole_dataframe("whole")
            .get_batch(batch_parameters={"dataframe": frame})
        )
        validation = batch.validate(gx_suite, result_format=result_format, expectation_parameters=params or None)
    except (Exception, PanicException) as exc:  # the suite could not run on this data: fail closed, keep the cause
        status, severity = judge((), could_run=False)
        return outcome(
            status=status,
            severity=severity,
            error=cap_text(f"{type(exc).__name__}: {exc}", MESSAGE_CHARS),
            message=f"the expectation suite {where} could not be run",
            metrics={"duration_seconds": round(time.perf_counter() - clock, 6)},
        )

    rules: list[RuleResult] = []
    seen: dict[str, int] = {}
    flagged: dict[int, list[str]] = {}
    for result in validation.results:
        config = result.expectation_config
        base = (config.meta or {}).get("rule_id") or f"{'.'.join(_columns(config.kwargs)) or 'table'}.{config.type}"
        seen[base] = seen.get(base, 0) + 1
        rule_id = base if seen[base] == 1 else f"{base}#{seen[base]}"
        rule = _rule_result(result, rule_id)
        rules.append(rule)
        if rule.status is CheckStatus.FAILED:
            for index in (result.result or {}).get("partial_unexpected_index_list") or ():
                flagged.setdefault(int(index), []).append(rule_id)

    failed = [r for r in rules if r.status is not CheckStatus.PASSED]
    shown = [c for c in dict.fromkeys([*key_columns, *(c for r in failed for c in r.columns)]) if c in frame.columns]
    sample, sample_metrics = capped_sample(
        {**{c: json_safe(_scalar(frame[c].iloc[index])) for c in shown}, "_rules": flagged[index], "_row": index}
        for index in sorted(flagged)[:sample_size]
        if 0 <= index < len(frame)
    )
    status, severity = judge(rules)
    return outcome(
        status=status,
        severity=severity,
        rows=len(frame),
        rules=tuple(rules),
        sample=sample,
        message=f"{len(failed)} of {len(rules)} expectations failed" if failed else f"all {len(rules)} expectations passed",
        metrics={
            "rows": len(frame),
            "evaluated_expectations": len(rules),
            "failed_expectations": len(failed),
            "duration_seconds": round(time.perf_counter() - clock, 6),
            **sample_metrics,
        },
    )


def _scalar(value: Any) -> Any:
    """A pandas/numpy scalar as a plain Python value (NaT/NA as None)."""
    import pandas as pd

    if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value
