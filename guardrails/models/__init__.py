"""The model guard: guardrail verdicts on registered model versions, guarded promotion, pinning the serving
alias back to the last good version, and an audited alias history, all kept in the model registry.

The core (`ModelGuard`, `check_signature`) reaches the registry only through the `ModelRegistry` protocol;
`MlflowModelRegistry` implements it over MLflow and is imported lazily, so importing this package does not
import MLflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guardrails.models._guard import ModelGuard, verdict_from_outcomes
from guardrails.models._registry import (
    ModelRegistry,
    RegisteredModelRecord,
    RegistryError,
    SignatureInput,
    VersionRecord,
)
from guardrails.models._signature import COMPATIBLE_TYPES, SIGNATURE_CHECK, check_signature
from guardrails.models._tags import HISTORY_PREFIX, PIN_TAG, VERDICT_TAG
from guardrails.models._types import (
    ActionResult,
    ActionStatus,
    AliasMove,
    ModelStatus,
    ModelVersionState,
    MoveAction,
    Pin,
    PinResult,
    PromoteResult,
    UnpinResult,
    Verdict,
    VerdictStatus,
)

if TYPE_CHECKING:
    from guardrails.models._mlflow import MlflowModelRegistry

__all__ = [
    "COMPATIBLE_TYPES",
    "HISTORY_PREFIX",
    "PIN_TAG",
    "SIGNATURE_CHECK",
    "VERDICT_TAG",
    "ActionResult",
    "ActionStatus",
    "AliasMove",
    "MlflowModelRegistry",
    "ModelGuard",
    "ModelRegistry",
    "ModelStatus",
    "ModelVersionState",
    "MoveAction",
    "Pin",
    "PinResult",
    "PromoteResult",
    "RegisteredModelRecord",
    "RegistryError",
    "SignatureInput",
    "UnpinResult",
    "Verdict",
    "VerdictStatus",
    "VersionRecord",
    "check_signature",
    "verdict_from_outcomes",
]


def __getattr__(name: str) -> Any:
    # MLflow takes seconds to import; load the adapter only when someone asks for it.
    if name == "MlflowModelRegistry":
        from guardrails.models._mlflow import MlflowModelRegistry

        return MlflowModelRegistry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
