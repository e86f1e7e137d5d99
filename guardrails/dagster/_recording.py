"""Events recorded outside a step, in a small run of their own.

Dagster 1.13 keeps at most one runless check evaluation per check and partition (a unique index on asset key,
check name, run id and partition, where a runless event has run id ""), so a second release of one partition
could not be recorded with ``report_runless_asset_event``: the batch would be published and the record lost.
A one-op run, executed in process on the instance, gives each recording its own run id, shows in the Runs page
under `job_name` with its tags, and uses only public API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import dagster as dg

Recorder = Callable[[dg.OpExecutionContext], Iterator[dg.AssetMaterialization]]
"""Yields the materializations to record (stored as they are yielded, so the recorder can look them up) and logs
any other event with ``context.log_event`` (check evaluations, observations)."""


_QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
"""A recording run's step events stay in the event log, off the caller's terminal."""


def record_in_run(
    instance: dg.DagsterInstance, job_name: str, recorder: Recorder, *, tags: Mapping[str, str]
) -> str:
    """Run `recorder` as the only op of a run named `job_name` on `instance`; returns the run id.

    Raises:
        dagster.DagsterError: the run could not record (e.g. the instance's database failed), so a caller that
            has already published something can say what is missing.
    """

    @dg.op(name=job_name, out={})
    def record(context):  # type: ignore[no-untyped-def]  # unannotated: Dagster cannot resolve a postponed one
        yield from recorder(context)

    job = dg.GraphDefinition(name=job_name, node_defs=[record]).to_job()
    result = job.execute_in_process(instance=instance, tags=dict(tags), raise_on_error=True, run_config=_QUIET)
    return result.run_id
