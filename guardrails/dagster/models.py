"""The model guard in Dagster: a registry resource, and a sensor that acts on the model when a check fails.

Dagster has no sensor that reacts to check evaluations, so `build_model_guard_sensor` polls the history of the
checks it watches (`read_check_history_after`, over the one wrapper around Dagster's non-public history API) and
handles **every** evaluation recorded since its cursor, oldest first, each by what it means for the model
(`guardrails.models._events.classify`, the rule the Airflow adapter shares), never by blaming whatever version happens
to serve:

- a data check failed and the batch was quarantined before storage: no model saw it, so nothing is tagged and
  the alias stays; automatic promotion is **held** (`ModelGuard.hold`, with the check, partition, reason and
  run) until every held partition passes again;
- freshness failed (no batch arrived), or a data check could not run: **hold** likewise;
- a data check failed (error severity) on a batch already stored (drift, parity after publish): that batch is
  **condemned** (`ModelGuard.condemn`): the versions whose lineage includes it are tagged failed and the alias
  moves to the highest passed version with a clean lineage;
- a check of the model itself failed (its evaluation): **that version** fails (`ModelGuard.fail_version`, the
  version named in the evaluation's metadata, ``guardrails/model_version``);
- a realized-performance check failed at error severity: by its diagnosis, concept drift fails the version the
  evaluation names (``fail_version``); covariate shift (the data changed, not the model) or any other diagnosis
  **holds** promotion; insufficient labels do nothing;
- an evaluation passed: the hold of its (check, partition), if any, is released (`ModelGuard.release_hold`;
  the hold records when each failure was evaluated, and a pass clears only failures evaluated before it);
- a warning, or no verdict yet: nothing.

A hold whose (check, partition) has a later passing evaluation among the same new evaluations is not placed at
all (holding and releasing at once would only add two entries to the alias history). Every tick ends with
`ModelGuard.reconcile`, which repairs an alias resting on a failed or unclean version and records moves the guard
did not make.

Idempotent across ticks: the cursor keeps, per check, the highest execution handled below which nothing is
pending, plus the executions handled above it (a run still in progress can complete an older row later). The
guard's actions are idempotent too. Failing closed: when the registry cannot be reached or an action ends in
``ERROR``, the tick fails (red in the UI) without advancing the cursor, so the next tick tries again; actions
already applied in that tick are still recorded. Each action is recorded in Dagster as an `AssetObservation`
on the checked asset (the reconcile's on the model asset) whose description says what happened and why.

Example:
    >>> import dagster as dg
    >>> sensor = build_model_guard_sensor(
    ...     data_checks=["clean_transactions:contract", "transaction_features:drift"],
    ...     model_checks=["fraud_model:evaluation_roc_auc"], model_asset="fraud_model")
    >>> sensor.name
    'model_guard'
    >>> defs = dg.Definitions(sensors=[sensor], resources={"model_registry": ModelRegistryResource(
    ...     tracking_uri="sqlite:///mlflow.db", model_name="fraud")})
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dagster as dg
from pydantic import Field

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.dagster._guard_events import MODEL_VERSION_KEY, CheckRole, EvaluationClass, classify  # noqa: F401
from guardrails.dagster.history import CheckHistoryEntry, read_check_history_after
from guardrails.dagster.lineage import materialized_batch
from guardrails.models import ActionResult, ActionStatus, BatchRef, ModelGuard, RegistryError
from guardrails.models._events import act, superseded

MODEL_REGISTRY_RESOURCE_KEY = "model_registry"
"""The resource key the sensor expects its `ModelRegistryResource` under."""
MODEL_ACTION_KEY = "guardrails/model_action"
"""JSON: the guard's whole result (`ActionResult.to_dict`)."""
MODEL_NAME_KEY = "guardrails/model"
MODEL_ALIAS_KEY = "guardrails/model_alias"
MODEL_VERSION_PINNED_KEY = "guardrails/model_version_pinned"
"""Where the alias rests after the action (int), when it is set."""
MODEL_ACTION_STATUS_KEY = "guardrails/model_action_status"
MODEL_ACTION_KIND_KEY = "guardrails/model_action_kind"
"""Which action: ``hold``, ``release_hold``, ``condemn``, ``fail_version``, ``reconcile``."""
MODEL_ACTION_REASON_KEY = "guardrails/model_action_reason"
"""Why, in one readable sentence (the evaluation's class and its description)."""
MODEL_EVALUATION_KEY = "guardrails/evaluation"
"""Which evaluation caused it: ``asset:check[partition] run <id>``."""
MODEL_BATCH_KEY = "guardrails/condemned_batch"
MODEL_FAILED_VERSIONS_KEY = "guardrails/failed_versions"
MODEL_HOLD_KEY = "guardrails/hold"
"""Text: the hold in force after the action (reason and failing partitions), or ``none``."""


