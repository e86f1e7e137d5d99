"""Translate a `CheckOutcome` (and a quarantine manifest) into Dagster metadata, and back.

Every key is namespaced under ``guardrails/`` so it never collides with user or ``dagster/`` keys. The full
outcome is stored as JSON under `OUTCOME_KEY`, so `guardrails.dagster.history` rebuilds the exact
`CheckOutcome` from the event log; the other keys are the human view the UI renders:

=================================  =====================================================================
key                                value
=================================  =====================================================================
``guardrails/outcome``             JSON: the whole outcome (lossless; what history reads back)
``guardrails/status``              text: passed / failed / error
``guardrails/rules``               table: one row per rule (id, kind, columns, severity, status, failing rows)
``guardrails/failing_sample``      table: up to N failing rows with their key columns and broken rules
``guardrails/rows``                int: rows audited
``guardrails/rows_failing``        int: rows breaking at least one failed rule (from the outcome metrics)
``guardrails/rows_published``      int: rows handed to the IO manager (guarded assets only)
``guardrails/rows_quarantined``    int: rows kept in quarantine (guarded assets only)
``guardrails/contract_id``         text; ``guardrails/contract_version`` text
``guardrails/batch_id``            text: the quarantine batch id (guarded assets only)
``guardrails/quarantine_location`` path or URL of the quarantined batch (when something was quarantined)
``guardrails/run_id``              text: the run that audited the batch
``guardrails/partition``           text: the partition audited, if any
``guardrails/as_of``               timestamp the batch was judged at (time-window end for partitions)
``guardrails/duration_s``          float: seconds the check took
``guardrails/audit_s``             float: seconds guard_batch took, quarantine writes included (guarded assets)
``guardrails/manifest``            JSON: the quarantine manifest (on the quarantine observation)
``guardrails/contract_path``       text: the contract file, absolute (check spec, every guarded evaluation,
                                   the quarantine observation)
``guardrails/contract_table``      text: the table (ODCS schema object) of that file the check judges (check spec)
``guardrails/quarantine_store``    text: the quarantine store's absolute URI (``file:///...``, ``s3://...``) on
                                   every guarded evaluation and the quarantine observation, so the CLI finds
                                   the store a run used without being told
``guardrails/error``               text: why the check could not run (status error only)
``guardrails/released_to``         text: where a release published the batch (release records only)
=================================  =====================================================================

What an event carries is bounded, whatever the batch holds: the sample at 1 KiB per value and 64 KiB in all
(dropped rows counted in the outcome's ``sample_rows_dropped`` metric), messages at 4 KiB, and the outcome's
metadata at under 1 MiB: past that the largest entries are replaced by a text saying what was cut
(`bounded_metadata`). The quarantine observation and the run's `Failure` go through the same guard, so no
event guardrails writes exceeds 1 MiB. The quarantined data itself, and its manifest in the store, are never cut.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import dagster as dg

from guardrails._text import EVENT_BYTES, MESSAGE_CHARS, SAMPLE_BYTES, VALUE_CHARS, cap_text, fit_with_hash
from guardrails.outcome import CheckOutcome, CheckStatus, Severity, Verdict
from guardrails.validation._sample import SAMPLE_DROPPED_METRIC, capped_sample

OUTCOME_KEY = "guardrails/outcome"
STATUS_KEY = "guardrails/status"
RULES_KEY = "guardrails/rules"
SAMPLE_KEY = "guardrails/failing_sample"
ROWS_KEY = "guardrails/rows"
ROWS_FAILING_KEY = "guardrails/rows_failing"
ROWS_PUBLISHED_KEY = "guardrails/rows_published"
ROWS_QUARANTINED_KEY = "guardrails/rows_quarantined"
CONTRACT_ID_KEY = "guardrails/contract_id"
CONTRACT_VERSION_KEY = "guardrails/contract_version"
BATCH_ID_KEY = "guardrails/batch_id"
QUARANTINE_LOCATION_KEY = "guardrails/quarantine_location"
MANIFEST_KEY = "guardrails/manifest"
RUN_ID_KEY = "guardrails/run_id"
PARTITION_KEY = "guardrails/partition"
AS_OF_KEY = "guardrails/as_of"
DURATION_KEY = "guardrails/duration_s"
AUDIT_DURATION_KEY = "guardrails/audit_s"
CONTRACT_PATH_KEY = "guardrails/contract_path"
CONTRACT_TABLE_KEY = "guardrails/contract_table"
QUARANTINE_STORE_KEY = "guardrails/quarantine_store"
ERROR_KEY = "guardrails/error"
RELEASED_TO_KEY = "guardrails/released_to"
"""Where a release published the batch (the IO manager's ``path`` metadata, or a description); only a release's
materialization and evaluation carry it."""
QUARANTINE_TAG = "guardrails/quarantined"
"""Tag on the observation that records a quarantined batch (value: `tag_value` of the batch id)."""

_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_TAG_CHARS = 63


def tag_value(text: str) -> str:
    """`text` as a Dagster tag value (letters, digits, ``_ . -``, at most 63 characters), unchanged when it is one.

    Batch ids may hold ``~`` (``<id>~2``, the store's second batch under a taken id) and run to 204 characters;
    Dagster refuses such a tag, and the step would fail after the batch was already quarantined. A long value
    keeps a readable prefix and a hash of the whole, so two batches never share a tag.

    Example:
        >>> tag_value("clean_transactions.2026-11-03"), tag_value("clean_transactions.2026-11-03~2")
        ('clean_transactions.2026-11-03', 'clean_transactions.2026-11-03_2')
        >>> len(tag_value("x" * 204))
        63
    """
    return fit_with_hash(_TAG_UNSAFE.sub("_", text), _TAG_CHARS, identity=text)
CUT_MARKER = "cut: "
"""Start of the text that replaces a metadata entry too large for an event."""
EVENT_METADATA_BYTES = EVENT_BYTES - SAMPLE_BYTES
"""Bytes the metadata of one event we write may take (`bounded_metadata`), leaving room for its description
(cut at 4 KiB), its tags, and the few keys adapters add to an outcome's metadata (batch, run, location)."""

RULES_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("rule_id", "string", description="Stable rule id from the contract."),
        dg.TableColumn("kind", "string"),
        dg.TableColumn("columns", "string"),
        dg.TableColumn("severity", "string"),
        dg.TableColumn("status", "string"),
        dg.TableColumn("failing_rows", "int", description="Rows that broke the rule."),
        dg.TableColumn("observed", "float", description="The value the threshold judged."),
        dg.TableColumn("expected", "string", description="The threshold, in words."),
        dg.TableColumn("message", "string"),
    ]
)


