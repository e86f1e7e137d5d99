"""Drift: compare a batch with a reference `Profile` and judge each column on effect size.

Measure (`guardrails.checks.statistics`), judge each score against a `Band`, return one `RuleResult` per
column inside a `CheckOutcome(kind=DRIFT)`. Verdicts use effect sizes only; p-values are recorded as metrics
but never decide, because at large n every difference is significant.

Default thresholds (`DriftThresholds`), judged as ``score > warn`` -> warning, ``score > error`` -> error:

=============  ===========  ============  ===============================================================
statistic      warn         error         notes
=============  ===========  ============  ===============================================================
psi            0.1          0.2           the industry convention (numeric and categorical)
null_rate      0.05         0.10          absolute change of the null share (5 / 10 percentage points)
js             off (0.1)    off (0.2)     Jensen-Shannon distance, base 2
wasserstein    off (0.1)    off (0.2)     Wasserstein-1 / reference std (numeric)
ks             off (0.1)    off (0.2)     two-sample KS statistic (numeric)
linf           off (0.1)    off (0.2)     largest change of one category's share (categorical)
=============  ===========  ============  ===============================================================

The "off" statistics are recorded every run but judged only when configured (suggested values in brackets):
they measure the same shift as PSI, and judging several correlated scores at once raises false alarms.

Bad input never passes silently: an empty batch makes the outcome ERROR (the check could not run, fail
closed); a column missing from the batch or the reference, or a changed type, makes that column's rule ERROR
(it could not be compared) and the outcome FAILED at severity error, as contract validation judges the same
batch (`guardrails.outcome.judge`); a column whose reference has fewer than
`min_reference_rows` values, or whose batch has fewer than `min_current_rows`, gets a warning
("insufficient reference" / "insufficient data"); a column that is entirely null in the batch but not in the
reference fails with severity error.

Configuration from a contract (``customProperties``, property ``drift``)::

    customProperties:
      - property: drift
        value:
          columns: [amount, country]          # default: every column in the reference profile
          categorical: [merchant_id]          # numeric codes to treat as categories
          thresholds: {psi: {warn: 0.1, error: 0.25}, ks: {warn: 0.1, error: 0.2}, js: null}
          columnThresholds: {amount: {psi: {warn: 0.2, error: 0.3}}}
          minReferenceRows: 1000
          minCurrentRows: 100
          bins: 20                            # profile layout when the reference is first built
          fineBins: 1000
          maxCategories: 50

Example:
    >>> import numpy as np, polars as pl
    >>> from guardrails.profile import build_profile
    >>> rng = np.random.default_rng(0)
    >>> reference = build_profile(pl.DataFrame({"amount": rng.normal(0, 1, 5000)}))
    >>> outcome = check_drift(pl.DataFrame({"amount": rng.normal(1, 1, 5000)}), reference)
    >>> outcome.status.value, outcome.rules[0].rule_id, outcome.rules[0].observed > 0.2
    ('failed', 'drift.amount', True)
    >>> sorted(k for k in outcome.metrics if k.endswith(".amount"))[:3]
    ['js.amount', 'ks.amount', 'ks_pvalue.amount']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import polars as pl

from guardrails._text import MESSAGE_CHARS, cap_text, markdown_cell
from guardrails.checks._settings import SettingsReader
from guardrails.checks.band import Band
from guardrails.checks.statistics import ColumnScores, compare_columns
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity, Verdict, judge
from guardrails.profile import (
    ColumnKind,
    ColumnProfile,
    Profile,
    ProfileError,
    ReferenceSource,
    build_profile,
    column_kind,
)
from guardrails.validation._frames import to_polars

__all__ = [
    "Band",
    "ColumnDrift",
    "DriftReport",
    "DriftSettings",
    "DriftThresholds",
    "assess_drift",
    "check_drift",
    "judge_drift",
    "judge_scores",
    "render_drift_markdown",
]

NUMERIC_STATISTICS = ("psi", "js", "wasserstein", "ks", "null_rate")
CATEGORICAL_STATISTICS = ("psi", "js", "linf", "null_rate")


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftThresholds:
    """One `Band` per statistic (None: recorded, not judged). Defaults are in the module docstring."""

    psi: Band | None = Band(0.1, 0.2)
    null_rate: Band | None = Band(0.05, 0.10)
    js: Band | None = None
    wasserstein: Band | None = None
    ks: Band | None = None
    linf: Band | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftSettings:
    """How drift is judged: which columns, thresholds (global and per column), and minimum sample sizes.

    `bins`, `fine_bins`, `max_categories` and `categorical` are the profile layout used when a reference is
    first built from this contract (`build_reference`); they do not affect a comparison.
    """

    columns: tuple[str, ...] | None = None
    thresholds: DriftThresholds = DriftThresholds()
    column_thresholds: Mapping[str, DriftThresholds] = field(default_factory=dict)
    min_reference_rows: int = 100
    min_current_rows: int = 30
    categorical: tuple[str, ...] = ()
    bins: int = 20
    fine_bins: int = 1000
    max_categories: int = 50

    def __post_init__(self) -> None:
        if self.columns is not None:
            object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "categorical", tuple(self.categorical))
        for name in ("min_reference_rows", "min_current_rows"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.bins < 1 or self.fine_bins % self.bins or self.max_categories < 1:
            raise ValueError(f"bins ({self.bins}) must divide fine_bins ({self.fine_bins}); "
                             f"max_categories ({self.max_categories}) must be at least 1")

    def thresholds_for(self, column: str) -> DriftThresholds:
        return self.column_thresholds.get(column, self.thresholds)

    def profile_options(self) -> dict[str, Any]:
        """The `build_profile` options of this contract's layout (for `ProfileStore.accept`)."""
        return {"columns": self.columns, "categorical": self.categorical, "bins": self.bins,
                "fine_bins": self.fine_bins, "max_categories": self.max_categories}

    def build_reference(self, batch: Any) -> Profile:
        """A new reference profile of accepted rows, in this contract's layout."""
        return build_profile(batch, **self.profile_options())

    @classmethod
    def from_mapping(cls, value: Mapping[str, Any] | None, *, source: str = "<settings>",
                     field_path: str = "customProperties.drift") -> DriftSettings:
        """Parse the ``drift`` custom property; raises `ContractError` naming the field for anything invalid."""
        if value is None:
            return cls()
        reader = SettingsReader(source, field_path)
        data = reader.mapping(value, "", {"columns", "categorical", "thresholds", "columnThresholds",
                                          "minReferenceRows", "minCurrentRows", "bins", "fineBins",
                                          "maxCategories"})
        thresholds = reader.thresholds(data.get("thresholds"), "thresholds", DriftThresholds())
        per_column = {
            str(name): reader.thresholds(raw, f"columnThresholds.{name}", thresholds)
            for name, raw in reader.mapping(data.get("columnThresholds", {}), "columnThresholds", None).items()
        }
        options = {
            "columns": reader.names(data["columns"], "columns") if "columns" in data else None,
            "categorical": reader.names(data.get("categorical", []), "categorical"),
            "thresholds": thresholds,
            "column_thresholds": per_column,
        }
        for key, attr in (("minReferenceRows", "min_reference_rows"), ("minCurrentRows", "min_current_rows"),
                          ("bins", "bins"), ("fineBins", "fine_bins"), ("maxCategories", "max_categories")):
            if key in data:
                options[attr] = reader.positive_int(data[key], key)
        try:
            return cls(**options)
        except ValueError as exc:
            raise ContractError(source, field_path, expected="consistent drift settings", got=str(exc)) from exc

    @classmethod
    def from_contract(cls, contract: Any) -> DriftSettings:
        """The settings the loader parsed into `Contract.drift` (defaults when the contract gives none).

        A contract built by hand rather than loaded is parsed here, from `Contract.custom["drift"]`.
        """
        if contract.drift is not None:
            return contract.drift  # type: ignore[no-any-return]
        return cls.from_mapping(contract.custom.get("drift"), source=contract.source or contract.id)


