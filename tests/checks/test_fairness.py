"""The fairness gate's core: spec loading, the policy, simulations with fixed seeds, fairlearn agreement, properties."""

from __future__ import annotations

import math
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guardrails.checks import FairnessReport, FairnessSpec, assess_fairness, load_fairness_spec
from guardrails.checks.fairness import MAX_SEGMENTS, SegmentStatus, Tolerance, render_fairness_markdown
from guardrails.checks.fairness._stats import Contrasts, Family, critical_value, parts
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, CheckStatus, Severity, Verdict

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "expectations" / "transactions.fairness.yaml"
PRECISION = FairnessSpec(prediction="score", threshold=0.5, label="y", segments=("g",), metrics=("precision",))


def scored(sizes: list[int], precision: list[float], *, seed: int, selection: float = 0.3, base_rate: float = 0.05,
           column: str = "g") -> pl.DataFrame:
    """Rows in segments ``s00, s01, ...`` of the given sizes: a share `selection` flagged (score 0.9, else 0.1),
    flagged rows positive with the segment's `precision`, unflagged ones with `base_rate`."""
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    segment = np.repeat(np.arange(len(sizes)), sizes)
    flagged = rng.random(n) < selection
    label = np.where(flagged, rng.random(n) < np.repeat(precision, sizes), rng.random(n) < base_rate)
    names = np.array([f"s{i:02d}" for i in range(len(sizes))])
    return pl.DataFrame({"score": np.where(flagged, 0.9, 0.1), "y": label, column: names[segment]})


# --- the spec ------------------------------------------------------------------------------------------------


def test_the_example_spec_loads_with_the_issue_names() -> None:
    """expectations/transactions.fairness.yaml parses into frozen typed settings with the names the issue uses."""
    spec = load_fairness_spec(EXAMPLE)
    assert (spec.prediction, spec.threshold, spec.label) == ("fraud_score", 0.75, "is_fraud")
    assert spec.segments == ("country", "channel")
    assert spec.metrics == ("selection_rate", "false_positive_rate")  # the example's choice (see the file)
    assert spec.tolerance == Tolerance(difference=0.10) and spec.champion_tolerance == Tolerance(difference=0.05)
    assert spec.min_group_size == 100
    with pytest.raises(AttributeError):
        spec.threshold = 0.1  # type: ignore[misc]


def test_every_spec_field_can_be_set_from_yaml(tmp_path: Path) -> None:
    """A YAML setting every key moves every field off its default, so no setting is unreachable from a file."""
    path = tmp_path / "all.fairness.yaml"
    path.write_text(
        "fairness:\n  prediction: p\n  threshold: 0.3\n  label: y\n  segments: [a, b]\n  metrics: [recall]\n"
        "  tolerance: {difference: 0.1, ratio: 0.8}\n  champion_tolerance: {difference: 0.03}\n"
        "  min_group_size: 50\n  min_metric_count: 5\n  confidence: 0.9\n  resamples: 300\n  seed: 7\n"
    )
    spec = load_fairness_spec(path)
    defaults = FairnessSpec(prediction="x", segments=("z",))
    unchanged = [f.name for f in fields(FairnessSpec) if getattr(spec, f.name) == getattr(defaults, f.name)]
    assert unchanged == []


BAD_SPECS = [
    ("fairness:\n  segments: [country]\n", "fairness.prediction", 1),
    ("fairness:\n  prediction: p\n  segments: country\n", "fairness.segments", 3),
    ("fairness:\n  prediction: p\n  segments: [c]\n  label: y\n  metrics: [precision, accuracy]\n",
     "fairness.metrics[1]", 5),
    ("fairness:\n  prediction: p\n  segments: [c]\n  label: y\n  tolerance: {difference: 2}\n",
     "fairness.tolerance.difference", 5),
    ("fairness:\n  prediction: p\n  segments: [c]\n  label: y\n  min_group_size: 0\n", "fairness.min_group_size", 5),
    ("fairness:\n  prediction: p\n  segments: [c]\n  tresh: 0.5\n", "fairness.tresh", 4),
    ("fairness:\n  prediction: p\n  segments: [c]\n  metrics: [precision]\n", "fairness.label", 1),
    ("fairness:\n  prediction: p\n  segments: [c]\n  label: y\n  champion_tolerance: {ratio: 0.9}\n",
     "fairness.champion_tolerance", 5),
    ("fairness:\n  prediction: p\n  prediction: q\n  segments: [c]\n", "fairness.prediction", 3),
    ("prediction: p\n", "(document)", 1),
    ("fairness: [\n", "(document)", 2),
]


