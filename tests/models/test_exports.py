"""The model guard's public surface: a curated `__all__`, a core that imports neither MLflow nor Dagster, and
verdicts built from check outcomes."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import guardrails.models as models
from guardrails.models import VerdictStatus, verdict_from_outcomes
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity, Verdict

T = datetime(2026, 1, 1, tzinfo=UTC)


def test_every_exported_name_exists() -> None:
    """Each name in `__all__` resolves, and no private name is exported."""
    for name in models.__all__:
        assert getattr(models, name) is not None
        assert not name.startswith("_")


def test_the_lock_is_public() -> None:
    """Users can build the shared lock and catch its timeout from `guardrails.models` (a timeout is a registry
    error, so code that already catches `RegistryError` keeps working)."""
    assert {"ModelLock", "ModelLockTimeout", "lock_for"} <= set(models.__all__)
    assert issubclass(models.ModelLockTimeout, models.RegistryError)
    lock = models.lock_for(object())
    assert isinstance(lock, models.ModelLock)
    assert lock.description.startswith("file lock in ")


def test_core_imports_neither_mlflow_nor_dagster() -> None:
    """Importing the guard core loads neither the MLflow client nor Dagster (MLflow loads only on demand)."""
    code = (
        "import sys, guardrails.models, guardrails.cli.models\n"
        "print(sorted(m for m in ('mlflow', 'dagster') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def outcome(check: str, status: CheckStatus, message: str = "", error: str | None = None) -> CheckOutcome:
    return CheckOutcome(check=check, kind=CheckKind.MODEL, status=status, severity=Severity.ERROR,
                        started_at=T, finished_at=T, message=message, error=error)


def test_verdict_from_outcomes_passes_only_when_every_check_passed() -> None:
    """One failed or errored outcome fails the verdict and is named in the reason; no outcomes is no evidence."""
    good = outcome("evaluation", CheckStatus.PASSED)
    bad = outcome("drift", CheckStatus.FAILED, message="psi 0.31 on amount")
    broken = outcome("parity", CheckStatus.ERROR, error="online store unreachable")
    assert verdict_from_outcomes([good], run_id="r", at=T).status is VerdictStatus.PASSED
    verdict = verdict_from_outcomes([good, bad, broken], run_id="r", at=T)
    assert verdict.status is VerdictStatus.FAILED
    assert verdict.checks == ("evaluation", "drift", "parity")
    assert verdict.reason == "drift: failed (psi 0.31 on amount); parity: error (online store unreachable)"
    assert verdict_from_outcomes([], run_id=None, at=T).status is VerdictStatus.FAILED


def test_a_version_is_vouched_for_only_on_pass_verdicts() -> None:
    """An inconclusive or insufficient check fails the model verdict (no promotion) and is named as such."""
    good = outcome("evaluation", CheckStatus.PASSED)
    waiting = CheckOutcome(check="canary", kind=CheckKind.MODEL, status=CheckStatus.FAILED, severity=Severity.WARNING,
                           started_at=T, finished_at=T, message="412 of 2000 units", verdict=Verdict.INCONCLUSIVE)
    verdict = verdict_from_outcomes([good, waiting], run_id="r", at=T)
    assert verdict.status is VerdictStatus.FAILED and not verdict.passed  # the tag stays 'failed': MLflow-compatible
    assert verdict.reason == "canary: inconclusive (412 of 2000 units)"