# --- results -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnDrift:
    """The verdict for one column: the deciding statistic, its value and band, and every score.

    `status` is ERROR when the column could not be compared (missing, type change); `scores` is None then.
    `error_threshold` is the error bound of the deciding statistic (scales the bars in reports).
    """

    column: str
    kind: ColumnKind | None
    status: CheckStatus
    severity: Severity
    statistic: str | None
    observed: float | None
    expected: str
    message: str
    error_threshold: float | None = None
    scores: ColumnScores | None = None

    def to_rule(self) -> RuleResult:
        return RuleResult(rule_id=f"drift.{self.column}", kind="drift", columns=(self.column,),
                          severity=self.severity, status=self.status, observed=self.observed,
                          expected=self.expected, message=self.message)


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftReport:
    """A drift run: the outcome, the per-column verdicts (for tables), and the batch's profile.

    `current` is the batch profiled in the reference's layout: merge it into the reference
    (``reference.merge(report.current)``) once the batch is accepted, without profiling it again. It is None
    unless every reference column was compared (a column subset, a missing column or a type change); use
    `ProfileStore.accept` then.

    `reference_batches` and `reference_rows` (set by `judge_drift`) say what the reference was made of; None
    when it could not be read (batches) or there was none (rows).
    """

    outcome: CheckOutcome
    columns: tuple[ColumnDrift, ...]
    current: Profile | None
    reference_batches: tuple[str, ...] | None = None
    reference_rows: int | None = None


