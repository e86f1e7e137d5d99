"""Airflow's records of guarded tasks, read through the REST API, as the core's history entries and incident records.

What a guarded task leaves in Airflow (see `guardrails.airflow._publish`):

* a published batch: an asset event on the task's asset whose ``extra`` is the outcome record;
* a quarantined batch: a **failed** task instance whose XCom ``guardrails_outcome`` is the outcome record (no event:
  the target was not written); a failed instance without that XCom never reached a verdict (its callable or the
  quarantine store failed), and is listed as ``PLANNED``, as Dagster lists a check whose run died first;
* a release (`guardrails quarantine release`): an asset event posted through the REST API whose extra is
  ``{"guardrails_release": {...}}`` (`guardrails.airflow._release_event`), listed as the passing re-validation a
  Dagster release records (`released_to` set);
* the quarantine manifest in the store the record names, which keeps the whole outcome (every rule's message, the
  sample of failing rows, timings): when it holds the same run's batch, the entry carries that outcome, else one
  rebuilt from the record (per-rule status, severity, counts and observed values).

Everything is read from ``/api/v2`` with `guardrails.airflow._rest.AirflowApi` (httpx only: the CLI reads Airflow from
a machine where Airflow is not installed): ``/assets`` (the asset and the tasks that produce it), ``/assets/events``,
``/dags/{dag}/dagRuns/~/taskInstances`` (failed ones), their XCom entry, and ``/dags/{dag}/dagRuns/{run}``.

In Airflow the check is the guarded task, so an entry's `check_name` is the producing task's id, and `asset_key` is
the asset's name (for the default asset of a Parquet target, the target's directory URI). Statuses use the core's
vocabulary (``SUCCEEDED``/``FAILED``/``PLANNED``, severity ``ERROR`` when nothing was published, else ``WARN``);
`run_status` is the DAG run's state (``success``, ``failed``).

Example (against a running api-server)::

    api = AirflowApi.from_env()
    for entry in read_check_history(api, "s3://lake/transactions", limit=5):
        print(entry.timestamp, entry.partition, entry.status, entry.batch_id)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from guardrails._text import MESSAGE_CHARS, cap_text
from guardrails.airflow._release_event import RELEASE_EXTRA_KEY
from guardrails.airflow._rest import OUTCOME_XCOM_KEY, AirflowApi, AirflowApiError, _seg
from guardrails.airflow._scope import instant_partition, interval_partition
from guardrails.history import FAILED, PLANNED, SUCCEEDED, CheckHistoryEntry, merge_newest_first
from guardrails.incidents import IncidentRecords, IncidentStateStore, RunSummary, assemble_incident_records
from guardrails.outcome import UNRUN_POLICY_KEY, CheckKind, CheckOutcome, CheckStatus, RuleResult, Severity, judge
from guardrails.quarantine import QuarantineError, QuarantineManifest, QuarantineStore

CHECK_KIND_OF_RECORD = CheckKind.CONTRACT
RECORD_KEYS = frozenset({"status", "batch_id", "rules"})
"""An asset event's extra is an outcome record when it has these keys (other events on the asset are not checks)."""


