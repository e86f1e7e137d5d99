"""The performance spec: the example file loads into typed settings; a bad spec is refused at load, naming file,
line and field, with every problem reported at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from guardrails.checks.performance import Calibration, Margin, Metric, PerformanceSpec, load_performance_spec
from guardrails.errors import ContractError

EXAMPLES = sorted(Path("expectations").glob("*.performance.yaml"))
GOOD = """performance:
  key: transaction_id
  prediction: score
  label: is_fraud
  prediction_time: event_time
  label_maturity: 30d
"""


def test_every_spec_beside_the_contracts_loads() -> None:
    """Each ``expectations/*.performance.yaml`` loads; the example judges the issue's metrics with its margin."""
    assert EXAMPLES
    for path in EXAMPLES:
        spec = load_performance_spec(path)
        assert spec.source == str(path)
    spec = load_performance_spec("expectations/transactions.performance.yaml")
    assert spec.metrics == (Metric.PRECISION, Metric.RECALL, Metric.ROC_AUC)
    assert spec.reference_metrics == {Metric.PRECISION: 0.80, Metric.RECALL: 0.60, Metric.ROC_AUC: 0.90}
    assert spec.label_maturity == timedelta(days=30) and spec.period == timedelta(days=1)
    assert spec.margin == Margin(absolute=0.05) and spec.min_labels == 500
    assert spec.calibration is Calibration.ISOTONIC and spec.label_time == "label_time"


def test_defaults_fill_what_a_minimal_spec_leaves_out() -> None:
    """A spec with only the required fields judges precision, recall and ROC AUC at a 5-point margin, 500 labels."""
    spec = PerformanceSpec.from_text(GOOD, "min.performance.yaml")
    assert (spec.threshold, spec.period, spec.min_labels, spec.margin) == (0.5, None, 500, Margin(absolute=0.05))
    assert spec.margin.bound(Metric.LOG_LOSS, 0.3) == pytest.approx(0.35)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ("  period: 1M\n", "performance.period"),
        ("  threshold: 1.5\n", "performance.threshold"),
        ("  metrics: [precision, accuracy]\n", "performance.metrics[1]"),
        ("  reference_metrics: {precision: high}\n", "performance.reference_metrics.precision"),
        ("  margin: {absolute: 0.05, relative: 0.1}\n", "performance.margin"),
        ("  min_labels: 0\n", "performance.min_labels"),
        ("  estimate: {calibration: beta}\n", "performance.estimate.calibration"),
        ("  labl_time: x\n", "performance.labl_time"),
    ],
)
def test_a_bad_field_is_refused_with_file_line_and_field(tmp_path: Path, extra: str, field: str) -> None:
    """Each kind of bad value raises `ContractError` naming the file, the field's line (7) and its dotted path."""
    path = tmp_path / "bad.performance.yaml"
    path.write_text(GOOD + extra)
    with pytest.raises(ContractError) as caught:
        load_performance_spec(path)
    error = caught.value
    assert (error.path, error.field, error.line) == (str(path), field, 7)
    assert str(error).startswith(f"{path}:7: {field}: expected ")


def test_every_problem_is_reported_at_once() -> None:
    """Two bad fields and a missing one give one error whose `errors` lists all three ("... and 2 more")."""
    text = "performance:\n  key: id\n  prediction: 3\n  label: y\n  prediction_time: t\n  threshold: -1\n"
    with pytest.raises(ContractError) as caught:
        PerformanceSpec.from_text(text, "x.yaml")
    fields = {e.field for e in caught.value.errors}
    assert fields == {"performance.prediction", "performance.threshold", "performance.label_maturity"}
    assert str(caught.value).endswith("... and 2 more")


def test_hostile_yaml_is_refused_by_the_bounded_reader() -> None:
    """An alias bomb is refused while it is read, as for contracts, instead of expanding."""
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))
    with pytest.raises(ContractError, match="aliases"):
        PerformanceSpec.from_text(bomb, "bomb.yaml")


def test_a_spec_without_the_performance_section_says_what_is_missing() -> None:
    """A file that is not a performance spec is refused at its first line."""
    with pytest.raises(ContractError) as caught:
        PerformanceSpec.from_text("schema: []\n", "contract.yaml")
    assert caught.value.line == 1 and "performance" in caught.value.expected


def test_settings_refuse_inconsistent_values_when_built_in_python() -> None:
    """Built by hand, a spec refuses a bad threshold or margin in its constructor, not halfway through a run."""
    with pytest.raises(ValueError, match="threshold"):
        PerformanceSpec(key="k", prediction="p", label="y", prediction_time="t", label_maturity=timedelta(days=1),
                        threshold=2.0)
    with pytest.raises(ValueError, match="exactly one"):
        Margin(absolute=0.1, relative=0.1)