@pytest.mark.parametrize(("text", "field", "line"), BAD_SPECS, ids=[f for _, f, _ in BAD_SPECS])
def test_a_bad_spec_is_refused_at_load_with_file_line_and_field(tmp_path: Path, text: str, field: str,
                                                                line: int) -> None:
    """Each malformed spec raises `ContractError` naming the file, the field path and its line."""
    path = tmp_path / "bad.fairness.yaml"
    path.write_text(text)
    with pytest.raises(ContractError) as raised:
        load_fairness_spec(path)
    error = raised.value
    assert (error.path, error.field, error.line) == (str(path), field, line), str(error)
    assert str(error).startswith(f"{path}:{line}: {field}: expected")


def test_every_problem_of_a_spec_is_reported_at_once(tmp_path: Path) -> None:
    """Several mistakes give one error listing all of them in file order ("... and N more")."""
    path = tmp_path / "bad.fairness.yaml"
    path.write_text("fairness:\n  prediction: 3\n  segments: [c]\n  resamples: 5\n  confidence: 2\n")
    with pytest.raises(ContractError) as raised:
        load_fairness_spec(path)
    assert [e.field for e in raised.value.errors] == ["fairness.prediction", "fairness.resamples",
                                                      "fairness.confidence"]
    assert str(raised.value).endswith("... and 2 more")


def test_hostile_yaml_is_refused_by_the_bounded_reader(tmp_path: Path) -> None:
    """An alias bomb or a recursive alias in a spec is refused while it is read, naming the line."""
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(6))
    for text in (bomb, "fairness: &a [*a]\n"):
        path = tmp_path / "hostile.fairness.yaml"
        path.write_text(text)
        with pytest.raises(ContractError) as raised:
            load_fairness_spec(path)
        assert raised.value.line is not None and "alias" in raised.value.expected


def test_a_huge_or_missing_spec_file_is_refused(tmp_path: Path) -> None:
    """A spec over 1 MiB, or one that does not exist, is a `ContractError` on the document, not a crash."""
    big = tmp_path / "big.fairness.yaml"
    big.write_text("#" * (1024 * 1024 + 1))
    for path in (big, tmp_path / "missing.yaml"):
        with pytest.raises(ContractError) as raised:
            load_fairness_spec(path)
        assert raised.value.field == "(document)"


# --- agreement with fairlearn ----------------------------------------------------------------------------------


def test_every_per_segment_value_agrees_with_fairlearn_metricframe() -> None:
    """For each segment column, fairlearn's `MetricFrame.by_group` gives the same four rates for every segment."""
    fairlearn_metrics = pytest.importorskip("fairlearn.metrics")
    from sklearn.metrics import precision_score, recall_score

    rng = np.random.default_rng(11)
    n = 6_000
    frame = pl.DataFrame({
        "score": rng.random(n), "y": rng.random(n) < 0.3,
        "country": rng.choice(["US", "GB", "DE", "FR", "tiny"], n, p=[0.4, 0.3, 0.2, 0.098, 0.002]),
        "channel": rng.choice(["online", "pos", "atm"], n, p=[0.5, 0.4, 0.1]),
    })
    spec = FairnessSpec(prediction="score", threshold=0.6, label="y", segments=("country", "channel"))
    report = assess_fairness(frame, spec)
    pandas = frame.to_pandas()
    decision = (pandas["score"] >= 0.6).astype(int)
    metrics = {
        "selection_rate": fairlearn_metrics.selection_rate,
        "precision": lambda t, p: precision_score(t, p, zero_division=np.nan),
        "recall": lambda t, p: recall_score(t, p, zero_division=np.nan),
        "false_positive_rate": fairlearn_metrics.false_positive_rate,
    }
    ours = {(s.column, s.segment, s.metric): s.value for s in report.segments}
    compared = 0
    for column in spec.segments:
        frame_by = fairlearn_metrics.MetricFrame(metrics=metrics, y_true=pandas["y"].astype(int), y_pred=decision,
                                                 sensitive_features=pandas[column]).by_group
        for segment, row in frame_by.iterrows():
            for metric in metrics:
                assert ours[(column, segment, metric)] == pytest.approx(row[metric], abs=1e-12), (column, segment)
                compared += 1
    assert compared == len(report.segments) == (5 + 3) * 4


