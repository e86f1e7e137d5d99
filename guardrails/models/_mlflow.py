"""`MlflowModelRegistry`: the `ModelRegistry` protocol over `mlflow.MlflowClient`, with bounded HTTP calls.

MLflow reads its HTTP limits from the environment on every request (``MLFLOW_HTTP_REQUEST_TIMEOUT``,
``MLFLOW_HTTP_REQUEST_MAX_RETRIES``, ``MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR``, ``MLFLOW_HTTP_REQUEST_BACKOFF_JITTER``;
see ``mlflow/utils/rest_utils.py::http_request``); the client has no per-instance setting. Its defaults (120 s
timeout, 7 retries with exponential backoff) can keep a call busy for minutes, which would hang a sensor. So
each call here runs inside `_bounded_http`, which sets our limits for the duration of the call and restores the
previous values when the last concurrent call leaves. Worst case for one call is about
``(max_retries + 1) * 2 * timeout_seconds`` (connect and read each get the timeout), e.g. 2 * 2 * 5 s = 20 s.

Writes are not retried (``write_retries=0``): MLflow's retry policy re-sends every method, POST included, after
a read timeout, so a retried set-alias can reach the server twice, the first copy late. A write that fails is
reported as failed-or-unknown instead, and the guard reads the alias back (`read_alias`) to say what happened.

The MLflow import (several seconds) happens when the first registry is built, not when `guardrails.models` is
imported.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from guardrails.models._lock import ModelLock, lock_for_store
from guardrails.models._registry import RegisteredModelRecord, RegistryError, SignatureInput, VersionRecord
from guardrails._extras import require_extra

T = TypeVar("T")

_env_changed = threading.Condition()
_env_users = 0
_env_waiting = 0
_env_active: dict[str, str] = {}
_env_saved: dict[str, str | None] = {}


@contextmanager
def _bounded_http(limits: Mapping[str, str]) -> Iterator[None]:
    """Apply MLflow HTTP limits while a guarded call runs; restore the caller's environment afterwards.

    The environment is process-wide, so calls with the same limits run together, and a call with different
    limits (a write, which is never retried; a registry with other timeouts) waits until those calls have
    left, at most one call's budget. Every call therefore runs under exactly its own limits. A waiting call
    also stops newcomers from joining, so a stream of reads cannot starve a write. Not reentrant: the client
    call inside must not make another guarded call.
    """
    global _env_users, _env_waiting
    wanted = dict(limits)
    with _env_changed:
        _env_waiting += 1
        try:
            while _env_users and (_env_active != wanted or _env_waiting > 1):
                _env_changed.wait()
        finally:
            _env_waiting -= 1
        if _env_users == 0:
            _env_saved.clear()
            for key, value in wanted.items():
                _env_saved[key] = os.environ.get(key)
                os.environ[key] = value
            _env_active.clear()
            _env_active.update(wanted)
        _env_users += 1
    try:
        yield
    finally:
        with _env_changed:
            _env_users -= 1
            if _env_users == 0:
                for key, previous in _env_saved.items():
                    if previous is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = previous
                _env_active.clear()
                _env_changed.notify_all()


def _quote(value: str) -> str:
    """A string literal for MLflow's search filter grammar."""
    quote = '"' if "'" in value else "'"
    if quote in value:
        raise ValueError(f"cannot search for {value!r}: it contains both quote characters")
    return f"{quote}{value}{quote}"


def _millis(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, tz=UTC) if value else None


