"""The fairness spec: a YAML file beside the contracts (``expectations/*.fairness.yaml``), parsed once into frozen
typed settings; a bad spec is refused at load with the file, the line and the field.

Example (every key but ``prediction`` and ``segments`` has a default)::

    fairness:
      prediction: fraud_score          # a score (judged as score >= threshold) or a boolean decision
      threshold: 0.75                  # omit for a boolean (or 0/1) prediction column
      label: is_fraud                  # needed for precision, recall and false_positive_rate
      segments: [country, channel]     # each column judged on its own (its values are the segments)
      metrics: [selection_rate, precision, false_positive_rate]   # default: all four (selection_rate without a label)
      tolerance: {difference: 0.05}    # and/or ratio: 0.8 (the smallest segment value / the largest)
      champion_tolerance: {difference: 0.01}   # how much a candidate may widen the champion's gap
      min_group_size: 200              # smaller segments are reported as too small, never judged or merged
      min_metric_count: 20             # fewest rows in a metric's denominator (e.g. predicted positives)
      confidence: 0.95                 # of the intervals, family-wise over every gap judged
      resamples: 1000                  # bootstrap resamples (of confusion counts, not rows)
      seed: 0                          # the same data always gets the same verdict

    >>> spec = FairnessSpec.from_mapping({"fairness": {"prediction": "p", "threshold": 0.5, "label": "y",
    ...                                                "segments": ["country"]}})
    >>> spec.metrics, spec.tolerance.difference, spec.min_group_size
    (('selection_rate', 'precision', 'recall', 'false_positive_rate'), 0.05, 200)
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardrails.contract._source import Problems, SourceDocument, combine, describe_value, parse_yaml
from guardrails.contract._yaml import FieldPath
from guardrails.errors import ContractError

METRICS = ("selection_rate", "precision", "recall", "false_positive_rate")
"""The metrics a spec may name, each a rate of confusion counts (see `guardrails.checks.fairness._metrics`)."""

LABELLED = frozenset({"precision", "recall", "false_positive_rate"})
"""Metrics that need the label column."""

MAX_SPEC_BYTES = 1024 * 1024
"""A spec is a screenful; anything past this is refused before it is parsed."""

_KEYS = {"prediction", "threshold", "label", "segments", "metrics", "tolerance", "champion_tolerance",
         "min_group_size", "min_metric_count", "confidence", "resamples", "seed"}


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How large a gap is tolerated: `difference` (largest minus smallest segment value) and/or `ratio` (smallest
    over largest, at least this); None leaves that form unjudged (still reported)."""

    difference: float | None = 0.05
    ratio: float | None = None

    def __post_init__(self) -> None:
        if self.difference is None and self.ratio is None:
            raise ValueError("a tolerance needs a difference, a ratio, or both")
        if self.difference is not None and not 0 <= self.difference < 1:
            raise ValueError(f"difference must be in [0, 1), got {self.difference}")
        if self.ratio is not None and not 0 < self.ratio <= 1:
            raise ValueError(f"ratio must be in (0, 1], got {self.ratio}")

    def describe(self) -> str:
        parts = []
        if self.difference is not None:
            parts.append(f"difference <= {self.difference:g}")
        if self.ratio is not None:
            parts.append(f"ratio >= {self.ratio:g}")
        return " and ".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class FairnessSpec:
    """What a fairness gate judges and how; frozen, validated when built (a ValueError names the field).

    `source` is the file it was read from (for messages and outcomes), `"<spec>"` when built in code.
    """

    prediction: str
    segments: tuple[str, ...]
    threshold: float | None = None
    label: str | None = None
    metrics: tuple[str, ...] = None  # type: ignore[assignment]  # all four with a label, else the selection rate
    tolerance: Tolerance = Tolerance()
    champion_tolerance: Tolerance = Tolerance(difference=0.01)
    min_group_size: int = 200
    min_metric_count: int = 20
    confidence: float = 0.95
    resamples: int = 1000
    seed: int = 0
    source: str = "<spec>"

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(self.segments))
        if self.metrics is None:
            object.__setattr__(self, "metrics", METRICS if self.label is not None else ("selection_rate",))
        object.__setattr__(self, "metrics", tuple(self.metrics))
        if not self.segments:
            raise ValueError("segments: name at least one segment column")
        if len(set(self.segments)) != len(self.segments):
            raise ValueError(f"segments: a column is named twice in {list(self.segments)}")
        if self.prediction in self.segments or (self.label is not None and self.label in self.segments):
            raise ValueError("segments: the prediction and label columns cannot be segment columns")
        if not self.metrics or set(self.metrics) - set(METRICS) or len(set(self.metrics)) != len(self.metrics):
            raise ValueError(f"metrics: expected distinct names from {list(METRICS)}, got {list(self.metrics)}")
        if self.label is None and (needs := [m for m in self.metrics if m in LABELLED]):
            raise ValueError(f"label: {', '.join(needs)} need the label column; name it or drop those metrics")
        if self.threshold is not None and not math.isfinite(self.threshold):
            raise ValueError(f"threshold: expected a finite number, got {self.threshold}")
        if self.min_group_size < 1 or self.min_metric_count < 1:
            raise ValueError("min_group_size and min_metric_count must be at least 1")
        if not 0.5 <= self.confidence < 1:
            raise ValueError(f"confidence: expected a number in [0.5, 1), got {self.confidence}")
        if not 100 <= self.resamples <= 100_000:
            raise ValueError(f"resamples: expected 100 to 100000, got {self.resamples}")
        if self.champion_tolerance.difference is None or self.champion_tolerance.ratio is not None:
            raise ValueError("champion_tolerance: a widening is judged on the difference only: {difference: <0..1>}")

    @property
    def alpha(self) -> float:
        """The family-wise false-alarm rate: 1 - confidence."""
        return 1.0 - self.confidence

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the check reads."""
        return (self.prediction, *((self.label,) if self.label else ()), *self.segments)

    @classmethod
    def from_mapping(cls, data: Any, *, source: str = "<spec>") -> FairnessSpec:
        """A spec from parsed YAML (``{"fairness": {...}}``); every problem is collected into one `ContractError`."""
        return _read(SourceDocument(source, data, {}))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FairnessSpec:
        """Read a ``*.fairness.yaml`` file; raises `ContractError` (file, line, field) for anything invalid."""
        return load_fairness_spec(path)


def load_fairness_spec(path: str | os.PathLike[str]) -> FairnessSpec:
    """Read and validate a fairness spec file, collecting every problem (``... and N more``).

    Raises:
        ContractError: the file is missing, too large, not YAML, or any field is invalid (with its line).
    """
    name = os.fspath(path)
    try:
        size = Path(name).stat().st_size
        if size > MAX_SPEC_BYTES:
            raise ContractError(name, "(document)", expected=f"a spec under {MAX_SPEC_BYTES:,} bytes",
                                got=f"{size:,} bytes")
        text = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(name, "(document)", expected="a readable UTF-8 file",
                            got=f"{type(exc).__name__}: {exc}") from exc
    return _read(parse_yaml(text, name))


def _read(doc: SourceDocument) -> FairnessSpec:
    problems = Problems(doc)
    root = doc.data
    if not isinstance(root, Mapping) or "fairness" not in root:
        problems.error((), expected="a mapping with the key 'fairness'", got=describe_value(root))
        raise combine(problems.errors)
    if unknown := sorted(set(root) - {"fairness"}):
        problems.error((unknown[0],), expected="only the key 'fairness' at the top", got=repr(unknown[0]))
    body = root["fairness"]
    if not isinstance(body, Mapping):
        problems.error(("fairness",), expected="a mapping", got=describe_value(body))
        raise combine(problems.errors)
    reader = _Reader(problems, body)
    for key in sorted(set(body) - _KEYS, key=str):
        problems.error(("fairness", key), expected=f"one of the keys {sorted(_KEYS)}", got=repr(key))
    options: dict[str, Any] = {
        "prediction": reader.column("prediction", required=True),
        "segments": reader.columns("segments"),
        "threshold": reader.number("threshold", None),
        "label": reader.column("label", required=False),
        "metrics": reader.metrics(),
        "tolerance": reader.tolerance("tolerance", Tolerance()),
        "champion_tolerance": reader.tolerance("champion_tolerance", Tolerance(difference=0.01)),
        "min_group_size": reader.integer("min_group_size", 200, low=1),
        "min_metric_count": reader.integer("min_metric_count", 20, low=1),
        "confidence": reader.number("confidence", 0.95, low=0.5, high=0.999999),
        "resamples": reader.integer("resamples", 1000, low=100, high=100_000),
        "seed": reader.integer("seed", 0, low=0),
        "source": doc.path,
    }
    if problems.errors:
        raise combine(problems.errors)
    try:
        return FairnessSpec(**options)
    except ValueError as exc:  # a rule across fields (a label for precision, a segment named twice)
        field, _, why = str(exc).partition(": ")
        path: FieldPath = ("fairness", field) if field in _KEYS else ("fairness",)
        problems.error(path, expected="consistent fairness settings", got=why or str(exc))
        raise combine(problems.errors) from exc


class _Reader:
    """Typed reads of the ``fairness`` mapping, each problem recorded with its line (None when invalid)."""

    def __init__(self, problems: Problems, body: Mapping[str, Any]) -> None:
        self.problems, self.body = problems, body

    def _bad(self, path: FieldPath, expected: str, value: Any) -> None:
        self.problems.error(("fairness", *path), expected=expected, got=describe_value(value))

    def column(self, key: str, *, required: bool) -> str | None:
        if key not in self.body:
            if required:
                self.problems.error(("fairness", key), expected=f"'{key}': a column name", got="nothing (missing)")
            return None
        value = self.body[key]
        if not isinstance(value, str) or not value:
            self._bad((key,), "a column name", value)
            return None
        return value

    def columns(self, key: str) -> tuple[str, ...]:
        value = self.body.get(key)
        if key not in self.body:
            self.problems.error(("fairness", key), expected=f"'{key}': a list of column names", got="nothing (missing)")
            return ()
        if not isinstance(value, list) or not value:
            self._bad((key,), "a non-empty list of column names", value)
            return ()
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item:
                self._bad((key, index), "a column name", item)
        return tuple(v for v in value if isinstance(v, str))

    def metrics(self) -> tuple[str, ...] | None:
        if "metrics" not in self.body:
            return None
        value = self.body["metrics"]
        if not isinstance(value, list) or not value:
            self._bad(("metrics",), f"a non-empty list of {list(METRICS)}", value)
            return METRICS
        for index, item in enumerate(value):
            if item not in METRICS:
                self._bad(("metrics", index), f"one of {list(METRICS)}", item)
        return tuple(v for v in value if v in METRICS) or METRICS

    def number(self, key: str, default: float | None, *, low: float | None = None,
               high: float | None = None, path: FieldPath | None = None, body: Any = None) -> float | None:
        source = self.body if body is None else body
        if key not in source:
            return default
        value = source[key]
        where = path or (key,)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self._bad(where, "a finite number", value)
            return default
        if (low is not None and value < low) or (high is not None and value > high):
            self._bad(where, f"a number in [{low}, {high}]", value)
            return default
        return float(value)

    def integer(self, key: str, default: int, *, low: int, high: int | None = None) -> int:
        if key not in self.body:
            return default
        value = self.body[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            self._bad((key,), f"an integer >= {low}" + (f" and <= {high}" if high is not None else ""), value)
            return default
        return value

    def tolerance(self, key: str, default: Tolerance) -> Tolerance:
        if key not in self.body:
            return default
        value = self.body[key]
        if not isinstance(value, Mapping) or not value:
            self._bad((key,), "a mapping {difference: <0..1>, ratio: <0..1>}", value)
            return default
        for extra in sorted(set(value) - {"difference", "ratio"}, key=str):
            self._bad((key, extra), "only the keys 'difference' and 'ratio'", extra)
        difference = self.number("difference", None, low=0.0, high=0.999999, path=(key, "difference"), body=value)
        ratio = self.number("ratio", None, low=1e-9, high=1.0, path=(key, "ratio"), body=value)
        if difference is None and ratio is None:
            return default
        return Tolerance(difference=difference, ratio=ratio)