# --- simulations with fixed seeds ------------------------------------------------------------------------------


def test_a_real_ten_point_precision_gap_between_two_large_segments_fails() -> None:
    """Precision 0.60 vs 0.70 on 20,000 rows each fails, naming the pair and flagging both segments."""
    report = assess_fairness(scored([20_000, 20_000], [0.6, 0.7], seed=1), PRECISION)
    [gap] = report.gaps
    assert report.verdict is Verdict.FAIL and gap.verdict is Verdict.FAIL
    assert report.outcome.kind is CheckKind.FAIRNESS and report.outcome.blocks_publication
    assert (gap.low_segment, gap.high_segment) == ("s00", "s01")
    assert 0.05 < gap.difference_lower < gap.difference < gap.difference_upper
    assert {s.segment: s.flag for s in report.segments} == {"s00": "low", "s01": "high"}
    assert [r.rule_id for r in report.outcome.failed_rules] == ["fairness.g.precision"]


def test_the_same_gap_in_a_thirty_row_segment_is_insufficient_not_failed() -> None:
    """With one segment of 30 rows the gap cannot be judged: verdict insufficient (a warning), never fail or pass."""
    report = assess_fairness(scored([20_000, 30], [0.6, 0.7], seed=1), PRECISION)
    [gap] = report.gaps
    assert report.verdict is Verdict.INSUFFICIENT and gap.verdict is Verdict.INSUFFICIENT
    assert report.outcome.status is CheckStatus.FAILED and report.outcome.severity is Severity.WARNING
    assert not report.outcome.blocks_publication
    small = next(s for s in report.segments if s.segment == "s01")
    assert small.status is SegmentStatus.TOO_SMALL and small.rows == 30 and small.value is not None
    assert gap.segments_judged == 1 and gap.segments_too_small == 1


def test_a_small_segment_beside_large_ones_is_reported_not_merged_nor_failed() -> None:
    """Two large equal segments and a 30-row one with a huge gap: pass, the small one listed as too small."""
    report = assess_fairness(scored([20_000, 20_000, 30], [0.6, 0.6, 0.1], seed=2), PRECISION)
    assert report.verdict is Verdict.PASS
    statuses = {s.segment: s.status for s in report.segments}
    assert statuses == {"s00": SegmentStatus.JUDGED, "s01": SegmentStatus.JUDGED, "s02": SegmentStatus.TOO_SMALL}
    assert "too small" in report.gaps[0].message


def test_fifty_small_segments_with_no_true_gap_do_not_fail() -> None:
    """50 segments of 400 rows, equal precision: the observed range is far above tolerance, yet no replicate fails."""
    ranges = []
    for seed in range(5):
        report = assess_fairness(scored([400] * 50, [0.6] * 50, seed=seed), PRECISION)
        assert report.verdict is Verdict.PASS, report.outcome.message
        ranges.append(report.gaps[0].difference)
    assert min(ranges) > 0.15  # judging the observed largest gap alone would have failed every one