class MlflowModelRegistry:
    """The model registry behind an MLflow tracking server (``http://...``) or a database (``sqlite:///...``).

    Args:
        tracking_uri: where the tracking server or store is; also the registry unless `registry_uri` is given.
        registry_uri: a separate model registry URI, if any.
        timeout_seconds: HTTP connect/read timeout per request (MLflow takes whole seconds, at least 1).
        max_retries: retries per read request after the first attempt, without backoff.
        write_retries: retries per write request (tags, alias). Default 0: a retried write may land twice, late.
        lock_url: where guards of this registry's models take their shared lock (`model_lock`): a
            ``postgresql://`` URL for an advisory lock (needed when guards run on several hosts against an
            HTTP server), or a directory for file locks. Default: ``$GUARDRAILS_MODEL_LOCK_URL``, else chosen
            from the registry URI (see `guardrails.models._lock.lock_for_store`).
        lock_directory: the directory for file locks when neither a lock URL nor a local store decides it.

    Every method raises `RegistryError` (with the MLflow or network exception chained) on any failure.

    Example:
        >>> registry = MlflowModelRegistry("sqlite:///mlflow.db", timeout_seconds=5)  # doctest: +SKIP
        >>> registry.get_model("fraud").aliases  # doctest: +SKIP
        {'champion': 3}
    """

    def __init__(
        self,
        tracking_uri: str,
        *,
        registry_uri: str | None = None,
        timeout_seconds: int = 5,
        max_retries: int = 1,
        write_retries: int = 0,
        lock_url: str | None = None,
        lock_directory: str | None = None,
    ) -> None:
        if timeout_seconds < 1:
            raise ValueError(f"timeout_seconds: expected a whole number of seconds >= 1, got {timeout_seconds!r}")
        if max_retries < 0:
            raise ValueError(f"max_retries: expected >= 0, got {max_retries!r}")
        if write_retries < 0:
            raise ValueError(f"write_retries: expected >= 0, got {write_retries!r}")
        MlflowClient = require_extra("mlflow", "mlflow", "guardrails.models.MlflowModelRegistry").MlflowClient

        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri or tracking_uri
        self.timeout_seconds = timeout_seconds
        self.max_retries = max_retries
        self.write_retries = write_retries
        self._limits = {
            "MLFLOW_HTTP_REQUEST_TIMEOUT": str(int(timeout_seconds)),
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(int(max_retries)),
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
            "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
            # A signature read downloads one small file; a progress bar on stderr would only clutter the CLI.
            "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        }
        self._client = MlflowClient(tracking_uri=tracking_uri, registry_uri=self.registry_uri)
        #: The lock every guard of this registry's models shares (`guardrails.models._lock.ModelLock`).
        self.model_lock: ModelLock = lock_for_store(
            self.registry_uri, lock_url=lock_url, lock_directory=lock_directory
        )

    @property
    def call_budget_seconds(self) -> float:
        """The longest one call can take before it raises: every attempt's connect and read timeout.

        A call that raised after a timeout may still be applied later (the request can sit in a proxy or the
        server's queue): MLflow has no way to cancel it. Read back with `read_alias` for a settle window of at
        least this long before reporting what moved.
        """
        return float((max(self.max_retries, self.write_retries) + 1) * 2 * self.timeout_seconds)

    def __repr__(self) -> str:
        return f"MlflowModelRegistry({self.tracking_uri!r}, timeout_seconds={self.timeout_seconds})"

    def _call(self, operation: str, model: str, fn: Callable[[], T], *, write: bool = False) -> T:
        # Fail closed: whatever goes wrong inside the client (HTTP errors, refused connections, timeouts,
        # database errors, a missing model) becomes one RegistryError that keeps the cause.
        limits = self._limits
        if write:
            limits = dict(limits, MLFLOW_HTTP_REQUEST_MAX_RETRIES=str(int(self.write_retries)))
        with _bounded_http(limits):
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - translated, never swallowed
                raise RegistryError(operation, model, f"{type(exc).__name__}: {exc}") from exc

    def get_model(self, name: str) -> RegisteredModelRecord:
        model = self._call("get_model", name, lambda: self._client.get_registered_model(name))
        return RegisteredModelRecord(
            name=model.name,
            tags=dict(model.tags or {}),
            aliases={alias: int(version) for alias, version in (model.aliases or {}).items()},
        )

    def search_versions(self, name: str, tag_equals: Mapping[str, str] | None = None) -> tuple[VersionRecord, ...]:
        clauses = [f"name = {_quote(name)}"]
        clauses += [f"tags.`{key}` = {_quote(value)}" for key, value in (tag_equals or {}).items()]
        filter_string = " and ".join(clauses)

        def search() -> list[Any]:
            found: list[Any] = []
            token = None
            while True:
                page = self._client.search_model_versions(filter_string, page_token=token)
                found.extend(page)
                token = page.token
                if not token:
                    return found

        versions = self._call("search_versions", name, search)
        return tuple(
            sorted(
                (
                    VersionRecord(
                        version=int(v.version),
                        status=str(v.status),
                        tags=dict(v.tags or {}),
                        run_id=v.run_id or None,
                        created_at=_millis(v.creation_timestamp),
                    )
                    for v in versions
                ),
                key=lambda v: v.version,
            )
        )

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        self._call("set_model_tag", name, lambda: self._client.set_registered_model_tag(name, key, value), write=True)

    def delete_model_tag(self, name: str, key: str) -> None:
        self._call("delete_model_tag", name, lambda: self._client.delete_registered_model_tag(name, key),
                   write=True)

    def set_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        self._call(
            "set_version_tag", name, lambda: self._client.set_model_version_tag(name, str(version), key, value),
            write=True,
        )

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self._call("set_alias", name, lambda: self._client.set_registered_model_alias(name, alias, str(version)),
                   write=True)

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove `alias` from `name` (a canary's challenger, once judged); removing an unset alias is not an error."""
        self._call("delete_alias", name, lambda: self._client.delete_registered_model_alias(name, alias), write=True)

    def read_alias(self, name: str, alias: str) -> int | None:
        """The version `alias` of `name` points at now, or None if the alias is not set (one small request).

        Cheaper than `get_model` (which carries every model tag, the alias history among them); meant for the
        settle read-back after a write that timed out.
        """

        def read() -> int | None:
            from mlflow.exceptions import MlflowException

            try:
                return int(self._client.get_model_version_by_alias(name, alias).version)
            except MlflowException as exc:
                if exc.error_code not in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST"):
                    raise
            # An unset alias and a missing model answer with error codes that differ between stores; the
            # model itself says which (and raises if it is the model that is missing).
            aliases = self._client.get_registered_model(name).aliases or {}
            return int(aliases[alias]) if alias in aliases else None

        return self._call("read_alias", name, read)

    def get_signature_inputs(self, name: str, version: int) -> tuple[SignatureInput, ...] | None:
        def read() -> tuple[SignatureInput, ...] | None:
            from mlflow.artifacts import download_artifacts
            from mlflow.models import Model

            source = self._client.get_model_version_download_uri(name, str(version))
            with tempfile.TemporaryDirectory() as tmp:
                path = download_artifacts(
                    artifact_uri=f"{source.rstrip('/')}/MLmodel", dst_path=tmp, tracking_uri=self.tracking_uri
                )
                signature = Model.load(path).signature
            if signature is None or signature.inputs is None or signature.inputs.is_tensor_spec():
                return None
            return tuple(
                SignatureInput(name=spec.name or "", type=_type_name(spec.type), required=bool(spec.required))
                for spec in signature.inputs.inputs
            )

        return self._call("get_signature_inputs", name, read)


def _type_name(mlflow_type: Any) -> str:
    """MLflow's name for a column type: the DataType name, or the nested type's kind."""
    from mlflow.types import DataType

    if isinstance(mlflow_type, DataType):
        return mlflow_type.name
    kind = type(mlflow_type).__name__.lower()
    return {"anytype": "any"}.get(kind, kind)
