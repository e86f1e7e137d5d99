"""`assess_canary` and its spec: verdicts, edge cases (ties, all zeros, one unit, NaNs), inputs, and load errors."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from guardrails.checks import CanaryReport, CanarySpec, assess_canary, load_canary_spec
from guardrails.checks.canary import Margin, Maturity, CanaryMetricResult, MetricSpec
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, CheckStatus, Severity, Verdict

EXAMPLE = Path(__file__).resolve().parents[2] / "expectations" / "fraud_model.canary.yaml"


def traffic(units: int, *, worse: float = 0.0, seed: int = 0, split: float = 0.5) -> pl.DataFrame:
    """Per-unit observations for the example spec: a candidate `worse` by that share on every metric."""
    rng = np.random.default_rng(seed)
    candidate = rng.random(units) >= split
    flagged = rng.poisson(3, units)
    return pl.DataFrame({
        "variant": np.where(candidate, "candidate", "control"),
        "clicked": rng.random(units) < np.where(candidate, 0.05 * (1 - worse), 0.05),
        "true_positive": rng.binomial(flagged, np.where(candidate, 0.6 * (1 - worse), 0.6)),
        "flagged": flagged,
        "latency_ms": np.round(rng.gamma(4, 20, units) * np.where(candidate, 1 + worse, 1.0)),
        "matured": rng.random(units) < 0.9,
    })


def rate_spec(**changes: object) -> CanarySpec:
    metric = MetricSpec(name="errors", kind="rate", column="error", direction="lower_is_better",
                        margin=Margin("absolute", 0.01))
    return CanarySpec(**{"metrics": (metric,), **changes})  # type: ignore[arg-type]


def test_example_spec_loads_into_typed_settings() -> None:
    """The example file parses into the issue's metrics, kinds, margins and the critical flag."""
    spec = load_canary_spec(EXAMPLE)
    assert [(m.name, m.kind.value, m.margin, m.critical) for m in spec.metrics] == [
        ("ctr", "rate", Margin("relative", 0.05), True),
        ("precision", "rate", Margin("absolute", 0.02), False),
        ("latency_p95", "continuous", Margin("absolute", 10.0), False),
    ]
    assert spec.metrics[2].quantile == 0.95 and spec.maturity == Maturity(column="matured")
    assert spec.name == "fraud_model" and spec.source == str(EXAMPLE)


def test_a_clearly_worse_candidate_fails() -> None:
    """A candidate 10% worse on precision and latency fails, at error severity, naming the failed metrics."""
    report = assess_canary(traffic(200_000, worse=0.1), EXAMPLE)
    verdicts = {m.name: m.verdict for m in report.metrics}
    assert report.verdict is Verdict.FAIL and verdicts["precision"] is Verdict.FAIL
    assert verdicts["latency_p95"] is Verdict.FAIL
    assert report.outcome.status is CheckStatus.FAILED and report.outcome.severity is Severity.ERROR
    assert report.outcome.kind is CheckKind.CANARY and "precision" in report.outcome.message


def test_an_equal_candidate_passes_once_enough_units_arrived() -> None:
    """An equal candidate with generous margins passes every metric; units needed are then 0."""
    spec = load_canary_spec(EXAMPLE)
    metrics = tuple(replace(m, margin=Margin("relative", 0.3)) if m.name == "ctr" else m for m in spec.metrics)
    report = assess_canary(traffic(300_000), replace(spec, metrics=metrics))
    assert report.verdict is Verdict.PASS, report.outcome.message
    assert report.outcome.status is CheckStatus.PASSED
    assert all(m.units_needed == 0 and m.sequential.lower > -m.margin for m in report.metrics)


