"""What the drift, freshness and parity adapters share: contract loading, check results, metadata helpers."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from guardrails._text import fit_with_hash
from guardrails.contract.model import Contract
from guardrails.dagster._scope import AuditScope
from guardrails.dagster.asset import load_contract_for_definitions
from guardrails.dagster.checks import outcome_check_result
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus

ContractLike = Contract | str | os.PathLike[str]


def load_optional_contract(contract: ContractLike | None) -> Contract | None:
    """The contract a check is built from (loaded now, so a malformed file fails the code location load)."""
    return load_contract_for_definitions(contract) if contract is not None else None


def scores_metadata(metrics: Mapping[str, Any], prefix: str) -> dict[str, dg.MetadataValue]:
    """Every finite numeric metric as float metadata ``<prefix><name>`` (plotted over time by the UI); a name
    longer than `KEY_CHARS` (a column name from data) keeps a readable prefix and a hash, so keys stay distinct."""
    return {
        f"{prefix}{fit_with_hash(name, KEY_CHARS, separator='~')}": dg.MetadataValue.float(float(value))
        for name, value in metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    }


KEY_CHARS = 200


def optional_float(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def check_result(
    outcome: CheckOutcome, spec: dg.AssetCheckSpec, scope: AuditScope, extra: Mapping[str, dg.MetadataValue],
) -> dg.AssetCheckResult:
    """An outcome as the check's result, with the check's own extra metadata (tables, charts)."""
    return outcome_check_result(outcome, spec, scope, extra=extra)


def error_outcome(check: str, kind: CheckKind, contract: Contract | None, as_of: datetime | None,
                  error: str) -> CheckOutcome:
    """The check could not run (no input, unreadable reference): an ERROR outcome keeping the cause."""
    now = datetime.now(UTC)
    return CheckOutcome.could_not_run(
        check, kind, error, started_at=now, contract_id=getattr(contract, "id", None),
        contract_version=getattr(contract, "version", None), as_of=as_of or now,
        message=f"{check} could not be measured: {error}",
    )


def describe(outcome: CheckOutcome) -> str:
    if outcome.status is CheckStatus.ERROR:
        return f"check could not run: {outcome.error or outcome.message}"
    return outcome.message