class ModelRegistryResource(dg.ConfigurableResource):
    """Which MLflow registry, model and serving alias the model guard acts on.

    Attributes:
        tracking_uri: the MLflow tracking URI (``http://mlflow:5000``, ``sqlite:///mlflow.db``), e.g.
            ``dg.EnvVar("MLFLOW_TRACKING_URI")``.
        registry_uri: a separate registry URI, if any.
        model_name: the registered model to guard.
        alias: the serving alias (default ``champion``).
        timeout_seconds / max_retries: bound every registry request, so a dead server cannot hang a tick.
        lock_url: where guards of the model take their shared lock (a ``postgresql://`` URL: an advisory lock,
            needed when guards run on several hosts; a directory otherwise). None: beside a local store, or the
            PostgreSQL registry itself, or a per-host directory (see `guardrails.models._lock`).
        lock_timeout_seconds: how long an action waits for another guard of the same model before it ends in
            ``ERROR`` with nothing done.
    """

    tracking_uri: str = Field(description="MLflow tracking URI (e.g. from env var MLFLOW_TRACKING_URI).")
    registry_uri: str | None = Field(default=None, description="A separate MLflow registry URI, if any.")
    model_name: str = Field(description="The registered model the guard protects.")
    alias: str = Field(default="champion", description="The serving alias the guard moves.")
    timeout_seconds: int = Field(default=5, ge=1, description="Seconds per registry request before giving up.")
    max_retries: int = Field(default=1, ge=0, description="Retries per registry request (no backoff).")
    lock_url: str | None = Field(default=None, description="Shared lock for guards of this model on several "
                                 "hosts (postgresql:// URL or a directory); None picks one from the registry URI.")
    lock_timeout_seconds: float = Field(default=30.0, gt=0, description="Seconds an action waits for the lock.")

    def get_guard(self, actor: str = "dagster") -> ModelGuard:
        """A `ModelGuard` over the configured model, recording `actor` as who acted."""
        from guardrails.models import MlflowModelRegistry

        registry = MlflowModelRegistry(
            self.tracking_uri,
            registry_uri=self.registry_uri,
            timeout_seconds=self.timeout_seconds,
            max_retries=self.max_retries,
            lock_url=self.lock_url,
        )
        name, timeout = self.model_name, self.lock_timeout_seconds
        # A fresh context manager per action: guards of one model (sensors, runs, the CLI) exclude each other.
        return ModelGuard(registry, name, alias=self.alias, actor=actor,
                          lock=lambda: registry.model_lock.acquire(name, timeout=timeout))



@dataclass(frozen=True, slots=True)
class WatchedCheck:
    """One check the model guard sensor watches, and what it judges.

    `role` DATA: the check judges data the model consumes (a contract, freshness, drift, parity). MODEL: it
    judges the model itself, and its evaluations name the version judged (``guardrails/model_version``).
    `batch_of`: whose stored batch a failure condemns, when not the checked asset's own (a parity check on the
    scored table judges the feature batch the model saw).
    """

    key: dg.AssetCheckKey
    role: CheckRole = CheckRole.DATA
    batch_of: dg.AssetKey | None = None

    @property
    def label(self) -> str:
        return f"{self.key.asset_key.to_user_string()}:{self.key.name}"

    @classmethod
    def parse(cls, spec: WatchedCheck | dg.AssetCheckKey | str, role: CheckRole) -> WatchedCheck:
        """A `WatchedCheck` from itself, an `AssetCheckKey` or ``"asset/path:check"``."""
        if isinstance(spec, WatchedCheck):
            return spec
        if isinstance(spec, dg.AssetCheckKey):
            return cls(spec, role)
        asset, sep, name = str(spec).rpartition(":")
        if not sep or not asset or not name:
            raise ValueError(f"check: expected 'asset:check_name' (e.g. 'clean_transactions:contract'), got {spec!r}")
        return cls(dg.AssetCheckKey(dg.AssetKey.from_user_string(asset), name), role)