def test_small_canary_is_inconclusive_with_units_needed() -> None:
    """With 600 units nothing is decided: inconclusive, a failed warning (never green), units still needed."""
    report = assess_canary(traffic(600, worse=0.1), EXAMPLE)
    assert report.verdict is Verdict.INCONCLUSIVE
    assert report.outcome.status is CheckStatus.FAILED and report.outcome.severity is Severity.WARNING
    assert not report.outcome.blocks_publication
    precision = next(m for m in report.metrics if m.name == "precision")
    assert precision.units_needed is not None and precision.units_needed > 400
    assert "min_units" in precision.message


def test_critical_metric_decides_before_min_units() -> None:
    """A critical metric fails at the first look, before min_units; the same metric, not critical, waits."""
    rng = np.random.default_rng(1)
    arm = np.where(rng.random(800) < 0.5, "control", "candidate")
    frame = pl.DataFrame({"variant": arm, "error": rng.random(800) < np.where(arm == "candidate", 0.6, 0.05)})
    critical = rate_spec(metrics=(MetricSpec(name="errors", kind="rate", column="error",
                                             direction="lower_is_better", margin=Margin("absolute", 0.01),
                                             critical=True),))
    assert assess_canary(frame, critical).verdict is Verdict.FAIL
    assert assess_canary(frame, rate_spec()).verdict is Verdict.INCONCLUSIVE


def test_all_zero_metric_is_never_a_silent_pass() -> None:
    """An error rate that is zero in both arms (Kayenta's sparse pass) is inconclusive, saying it is too sparse."""
    frame = pl.DataFrame({"variant": ["control", "candidate"] * 50_000, "error": [False] * 100_000})
    report = assess_canary(frame, rate_spec())
    assert report.verdict is Verdict.INCONCLUSIVE
    assert "too sparse" in report.metrics[0].message and report.metrics[0].sequential.lower < 0


def test_tied_continuous_values_do_not_crash() -> None:
    """Every latency identical in both arms gives a result (a zero shift), not an exception."""
    frame = pl.DataFrame({"variant": ["control", "candidate"] * 2000, "latency": [100.0] * 4000})
    metric = MetricSpec(name="lat", kind="continuous", column="latency", statistic="p95", quantile=0.95,
                        direction="lower_is_better", margin=Margin("absolute", 5))
    report = assess_canary(frame, CanarySpec(metrics=(metric,)))
    assert report.verdict is not Verdict.ERROR and report.metrics[0].estimate == 0.0
    assert report.metrics[0].fixed_n.lower == report.metrics[0].fixed_n.upper == 0.0


def test_single_unit_is_inconclusive() -> None:
    """One unit in each arm: estimates exist, nothing is decided, nothing raises."""
    frame = pl.DataFrame({"variant": ["control", "candidate"], "error": [True, False]})
    report = assess_canary(frame, rate_spec())
    assert report.verdict is Verdict.INCONCLUSIVE and report.metrics[0].units == 2


def test_nans_and_nulls_are_left_out_of_a_metric() -> None:
    """NaN and null values do not count as units of that metric, and do not poison its estimate."""
    frame = pl.DataFrame({"variant": ["control", "candidate"] * 3,
                          "latency": [1.0, float("nan"), None, 2.0, 3.0, 4.0]})
    metric = MetricSpec(name="lat", kind="continuous", column="latency", direction="lower_is_better",
                        margin=Margin("absolute", 5))
    result = assess_canary(frame, CanarySpec(metrics=(metric,))).metrics[0]
    assert (result.units_control, result.units_candidate) == (2, 2)
    assert result.control == 2.0 and result.candidate == 3.0


def test_sample_ratio_mismatch_means_could_not_run() -> None:
    """A 60/40 split where 50/50 was configured is verdict error, status error, with the counts."""
    report = assess_canary(traffic(20_000, split=0.6), EXAMPLE)
    assert report.verdict is Verdict.ERROR and report.outcome.status is CheckStatus.ERROR
    assert "sample ratio mismatch" in (report.outcome.error or "") and report.srm_p_value < 0.001
    assert report.units_control > report.units_candidate


