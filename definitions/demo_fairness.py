"""The demo's fourth chapter: a candidate blocked for widening a gap, and the evidence pack for that day.

On `FAIRNESS_DAY` the payments system's labelling job marks online chargebacks of the morning as fraud (a real
upstream mistake: valid values, so no contract catches it). The day's candidate, trained on the morning, learns
that "online" means fraud and flags online transactions far more often than the champion does. The fraud model
runs with its fairness gate (on by default, as on every day of the demo): candidate and champion are scored on
the same evaluation batch (the afternoon, labelled correctly), the candidate widens the champion's selection-rate
and false-positive-rate gaps across channels far beyond the spec's champion tolerance, so it is tagged failed
(`ModelGuard.fail_version`, the reason naming the gap) and ``champion`` does not move. The
chapter then prints the evidence pack of the day (``guardrails evidence --model fraud_detector --since ...``).

Like the other chapters it resumes: a day already scored is not run again.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import polars as pl
from rich.markup import escape

from definitions.data import Defect
from definitions.resources import LandingZone

FAIRNESS_DAY = "2026-11-04"
MORNING_SHARE = 0.75
"""The share of the day the model trains on (`definitions.model.EVALUATION_SHARE` is the rest)."""
MISLABELLED = 0.12
"""Share of the morning's online transactions the labelling job marks as fraud."""


class MorningChargebacks(LandingZone):
    """The upstream producer on `FAIRNESS_DAY`: online transactions of the morning partly labelled fraud."""

    def land_transactions(self, day: date, *, rows: int, accounts: int,
                          defect: Defect | None = None) -> tuple[Any, pl.DataFrame]:
        path, frame = super().land_transactions(day, rows=rows, accounts=accounts, defect=defect)
        cutoff = frame["event_time"].sort()[int(frame.height * MORNING_SHARE)]
        marked = pl.Series(np.random.default_rng(4).random(frame.height) < MISLABELLED)
        skewed = frame.with_columns(
            pl.when((pl.col("channel") == "online") & (pl.col("event_time") < cutoff) & marked)
            .then(True).otherwise(pl.col("is_fraud")).alias("is_fraud")
        )
        skewed.write_parquet(path)
        return path, skewed


def fairness_chapter(demo: Any) -> bool:
    """Run `FAIRNESS_DAY` (the gate is on by default); True when the candidate was blocked and ``champion`` stayed."""
    dg = demo.dg
    demo.console.rule(f"[bold]4. A candidate blocked for widening a gap: {FAIRNESS_DAY}")
    earlier = demo.earlier(FAIRNESS_DAY)
    guard = demo.guard()
    if earlier is not None:
        demo.console.print(f"{FAIRNESS_DAY} was already run on this instance (run {earlier['run']}): "
                           f"{escape(str(earlier.get('model', '?')))}, fairness {escape(str(earlier.get('fairness')))}, "
                           f"{escape(str(earlier.get('promotion', '?')))}. Not run again.")
        return earlier.get("fairness") == "fail"
    before = guard.status().alias_version
    started = datetime.now(UTC)
    defs = demo.defs
    from definitions.ml import fairness_checks

    selection = [demo.assets.raw_transactions, demo.assets.clean_transactions, demo.assets.transaction_features,
                 demo.assets.fraud_model, demo.assets.scored_transactions,
                 *fairness_checks]  # the day's served decisions (champion v3's), judged as on every day
    config = demo_quiet()  # the fairness gate is on by default (`definitions.assets.FraudModelConfig`)
    with demo.log.open("a") as log, contextlib.redirect_stderr(log):
        result = dg.materialize(
            selection, instance=demo.instance, partition_key=FAIRNESS_DAY, run_config=config,
            resources={**defs.resources, "landing": MorningChargebacks(directory=str(demo.settings.landing_dir))},
            raise_on_error=False, tags={"guardrails/demo": "true"},
        )
    demo.print_steps(result)
    model = demo.metadata_of(result, "fraud_model")
    status = guard.status()
    version = str(model.get("model_uri", "")).rsplit("/", 1)[-1]  # models:/fraud_detector/4
    state = status.version(int(version)) if version.isdigit() else None
    blocked = model.get("fairness") == "fail" and state is not None and state.failed
    if not blocked:
        demo.console.print(f"[red]The candidate was not blocked: fairness {escape(str(model.get('fairness')))}, "
                           f"{escape(str(model.get('promotion')))}[/]")
        return False
    demo.console.print(f"{escape(str(model['model']))}: fairness [bold red]fail[/]; tagged failed, not promoted; "
                       f"[bold]@{guard.alias}[/] stays on v{status.alias_version}.")
    demo.console.print(f"  reason: {escape(state.verdict.reason if state.verdict else '')}", soft_wrap=True)
    print_evidence(demo, started)
    return status.alias_version == before


def demo_quiet() -> dict[str, Any]:
    from definitions.demo import QUIET_RUN_CONFIG

    return dict(QUIET_RUN_CONFIG)


def print_evidence(demo: Any, since: datetime) -> None:
    """The evidence pack of the chapter's window, as the CLI builds it; the command prints it in full."""
    from guardrails.dagster.evidence import gather_evidence_records
    from guardrails.evidence import build_evidence_pack

    guard = demo.guard()
    records = gather_evidence_records(demo.instance, model_name=guard.name, model_guard=guard, store=demo.store())
    pack = build_evidence_pack(records, since=since)
    failed = [c for c in pack.checks if not c.evaluation.passed]
    demo.console.print(
        f"Evidence pack for the day: {len(pack.versions)} version(s), {len(pack.checks)} check(s) "
        f"({len(failed)} failed), alias on v{pack.alias_version}. In full: [bold]guardrails evidence --model "
        f"{guard.name} --since {since.isoformat(timespec='seconds')}[/]; the decisions the candidate would have "
        f"changed: [bold]guardrails evidence replay --model {guard.name} --versions {pack.alias_version} "
        f"{max(v.state.version for v in pack.versions) if pack.versions else '?'} "
        f".demo/serving/{FAIRNESS_DAY}.parquet --spec expectations/transactions.fairness.yaml[/]", soft_wrap=True)