class AssetNotFound(LookupError):
    """No asset of that name or URI in Airflow (or several match a shortened name). `candidates` are near misses."""

    def __init__(self, asset: str, candidates: Sequence[str] = ()) -> None:
        shown = ", ".join(cap_text(c, 200) for c in candidates[:5]) + (" ..." if len(candidates) > 5 else "")
        what = f"several assets match {asset!r}: {shown}" if candidates else f"Airflow has no asset named {asset!r}"
        super().__init__(what + ("" if candidates else "; give the asset's name or URI (guardrails history --help)"))
        self.asset = asset
        self.candidates = tuple(candidates)


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardedAsset:
    """An Airflow asset and the tasks that produce it (``(dag_id, task_id)``): where its checks are recorded."""

    id: int
    name: str
    uri: str
    producers: tuple[tuple[str, str], ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GuardedAsset:
        tasks = data.get("producing_tasks") or ()
        producers = tuple(dict.fromkeys((str(t["dag_id"]), str(t["task_id"])) for t in tasks))
        return cls(id=int(data["id"]), name=str(data["name"]), uri=str(data["uri"]), producers=producers)


def find_asset(api: AirflowApi, asset: str) -> GuardedAsset:
    """The asset named (or with URI) `asset` (a local path is also read as its ``file://`` URI, as Airflow names it);
    else the one asset whose name or URI ends with ``/<asset>``.

    Raises:
        AssetNotFound: none matches, or a shortened name matches several (they are listed).
    """
    seen: dict[int, Mapping[str, Any]] = {}
    for pattern in ("name_pattern", "uri_pattern"):
        for found in api.paginate("/assets", "assets", **{pattern: asset}):
            seen.setdefault(int(found["id"]), found)
    wanted = {asset, f"file://{asset}"} if asset.startswith("/") else {asset}  # Airflow names local paths file://
    exact = [a for a in seen.values() if a.get("name") in wanted or a.get("uri") in wanted]
    if exact:
        return GuardedAsset.from_json(exact[0])
    tail = "/" + asset.strip("/")
    near = [a for a in seen.values() if str(a.get("name")).endswith(tail) or str(a.get("uri")).endswith(tail)]
    if len(near) == 1:
        return GuardedAsset.from_json(near[0])
    raise AssetNotFound(asset, sorted(str(a["name"]) for a in near))


def guarded_assets(api: AirflowApi) -> list[GuardedAsset]:
    """Every active asset some task produces (the candidates for guarded assets), by name."""
    assets = [GuardedAsset.from_json(a) for a in api.paginate("/assets", "assets")]
    return sorted((a for a in assets if a.producers), key=lambda a: a.name)


class AirflowRecords:
    """One reading session of an api-server: caches the DAG runs and quarantine stores it has looked at.

    Args:
        api: the REST client.
        store: the quarantine store to read manifests from; None reads the store each outcome record names.
    """

    def __init__(self, api: AirflowApi, *, store: QuarantineStore | None = None) -> None:
        self.api = api
        self.store = store
        self._runs: dict[tuple[str, str], Mapping[str, Any] | None] = {}
        self._stores: dict[str, QuarantineStore] = {}

    # -- history ---------------------------------------------------------------------------------------------------

    def history(self, asset: GuardedAsset, *, check: str | None = None, limit: int = 20,
                partition: str | None = None) -> list[CheckHistoryEntry]:
        """The latest `limit` check executions on `asset` (of the guarded task `check` only, when given), newest
        first, of one `partition` when given: published and quarantined batches merged, read page by page."""
        producers = [p for p in asset.producers if check is None or p[1] == check]
        streams: list[Iterable[CheckHistoryEntry]] = [
            self._failed(asset, dag_id, task_id) for dag_id, task_id in producers]
        if producers:
            streams.append(self._published(asset, {task for _, task in producers}))
        return merge_newest_first(streams, limit=limit, partition=partition)

    def _published(self, asset: GuardedAsset, tasks: set[str]) -> Iterator[CheckHistoryEntry]:
        for event in self.api.paginate("/assets/events", "asset_events", asset_id=asset.id, order_by="-timestamp"):
            extra = event.get("extra") or {}
            release = extra.get(RELEASE_EXTRA_KEY)
            if isinstance(release, Mapping):
                by = release.get("quarantined_by") if isinstance(release.get("quarantined_by"), Mapping) else {}
                if by.get("task_id") in tasks or by.get("task_id") is None:
                    yield self._release_entry(asset, event, release, by)
                continue
            if not RECORD_KEYS <= set(extra) or event.get("source_task_id") not in tasks:
                continue  # not a guarded task's outcome (a manual event, another producer's)
            yield self._entry(asset, dag_id=str(event.get("source_dag_id") or ""),
                              task_id=str(event.get("source_task_id")), run_id=str(event.get("source_run_id") or ""),
                              record=extra, when=_time(event["timestamp"]), started=None, event=event)

    def _failed(self, asset: GuardedAsset, dag_id: str, task_id: str) -> Iterator[CheckHistoryEntry]:
        path = f"/dags/{_seg(dag_id)}/dagRuns/~/taskInstances"
        for ti in self.api.paginate(path, "task_instances", task_id=task_id, state="failed", order_by="-end_date"):
            run_id = str(ti["dag_run_id"])
            record = self._xcom(dag_id, run_id, task_id, int(ti.get("map_index", -1)))
            when = _time(ti.get("end_date") or ti.get("start_date") or ti.get("run_after"))
            yield self._entry(asset, dag_id=dag_id, task_id=task_id, run_id=run_id, record=record, when=when,
                              started=_time(ti.get("start_date")) if ti.get("start_date") else None, event=None)

    def _entry(self, asset: GuardedAsset, *, dag_id: str, task_id: str, run_id: str, record: Mapping[str, Any] | None,
               when: datetime, started: datetime | None, event: Mapping[str, Any] | None) -> CheckHistoryEntry:
        run = self.dag_run(dag_id, run_id) if dag_id and run_id else None
        facts = {"airflow/dag_id": dag_id, "airflow/task_id": task_id}
        if record is None:  # a failed task that recorded no verdict
            return CheckHistoryEntry(
                asset_key=asset.name, check_name=task_id, run_id=run_id, status=PLANNED,
                run_status=run.get("state") if run else None, timestamp=when,
                partition=partition_of_run(run) if run else None, metadata=facts)
        batch_id = _str(record.get("batch_id"))
        store = _str(record.get("quarantine_store"))
        outcome = self._manifest_outcome(store, batch_id, run_id) or outcome_from_record(
            record, started_at=started or when, finished_at=when)
        published = event is not None
        return CheckHistoryEntry(
            asset_key=asset.name,
            check_name=task_id,
            run_id=run_id,
            status=SUCCEEDED if outcome.passed else FAILED,
            run_status=run.get("state") if run else None,
            timestamp=when,
            partition=_str(record.get("partition")) or (_str(event.get("partition_key")) if event else None),
            passed=outcome.passed,
            severity="WARN" if published else "ERROR",
            description=describe(record, outcome, published=published),
            batch_id=batch_id,
            target_materialization_run_id=run_id if published else None,
            outcome=outcome,
            quarantine_store=store,
            execution_id=int(event["id"]) if event is not None and event.get("id") is not None else None,
            metadata={**record, **facts},
        )

    def _release_entry(self, asset: GuardedAsset, event: Mapping[str, Any], release: Mapping[str, Any],
                       by: Mapping[str, Any]) -> CheckHistoryEntry:
        """A release recorded by `guardrails quarantine release` (an event posted through the REST API): the batch
        passed its re-validation and was published to `released_to`, as a Dagster release evaluation says."""
        status = str(release.get("status") or "")
        released = status in ("passed", "warning")  # a release publishes only a batch that re-validated
        batch = _str(release.get("batch_id"))
        manifest = next((m for m in (self.manifest(uri, batch) for uri in self._store_uris()) if m is not None), None)
        outcome = manifest.release_outcome if manifest is not None else None
        return CheckHistoryEntry(
            asset_key=asset.name, check_name=str(by.get("task_id") or "release"), run_id="",
            status=SUCCEEDED if released else FAILED, run_status=None,
            timestamp=_time(event["timestamp"]), partition=_str(release.get("partition")),
            passed=released, severity="WARN",
            description=cap_text(f"released batch {batch} to {release.get('released_to')} (re-validation {status})"
                                 + (f": {release['reason']}" if release.get("reason") else ""), MESSAGE_CHARS),
            batch_id=batch, outcome=outcome, released_to=_str(release.get("released_to")),
            execution_id=int(event["id"]) if event.get("id") is not None else None,
            metadata={**release, "airflow/dag_id": by.get("dag_id"), "airflow/task_id": by.get("task_id")},
        )

    def _store_uris(self) -> list[str | None]:
        return [None] if self.store is not None else list(self._stores)

    # -- reads -----------------------------------------------------------------------------------------------------

    def _xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> Mapping[str, Any] | None:
        path = (f"/dags/{_seg(dag_id)}/dagRuns/{_seg(run_id)}/taskInstances/{_seg(task_id)}"
                f"/xcomEntries/{OUTCOME_XCOM_KEY}")
        try:
            body = self.api.get(path, map_index=map_index, deserialize=True)
        except AirflowApiError as exc:
            if exc.status == 404:
                return None  # the task failed before it reached a verdict
            raise
        value = body.get("value") if isinstance(body, Mapping) else None
        return value if isinstance(value, Mapping) and RECORD_KEYS <= set(value) else None

    def dag_run(self, dag_id: str, run_id: str) -> Mapping[str, Any] | None:
        """The DAG run (cached), None when Airflow no longer has it."""
        key = (dag_id, run_id)
        if key not in self._runs:
            try:
                self._runs[key] = self.api.get(f"/dags/{_seg(dag_id)}/dagRuns/{_seg(run_id)}")
            except AirflowApiError as exc:
                if exc.status != 404:
                    raise
                self._runs[key] = None
        return self._runs[key]

    def _manifest_outcome(self, store_uri: str | None, batch_id: str | None, run_id: str) -> CheckOutcome | None:
        """The whole outcome from the batch's manifest, when the store holds this run's quarantine of the batch."""
        manifest = self.manifest(store_uri, batch_id)
        return manifest.outcome if manifest is not None and manifest.run_id == run_id else None

    def manifest(self, store_uri: str | None, batch_id: str | None) -> QuarantineManifest | None:
        if batch_id is None:
            return None
        try:
            store = self.store or self._open(store_uri)
            return store.show(batch_id) if store is not None else None
        except (QuarantineError, OSError, ValueError, ImportError):
            # Not quarantined (a clean batch), purged, or a store this machine cannot read (unknown protocol, gone):
            # the entry keeps the outcome its record describes; `gather_incident_records` notes an unreadable store.
            return None

    def _open(self, uri: str | None) -> QuarantineStore | None:
        if uri is None:
            return None
        if uri not in self._stores:
            self._stores[uri] = QuarantineStore(uri)
        return self._stores[uri]

    # -- incidents -------------------------------------------------------------------------------------------------

    def run_summary(self, dag_id: str, run_id: str) -> RunSummary | None:
        """What the DAG run set out to produce (the assets its tasks produce), what it produced (asset events of the
        run) and when each asset's producing task started."""
        run = self.dag_run(dag_id, run_id)
        if run is None:
            return None
        tis = list(self.api.paginate(f"/dags/{_seg(dag_id)}/dagRuns/{_seg(run_id)}/taskInstances", "task_instances"))
        started_of = {ti["task_id"]: _time(ti["start_date"]) for ti in tis if ti.get("start_date")}
        tasks = {ti["task_id"] for ti in tis}
        planned: dict[str, str] = {}
        for asset in self.api.paginate("/assets", "assets", dag_ids=dag_id):
            for producer in asset.get("producing_tasks") or ():
                if producer.get("dag_id") == dag_id and producer.get("task_id") in tasks:
                    planned.setdefault(str(asset["name"]), str(producer["task_id"]))
        done = {str(e.get("name") or e.get("uri")) for e in self.api.paginate(
            "/assets/events", "asset_events", source_dag_id=dag_id, source_run_id=run_id)}
        return RunSummary(
            run_id=run_id,
            status=str(run.get("state")),
            started_at=_time(run["start_date"]) if run.get("start_date") else None,
            ended_at=_time(run["end_date"]) if run.get("end_date") else None,
            planned_assets=tuple(planned),
            materialized_assets=tuple(a for a in planned if a in done),
            step_started_at={a: started_of[t] for a, t in planned.items() if t in started_of},
        )


def read_check_history(
    api: AirflowApi, asset: str | GuardedAsset, check: str | None = None, *, limit: int = 20,
    partition: str | None = None, store: QuarantineStore | None = None,
) -> list[CheckHistoryEntry]:
    """The latest `limit` check executions of `asset` recorded in Airflow, newest first (see the module docstring).

    Args:
        api: the REST client (`AirflowApi.from_env()` reads ``$GUARDRAILS_AIRFLOW_URL`` and its credentials).
        asset: the asset's name or URI (or a unique ``/``-suffix of it), or a `GuardedAsset`.
        check: only the guarded task of this id.
        limit: at most this many entries.
        partition: only executions of this partition.
        store: read manifests from this store instead of the one each record names.

    Raises:
        AssetNotFound: Airflow has no such asset.
        AirflowApiError: the api-server failed or refused (`AirflowUnreachable`: it did not answer).
    """
    found = asset if isinstance(asset, GuardedAsset) else find_asset(api, asset)
    return AirflowRecords(api, store=store).history(found, check=check, limit=limit, partition=partition)


def gather_incident_records(
    api: AirflowApi,
    assets: Iterable[str] | None = None,
    *,
    stores: Sequence[QuarantineStore] = (),
    state: IncidentStateStore | None = None,
    model_guard: Any | None = None,
    contracts_dir: str | os.PathLike[str] | None = None,
    limit: int = 200,
) -> IncidentRecords:
    """Everything an incident report needs, read from Airflow and the quarantine stores.

    Args:
        api: the REST client.
        assets: asset names or URIs (default: every asset a task produces).
        stores: the quarantine stores whose manifests belong in the report; none given: the stores the outcome
            records name (every store a guarded task wrote to).
        state, model_guard, contracts_dir: as for `guardrails.incidents.assemble_incident_records`.
        limit: latest executions read per asset.
    """
    found = [find_asset(api, a) for a in assets] if assets is not None else guarded_assets(api)
    reader = AirflowRecords(api, store=stores[0] if len(stores) == 1 else None)
    entries = [entry for asset in found for entry in reader.history(asset, limit=limit)]
    notes: list[str] = []
    if stores:
        manifests = [m for store in stores for m in store.list()]  # given: a store that cannot be read is an error
    else:
        manifests, stores = [], []
        for uri in dict.fromkeys(e.quarantine_store for e in entries if e.quarantine_store):
            try:
                store = QuarantineStore(uri)
                manifests.extend(store.list())
                stores.append(store)
            except (OSError, ValueError, ImportError, QuarantineError) as exc:  # as Dagster's recorded stores: a note
                notes.append(f"the quarantine store {uri} named by Airflow's outcome records cannot be read "
                             f"({type(exc).__name__}: {cap_text(str(exc), MESSAGE_CHARS)}); pass --store")
    where = {e.run_id: (e.asset_key, e.partition, e.metadata.get("airflow/dag_id")) for e in entries
             if e.status != SUCCEEDED and e.run_id}

    def asset_of(manifest: QuarantineManifest) -> tuple[str, str | None] | None:
        named = where.get(manifest.run_id or "")
        return (named[0], named[1]) if named is not None else None

    dag_of = {e.run_id: str(e.metadata.get("airflow/dag_id") or "") for e in entries}
    records = assemble_incident_records(
        entries, manifests, asset_of_manifest=asset_of,
        run_summary=lambda run_id: reader.run_summary(dag_of[run_id], run_id) if dag_of.get(run_id) else None,
        assets=[a.name for a in found] if assets is not None else None,
        store=stores[0] if stores else None, state=state, model_guard=model_guard, contracts_dir=contracts_dir,
    )
    return replace(records, notes=records.notes + tuple(notes)) if notes else records


def outcome_from_record(record: Mapping[str, Any], *, started_at: datetime, finished_at: datetime) -> CheckOutcome:
    """The `CheckOutcome` an outcome record describes (rule messages, columns and the sample are not in a record).

    Example:
        >>> t = datetime(2026, 11, 4, tzinfo=UTC)
        >>> record = {"status": "failed", "batch_id": "tx.2026-11-03", "rows_in": 10, "contract_id": "urn:tx",
        ...           "rules": {"amount.range": {"status": "failed", "severity": "error", "failing_rows": 3}}}
        >>> outcome = outcome_from_record(record, started_at=t, finished_at=t)
        >>> outcome.status.value, outcome.severity.value, [(r.rule_id, r.failing_rows) for r in outcome.failed_rules]
        ('failed', 'error', [('amount.range', 3)])
    """
    rules = tuple(
        RuleResult(rule_id=str(rule_id), kind=str(rule.get("kind") or "rule"), columns=(),
                   severity=Severity(rule.get("severity") or "error"), status=CheckStatus(rule.get("status")),
                   failing_rows=int(rule.get("failing_rows") or 0), observed=_float(rule.get("observed")),
                   ran=bool(rule.get("ran", True)))
        for rule_id, rule in (record.get("rules") or {}).items() if isinstance(rule, Mapping)
    )
    status = CheckStatus(record.get("status"))
    _, severity = judge(rules, could_run=status is not CheckStatus.ERROR)
    metrics = {UNRUN_POLICY_KEY: record[UNRUN_POLICY_KEY]} if record.get(UNRUN_POLICY_KEY) else {}
    return CheckOutcome(
        check="contract", kind=CHECK_KIND_OF_RECORD, status=status,
        severity=severity if status is not CheckStatus.PASSED else Severity.ERROR,
        started_at=started_at, finished_at=finished_at, rows=_int(record.get("rows_in")), rules=rules,
        metrics=metrics, contract_id=_str(record.get("contract_id")),
        contract_version=_str(record.get("contract_version")),
        as_of=_time(record["as_of"]) if record.get("as_of") else None,
        message=cap_text(str(record.get("reason") or ""), MESSAGE_CHARS), error=_str(record.get("error")),
    )


def describe(record: Mapping[str, Any], outcome: CheckOutcome, *, published: bool) -> str:
    """One line for the entry's description, as the Dagster adapter writes on its evaluations (capped at 4 KiB)."""
    batch = record.get("batch_id")
    if outcome.status is CheckStatus.ERROR:
        text = f"check could not run ({outcome.error or outcome.message}); batch {batch} quarantined"
    elif not outcome.failed_rules:
        text = f"all {len(outcome.rules)} rules passed"
    else:
        failed = outcome.failed_rules
        names = ", ".join(f"{r.rule_id} ({r.failing_rows} rows)" for r in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        held = record.get("rows_quarantined") or 0
        kept = f"; {held} rows quarantined as {batch}" if held or not published else ""
        text = f"{len(failed)} rule(s) failed: {names}{more}{kept}"
    return cap_text(text, MESSAGE_CHARS)


def partition_of_run(run: Mapping[str, Any]) -> str:
    """The partition a DAG run's guarded tasks judged (`guardrails.airflow._scope.TaskScope`'s rule, from the run's
    JSON): its partition key, else its data interval, else its logical date, else its run id."""
    if run.get("partition_key"):
        return str(run["partition_key"])
    start, end = run.get("data_interval_start"), run.get("data_interval_end")
    if run.get("logical_date") and start and end and _time(end) > _time(start):
        return interval_partition(_time(start), _time(end))
    if run.get("logical_date"):
        return instant_partition(_time(run["logical_date"]))
    return str(run.get("dag_run_id") or run.get("run_id") or "")


def _time(value: str) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
