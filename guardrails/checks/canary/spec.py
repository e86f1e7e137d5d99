"""The canary spec: ``expectations/*.canary.yaml`` parsed once, at load, into frozen typed settings.

Every mistake is reported at once, each with file, line and field (`ContractError`, as contracts do), and the
file is read with the bounded YAML reader contracts use (alias bombs, recursion and deep nesting refused).

    canary:
      name: fraud_model            # optional; default: the file name without .canary.yaml
      variant_column: variant
      variants: {control: control, candidate: candidate}
      expected_split: {control: 0.5, candidate: 0.5}
      alpha: 0.05                  # error rate of each decision (pass, fail), whenever it is looked at
      power: 0.8                   # for the units still needed
      min_units: 1000              # matured units (both arms) before a non-critical metric is decided
      min_events: 10               # per arm, at least 1: below it a metric is "too sparse" and never passes
      srm_alpha: 0.001             # the sample-ratio check; a mismatch means the canary could not run
      maturity: {column: matured}  # or {timestamp: served_at, delay: 1h}: only matured units count
      metrics:
        - {name: ctr, kind: rate, column: clicked, direction: higher_is_better, margin: {relative: 0.05}, critical: true}
        - {name: precision, kind: rate, successes: true_positive, trials: flagged, direction: higher_is_better, margin: {absolute: 0.02}}
        - {name: latency_p95, kind: continuous, column: latency_ms, statistic: p95, direction: lower_is_better, margin: {absolute: 10}}

Example:
    >>> spec = CanarySpec.from_yaml(
    ...     "canary:\\n  variant_column: arm\\n  metrics:\\n"
    ...     "    - {name: ctr, kind: rate, column: clicked, direction: higher_is_better, margin: {relative: 0.05}}\\n")
    >>> spec.metrics[0].margin, spec.control, spec.min_units
    (Margin(kind='relative', value=0.05), 'control', 1000)
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from guardrails.contract._source import FieldPath, Problems, SourceDocument, combine, describe_value, parse_yaml
from guardrails.contract.durations import DURATION_FORMS, parse_duration
from guardrails.errors import ContractError

__all__ = ["CanarySpec", "Direction", "Margin", "Maturity", "MetricKind", "MetricSpec", "load_canary_spec"]


class MetricKind(StrEnum):
    """A rate (successes over trials per unit) or a continuous value per unit."""

    RATE = "rate"
    CONTINUOUS = "continuous"


class Direction(StrEnum):
    """Which way is better; the difference is oriented so that larger is always better."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


@dataclass(frozen=True, slots=True)
class Margin:
    """How much worse the candidate may be: an absolute amount, or a share of the control's value."""

    kind: Literal["absolute", "relative"]
    value: float

    def __post_init__(self) -> None:
        if self.kind not in ("absolute", "relative"):
            raise ValueError(f"margin kind must be 'absolute' or 'relative', got {self.kind!r}")
        if not (math.isfinite(self.value) and self.value >= 0):
            raise ValueError(f"margin must be a finite number >= 0, got {self.value!r}")

    def absolute(self, control: float) -> float:
        """The margin on the metric's scale: a relative margin is a share of the control's current estimate."""
        if self.kind == "absolute":
            return self.value
        return self.value * abs(control) if math.isfinite(control) else math.nan

    def describe(self) -> str:
        return f"{self.value:g}" if self.kind == "absolute" else f"{self.value:.4g} relative"


