"""The drift check: verdicts on effect size, raw scores always recorded, bad input never passes, settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrails.checks import (
    Band,
    DriftSettings,
    DriftThresholds,
    assess_drift,
    check_drift,
    render_drift_markdown,
)
from guardrails.contract.model import Contract
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity
from guardrails.profile import build_profile

RNG = np.random.default_rng(11)


def table(n: int, *, shift: float = 0.0, seed: int = 0, countries=("DE", "FR", "NL"), p=(0.5, 0.3, 0.2)):
    rng = np.random.default_rng(seed)
    return pl.DataFrame({
        "amount": rng.normal(100 + shift, 10, n),
        "age": rng.integers(18, 80, n),
        "country": rng.choice(list(countries), n, p=list(p)),
    })


REFERENCE = build_profile(table(20_000, seed=1))


def rule(outcome: CheckOutcome, column: str):
    return next(r for r in outcome.rules if r.rule_id == f"drift.{column}")


def test_same_distribution_passes_and_records_every_score() -> None:
    """A batch from the reference's distribution passes, and every raw score is still in the metrics."""
    outcome = check_drift(table(10_000, seed=2), REFERENCE)
    assert outcome.status is CheckStatus.PASSED and outcome.kind is CheckKind.DRIFT
    assert [r.rule_id for r in outcome.rules] == ["drift.amount", "drift.age", "drift.country"]
    for key in ("psi.amount", "js.amount", "wasserstein.amount", "ks.amount", "ks_pvalue.amount",
                "null_rate.amount", "psi.country", "linf.country", "chi2.country", "chi2_pvalue.country"):
        assert key in outcome.metrics
    assert rule(outcome, "amount").observed == outcome.metrics["psi.amount"] < 0.1
    assert CheckOutcome.from_json(outcome.to_json()) == outcome


def test_shifted_numeric_column_fails_with_error_severity() -> None:
    """A one-standard-deviation shift gives PSI above 0.2: the column fails with severity error."""
    outcome = check_drift(table(10_000, shift=10, seed=3), REFERENCE)
    amount = rule(outcome, "amount")
    assert outcome.status is CheckStatus.FAILED and outcome.severity is Severity.ERROR
    assert amount.status is CheckStatus.FAILED and amount.severity is Severity.ERROR and amount.observed > 0.2
    assert rule(outcome, "age").status is CheckStatus.PASSED
    assert outcome.metrics["columns_failed"] == 1 and "amount" in outcome.message


def test_moderate_shift_warns_between_the_psi_bands() -> None:
    """A shift with PSI between 0.1 and 0.2 is a warning, not an error, so it does not block publication."""
    outcome = check_drift(table(20_000, shift=3.5, seed=4), REFERENCE)
    amount = rule(outcome, "amount")
    assert 0.1 < amount.observed <= 0.2, amount.observed
    assert amount.severity is Severity.WARNING and outcome.severity is Severity.WARNING
    assert not outcome.blocks_publication


def test_significance_alone_never_alerts_at_large_n() -> None:
    """At large n a tiny shift has a minute KS p-value, but its effect size is small, so the column passes."""
    reference = build_profile(pl.DataFrame({"x": RNG.normal(0, 1, 200_000)}))
    outcome = check_drift(pl.DataFrame({"x": RNG.normal(0.03, 1, 200_000)}), reference)
    assert outcome.metrics["ks_pvalue.x"] < 1e-6
    assert outcome.status is CheckStatus.PASSED


def test_new_category_is_caught_by_categorical_psi() -> None:
    """A category the reference never saw (counted as other) moves PSI and L-infinity and fails the column."""
    outcome = check_drift(table(10_000, seed=5, countries=("DE", "FR", "XX"), p=(0.4, 0.3, 0.3)), REFERENCE)
    country = rule(outcome, "country")
    assert country.status is CheckStatus.FAILED and outcome.metrics["linf.country"] > 0.25


