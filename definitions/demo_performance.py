"""The demo's fifth chapter: concept drift on 2026-11-05, caught by realized performance a month later.

Fraudsters change tactics on `CONCEPT_CHANGE` (definitions.performance): the inputs look as before, so the day's
contract, drift and parity checks all pass and the serving champion (v3; chapter 4's candidate v4 was blocked)
scores it as usual; the predictions are logged with the version that made them, and the day's performance check
can only **estimate** (labels are not in yet: verdict insufficient, the guard does nothing). The demo then jumps 32 days ahead (`PerformanceData.as_of`):
the chargebacks have matured, realized precision has collapsed while the estimate held, so the check fails with
the diagnosis **concept drift**. The model guard sensor fails the version that served the day (v3) and moves
``champion`` back to the last good version; ``guardrails incident`` names concept drift and its containment.

Like the other chapters it resumes rather than replays: once the drifted day has a judged evaluation, a second run
prints what it found and runs nothing.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from rich.markup import escape
from rich.table import Table

from definitions.performance import (
    CONCEPT_CHANGE,
    PERFORMANCE_CHECK,
    PERFORMANCE_RESOURCE_KEY,
    PerformanceData,
    matured_performance_job,
    performance_job,
)

DRIFT_DAY = CONCEPT_CHANGE.isoformat()
JUMP = timedelta(days=32)
"""How far after the drifted day the demo looks again: past the 30-day label maturity."""
DAY_ASSETS = ("raw_transactions", "clean_transactions", "transaction_features", "scored_transactions")
"""The drifted day runs without retraining (nothing was deployed that day): landing, contract, features, scoring."""
SHOWN = ("precision", "recall", "roc_auc")


def concept_drift(demo: Any) -> bool:
    """Chapter 5 on `demo` (a `definitions.demo.Demo` inside its instance); True when the story held."""
    from definitions.demo import end_of

    console = demo.console
    console.rule(f"[bold]5. Concept drift: {DRIFT_DAY} (fraud changes pattern; nothing was deployed)")
    judged = _judged_evaluation(demo)
    if judged is not None:
        console.print(f"{DRIFT_DAY} was already judged on this instance (run {(judged.run_id or '?')[:8]}): "
                      f"{escape(judged.description or '')}. Not run again.")
        return _print_guard(demo, judged)
    day = demo.execute(DRIFT_DAY, defect=None, assets=[demo.dg.AssetKey(name) for name in DAY_ASSETS])
    demo.print_steps(day)
    demo.print_checks(day)
    evaluations = day.get_asset_check_evaluations()
    if not day.success or not evaluations or not all(e.passed for e in evaluations):
        console.print("[red]The drifted day should pass every data check.[/]")
        return False
    console.print(f"Every data check of {DRIFT_DAY} passed: the inputs look as before. "
                  f"{demo.metadata_of(day, 'scored_transactions').get('model', '?')} scored it.")

    estimate = _run_performance(demo, end_of(DRIFT_DAY), checks_only=False)
    (daily,) = estimate.get_asset_check_evaluations()
    console.print(f"Daily estimate (as of {end_of(DRIFT_DAY):%Y-%m-%d}): {escape(daily.description or '')}")
    console.print(f"  estimated {_values(daily, 'estimated')} ([yellow]no verdict yet[/]: the model guard does "
                  "nothing on insufficient labels)")
    demo.tick(demo.model_guard_sensor())

    later = end_of(DRIFT_DAY) + JUMP
    console.print(f"[bold]{JUMP.days} days later ({later:%Y-%m-%d})[/]: the chargebacks of {DRIFT_DAY} have matured.")
    realized = _run_performance(demo, later, checks_only=True)
    (judged_now,) = realized.get_asset_check_evaluations()
    table = Table("metric", "estimated", "realized", "reference", "bound", title=f"{DRIFT_DAY}: performance")
    metrics = judged_now.metadata.get("guardrails/performance_metrics")
    for record in (metrics.value.records if metrics is not None else []):
        data = record.data
        if data["metric"] in SHOWN:
            table.add_row(data["metric"], _fmt(data["estimated"]), _fmt(data["realized"]), _fmt(data["reference"]),
                          _fmt(data["bound"]))
    console.print(table)
    colour = "red" if not judged_now.passed else "green"
    console.print(f"Check [bold]prediction_log:{PERFORMANCE_CHECK}[/] [{colour}]"
                  f"{'failed' if not judged_now.passed else 'passed'}[/] ({judged_now.severity.value}): "
                  f"{escape(judged_now.description or '')}")
    if judged_now.passed:
        return False
    demo.tick(demo.model_guard_sensor())
    from guardrails.dagster import read_check_history

    entry = next(e for e in read_check_history(demo.instance, "prediction_log", PERFORMANCE_CHECK,
                                               partition=DRIFT_DAY) if e.passed is False)
    return _print_guard(demo, entry)


def _run_performance(demo: Any, as_of: Any, *, checks_only: bool) -> Any:
    """Log the day's predictions and validation set and run the check (or only the check) with labels as of
    `as_of`; the check's result is recorded on the demo's instance."""
    import dagster as dg

    from definitions.demo import QUIET_RUN_CONFIG

    resources = {**demo.defs.resources, PERFORMANCE_RESOURCE_KEY: PerformanceData(
        warehouse_dir=str(demo.settings.warehouse_dir), as_of=as_of.isoformat())}
    job = matured_performance_job if checks_only else performance_job
    defs = dg.Definitions(assets=demo.defs.assets, asset_checks=demo.defs.asset_checks, jobs=[job],
                          resources=resources)
    with demo.log.open("a") as log, contextlib.redirect_stderr(log):
        return defs.resolve_job_def(job.name).execute_in_process(
            instance=demo.instance, partition_key=DRIFT_DAY, run_config=QUIET_RUN_CONFIG, raise_on_error=False,
            tags={"guardrails/demo": "true"})


def _judged_evaluation(demo: Any) -> Any:
    """The drifted day's latest judged (failed at error severity) performance evaluation, if any."""
    from guardrails.dagster import read_check_history

    try:
        entries = read_check_history(demo.instance, "prediction_log", PERFORMANCE_CHECK, partition=DRIFT_DAY)
    except Exception:  # noqa: BLE001 - no such check recorded yet
        return None
    return next((e for e in entries if e.passed is False and e.severity == "ERROR"), None)