@dataclass(frozen=True, slots=True)
class Maturity:
    """Which units count: those whose `column` is true, or whose `timestamp` is at least `delay` before as-of."""

    column: str | None = None
    timestamp: str | None = None
    delay: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricSpec:
    """One metric: where its values are, which way is better, its margin, and whether it is critical.

    A rate reads `column` (0/1 or boolean: one trial per unit) or `successes` over `trials` (several trials
    per unit). A continuous metric reads `column` and judges its mean (``statistic: mean``) or a quantile
    (``p95``: `quantile` 0.95).
    """

    name: str
    kind: MetricKind
    direction: Direction
    margin: Margin
    column: str | None = None
    successes: str | None = None
    trials: str | None = None
    statistic: str = "mean"
    quantile: float | None = None
    critical: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", MetricKind(self.kind))
        object.__setattr__(self, "direction", Direction(self.direction))
        if self.kind is MetricKind.RATE and (self.column is None) == (self.successes is None or self.trials is None):
            raise ValueError(f"rate {self.name!r}: give `column`, or `successes` and `trials`")
        if self.kind is MetricKind.CONTINUOUS and self.column is None:
            raise ValueError(f"continuous metric {self.name!r} needs a column")

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for c in (self.column, self.successes, self.trials) if c is not None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CanarySpec:
    """A canary: which rows are which arm, the expected split, error rates, and the metrics with their margins."""

    metrics: tuple[MetricSpec, ...]
    variant_column: str = "variant"
    control: Any = "control"
    candidate: Any = "candidate"
    expected_split: tuple[float, float] = (0.5, 0.5)
    alpha: float = 0.05
    power: float = 0.8
    min_units: int = 1000
    min_events: int = 10
    srm_alpha: float = 0.001
    maturity: Maturity | None = None
    source: str = "<spec>"
    name: str = "canary"

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", tuple(self.metrics))
        if not self.metrics:
            raise ValueError("a canary needs at least one metric")
        if not (0 < self.alpha < 0.5 and 0 < self.power < 1 and 0 < self.srm_alpha < 1):
            raise ValueError("alpha must be in (0, 0.5), power and srm_alpha in (0, 1)")
        if self.min_units < 1 or self.min_events < 1:
            raise ValueError("min_units and min_events must be at least 1 (0 events would let an all-zero metric pass)")

    @classmethod
    def from_yaml(cls, text: str, source: str = "<spec>") -> CanarySpec:
        """Parse YAML text (named `source` in errors); raises `ContractError` with line and field."""
        return _parse(parse_yaml(text, source))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CanarySpec:
        """Read and parse a ``*.canary.yaml`` file."""
        return load_canary_spec(path)


def load_canary_spec(path: str | os.PathLike[str]) -> CanarySpec:
    """Read ``expectations/<name>.canary.yaml``; every problem is a `ContractError` naming file, line and field.

    Raises:
        ContractError: bad YAML or bad settings (all of them, the first in the message, ``... and N more``).
        OSError: the file cannot be read.
    """
    text = Path(path).read_text(encoding="utf-8")
    return _parse(parse_yaml(text, os.fspath(path)))


_TOP = {"variant_column", "variants", "expected_split", "alpha", "power", "min_units", "min_events", "srm_alpha",
        "maturity", "metrics", "name"}
_METRIC = {"name", "kind", "column", "successes", "trials", "statistic", "direction", "margin", "critical"}
_STATISTIC = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


class _Reader:
    """Typed reads at field paths, recording each problem (with its line) instead of stopping at the first."""

    def __init__(self, doc: SourceDocument) -> None:
        self.problems = Problems(doc)

    def bad(self, path: FieldPath, expected: str, got: Any) -> None:
        self.problems.error(path, expected=expected, got=describe_value(got))

    def mapping(self, value: Any, path: FieldPath, allowed: set[str]) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.bad(path, "a mapping", value)
            return None
        for key in value:
            if key not in allowed:
                self.problems.error((*path, str(key)), expected=f"one of the keys {sorted(allowed)}",
                                    got=repr(key))
        return value

    def number(self, data: Mapping[str, Any], key: str, path: FieldPath, default: float, *, low: float,
               high: float, words: str) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not (low < value < high):
            self.bad((*path, key), words, value)
            return default
        return float(value)

    def count(self, data: Mapping[str, Any], key: str, path: FieldPath, default: int, minimum: int) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.bad((*path, key), f"an integer >= {minimum}", value)
            return default
        return value

    def name(self, data: Mapping[str, Any], key: str, path: FieldPath, *, required: bool = False) -> str | None:
        if key not in data:
            if required:
                self.problems.error((*path, key), expected="a column name", got="nothing (missing)")
            return None
        value = data[key]
        if not isinstance(value, str) or not value:
            self.bad((*path, key), "a column name", value)
            return None
        return value


