"""Freshness arithmetic: data age, late rows, time since the last passing run, SLA parsing and bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import guardrails.checks
from guardrails.checks import Band, FreshnessSettings, check_freshness
from guardrails.contract import parse_duration
from guardrails.contract.model import Contract
from guardrails.errors import ContractError
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, Severity

AS_OF = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SLA = FreshnessSettings(column="event_time", latency=timedelta(hours=4), frequency=timedelta(days=1))


def rule(outcome: CheckOutcome, name: str):
    return next(r for r in outcome.rules if r.rule_id == f"freshness.{name}")


def events(*hours_ago: float) -> pl.DataFrame:
    return pl.DataFrame({"event_time": [AS_OF - timedelta(hours=h) for h in hours_ago]})


def test_fresh_batch_passes_with_measured_ages() -> None:
    """Recent events and a recent passing run pass; the ages are recorded in seconds."""
    outcome = check_freshness(events(0.5, 1, 3), SLA, as_of=AS_OF, last_passed_at=AS_OF - timedelta(hours=2))
    assert outcome.status is CheckStatus.PASSED and outcome.kind is CheckKind.FRESHNESS
    assert outcome.metrics["data_age_seconds"] == 1_800 and outcome.metrics["max_lag_seconds"] == 3 * 3_600
    assert outcome.metrics["since_last_pass_seconds"] == 7_200 and outcome.as_of == AS_OF
    assert CheckOutcome.from_json(outcome.to_json()) == outcome


def test_stale_newest_row_fails_data_age() -> None:
    """When even the newest event is older than the latency, data_age fails with severity error."""
    outcome = check_freshness(events(5, 6), SLA, as_of=AS_OF, last_passed_at=AS_OF)
    age = rule(outcome, "data_age")
    assert age.status is CheckStatus.FAILED and age.observed == 5 * 3_600
    assert outcome.blocks_publication and "5:00:00 old" in age.message


def test_late_share_is_judged_with_its_band() -> None:
    """The share of rows lagging beyond the latency is a warning above 1 % and an error above 5 %."""
    few_late = events(*([1] * 97 + [5] * 3))
    many_late = events(*([1] * 90 + [5] * 10))
    a = rule(check_freshness(few_late, SLA, as_of=AS_OF, last_passed_at=AS_OF), "late_rows")
    b = rule(check_freshness(many_late, SLA, as_of=AS_OF, last_passed_at=AS_OF), "late_rows")
    assert (a.observed, a.failing_rows, a.severity) == (0.03, 3, Severity.WARNING)
    assert (b.observed, b.failing_rows, b.severity) == (0.10, 10, Severity.ERROR)


@given(st.lists(st.one_of(st.none(), st.integers(-3_600, 30 * 86_400)), min_size=1, max_size=50),
       st.integers(0, 10 * 86_400))
def test_lag_metrics_match_plain_python(seconds_ago, latency_seconds) -> None:
    """Data age, max lag, late count and null count equal a plain Python computation over the rows."""
    frame = pl.DataFrame({"event_time": [None if s is None else AS_OF - timedelta(seconds=s) for s in seconds_ago]},
                         schema={"event_time": pl.Datetime("us", "UTC")})
    settings = FreshnessSettings(column="event_time", latency=timedelta(seconds=latency_seconds),
                                 late_share=Band(None, None))
    outcome = check_freshness(frame, settings, as_of=AS_OF)
    known = [s for s in seconds_ago if s is not None]
    if not known:
        assert outcome.status is CheckStatus.ERROR and "no value" in outcome.error
        return
    assert outcome.metrics["data_age_seconds"] == min(known)
    assert outcome.metrics["max_lag_seconds"] == max(known)
    assert outcome.metrics["late_rows"] == sum(s > latency_seconds for s in known)
    assert outcome.metrics["null_event_times"] == len(seconds_ago) - len(known)


def test_arrival_column_measures_lag_per_row() -> None:
    """With an arrival column, a row's lag is arrival minus event time, not the as-of time."""
    frame = pl.DataFrame({
        "event_time": [AS_OF - timedelta(hours=10), AS_OF - timedelta(hours=1)],
        "ingested_at": [AS_OF - timedelta(hours=9), AS_OF],
    })
    settings = FreshnessSettings(column="event_time", latency=timedelta(hours=2), max_age=timedelta(hours=3),
                                 arrival_column="ingested_at")
    outcome = check_freshness(frame, settings, as_of=AS_OF)
    assert outcome.metrics["late_rows"] == 0 and outcome.metrics["max_lag_seconds"] == 3_600
    assert outcome.status is CheckStatus.PASSED