def check_drift(batch: Any, reference: Profile, settings: DriftSettings | None = None, **options: Any) -> CheckOutcome:
    """`assess_drift(...).outcome`: the drift `CheckOutcome` alone."""
    return assess_drift(batch, reference, settings, **options).outcome


def assess_drift(
    batch: Any,
    reference: Profile,
    settings: DriftSettings | None = None,
    *,
    check: str = "drift",
    contract: Any = None,
    as_of: datetime | None = None,
) -> DriftReport:
    """Compare a batch (polars, pandas or Arrow) with a reference profile, column by column.

    Args:
        batch: The rows under audit.
        reference: The profile of accepted rows (`ProfileStore.load`).
        settings: Columns and thresholds (default `DriftSettings()`); see `DriftSettings.from_contract`.
        check: The check name recorded in the outcome.
        contract: If given, its id and version are recorded in the outcome.
        as_of: Recorded as the outcome's `as_of` (default: now, UTC).

    Returns:
        A `DriftReport`; its outcome has one rule ``drift.<column>`` per column (observed = the deciding
        score) and metrics ``<statistic>.<column>`` for every score, plus ``rows``, ``reference_rows``,
        ``columns_checked``, ``columns_failed`` and ``max_psi``.
    """
    settings = settings or DriftSettings()
    started = datetime.now(UTC)
    frame = to_polars(batch)
    names = settings.columns if settings.columns is not None else tuple(reference.columns)

    def finish(columns: tuple[ColumnDrift, ...], current: Profile | None, error: str | None = None) -> DriftReport:
        outcome = _outcome(columns, frame.height, reference, check, contract, as_of or started, started, error)
        return DriftReport(outcome=outcome, columns=columns, current=current)

    if frame.height == 0:
        return finish((), None, "empty batch: 0 rows, so drift cannot be measured")

    comparable: dict[str, ColumnProfile] = {}
    verdicts: dict[str, ColumnDrift] = {}
    for name in names:
        ref = reference.columns.get(name)
        problem = None
        if ref is None:
            problem = "not in the reference profile (rebuild the reference with this column)"
        elif name not in frame.columns:
            problem = "missing from the batch"
        elif (changed := _type_change(ref, frame.schema[name])) is not None:
            problem = changed
        if problem is not None:
            verdicts[name] = ColumnDrift(column=name, kind=ref.kind if ref else None, status=CheckStatus.ERROR,
                                         severity=Severity.ERROR, statistic=None, observed=None,
                                         expected="a comparable column", message=f"{cap_text(name)}: {problem}")
        else:
            comparable[name] = ref  # type: ignore[assignment]

    current = build_profile(frame.select(list(comparable)), like=Profile(rows=reference.rows, columns=comparable))
    for name, ref in comparable.items():
        scores = compare_columns(ref, current.columns[name])
        verdicts[name] = judge_scores(name, scores, settings)
    columns = tuple(verdicts[name] for name in names)
    return finish(columns, current if list(comparable) == list(reference.columns) else None)


