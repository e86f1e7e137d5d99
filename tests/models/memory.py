"""`MemoryRegistry`: the `ModelRegistry` protocol over plain dicts, for property tests that need thousands of
histories (a real store costs tens of milliseconds per call). It implements our protocol, as httpx's
`MockTransport` does, and patches nothing; every behaviour it shares with MLflow (tag search by equality, an
alias pointing at one version, set-alias unconditional) is also exercised against the real store."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field

from guardrails.models import RegisteredModelRecord, RegistryError, SignatureInput, VersionRecord


@dataclass
class _Model:
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    versions: dict[int, dict[str, str]] = field(default_factory=dict)


class MemoryRegistry:
    """An in-memory model registry: models with tags and aliases, versions with tags, all READY."""

    def __init__(self) -> None:
        self.models: dict[str, _Model] = {}
        # Guards over this registry share nothing across processes, so a no-op lock is the honest one.
        self.model_lock = _NoLock()
        self.call_budget_seconds = 0.0

    def create(self, name: str, versions: int) -> None:
        self.models[name] = _Model(versions={n: {} for n in range(1, versions + 1)})

    def add_version(self, name: str) -> int:
        model = self._model(name)
        number = max(model.versions, default=0) + 1
        model.versions[number] = {}
        return number

    def _model(self, name: str) -> _Model:
        try:
            return self.models[name]
        except KeyError:
            raise RegistryError("get_model", name, "RESOURCE_DOES_NOT_EXIST") from None

    def get_model(self, name: str) -> RegisteredModelRecord:
        model = self._model(name)
        return RegisteredModelRecord(name=name, tags=dict(model.tags), aliases=dict(model.aliases))

    def search_versions(self, name: str, tag_equals: Mapping[str, str] | None = None) -> tuple[VersionRecord, ...]:
        model = self._model(name)
        wanted = dict(tag_equals or {})
        return tuple(
            VersionRecord(version=n, status="READY", tags=dict(tags))
            for n, tags in sorted(model.versions.items())
            if all(tags.get(k) == v for k, v in wanted.items())
        )

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        if len(value) > 5000:
            raise RegistryError("set_model_tag", name, f"value of {len(value)} chars exceeds 5000")
        self._model(name).tags[key] = value

    def delete_model_tag(self, name: str, key: str) -> None:
        self._model(name).tags.pop(key, None)

    def set_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        model = self._model(name)
        if version not in model.versions:
            raise RegistryError("set_version_tag", name, f"no version {version}")
        if len(key) > 250:
            raise RegistryError("set_version_tag", name, f"key of {len(key)} chars exceeds 250")
        model.versions[version][key] = value

    def set_alias(self, name: str, alias: str, version: int) -> None:
        model = self._model(name)
        if version not in model.versions:
            raise RegistryError("set_alias", name, f"no version {version}")
        model.aliases[alias] = version

    def delete_alias(self, name: str, alias: str) -> None:
        self._model(name).aliases.pop(alias, None)

    def get_signature_inputs(self, name: str, version: int) -> tuple[SignatureInput, ...] | None:
        return None


class _NoLock:
    description = "no lock (in-memory registry)"

    def acquire(self, model_name: str, timeout: float = 30.0) -> nullcontext[None]:
        return nullcontext()