def _load_cursor(raw: str | None, checks: Sequence[WatchedCheck]) -> dict[str, dict[str, Any]]:
    """Per check label: ``after`` (every execution up to this id is handled) and ``done`` (handled ids above it).

    A cursor from the pin sensor before it (``{"run_id", "at"}``) becomes "everything up to that time handled"
    (``since``), so an upgrade does not replay the history.
    """
    state: dict[str, dict[str, Any]] = {c.label: {"after": 0, "done": []} for c in checks}
    if not raw:
        return state
    data = json.loads(raw)
    if "checks" not in data:  # the pin sensor's cursor: the latest evaluation handled, by time
        for entry in state.values():
            entry["since"] = data.get("at")
        return state
    for label, saved in data["checks"].items():
        if label in state:
            state[label] = {"after": int(saved.get("after", 0)), "done": [int(i) for i in saved.get("done", [])]}
    return state


def _dump_cursor(state: dict[str, dict[str, Any]]) -> str:
    checks = {label: {"after": s["after"], "done": sorted(s["done"])} for label, s in state.items()}
    return json.dumps({"v": 2, "checks": checks}, sort_keys=True)


_FINISHED_RUNS = frozenset({"SUCCESS", "FAILURE", "CANCELED"})


def _pending(entry: CheckHistoryEntry) -> bool:
    """A planned execution that may still complete (its run is still going)."""
    if entry.passed is not None:
        return False
    return bool(entry.run_id) and entry.run_status is not None and entry.run_status not in _FINISHED_RUNS


@dataclass(frozen=True, slots=True)
class _New:
    """An evaluation to handle, with the check it belongs to."""

    check: WatchedCheck
    entry: CheckHistoryEntry


def _new_evaluations(
    instance: dg.DagsterInstance, checks: Sequence[WatchedCheck], state: dict[str, dict[str, Any]]
) -> tuple[list[_New], dict[str, dict[str, Any]]]:
    """Every completed evaluation not handled yet (oldest first across checks), and the cursor once handled."""
    found: list[_New] = []
    after_state: dict[str, dict[str, Any]] = {}
    for check in checks:
        saved = state[check.label]
        done = set(saved["done"])
        since = saved.get("since")
        entries = read_check_history_after(instance, check.key, after_id=saved["after"])
        low, handled, blocked = saved["after"], set(), False
        for entry in entries:
            eid = entry.execution_id or 0
            if _pending(entry):
                blocked = True
                continue
            old = since is not None and entry.timestamp.isoformat() <= since
            if entry.passed is not None and eid not in done and not old:
                found.append(_New(check, entry))
            if blocked:
                handled.add(eid)
            else:
                low = eid
        after_state[check.label] = {"after": low, "done": sorted(i for i in done | handled if i > low)}
    found.sort(key=lambda n: n.entry.execution_id or 0)
    return found, after_state


def _check_label(entry: CheckHistoryEntry) -> str:
    return f"{entry.asset_key}:{entry.check_name}"


def _evaluation_label(entry: CheckHistoryEntry) -> str:
    where = f"[{entry.partition}]" if entry.partition is not None else ""
    run = f"run {entry.run_id[:8]}" if entry.run_id else "no run"
    return f"{_check_label(entry)}{where} ({run})"


def _stored_batch(instance: dg.DagsterInstance, check: WatchedCheck, entry: CheckHistoryEntry) -> BatchRef:
    """The stored batch a failure condemns: the materialization it judged, or `batch_of`'s batch of the partition
    as it stood when the check ran; the partition alone when neither can be found (every batch of it)."""
    contract_id = entry.metadata.get("guardrails/contract_id")
    contract_version = entry.metadata.get("guardrails/contract_version")
    contract = {"contract_id": contract_id, "contract_version": contract_version}
    if check.batch_of is None and entry.target_storage_id is not None:
        found = materialized_batch(instance, check.key.asset_key, entry.partition,
                                   storage_id=entry.target_storage_id, **contract)
    else:
        asset = check.batch_of or check.key.asset_key
        found = materialized_batch(instance, asset, entry.partition, before=_after(entry.timestamp), **contract)
    if found is not None:
        return found
    return BatchRef(asset=(check.batch_of or check.key.asset_key).to_user_string(), partition=entry.partition,
                    run_id=entry.target_materialization_run_id, **contract)


def _after(moment: datetime) -> datetime:
    """A moment just after `moment` (a materialization recorded in the same instant still counts)."""
    return datetime.fromtimestamp(moment.timestamp() + 1e-3, tz=moment.tzinfo)