def judge_drift(
    batch: Any,
    store: ReferenceSource,
    name: str,
    settings: DriftSettings | None = None,
    *,
    batch_name: str | None = None,
    window: int | None = None,
    check: str = "drift",
    contract: Any = None,
    as_of: datetime | None = None,
) -> DriftReport:
    """Judge a batch against the stored reference `name` (the batch `batch_name` left out): the drift policy.

    Every adapter (Dagster check, Airflow operator, CLI) calls this, so they agree on the cases around the
    comparison: no accepted batch yet is a WARNING failure ("insufficient reference"), never a pass; a reference
    that cannot be read, or a batch that cannot be read or profiled, is an ERROR outcome keeping the cause (the
    check could not run, failing closed). Otherwise it is `assess_drift` against the merged reference.

    Args:
        batch: The rows under audit (a frame, an Arrow table or a Parquet path).
        store: Where the reference lives (`ProfileStore`).
        name: The reference's name in the store.
        settings: Columns and thresholds (default `DriftSettings()`).
        batch_name: The batch's own name in the store (its partition or run), left out of its reference, so a
            re-run is compared with the other batches whether or not it was accepted already.
        window: Compare with the merge of only the latest `window` batches.
        check / contract / as_of: As for `assess_drift`.

    Example:
        >>> import polars as pl, tempfile
        >>> from guardrails.profile import ProfileStore
        >>> store = ProfileStore(tempfile.mkdtemp())
        >>> judge_drift(pl.DataFrame({"x": [1.0]}), store, "tx").outcome.message[:22]
        'insufficient reference'
    """
    started = datetime.now(UTC)
    try:
        merged = store.reference(name, excluding=batch_name, window=window)
    except (ProfileError, OSError) as exc:
        outcome = _could_not_run(check, contract, as_of, started, f"the reference profile cannot be read: {exc}")
        return DriftReport(outcome=outcome, columns=(), current=None)
    if merged is None:
        return DriftReport(outcome=_no_reference(check, contract, as_of, started), columns=(), current=None,
                           reference_batches=())
    try:
        report = assess_drift(batch, merged.profile, settings, check=check, contract=contract, as_of=as_of)
    except (ValueError, TypeError, OSError, ProfileError, pl.exceptions.PolarsError) as exc:
        outcome = _could_not_run(check, contract, as_of, started, f"the batch cannot be profiled: {exc}")
        report = DriftReport(outcome=outcome, columns=(), current=None)
    return replace(report, reference_batches=merged.batches, reference_rows=merged.rows)


def _could_not_run(check: str, contract: Any, as_of: datetime | None, started: datetime, error: str) -> CheckOutcome:
    return CheckOutcome.could_not_run(
        check, CheckKind.DRIFT, cap_text(error, MESSAGE_CHARS), started_at=started,
        contract_id=getattr(contract, "id", None), contract_version=getattr(contract, "version", None),
        as_of=as_of or started, message=cap_text(f"{check} could not be measured: {error}", MESSAGE_CHARS),
    )


def _no_reference(check: str, contract: Any, as_of: datetime | None, started: datetime) -> CheckOutcome:
    message = "insufficient reference: no accepted batch has been profiled yet, so drift cannot be judged"
    rule = RuleResult(rule_id="drift.reference", kind="drift", columns=(), severity=Severity.WARNING,
                      status=CheckStatus.FAILED, observed=0.0, expected=">= 1 accepted batch in the reference",
                      message=message)
    return CheckOutcome(check=check, kind=CheckKind.DRIFT, status=CheckStatus.FAILED, severity=Severity.WARNING,
                        started_at=started, finished_at=datetime.now(UTC), rules=(rule,),
                        metrics={"reference_rows": 0}, contract_id=getattr(contract, "id", None),
                        contract_version=getattr(contract, "version", None), as_of=as_of or started,
                        message=message, verdict=Verdict.INSUFFICIENT)


