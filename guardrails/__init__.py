"""pipeline-guardrails: keep bad data and bad models out of production ML pipelines.

The package root is the orchestrator-agnostic core; `guardrails.dagster` and `guardrails.airflow` are adapters.
"""

__version__ = "0.1.0"  # the one place: pyproject.toml reads it, `guardrails --version` prints it

from guardrails.errors import ContractError, GuardrailsError
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity

__all__ = [
    "CheckKind",
    "CheckOutcome",
    "CheckStatus",
    "ContractError",
    "GuardrailsError",
    "RuleResult",
    "Severity",
    "__version__",
]
