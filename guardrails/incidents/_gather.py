"""Gather `IncidentRecords` from check history entries and quarantine manifests, whichever host recorded them.

An adapter reads its host's check history (`guardrails.history.CheckHistoryEntry`) and says three host things: which
asset and partition a manifest's batch belongs to (`AssetOfManifest`), what a run planned and did (`RunSummary`),
and which assets it was asked about. `assemble_incident_records` does the rest the same way for Dagster and Airflow:
evaluations from the entries, a failure read from a held batch's manifest when no recorded failure tells of it (the
host's database failed during the run), the alias history, breaker trips and the contracts directory.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from guardrails.contract import load_contract_file
from guardrails.errors import ContractError
from guardrails.history import CheckHistoryEntry
from guardrails.incidents._records import Evaluation, IncidentRecords, RunSummary
from guardrails.incidents._state import IncidentStateStore
from guardrails.models import AliasMove, RegistryError
from guardrails.quarantine import QuarantineManifest, QuarantineState, QuarantineStore

logger = logging.getLogger("guardrails.incidents")

AssetOfManifest = Callable[[QuarantineManifest], "tuple[str, str | None] | None"]
"""The asset and partition a manifest's batch was quarantined from, or None for a batch no guarded asset of this host
quarantined (the CLI's, another host's)."""


def evaluation_from_history(entry: CheckHistoryEntry, run_started_at: datetime | None = None) -> Evaluation | None:
    """Our record of one check execution; None while it has no verdict yet (planned, or its run died first).

    The time is when our check finished (the outcome's `finished_at`, microsecond precision) when the
    evaluation carries an outcome: the history entry's timestamp is when the host *created* its row (for a Dagster
    check planned by a run, the run's start, kept to the second by SQL storages). The contract file and the
    quarantine store are those the execution recorded.
    """
    if entry.passed is None:
        return None
    return Evaluation(
        asset_key=entry.asset_key,
        check_name=entry.check_name,
        timestamp=entry.outcome.finished_at if entry.outcome is not None else entry.timestamp,
        passed=bool(entry.passed),
        run_id=entry.run_id or "",
        run_status=entry.run_status,
        run_started_at=run_started_at,
        outcome=entry.outcome,
        batch_id=entry.batch_id,
        partition=entry.partition,
        severity=entry.severity,
        description=entry.description,
        contract_path=entry.contract_path,
        quarantine_store=entry.quarantine_store,
        release=entry.released_to is not None,
    )


def manifest_evaluation(
    manifest: QuarantineManifest, asset: str, partition: str | None, check_name: str,
    run_started_at: datetime | None = None,
) -> Evaluation:
    """The failure a held batch's manifest tells of (asset and partition as the host named them), timed by its
    guard-time outcome: for when no failed evaluation was recorded."""
    return Evaluation(
        asset_key=asset,
        check_name=check_name,
        timestamp=manifest.outcome.finished_at,
        passed=False,
        run_id=manifest.run_id or "",
        run_started_at=run_started_at,
        outcome=manifest.outcome,
        batch_id=manifest.batch_id,
        partition=partition,
        severity="ERROR",
        description=manifest.reason,
        from_manifest=True,
    )


def contract_paths(directory: str | os.PathLike[str] | None) -> dict[str, str]:
    """Contract id -> file, for the ``*.odcs.yaml`` files in `directory` (unreadable files are skipped: the
    report then shows a placeholder instead of a path, which is all they are used for)."""
    if directory is None or not Path(directory).is_dir():
        return {}
    found: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.odcs.yaml")):
        try:
            contract_id = load_contract_file(path).id  # bounded reader (a YAML bomb is refused); any number of tables
        except (OSError, ContractError) as exc:
            logger.debug("skipping %s: %s", path, exc)
            continue
        found.setdefault(contract_id, str(path))
    return found


def assemble_incident_records(
    entries: Sequence[CheckHistoryEntry],
    manifests: Sequence[QuarantineManifest],
    *,
    asset_of_manifest: AssetOfManifest,
    run_summary: Callable[[str], RunSummary | None],
    assets: Sequence[str] | None = None,
    store: QuarantineStore | None = None,
    state: IncidentStateStore | None = None,
    model_guard: Any | None = None,
    contracts_dir: str | os.PathLike[str] | None = None,
) -> IncidentRecords:
    """The records of an incident report from a host's history `entries` and the store's `manifests`.

    Args:
        entries: the check executions read from the host (any order).
        manifests: the quarantine store's manifests (every state: released batches belong in the timeline).
        asset_of_manifest: the host's reading of which asset a manifest's batch came from.
        run_summary: the host's summary of a run by id (None when the run is gone); asked only about runs in which a
            check failed.
        assets: the assets asked about (None: every asset); a held batch of another asset is left out.
        store: the store the manifests came from (its location names the store in release commands).
        state: the incident state store (breaker trips).
        model_guard: a `guardrails.models.ModelGuard` whose alias history belongs in the report; when the registry
            cannot be read the records carry a note saying so instead: the report must not wait on MLflow.
        contracts_dir: where contract files live, so release commands can name them.
    """
    unrecorded = _unrecorded_quarantines(manifests, entries, asset_of_manifest, assets)
    runs: dict[str, RunSummary] = {}
    failed_run_ids = [e.run_id for e in entries if e.run_id and e.passed is False]
    for run_id in dict.fromkeys([*failed_run_ids, *(m.run_id for m, _, _ in unrecorded if m.run_id)]):
        summary = run_summary(run_id)
        if summary is not None:
            runs[run_id] = summary
    evaluations = []
    for entry in entries:
        started = runs[entry.run_id].started_at if entry.run_id in runs else None
        evaluation = evaluation_from_history(entry, started)
        if evaluation is not None:
            evaluations.append(evaluation)
    for manifest, asset, partition in unrecorded:
        started = runs[manifest.run_id].started_at if manifest.run_id in runs else None
        check = _contract_check_name(manifest, asset, evaluations)
        evaluations.append(manifest_evaluation(manifest, asset, partition, check, started))
    alias_moves, notes = _alias_history(model_guard)
    return IncidentRecords(
        evaluations=tuple(evaluations),
        manifests=tuple(manifests),
        alias_moves=alias_moves,
        runs=tuple(runs.values()),
        breaker_trips=state.breaker_trips() if state is not None else (),
        model_name=getattr(model_guard, "name", None),
        contract_paths=contract_paths(contracts_dir),
        quarantine_location=store_location(store),
        notes=notes,
    )


def store_location(store: QuarantineStore | None) -> str | None:
    """The store's location as release commands name it (a local path without ``file://``)."""
    if store is None:
        return None
    uri = store.uri
    return uri.removeprefix("file://") if uri.startswith("file://") else uri


def _unrecorded_quarantines(
    manifests: Sequence[QuarantineManifest], entries: Sequence[CheckHistoryEntry], asset_of: AssetOfManifest,
    assets: Sequence[str] | None,
) -> list[tuple[QuarantineManifest, str, str | None]]:
    """Batches still held whose failure no recorded evaluation tells of (none names the batch or its run), each
    with its asset and partition.

    Only batches a guarded asset quarantined (of `assets`, when given) count: `asset_of` must say which.
    """
    failed = [e for e in entries if e.passed is False]
    named = {e.batch_id for e in failed if e.batch_id}
    by_run = {(e.asset_key, e.run_id) for e in failed if e.run_id}
    unrecorded = []
    for manifest in manifests:
        source = asset_of(manifest) if manifest.state is QuarantineState.QUARANTINED else None
        if source is None:
            continue
        asset, partition = source
        if assets is not None and asset not in assets:
            continue
        if manifest.batch_id in named or (asset, manifest.run_id) in by_run:
            continue
        unrecorded.append((manifest, asset, partition))
    return unrecorded


def _contract_check_name(manifest: QuarantineManifest, asset: str, evaluations: Sequence[Evaluation]) -> str:
    """The check that judges the manifest's contract on `asset`: the latest evaluation of that asset whose
    outcome names the same contract says which; without one, the outcome's own check name."""
    for evaluation in sorted(evaluations, key=lambda e: e.timestamp, reverse=True):
        outcome = evaluation.outcome
        if evaluation.asset_key == asset and outcome is not None and outcome.contract_id == manifest.contract_id:
            return evaluation.check_name
    return manifest.outcome.check


def _alias_history(model_guard: Any | None) -> tuple[tuple[AliasMove, ...], tuple[str, ...]]:
    """The guard's alias history, or none and a note naming the cause when the registry cannot be read."""
    if model_guard is None:
        return (), ()
    try:
        return tuple(model_guard.history()), ()
    except RegistryError as exc:
        return (), (f"model alias history unavailable: {exc}",)