def _parse(doc: SourceDocument) -> CanarySpec:
    read = _Reader(doc)
    root = read.mapping(doc.data, (), {"canary"})
    top: Mapping[str, Any] | None = None
    if root is not None:
        if "canary" not in root:
            read.problems.error(("canary",), expected="a `canary:` mapping", got="nothing (missing)")
        else:
            top = read.mapping(root["canary"], ("canary",), _TOP)
    if top is None:
        raise combine(read.problems.errors)
    at: FieldPath = ("canary",)
    variant_column = read.name(top, "variant_column", at) or "variant"
    control, candidate = "control", "candidate"
    if "variants" in top:
        variants = read.mapping(top["variants"], (*at, "variants"), {"control", "candidate"})
        if variants is not None:
            for key in ("control", "candidate"):
                value = variants.get(key, key)
                if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
                    read.bad((*at, "variants", key), "a variant value (text or integer)", value)
            control, candidate = variants.get("control", control), variants.get("candidate", candidate)
            if control == candidate:
                read.bad((*at, "variants", "candidate"), "a value other than the control's", candidate)
    split = (0.5, 0.5)
    if "expected_split" in top:
        raw = read.mapping(top["expected_split"], (*at, "expected_split"), {"control", "candidate"})
        if raw is not None:
            shares = [read.number(raw, k, (*at, "expected_split"), 0.5, low=0, high=1,
                                  words="a share strictly between 0 and 1") for k in ("control", "candidate")]
            if abs(sum(shares) - 1) > 1e-6:
                read.bad((*at, "expected_split"), "shares that add up to 1", dict(raw))
            split = (shares[0], shares[1])
    alpha = read.number(top, "alpha", at, 0.05, low=0, high=0.5, words="a number strictly between 0 and 0.5")
    power = read.number(top, "power", at, 0.8, low=0, high=1, words="a number strictly between 0 and 1")
    srm_alpha = read.number(top, "srm_alpha", at, 0.001, low=0, high=1, words="a number strictly between 0 and 1")
    min_units = read.count(top, "min_units", at, 1000, 1)
    min_events = read.count(top, "min_events", at, 10, 1)  # 0 would let an all-zero metric pass
    name = top.get("name", Path(doc.path).name.removesuffix(".canary.yaml") if doc.path != "<spec>" else "canary")
    if not isinstance(name, str) or not name:
        read.bad((*at, "name"), "a non-empty name", name)
        name = "canary"
    maturity = _maturity(read, top.get("maturity"), (*at, "maturity")) if "maturity" in top else None
    metrics: list[MetricSpec] = []
    raw_metrics = top.get("metrics")
    if not isinstance(raw_metrics, list) or not raw_metrics:
        read.bad((*at, "metrics"), "a non-empty list of metrics", raw_metrics)
    else:
        seen: set[str] = set()
        for index, raw in enumerate(raw_metrics):
            metric = _metric(read, raw, (*at, "metrics", index), variant_column)
            if metric is None:
                continue
            if metric.name in seen:
                read.bad((*at, "metrics", index, "name"), "a name used once", metric.name)
            seen.add(metric.name)
            metrics.append(metric)
    if read.problems.errors:
        raise combine(read.problems.errors)
    return CanarySpec(metrics=tuple(metrics), variant_column=variant_column, control=control, candidate=candidate,
                      expected_split=split, alpha=alpha, power=power, min_units=min_units, min_events=min_events,
                      srm_alpha=srm_alpha, maturity=maturity, source=doc.path, name=name)


def _maturity(read: _Reader, value: Any, at: FieldPath) -> Maturity | None:
    data = read.mapping(value, at, {"column", "timestamp", "delay"})
    if data is None:
        return None
    column, timestamp = read.name(data, "column", at), read.name(data, "timestamp", at)
    if (column is None) == (timestamp is None):
        read.bad(at, "exactly one of `column` (true when matured) or `timestamp` (with `delay`)", dict(data))
        return None
    delay = timedelta(0)
    if "delay" in data:
        if timestamp is None:
            read.bad((*at, "delay"), "no delay with `column` (a delay needs `timestamp`)", data["delay"])
        try:
            delay = parse_duration(data["delay"], allow_zero=True)
        except (ValueError, TypeError):
            read.bad((*at, "delay"), DURATION_FORMS, data["delay"])
    return Maturity(column=column, timestamp=timestamp, delay=delay)