def test_row_order_does_not_change_the_outcome() -> None:
    """Shuffling the batch leaves every metric and verdict unchanged."""
    batch = table(5_000, shift=2, seed=6)
    shuffled = batch.sample(fraction=1.0, shuffle=True, seed=1)
    a, b = check_drift(batch, REFERENCE), check_drift(shuffled, REFERENCE)
    assert a.metrics == b.metrics and a.rules == b.rules


@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=40, max_size=300))
def test_a_batch_against_its_own_profile_passes(values) -> None:
    """Any batch checked against a reference built from itself drifts zero and passes."""
    frame = pl.DataFrame({"x": values})
    outcome = check_drift(frame, build_profile(frame), DriftSettings(min_reference_rows=1, min_current_rows=1))
    assert outcome.status is CheckStatus.PASSED
    assert outcome.metrics["psi.x"] == outcome.metrics["ks.x"] == outcome.metrics["wasserstein.x"] == 0.0


def test_pandas_and_arrow_batches_give_the_same_outcome() -> None:
    """The check accepts pandas and Arrow batches and measures them exactly like polars."""
    batch = table(3_000, shift=1, seed=7)
    expected = check_drift(batch, REFERENCE).metrics
    assert check_drift(batch.to_pandas(), REFERENCE).metrics == expected
    assert check_drift(batch.to_arrow(), REFERENCE).metrics == expected


# --- bad input ------------------------------------------------------------------------------------------------


def test_empty_batch_is_an_error_not_a_pass() -> None:
    """An empty batch cannot be measured: the outcome is ERROR with the reason, and blocks publication."""
    outcome = check_drift(table(0), REFERENCE)
    assert outcome.status is CheckStatus.ERROR and "empty batch" in outcome.error
    assert outcome.blocks_publication


def test_column_missing_from_batch_is_an_error() -> None:
    """A reference column absent from the batch makes its rule ERROR and the outcome a blocking failure, naming it."""
    outcome = check_drift(table(1_000).drop("age"), REFERENCE)
    assert outcome.status is CheckStatus.FAILED and outcome.severity is Severity.ERROR and outcome.blocks_publication
    assert rule(outcome, "age").status is CheckStatus.ERROR and "age: missing from the batch" in outcome.message
    assert rule(outcome, "amount").status is CheckStatus.PASSED  # the other columns are still measured


def test_column_missing_from_reference_is_an_error() -> None:
    """A configured column the reference profile does not have is an ERROR rule telling to rebuild the reference."""
    batch = table(1_000).with_columns(pl.lit(1.0).alias("fee"))
    outcome = check_drift(batch, REFERENCE, DriftSettings(columns=("amount", "fee")))
    assert outcome.status is CheckStatus.FAILED and outcome.blocks_publication
    assert rule(outcome, "fee").status is CheckStatus.ERROR and "fee: not in the reference profile" in outcome.message


def test_type_change_is_an_error() -> None:
    """A numeric column arriving as strings (or the reverse) is reported as a type change, not compared."""
    batch = table(1_000).with_columns(pl.col("amount").cast(pl.String), pl.lit(3).alias("country"))
    outcome = check_drift(batch, REFERENCE)
    assert outcome.status is CheckStatus.FAILED and outcome.blocks_publication
    assert "amount: type changed from Float64 (numeric) to String" in outcome.message
    assert "country: type changed from String" in outcome.message


def test_all_null_column_fails_even_with_null_rate_unjudged() -> None:
    """A column that is entirely null in the batch fails with severity error, whatever the thresholds."""
    batch = table(1_000).with_columns(pl.lit(None, dtype=pl.Float64).alias("amount"))
    settings = DriftSettings(thresholds=DriftThresholds(null_rate=None))
    outcome = check_drift(batch, REFERENCE, settings)
    amount = rule(outcome, "amount")
    assert amount.status is CheckStatus.FAILED and amount.severity is Severity.ERROR
    assert "all values are null" in amount.message
    untyped = table(1_000).with_columns(pl.lit(None).alias("country"))  # dtype Null: no type change
    assert rule(check_drift(untyped, REFERENCE), "country").severity is Severity.ERROR


