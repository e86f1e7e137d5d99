"""The model guard: guardrail verdicts and lineage on registered model versions, holds, guarded promotion,
pinning, a reconciler that keeps the serving alias off failed or unclean versions, and an audited alias history,
all kept in the model registry.

The core (`ModelGuard`, `check_signature`) reaches the registry only through the `ModelRegistry` protocol;
`MlflowModelRegistry` implements it over MLflow and is imported lazily, so importing this package does not
import MLflow.
Guards of one model exclude each other through a shared lock (`ModelLock`, `lock_for`); an action that waited
longer than its timeout ends ERROR, and `record_verdict`/`record_lineage` raise `ModelLockTimeout`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guardrails.models._canary import CANARY_CHECK, DEFAULT_CHALLENGER, CanaryJudgement
from guardrails.models._events import (
    MODEL_VERSION_KEY,
    CheckRole,
    Classified,
    EvaluationClass,
    GuardAction,
    GuardEvent,
    act,
    classify,
)
from guardrails.models._guard import Lock, ModelGuard, verdict_from_outcomes
from guardrails.models._lock import ModelLock, ModelLockTimeout, lock_for
from guardrails.models._registry import (
    ModelRegistry,
    RegisteredModelRecord,
    RegistryError,
    SignatureInput,
    VersionRecord,
)
from guardrails.models._signature import COMPATIBLE_TYPES, SIGNATURE_CHECK, check_signature
from guardrails.models._tags import (
    CHECK_TAG_PREFIX,
    CONDEMNED_PREFIX,
    HISTORY_PREFIX,
    HOLD_TAG,
    LINEAGE_TAG,
    PIN_TAG,
    REQUIRES_TAG,
    SAW_PREFIX,
    VERDICT_TAG,
    check_tag,
    saw_tag,
)
from guardrails.models._types import (
    ActionResult,
    ActionStatus,
    AliasMove,
    BatchRef,
    CanaryResult,
    ChallengerResult,
    Condemnation,
    CondemnResult,
    FailResult,
    Hold,
    HoldFailure,
    HoldResult,
    Lineage,
    ModelStatus,
    ModelVersionState,
    MoveAction,
    Pin,
    PinResult,
    PromoteResult,
    ReconcileResult,
    UnpinResult,
    Verdict,
    VerdictStatus,
)

if TYPE_CHECKING:
    from guardrails.models._mlflow import MlflowModelRegistry

__all__ = [
    "MODEL_VERSION_KEY",
    "CheckRole",
    "Classified",
    "EvaluationClass",
    "GuardAction",
    "GuardEvent",
    "act",
    "classify",
    "CANARY_CHECK",
    "CHECK_TAG_PREFIX",
    "DEFAULT_CHALLENGER",
    "REQUIRES_TAG",
    "CanaryJudgement",
    "CanaryResult",
    "ChallengerResult",
    "check_tag",
    "COMPATIBLE_TYPES",
    "CONDEMNED_PREFIX",
    "HISTORY_PREFIX",
    "HOLD_TAG",
    "LINEAGE_TAG",
    "PIN_TAG",
    "SAW_PREFIX",
    "SIGNATURE_CHECK",
    "VERDICT_TAG",
    "ActionResult",
    "ActionStatus",
    "AliasMove",
    "BatchRef",
    "CondemnResult",
    "Condemnation",
    "FailResult",
    "Hold",
    "HoldFailure",
    "HoldResult",
    "Lineage",
    "Lock",
    "MlflowModelRegistry",
    "ModelGuard",
    "ModelLock",
    "ModelLockTimeout",
    "ModelRegistry",
    "ModelStatus",
    "ModelVersionState",
    "MoveAction",
    "Pin",
    "PinResult",
    "PromoteResult",
    "ReconcileResult",
    "RegisteredModelRecord",
    "RegistryError",
    "SignatureInput",
    "UnpinResult",
    "Verdict",
    "VerdictStatus",
    "VersionRecord",
    "check_signature",
    "lock_for",
    "saw_tag",
    "verdict_from_outcomes",
]


def __getattr__(name: str) -> Any:
    # MLflow takes seconds to import; load the adapter only when someone asks for it.
    if name == "MlflowModelRegistry":
        from guardrails.models._mlflow import MlflowModelRegistry

        return MlflowModelRegistry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
