"""The model guard in Airflow: the registry a task reaches, the outcome record as the core's `GuardEvent`, and the
hold a guarded task places (or releases) on the models its batch feeds.

Nothing here decides what a failure means for a model: that is `guardrails.models._events` (`classify`, `act`),
the rule the Dagster sensor uses too. This module translates Airflow's facts:

- an outcome record (`guardrails.airflow._publish.outcome_record`) becomes a `GuardEvent` of the check
  ``<dag_id>.<task_id>:contract``: nothing published is an ERROR-severity failure on no stored batch (a quarantined
  batch: **hold**), a published batch is stored and judged at WARNING severity (a pass **releases** that
  partition's hold; warnings, or rows quarantined while the rest was published, change nothing), exactly as the
  Dagster guarded asset records its check;
- a guarded task that names ``model=`` acts on each of those models: the hold is placed before the task fails,
  and a pass releases it once every failing partition has a later pass (`ModelGuard.release_hold`);
- the registry is MLflow's, from the task's arguments or ``$MLFLOW_TRACKING_URI`` / ``$MLFLOW_REGISTRY_URI`` read
  when the task runs. When it cannot be reached nothing moves and the task says so in one line.

Example (in a DAG file)::

    @task.guarded(contract=..., target=..., model="fraud_detector")   # holds fraud_detector on a quarantine
    def transaction_features(published): ...
"""

from __future__ import annotations

import os
from urllib.parse import quote
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowException

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.airflow._scope import TaskScope
from guardrails.models import ActionStatus, BatchRef, Lineage, ModelGuard, RegistryError
from guardrails.models._batches import file_sha256
from guardrails.models._events import (
    CANARY_VERDICT_KEY,
    CHALLENGER_ALIAS_KEY,
    MODEL_VERSION_KEY,
    CheckRole,
    EvaluationClass,
    GuardAction,
    GuardEvent,
    act,
    classify,
)
from guardrails.outcome import CheckOutcome, Severity

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
REGISTRY_URI_ENV = "MLFLOW_REGISTRY_URI"
MODEL_GUARD_KEY = "model_guard"
"""The outcome record's key listing what the guard did to each model the batch feeds."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistrySettings:
    """Which MLflow registry a task's model guard acts on, and how patiently (fixed when the DAG file is parsed).

    Attributes:
        tracking_uri: the MLflow tracking URI; None reads ``$MLFLOW_TRACKING_URI`` when the task runs.
        registry_uri: a separate registry URI. None: the tracking URI when that was given here, else
            ``$MLFLOW_REGISTRY_URI`` (if set) beside ``$MLFLOW_TRACKING_URI`` when the task runs. An explicit tracking
            URI never pairs with a registry from the environment: `mlflow.set_registry_uri` exports one, so a task
            that ran earlier in the same process would otherwise redirect this task's holds and promotions.
        alias: the serving alias the guard moves.
        timeout_seconds / max_retries: bound every registry request, so a dead server cannot hang a task.
        lock_url: where guards of one model take their shared lock (see `guardrails.models._lock`).
    """

    tracking_uri: str | None = None
    registry_uri: str | None = None
    alias: str = "champion"
    timeout_seconds: int = 5
    max_retries: int = 1
    lock_url: str | None = None

    def __post_init__(self) -> None:
        if not self.alias or self.alias.lower() == "latest":
            raise ValueError(f"alias: expected a serving alias such as 'champion', got {self.alias!r}")
        if self.timeout_seconds < 1:
            raise ValueError(f"timeout_seconds: expected >= 1, got {self.timeout_seconds!r}")

    @classmethod
    def of(cls, model_registry: RegistrySettings | str | None) -> RegistrySettings:
        """A task's ``model_registry=`` argument as settings: given ones, a tracking URI, or the defaults (None)."""
        if isinstance(model_registry, str):
            return cls(tracking_uri=model_registry)
        return model_registry or cls()

    def _uris(self, model: str) -> tuple[str, str | None]:
        if self.tracking_uri:
            return self.tracking_uri, self.registry_uri or self.tracking_uri
        uri = os.environ.get(TRACKING_URI_ENV)
        if not uri:
            raise AirflowException(f"model guard of {model!r}: no MLflow tracking URI (pass tracking_uri= or set "
                                   f"${TRACKING_URI_ENV}); nothing moved")
        return uri, self.registry_uri or os.environ.get(REGISTRY_URI_ENV)

    def guard(self, model: str, *, actor: str) -> ModelGuard:
        """A `ModelGuard` over `model` (raises `AirflowException` when no tracking URI is configured)."""
        from guardrails.models import MlflowModelRegistry

        uri, registry_uri = self._uris(model)
        registry = MlflowModelRegistry(uri, registry_uri=registry_uri, timeout_seconds=self.timeout_seconds,
                                       max_retries=self.max_retries, lock_url=self.lock_url)
        return ModelGuard(registry, model, alias=self.alias, actor=actor)

    def registered(self, model: str, *, create: bool = False) -> bool:
        """Whether `model` is registered; with `create`, register it (no versions) when it is not, and say True.

        A quarantine before the model's first version still holds it: the hold waits on the registered name, so the
        first version trained later is not promoted past it. Raises `RegistryError` when the registry cannot be
        reached.
        """
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        uri, registry_uri = self._uris(model)
        client = MlflowClient(tracking_uri=uri, registry_uri=registry_uri or uri)
        try:
            with _bounded(self.timeout_seconds, self.max_retries):
                client.get_registered_model(model)
                return True
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise RegistryError("get_model", model, f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - connection errors surface as many types; all mean "unreachable"
            raise RegistryError("get_model", model, f"{type(exc).__name__}: {exc}") from exc
        if not create:
            return False
        try:
            with _bounded(self.timeout_seconds, self.max_retries):
                client.create_registered_model(model)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":  # another task registered it meanwhile: fine
                raise RegistryError("create_model", model, f"{type(exc).__name__}: {exc}") from exc
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelWatch:
    """The models a guarded task's batch feeds (``model=``), and their registry."""

    models: tuple[str, ...]
    registry: RegistrySettings = field(default_factory=RegistrySettings)

    @classmethod
    def parse(cls, model: str | Sequence[str] | None, registry: RegistrySettings | str | None) -> ModelWatch | None:
        """None for no model; a bare name or a list of names otherwise (checked now, at parse time)."""
        if model is None:
            return None
        names = (model,) if isinstance(model, str) else tuple(model)
        if not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"model: expected a registered model name or a list of them, got {model!r}")
        return cls(models=tuple(dict.fromkeys(names)), registry=RegistrySettings.of(registry))