def severity_to_dagster(severity: Severity) -> dg.AssetCheckSeverity:
    """`error` -> `AssetCheckSeverity.ERROR` (blocks), `warning` -> `AssetCheckSeverity.WARN` (recorded only)."""
    return dg.AssetCheckSeverity.ERROR if Severity(severity) is Severity.ERROR else dg.AssetCheckSeverity.WARN


def evaluation_severity(outcome: CheckOutcome, forced: Severity | None = None) -> dg.AssetCheckSeverity:
    """The severity of the Dagster evaluation of `outcome` (which is failed unless its verdict is pass).

    No verdict yet (inconclusive, insufficient) is WARN, even under a forced severity: shown as a failed
    warning, never green and never blocking. Otherwise `forced` (a check built with a fixed severity) wins; then
    a check that could not run is ERROR (fail closed); then the outcome's own severity.
    """
    if outcome.verdict in (Verdict.INCONCLUSIVE, Verdict.INSUFFICIENT):
        return dg.AssetCheckSeverity.WARN
    if forced is not None:
        return severity_to_dagster(forced)
    return severity_to_dagster(Severity.ERROR if outcome.verdict is Verdict.ERROR else outcome.severity)


def outcome_metadata(outcome: CheckOutcome) -> dict[str, dg.MetadataValue]:
    """The metadata of one check evaluation: the outcome JSON plus its human-readable view, under 1 MiB.

    The outcome is stored as `recordable_outcome` makes it: lossless for any outcome within the caps (every
    outcome our checks build), its sample and messages cut otherwise.
    """
    outcome = recordable_outcome(outcome)
    metadata: dict[str, dg.MetadataValue] = {
        OUTCOME_KEY: dg.MetadataValue.json(outcome.to_dict()),
        STATUS_KEY: dg.MetadataValue.text(outcome.status.value),
        RULES_KEY: rules_table(outcome),
        DURATION_KEY: dg.MetadataValue.float(round(outcome.duration_seconds, 6)),
    }
    if outcome.sample:
        metadata[SAMPLE_KEY] = sample_table(outcome.sample)
    if outcome.rows is not None:
        metadata[ROWS_KEY] = dg.MetadataValue.int(int(outcome.rows))
    failing = outcome.metrics.get("failing_rows")
    if isinstance(failing, int | float) and not isinstance(failing, bool):
        metadata[ROWS_FAILING_KEY] = dg.MetadataValue.int(int(failing))
    if outcome.contract_id:
        metadata[CONTRACT_ID_KEY] = dg.MetadataValue.text(outcome.contract_id)
    if outcome.contract_version:
        metadata[CONTRACT_VERSION_KEY] = dg.MetadataValue.text(outcome.contract_version)
    if outcome.as_of is not None:
        metadata[AS_OF_KEY] = dg.MetadataValue.timestamp(outcome.as_of)
    if outcome.error:
        metadata[ERROR_KEY] = dg.MetadataValue.text(outcome.error)
    return bounded_metadata(metadata, EVENT_METADATA_BYTES)


