"""The manifest: lossless JSON, and refusal of schema versions this code does not know."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrails.contract import QuarantinePolicy
from guardrails.outcome import CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity
from guardrails.quarantine import MANIFEST_SCHEMA_VERSION, DataFormat, QuarantineManifest, QuarantineState, Transition
from guardrails.quarantine._manifest import data_file_name

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
words = st.text(max_size=20)
counts = st.integers(min_value=0, max_value=10**12)
rules = st.builds(
    RuleResult,
    rule_id=words,
    kind=words,
    columns=st.lists(words, max_size=3).map(tuple),
    severity=st.sampled_from(Severity),
    status=st.sampled_from(CheckStatus),
    failing_rows=counts,
    observed=st.none() | st.floats(allow_nan=False, allow_infinity=False),
)
samples = st.lists(
    st.dictionaries(words, st.none() | st.booleans() | st.integers(-(2**53), 2**53) | words, max_size=3), max_size=3
)
outcomes = st.builds(
    CheckOutcome,
    check=words,
    kind=st.sampled_from(CheckKind),
    status=st.sampled_from(CheckStatus),
    severity=st.sampled_from(Severity),
    started_at=moments,
    finished_at=moments,
    rows=st.none() | counts,
    rules=st.lists(rules, max_size=3).map(tuple),
    sample=samples.map(tuple),
    contract_id=st.none() | words,
    error=st.none() | words,
)
manifests = st.builds(
    QuarantineManifest,
    batch_id=st.from_regex(r"[a-z0-9][a-z0-9~-]{0,20}", fullmatch=True),
    state=st.sampled_from(QuarantineState),
    content_hash=st.text("0123456789abcdef", min_size=64, max_size=64),
    content_hash_of=st.sampled_from(["bytes", "arrow_ipc"]),
    data_file=st.just("set below, from data_sha256 and data_format"),
    data_format=st.sampled_from(DataFormat),
    data_sha256=st.text("0123456789abcdef", min_size=64, max_size=64),
    data_bytes=counts,
    source=words,
    policy=st.sampled_from(QuarantinePolicy),
    rows_in=st.none() | counts,
    rows_quarantined=st.none() | counts,
    rows_published=counts,
    reason=words,
    outcome=outcomes,
    contract_id=st.none() | words,
    contract_version=st.none() | words,
    run_id=st.none() | words,
    quarantined_at=moments,
    released_at=st.none() | moments,
    purged_at=st.none() | moments,
    release_outcome=st.none() | outcomes,
    released_to=st.none() | words,
    history=st.lists(
        st.builds(Transition, state=st.sampled_from(QuarantineState), at=moments, reason=words, actor=words), max_size=4
    ).map(tuple),
).map(lambda m: m.evolve(data_file=data_file_name(m.data_sha256, m.data_format)))


@given(manifests)
def test_manifest_survives_a_json_round_trip(manifest: QuarantineManifest) -> None:
    """Any manifest read back from its JSON equals the original, field for field."""
    assert QuarantineManifest.from_json(manifest.to_json()) == manifest


def test_manifest_json_names_its_schema_version() -> None:
    """The JSON carries the schema version, and a manifest from an unknown version is refused with a clear error."""
    t = datetime(2026, 11, 20, tzinfo=UTC)
    outcome = CheckOutcome(
        check="contract",
        kind=CheckKind.CONTRACT,
        status=CheckStatus.ERROR,
        severity=Severity.ERROR,
        started_at=t,
        finished_at=t,
    )
    manifest = QuarantineManifest(
        batch_id="b", state=QuarantineState.QUARANTINED, content_hash="0" * 64, content_hash_of="bytes",
        data_file="data.bin", data_format=DataFormat.RAW, data_sha256="0" * 64, data_bytes=0, source="",
        policy=QuarantinePolicy.BATCH, rows_in=None, rows_quarantined=None, rows_published=0, reason="r",
        outcome=outcome, contract_id=None, contract_version=None, run_id=None, quarantined_at=t,
    )
    data = json.loads(manifest.to_json())
    assert data["schema_version"] == MANIFEST_SCHEMA_VERSION
    data["schema_version"] = MANIFEST_SCHEMA_VERSION + 1
    with pytest.raises(ValueError, match="schema_version"):
        QuarantineManifest.from_dict(data)