def _metric(read: _Reader, raw: Any, at: FieldPath, variant_column: str) -> MetricSpec | None:
    data = read.mapping(raw, at, _METRIC)
    if data is None:
        return None
    errors_before = len(read.problems.errors)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        read.bad((*at, "name"), "a non-empty metric name", name)
    kind_raw = data.get("kind")
    kind = MetricKind(kind_raw) if kind_raw in tuple(MetricKind) else None
    if kind is None:
        read.bad((*at, "kind"), "rate or continuous", kind_raw)
    direction_raw = data.get("direction")
    direction = Direction(direction_raw) if direction_raw in tuple(Direction) else None
    if direction is None:
        read.bad((*at, "direction"), "higher_is_better or lower_is_better", direction_raw)
    margin = _margin(read, data.get("margin"), (*at, "margin"))
    critical = data.get("critical", False)
    if not isinstance(critical, bool):
        read.bad((*at, "critical"), "true or false", critical)
    column = read.name(data, "column", at)
    successes, trials = read.name(data, "successes", at), read.name(data, "trials", at)
    statistic, quantile = "mean", None
    if kind is MetricKind.RATE:
        if "statistic" in data:
            read.bad((*at, "statistic"), "no statistic on a rate (it is successes over trials)", data["statistic"])
        if (column is None) == (successes is None and trials is None):
            read.bad(at, "a rate with either `column` (0/1 per unit) or `successes` and `trials`", dict(data))
        elif column is None and (successes is None or trials is None):
            read.bad((*at, "trials" if trials is None else "successes"), "a column name (both successes and "
                     "trials are needed)", None)
    elif kind is MetricKind.CONTINUOUS:
        if column is None and "column" not in data:
            read.problems.error((*at, "column"), expected="a column name", got="nothing (missing)")
        for key in ("successes", "trials"):
            if key in data:
                read.bad((*at, key), f"no `{key}` on a continuous metric (it reads `column`)", data[key])
        statistic = data.get("statistic", "mean")
        match = _STATISTIC.match(statistic) if isinstance(statistic, str) else None
        if statistic == "median":
            quantile = 0.5
        elif match is not None and 0 < float(match.group(1)) < 100:
            quantile = float(match.group(1)) / 100
        elif statistic != "mean":
            read.bad((*at, "statistic"), "mean, median or a percentile such as p95 or p99.9", statistic)
    for key, value in (("column", column), ("successes", successes), ("trials", trials)):
        if value is not None and value == variant_column:
            read.bad((*at, key), "a column other than the variant column", value)
    if len(read.problems.errors) > errors_before or kind is None or direction is None or margin is None:
        return None
    return MetricSpec(name=name, kind=kind, direction=direction, margin=margin, column=column, successes=successes,
                      trials=trials, statistic=str(statistic), quantile=quantile, critical=critical)


def _margin(read: _Reader, value: Any, at: FieldPath) -> Margin | None:
    data = read.mapping(value, at, {"absolute", "relative"}) if value is not None else None
    if value is None:
        read.problems.error(at, expected="{absolute: <number>} or {relative: <share>}", got="nothing (missing)")
        return None
    if data is None:
        return None
    if len(data) != 1:
        read.bad(at, "exactly one of `absolute` or `relative`", dict(data))
        return None
    kind, amount = next(iter(data.items()))
    if kind not in ("absolute", "relative"):
        return None  # already reported as an unknown key
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount) or amount < 0 or (
            kind == "relative" and amount >= 1):
        read.bad((*at, kind), "a number >= 0" + (" and below 1" if kind == "relative" else ""), amount)
        return None
    return Margin(kind, float(amount))