def _false_alarms(replicates: int, segments: int, rows: int, tolerance: float, *, seed: int,
                  resamples: int = 200) -> float:
    """The gate's decision rule (the same `Family` code `assess_fairness` runs) on `replicates` data sets at once."""
    rng = np.random.default_rng(seed)
    cell_probabilities = np.array([0.7 * 0.95, 0.3 * 0.4, 0.7 * 0.05, 0.3 * 0.6])  # tn, fp, fn, tp: precision 0.6
    cells = rng.multinomial(rows, cell_probabilities, size=(replicates, segments))
    drawn = rng.poisson(cells[:, None], size=(replicates, resamples, segments, 4))
    family = Family.of(*parts(cells, "precision"), *parts(drawn, "precision"), log=False)
    critical, _ = critical_value([family.max_statistic()], 0.95)
    lower, _ = family.gap_bounds(critical)
    return float(np.mean(lower > tolerance))


@pytest.mark.slow  # about 5 s each: 300 data sets x 200 resamples x 1,225 pairs
@pytest.mark.parametrize("rows", [400, 200])
def test_the_false_alarm_rate_with_no_true_gap_is_at_most_alpha(rows: int) -> None:
    """At tolerance 0 (the hardest null: any shown gap fails), 50 equal segments fail at most 5 % + 2 SE of 300 runs."""
    rate = _false_alarms(300, 50, rows, 0.0, seed=3)
    assert rate <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / 300)


def test_the_false_alarm_rate_at_the_tolerance_is_nil() -> None:
    """At the spec's tolerance (0.05) no data set of 50 equal 400-row segments fails."""
    assert _false_alarms(100, 50, 400, 0.05, seed=4) == 0.0  # at the spec's tolerance, none at all


def test_the_vectorized_rule_has_power_against_a_real_gap() -> None:
    """The same vectorized rule fails nearly every data set with a true 10-point gap between two 5,000-row segments."""
    rng = np.random.default_rng(5)
    replicates, resamples = 200, 300
    base = np.array([0.7 * 0.95, 0.7 * 0.05])
    cells = np.stack([rng.multinomial(5_000, [*base[:1], 0.3 * (1 - p), *base[1:], 0.3 * p], size=replicates)
                      for p in (0.6, 0.7)], axis=1)
    drawn = rng.poisson(cells[:, None], size=(replicates, resamples, 2, 4))
    family = Family.of(*parts(cells, "precision"), *parts(drawn, "precision"), log=False)
    critical, _ = critical_value([family.max_statistic()], 0.95)
    lower, _ = family.gap_bounds(critical)
    assert np.mean(lower > 0.05) > 0.6


def test_worst_segment_discovery_names_the_one_segment_that_is_off() -> None:
    """Among 12 segments one has precision 0.35 (the rest 0.65): it alone is flagged low, with a tiny adjusted p."""
    precision = [0.65] * 12
    precision[7] = 0.35
    report = assess_fairness(scored([3_000] * 12, precision, seed=12), PRECISION)
    flags = {s.segment: s.flag for s in report.segments if s.flag}
    assert flags == {"s07": "low"}
    worst = next(s for s in report.segments if s.segment == "s07")
    assert worst.p_adjusted is not None and worst.p_adjusted < 0.01
    assert all(s.p_adjusted is not None and s.p_adjusted > 0.05 for s in report.segments if s.segment != "s07")


def test_fifty_small_segments_raise_no_discovery_flag() -> None:
    """50 equal 400-row segments: no segment is flagged, in several fixed-seed replicates."""
    for seed in range(3):
        report = assess_fairness(scored([400] * 50, [0.6] * 50, seed=seed), PRECISION)
        assert not [s for s in report.segments if s.flag]


@pytest.mark.slow  # about 2 s: 500 data sets x 200 resamples x 50 segments
def test_the_false_discovery_rate_with_no_true_gap_is_at_most_alpha() -> None:
    """At tolerance 0, 50 equal segments: a segment is flagged in at most 5 % + 2 SE of 500 data sets."""
    rng = np.random.default_rng(21)
    cells = rng.multinomial(400, [0.7 * 0.95, 0.3 * 0.4, 0.7 * 0.05, 0.3 * 0.6], size=(500, 50))
    drawn = rng.poisson(cells[:, None], size=(500, 200, 50, 4))
    contrasts = Contrasts.of(*parts(cells, "precision"), *parts(drawn, "precision"), log=False)
    critical, _ = critical_value([contrasts.max_statistic()], 0.95)
    flagged = (np.abs(contrasts.value) - critical[:, None] * contrasts.se > 0).any(axis=1)
    assert flagged.mean() <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / 500)