def outlets_with(asset: Asset, kwargs: dict[str, Any]) -> list[Any]:
    """The task's ``outlets`` (popped from its `kwargs`) with `asset` added when missing: the asset whose events
    carry the task's record."""
    outlets = list(kwargs.pop("outlets", None) or [])
    if asset not in outlets:
        outlets.append(asset)
    return outlets


def model_asset(model: str) -> Asset:
    """The Airflow asset a gate's verdicts are recorded on: ``x-mlflow-model://<model>`` (named ``model:<model>``;
    the name is percent-encoded in the URI).

    Example:
        >>> model_asset("fraud detector").uri
        'x-mlflow-model://fraud%20detector'
    """
    return Asset(name=f"model:{model}", uri=f"x-mlflow-model://{quote(model, safe='')}")


def check_label(scope: TaskScope) -> str:
    """The check a guarded task's hold is keyed by: ``<dag_id>.<task_id>:contract``."""
    return f"{scope.dag_id}.{scope.task_id}:contract"


def guard_event(record: Mapping[str, Any], outcome: CheckOutcome | None, *, check: str,
                at: datetime | None = None) -> GuardEvent:
    """The core's view of a guarded task's outcome record (see the module docstring for the mapping).

    `at` is when the batch was judged (default: the outcome's finish time, else now).
    """
    published = bool(record.get("published", record.get("target") is not None))
    rows = record.get("rows_quarantined")
    counted = isinstance(rows, int) and not isinstance(rows, bool) and rows > 0
    when = at or (outcome.finished_at if outcome is not None else None) or datetime.now(UTC)
    return GuardEvent(
        check=check,
        passed=bool(record.get("passed")),
        at=when,
        severity=Severity.WARNING if published else Severity.ERROR,
        partition=record.get("partition"),
        run_id=record.get("run_id") or None,
        outcome=outcome,
        quarantined=counted or bool(record.get("quarantined")),
        stored=published,
        batch_id=record.get("batch_id"),
        description=record.get("reason"),
        metadata=record,
    )


def model_event(outcome: CheckOutcome, *, check: str, version: int, run_id: str | None,
                challenger: str | None = None) -> GuardEvent:
    """The core's view of a gate's judgement of model `version`: its own check (evaluation, fairness) or, with
    `challenger`, its canary (the verdict and the alias it served under in the metadata, as Dagster records them)."""
    metadata: dict[str, Any] = {MODEL_VERSION_KEY: version}
    if challenger is not None:
        metadata |= {CHALLENGER_ALIAS_KEY: challenger, CANARY_VERDICT_KEY: outcome.verdict.value}
    return GuardEvent(check=check, passed=outcome.passed, severity=outcome.severity, at=outcome.finished_at,
                      run_id=run_id, outcome=outcome, description=outcome.message, metadata=metadata)


