"""The few registry operations the model guard needs, as a protocol an MLflow-backed class implements.

The guard never imports the MLflow client: it talks to a `ModelRegistry`, and every failure to reach or use the
registry arrives as a `RegistryError` carrying the operation and the cause, which the guard turns into an
`ActionStatus.ERROR` result (fail closed: nothing further moves).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from guardrails.errors import GuardrailsError


class RegistryError(GuardrailsError):
    """The registry could not be reached, or refused or failed an operation.

    Attributes:
        operation: what the guard was doing, e.g. ``"set_alias"``.
        model: the registered model name.
        cause: the underlying error's text (the exception itself is chained as ``__cause__``).
    """

    def __init__(self, operation: str, model: str, cause: str) -> None:
        self.operation = operation
        self.model = model
        self.cause = cause
        super().__init__(f"model registry {operation} for {model!r} failed: {cause}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisteredModelRecord:
    """A registered model as stored: its tags and its aliases (alias -> version)."""

    name: str
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionRecord:
    """A model version as stored: number, registry status (``READY`` when usable), tags, source run."""

    version: int
    status: str
    tags: Mapping[str, str] = field(default_factory=dict)
    run_id: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureInput:
    """One named input of a model's logged signature, e.g. ``SignatureInput(name="amount", type="double")``.

    `type` is MLflow's data type name (``string``, ``long``, ``integer``, ``double``, ``float``, ``boolean``,
    ``datetime``, ``binary``) or ``array``/``object``/``map``/``any`` for the nested types.
    """

    name: str
    type: str
    required: bool = True


@runtime_checkable
class ModelRegistry(Protocol):
    """The registry as the guard needs it. Every method raises `RegistryError` when it cannot complete."""

    def get_model(self, name: str) -> RegisteredModelRecord:
        """The registered model with its tags and aliases."""
        ...

    def search_versions(self, name: str, tag_equals: Mapping[str, str] | None = None) -> tuple[VersionRecord, ...]:
        """The model's versions, optionally only those whose tags equal the given values (server-side search)."""
        ...

    def set_model_tag(self, name: str, key: str, value: str) -> None: ...

    def delete_model_tag(self, name: str, key: str) -> None: ...

    def set_version_tag(self, name: str, version: int, key: str, value: str) -> None: ...

    def set_alias(self, name: str, alias: str, version: int) -> None: ...

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove the alias (a candidate's serving alias when its canary ends)."""
        ...

    def get_signature_inputs(self, name: str, version: int) -> tuple[SignatureInput, ...] | None:
        """The named inputs of the version's logged signature, or None if it logged no (column) signature."""
        ...
