"""Feature parity (training/serving skew): offline feature rows vs the features actually served online.

Join both sides on the entity key (plus an event timestamp, when configured, matched exactly), then:

- per feature, the share of joined rows whose values differ: exact for categoricals, strings, booleans and
  timestamps (null equals null); within ``abs_tolerance + rel_tolerance * |offline|`` for numbers (NaN equals
  NaN, null equals null, null never equals a value);
- the share of offline keys not served online and of online keys absent offline;
- duplicate keys per side (the first occurrence is compared; the count is reported as a warning);
- distribution skew between the two sides with the drift statistics (PSI, Jensen-Shannon, KS, ...), judged
  like drift (`guardrails.checks.drift.judge_scores`);
- a capped sample of mismatched pairs: the key, ``_rules`` naming the features that differ, and
  ``<feature>.offline`` / ``<feature>.online`` values; each value cut at 1 KiB and the sample at 64 KiB of
  JSON, the pairs left out counted in the ``sample_rows_dropped`` metric (the data itself is never cut).

Defaults: mismatch share warn > 0.1 %, error > 1 %; missing-key share warn > 1 %, error > 5 %; skew as drift
(PSI 0.1 / 0.2). Configuration from a contract (``customProperties``, property ``parity``)::

    customProperties:
      - property: parity
        value:
          keys: [customer_id]                  # default: the contract's primary key
          timestamp: scored_at                 # optional, joined exactly
          features: [amount, country]          # default: columns on both sides except keys / timestamp
          tolerance: {abs: 1.0e-9, rel: 1.0e-6}
          featureTolerances: {amount: {abs: 0.01, rel: 0}}
          thresholds: {mismatch: {warn: 0.001, error: 0.01}, missing: {warn: 0.01, error: 0.05}}
          skew: {thresholds: {psi: {warn: 0.1, error: 0.2}}, minReferenceRows: 100}   # as for drift
          sampleSize: 20

Example:
    >>> import polars as pl
    >>> offline = pl.DataFrame({"id": [1, 2, 3], "amount": [1.0, 2.0, 3.0], "country": ["DE", "FR", "NL"]})
    >>> online = pl.DataFrame({"id": [1, 2, 4], "amount": [1.0, 2.5, 9.0], "country": ["DE", "FR", "BE"]})
    >>> report = assess_parity(offline, online, ParitySettings(keys=("id",)))
    >>> [(f.feature, f.mismatches, f.compared) for f in report.features]
    [('amount', 1, 2), ('country', 0, 2)]
    >>> report.outcome.metrics["missing_online_share"], report.outcome.sample[0]["_rules"]
    (0.3333333333333333, ['parity.amount'])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.checks._settings import SettingsReader
from guardrails.checks.band import Band
from guardrails.checks.drift import ColumnDrift, DriftSettings, judge_scores
from guardrails.checks.statistics import compare_columns
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity, judge
from guardrails.profile import Profile, build_profile, column_kind
from guardrails.validation._frames import to_polars
from guardrails.validation._sample import capped_sample, json_safe

__all__ = ["FeatureParity", "ParityReport", "ParitySettings", "assess_parity", "check_parity"]

_OFF, _ON = "__offline_present", "__online_present"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParitySettings:
    """How offline and online features are joined, compared and judged (see the module docstring)."""

    keys: tuple[str, ...]
    timestamp: str | None = None
    features: tuple[str, ...] | None = None
    abs_tolerance: float = 1e-9
    rel_tolerance: float = 1e-6
    feature_tolerances: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    mismatch: Band = Band(0.001, 0.01)
    missing: Band = Band(0.01, 0.05)
    skew: DriftSettings = DriftSettings()
    sample_size: int = 20

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(self.keys))
        if not self.keys:
            raise ValueError("parity needs at least one key column")
        if self.features is not None:
            object.__setattr__(self, "features", tuple(self.features))
        for tol in (self.abs_tolerance, self.rel_tolerance, *(v for t in self.feature_tolerances.values() for v in t)):
            if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol >= 0):
                raise ValueError(f"tolerances must be finite numbers >= 0, got {tol!r}")
        if self.sample_size < 0:
            raise ValueError(f"sample_size must be >= 0, got {self.sample_size}")

    def tolerance_for(self, feature: str) -> tuple[float, float]:
        """(absolute, relative) tolerance for a numeric feature."""
        return self.feature_tolerances.get(feature, (self.abs_tolerance, self.rel_tolerance))

    @classmethod
    def from_mapping(cls, value: Mapping[str, Any] | None, *, default_keys: Sequence[str] = (),
                     source: str = "<settings>", field_path: str = "customProperties.parity") -> ParitySettings:
        """Parse the ``parity`` custom property; raises `ContractError` naming the field for anything invalid."""
        reader = SettingsReader(source, field_path)
        data = reader.mapping(value or {}, "", {"keys", "timestamp", "features", "tolerance", "featureTolerances",
                                                "thresholds", "skew", "sampleSize"})
        keys = reader.names(data["keys"], "keys") if "keys" in data else tuple(default_keys)
        if not keys:
            raise reader.fail("keys", "a list of key columns (or a primary key in the contract)", None)
        timestamp = data.get("timestamp")
        if timestamp is not None and not isinstance(timestamp, str):
            raise reader.fail("timestamp", "a column name", timestamp)

        def tolerance(raw: Any, where: str, base: tuple[float, float]) -> tuple[float, float]:
            raw = reader.mapping(raw, where, {"abs", "rel"})
            pair = (raw.get("abs", base[0]), raw.get("rel", base[1]))
            for name, v in zip(("abs", "rel"), pair, strict=True):
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                    raise reader.fail(f"{where}.{name}", "a finite number >= 0", v)
            return float(pair[0]), float(pair[1])

        base = tolerance(data.get("tolerance", {}), "tolerance", (1e-9, 1e-6))
        per_feature = {str(f): tolerance(raw, f"featureTolerances.{f}", base)
                       for f, raw in reader.mapping(data.get("featureTolerances", {}), "featureTolerances",
                                                    None).items()}
        thresholds = reader.mapping(data.get("thresholds", {}), "thresholds", {"mismatch", "missing"})
        bands = {name: reader.band(thresholds[name], f"thresholds.{name}") or Band()
                 for name in ("mismatch", "missing") if name in thresholds}
        skew = DriftSettings.from_mapping(data.get("skew"), source=source, field_path=f"{field_path}.skew")
        sample_size = data.get("sampleSize", 20)
        if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 0:
            raise reader.fail("sampleSize", "an integer >= 0", sample_size)
        features = reader.names(data["features"], "features") if "features" in data else None
        return cls(keys=keys, timestamp=timestamp, features=features, abs_tolerance=base[0],
                   rel_tolerance=base[1], feature_tolerances=per_feature, skew=skew, sample_size=sample_size,
                   **bands)

    @classmethod
    def from_contract(cls, contract: Any) -> ParitySettings:
        """The settings the loader parsed into `Contract.parity`, or keys from the contract's primary key.

        A contract built by hand rather than loaded is parsed here, from `Contract.custom["parity"]`.
        """
        if contract.parity is not None:
            return contract.parity  # type: ignore[no-any-return]
        if "parity" not in contract.custom and not contract.primary_key:
            raise ContractError(contract.source or contract.id, "customProperties.parity",
                                expected="parity settings with keys (or a primary key)", got="nothing")
        return cls.from_mapping(contract.custom.get("parity"), default_keys=contract.primary_key,
                                source=contract.source or contract.id)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureParity:
    """The verdict for one feature: value match on joined keys, and distribution skew between the sides.

    `statistic` names what decided (``"mismatch"`` or a skew statistic such as ``"psi"``), `observed` its value.
    """

    feature: str
    status: CheckStatus
    severity: Severity
    compared: int
    mismatches: int
    statistic: str | None
    observed: float | None
    expected: str
    message: str
    skew: ColumnDrift | None = None

    @property
    def match_rate(self) -> float | None:
        return 1 - self.mismatches / self.compared if self.compared else None

    def to_rule(self) -> RuleResult:
        return RuleResult(rule_id=f"parity.{self.feature}", kind="parity", columns=(self.feature,),
                          severity=self.severity, status=self.status, failing_rows=self.mismatches,
                          observed=self.observed, expected=self.expected, message=self.message)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParityReport:
    """A parity run: the outcome and the per-feature verdicts (for tables)."""

    outcome: CheckOutcome
    features: tuple[FeatureParity, ...]


def check_parity(offline: Any, online: Any, settings: ParitySettings, **options: Any) -> CheckOutcome:
    """`assess_parity(...).outcome`: the parity `CheckOutcome` alone."""
    return assess_parity(offline, online, settings, **options).outcome


def assess_parity(
    offline: Any,
    online: Any,
    settings: ParitySettings,
    *,
    check: str = "parity",
    contract: Any = None,
    as_of: datetime | None = None,
) -> ParityReport:
    """Compare offline (training) features with online (served) features for the same entities.

    Args:
        offline: The offline feature table (polars, pandas or Arrow).
        online: The served / logged features, same key (and timestamp) columns.
        settings: Keys, features, tolerances and thresholds.
        check: The check name recorded in the outcome.
        contract: If given, its id and version are recorded.
        as_of: Recorded as the outcome's `as_of` (default: now, UTC).

    Returns:
        A `ParityReport` whose outcome has rules ``parity.<feature>`` (failing_rows = mismatches),
        ``parity.missing_online`` / ``parity.missing_offline`` (share of keys on one side only), and
        ``parity.duplicate_keys`` when either side repeats a key; metrics ``match_rate.<feature>``,
        ``mismatches.<feature>``, the skew scores (``psi.<feature>``, ...), ``keys_offline``, ``keys_online``,
        ``keys_matched``, ``missing_online_share``, ``missing_offline_share`` and duplicate counts.
    """
    started = datetime.now(UTC)
    off, on = to_polars(offline), to_polars(online)
    join_on = [*settings.keys, *([settings.timestamp] if settings.timestamp else [])]

    def done(rules: list[RuleResult], features: tuple[FeatureParity, ...], metrics: dict[str, Any],
             sample: tuple[dict[str, Any], ...] = (), error: str | None = None) -> ParityReport:
        outcome = _outcome(rules, metrics, sample, check, contract, as_of or started, started, error)
        return ParityReport(outcome=outcome, features=features)

    problems = [f"key column {cap_text(repr(c))} is missing from the {side} features"
                for side, frame in (("offline", off), ("online", on)) for c in join_on if c not in frame.columns]
    if not problems:
        problems += [f"key column {cap_text(repr(c))} has type {off.schema[c]} offline but {on.schema[c]} online"
                     for c in join_on if _family(off.schema[c]) != _family(on.schema[c])]
    problems += [f"the {side} features are empty" for side, frame in (("offline", off), ("online", on))
                 if frame.height == 0]
    if problems:
        return done([], (), {"rows_offline": off.height, "rows_online": on.height}, error="; ".join(problems))

    excluded = set(join_on)
    wanted = settings.features if settings.features is not None else tuple(
        c for c in off.columns if c in on.columns and c not in excluded)
    metrics: dict[str, Any] = {"rows_offline": off.height, "rows_online": on.height}
    verdicts: dict[str, FeatureParity] = {}
    features: list[str] = []
    for name in wanted:
        problem = None
        if name not in off.columns or name not in on.columns:
            problem = "missing from the " + " and ".join(s for s, f in (("offline", off), ("online", on))
                                                          if name not in f.columns) + " features"
        elif _family(off.schema[name]) != _family(on.schema[name]):
            problem = f"type differs: {off.schema[name]} offline, {on.schema[name]} online"
        elif column_kind(off.schema[name]) is None:
            problem = f"type {off.schema[name]} cannot be compared"
        if problem:
            verdicts[name] = FeatureParity(feature=name, status=CheckStatus.ERROR, severity=Severity.ERROR,
                                           compared=0, mismatches=0, statistic=None, observed=None,
                                           expected="a comparable feature", message=f"{cap_text(name)}: {problem}")
        else:
            features.append(name)

    rules: list[RuleResult] = []
    off = off.select(*join_on, *features)
    on = on.select(*join_on, *features)
    duplicates = {side: frame.height - frame.select(join_on).n_unique() for side, frame in
                  (("offline", off), ("online", on))}
    metrics.update({f"duplicate_keys_{side}": n for side, n in duplicates.items()})
    if any(duplicates.values()):
        off = off.unique(subset=join_on, keep="first", maintain_order=True)
        on = on.unique(subset=join_on, keep="first", maintain_order=True)
        rules.append(RuleResult(rule_id="parity.duplicate_keys", kind="parity_keys", columns=tuple(join_on),
                                severity=Severity.WARNING, status=CheckStatus.FAILED,
                                failing_rows=sum(duplicates.values()), observed=float(sum(duplicates.values())),
                                expected="unique keys on both sides",
                                message=f"repeated keys: {duplicates['offline']} offline, "
                                        f"{duplicates['online']} online (the first occurrence was compared)"))

    # Join the keys alone (narrow and fast), then gather the feature columns of both sides into one aligned
    # frame: much cheaper than a full join carrying every feature column through the hash join.
    pairs = off.select(join_on).with_row_index(_OFF).join(
        on.select(join_on).with_row_index(_ON), on=join_on, how="inner", nulls_equal=False, maintain_order="left")
    missing_online, missing_offline = off.height - pairs.height, on.height - pairs.height
    both = pl.concat([
        pairs.select(join_on),
        off.select(pl.col(features).gather(pairs[_OFF]).name.suffix(".offline")),
        on.select(pl.col(features).gather(pairs[_ON]).name.suffix(".online")),
    ], how="horizontal") if features else pairs.select(join_on)
    metrics.update(keys_offline=off.height, keys_online=on.height, keys_matched=both.height,
                   missing_online_share=missing_online / off.height, missing_offline_share=missing_offline / on.height)
    for rule_id, count, total, words in (
        ("parity.missing_online", missing_online, off.height, "offline keys not served online"),
        ("parity.missing_offline", missing_offline, on.height, "served keys absent offline"),
    ):
        share = count / total
        level = settings.missing.judge(share)
        rules.append(RuleResult(rule_id=rule_id, kind="parity_keys", columns=tuple(settings.keys),
                                severity=level or Severity.ERROR,
                                status=CheckStatus.FAILED if level else CheckStatus.PASSED, failing_rows=count,
                                observed=share, expected=f"share: {settings.missing.describe()}",
                                message=f"{count} of {total} {words} ({share:.2%})"))

    matches = both.select([_match(f, both.schema[f"{f}.offline"], both.schema[f"{f}.online"],
                                  *settings.tolerance_for(f)).alias(f) for f in features])
    mismatch_counts = {f: both.height - int(matches[f].sum()) for f in features}

    reference = build_profile(off.select(features), columns=features, categorical=settings.skew.categorical,
                              bins=settings.skew.bins, fine_bins=settings.skew.fine_bins,
                              max_categories=settings.skew.max_categories) if features else Profile(0, {})
    served = build_profile(on.select(features), like=reference) if features else Profile(0, {})
    for f in features:
        skew = judge_scores(f, compare_columns(reference.columns[f], served.columns[f]), settings.skew)
        verdicts[f] = _judge_feature(f, both.height, mismatch_counts[f], skew, settings)
        metrics[f"match_rate.{f}"] = verdicts[f].match_rate
        metrics[f"mismatches.{f}"] = mismatch_counts[f]
        if skew.scores is not None:
            metrics.update(skew.scores.metrics(f))
    metrics = {k: v for k, v in metrics.items() if v is not None}

    sample: tuple[dict[str, Any], ...] = ()
    if features and settings.sample_size and any(mismatch_counts.values()):
        bad = both.with_columns(matches.rename({f: f"__match.{f}" for f in features}))
        bad = bad.filter(~pl.all_horizontal(f"__match.{f}" for f in features)).head(settings.sample_size)
        sample, dropped = capped_sample(_sample_row(row, join_on, features) for row in bad.iter_rows(named=True))
        metrics.update(dropped)

    ordered = tuple(verdicts[name] for name in wanted)
    return done(rules + [v.to_rule() for v in ordered], ordered, metrics, sample)


def _family(dtype: pl.DataType) -> str:
    if dtype.is_numeric():
        return "numeric"
    if dtype.is_temporal():
        return f"temporal:{dtype.base_type()}"
    if dtype == pl.String or isinstance(dtype, (pl.Categorical, pl.Enum)):
        return "string"
    return str(dtype.base_type())


def _match(feature: str, off_type: pl.DataType, on_type: pl.DataType, abs_tol: float, rel_tol: float) -> pl.Expr:
    a, b = pl.col(f"{feature}.offline"), pl.col(f"{feature}.online")
    if off_type.is_numeric() and on_type.is_numeric():
        a, b = a.cast(pl.Float64), b.cast(pl.Float64)
        close = ((a - b).abs() <= abs_tol + rel_tol * a.abs()) | (a == b) | (a.is_nan() & b.is_nan())
        return pl.when(a.is_null() | b.is_null()).then(a.is_null() & b.is_null()).otherwise(close.fill_null(False))
    if _family(off_type) == "string":
        a, b = a.cast(pl.String), b.cast(pl.String)
    return a.eq_missing(b)


def _judge_feature(name: str, compared: int, mismatches: int, skew: ColumnDrift,
                   settings: ParitySettings) -> FeatureParity:
    if compared == 0:
        return FeatureParity(feature=name, status=CheckStatus.FAILED, severity=Severity.ERROR, compared=0,
                             mismatches=0, statistic="mismatch", observed=None, expected="some keys on both sides",
                             message=f"{cap_text(name)}: no key is present on both sides, so values cannot be "
                                     "compared",
                             skew=skew)
    share = mismatches / compared
    level = settings.mismatch.judge(share)
    rank = {None: 0, Severity.WARNING: 1, Severity.ERROR: 2}
    skew_level = skew.severity if skew.status is not CheckStatus.PASSED else None
    message = f"{cap_text(name)}: {mismatches} of {compared} joined rows differ ({share:.3%}); skew: {skew.message}"
    if rank[skew_level] > rank[level]:
        return FeatureParity(feature=name, status=CheckStatus.FAILED, severity=skew_level, compared=compared,
                             mismatches=mismatches, statistic=skew.statistic, observed=skew.observed,
                             expected=f"skew {skew.expected}", message=message, skew=skew)
    return FeatureParity(feature=name, status=CheckStatus.FAILED if level else CheckStatus.PASSED,
                         severity=level or Severity.ERROR, compared=compared, mismatches=mismatches,
                         statistic="mismatch", observed=share,
                         expected=f"mismatch share: {settings.mismatch.describe()}", message=message, skew=skew)


def _sample_row(row: Mapping[str, Any], keys: Sequence[str], features: Sequence[str]) -> dict[str, Any]:
    out = {k: json_safe(row[k]) for k in keys}
    out["_rules"] = [f"parity.{f}" for f in features if not row[f"__match.{f}"]]
    for f in features:
        if not row[f"__match.{f}"]:
            out[f"{f}.offline"] = json_safe(row[f"{f}.offline"])
            out[f"{f}.online"] = json_safe(row[f"{f}.online"])
    return out


def _outcome(rules: list[RuleResult], metrics: dict[str, Any], sample: tuple[dict[str, Any], ...], check: str,
             contract: Any, as_of: datetime, started: datetime, error: str | None) -> CheckOutcome:
    failed = [r for r in rules if r.status is not CheckStatus.PASSED]
    status, severity = judge(rules, could_run=error is None)
    if error is not None:
        message = f"parity could not be measured: {error}"
    elif failed:
        # A feature that could not be compared (missing, retyped) is shown with its reason.
        message = f"parity broken in {len(failed)} rules: " + ", ".join(
            r.message if r.status is CheckStatus.ERROR else r.rule_id for r in failed[:5])
    else:
        message = "offline and online features agree"
    return CheckOutcome(check=check, kind=CheckKind.PARITY, status=status, severity=severity, started_at=started,
                        finished_at=datetime.now(UTC), rows=metrics.get("keys_matched"), rules=tuple(rules),
                        sample=sample, metrics=metrics, contract_id=getattr(contract, "id", None),
                        contract_version=getattr(contract, "version", None), as_of=as_of,
                        message=cap_text(message, MESSAGE_CHARS),
                        error=None if error is None else cap_text(error, MESSAGE_CHARS))