def _print_guard(demo: Any, entry: Any) -> bool:
    """What the model guard did about the failure, and what the incident report says; True if it acted."""
    from guardrails.dagster.incidents import gather_incident_records
    from guardrails.incidents import build_incident_report

    version = entry.metadata.get("guardrails/model_version")
    guard = demo.guard()
    status = guard.status()
    failed = status.version(version) if isinstance(version, int) else None
    moved = [m for m in guard.history() if m.action.value == "fail" and m.from_version == version]
    if failed is None or not failed.failed or status.alias_version == version:
        demo.console.print(f"[red]The model guard did not act on v{version}.[/]")
        return False
    demo.console.print(
        f"Model guard sensor [bold]model_guard[/]: v{version} (which scored {DRIFT_DAY}) is [red]failed[/] "
        f"({escape(failed.verdict.reason[:160])}...); @{guard.alias} "
        f"{'moved ' + ('v' + str(moved[-1].from_version)) + ' -> ' if moved else 'is on '}v{status.alias_version}.")
    records = gather_incident_records(demo.instance, ["prediction_log"], model_guard=guard)
    report = build_incident_report(records)
    hypotheses = [h.title for incident in report.open for h in incident.hypotheses]
    said = next((h for h in hypotheses if "Concept drift" in h), None)
    demo.console.print(f"guardrails incident: {escape(said) if said else '[red]no concept-drift hypothesis[/]'}.")
    return said is not None


def _values(evaluation: Any, prefix: str) -> str:
    shown = []
    for metric in SHOWN:
        value = evaluation.metadata.get(f"guardrails/performance/{prefix}.{metric}")
        if value is not None:
            shown.append(f"{metric} {value.value:.3f}")
    return ", ".join(shown) or "nothing"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