def guard_models(watch: ModelWatch | None, record: dict[str, Any], outcome: CheckOutcome | None,
                 scope: TaskScope) -> list[str]:
    """Act on every watched model for this outcome; list what the guard did under ``record["model_guard"]``.

    Returns the one-line errors (empty when every model was acted on, or nothing applied). Never raises for
    registry trouble: the caller decides (a quarantined batch fails its task anyway; a published one raises).
    """
    if watch is None:
        return []
    item = classify(guard_event(record, outcome, check=check_label(scope)), CheckRole.DATA)
    done: list[dict[str, Any]] = []
    errors: list[str] = []
    holds = item.kind in (EvaluationClass.QUARANTINED, EvaluationClass.NO_BATCH)
    for model in watch.models:
        try:
            if item.kind is not EvaluationClass.IGNORED and not watch.registry.registered(model, create=holds):
                done.append({"model": model, "action": "none", "status": "no_op",
                             "message": f"{model!r} is not registered yet: no hold to release"})
                continue
            guard = watch.registry.guard(model, actor=f"airflow:{scope.dag_id}.{scope.task_id}")
            action: GuardAction | None = act(guard, item)
        except (RegistryError, AirflowException) as exc:
            errors.append(f"{model!r}: registry unreachable ({one_line(str(exc))}); nothing moved")
            done.append({"model": model, "action": item.kind.value, "status": "error", "message": errors[-1]})
            continue
        if action is None:
            done.append({"model": model, "action": "none", "status": "no_op", "message": item.why})
            continue
        result = action.result
        done.append({"model": model, "action": action.kind, "status": result.status.value,
                     "message": cap_text(result.message, MESSAGE_CHARS)})
        if result.status is ActionStatus.ERROR:
            errors.append(f"{model!r}: registry unreachable, {action.kind} did not complete "
                          f"({one_line(result.error or '')}): {one_line(result.message)}")
    record[MODEL_GUARD_KEY] = done
    return errors


@contextmanager
def _bounded(timeout_seconds: int, max_retries: int) -> Iterator[None]:
    """MLflow's HTTP client bounded as `MlflowModelRegistry` bounds it (one dead server cannot hang a task)."""
    from guardrails.models._mlflow import _bounded_http

    with _bounded_http({"MLFLOW_HTTP_REQUEST_TIMEOUT": str(timeout_seconds),
                        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(max_retries),
                        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0", "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0"}):
        yield


def one_line(text: str, limit: int = 300) -> str:
    """`text` on one line (whitespace runs collapsed) and capped: a task's failure reason, from a registry error."""
    return cap_text(" ".join(text.split()), limit)


def batch_ref(record: Mapping[str, Any]) -> BatchRef:
    """The published batch an outcome record describes, as a model version's lineage names it.

    ``asset`` is the Airflow asset's name, ``batch_id`` the guarded batch's id, ``content_hash`` the SHA-256 of the
    published Parquet file when it is a local file, plus the contract and the run (the Dagster path records the
    same fields, so the same tags).

    Example:
        >>> batch_ref({"asset": "transaction_features", "partition": "2026-11-03", "batch_id": "f.2026-11-03",
        ...            "contract_id": "features", "contract_version": "1.0.0", "run_id": "r1"}).label
        'transaction_features[2026-11-03]#f.2026-11-03'
    """
    target = record.get("target")
    path = target[len("file://"):] if isinstance(target, str) and target.startswith("file://") else target
    asset = record.get("asset") or record.get("contract_id")
    if not asset:
        raise ValueError("record: expected an outcome record of a guarded task (with 'asset'), got one without it")
    return BatchRef(
        asset=str(asset),
        partition=record.get("partition"),
        batch_id=record.get("batch_id"),
        content_hash=file_sha256(path) if isinstance(path, str) else None,
        contract_id=record.get("contract_id"),
        contract_version=record.get("contract_version"),
        run_id=record.get("run_id"),
    )


def lineage_of(trained_on: Iterable[Mapping[str, Any] | BatchRef],
               evaluated_on: Iterable[Mapping[str, Any] | BatchRef] | None = None) -> Lineage:
    """A `Lineage` from the outcome records (XCom) of the guarded tasks a training task consumed; `evaluated_on`
    defaults to the same batches (the example evaluates on the latest share of the day it trains on)."""
    trained = tuple(b if isinstance(b, BatchRef) else batch_ref(b) for b in trained_on)
    evaluated = trained if evaluated_on is None else tuple(
        b if isinstance(b, BatchRef) else batch_ref(b) for b in evaluated_on)
    return Lineage(trained_on=trained, evaluated_on=evaluated)
