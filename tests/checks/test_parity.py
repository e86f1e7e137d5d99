"""Feature parity: value matches on joined keys, missing keys, mismatch samples, skew, bad input, settings."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrails.checks import Band, ParitySettings, assess_parity, check_parity
from guardrails.contract.model import Contract
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity

KEYS = ParitySettings(keys=("id",))


def features(n: int = 2_000, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({
        "id": np.arange(n),
        "amount": rng.normal(50, 5, n),
        "count": rng.integers(0, 10, n),
        "segment": rng.choice(["a", "b", "c"], n),
    })


def rule(outcome: CheckOutcome, rule_id: str):
    return next(r for r in outcome.rules if r.rule_id == rule_id)


def test_identical_features_pass_with_full_match() -> None:
    """Offline and online rows that agree give match rate 1, no missing keys, and a passing outcome."""
    offline = features()
    outcome = check_parity(offline, offline.sample(fraction=1.0, shuffle=True, seed=3), KEYS)
    assert outcome.status is CheckStatus.PASSED and outcome.kind is CheckKind.PARITY
    assert {outcome.metrics[f"match_rate.{f}"] for f in ("amount", "count", "segment")} == {1.0}
    assert outcome.metrics["missing_online_share"] == outcome.metrics["missing_offline_share"] == 0.0
    assert outcome.metrics["psi.amount"] == 0.0 and outcome.sample == ()
    assert CheckOutcome.from_json(outcome.to_json()) == outcome


def test_numeric_tolerance_and_exact_categorical_match() -> None:
    """Numbers within abs + rel tolerance match, beyond it they do not; categories must be equal."""
    offline = features(1_000)
    online = offline.with_columns(
        (pl.col("amount") + pl.when(pl.col("id") < 10).then(0.5).otherwise(1e-12)).alias("amount"),
        pl.when(pl.col("id") % 100 == 0).then(pl.lit("z")).otherwise(pl.col("segment")).alias("segment"),
    )
    report = assess_parity(offline, online, KEYS)
    by_name = {f.feature: f for f in report.features}
    assert by_name["amount"].mismatches == 10 and by_name["segment"].mismatches == 10
    assert by_name["count"].mismatches == 0
    assert by_name["amount"].status is CheckStatus.FAILED and by_name["amount"].severity is Severity.WARNING
    assert rule(report.outcome, "parity.amount").failing_rows == 10
    loose = ParitySettings(keys=("id",), feature_tolerances={"amount": (1.0, 0.0)})
    assert rule(check_parity(offline, online, loose), "parity.amount").failing_rows == 0


@given(st.lists(st.tuples(st.one_of(st.none(), st.floats(-1e3, 1e3)), st.one_of(st.none(), st.floats(-1e3, 1e3))),
                min_size=1, max_size=60),
       st.floats(0, 1), st.floats(0, 0.1))
def test_mismatch_count_matches_an_independent_computation(pairs, abs_tol, rel_tol) -> None:
    """The number of numeric mismatches equals a plain Python count with the documented tolerance rule."""
    schema = {"id": pl.Int64, "x": pl.Float64}
    offline = pl.DataFrame({"id": range(len(pairs)), "x": [a for a, _ in pairs]}, schema=schema)
    online = pl.DataFrame({"id": range(len(pairs)), "x": [b for _, b in pairs]}, schema=schema)

    def same(a, b) -> bool:
        if a is None or b is None:
            return a is None and b is None
        return abs(a - b) <= abs_tol + rel_tol * abs(a) or a == b

    expected = sum(not same(a, b) for a, b in pairs)
    settings = ParitySettings(keys=("id",), abs_tolerance=abs_tol, rel_tolerance=rel_tol)
    assert assess_parity(offline, online, settings).features[0].mismatches == expected


def test_nulls_and_nans_match_only_their_own_kind() -> None:
    """Null equals null and NaN equals NaN, but a null never equals a value."""
    offline = pl.DataFrame({"id": [1, 2, 3, 4], "x": [None, float("nan"), 1.0, None], "s": ["a", None, None, "b"]})
    online = pl.DataFrame({"id": [1, 2, 3, 4], "x": [None, float("nan"), None, 2.0], "s": ["a", None, "c", "b"]})
    report = assess_parity(offline, online, KEYS)
    assert [(f.feature, f.mismatches) for f in report.features] == [("x", 2), ("s", 1)]


def test_missing_keys_on_either_side_are_shares_of_that_side() -> None:
    """Keys only offline or only online are counted against the side they are missing from."""
    offline = features(1_000)
    online = pl.concat([offline.filter(pl.col("id") >= 100), features(30, seed=1).with_columns(pl.col("id") + 5_000)])
    outcome = check_parity(offline, online, KEYS)
    assert outcome.metrics["missing_online_share"] == pytest.approx(0.1)
    assert outcome.metrics["missing_offline_share"] == pytest.approx(30 / 930)
    assert rule(outcome, "parity.missing_online").severity is Severity.ERROR
    assert rule(outcome, "parity.missing_offline").severity is Severity.WARNING
    assert outcome.metrics["keys_matched"] == 900 and outcome.blocks_publication


def test_timestamp_is_part_of_the_join() -> None:
    """With a timestamp configured, the same key at another time does not match."""
    at = [datetime(2026, 1, 1, h) for h in (1, 2)]
    offline = pl.DataFrame({"id": [1, 1], "ts": at, "x": [1.0, 2.0]})
    online = pl.DataFrame({"id": [1, 1], "ts": [at[0], datetime(2026, 1, 1, 3)], "x": [1.0, 2.0]})
    outcome = check_parity(offline, online, ParitySettings(keys=("id",), timestamp="ts"))
    assert outcome.metrics["keys_matched"] == 1 and outcome.metrics["missing_online_share"] == 0.5


def test_sample_shows_mismatched_pairs_with_keys_and_rules() -> None:
    """The sample holds mismatched rows only, capped, with the key, the broken rules and both values."""
    offline = features(500)
    online = offline.with_columns(pl.when(pl.col("id") < 50).then(pl.col("amount") * 2).otherwise(pl.col("amount")))
    outcome = check_parity(offline, online, ParitySettings(keys=("id",), sample_size=5))
    assert len(outcome.sample) == 5
    for row in outcome.sample:
        assert row["_rules"] == ["parity.amount"] and row["id"] < 50
        assert row["amount.online"] == pytest.approx(2 * row["amount.offline"])


def test_distribution_skew_is_judged_with_drift_thresholds() -> None:
    """A served distribution shifted against the offline one fails on PSI even when the keys differ."""
    offline = features(3_000)
    online = features(3_000, seed=9).with_columns(pl.col("amount") + 10)
    report = assess_parity(offline, online, ParitySettings(keys=("id",), mismatch=Band(None, None)))
    amount = next(f for f in report.features if f.feature == "amount")
    assert amount.statistic == "psi" and amount.observed > 0.2 and amount.severity is Severity.ERROR
    assert report.outcome.metrics["ks.amount"] > 0.5


def test_duplicate_keys_are_reported_and_the_first_row_compared() -> None:
    """Repeated keys give a warning rule with their count; the first occurrence is compared."""
    offline = pl.DataFrame({"id": [1, 1, 2], "x": [1.0, 9.0, 2.0]})
    online = pl.DataFrame({"id": [1, 2], "x": [1.0, 2.0]})
    outcome = check_parity(offline, online, KEYS)
    assert rule(outcome, "parity.duplicate_keys").failing_rows == 1
    assert outcome.metrics["mismatches.x"] == 0 and outcome.severity is Severity.WARNING


# --- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("offline", "online", "reason"), [
    (pl.DataFrame({"id": [1], "x": [1.0]}), pl.DataFrame({"key": [1], "x": [1.0]}),
     "key column 'id' is missing from the online features"),
    (pl.DataFrame({"id": [1], "x": [1.0]}), pl.DataFrame({"id": [], "x": []}, schema={"id": pl.Int64, "x": pl.Float64}),
     "the online features are empty"),
    (pl.DataFrame({"id": [1], "x": [1.0]}), pl.DataFrame({"id": ["1"], "x": [1.0]}),
     "key column 'id' has type Int64 offline but String online"),
])
def test_unjoinable_inputs_are_errors(offline, online, reason) -> None:
    """Missing or mistyped key columns and empty sides make the outcome ERROR with the reason."""
    outcome = check_parity(offline, online, KEYS)
    assert outcome.status is CheckStatus.ERROR and reason in outcome.error


def test_missing_or_retyped_feature_is_an_error_for_that_feature() -> None:
    """A configured feature absent on one side, or of another type there, is an ERROR rule failing the check."""
    offline = pl.DataFrame({"id": [1, 2], "x": [1.0, 2.0], "y": [1, 2]})
    online = pl.DataFrame({"id": [1, 2], "x": ["1", "2"], "z": [1, 2]})
    outcome = check_parity(offline, online, ParitySettings(keys=("id",), features=("x", "y")))
    assert outcome.status is CheckStatus.FAILED and outcome.blocks_publication
    assert {r.rule_id for r in outcome.rules if r.status is CheckStatus.ERROR} == {"parity.x", "parity.y"}
    assert "x: type differs: Float64 offline, String online" in outcome.message
    assert "y: missing from the online features" in outcome.message


def test_no_common_keys_never_passes() -> None:
    """When no key is on both sides, every feature fails rather than passing on zero comparisons."""
    offline = pl.DataFrame({"id": range(200), "x": np.ones(200)})
    online = pl.DataFrame({"id": range(1_000, 1_200), "x": np.ones(200)})
    outcome = check_parity(offline, online, KEYS)
    assert rule(outcome, "parity.x").status is CheckStatus.FAILED
    assert outcome.status is CheckStatus.FAILED and outcome.severity is Severity.ERROR


# --- settings -------------------------------------------------------------------------------------------------


def contract(custom: dict, primary_key=("id",)) -> Contract:
    return Contract(id="features", version="2.1.0", name="features", table="features", rules=(),
                    primary_key=primary_key, custom=custom, source="expectations/features.odcs.yaml")


def test_settings_from_contract() -> None:
    """The `parity` custom property sets keys, timestamp, tolerances, thresholds and skew settings."""
    settings = ParitySettings.from_contract(contract({"parity": {
        "timestamp": "ts",
        "tolerance": {"abs": 0.01},
        "featureTolerances": {"amount": {"rel": 0.05}},
        "thresholds": {"mismatch": {"warn": 0.01, "error": 0.02}},
        "skew": {"thresholds": {"psi": [0.2, 0.3]}},
        "sampleSize": 3,
    }}))
    assert settings.keys == ("id",) and settings.timestamp == "ts" and settings.sample_size == 3
    assert settings.tolerance_for("amount") == (0.01, 0.05) and settings.tolerance_for("other") == (0.01, 1e-6)
    assert settings.mismatch == Band(0.01, 0.02) and settings.skew.thresholds.psi == Band(0.2, 0.3)


@pytest.mark.parametrize(("parity", "field"), [
    ({"tolerance": {"abs": -1}}, "customProperties.parity.tolerance.abs"),
    ({"thresholds": {"mismatch": {"warn": 0.5, "error": 0.1}}}, "customProperties.parity.thresholds.mismatch"),
    ({"keys": "id"}, "customProperties.parity.keys"),
    ({"skew": {"thresholds": {"psi": "high"}}}, "customProperties.parity.skew.thresholds.psi"),
    ({"sampleSize": -1}, "customProperties.parity.sampleSize"),
])
def test_invalid_parity_settings_raise_contract_error(parity, field) -> None:
    """Misconfigured parity settings raise ContractError naming the file and the field."""
    with pytest.raises(ContractError) as error:
        ParitySettings.from_contract(contract({"parity": parity}))
    assert error.value.field == field and error.value.path == "expectations/features.odcs.yaml"


def test_parity_needs_keys() -> None:
    """Without keys in the property or a primary key in the contract, building settings fails clearly."""
    with pytest.raises(ContractError, match="keys"):
        ParitySettings.from_contract(contract({}, primary_key=()))


# --- what the outcome shows is capped ----------------------------------------------------------------------


def test_megabyte_keys_and_values_give_a_small_outcome_that_says_what_was_cut() -> None:
    """Mismatched pairs of 1 MB values under 100 kB keys: each sampled value is cut at 1 KiB, the sample at
    64 KiB (the rows left out counted in ``sample_rows_dropped``), so the outcome's JSON stays under 100 kB."""
    rows, megabyte = 40, "v" * 1_000_000
    keys = [f"{i:03d}" + "k" * 100_000 for i in range(rows)]
    offline = pl.DataFrame({"id": keys, "note": [megabyte] * rows})
    online = pl.DataFrame({"id": keys, "note": ["w" + megabyte] * rows})
    outcome = check_parity(offline, online, ParitySettings(keys=("id",), sample_size=rows))

    assert outcome.status is CheckStatus.FAILED and outcome.metrics["mismatches.note"] == rows
    assert len(outcome.to_json()) < 100_000
    assert 0 < len(outcome.sample) < rows
    assert outcome.metrics["sample_rows_dropped"] == rows - len(outcome.sample)
    first = outcome.sample[0]
    assert first["id"].startswith("000k") and first["id"].endswith("…[cut 98,979 chars]")
    assert first["note.offline"].endswith("…[cut 998,976 chars]")
    assert first["note.online"].endswith("…[cut 998,977 chars]")
    assert first["_rules"] == ["parity.note"]


def test_a_small_sample_is_kept_whole_without_a_dropped_count() -> None:
    """A sample within the caps is carried as built, and no ``sample_rows_dropped`` metric is added."""
    offline = pl.DataFrame({"id": [1, 2], "note": ["a", "b"]})
    outcome = check_parity(offline, offline.with_columns(pl.lit("c").alias("note")), KEYS)
    assert [row["note.online"] for row in outcome.sample] == ["c", "c"]
    assert "sample_rows_dropped" not in outcome.metrics