# --- the champion ------------------------------------------------------------------------------------------------


def test_a_candidate_that_widens_the_champion_gap_fails_and_one_that_does_not_passes() -> None:
    """Champion gap ~0, candidate gap 0.04 (within tolerance): fails only the widening rule; equal models pass."""
    spec = replace(PRECISION, champion_tolerance=Tolerance(difference=0.01))
    champion = scored([30_000, 30_000], [0.65, 0.65], seed=6)
    candidate = scored([30_000, 30_000], [0.63, 0.67], seed=7)
    report = assess_fairness(candidate, spec, champion=champion)
    [gap] = report.gaps
    assert gap.verdict is Verdict.PASS and gap.champion_verdict is Verdict.FAIL
    assert gap.widening_lower > 0.01 and gap.widening == pytest.approx(gap.difference - gap.champion_difference)
    assert report.verdict is Verdict.FAIL
    assert [r.rule_id for r in report.outcome.failed_rules] == ["fairness.g.precision.vs_champion"]

    same = assess_fairness(scored([30_000, 30_000], [0.65, 0.65], seed=8), spec, champion=champion)
    assert same.verdict is Verdict.PASS and same.gaps[0].champion_verdict is Verdict.PASS


def test_recorded_gaps_stand_for_the_champion() -> None:
    """The champion's report, its JSON, or a mapping of recorded gaps all judge the widening the same way."""
    spec = replace(PRECISION, champion_tolerance=Tolerance(difference=0.01))
    champion = assess_fairness(scored([30_000, 30_000], [0.65, 0.65], seed=6), spec)
    candidate = scored([30_000, 30_000], [0.63, 0.67], seed=7)
    for recorded in (champion, FairnessReport.from_json(champion.to_json()), champion.recorded_gaps(),
                     {("g", "precision"): champion.gaps[0].difference}):
        gap = assess_fairness(candidate, spec, champion=recorded).gaps[0]
        assert gap.champion_difference == champion.gaps[0].difference
        assert gap.champion_verdict is Verdict.FAIL


def test_a_champion_with_no_measured_gap_makes_the_comparison_insufficient() -> None:
    """Recorded gaps that do not name this gap leave the widening unjudged: insufficient, not pass."""
    report = assess_fairness(scored([20_000, 20_000], [0.6, 0.6], seed=9), PRECISION, champion={"other.recall": 0.1})
    assert report.gaps[0].champion_verdict is Verdict.INSUFFICIENT and report.verdict is Verdict.INSUFFICIENT


# --- could not run, missing columns, odd values ------------------------------------------------------------------


def test_unreadable_or_unusable_data_is_an_error_outcome_never_a_pass(tmp_path: Path) -> None:
    """No file, a missing label, a text label, or no scored row: verdict error with the reason (fail closed)."""
    frame = scored([500, 500], [0.6, 0.6], seed=1)
    cases = {
        "missing": (tmp_path / "nothing.parquet", "cannot be read"),
        "no label": (frame.drop("y"), "column 'y' is missing"),
        "text label": (frame.with_columns(pl.col("y").cast(pl.String)), "label column 'y' is String"),
        "no scored row": (frame.with_columns(pl.lit(None, pl.Float64).alias("score")), "no scored row"),
    }
    for name, (data, why) in cases.items():
        report = assess_fairness(data, PRECISION)
        assert report.verdict is Verdict.ERROR, name
        assert report.outcome.status is CheckStatus.ERROR and why in (report.outcome.error or ""), name