def _dtype_family(dtype: str) -> str:
    for prefix, family in (("Int", "numeric"), ("UInt", "numeric"), ("Float", "numeric"), ("Decimal", "numeric"),
                           ("Datetime", "temporal"), ("Date", "temporal"), ("Duration", "temporal"),
                           ("Time", "temporal"), ("String", "string"), ("Categorical", "string"),
                           ("Enum", "string"), ("Boolean", "boolean"), ("Null", "null")):
        if dtype.startswith(prefix):
            return family
    return dtype


def _type_change(reference: ColumnProfile, dtype: pl.DataType) -> str | None:
    """Why the batch column cannot be compared with the reference column, or None if it can."""
    was, now = _dtype_family(reference.dtype), _dtype_family(str(dtype))
    if now == "null" or was == "null":
        return None  # an all-null column has no type of its own; the null-rate verdict covers it
    kind = column_kind(dtype, categorical=reference.kind == "categorical")
    if was != now or kind != reference.kind:
        return f"type changed from {reference.dtype} ({reference.kind}) to {dtype}"
    return None


def judge_scores(name: str, scores: ColumnScores, settings: DriftSettings) -> ColumnDrift:
    """Judge one column's scores: the worst band decides; too few values downgrade to a warning.

    Shared by the drift and parity (distribution skew) checks, so both read thresholds the same way.
    """
    thresholds = settings.thresholds_for(name)
    statistics = NUMERIC_STATISTICS if scores.kind == "numeric" else CATEGORICAL_STATISTICS
    rank = {None: 0, Severity.WARNING: 1, Severity.ERROR: 2}
    decided: tuple[str, Severity | None] | None = None
    judged: list[str] = []
    for statistic in statistics:
        band, value = getattr(thresholds, statistic), scores.value(statistic)
        if band is None or value is None:
            continue
        judged.append(statistic)
        verdict = band.judge(value)
        if decided is None or rank[verdict] > rank[decided[1]]:
            decided = (statistic, verdict)

    statistic, severity = decided if decided else ("psi", None)
    band = getattr(thresholds, statistic)
    observed = scores.value(statistic)
    expected = f"{statistic}: {band.describe()}" if band else f"{statistic}: not judged"
    summary = ", ".join(f"{s}={scores.value(s):.4g}" for s in statistics if scores.value(s) is not None)
    notes: list[str] = []
    if scores.reference_count < settings.min_reference_rows:
        notes.append(f"insufficient reference: {scores.reference_count} values < {settings.min_reference_rows}")
        severity = Severity.WARNING  # too few reference values to trust any score
    if scores.current_count == 0 and scores.reference_count > 0:
        notes.append("all values are null in the batch")
        severity = Severity.ERROR
    elif scores.current_count < settings.min_current_rows:
        notes.append(f"insufficient data: {scores.current_count} values < {settings.min_current_rows}")
        if not (statistic == "null_rate" and severity is Severity.ERROR):
            severity = Severity.WARNING  # too few values for a distribution verdict; a null-rate jump stands
    if not judged and not notes:
        notes.append("no statistic is judged (all thresholds off)")
    status = CheckStatus.PASSED if severity is None else CheckStatus.FAILED
    verdict_word = "ok" if severity is None else severity.value
    message = f"{cap_text(name)}: {verdict_word} on {statistic}" + (f" ({summary})" if summary else "")
    if notes:
        message += "; " + "; ".join(notes)
    return ColumnDrift(column=name, kind=scores.kind, status=status, severity=severity or Severity.ERROR,
                       statistic=statistic, observed=observed, expected=expected, message=message,
                       error_threshold=band.error if band else None, scores=scores)