def test_small_reference_gives_an_insufficient_reference_warning() -> None:
    """A reference with fewer values than min_reference_rows gives a warning rule, never a silent pass."""
    small = build_profile(table(50, seed=8))
    outcome = check_drift(table(1_000, seed=9), small)
    amount = rule(outcome, "amount")
    assert amount.status is CheckStatus.FAILED and amount.severity is Severity.WARNING
    assert "insufficient reference" in amount.message and outcome.status is CheckStatus.FAILED
    assert "psi.amount" in outcome.metrics  # scores are still recorded


def test_tiny_batch_gives_an_insufficient_data_warning() -> None:
    """A batch with fewer values than min_current_rows is a warning rather than a verdict on noise."""
    outcome = check_drift(table(10, seed=10), REFERENCE)
    assert all(r.severity is Severity.WARNING and "insufficient data" in r.message for r in outcome.rules)


def test_null_rate_jump_fails() -> None:
    """A column whose null share grows by more than 10 points fails on null_rate."""
    batch = table(2_000, seed=12).with_columns(
        pl.when(pl.int_range(pl.len()) % 4 == 0).then(None).otherwise(pl.col("amount")).alias("amount"))
    amount = rule(check_drift(batch, REFERENCE), "amount")
    assert amount.status is CheckStatus.FAILED and amount.message.startswith("amount: error on null_rate")
    assert amount.observed == pytest.approx(0.25)


# --- settings -------------------------------------------------------------------------------------------------


def contract(custom: dict) -> Contract:
    return Contract(id="tx", version="1.0.0", name="tx", table="tx", rules=(), custom=custom,
                    source="expectations/tx.odcs.yaml")


def test_settings_from_contract_custom_properties() -> None:
    """The `drift` custom property sets columns, thresholds (global and per column) and sample minimums."""
    settings = DriftSettings.from_contract(contract({"drift": {
        "columns": ["amount"],
        "thresholds": {"psi": {"warn": 0.2, "error": 0.4}, "ks": [0.05, 0.1], "null_rate": None},
        "columnThresholds": {"amount": {"wasserstein": {"error": 0.5}}},
        "minReferenceRows": 500,
    }}))
    assert settings.columns == ("amount",) and settings.min_reference_rows == 500
    assert settings.thresholds.psi == Band(0.2, 0.4) and settings.thresholds.ks == Band(0.05, 0.1)
    assert settings.thresholds.null_rate is None
    per_column = settings.thresholds_for("amount")
    assert per_column.wasserstein == Band(None, 0.5) and per_column.psi == Band(0.2, 0.4)
    outcome = check_drift(table(5_000, shift=3.5, seed=13), REFERENCE, settings, contract=contract({}))
    assert [r.rule_id for r in outcome.rules] == ["drift.amount"]
    assert outcome.rules[0].message.startswith("amount: error on ks")
    assert (outcome.contract_id, outcome.contract_version) == ("tx", "1.0.0")
    assert DriftSettings.from_contract(contract({})) == DriftSettings()


@pytest.mark.parametrize(("drift", "field"), [
    ({"thresholds": {"psi": {"warn": 0.3, "error": 0.1}}}, "customProperties.drift.thresholds.psi"),
    ({"thresholds": {"psy": [0.1, 0.2]}}, "customProperties.drift.thresholds.psy"),
    ({"columns": "amount"}, "customProperties.drift.columns"),
    ({"minReferenceRows": 0}, "customProperties.drift.minReferenceRows"),
    ({"bins": 7}, "customProperties.drift"),
    ({"tresholds": {}}, "customProperties.drift.tresholds"),
])
def test_invalid_settings_raise_contract_error_naming_the_field(drift: dict, field: str) -> None:
    """Misconfigured drift settings raise ContractError naming the file and the field at load time."""
    with pytest.raises(ContractError) as error:
        DriftSettings.from_contract(contract({"drift": drift}))
    assert error.value.field == field and error.value.path == "expectations/tx.odcs.yaml"