def test_a_missing_or_identifier_segment_column_fails_its_gaps() -> None:
    """A segment column absent from the data, or with more values than MAX_SEGMENTS, fails its rules (status error)."""
    frame = scored([2_000, 2_000], [0.6, 0.6], seed=1).with_row_index("row_id").with_columns(
        pl.col("row_id").cast(pl.String))
    spec = replace(PRECISION, segments=("g", "region", "row_id"))
    assert frame.height > MAX_SEGMENTS
    report = assess_fairness(frame, spec)
    verdicts = {g.column: g.verdict for g in report.gaps}
    assert verdicts == {"g": Verdict.PASS, "region": Verdict.ERROR, "row_id": Verdict.ERROR}
    assert report.verdict is Verdict.FAIL and report.outcome.status is CheckStatus.FAILED
    assert "identifier" in next(g.message for g in report.gaps if g.column == "row_id")


def test_null_segments_are_their_own_segment_and_null_predictions_are_counted_out() -> None:
    """A null segment value is a segment (None); rows with a null score or label are left out and counted."""
    frame = scored([3_000, 3_000], [0.6, 0.6], seed=4).with_columns(
        pl.when(pl.int_range(pl.len()) < 300).then(None).otherwise(pl.col("g")).alias("g"),
        pl.when(pl.int_range(pl.len()) % 100 == 1).then(None).otherwise(pl.col("score")).alias("score"),
    )
    report = assess_fairness(frame, PRECISION)
    assert report.outcome.metrics["rows_unscored"] == 60 and report.outcome.rows == 6_000
    assert [s.segment for s in report.segments] == [None, "s00", "s01"]
    assert sum(s.rows for s in report.segments) == 5_940


def test_every_input_form_gives_the_same_report(tmp_path: Path) -> None:
    """A polars, pandas or Arrow frame, a LazyFrame and a Parquet file of the same rows give the same report."""
    frame = scored([3_000, 2_000, 100], [0.6, 0.5, 0.6], seed=5).with_columns(pl.lit("x").alias("unused"))
    frame.write_parquet(tmp_path / "scored.parquet")
    expected = _comparable(assess_fairness(frame, PRECISION))
    for data in (frame.to_pandas(), frame.to_arrow(), frame.lazy(), tmp_path / "scored.parquet",
                 str(tmp_path / "scored.parquet")):
        assert _comparable(assess_fairness(data, PRECISION)) == expected, type(data).__name__


def test_a_boolean_decision_needs_no_threshold_and_selection_rate_needs_no_label() -> None:
    """A boolean prediction column is the decision itself; a selection-rate-only spec reads no label."""
    frame = scored([4_000, 4_000], [0.6, 0.6], seed=2).with_columns((pl.col("score") > 0.5).alias("flagged"))
    spec = FairnessSpec(prediction="flagged", segments=("g",), metrics=("selection_rate",))
    report = assess_fairness(frame.drop("y"), spec)
    assert report.verdict is Verdict.PASS
    expected = frame.group_by("g").agg(pl.col("flagged").mean()).sort("g")["flagged"].to_list()
    assert [s.value for s in report.segments] == pytest.approx(expected)


def test_a_ratio_tolerance_is_judged_on_the_smallest_over_the_largest() -> None:
    """Selection rates 0.20 vs 0.30 (ratio 0.67) fail a four-fifths rule and pass a ratio of 0.5."""
    rng = np.random.default_rng(3)
    n = 20_000
    group = np.repeat(["a", "b"], n)
    flagged = rng.random(2 * n) < np.where(group == "a", 0.2, 0.3)
    frame = pl.DataFrame({"flagged": flagged, "g": group})
    strict = FairnessSpec(prediction="flagged", segments=("g",), metrics=("selection_rate",),
                          tolerance=Tolerance(difference=None, ratio=0.8))
    report = assess_fairness(frame, strict)
    [gap] = report.gaps
    assert gap.verdict is Verdict.FAIL and gap.ratio == pytest.approx(2 / 3, abs=0.02)
    assert gap.ratio_lower < gap.ratio < gap.ratio_upper < 0.8
    loose = replace(strict, tolerance=Tolerance(difference=None, ratio=0.5))
    assert assess_fairness(frame, loose).verdict is Verdict.PASS