def _outcome(columns: tuple[ColumnDrift, ...], rows: int, reference: Profile, check: str, contract: Any,
             as_of: datetime, started: datetime, error: str | None) -> CheckOutcome:
    metrics: dict[str, Any] = {"rows": rows, "reference_rows": reference.rows, "columns_checked": len(columns)}
    for col in columns:
        if col.scores is not None:
            metrics.update(col.scores.metrics(col.column))
    psis = [c.scores.psi for c in columns if c.scores is not None and c.scores.psi is not None]
    if psis:
        metrics["max_psi"] = max(psis)
    failed = [c for c in columns if c.status is not CheckStatus.PASSED]
    metrics["columns_failed"] = len(failed)
    rules = tuple(c.to_rule() for c in columns)
    status, severity = judge(rules, could_run=error is None)
    if error is not None:
        message = f"drift could not be measured: {error}"
    elif failed:
        # A column that could not be compared (missing, retyped) is shown with its reason: it has no score.
        worst = ", ".join(f"{cap_text(c.column)} ({c.statistic}={c.observed:.3g})" if c.observed is not None
                          else c.message for c in failed[:5])
        message = f"drift in {len(failed)} of {len(columns)} columns: {worst}"
    else:
        message = f"no drift in {len(columns)} columns"
    return CheckOutcome(
        check=check, kind=CheckKind.DRIFT, status=status, severity=severity, started_at=started,
        finished_at=datetime.now(UTC), rows=rows, rules=rules, metrics=metrics,
        contract_id=getattr(contract, "id", None), contract_version=getattr(contract, "version", None),
        as_of=as_of, message=cap_text(message, MESSAGE_CHARS),
        error=None if error is None else cap_text(error, MESSAGE_CHARS),
    )


# --- rendering ---------------------------------------------------------------------------------------------

_BLOCKS = " ▏▎▍▌▋▊▉█"


def _bar(ratio: float, width: int) -> str:
    """A bar `width` cells long at ratio 1 (eighth-cell resolution), with ▸ when the value overflows."""
    cells = max(0.0, min(ratio, 1.0)) * width
    full, part = int(cells), int(round((cells - int(cells)) * 8))
    if part == 8:
        full, part = full + 1, 0
    bar = "█" * full + (_BLOCKS[part] if part else "")
    return (bar + " " * (width - len(bar))) + ("▸" if ratio > 1 else " ")


def render_drift_markdown(columns: Sequence[ColumnDrift], *, top: int = 10, width: int = 12) -> str:
    """A markdown table of the worst columns: deciding score, a unicode bar (full = error threshold), verdict.

    Column names come from data: each is escaped and cut at 1 KiB (`markdown_cell`), so a name can neither
    become HTML, a link or emphasis nor break the table.

    Example:
        >>> row = ColumnDrift(column="amount", kind="numeric", status=CheckStatus.FAILED, severity=Severity.ERROR,
        ...                   statistic="psi", observed=0.3, expected="psi: warn > 0.1, error > 0.2",
        ...                   message="", error_threshold=0.2)
        >>> print(render_drift_markdown([row], width=4))
        | column | statistic | score | vs error threshold | verdict |
        |---|---|---:|---|---|
        | amount | psi | 0.3 | `████▸` | ❌ error |
    """
    order = {CheckStatus.ERROR: 0, CheckStatus.FAILED: 1, CheckStatus.PASSED: 2}

    def ratio(c: ColumnDrift) -> float:
        return (c.observed or 0.0) / c.error_threshold if c.error_threshold else 0.0

    def key(c: ColumnDrift) -> tuple[int, int, float]:
        return (order[c.status], 0 if c.severity is Severity.ERROR else 1, -ratio(c))

    lines = ["| column | statistic | score | vs error threshold | verdict |", "|---|---|---:|---|---|"]
    ranked = sorted(columns, key=key)
    for c in ranked[:top]:
        if c.status is CheckStatus.ERROR:
            verdict = "⛔ not comparable"
        elif c.status is CheckStatus.PASSED:
            verdict = "✅ ok"
        else:
            verdict = "❌ error" if c.severity is Severity.ERROR else "⚠️ warning"
        score = f"{c.observed:.3g}" if c.observed is not None else "–"
        bar = f"`{_bar(ratio(c), width)}`" if c.error_threshold else ""
        lines.append(f"| {markdown_cell(c.column)} | {c.statistic or '–'} | {score} | {bar} | {verdict} |")
    if len(ranked) > top:
        lines.append(f"| … {len(ranked) - top} more | | | | |")
    return "\n".join(lines)