def test_time_zones_and_dates_are_converted_to_utc() -> None:
    """A zoned column, a naive one (taken as UTC) and a Date column (midnight UTC) give the same age."""
    cet = timezone(timedelta(hours=1))
    zoned = pl.DataFrame({"event_time": [datetime(2026, 3, 10, 13, 0, tzinfo=cet)]})
    naive = pl.DataFrame({"event_time": [datetime(2026, 3, 10, 12, 0)]})
    for frame in (zoned, naive):
        assert check_freshness(frame, SLA, as_of=AS_OF, last_passed_at=AS_OF).metrics["data_age_seconds"] == 0
    day = pl.DataFrame({"event_time": [date(2026, 3, 10)]})
    assert check_freshness(day, SLA, as_of=AS_OF, last_passed_at=AS_OF).metrics["data_age_seconds"] == 12 * 3_600


def test_since_last_pass_uses_frequency_plus_grace_and_fails_when_never_passed() -> None:
    """Time since the last passing run is judged against frequency + grace; no passing run at all fails."""
    settings = FreshnessSettings(frequency=timedelta(days=1), grace=timedelta(hours=1))
    ok = check_freshness(None, settings, as_of=AS_OF, last_passed_at=AS_OF - timedelta(hours=24, minutes=30))
    late = check_freshness(None, settings, as_of=AS_OF, last_passed_at=AS_OF - timedelta(hours=25, minutes=1))
    never = check_freshness(None, settings, as_of=AS_OF, last_passed_at=None)
    assert ok.status is CheckStatus.PASSED and late.status is CheckStatus.FAILED
    assert never.status is CheckStatus.FAILED and "no passing materialization" in never.message


def test_without_batch_only_the_last_pass_is_judged() -> None:
    """A sensor without a batch judges time since the last pass only (the row rules need rows)."""
    outcome = check_freshness(None, SLA, as_of=AS_OF, last_passed_at=AS_OF - timedelta(days=2))
    assert [r.rule_id for r in outcome.rules] == ["freshness.since_last_pass"]
    assert outcome.status is CheckStatus.FAILED


def test_as_of_defaults_to_now_in_utc() -> None:
    """Without an explicit as-of time, now (UTC) is used and recorded."""
    outcome = check_freshness(pl.DataFrame({"event_time": [datetime.now(UTC)]}), SLA,
                              last_passed_at=datetime.now(UTC))
    assert outcome.as_of.tzinfo is not None and outcome.metrics["data_age_seconds"] < 60
    assert outcome.status is CheckStatus.PASSED


# --- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("frame", "reason"), [
    (pl.DataFrame({"event_time": []}, schema={"event_time": pl.Datetime("us")}), "empty batch"),
    (pl.DataFrame({"event_time": [None, None]}, schema={"event_time": pl.Datetime("us")}), "all 2 rows are null"),
])
def test_unmeasurable_batches_are_errors(frame, reason) -> None:
    """An empty or all-null event-time column gives an ERROR outcome (could not run) with the reason."""
    outcome = check_freshness(frame, SLA, as_of=AS_OF, last_passed_at=AS_OF)
    assert outcome.status is CheckStatus.ERROR and reason in outcome.error and outcome.blocks_publication


@pytest.mark.parametrize(("frame", "reason"), [
    (pl.DataFrame({"other": [AS_OF]}), "event-time column 'event_time' is missing"),
    (pl.DataFrame({"event_time": ["2026-03-10"]}), "has type String, expected Datetime or Date"),
])
def test_lost_or_retyped_event_time_column_fails_like_a_schema_change(frame, reason) -> None:
    """A missing or mistyped event-time column makes data_age an ERROR rule and the outcome a blocking failure."""
    outcome = check_freshness(frame, SLA, as_of=AS_OF, last_passed_at=AS_OF)
    data_age = next(r for r in outcome.rules if r.rule_id == "freshness.data_age")
    assert data_age.status is CheckStatus.ERROR and reason in data_age.message and reason in outcome.message
    assert outcome.status is CheckStatus.FAILED and outcome.blocks_publication and outcome.error is None