def test_missing_column_and_unreadable_file_mean_could_not_run(tmp_path: Path) -> None:
    """A missing metric column or a file that is not Parquet gives verdict error and names why."""
    missing = assess_canary(traffic(1000).drop("latency_ms"), EXAMPLE)
    assert missing.verdict is Verdict.ERROR and "latency_ms" in (missing.outcome.error or "")
    bad = tmp_path / "x.parquet"
    bad.write_text("not parquet")
    assert assess_canary(bad, EXAMPLE).verdict is Verdict.ERROR


def test_immature_units_do_not_count() -> None:
    """Units whose outcome has not matured (column false, or within the delay) are left out and counted apart."""
    frame = traffic(10_000)
    report = assess_canary(frame, EXAMPLE)
    assert report.units_immature == frame.filter(~pl.col("matured")).height
    assert report.units == frame.filter(pl.col("matured")).height
    now = datetime(2026, 12, 1, tzinfo=UTC)
    served = [now - timedelta(hours=h) for h in (0.5, 2, 0.5, 3)]
    timed = pl.DataFrame({"variant": ["control", "candidate"] * 2, "error": [1, 0, 1, 0], "served_at": served})
    spec = rate_spec(maturity=Maturity(timestamp="served_at", delay=timedelta(hours=1)))
    report = assess_canary(timed, spec, as_of=now)
    assert (report.units, report.units_immature) == (2, 2)


@pytest.mark.parametrize("form", ["pandas", "arrow", "parquet"])
def test_every_input_form_gives_the_same_report(form: str, tmp_path: Path) -> None:
    """pandas, Arrow and a Parquet path give the verdicts and estimates polars does."""
    frame = traffic(5000, worse=0.1)
    data: object = {"pandas": frame.to_pandas, "arrow": frame.to_arrow}.get(form, lambda: None)()
    if form == "parquet":
        data = tmp_path / "canary.parquet"
        frame.write_parquet(data)
    expected, got = assess_canary(frame, EXAMPLE), assess_canary(data, EXAMPLE)
    assert [(m.verdict, m.estimate) for m in got.metrics] == [(m.verdict, m.estimate) for m in expected.metrics]


def test_report_survives_json() -> None:
    """A report, unbounded interval ends included, round-trips through JSON unchanged."""
    report = assess_canary(traffic(600), EXAMPLE)
    again = CanaryReport.from_dict(json.loads(json.dumps(report.to_dict(), allow_nan=False)))
    assert again == report and again.verdict is Verdict.INCONCLUSIVE
    assert isinstance(again.metrics[0], CanaryMetricResult)


@pytest.mark.parametrize(("text", "line", "field"), [
    ("canary:\n  alpha: 0.7\n  metrics: []\n", 2, "canary.alpha"),
    ("canary:\n  metrics:\n    - {name: a, kind: rate, column: c, direction: up, margin: {absolute: 1}}\n", 3,
     "canary.metrics[0].direction"),
    ("canary:\n  metrics:\n    - name: a\n      kind: rate\n      column: c\n      direction: higher_is_better\n"
     "      margin: {relative: 2}\n", 7, "canary.metrics[0].margin.relative"),
    ("canary:\n  expected_split: {control: 0.5, candidate: 0.6}\n  metrics: []\n", 2, "canary.expected_split"),
    ("canary:\n  maturity: {column: m, delay: 1h}\n  metrics: []\n", 2, "canary.maturity.delay"),
    ("canary:\n  metrics:\n    - {name: a, kind: continuous, column: c, statistic: p100, direction: "
     "lower_is_better, margin: {absolute: 1}}\n", 3, "canary.metrics[0].statistic"),
    ("canary:\n  metrics:\n    - {name: a, kind: rate, successes: s, direction: higher_is_better, "
     "margin: {absolute: 1}}\n", 3, "canary.metrics[0].trials"),
    ("canary:\n  metrics: [{name: a, kind: rate, column: c, direction: higher_is_better}]\n", 2,
     "canary.metrics[0].margin"),
    ("canary:\n  unknown: 1\n  metrics: []\n", 2, "canary.unknown"),
    ("canary: [\n", 2, "(document)"),
])
def test_bad_specs_are_refused_at_load_with_file_line_and_field(text: str, line: int, field: str,
                                                                tmp_path: Path) -> None:
    """Each malformed spec raises ContractError naming the file, the line and the field path."""
    path = tmp_path / "bad.canary.yaml"
    path.write_text(text)
    with pytest.raises(ContractError) as caught:
        load_canary_spec(path)
    assert any(e.field == field and e.line == line and e.path == str(path) for e in caught.value.errors), [
        (e.field, e.line) for e in caught.value.errors]


