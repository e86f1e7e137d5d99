"""The model's gates in Airflow: promote a trained candidate only if the guard says it may, and judge a canary.

Both act through `ModelGuard` and the core's classification (`guardrails.models._events`), as the Dagster adapter
does; each verdict is the task's XCom ``return_value`` and the extra of an asset event on the model's asset
(`guardrails.airflow.models.model_asset`). A task that fails pushes its verdict under ``guardrails_model_verdict``
instead (Airflow records outlet events only for tasks that succeed).

`ModelGateOperator` / ``@task.model_gate`` runs after training: its callable returns the candidate (a
`ModelCandidate`, its dict, or a version number). The gate records the candidate's lineage (the guarded batches it
was trained and evaluated on), then its verdict from its own checks (`verdict_from_outcomes`):

- every check passed: ``ModelGuard.promote`` (refused while promotion is held or pinned, or the version is not
  eligible: the task succeeds, the verdict says ``refused`` and why, the alias stays);
- a check of the model failed: ``fail_version`` (the alias moves off the version if it served) and the task fails
  with `AirflowFailException` naming the guard's verdict; a check with no verdict (inconclusive, could not run)
  fails the task too, with a failed verdict recorded: a version is never vouched for on missing evidence.

`CanaryGateOperator` judges a running canary from its per-unit table (`guardrails.checks.canary.assess_canary`)
and acts with ``ModelGuard.judge_canary``: pass -> promoted and the challenger removed; fail -> the candidate failed
and the challenger removed; inconclusive -> nothing moves, and the gate either succeeds with verdict
``inconclusive`` (default) or, with ``wait=True``, behaves as a sensor: it looks again every ``poke_interval``
(``mode="reschedule"`` frees the worker slot in between) until the canary decides or ``timeout`` passes. A canary
that could not run (sample-ratio mismatch, unreadable table) moves nothing and fails the task (retries apply).

The registry unreachable: nothing moves and the task fails with `AirflowException` and a one-line reason.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from airflow.providers.common.compat.sdk import DecoratedOperator, task_decorator_factory
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import Asset, BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.airflow.models import RegistrySettings, lineage_of, model_asset, model_event, one_line, outlets_with
from guardrails.checks.canary import CanarySpec, assess_canary, load_canary_spec
from guardrails.models import (
    DEFAULT_CHALLENGER,
    ActionResult,
    ActionStatus,
    BatchRef,
    ModelGuard,
    RegistryError,
    verdict_from_outcomes,
)
from guardrails.models._events import CheckRole, EvaluationClass, act, classify
from guardrails.outcome import CheckOutcome
from guardrails.outcome import Verdict as CheckVerdict

_LOG = logging.getLogger(__name__)
VERDICT_XCOM_KEY = "guardrails_model_verdict"
"""The XCom key of a failed gate's verdict (a gate that succeeds returns it as ``return_value``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCandidate:
    """What a training task hands the gate: the registered version, its own checks, and what it saw.

    Attributes:
        version: the registered model version.
        checks: the model's own checks (evaluation, signature, fairness) as outcomes; none: the gate judges the
            verdict already recorded on the version.
        trained_on / evaluated_on: the guarded tasks' outcome records (their XCom) or `BatchRef`s;
            `evaluated_on` None means the same batches.
    """

    version: int
    checks: tuple[CheckOutcome, ...] = ()
    trained_on: tuple[Mapping[str, Any] | BatchRef, ...] = ()
    evaluated_on: tuple[Mapping[str, Any] | BatchRef, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValueError(f"version: expected a registered model version (an int >= 1), got {self.version!r}")

    @classmethod
    def of(cls, value: ModelCandidate | Mapping[str, Any] | int | str) -> ModelCandidate:
        """A candidate from itself, its dict (`to_dict`, e.g. through XCom) or a bare version number."""
        if isinstance(value, ModelCandidate):
            return value
        if isinstance(value, int | str) and not isinstance(value, bool):
            if isinstance(value, str) and not value.isdigit():
                raise ValueError(f"candidate: expected a model version, got {value!r}")
            return cls(version=int(value))
        if isinstance(value, Mapping):
            evaluated = value.get("evaluated_on")
            return cls(
                version=int(value["version"]),
                checks=tuple(c if isinstance(c, CheckOutcome) else CheckOutcome.from_dict(c)
                             for c in value.get("checks") or ()),
                trained_on=tuple(value.get("trained_on") or ()),
                evaluated_on=None if evaluated is None else tuple(evaluated),
            )
        raise TypeError(f"candidate: expected a ModelCandidate, its dict or a version number, got "
                        f"{type(value).__name__}")

    def to_dict(self) -> dict[str, Any]:
        """JSON an XCom can carry (`of` reads it back)."""
        def batch(b: Mapping[str, Any] | BatchRef) -> dict[str, Any]:
            return b.to_dict() if isinstance(b, BatchRef) else dict(b)

        return {"version": self.version, "checks": [c.to_dict() for c in self.checks],
                "trained_on": [batch(b) for b in self.trained_on],
                "evaluated_on": None if self.evaluated_on is None else [batch(b) for b in self.evaluated_on]}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Gate:
    """The model a gate guards, its registry and its asset (fixed when the DAG file is parsed)."""

    model: str
    registry: RegistrySettings = field(default_factory=RegistrySettings)
    asset: Asset | None = None

    def guard(self, context: Mapping[str, Any]) -> ModelGuard:
        ti = context["ti"]
        return self.registry.guard(self.model, actor=f"airflow:{ti.dag_id}.{ti.task_id}")


def _check(context: Mapping[str, Any], name: str) -> str:
    ti = context["ti"]
    return f"{ti.dag_id}.{ti.task_id}:{name}"


def _run_id(context: Mapping[str, Any]) -> str | None:
    return str(context.get("run_id") or "") or None


def _unreachable(model: str, exc: Exception, context: Mapping[str, Any]) -> AirflowException:
    """The one-line failure of a gate that could not reach the registry (also pushed to XCom as its verdict)."""
    message = f"model gate of {model!r}: registry unreachable ({one_line(str(exc))}); nothing moved"
    context["ti"].xcom_push(key=VERDICT_XCOM_KEY, value={"model": model, "status": "error", "message": message,
                                                         "promoted": False})
    return AirflowException(message)


def _errored(model: str, what: str, result: ActionResult) -> AirflowException:
    return AirflowException(f"model gate of {model!r}: registry unreachable, {what} did not complete "
                            f"({one_line(result.error or '')}): {one_line(result.message, MESSAGE_CHARS)}")


def _verdict_record(guard: ModelGuard, version: int, **facts: Any) -> dict[str, Any]:
    """The gate's verdict as JSON: the facts given plus where the alias rests and the hold, read back now."""
    record: dict[str, Any] = {"model": guard.name, "alias": guard.alias, "version": version, **facts}
    try:
        status = guard.status()
    except RegistryError as exc:
        record["serving"], record["hold"] = None, f"unknown ({cap_text(str(exc), 200)})"
        return record
    record["serving"] = status.alias_version
    record["hold"] = cap_text(status.hold.reason, MESSAGE_CHARS) if status.hold is not None else None
    return record


def _finish(record: dict[str, Any], gate: _Gate, context: Mapping[str, Any]) -> dict[str, Any]:
    if gate.asset is not None:
        context["outlet_events"][gate.asset].extra.update(record)
    return record


def _fail(record: dict[str, Any], context: Mapping[str, Any], exc: Exception) -> Exception:
    context["ti"].xcom_push(key=VERDICT_XCOM_KEY, value=record)
    return exc


def run_model_gate(value: Any, gate: _Gate, context: Mapping[str, Any],
                   log: logging.Logger | Any = None) -> dict[str, Any]:
    """Record the candidate's lineage and verdict, then promote it or fail it (see the module docstring); `log` is
    the task's logger (a refused promotion is logged there as a warning)."""
    candidate = ModelCandidate.of(value)
    version, run_id = candidate.version, _run_id(context)
    check = _check(context, "gate")
    guard = gate.guard(context)
    try:
        if candidate.trained_on or candidate.evaluated_on:
            guard.record_lineage(version, lineage_of(candidate.trained_on, candidate.evaluated_on))
        if candidate.checks:
            verdict = verdict_from_outcomes(candidate.checks, run_id=run_id, at=datetime.now(UTC))
            failed = [o for o in candidate.checks if o.verdict is CheckVerdict.FAIL]
            if failed:  # the model's own check failed: the core's rule (`fail_version` of the version it names)
                first = failed[0]
                item = classify(model_event(first, check=_check(context, first.check), version=version,
                                            run_id=run_id), CheckRole.MODEL)
                done = act(guard, item, reason=f"v{version} failed its checks: {verdict.reason}")
                assert done is not None and item.kind is EvaluationClass.MODEL
                if done.result.status is ActionStatus.ERROR:
                    raise _errored(guard.name, done.kind, done.result)
                record = _verdict_record(guard, version, verdict="failed", reason=cap_text(verdict.reason,
                                         MESSAGE_CHARS), action=done.kind, status=done.result.status.value,
                                         message=cap_text(done.result.message, MESSAGE_CHARS), promoted=False)
                raise _fail(record, context, AirflowFailException(
                    f"{guard.name} v{version} failed its own checks ({cap_text(verdict.reason, MESSAGE_CHARS)}); "
                    f"{cap_text(done.result.message, MESSAGE_CHARS)}"))
            guard.record_verdict(version, verdict)
        state = guard.status().version(version)
    except RegistryError as exc:
        raise _unreachable(gate.model, exc, context) from exc
    if state is None or not state.verdict or not state.verdict.passed:
        why = ("no such version" if state is None else "no verdict recorded" if state.verdict is None
               else state.verdict.reason)
        record = _verdict_record(guard, version, verdict="failed" if state and state.verdict else "none",
                                 reason=cap_text(why, MESSAGE_CHARS), action="none", status="refused",
                                 message=f"v{version} is not vouched for; not promoted", promoted=False)
        raise _fail(record, context, AirflowFailException(
            f"{guard.name} v{version} is not promoted: {cap_text(why, MESSAGE_CHARS)}"))
    promotion = guard.promote(version, reason=f"{check}: {cap_text(state.verdict.reason, 300)}", check=check,
                              run_id=run_id)
    if promotion.status is ActionStatus.ERROR:
        raise _errored(guard.name, "promote", promotion)
    if promotion.status is ActionStatus.REFUSED:
        (log or _LOG).warning("%s v%s not promoted: %s", guard.name, version, promotion.message)
    record = _verdict_record(guard, version, verdict="passed", reason=cap_text(state.verdict.reason, MESSAGE_CHARS),
                             action="promote", status=promotion.status.value,
                             message=cap_text(promotion.message, MESSAGE_CHARS),
                             promoted=promotion.status in (ActionStatus.APPLIED, ActionStatus.NO_OP))
    return _finish(record, gate, context)


class ModelGateOperator(PythonOperator):
    """A `PythonOperator` whose callable returns a trained candidate; the gate promotes it only if it is eligible.

    Args:
        python_callable: returns a `ModelCandidate`, its dict, or a version number.
        model: the registered model name.
        model_registry: `RegistrySettings`, or a tracking URI; default ``$MLFLOW_TRACKING_URI`` at run time.
        asset: the asset whose event carries the verdict (default `model_asset`); added to the outlets.
        **kwargs: passed to `PythonOperator`.

    Returns (XCom ``return_value``) the verdict: model, alias, version, verdict, reason, action, status, message,
    promoted, serving (the alias after the gate) and hold.
    """

    shallow_copy_attrs: Sequence[str] = ("python_callable", "gate")

    def __init__(self, *, python_callable: Callable[..., Any], model: str,
                 model_registry: RegistrySettings | str | None = None, asset: Asset | None = None,
                 **kwargs: Any) -> None:
        if not model:
            raise ValueError("model: expected a registered model name, got ''")
        self.gate = _Gate(model=model, registry=RegistrySettings.of(model_registry), asset=asset or model_asset(model))
        outlets = outlets_with(self.gate.asset, kwargs)
        kwargs.setdefault("show_return_value_in_logs", False)  # the body returns a whole candidate
        super().__init__(python_callable=python_callable, outlets=outlets, **kwargs)

    def execute(self, context: Any) -> Any:
        return run_model_gate(super().execute(context), self.gate, context, self.log)


class _ModelGateDecoratedOperator(DecoratedOperator, ModelGateOperator):
    """`ModelGateOperator` behind a TaskFlow function."""

    custom_operator_name: str = "@task.model_gate"

    def __init__(self, *, python_callable: Callable[..., Any], op_args: Any, op_kwargs: Any, **kwargs: Any) -> None:
        super().__init__(
            kwargs_to_upstream={"python_callable": python_callable, "op_args": op_args, "op_kwargs": op_kwargs},
            python_callable=python_callable,
            op_args=op_args,
            op_kwargs=op_kwargs,
            **kwargs,
        )


def model_gate_task(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """``@task.model_gate(model=...)``: the function returns the candidate; takes `ModelGateOperator`'s arguments.

    Example (in a DAG file)::

        @task.model_gate(model="fraud_detector")
        def promote(trained: dict):       # the training task's XCom: ModelCandidate(...).to_dict()
            return trained
    """
    kwargs.pop("multiple_outputs", None)
    return task_decorator_factory(python_callable=python_callable, multiple_outputs=False,
                                  decorated_operator_class=_ModelGateDecoratedOperator, **kwargs)


Observations = Callable[[], Any]
"""Returns the canary's per-unit table (a polars/pandas/Arrow frame or a Parquet path)."""


class CanaryGateOperator(BaseSensorOperator):
    """Judge the canary of the candidate serving under `challenger` and act on its verdict (see the module).

    Args:
        model: the registered model name.
        spec: the canary spec (``*.canary.yaml`` path or `CanarySpec`), loaded now (a bad one is an import error).
        observations: the per-unit table: a callable returning it, or a Parquet file/directory path (templated).
        version: the candidate version; default the version the `challenger` alias points at when the task runs.
        challenger: the alias the candidate serves under.
        wait: on an inconclusive verdict, look again (as a sensor: ``poke_interval``, ``timeout``, ``mode``)
            instead of succeeding with verdict ``inconclusive``.
        fail_on_reject: a failed canary also fails the task (its verdict then goes to XCom
            ``guardrails_model_verdict`` only); default: the task succeeds, the verdict says ``fail``.
        model_registry / asset: as for `ModelGateOperator`.
        **kwargs: passed to `BaseSensorOperator` (``poke_interval``, ``timeout``, ``mode``, ``retries``, ...).
    """

    template_fields: Sequence[str] = ("observations_path",)
    shallow_copy_attrs: Sequence[str] = ("observations",)

    def __init__(self, *, model: str, spec: CanarySpec | str | os.PathLike[str], observations: Observations | str,
                 version: int | None = None, challenger: str = DEFAULT_CHALLENGER, wait: bool = False,
                 fail_on_reject: bool = False, model_registry: RegistrySettings | str | None = None,
                 asset: Asset | None = None, **kwargs: Any) -> None:
        if not model:
            raise ValueError("model: expected a registered model name, got ''")
        self.spec = spec if isinstance(spec, CanarySpec) else load_canary_spec(spec)
        self.observations = observations if callable(observations) else None
        self.observations_path = None if callable(observations) else os.fspath(observations)
        self.version = version
        self.challenger = challenger
        self.wait = wait
        self.fail_on_reject = fail_on_reject
        self.gate = _Gate(model=model, registry=RegistrySettings.of(model_registry), asset=asset or model_asset(model))
        outlets = outlets_with(self.gate.asset, kwargs)
        super().__init__(outlets=outlets, **kwargs)

    def execute(self, context: Any) -> Any:
        if self.wait:
            return super().execute(context)
        return self._judge(context)

    def poke(self, context: Any) -> bool | PokeReturnValue:
        record = self._judge(context)
        if record["verdict"] in (CheckVerdict.INCONCLUSIVE.value, CheckVerdict.INSUFFICIENT.value):
            self.log.info("canary of %s v%s: %s; looking again later", self.gate.model, record["version"],
                          record["message"])
            return False
        return PokeReturnValue(is_done=True, xcom_value=record)

    def _judge(self, context: Any) -> dict[str, Any]:
        units = self.observations() if self.observations is not None else self.observations_path
        guard = self.gate.guard(context)
        try:
            version = self.version or guard.status().aliases.get(self.challenger)
        except RegistryError as exc:
            raise _unreachable(self.gate.model, exc, context) from exc
        if version is None:
            raise AirflowFailException(f"canary gate of {self.gate.model!r}: no candidate serves under "
                                       f"{self.challenger!r}; nothing to judge")
        report = assess_canary(units, self.spec, check="canary")
        outcome = report.outcome
        item = classify(model_event(outcome, check=_check(context, "canary"), version=version,
                                    run_id=_run_id(context), challenger=self.challenger), CheckRole.MODEL)
        try:
            done = act(guard, item)
        except RegistryError as exc:
            raise _unreachable(self.gate.model, exc, context) from exc
        verdict = outcome.verdict.value
        if done is None:  # no verdict yet: nothing moves
            record = _verdict_record(guard, version, verdict=verdict, reason=cap_text(outcome.message, MESSAGE_CHARS),
                                     action="none", status="no_op", promoted=False,
                                     message=f"canary {verdict} for v{version}: nothing moves; v{version} keeps "
                                     f"serving under {self.challenger!r} ({item.why})")
            return _finish(record, self.gate, context)
        result = done.result
        if result.status is ActionStatus.ERROR:
            raise _errored(guard.name, done.kind, result)
        record = _verdict_record(guard, version, verdict=verdict, reason=cap_text(outcome.error or outcome.message,
                                 MESSAGE_CHARS), action=done.kind, status=result.status.value,
                                 message=cap_text(result.message, MESSAGE_CHARS),
                                 promoted=outcome.verdict is CheckVerdict.PASS and result.move is not None
                                 and result.move.to_version == version)
        if outcome.verdict is CheckVerdict.ERROR:
            raise _fail(record, context, AirflowException(
                f"canary of {guard.name} v{version} could not run ({cap_text(outcome.error or outcome.message, 300)})"
                "; nothing moved"))
        if outcome.verdict is CheckVerdict.FAIL and self.fail_on_reject:
            raise _fail(record, context, AirflowFailException(f"canary of {guard.name} v{version} failed: "
                                                              f"{record['message']}"))
        return _finish(record, self.gate, context)