# --- settings -------------------------------------------------------------------------------------------------


def contract(sla, custom=None) -> Contract:
    return Contract(id="tx", version="1.0.0", name="tx", table="transactions", rules=(), sla=sla,
                    custom=custom or {}, source="expectations/tx.odcs.yaml")


def test_settings_from_odcs_sla_properties() -> None:
    """ODCS latency / frequency with units and a table.column element become a frozen settings object."""
    settings = FreshnessSettings.from_contract(contract(
        {"latency": {"property": "latency", "value": 4, "unit": "h", "element": "transactions.event_time"},
         "frequency": {"property": "frequency", "value": 1, "unit": "d", "element": None},
         "retention": {"property": "retention", "value": 3, "unit": "y", "element": None}},
        {"freshness": {"lateShare": {"warn": 0.0, "error": 0.02}, "grace": {"value": 30, "unit": "m"},
                       "arrivalColumn": "ingested_at"}},
    ))
    assert settings == FreshnessSettings(column="event_time", latency=timedelta(hours=4),
                                         max_age=timedelta(hours=4), frequency=timedelta(days=1),
                                         grace=timedelta(minutes=30), late_share=Band(0.0, 0.02),
                                         arrival_column="ingested_at")


def test_settings_from_a_raw_slaproperties_list_with_freshness() -> None:
    """The raw ODCS list form is accepted, and a `freshness` property sets the data-age limit apart."""
    settings = FreshnessSettings.from_sla([
        {"property": "latency", "value": 2, "unit": "days", "element": "event_time"},
        {"property": "freshness", "value": 90, "unit": "min", "element": "event_time"},
    ])
    assert (settings.column, settings.latency, settings.max_age) == ("event_time", timedelta(days=2),
                                                                     timedelta(minutes=90))


@pytest.mark.parametrize(("sla", "field"), [
    ({"latency": {"property": "latency", "value": 4, "unit": "fortnight", "element": "t.c"}},
     "slaProperties.latency.value/unit"),
    ({"latency": {"property": "latency", "value": "four", "unit": "h", "element": "t.c"}},
     "slaProperties.latency.value/unit"),
    ({"latency": {"property": "latency", "value": 4, "unit": "h", "element": None}}, "slaProperties"),
    ({}, "slaProperties"),
])
def test_invalid_sla_raises_contract_error_naming_the_field(sla, field) -> None:
    """Unknown units, non-numbers, a latency without element, or no SLA at all raise ContractError."""
    with pytest.raises(ContractError) as error:
        FreshnessSettings.from_contract(contract(sla))
    assert error.value.field == field and error.value.path == "expectations/tx.odcs.yaml"


def test_parse_duration_units() -> None:
    """Durations accept s, m (minutes), h, d, w and long forms, and refuse negatives."""
    assert [parse_duration(1, u) for u in ("s", "m", "h", "d", "w")] == [
        timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1), timedelta(weeks=1)]
    assert parse_duration(2, "Hours") == timedelta(hours=2)
    with pytest.raises(ValueError, match=">= 0"):
        parse_duration(-1, "d")


def test_one_parse_duration_reads_sla_numbers_and_contract_text_alike() -> None:
    """The contract's parser is the only one: an SLA's number and unit and a compact text give one duration."""
    assert "parse_duration" not in guardrails.checks.__all__
    assert parse_duration(4, "h") == parse_duration("4h") == parse_duration("PT4H") == timedelta(hours=4)
    with pytest.raises(ValueError, match="unit among"):
        parse_duration(4, "fortnight")


@pytest.mark.parametrize("prop", ["latency", "freshness", "frequency"])
def test_zero_sla_window_is_refused_but_zero_grace_is_allowed(prop: str) -> None:
    """A zero latency, freshness or frequency (every row late, every asset stale) is refused; a zero grace is not."""
    with pytest.raises(ContractError) as error:
        FreshnessSettings.from_sla({prop: {"value": 0, "unit": "h", "element": "t.event_time"}})
    assert error.value.field == f"slaProperties.{prop}.value/unit" and "positive" in str(error.value)
    settings = FreshnessSettings.from_sla({"frequency": {"value": 1, "unit": "d"}},
                                          {"grace": {"value": 0, "unit": "m"}})
    assert settings.grace == timedelta(0)