def action_observation(
    asset: dg.AssetKey, kind: str, result: ActionResult, *, reason: str, evaluation: CheckHistoryEntry | None = None,
) -> dg.AssetObservation:
    """One guard action as a Dagster event on `asset`: what was done, to which model, why, and the full result.

    The description is the guard's own message followed by the reason, so the UI's event list reads as a
    sentence; the metadata has the same facts as keys (``guardrails/model_action_*``) and the result as JSON.
    """
    metadata: dict[str, dg.RawMetadataValue] = {
        MODEL_NAME_KEY: result.model,
        MODEL_ALIAS_KEY: result.alias,
        MODEL_ACTION_KIND_KEY: kind,
        MODEL_ACTION_STATUS_KEY: result.status.value,
        MODEL_ACTION_REASON_KEY: dg.MetadataValue.text(reason),
        MODEL_ACTION_KEY: dg.MetadataValue.json(result.to_dict()),
    }
    if evaluation is not None:
        metadata[MODEL_EVALUATION_KEY] = _evaluation_label(evaluation)
    move = result.move
    if move is not None and move.to_version is not None:
        metadata[MODEL_VERSION_PINNED_KEY] = move.to_version
    batch = getattr(result, "batch", None)
    if batch is not None:
        metadata[MODEL_BATCH_KEY] = batch.label
    failed = getattr(result, "failed_versions", None)
    if failed is not None:
        metadata[MODEL_FAILED_VERSIONS_KEY] = ", ".join(f"v{v}" for v in failed) or "none"
    if hasattr(result, "hold"):
        hold = getattr(result, "hold", None)
        metadata[MODEL_HOLD_KEY] = _hold_text(hold)
    partition = evaluation.partition if evaluation is not None else None
    return dg.AssetObservation(
        asset_key=asset,
        partition=partition,
        description=cap_text(f"{result.message}. {reason}", MESSAGE_CHARS),
        metadata=metadata,
    )


def _hold_text(hold: Any) -> str:
    if hold is None:
        return "none"
    failing = ", ".join(f"{f.check}[{f.partition}]" if f.partition else f.check for f in hold.failing)
    return cap_text(f"{hold.reason} (failing: {failing or 'none'})", MESSAGE_CHARS)