def test_every_error_in_a_spec_is_reported_at_once(tmp_path: Path) -> None:
    """Three mistakes give one error listing all three, in file order."""
    path = tmp_path / "bad.canary.yaml"
    path.write_text("canary:\n  alpha: 2\n  power: 0\n  metrics:\n    - {name: a, kind: x}\n")
    with pytest.raises(ContractError) as caught:
        load_canary_spec(path)
    assert [e.line for e in caught.value.errors][:3] == [2, 3, 5] and "more" in str(caught.value)


def test_hostile_yaml_is_refused_by_the_bounded_reader(tmp_path: Path) -> None:
    """An alias bomb in a canary spec is refused while it is read, like a contract's."""
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    path = tmp_path / "bomb.canary.yaml"
    path.write_text(bomb)
    with pytest.raises(ContractError, match="alias"):
        load_canary_spec(path)


def test_holm_needs_more_evidence_when_there_are_more_metrics() -> None:
    """A rate whose upper bound is below -m at alpha but not at alpha / 3 fails alone, not among three metrics."""
    from guardrails.checks.canary.boundaries import half_width, optimal_rho

    n, control, m = 50_000, 5_000, 0.002
    rho = optimal_rho(1000, 0.05)

    def upper(successes: int, alpha: float) -> float:
        pc, pt = control / n, successes / n
        sigma = (2 * n * (pc * (1 - pc) + pt * (1 - pt)) / n) ** 0.5
        return pt - pc + float(half_width(2 * n, sigma, rho, alpha))

    candidate = next(x for x in range(control, 0, -1) if upper(x, 0.05) < -m)
    assert upper(candidate, 0.05 / 3) > -m  # borderline by construction
    frame = pl.DataFrame({"variant": ["control"] * n + ["candidate"] * n,
                          "hit": [True] * control + [False] * (n - control) + [True] * candidate
                          + [False] * (n - candidate), "other": [True, False] * n})
    hit = MetricSpec(name="hit", kind="rate", column="hit", direction="higher_is_better", margin=Margin("absolute", m))
    others = tuple(MetricSpec(name=f"o{i}", kind="rate", column="other", direction="higher_is_better",
                              margin=Margin("absolute", m)) for i in range(2))
    assert assess_canary(frame, CanarySpec(metrics=(hit,))).verdict is Verdict.FAIL
    among_three = assess_canary(frame, CanarySpec(metrics=(hit, *others)))
    assert among_three.metrics[0].verdict is Verdict.INCONCLUSIVE
    assert "not after Holm over 3 metrics" in among_three.metrics[0].message


def test_a_ratio_with_one_trial_per_unit_is_the_plain_rate() -> None:
    """successes/trials with every unit at one trial gives the rate's estimate and sequential interval."""
    frame = traffic(20_000).with_columns(pl.col("clicked").cast(pl.Int64).alias("hits"), pl.lit(1).alias("one"))
    plain = MetricSpec(name="ctr", kind="rate", column="clicked", direction="higher_is_better",
                       margin=Margin("absolute", 0.01))
    ratio = MetricSpec(name="ctr", kind="rate", successes="hits", trials="one", direction="higher_is_better",
                       margin=Margin("absolute", 0.01))
    a, b = (assess_canary(frame, CanarySpec(metrics=(m,))).metrics[0] for m in (plain, ratio))
    assert b.estimate == pytest.approx(a.estimate, abs=1e-15)
    assert (b.sequential.lower, b.sequential.upper) == pytest.approx((a.sequential.lower, a.sequential.upper),
                                                                     rel=1e-3)


