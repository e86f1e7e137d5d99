"""`assess_canary`: judge a candidate against the control on per-unit observations, valid however often it runs.

Each call sees every matured unit so far (the API keeps no state). Per metric it estimates both arms and the
difference ``Delta = candidate - control``, oriented so that larger is better (``control - candidate`` for a
lower-is-better metric), with an anytime-valid confidence sequence (`boundaries`, `quantiles`) and, beside it
and never deciding, a fixed-n interval (`intervals`). With ``m`` the metric's margin on its own scale:

- **pass** when the sequence's lower bound is above ``-m``: no worse than the margin, with confidence;
- **fail** when its upper bound is below ``-m``: worse than the margin allows, with confidence;
- **inconclusive** otherwise, with the units the sequential test still needs for the spec's power when the
  candidate is as good as the control (`boundaries.sequential_units`).

Across metrics: the canary **fails** when any metric fails, decided by Holm's step-down over the metrics' fail
hypotheses (so a canary no worse than its margins on every metric is failed with probability at most alpha);
it **passes** only when every metric passes, an intersection-union test that needs no correction (Berger
1982). A metric is decided once ``min_units`` matured units have arrived, a ``critical`` one from the first
look. A metric with fewer than ``min_events`` events (successes and non-successes of a rate, non-zero values
of a continuous metric) in either arm is "too sparse": it can fail but never pass, so an all-zero error rate is
never a silent pass. A sample-ratio mismatch (`srm`) means the canary **could not run** (verdict ``error``),
as does unreadable input or a missing column; a wrong spec raises `ContractError` at load.

Example:
    >>> import numpy as np, polars as pl
    >>> from guardrails.checks.canary.spec import CanarySpec, Margin, MetricSpec
    >>> rng = np.random.default_rng(0)
    >>> frame = pl.DataFrame({"variant": np.where(rng.random(40_000) < 0.5, "control", "candidate"),
    ...                       "clicked": rng.random(40_000) < 0.1})
    >>> spec = CanarySpec(metrics=(MetricSpec(name="ctr", kind="rate", column="clicked",
    ...                   direction="higher_is_better", margin=Margin("relative", 0.2)),))
    >>> report = assess_canary(frame, spec)
    >>> report.verdict.value, report.metrics[0].verdict.value, report.outcome.status.value
    ('pass', 'pass', 'passed')
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import numpy as np
import polars as pl
from polars.exceptions import PanicException

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.checks.canary.boundaries import half_width, optimal_rho, sequential_units
from guardrails.checks.canary.intervals import HL_MAX_UNITS, delta_wald, hodges_lehmann, newcombe
from guardrails.checks.canary.quantiles import quantile_bounds, ranks
from guardrails.checks.canary.spec import CanarySpec, Direction, MetricKind, MetricSpec, load_canary_spec
from guardrails.checks.canary.srm import srm_p_value
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity, Verdict, judge
from guardrails.validation._frames import error_line, to_polars

__all__ = ["CanaryReport", "Interval", "CanaryMetricResult", "assess_canary"]



@dataclass(frozen=True, slots=True)
class Interval:
    """An interval for Delta at level ``1 - alpha``; an end that is None is unbounded (too few units yet)."""

    lower: float | None
    upper: float | None
    alpha: float
    method: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CanaryMetricResult:
    """One metric's estimates, intervals and verdict.

    `control` and `candidate` are the arms' values (a rate, a mean or a quantile; None without units);
    `estimate` is Delta oriented so that larger is better; `margin` is ``m`` on the metric's scale (a relative
    margin times the control's value) and the decision threshold is ``-margin``. `units_needed` is how many
    more matured units (both arms) the sequential test needs for the spec's power when the candidate is as
    good as the control: 0 once decided, None when no number of units would do (a margin of 0) or it cannot
    be estimated yet.
    """

    name: str
    kind: MetricKind
    statistic: str
    direction: Direction
    critical: bool
    verdict: Verdict
    control: float | None
    candidate: float | None
    estimate: float | None
    margin: float | None
    margin_spec: str
    sequential: Interval
    fixed_n: Interval
    units: int
    units_control: int
    units_candidate: int
    events_control: float
    events_candidate: float
    units_needed: int | None
    message: str

    def to_rule(self) -> RuleResult:
        status = CheckStatus.PASSED if self.verdict is Verdict.PASS else CheckStatus.FAILED
        severity = Severity.ERROR if self.verdict is Verdict.FAIL else Severity.WARNING
        threshold = "?" if self.margin is None else f"{-self.margin:.6g}"
        return RuleResult(rule_id=f"canary.{self.name}", kind="canary", columns=(), severity=severity,
                          status=status, failing_rows=0, observed=self.estimate,
                          expected=f"Delta above {threshold} (margin {self.margin_spec})", message=self.message)

    def to_dict(self) -> dict[str, Any]:
        return _adapter(CanaryMetricResult).dump_python(self, mode="json")  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CanaryMetricResult:
        return _adapter(CanaryMetricResult).validate_python(dict(data))  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True, kw_only=True)
class CanaryReport:
    """A canary look: the common outcome, the verdict, the split, and one `CanaryMetricResult` per metric."""

    outcome: CheckOutcome
    metrics: tuple[CanaryMetricResult, ...]
    units: int
    units_control: int
    units_candidate: int
    units_immature: int
    srm_p_value: float | None
    alpha: float
    power: float
    min_units: int

    @property
    def verdict(self) -> Verdict:
        """pass, fail, inconclusive, or error (the canary could not run)."""
        return self.outcome.verdict

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in ("units", "units_control", "units_candidate", "units_immature",
                                               "srm_p_value", "alpha", "power", "min_units")}
        return {"verdict": self.verdict.value, **data, "metrics": [m.to_dict() for m in self.metrics],
                "outcome": self.outcome.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CanaryReport:
        return cls(outcome=CheckOutcome.from_dict(data["outcome"]),
                   metrics=tuple(CanaryMetricResult.from_dict(m) for m in data["metrics"]),
                   **{k: data[k] for k in ("units", "units_control", "units_candidate", "units_immature",
                                           "srm_p_value", "alpha", "power", "min_units")})


@cache
def _adapter(kind: type) -> Any:
    from pydantic import TypeAdapter  # only for JSON: keeps the import off the assessing path

    return TypeAdapter(kind)


def assess_canary(
    observations: Any,
    spec: CanarySpec | str | os.PathLike[str],
    *,
    as_of: datetime | None = None,
    check: str | None = None,
) -> CanaryReport:
    """Judge the candidate against the control on every matured unit in `observations`.

    Args:
        observations: one row per unit (request, user, transaction): the variant column and each metric's
            columns; a polars, pandas or Arrow frame, or a Parquet file or directory.
        spec: a `CanarySpec` or the path of a ``*.canary.yaml`` (loaded now; a bad one raises `ContractError`).
        as_of: the time maturity delays count from (default: now, UTC).
        check: the check name in the outcome (default: the spec's name).

    Returns:
        A `CanaryReport` whose outcome is passed (pass), failed at error severity (fail), failed at warning
        severity with verdict inconclusive, or error (could not run: unreadable input, a missing column, a
        sample-ratio mismatch). Its metrics: ``units``, ``units_control``, ``units_candidate``,
        ``units_immature``, ``srm_p_value`` and per metric ``<name>.estimate``, ``.lower``, ``.upper``,
        ``.margin``, ``.units_needed``.
    """
    started = datetime.now(UTC)
    if not isinstance(spec, CanarySpec):
        spec = load_canary_spec(spec)
    as_of = as_of or started
    name = check or spec.name

    def could_not_run(error: str, message: str, **counts: Any) -> CanaryReport:
        outcome = CheckOutcome.could_not_run(name, CheckKind.CANARY, cap_text(error, MESSAGE_CHARS),
                                             started_at=started, as_of=as_of, rows=counts.get("units"),
                                             message=cap_text(message, MESSAGE_CHARS))
        if counts:
            outcome = outcome.evolve(metrics={k: v for k, v in counts.items() if v is not None})
        return CanaryReport(outcome=outcome, metrics=(), units=counts.get("units", 0),
                            units_control=counts.get("units_control", 0),
                            units_candidate=counts.get("units_candidate", 0),
                            units_immature=counts.get("units_immature", 0), srm_p_value=counts.get("srm_p_value"),
                            alpha=spec.alpha, power=spec.power, min_units=spec.min_units)

    wanted = [spec.variant_column, *(c for m in spec.metrics for c in m.columns)]
    if spec.maturity is not None:
        wanted.append(spec.maturity.column or spec.maturity.timestamp)  # type: ignore[arg-type]
    wanted = list(dict.fromkeys(wanted))
    try:
        frame = to_polars(observations, wanted)
    except (Exception, PanicException) as exc:  # unreadable input of any kind is "could not run", failing closed
        return could_not_run(error_line(exc), "the canary observations could not be read")
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        listed = ", ".join(repr(cap_text(c, 100)) for c in missing[:5])
        return could_not_run(f"missing column(s) {listed}", "the canary observations lack columns the spec reads")
    try:
        data = _Data.of(frame, spec, as_of)
        n_control, n_candidate = data.units
        srm = srm_p_value([n_control, n_candidate], spec.expected_split)
        counts = {"units": n_control + n_candidate, "units_control": n_control, "units_candidate": n_candidate,
                  "units_immature": data.immature, "srm_p_value": srm}
        if srm < spec.srm_alpha:
            expected = n_control + n_candidate
            return could_not_run(
                f"sample ratio mismatch: {n_control:,} control / {n_candidate:,} candidate units where "
                f"{spec.expected_split[0]:.0%} / {spec.expected_split[1]:.0%} of {expected:,} were expected "
                f"(sequential p = {srm:.2g} < {spec.srm_alpha:g})",
                "the traffic split is not the one configured, so the arms are not comparable", **counts)
        results = _judge_metrics(data, spec)
    except (pl.exceptions.PolarsError, PanicException, TypeError, ValueError) as exc:  # a column of the wrong type
        return could_not_run(error_line(exc), "the canary observations could not be measured")
    return _report(name, spec, results, counts, started, as_of)


def _matured(frame: pl.DataFrame, spec: CanarySpec, as_of: datetime) -> pl.Expr:
    """True for the units that count: matured (or every unit when the spec has no maturity)."""
    maturity = spec.maturity
    if maturity is None:
        return pl.lit(True)
    if maturity.column is not None:
        return pl.col(maturity.column).cast(pl.Boolean).fill_null(False)
    dtype = frame.schema[maturity.timestamp]  # type: ignore[index]
    cutoff = as_of - maturity.delay
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        cutoff = cutoff.astimezone(UTC).replace(tzinfo=None)  # naive timestamps are read as UTC
    return (pl.col(maturity.timestamp) <= pl.lit(cutoff)).fill_null(False)  # type: ignore[arg-type]


def _is(column: str, dtype: pl.DataType, value: Any) -> pl.Expr:
    """``column == value``, compared in the column's own type where it can be (no 10M-string cast)."""
    if isinstance(value, int) and dtype.is_integer():
        return pl.col(column) == value
    if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
        if isinstance(dtype, pl.Enum) and str(value) not in dtype.categories.to_list():
            return pl.lit(False)
        return pl.col(column) == str(value)
    return pl.col(column).cast(pl.String) == str(value)


def moment(*factors: np.ndarray) -> float:
    """The sum of the elementwise product of `factors` in float64, in one pass that allocates nothing.

    numpy's einsum casts chunk by chunk (bool and integer columns are never copied to float64) and runs its own
    single-threaded loop, so it never waits for BLAS threads on a busy machine.
    """
    subscripts = ",".join("i" * len(factors)) + "->"
    return float(np.einsum(subscripts, *factors, dtype=np.float64, casting="unsafe"))


@dataclass(frozen=True, slots=True)
class _Data:
    """The observations as numpy: boolean masks of each arm's matured units, their rows, and column values.

    Sums per arm are products with the masks (`moment`: one pass, nothing copied per arm); a quantile gathers its
    arms' values, and the Hodges-Lehmann interval at most `HL_MAX_UNITS` seeded sampled rows per arm.
    """

    frame: pl.DataFrame
    masks: tuple[np.ndarray, np.ndarray]  # bool per row: control, candidate (matured units only)
    units: tuple[int, int]
    immature: int
    columns: dict[Any, np.ndarray] = field(default_factory=dict)  # values read so far, by column (and arm)

    @classmethod
    def of(cls, frame: pl.DataFrame, spec: CanarySpec, as_of: datetime) -> _Data:
        dtype = frame.schema[spec.variant_column]
        matured = _matured(frame, spec, as_of)
        codes = frame.select(
            (_is(spec.variant_column, dtype, spec.control) & matured).fill_null(False).alias("c"),
            (_is(spec.variant_column, dtype, spec.candidate) & matured).fill_null(False).alias("t"))
        masks = (codes.get_column("c").to_numpy(), codes.get_column("t").to_numpy())
        units = (int(np.count_nonzero(masks[0])), int(np.count_nonzero(masks[1])))
        immature = int(frame.select((~matured).sum()).item()) if spec.maturity else 0
        return cls(frame, masks, units, immature)

    def rows(self, arm: int) -> np.ndarray:
        """The row numbers of one arm's matured units (found once, only for metrics that gather)."""
        if ("rows", arm) not in self.columns:
            self.columns[("rows", arm)] = np.flatnonzero(self.masks[arm])
        return self.columns[("rows", arm)]

    def values(self, column: str) -> np.ndarray:
        """The column as numpy (read once): booleans and integers as they are, or float64 with NaN for null."""
        if column not in self.columns:
            series = self.frame.get_column(column)
            if series.null_count() == 0 and (series.dtype.is_numeric() or series.dtype == pl.Boolean):
                values = series.to_numpy()
            else:
                values = series.cast(pl.Float64).to_numpy()  # nulls become NaN
            self.columns[column] = values
        return self.columns[column]

    def arm(self, column: str, arm: int) -> np.ndarray:
        """The finite values of `column` for one arm's matured units, as float64 (gathered once)."""
        if (column, arm) not in self.columns:
            values = self.values(column)[self.rows(arm)].astype(np.float64, copy=False)
            if math.isnan(float(values.sum())):  # one reduction; the copy only when there is a NaN
                values = values[~np.isnan(values)]
            self.columns[(column, arm)] = values
        return self.columns[(column, arm)]

    def sample(self, column: str, arm: int, limit: int) -> tuple[np.ndarray, bool]:
        """At most `limit` finite values of one arm (a seeded sample when it has more), and whether sampled."""
        if (column, arm) in self.columns or self.units[arm] <= limit:
            values = self.arm(column, arm)
            if len(values) <= limit:
                return values, False
            return np.random.default_rng(arm).choice(values, size=limit, replace=False), True
        rows = np.random.default_rng(arm).choice(self.rows(arm), size=limit, replace=False)
        values = self.values(column)[rows].astype(np.float64, copy=False)
        return values[~np.isnan(values)], True


@dataclass(frozen=True, slots=True)
class _Arms:
    """What a metric measured: per-arm estimates and units, Delta's variance, and the intervals per level."""

    control: float | None
    candidate: float | None
    estimate: float | None
    sigma: float | None  # per-unit-equivalent standard deviation of Delta (``sqrt(n * Var(Delta_hat))``)
    units: tuple[int, int]
    events: tuple[float, float]
    sparse: bool
    bounds: np.ndarray  # (levels, 2): the sequence at alpha / r, r = 1..k
    fixed_n: Interval
    sequential_method: str


def _judge_metrics(data: _Data, spec: CanarySpec) -> list[CanaryMetricResult]:
    k = len(spec.metrics)
    levels = spec.alpha / np.arange(1, k + 1, dtype=np.float64)  # Holm's levels alpha / r
    rho = optimal_rho(spec.min_units, spec.alpha)
    measured = [_measure(data, spec, metric, levels, rho) for metric in spec.metrics]
    margins = []
    for metric, arms in zip(spec.metrics, measured, strict=True):
        m = metric.margin.absolute(arms.control) if arms.control is not None else math.nan
        margins.append(m)
    eligible = [(metric.critical or sum(arms.units) >= spec.min_units) and arms.estimate is not None
                and math.isfinite(m) for metric, arms, m in zip(spec.metrics, measured, margins, strict=True)]
    # Holm's step-down over the fail hypotheses "Delta >= -m": with r not yet rejected, reject every metric
    # whose sequence at level alpha / r lies wholly below -m; repeat until none is added.
    failed: set[int] = set()
    while (r := k - len(failed)) > 0:
        added = {j for j in range(k) if j not in failed and eligible[j]
                 and measured[j].bounds[r - 1, 1] < -margins[j]}
        if not added:
            break
        failed |= added
    results = []
    for j, (metric, arms, m) in enumerate(zip(spec.metrics, measured, margins, strict=True)):
        lower, upper = (float(b) for b in arms.bounds[0])
        passes = eligible[j] and not arms.sparse and lower > -m
        verdict = Verdict.FAIL if j in failed else Verdict.PASS if passes else Verdict.INCONCLUSIVE
        needed = 0 if verdict is not Verdict.INCONCLUSIVE else _units_needed(metric, arms, m, spec, rho)
        results.append(CanaryMetricResult(
            name=metric.name, kind=metric.kind, statistic=_statistic(metric), direction=metric.direction,
            critical=metric.critical, verdict=verdict, control=arms.control, candidate=arms.candidate,
            estimate=arms.estimate, margin=m if math.isfinite(m) else None, margin_spec=metric.margin.describe(),
            sequential=Interval(_finite(lower), _finite(upper), spec.alpha, arms.sequential_method),
            fixed_n=arms.fixed_n, units=sum(arms.units), units_control=arms.units[0],
            units_candidate=arms.units[1], events_control=arms.events[0], events_candidate=arms.events[1],
            units_needed=needed,
            message=_message(metric, verdict, arms, m, lower, upper, eligible[j], spec, needed, k)))
    return results


def _statistic(metric: MetricSpec) -> str:
    if metric.kind is MetricKind.RATE:
        return "rate" if metric.column is not None else "ratio"
    return metric.statistic


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _measure(data: _Data, spec: CanarySpec, metric: MetricSpec, levels: np.ndarray, rho: float) -> _Arms:
    sign = 1.0 if metric.direction is Direction.HIGHER_IS_BETTER else -1.0
    if metric.kind is MetricKind.CONTINUOUS and metric.quantile is not None:
        return _measure_quantile(data, spec, metric, sign, levels)
    value = data.values(metric.successes or metric.column)  # type: ignore[arg-type]
    trials = data.values(metric.trials) if metric.trials else None
    arms = data.masks
    n = list(data.units)
    # NaN anywhere makes a float column's sum NaN: one reduction, no mask, in the usual case of none.
    floats = [v for v in (value, trials) if v is not None and v.dtype.kind == "f"]
    if any(math.isnan(float(v.sum())) for v in floats):
        bad = np.zeros(len(value), dtype=bool)
        for v in floats:
            bad |= np.isnan(v)
        value = np.where(bad, 0.0, value)
        trials = None if trials is None else np.where(bad, 0.0, trials)
        arms = (data.masks[0] & ~bad, data.masks[1] & ~bad)
        n = [int(np.count_nonzero(m)) for m in arms]

    def per_arm(*factors: np.ndarray) -> tuple[float, float]:
        return moment(*factors, arms[0]), moment(*factors, arms[1])

    if metric.kind is MetricKind.CONTINUOUS:
        total = per_arm(value)
        est = [total[a] / n[a] if n[a] else None for a in (0, 1)]
        square = per_arm(value, value)
        var = []
        for a in (0, 1):
            if n[a] < 2:
                var.append(math.inf)
                continue
            spread = max(square[a] - total[a] ** 2 / n[a], 0.0) / (n[a] - 1)
            if spread <= 1e-9 * (total[a] / n[a]) ** 2:  # cancellation possible: the two-pass form instead
                spread = float(data.arm(metric.column, a).var(ddof=1))  # type: ignore[arg-type]
            var.append(spread / n[a])
        nonzero = value != 0
        events = tuple(float(np.count_nonzero(nonzero & arms[a])) for a in (0, 1))
    else:
        s = per_arm(value)
        s2 = s if value.dtype == np.bool_ else per_arm(value, value)
        if trials is None:  # one trial per unit
            t = (float(n[0]), float(n[1]))
            st, t2 = s, t
        else:
            t, t2, st = per_arm(trials), per_arm(trials, trials), per_arm(value, trials)
        est = [s[a] / t[a] if t[a] > 0 else None for a in (0, 1)]
        var = []
        for a in (0, 1):
            r = est[a]
            if r is None or n[a] < 2:
                var.append(math.inf)
                continue
            # Delta method for the ratio S/T: Var = sum((s_i - r t_i)^2) / (n - 1) / (n * mean(t)^2).
            unit_var = max(s2[a] - 2 * r * st[a] + r * r * t2[a], 0.0) / (n[a] - 1)
            smoothed = (s[a] + 1) / (t[a] + 2)  # a floor, so that zero events never give a zero-width interval
            var.append(max(unit_var / (n[a] * (t[a] / n[a]) ** 2), smoothed * (1 - smoothed) / t[a]))
        events = tuple(min(s[a], t[a] - s[a]) for a in (0, 1))
    sparse = min(events) < spec.min_events
    if est[0] is None or est[1] is None:
        fixed = Interval(None, None, spec.alpha, "none (an arm has no units)")
        nothing = np.full((len(levels), 2), [-math.inf, math.inf])
        return _Arms(est[0], est[1], None, None, (n[0], n[1]), tuple(events), True, nothing, fixed, "normal mixture")
    estimate = sign * (est[1] - est[0])
    variance = max(var[0], 0.0) + max(var[1], 0.0)
    total_units = n[0] + n[1]
    sigma = math.sqrt(total_units * variance) if math.isfinite(variance) else math.inf
    half = half_width(total_units, sigma, rho, levels) if math.isfinite(sigma) else np.full(len(levels), math.inf)
    bounds = np.stack([estimate - half, estimate + half], axis=-1)
    if metric.kind is MetricKind.RATE:
        if metric.column is not None:
            lo, hi = newcombe(s[1], t[1], s[0], t[0], spec.alpha)
            lo, hi = (lo, hi) if sign > 0 else (-hi, -lo)
            fixed = Interval(lo, hi, spec.alpha, "newcombe")
        else:
            lo, hi = delta_wald(estimate, variance, spec.alpha)
            fixed = Interval(_finite(lo), _finite(hi), spec.alpha, "delta_method_wald")
    else:
        fixed = _hodges_lehmann(data, metric, sign, spec.alpha)
    return _Arms(est[0], est[1], estimate, sigma, (n[0], n[1]), tuple(events), sparse, bounds, fixed,
                 "normal mixture (Howard et al. 2021)")


def _hodges_lehmann(data: _Data, metric: MetricSpec, sign: float, alpha: float) -> Interval:
    column: str = metric.column  # type: ignore[assignment]  # a continuous metric always has one
    (control, cut), (candidate, cut_too) = (data.sample(column, a, HL_MAX_UNITS) for a in (0, 1))
    if sign < 0:  # lower is better: the shift of control - candidate
        control, candidate = candidate, control
    shift, lo, hi, method = hodges_lehmann(control, candidate, alpha)
    if cut or cut_too:
        method += f" (on a seeded sample of at most {HL_MAX_UNITS:,} units per arm)"
    return Interval(_finite(lo), _finite(hi), alpha, method + (f", shift {shift:.6g}" if math.isfinite(shift)
                                                                   else ""))


def _measure_quantile(data: _Data, spec: CanarySpec, metric: MetricSpec, sign: float, levels: np.ndarray) -> _Arms:
    p = float(metric.quantile)  # type: ignore[arg-type]
    design = spec.min_units * min(spec.expected_split)
    arms = [data.arm(metric.column, a) for a in (0, 1)]  # type: ignore[arg-type]
    n = [len(v) for v in arms]
    events = tuple(float(np.count_nonzero(v)) for v in arms)
    method = "quantile confidence sequence (Howard & Ramdas 2022), Bonferroni over arms"
    if n[0] == 0 or n[1] == 0:
        nothing = np.full((len(levels), 2), [-math.inf, math.inf])
        fixed = Interval(None, None, spec.alpha, "none (an arm has no units)")
        points = [quantile_bounds(v, p, levels / 2, design, spec.alpha / 2)[0] if len(v) else None for v in arms]
        return _Arms(points[0], points[1], None, None, (n[0], n[1]), events, True, nothing, fixed, method)
    # Each arm's sequence at alpha / 2 (Bonferroni over the two arms), for every Holm level.
    stats = [quantile_bounds(v, p, levels / 2, design, spec.alpha / 2) for v in arms]
    (q0, lo0, hi0), (q1, lo1, hi1) = stats
    if sign > 0:
        estimate, lower, upper = q1 - q0, lo1 - hi0, hi1 - lo0
    else:
        estimate, lower, upper = q0 - q1, lo0 - hi1, hi0 - lo1
    bounds = np.stack([lower, upper], axis=-1)  # an unbounded arm end makes that end of Delta unbounded
    # An effective sigma for the units still needed: each arm's 1/f(q) from the width of its sequence.
    sigma_sq = 0.0
    total = n[0] + n[1]
    for a, (_, lo, hi) in enumerate(stats):
        rank = ranks(n[a], p, np.array([spec.alpha / 2]), design, spec.alpha / 2)[0]
        spread = (hi[0] - lo[0]) / max((rank[1] - rank[0]) / n[a], 1e-12)
        sigma_sq += total * p * (1 - p) * spread**2 / n[a] if math.isfinite(spread) else math.inf
    fixed = _hodges_lehmann(data, metric, sign, spec.alpha)
    return _Arms(q0, q1, estimate, math.sqrt(sigma_sq), (n[0], n[1]), events, min(events) < spec.min_events,
                 bounds, fixed, method)


def _units_needed(metric: MetricSpec, arms: _Arms, m: float, spec: CanarySpec, rho: float) -> int | None:
    """More matured units (both arms) for the stated power to pass when the candidate equals the control."""
    have = sum(arms.units)
    if arms.sigma is None or not math.isfinite(m) or not math.isfinite(arms.sigma):
        return None
    quantile = metric.kind is MetricKind.CONTINUOUS and metric.quantile is not None
    alpha = spec.alpha / 2 if quantile else spec.alpha
    need = sequential_units(m, arms.sigma, rho, alpha, spec.power)
    if need is None:
        return None
    if not metric.critical:
        need = max(need, spec.min_units)
    if arms.sparse and min(arms.events) > 0:
        need = max(need, math.ceil(have * spec.min_events / min(arms.events)))
    return max(need - have, 0)


def _message(metric: MetricSpec, verdict: Verdict, arms: _Arms, m: float, lower: float, upper: float,
             eligible: bool, spec: CanarySpec, needed: int | None, k: int) -> str:
    name = cap_text(metric.name, 200)
    if arms.estimate is None:
        return f"{name}: an arm has no matured unit with a value yet"
    interval = f"Delta {arms.estimate:.4g}, sequence [{lower:.4g}, {upper:.4g}], threshold {-m:.4g}"
    if verdict is Verdict.PASS:
        return f"{name}: no worse than its margin ({interval})"
    if verdict is Verdict.FAIL:
        return f"{name}: worse than its margin allows ({interval}; Holm over {k} metric(s))"
    reasons = []
    if not eligible:
        reasons.append(f"{sum(arms.units):,} of min_units {spec.min_units:,} matured units")
    if arms.sparse:
        reasons.append(f"too sparse to pass: {min(arms.events):,.0f} events in an arm, below min_events "
                       f"{spec.min_events}")
    if upper < -m:
        reasons.append(f"below the threshold, but not after Holm over {k} metrics")
    if needed is None:
        more = "no number of units (margin 0 needs a better candidate)" if m == 0 else "unknown yet"
    elif needed == 0:
        more = "none planned (the planned size is reached: the candidate may be slightly worse than the control)"
    else:
        more = f"about {needed:,}"
    return f"{name}: inconclusive ({interval}{'; ' if reasons else ''}{'; '.join(reasons)}); more units: {more}"


def _report(name: str, spec: CanarySpec, results: Sequence[CanaryMetricResult], counts: dict[str, Any],
            started: datetime, as_of: datetime) -> CanaryReport:
    rules = [r.to_rule() for r in results]
    status, severity = judge(rules)
    verdict = None
    if status is CheckStatus.FAILED and severity is Severity.WARNING:
        verdict = Verdict.INCONCLUSIVE
    metrics: dict[str, Any] = {k: v for k, v in counts.items() if v is not None}
    for r in results:
        for key, value in (("estimate", r.estimate), ("lower", r.sequential.lower), ("upper", r.sequential.upper),
                           ("margin", r.margin), ("units_needed", r.units_needed)):
            if value is not None:
                metrics[f"{r.name}.{key}"] = value
    failed = [r.name for r in results if r.verdict is Verdict.FAIL]
    waiting = [r for r in results if r.verdict is Verdict.INCONCLUSIVE]
    units = counts["units"]
    if failed:
        message = f"candidate worse than its margin on {', '.join(failed)} ({units:,} matured units)"
    elif waiting:
        needs = [r.units_needed for r in waiting]
        more = f"; about {max(n for n in needs if n is not None):,} more units needed" if any(
            n is not None for n in needs) else ""
        message = f"inconclusive on {', '.join(r.name for r in waiting)} ({units:,} matured units{more})"
    else:
        message = f"candidate no worse than its margins on all {len(results)} metric(s) ({units:,} matured units)"
    outcome = CheckOutcome(check=name, kind=CheckKind.CANARY, status=status, severity=severity, started_at=started,
                           finished_at=datetime.now(UTC), rows=units, rules=tuple(rules), metrics=metrics,
                           as_of=as_of, message=cap_text(message, MESSAGE_CHARS), verdict=verdict)
    return CanaryReport(outcome=outcome, metrics=tuple(results), units=units,
                        units_control=counts["units_control"], units_candidate=counts["units_candidate"],
                        units_immature=counts["units_immature"], srm_p_value=counts["srm_p_value"],
                        alpha=spec.alpha, power=spec.power, min_units=spec.min_units)