def recordable_outcome(outcome: CheckOutcome) -> CheckOutcome:
    """`outcome` as an event may carry it: the sample capped (dropped rows added to ``sample_rows_dropped``),
    the message, the error and each rule's message cut at 4 KiB; unchanged when already within the caps."""
    sample, dropped = capped_sample(outcome.sample)
    metrics = dict(outcome.metrics)
    if dropped:
        metrics[SAMPLE_DROPPED_METRIC] = int(metrics.get(SAMPLE_DROPPED_METRIC) or 0) + dropped[SAMPLE_DROPPED_METRIC]
    rules = tuple(
        dataclasses.replace(r, message=cap_text(r.message, MESSAGE_CHARS), expected=cap_text(r.expected, VALUE_CHARS))
        for r in outcome.rules
    )
    return outcome.evolve(
        sample=sample,
        metrics=metrics,
        rules=rules,
        message=cap_text(outcome.message, MESSAGE_CHARS),
        error=None if outcome.error is None else cap_text(outcome.error, MESSAGE_CHARS),
    )


def bounded_metadata(
    metadata: Mapping[str, Any], limit: int = EVENT_BYTES, *, keep: Iterable[str] = ()
) -> dict[str, Any]:
    """`metadata` within `limit` bytes as Dagster serializes it: the largest entries are cut first, each replaced
    by a text saying how large it was, so the event is still written and says what it lost. Entries in `keep`
    (e.g. the outcome, which history reads back) are cut only when cutting every other entry was not enough.

    Example:
        >>> cut = bounded_metadata({"a": dg.MetadataValue.text("x" * 5000), "b": dg.MetadataValue.int(1)}, 1000)
        >>> cut["a"].value, cut["b"].value
        ('cut: 5,050 bytes, more than one event may carry (1,000 bytes)', 1)
    """
    sizes = {key: len(dg.serialize_value(value)) for key, value in metadata.items()}
    total = sum(sizes.values())
    bounded = dict(metadata)
    kept = set(keep)
    for key in sorted(sizes, key=lambda k: (k in kept, -sizes[k])):
        if total <= limit:
            break
        marker = dg.MetadataValue.text(f"{CUT_MARKER}{sizes[key]:,} bytes, more than one event may carry ({limit:,} bytes)")
        bounded[key] = marker
        total += len(dg.serialize_value(marker)) - sizes[key]
    return bounded