def test_row_order_does_not_change_the_report() -> None:
    """Shuffling the rows leaves every verdict, estimate and interval as it was (the API is order-free)."""
    frame = traffic(8_000, worse=0.05)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=3)
    a, b = assess_canary(frame, EXAMPLE), assess_canary(shuffled, EXAMPLE)
    for x, y in zip(a.metrics, b.metrics, strict=True):
        assert (x.verdict, x.units, x.units_needed) == (y.verdict, y.units, y.units_needed)
        assert x.estimate == pytest.approx(y.estimate, rel=1e-12, abs=1e-12)
        for one, two in ((x.sequential, y.sequential), (x.fixed_n, y.fixed_n)):
            assert (one.lower, one.upper) == pytest.approx((two.lower, two.upper), rel=1e-9, abs=1e-12)


def test_integer_and_enum_variant_columns_are_compared_in_their_own_type() -> None:
    """Variants coded 0/1, or as an Enum, select the same arms as text does."""
    base = pl.DataFrame({"variant": ["control", "candidate"] * 2000, "error": [True, False, False, False] * 1000})
    coded = base.with_columns(pl.col("variant").replace_strict({"control": 0, "candidate": 1}).alias("variant"))
    enum = base.with_columns(pl.col("variant").cast(pl.Enum(["control", "candidate", "other"])))
    expected = assess_canary(base, rate_spec()).metrics[0]
    assert assess_canary(enum, rate_spec()).metrics[0] == expected
    numeric = assess_canary(coded, rate_spec(control=0, candidate=1)).metrics[0]
    assert (numeric.units_control, numeric.estimate) == (expected.units_control, expected.estimate)


def test_no_units_yet_is_inconclusive_and_a_text_metric_column_could_not_run() -> None:
    """An empty log is inconclusive (nothing to judge yet); a metric column of text means the canary could not run."""
    empty = assess_canary(traffic(10).head(0), EXAMPLE)
    assert empty.verdict is Verdict.INCONCLUSIVE and all("no matured unit" in m.message for m in empty.metrics)
    text = pl.DataFrame({"variant": ["control", "candidate"] * 5, "error": ["a", "b"] * 5})
    report = assess_canary(text, rate_spec())
    assert report.verdict is Verdict.ERROR and "error" in (report.outcome.error or "")


def test_every_spec_field_is_documented_and_refuses_a_wrong_value(tmp_path: Path) -> None:
    """Each key the parser accepts is in the module docstring, and a wrong value there is refused naming it."""
    import yaml

    import guardrails.checks.canary.spec as spec_module

    base = yaml.safe_load(EXAMPLE.read_text())
    places = [("canary", key) for key in spec_module._TOP] + [("metric", key) for key in spec_module._METRIC]
    for where, key in places:
        assert f"{key}:" in (spec_module.__doc__ or ""), key
        data = yaml.safe_load(yaml.safe_dump(base))
        target = data["canary"] if where == "canary" else data["canary"]["metrics"][2]
        target[key] = [1, 2]
        path = tmp_path / f"{where}-{key}.canary.yaml"
        path.write_text(yaml.safe_dump(data))
        with pytest.raises(ContractError) as caught:
            load_canary_spec(path)
        prefix = f"canary.{key}" if where == "canary" else "canary.metrics[2]"
        assert any(e.field.startswith(prefix) and e.line for e in caught.value.errors), (key, str(caught.value))
