"""The performance spec: a YAML file beside the contracts, parsed once into frozen typed settings.

Every refusal names the file, the line and the field (``expectations/x.performance.yaml:7: performance.margin:
expected ...``), and one load reports every problem it finds ("... and N more"), as contracts do. The file is
read by the bounded YAML reader (`guardrails.contract._source.parse_yaml`), so a hostile file is refused too.

Example:
    >>> spec = PerformanceSpec.from_text('''
    ... performance:
    ...   key: transaction_id
    ...   prediction: score
    ...   label: is_fraud
    ...   prediction_time: event_time
    ...   label_maturity: 30d
    ...   reference_metrics: {precision: 0.80, recall: 0.60, roc_auc: 0.90}
    ... ''', "fraud.performance.yaml")
    >>> spec.label_maturity.days, [m.value for m in spec.metrics], spec.margin.bound(Metric.PRECISION, 0.8)
    (30, ['precision', 'recall', 'roc_auc'], 0.75)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from guardrails.contract._source import Problems, combine, describe_value, parse_yaml
from guardrails.contract.durations import DURATION_FORMS, parse_duration
from guardrails.errors import ContractError

__all__ = ["Calibration", "Margin", "Metric", "PerformanceSpec", "load_performance_spec"]


class Metric(StrEnum):
    """The metrics a performance check computes (ECE is the expected calibration error, 10 equal-width bins)."""

    PRECISION = "precision"
    RECALL = "recall"
    F1 = "f1"
    ROC_AUC = "roc_auc"
    LOG_LOSS = "log_loss"
    ECE = "ece"

    @property
    def higher_is_better(self) -> bool:
        return self not in (Metric.LOG_LOSS, Metric.ECE)


ESTIMABLE = (Metric.PRECISION, Metric.RECALL, Metric.F1, Metric.ROC_AUC)
"""What the label-free estimate covers. Log loss and ECE need the labels themselves (ECE measures exactly the
calibration the estimate has to assume), so they are realized only."""


class Calibration(StrEnum):
    """How the estimate calibrates scores on the labelled reference (scikit-learn, cross-fitted)."""

    ISOTONIC = "isotonic"
    SIGMOID = "sigmoid"  # Platt scaling


@dataclass(frozen=True, slots=True)
class Margin:
    """How much worse than the reference a metric may get: `absolute` (0.05 = five points) or `relative` (0.1 =
    ten per cent of the reference). Exactly one is set."""

    absolute: float | None = None
    relative: float | None = None

    def __post_init__(self) -> None:
        if (self.absolute is None) == (self.relative is None):
            raise ValueError("give exactly one of absolute or relative")
        value = self.absolute if self.absolute is not None else self.relative
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ValueError(f"a margin is a finite number >= 0, got {value!r}")

    def width(self, reference: float) -> float:
        return self.absolute if self.absolute is not None else abs(reference) * self.relative  # type: ignore[operator]

    def bound(self, metric: Metric, reference: float) -> float:
        """The worst acceptable value: ``reference - margin`` (higher is better) or ``reference + margin``."""
        width = self.width(reference)
        return round(reference - width if metric.higher_is_better else reference + width, 12)

    def describe(self) -> str:
        return f"{self.absolute:g} absolute" if self.absolute is not None else f"{self.relative:.0%} relative"


@dataclass(frozen=True, slots=True, kw_only=True)
class PerformanceSpec:
    """What realized performance means for one model's predictions, and how it is judged.

    Attributes:
        key: the unit's id, shared by the logged predictions and the labels.
        prediction: the predicted probability of the positive class.
        label: the outcome column (1/true = positive; in the labels frame, or in the predictions when labels are
            logged with them).
        threshold: a unit is predicted positive when ``prediction >= threshold`` (precision, recall, F1).
        prediction_time: when the prediction was made; periods and maturity count from it.
        label_time: when the label arrived (in the labels); optional. With it, a label arriving after the
            maturity window is ignored (counted as `late`), so a period's realized value never changes later.
        label_maturity: how long after the prediction its outcome is known: a mature unit without a label is a
            negative (no chargeback after 30 days: no fraud). Only mature units are judged.
        period: the length of one judged period (``1d``), aligned to the epoch in UTC; None: one period.
        metrics: the metrics judged (the others are still computed and shown).
        reference_metrics: the expected value of each judged metric; a judged metric without one takes its
            value on `reference_data` (labelled reference predictions), else the check cannot run.
        margin: how much worse than the reference a realized metric may be before the check fails.
        min_labels: mature units a period needs to be judged; with no period judged the verdict is insufficient.
        confidence: the level of every interval.
        calibration / folds: the estimate's cross-fitted calibration on the reference (out-of-fold, `folds`
            folds); `max_calibration_error`: the out-of-fold ECE above which the estimate cannot run.
        label_rate_tolerance: a relative change of the label rate above which (and significant at |z| > 3)
            the label rate counts as changed (prior shift).
        model_version: the column naming the model version that made each prediction; optional. With it, each
            version's predictions are judged on their own and the report is the worst version's, naming it
            (``outcome.metrics["model_version"]``), so a failure tags only the version that failed.
    """

    key: str
    prediction: str
    label: str
    prediction_time: str
    label_maturity: timedelta
    threshold: float = 0.5
    label_time: str | None = None
    period: timedelta | None = None
    metrics: tuple[Metric, ...] = (Metric.PRECISION, Metric.RECALL, Metric.ROC_AUC)
    reference_metrics: Mapping[Metric, float] = field(default_factory=dict)
    margin: Margin = Margin(absolute=0.05)
    min_labels: int = 500
    confidence: float = 0.95
    calibration: Calibration = Calibration.ISOTONIC
    folds: int = 5
    max_calibration_error: float = 0.05
    label_rate_tolerance: float = 0.2
    model_version: str | None = None
    name: str = "performance"
    source: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", tuple(Metric(m) for m in self.metrics))
        object.__setattr__(self, "reference_metrics", {Metric(k): float(v) for k, v in self.reference_metrics.items()})
        object.__setattr__(self, "calibration", Calibration(self.calibration))
        problems = []
        if not 0.0 <= self.threshold <= 1.0:
            problems.append(f"threshold must be in [0, 1], got {self.threshold}")
        if self.label_maturity <= timedelta(0):
            problems.append(f"label_maturity must be positive, got {self.label_maturity}")
        if self.period is not None and self.period <= timedelta(0):
            problems.append(f"period must be positive, got {self.period}")
        if not self.metrics or len(set(self.metrics)) != len(self.metrics):
            problems.append(f"metrics must name each metric once, got {[m.value for m in self.metrics]}")
        if self.min_labels < 1 or self.folds < 2:
            problems.append(f"min_labels must be >= 1 and folds >= 2, got {self.min_labels} and {self.folds}")
        if not 0.5 <= self.confidence < 1.0:
            problems.append(f"confidence must be in [0.5, 1), got {self.confidence}")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_text(cls, text: str, source: str = "<performance spec>") -> PerformanceSpec:
        """Parse a spec document; raise `ContractError` naming the file, line and field of every problem."""
        doc = parse_yaml(text, source)
        problems = Problems(doc)
        spec = _read(doc.data, problems, source)
        if problems.errors:
            raise combine(problems.errors)
        assert spec is not None
        return spec

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "<performance spec>") -> PerformanceSpec:
        """Parse an already-loaded mapping (``{"performance": {...}}`` or its inner mapping); no line numbers."""
        import yaml

        inner = data if "performance" in data else {"performance": data}
        return cls.from_text(yaml.safe_dump(dict(inner), sort_keys=False), source)


def load_performance_spec(path: str | Path) -> PerformanceSpec:
    """Read ``expectations/<name>.performance.yaml`` (its check name is the spec's `name`, default ``performance``).

    Raises:
        ContractError: the file is not a valid spec (file, line and field of every problem).
        OSError: the file cannot be read.
    """
    path = Path(path)
    return PerformanceSpec.from_text(path.read_text(encoding="utf-8"), str(path))


_FIELDS = {"key", "prediction", "label", "threshold", "prediction_time", "label_time", "label_maturity", "period",
           "metrics", "reference_metrics", "margin", "min_labels", "confidence", "estimate", "label_rate_tolerance",
           "model_version", "name"}
_ESTIMATE_FIELDS = {"calibration", "folds", "max_calibration_error"}
_REQUIRED = ("key", "prediction", "label", "prediction_time", "label_maturity")


def _read(data: Any, problems: Problems, source: str) -> PerformanceSpec | None:
    """Every field of the document, each refusal recorded with its path (the line comes from the document)."""
    if not isinstance(data, Mapping) or "performance" not in data:
        problems.error((), expected="a mapping with a `performance:` section", got=describe_value(data))
        return None
    for extra in sorted(set(data) - {"performance"}, key=str):
        problems.error((extra,), expected="only the key `performance`", got=repr(extra))
    body = data["performance"]
    root = ("performance",)
    if not isinstance(body, Mapping):
        problems.error(root, expected="a mapping of settings", got=describe_value(body))
        return None
    for extra in sorted(set(body) - _FIELDS, key=str):
        problems.error((*root, extra), expected=f"one of {sorted(_FIELDS)}", got=repr(extra))
    for name in _REQUIRED:
        if name not in body:
            problems.error((*root, name), expected=f"the required field `{name}`", got="nothing")
    options: dict[str, Any] = {}

    def text(name: str) -> None:
        if name in body:
            value = body[name]
            if isinstance(value, str) and value.strip():
                options[name] = value
            else:
                problems.error((*root, name), expected="a column name", got=describe_value(value))

    for name in ("key", "prediction", "label", "prediction_time", "label_time", "model_version", "name"):
        text(name)

    def number(name: str, low: float, high: float, where: tuple[Any, ...] = root, into: dict[str, Any] = options,
               integer: bool = False, body: Mapping[str, Any] = body) -> None:
        if name not in body:
            return
        value = body[name]
        kind = int if integer else int | float
        if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value) or not low <= value <= high:
            shape = "an integer" if integer else "a number"
            problems.error((*where, name), expected=f"{shape} in [{low:g}, {high:g}]", got=describe_value(value))
        else:
            into[name] = value

    number("threshold", 0.0, 1.0)
    number("min_labels", 1, 10**12, integer=True)
    number("confidence", 0.5, 0.999)
    number("label_rate_tolerance", 0.0, 100.0)
    for name in ("label_maturity", "period"):
        if name in body:
            try:
                options[name] = parse_duration(body[name])
            except ValueError as exc:
                problems.error((*root, name), expected=DURATION_FORMS, got=describe_value(body[name]),
                               hint=str(exc) if "months" in str(exc) else "")
    names = ", ".join(m.value for m in Metric)
    if "metrics" in body:
        raw = body["metrics"]
        if not isinstance(raw, list) or not raw:
            problems.error((*root, "metrics"), expected=f"a list of metrics among {names}", got=describe_value(raw))
        else:
            chosen = []
            for index, item in enumerate(raw):
                if item not in {m.value for m in Metric} or item in chosen:
                    problems.error((*root, "metrics", index), expected=f"a metric among {names}, each once",
                                   got=describe_value(item))
                else:
                    chosen.append(item)
            options["metrics"] = tuple(Metric(m) for m in chosen)
    if "reference_metrics" in body:
        raw = body["reference_metrics"]
        where = (*root, "reference_metrics")
        if not isinstance(raw, Mapping):
            problems.error(where, expected=f"a mapping of metric to value ({names})", got=describe_value(raw))
        else:
            reference: dict[Metric, float] = {}
            for name, value in raw.items():
                if name not in {m.value for m in Metric}:
                    problems.error((*where, name), expected=f"a metric among {names}", got=repr(name))
                elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or (
                        value < 0 or (Metric(name) is not Metric.LOG_LOSS and value > 1)):
                    problems.error((*where, name), expected="a number in [0, 1] (log_loss: >= 0)",
                                   got=describe_value(value))
                else:
                    reference[Metric(name)] = float(value)
            options["reference_metrics"] = reference
    if "margin" in body:
        raw = body["margin"]
        where = (*root, "margin")
        if not isinstance(raw, Mapping) or len(raw) != 1 or next(iter(raw)) not in ("absolute", "relative"):
            problems.error(where, expected="{absolute: <number>} or {relative: <number>}", got=describe_value(raw))
        else:
            kind, value = next(iter(raw.items()))
            try:
                options["margin"] = Margin(**{kind: value})
            except (ValueError, TypeError):
                problems.error((*where, kind), expected="a finite number >= 0", got=describe_value(value))
    if "estimate" in body:
        raw = body["estimate"]
        where = (*root, "estimate")
        if not isinstance(raw, Mapping):
            problems.error(where, expected=f"a mapping of {sorted(_ESTIMATE_FIELDS)}", got=describe_value(raw))
        else:
            for extra in sorted(set(raw) - _ESTIMATE_FIELDS, key=str):
                problems.error((*where, extra), expected=f"one of {sorted(_ESTIMATE_FIELDS)}", got=repr(extra))
            if "calibration" in raw:
                if raw["calibration"] in {c.value for c in Calibration}:
                    options["calibration"] = Calibration(raw["calibration"])
                else:
                    problems.error((*where, "calibration"), expected="isotonic or sigmoid",
                                   got=describe_value(raw["calibration"]))
            number("folds", 2, 50, where=where, integer=True, body=raw)
            number("max_calibration_error", 0.0, 1.0, where=where, body=raw)
    if problems.errors:
        return None
    try:
        return PerformanceSpec(source=source, **options)
    except ValueError as exc:
        problems.error(root, expected="consistent settings", got=str(exc))
        return None


def spec_error(spec: PerformanceSpec, field: str, *, expected: str, got: str) -> ContractError:
    """A refusal of a spec found when it meets data (a column missing): the spec's file and field, no line."""
    return ContractError(spec.source or spec.name, f"performance.{field}", expected=expected, got=got)
