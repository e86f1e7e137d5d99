"""The batch id a guarded step asks for is always one the quarantine store accepts, and distinct per partition."""

from __future__ import annotations

import dagster as dg

from guardrails.dagster._scope import AuditScope
from guardrails.quarantine._store import checked_batch_id


def test_long_partition_keys_keep_distinct_storable_ids():
    """Two 300-character partition keys that differ only at the end get two different ids the store accepts."""
    key = dg.AssetKey(["raw", "transactions"])
    ids = {AuditScope(key, "run", "p" * 299 + last, None).batch_id for last in "ab"}
    assert len(ids) == 2
    for batch_id in ids:
        assert batch_id.startswith("raw.transactions.ppp")
        assert checked_batch_id(batch_id) == batch_id


def test_short_ids_stay_readable():
    """An ordinary asset and partition keep the plain ``<asset path>.<partition>`` id."""
    assert AuditScope(dg.AssetKey(["raw", "tx"]), "run", "2026-11-20", None).batch_id == "raw.tx.2026-11-20"