def build_model_guard_sensor(
    *,
    data_checks: Iterable[WatchedCheck | dg.AssetCheckKey | str] = (),
    model_checks: Iterable[WatchedCheck | dg.AssetCheckKey | str] = (),
    model_asset: dg.AssetKey | str | None = None,
    name: str = "model_guard",
    minimum_interval_seconds: int = 30,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """A sensor that keeps the ``model_registry`` resource's model right when the checks it depends on fail.

    Args:
        data_checks: checks of data the model consumes (``"asset:check"``, `AssetCheckKey` or `WatchedCheck`):
            a quarantine or a freshness failure holds promotion; a failure on a stored batch condemns it.
        model_checks: checks of the model itself: a failure fails the version the evaluation names
            (metadata ``guardrails/model_version``).
        model_asset: the asset the reconcile's observations are recorded on (default: the first model check's
            asset, else the first data check's).
        name: the sensor name.
        minimum_interval_seconds: how often to look.
        default_status: running by default, so the guard is on as soon as the code location loads.

    Raises:
        ValueError: no check to watch, or one watched twice.
    """
    checks = [WatchedCheck.parse(c, CheckRole.DATA) for c in data_checks]
    checks += [WatchedCheck.parse(c, CheckRole.MODEL) for c in model_checks]
    if not checks:
        raise ValueError("build_model_guard_sensor: expected at least one of data_checks or model_checks, got none")
    labels = [c.label for c in checks]
    if len(set(labels)) != len(labels):
        raise ValueError(f"build_model_guard_sensor: a check is watched twice in {labels}")
    models = [c for c in checks if c.role is CheckRole.MODEL]
    home = (
        (model_asset if isinstance(model_asset, dg.AssetKey) else dg.AssetKey.from_user_string(model_asset))
        if model_asset is not None else (models or checks)[0].key.asset_key
    )
    by_label = {c.label: c for c in checks}

    @dg.sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description="Model guard: holds promotion on a quarantined or late batch, fails the versions that saw a "
        "condemned batch and a version that failed its own checks, and reconciles the alias. "
        f"Watches {', '.join(labels)}.",
    )
    def _sensor(context: dg.SensorEvaluationContext, model_registry: ModelRegistryResource) -> dg.SensorResult:
        state = _load_cursor(context.cursor, checks)
        new, next_state = _new_evaluations(context.instance, checks, state)
        guard = model_registry.get_guard(actor=f"dagster:sensor/{name}")
        items = [classify(n.entry, n.check.role) for n in new]
        skipped = superseded(items)
        events: list[dg.AssetObservation] = []
        try:  # one read up front: a pass releases only what the hold names, without a registry call per pass
            held = guard.status().hold
        except RegistryError as exc:
            raise dg.Failure(f"model guard cannot read {guard.name!r}: {exc}; nothing moved, the cursor stays, "
                             "the next tick retries") from exc

        def fail(message: str) -> dg.Failure:
            # Record what was already applied this tick, then fail loudly with the cursor unchanged.
            for event in events:
                context.instance.report_runless_asset_event(event)
            return dg.Failure(f"model guard {guard.name!r}: {message}; the cursor stays, the next tick retries")

        for found, item in zip(new, items, strict=True):
            entry = found.entry
            if item.kind is EvaluationClass.IGNORED:
                context.log.info(f"{_evaluation_label(entry)}: no action ({item.why})")
                continue
            if (entry.execution_id or 0) in skipped:
                context.log.info(f"{_evaluation_label(entry)}: no hold, a later evaluation of the partition passed")
                continue
            check = by_label[_check_label(entry)]
            if item.kind is EvaluationClass.PASSED and not any(
                f.check == _check_label(entry) and f.partition == item.partition for f in (held.failing if held else ())
            ):
                continue  # nothing held on this (check, partition): the pass changes nothing
            try:
                done = act(guard, item, stored_batch=lambda: _stored_batch(context.instance, check, entry))
            except RegistryError as exc:
                raise fail(f"registry error on {_evaluation_label(entry)}: {exc}") from exc
            assert done is not None  # only IGNORED does nothing, and it was skipped above
            kind, result = done.kind, done.result
            if result.status is ActionStatus.ERROR:
                raise fail(f"{kind} for {_evaluation_label(entry)} ended in error: {result.message} ({result.error})")
            if kind in ("hold", "release_hold"):
                held = result.hold  # type: ignore[attr-defined]
            if result.status is ActionStatus.NO_OP:
                context.log.info(f"{kind}: {result.message}")
                continue
            (context.log.error if result.status is ActionStatus.REFUSED else context.log.info)(result.message)
            events.append(action_observation(check.key.asset_key, kind, result, reason=item.reason
                                             if item.kind is not EvaluationClass.PASSED
                                             else f"{_evaluation_label(entry)} passed", evaluation=entry))
        try:
            reconciled = guard.reconcile()
        except RegistryError as exc:
            raise fail(f"reconcile could not read the registry: {exc}") from exc
        if reconciled.status is ActionStatus.ERROR:
            raise fail(f"reconcile ended in error: {reconciled.message} ({reconciled.error})")
        if reconciled.status is ActionStatus.REFUSED:  # the alias is on a failed version and nothing is eligible
            context.log.error(reconciled.message)
        if reconciled.status is ActionStatus.APPLIED:
            context.log.warning(reconciled.message)
            events.append(action_observation(home, "reconcile", reconciled,
                                             reason="the alias rested on a failed or unclean version"))
        cursor = _dump_cursor(next_state)
        if not events:
            handled = f"{len(items)} new evaluation(s) handled" if items else "no new evaluation"
            return dg.SensorResult(skip_reason=f"{handled}; nothing to do ({reconciled.message})", cursor=cursor)
        return dg.SensorResult(asset_events=events, cursor=cursor)

    return _sensor


def build_model_pin_sensor(
    *,
    asset: dg.AssetKey | str,
    check_name: str,
    name: str | None = None,
    model_check: bool = False,
    minimum_interval_seconds: int = 30,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """`build_model_guard_sensor` watching one check (the name and signature of the pin sensor it replaces).

    The check is a data check, or the model's own with `model_check`; the default name stays
    ``pin_model_on_<asset>_<check>``, so a cursor stored by the old sensor carries over.
    """
    key = asset if isinstance(asset, dg.AssetKey) else dg.AssetKey.from_user_string(asset)
    check = dg.AssetCheckKey(key, check_name)
    sensor_name = name or f"pin_model_on_{'_'.join(key.path)}_{check_name}".replace("-", "_")
    return build_model_guard_sensor(
        data_checks=() if model_check else (check,),
        model_checks=(check,) if model_check else (),
        model_asset=key,
        name=sensor_name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
    )
