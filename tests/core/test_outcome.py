"""CheckOutcome: immutability and a lossless JSON round trip."""

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | names
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-5))])
)
rules = st.builds(
    RuleResult,
    rule_id=names,
    kind=names,
    columns=st.tuples(names) | st.just(()),
    severity=st.sampled_from(Severity),
    status=st.sampled_from(CheckStatus),
    failing_rows=st.integers(0, 10**9),
    observed=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    expected=names,
    message=st.text(max_size=30),
)
outcomes = st.builds(
    CheckOutcome,
    check=names,
    kind=st.sampled_from(CheckKind),
    status=st.sampled_from(CheckStatus),
    severity=st.sampled_from(Severity),
    started_at=times,
    finished_at=times,
    rows=st.none() | st.integers(0, 10**10),
    rules=st.lists(rules, max_size=4).map(tuple),
    sample=st.lists(st.dictionaries(names, scalars, max_size=4), max_size=3).map(tuple),
    metrics=st.dictionaries(names, scalars, max_size=5),
    contract_id=st.none() | names,
    contract_version=st.none() | names,
    as_of=st.none() | times,
    message=st.text(max_size=40),
    error=st.none() | st.text(max_size=40),
)


@given(outcomes)
def test_json_round_trip_is_lossless(outcome: CheckOutcome) -> None:
    """Serializing an outcome to JSON and back yields an equal outcome."""
    assert CheckOutcome.from_json(outcome.to_json()) == outcome


def test_outcome_is_frozen_and_evolve_copies() -> None:
    """Outcomes cannot be mutated; evolve returns a changed copy and leaves the original alone."""
    t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    outcome = CheckOutcome(check="c", kind="contract", status="passed", severity="error", started_at=t, finished_at=t)
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.status = CheckStatus.FAILED  # type: ignore[misc]
    failed = outcome.evolve(status=CheckStatus.FAILED)
    assert outcome.passed and not failed.passed and failed.blocks_publication


def test_warning_failure_does_not_block_but_error_status_does() -> None:
    """A warning-severity failure is recorded without blocking; a check that could not run blocks (fail closed)."""
    t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    warn = CheckOutcome(check="c", kind="contract", status="failed", severity="warning", started_at=t, finished_at=t)
    error = warn.evolve(status=CheckStatus.ERROR, severity=Severity.WARNING, error="OSError: gone")
    assert not warn.blocks_publication
    assert error.blocks_publication