def test_band_refuses_inverted_or_negative_bounds() -> None:
    """A Band with warn above error or a negative bound is refused when built."""
    with pytest.raises(ValueError, match="above error"):
        Band(0.3, 0.2)
    with pytest.raises(ValueError, match=">= 0"):
        Band(-1, None)


# --- report -----------------------------------------------------------------------------------------------


def test_report_renders_worst_columns_first_with_bars() -> None:
    """The markdown table lists failing columns first, with a bar per score and the verdict."""
    report = assess_drift(table(5_000, shift=10, seed=14), REFERENCE)
    text = render_drift_markdown(report.columns, top=2)
    lines = text.splitlines()
    assert lines[2].startswith("| amount | psi |") and "▸" in lines[2] and "❌ error" in lines[2]
    assert "✅ ok" in lines[3] and lines[-1] == "| … 1 more | | | | |"


def test_report_profile_can_be_merged_into_the_reference() -> None:
    """The batch profile in the report merges into the reference once the batch is accepted."""
    batch = table(2_000, seed=15)
    report = assess_drift(batch, REFERENCE)
    merged = REFERENCE.merge(report.current)
    assert merged.rows == REFERENCE.rows + 2_000
    assert merged.columns["country"].count == REFERENCE.columns["country"].count + 2_000


def test_pandas_batch_with_nan_and_missing_values() -> None:
    """A pandas batch with NaN counts them as nulls and still measures the rest."""
    frame = table(2_000, seed=16).to_pandas()
    frame.loc[:9, "amount"] = np.nan
    outcome = check_drift(pd.DataFrame(frame), REFERENCE)
    assert outcome.metrics["null_rate.amount"] == pytest.approx(10 / 2_000)
    assert outcome.status is CheckStatus.PASSED


def test_report_profile_is_withheld_when_not_every_reference_column_was_compared() -> None:
    """With a column subset or a missing column the batch profile cannot merge, so the report leaves it out."""
    assert assess_drift(table(500), REFERENCE, DriftSettings(columns=("amount",))).current is None
    assert assess_drift(table(500).drop("age"), REFERENCE).current is None


def test_report_shows_column_names_from_data_as_literal_text() -> None:
    """Column names holding HTML, Markdown, table pipes and newlines render as escaped text in one table row."""
    hostile = "<script>alert(1)</script>|x\n# heading"
    names = (hostile, "[bold]*em*_x_", "n" * 5_000)
    rng = np.random.default_rng(3)
    reference = build_profile(pl.DataFrame({n: rng.normal(0, 1, 2_000) for n in names}))
    batch = pl.DataFrame({n: rng.normal(5, 1, 2_000) for n in names})
    text = render_drift_markdown(assess_drift(batch, reference).columns)

    lines = text.splitlines()
    assert len(lines) == 2 + len(names)
    assert "<script>" not in text and "\\<script\\>alert(1)\\</script\\>\\|x # heading" in text
    assert "[bold]\\*em\\*\\_x\\_" in text
    assert all(line.replace("\\|", "").count("|") == 6 for line in lines[2:])
    assert "n" * 1024 + "…[cut 3,976 chars]" in text and "n" * 1025 not in text


def test_messages_name_long_columns_cut() -> None:
    """A 5,000-character column name is cut at 1 KiB in the rule message and the outcome's message."""
    name = "c" * 5_000
    rng = np.random.default_rng(4)
    reference = build_profile(pl.DataFrame({name: rng.normal(0, 1, 2_000)}))
    outcome = check_drift(pl.DataFrame({name: rng.normal(5, 1, 2_000)}), reference)
    assert outcome.status is CheckStatus.FAILED
    assert "c" * 1025 not in outcome.message and "…[cut 3,976 chars]" in outcome.message
    assert "c" * 1025 not in outcome.rules[0].message and "…[cut 3,976 chars]" in outcome.rules[0].message