def test_the_report_renders_as_markdown_with_segment_values_escaped() -> None:
    """A hostile segment value is escaped in the Markdown report (no HTML, no table break)."""
    frame = scored([3_000, 3_000], [0.5, 0.8], seed=1).with_columns(
        pl.col("g").replace({"s00": "<script>|x"}))
    text = render_fairness_markdown(assess_fairness(frame, PRECISION))
    assert "<script>" not in text and "\\<script\\>\\|x" in text


# --- properties ------------------------------------------------------------------------------------------------

SMALL = replace(PRECISION, metrics=("selection_rate", "precision", "recall", "false_positive_rate"),
                min_group_size=20, min_metric_count=5, resamples=200)


@st.composite
def small_frames(draw: st.DrawFn) -> pl.DataFrame:
    """A few hundred scored rows in 2 to 5 segments (some too small), with random scores and labels."""
    rows = draw(st.integers(min_value=40, max_value=300))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    segments = draw(st.integers(min_value=2, max_value=5))
    rng = np.random.default_rng(seed)
    return pl.DataFrame({"score": rng.random(rows), "y": rng.random(rows) < 0.4,
                         "g": rng.choice([f"v{i}" for i in range(segments)], rows)})


def _comparable(report: FairnessReport) -> tuple:
    return report.gaps, report.segments, report.critical_value, report.outcome.rules


@settings(max_examples=25)
@given(small_frames(), st.randoms(use_true_random=False))
def test_metrics_ignore_row_order(frame: pl.DataFrame, random: object) -> None:
    """Shuffling the rows changes nothing in the report: counts, values, intervals, verdicts."""
    order = list(range(frame.height))
    random.shuffle(order)  # type: ignore[attr-defined]
    assert _comparable(assess_fairness(frame[order], SMALL)) == _comparable(assess_fairness(frame, SMALL))


@settings(max_examples=25)
@given(small_frames(), st.permutations([f"w{i}" for i in range(5)]))
def test_renaming_segments_moves_values_with_their_names_and_changes_no_gap(frame: pl.DataFrame,
                                                                            names: list[str]) -> None:
    """Relabelling segments (a bijection) gives each new name the old segment's values; gaps and verdicts agree."""
    mapping = {f"v{i}": name for i, name in enumerate(names)}
    before = assess_fairness(frame, SMALL)
    after = assess_fairness(frame.with_columns(pl.col("g").replace_strict(mapping)), SMALL)
    renamed = {(mapping[s.segment], s.metric): (s.value, s.rows, s.numerator, s.denominator, s.status)
               for s in before.segments}
    assert renamed == {(s.segment, s.metric): (s.value, s.rows, s.numerator, s.denominator, s.status)
                       for s in after.segments}
    for old, new in zip(before.gaps, after.gaps, strict=True):
        assert (old.verdict, old.difference, old.difference_lower, old.difference_upper, old.ratio) == (
            new.verdict, new.difference, new.difference_lower, new.difference_upper, new.ratio)
    def intervals(report: FairnessReport) -> list[tuple]:
        return sorted((s.metric, s.lower is None, s.lower or 0.0, s.upper or 0.0) for s in report.segments)

    assert intervals(before) == intervals(after)


@pytest.mark.parametrize("module", ["_assess", "_counts", "_render", "_spec"])
def test_docstring_examples_run(module: str) -> None:
    """Every docstring example in the fairness modules passes."""
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"guardrails.checks.fairness.{module}"))
    assert result.failed == 0 and result.attempted > 0


def test_the_fairness_core_imports_no_orchestrator() -> None:
    """No module of guardrails/checks/fairness imports Dagster, Airflow or MLflow (dependencies point inward)."""
    import ast

    import guardrails.checks.fairness as package

    for source in Path(package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names if n.split(".")[0] in ("dagster", "airflow", "mlflow")], source.name
