"""The model guard in Dagster: a registry resource, and a sensor that pins the model when a check fails.

Dagster has no sensor that reacts to check evaluations, so `build_model_pin_sensor` polls the check's history
(`read_check_history`, the one wrapper around Dagster's non-public history API) and acts on the **latest
resolved evaluation** only: if it failed and has not been handled yet, the version the serving alias points
at (or, when already pinned, the version the pin recorded as failing) is pinned away from (the core
`ModelGuard.pin`: tag it failed, move the alias to the highest passed version, hold it there). An
older failure that a later passing evaluation superseded is not acted on.

Idempotent across ticks: the cursor names the last evaluation handled (run id and time), and a pin of an
already pinned model is a no-op anyway. Failing closed: when the registry cannot be reached the tick fails
(red in the UI) without advancing the cursor, so the next tick tries again; nothing moves meanwhile. Each
action is recorded in Dagster as an `AssetObservation` on the checked asset carrying the alias move.

Example:
    >>> import dagster as dg
    >>> sensor = build_model_pin_sensor(asset="features/transactions", check_name="contract")
    >>> defs = dg.Definitions(sensors=[sensor], resources={"model_registry": ModelRegistryResource(
    ...     tracking_uri="sqlite:///mlflow.db", model_name="fraud")})
"""

from __future__ import annotations

import json

import dagster as dg
from pydantic import Field

from guardrails.dagster.history import CheckHistoryEntry, read_check_history
from guardrails.models import ActionStatus, ModelGuard, PinResult

MODEL_REGISTRY_RESOURCE_KEY = "model_registry"
"""The resource key the sensor expects its `ModelRegistryResource` under."""
MODEL_ACTION_KEY = "guardrails/model_action"
MODEL_NAME_KEY = "guardrails/model"
MODEL_ALIAS_KEY = "guardrails/model_alias"
MODEL_VERSION_PINNED_KEY = "guardrails/model_version_pinned"
MODEL_ACTION_STATUS_KEY = "guardrails/model_action_status"


class ModelRegistryResource(dg.ConfigurableResource):
    """Which MLflow registry, model and serving alias the model guard acts on.

    Attributes:
        tracking_uri: the MLflow tracking URI (``http://mlflow:5000``, ``sqlite:///mlflow.db``), e.g.
            ``dg.EnvVar("MLFLOW_TRACKING_URI")``.
        registry_uri: a separate registry URI, if any.
        model_name: the registered model to guard.
        alias: the serving alias (default ``champion``).
        timeout_seconds / max_retries: bound every registry request, so a dead server cannot hang a tick.
    """

    tracking_uri: str = Field(description="MLflow tracking URI (e.g. from env var MLFLOW_TRACKING_URI).")
    registry_uri: str | None = Field(default=None, description="A separate MLflow registry URI, if any.")
    model_name: str = Field(description="The registered model the guard protects.")
    alias: str = Field(default="champion", description="The serving alias the guard moves.")
    timeout_seconds: int = Field(default=5, ge=1, description="Seconds per registry request before giving up.")
    max_retries: int = Field(default=1, ge=0, description="Retries per registry request (no backoff).")

    def get_guard(self, actor: str = "dagster") -> ModelGuard:
        """A `ModelGuard` over the configured model, recording `actor` as who acted."""
        from guardrails.models import MlflowModelRegistry

        registry = MlflowModelRegistry(
            self.tracking_uri,
            registry_uri=self.registry_uri,
            timeout_seconds=self.timeout_seconds,
            max_retries=self.max_retries,
        )
        return ModelGuard(registry, self.model_name, alias=self.alias, actor=actor)


def _cursor_of(entry: CheckHistoryEntry) -> str:
    return json.dumps({"run_id": entry.run_id, "at": entry.timestamp.isoformat()}, sort_keys=True)


def pin_observation(asset: dg.AssetKey, result: PinResult) -> dg.AssetObservation:
    """The pin as a Dagster event on the checked asset: the model, alias, where it went, and the full result."""
    metadata: dict[str, dg.RawMetadataValue] = {
        MODEL_NAME_KEY: result.model,
        MODEL_ALIAS_KEY: result.alias,
        MODEL_ACTION_STATUS_KEY: result.status.value,
        MODEL_ACTION_KEY: dg.MetadataValue.json(result.to_dict()),
    }
    if result.pin is not None:
        metadata[MODEL_VERSION_PINNED_KEY] = result.pin.version
    return dg.AssetObservation(asset_key=asset, description=result.message, metadata=metadata)


def build_model_pin_sensor(
    *,
    asset: dg.AssetKey | str,
    check_name: str,
    name: str | None = None,
    minimum_interval_seconds: int = 30,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """A sensor that pins the model of the ``model_registry`` resource when check `check_name` on `asset` fails.

    Args:
        asset: the asset whose check the model depends on (its input batch, its features, its evaluation).
        check_name: the asset check to watch.
        name: the sensor name (default ``pin_model_on_<asset>_<check>``).
        minimum_interval_seconds: how often to look.
        default_status: running by default, so the guard is on as soon as the code location loads.
    """
    key = asset if isinstance(asset, dg.AssetKey) else dg.AssetKey.from_user_string(asset)
    sensor_name = name or f"pin_model_on_{'_'.join(key.path)}_{check_name}".replace("-", "_")
    check_label = f"{key.to_user_string()}:{check_name}"

    @dg.sensor(
        name=sensor_name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=f"Pins the model back to its last good version when {check_label} fails.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, model_registry: ModelRegistryResource
    ) -> dg.SensorResult | dg.SkipReason:
        history = read_check_history(context.instance, key, check_name, limit=5)
        latest = next((e for e in history if e.passed is not None), None)
        if latest is None:
            return dg.SkipReason(f"{check_label} has no evaluation yet")
        cursor = _cursor_of(latest)
        if cursor == context.cursor:
            return dg.SkipReason(f"latest evaluation of {check_label} (run {latest.run_id}) already handled")
        if latest.passed:
            return dg.SensorResult(skip_reason=f"latest evaluation of {check_label} passed", cursor=cursor)
        guard = model_registry.get_guard(actor=f"dagster:sensor/{sensor_name}")
        try:
            status = guard.status()
        except Exception as exc:  # RegistryError: fail the tick loudly, keep the cursor, retry next tick
            raise dg.Failure(f"model guard cannot read {guard.name!r}: {exc}; nothing moved") from exc
        # While pinned the alias is on the good version we fell back to: the failure still belongs to the
        # version the pin recorded as failing (the pin then is a no-op), never to the pinned one.
        failing = status.pin.failing_version if status.pin is not None else status.alias_version
        if failing is None:
            context.log.error(f"{check_label} failed but alias {guard.alias!r} of {guard.name!r} is not set")
            return dg.SensorResult(skip_reason=f"alias {guard.alias!r} of {guard.name!r} is not set", cursor=cursor)
        reason = f"{check_label} failed in run {latest.run_id}"
        if latest.description:
            reason += f": {latest.description}"
        result = guard.pin(failing, reason=reason, check=check_label, run_id=latest.run_id or None)
        if result.status is ActionStatus.ERROR:
            raise dg.Failure(f"model guard could not pin {guard.name!r}: {result.message} ({result.error})")
        if result.status is ActionStatus.REFUSED:
            context.log.error(result.message)
        else:
            context.log.info(result.message)
        return dg.SensorResult(asset_events=[pin_observation(key, result)], cursor=cursor)

    return _sensor
