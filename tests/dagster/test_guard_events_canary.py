"""How the model guard sensor classifies a canary check's evaluations, and how the check names the candidate."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from guardrails.checks.canary import load_canary_spec
from guardrails.dagster._guard_events import (
    CANARY_VERDICT_KEY,
    MODEL_VERSION_KEY,
    CheckRole,
    EvaluationClass,
    classify,
)
from guardrails.dagster.history import CheckHistoryEntry
from guardrails.dagster.ml._canary import candidate_version
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity, Verdict
from tests.checks.test_canary import EXAMPLE

AT = datetime(2026, 11, 3, tzinfo=UTC)


def canary_entry(verdict: Verdict, version: int | None) -> CheckHistoryEntry:
    status = {Verdict.PASS: CheckStatus.PASSED, Verdict.ERROR: CheckStatus.ERROR}.get(verdict, CheckStatus.FAILED)
    severity = Severity.WARNING if verdict is Verdict.INCONCLUSIVE else Severity.ERROR
    outcome = CheckOutcome(check="canary", kind=CheckKind.CANARY, status=status, severity=severity,
                           started_at=AT, finished_at=AT, verdict=verdict)
    metadata = {CANARY_VERDICT_KEY: verdict.value, **({MODEL_VERSION_KEY: version} if version else {})}
    return CheckHistoryEntry(asset_key="traffic", check_name="canary", run_id="r", status="FAILED",
                             run_status="SUCCESS", timestamp=AT, partition=None, passed=verdict is Verdict.PASS,
                             severity="ERROR", outcome=outcome, metadata=metadata, execution_id=1)


@pytest.mark.parametrize(("verdict", "version", "expected"), [
    (Verdict.FAIL, 4, EvaluationClass.CANARY),
    (Verdict.PASS, 4, EvaluationClass.CANARY),
    (Verdict.ERROR, 4, EvaluationClass.CANARY),
    (Verdict.INCONCLUSIVE, 4, EvaluationClass.IGNORED),
    (Verdict.PASS, None, EvaluationClass.IGNORED),
    (Verdict.ERROR, None, EvaluationClass.IGNORED),
    (Verdict.FAIL, None, EvaluationClass.NO_BATCH),
])
def test_canary_evaluations_are_classified_by_verdict_and_version(verdict: Verdict, version: int | None,
                                                                 expected: EvaluationClass) -> None:
    """A decided canary naming its candidate is judged; no verdict is ignored; a fail naming no version holds."""
    item = classify(canary_entry(verdict, version), CheckRole.MODEL)
    assert item.kind is expected
    assert item.version == (version if expected is EvaluationClass.CANARY else None)


def test_the_candidate_version_is_named_only_when_unambiguous() -> None:
    """One version among the candidate's units names it; several, none or a missing column name nothing."""
    spec = load_canary_spec(EXAMPLE)
    log = pl.DataFrame({"variant": ["control", "candidate", "candidate"], "model_version": [3, 5, 5]})
    assert candidate_version(log, spec, "model_version") == 5
    assert candidate_version(log.to_pandas(), spec, "model_version") == 5
    assert candidate_version(log.to_arrow(), spec, "model_version") == 5
    mixed = log.with_columns(model_version=pl.Series([3, 5, 6]))
    assert candidate_version(mixed, spec, "model_version") is None
    assert candidate_version(log, spec, "version") is None