def rules_table(outcome: CheckOutcome) -> dg.TableMetadataValue:
    """One row per rule, failed rules first, so the UI shows what broke at the top (texts, ids and column names
    cut at 1 KiB)."""
    ordered = sorted(outcome.rules, key=lambda r: (r.status is CheckStatus.PASSED, r.rule_id))
    records = [
        dg.TableRecord(
            {
                "rule_id": cap_text(r.rule_id, VALUE_CHARS),
                "kind": r.kind,
                "columns": cap_text(", ".join(r.columns), VALUE_CHARS),
                "severity": r.severity.value,
                "status": r.status.value,
                "failing_rows": int(r.failing_rows),
                "observed": float(r.observed) if r.observed is not None and math.isfinite(r.observed) else None,
                "expected": cap_text(r.expected, VALUE_CHARS),
                "message": cap_text(r.message, VALUE_CHARS),
            }
        )
        for r in ordered
    ]
    return dg.MetadataValue.table(records=records, schema=RULES_SCHEMA)


def sample_table(sample: Iterable[Mapping[str, Any]]) -> dg.TableMetadataValue:
    """The failing-row sample as a table, capped (1 KiB a value, 64 KiB in all); non-scalar cells shown as text."""
    rows, _ = capped_sample(sample)
    names: list[str] = []
    for row in rows:
        names.extend(name for name in row if name not in names)
    kinds = {name: _column_type(row.get(name) for row in rows) for name in names}
    schema = dg.TableSchema(columns=[dg.TableColumn(name, kinds[name]) for name in names])
    records = [dg.TableRecord({name: _cell(row.get(name), kinds[name]) for name in names}) for row in rows]
    return dg.MetadataValue.table(records=records, schema=schema)


def _column_type(values: Iterable[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "bool"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "float"
    return "string"


def _cell(value: Any, kind: str) -> str | int | float | bool | None:
    if value is None:
        return None
    if kind == "float":
        return float(value) if math.isfinite(float(value)) else None
    if kind in ("int", "bool"):
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return json.dumps(value, default=str)


def location_metadata(location: str) -> dg.MetadataValue:
    """A URL for ``scheme://`` locations (clickable in the UI), a path otherwise."""
    return dg.MetadataValue.url(location) if "://" in location else dg.MetadataValue.path(location)


def recorded_locations_metadata(store_uri: str, contract_path: str | None) -> dict[str, dg.MetadataValue]:
    """Where the run's quarantine store and contract file are, as absolute text a later process can open.

    A relative path means nothing to a command run from another directory (or machine), so the contract path
    is made absolute against the run's working directory; `store_uri` is `QuarantineStore.uri`, absolute already.
    """
    metadata: dict[str, dg.MetadataValue] = {QUARANTINE_STORE_KEY: dg.MetadataValue.text(store_uri)}
    if contract_path:
        metadata[CONTRACT_PATH_KEY] = dg.MetadataValue.text(os.path.abspath(contract_path))
    return metadata


def outcome_from_metadata(metadata: Mapping[str, Any]) -> CheckOutcome | None:
    """The `CheckOutcome` stored under `OUTCOME_KEY`, or None for evaluations not written by guardrails (or whose
    outcome was too large for its event and was cut)."""
    value = metadata.get(OUTCOME_KEY)
    if value is None:
        return None
    data = value.data if isinstance(value, dg.JsonMetadataValue) else getattr(value, "value", value)
    if isinstance(data, str) and data.startswith(CUT_MARKER):
        return None
    if isinstance(data, str):
        return CheckOutcome.from_json(data)
    return CheckOutcome.from_dict(data)
