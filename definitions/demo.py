"""`make demo`: the example pipeline end to end, headless, with the guardrails firing and a release.

Runs on the Dagster instance in ``$GUARDRAILS_HOME/dagster_home`` (the one `make ui` opens afterwards) and the
MLflow store of `DemoSettings`, and tells the story in six chapters:

1. A good day (2026-11-02, after 2026-11-01): the batch lands, passes its contract, is published; features are
   built, the fraud model is trained, registered in MLflow with a passed guardrail verdict and promoted to
   ``champion`` through the model guard; the day is scored.
2. A bad day (2026-11-03): the payments system starts sending a merchant category the contract does not know
   (``crypto``). The guard quarantines the batch before anything is stored, the run fails (so alerting would
   fire), and nothing downstream runs on it. The demo prints the failed rules and where the batch is kept. The
   model guard sensor ticks (evaluated here as the daemon would): no model ever saw the quarantined batch, so no
   version is blamed and ``champion`` stays on v2; automatic promotion is **held** until the day passes.
3. The fix: ``crypto`` is a real new category, so the contract learns it (v1.3.0). Releasing the kept batch
   re-validates it against the new contract and publishes it exactly once, through the pipeline's IO manager;
   the sensor ticks again and the hold releases itself (the held day passed), then the rest of the day runs,
   promoting the day's model.
4. A candidate blocked for widening a gap (2026-11-04, `definitions.demo_fairness`): the labelling job marks
   morning online chargebacks as fraud; the day's candidate, gated on fairness against the champion, widens the
   selection-rate gap across channels, is tagged failed and not promoted; the evidence pack of the day follows.
5. Concept drift (2026-11-05, `definitions.demo_performance`): every data check passes, the day's estimate
   holds; 32 days later the matured chargebacks show precision collapsing, the performance check fails with the
   diagnosis concept drift, the model guard fails the version that served the day and moves ``champion`` back,
   and the incident report says "concept drift".
6. A canary (`definitions.demo_canary`): a worse candidate serving under ``challenger`` is stopped at its first
   look, a better one is promoted to ``champion`` once its canary passes.

Running it again on the same home resumes rather than replays: each chapter first reads what the instance, the
quarantine store and MLflow already record for its day and does only what is missing (a day already scored is
not run again; a batch already released is not guarded again; the release is asked again, and completes any
record an interrupted run left missing). So a second run prints what it found, leaves the same state as the
first (no new model version, no alias move, no failed check for a sensor to act on) and still exits 0;
``rm -rf .demo`` starts from scratch.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import warnings
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from definitions import demo_canary, demo_fairness, demo_performance
from definitions.data import Defect
from definitions.settings import DEFECT_ENV, DemoSettings

PREVIOUS_DAY = "2026-11-01"
"""Trained first, so the model has an earlier good version (the guard would fall back to it if v2 failed)."""
GOOD_DAY = "2026-11-02"
BAD_DAY = "2026-11-03"
BAD_DAY_DEFECT = Defect.UNKNOWN_CATEGORIES
NEW_CATEGORY = "crypto"
"""What `BAD_DAY_DEFECT` sends; the fixed contract accepts it."""
DOWNSTREAM = ("transaction_features", "fraud_model", "scored_transactions", "transaction_features__reference_profile")
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
"""The story is printed by the demo; Dagster's own step logs stay in the instance (see them in the UI)."""


def main() -> int:
    """Run the six chapters; 0 when the guardrails behaved as the story says, 1 otherwise."""
    settings = DemoSettings.from_env()
    prepare_home(settings)
    console = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 110)
    console.rule("[bold]pipeline-guardrails demo: a fraud-detection pipeline with a data contract")
    console.print(
        f"home [cyan]{settings.home}[/]   dagster [cyan]{settings.dagster_home}[/]   "
        f"mlflow [cyan]{settings.tracking_uri}[/]"
    )
    console.print("[dim]Loading the code location (dagster, polars, scikit-learn, mlflow)...[/]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # third-party deprecation chatter, not part of the story
        return Demo(settings, console).run()


def prepare_home(settings: DemoSettings) -> None:
    """Create the home and point Dagster at its instance; the demo decides the defects itself."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    os.environ.pop(DEFECT_ENV, None)
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def end_of(day: str) -> datetime:
    """The as-of time of a daily partition: the guard judges a day's batch at the end of that day."""
    return datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(), tzinfo=UTC)


def fixed_contract(original: Path, destination: Path) -> Path:
    """Write the contract with `NEW_CATEGORY` allowed and its minor version bumped (what a reviewed PR would do)."""
    document = yaml.safe_load(original.read_text())
    category = next(
        prop for prop in document["schema"][0]["properties"] if prop["name"] == "merchant_category"
    )
    allowed = category["quality"][0]["arguments"]["validValues"]
    if NEW_CATEGORY not in allowed:
        allowed.append(NEW_CATEGORY)
    major, minor, *_ = str(document["version"]).split(".")
    document["version"] = f"{major}.{int(minor) + 1}.0"
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(yaml.safe_dump(document, sort_keys=False))
    return destination


class Demo:
    """The six chapters, sharing one instance, one code location and one console."""

    def __init__(self, settings: DemoSettings, console: Console) -> None:
        import dagster as dg

        from definitions import assets
        from definitions.definitions import build_definitions

        self.dg = dg
        self.settings = settings
        self.console = console
        self.assets = assets
        self.defs = build_definitions(settings)
        self.job = self.defs.resolve_job_def(assets.daily_pipeline.name)
        self.steps = ["raw_transactions", "clean_transactions", *DOWNSTREAM]
        self.log = settings.home / "demo.log"
        self.cursors: dict[str, str | None] = {}

    def run(self) -> int:
        with self.dg.DagsterInstance.get() as instance:
            self.instance = instance
            good = self.good_day()
            quarantined = self.bad_day()
            held = self.hold_tick(quarantined) if quarantined else False
            released = self.release(quarantined) if quarantined else False
            fair = demo_fairness.fairness_chapter(self) if released else False
            drifted = demo_performance.concept_drift(self) if fair else False
            canary = demo_canary.canary_chapter(self) if drifted else False
            self.summary()
        if good and quarantined and held and released and fair and drifted and canary:
            self.console.print(
                "\n[bold green]The guardrails behaved as expected.[/] "
                "Open the UI on the same instance: [bold]make ui[/] (http://127.0.0.1:3000)."
            )
            return 0
        self.console.print("\n[bold red]The demo did not go as the story says; see above.[/]")
        return 1

    # --- chapters ----------------------------------------------------------------------------------------

    def good_day(self) -> bool:
        self.console.rule(f"[bold]1. A good day: {GOOD_DAY}")
        previous_ok = self.print_earlier(PREVIOUS_DAY) or self.previous_day()
        return (self.print_earlier(GOOD_DAY) or self.run_good_day()) and previous_ok

    def previous_day(self) -> bool:
        previous = self.execute(PREVIOUS_DAY, defect=None)
        model = self.metadata_of(previous, "fraud_model")
        self.console.print(f"{PREVIOUS_DAY}: registered {model.get('model', '?')}, verdict {model.get('verdict', '?')},"
                           f" alias {model.get('promoted_to', '?')}.")
        return previous.success

    def run_good_day(self) -> bool:
        result = self.execute(GOOD_DAY, defect=None)
        self.print_steps(result)
        self.print_checks(result)
        model = self.metadata_of(result, "fraud_model")
        scored = self.metadata_of(result, "scored_transactions")
        if model:
            self.console.print(
                f"MLflow: registered [bold]{model['model']}[/] (ROC AUC {model['roc_auc']:.3f}, verdict "
                f"{model['verdict']}), alias [bold]{model['promoted_to']}[/]; scored {scored.get('rows', 0)} transactions, "
                f"flagged {scored.get('flagged', 0)} for review with {scored.get('model', '?')}."
            )
        return result.success

    def bad_day(self) -> str | None:
        """Returns the quarantined batch id, or None if the batch was (wrongly) not quarantined."""
        self.console.rule(f"[bold]2. A bad day: {BAD_DAY} (upstream sends merchant category '{NEW_CATEGORY}')")
        kept = self.kept_bad_batch()
        if kept is not None:
            self.console.print(
                f"{BAD_DAY} was already guarded on this instance: run {(kept.run_id or '?')[:8]} quarantined batch "
                f"[bold]{kept.batch_id}[/] ({kept.rows_quarantined} rows) at {kept.quarantined_at:%H:%M:%S} UTC "
                f"({escape(kept.reason)}); it is [bold]{kept.state.value}[/] now. Not run again."
            )
            return kept.batch_id
        result = self.execute(BAD_DAY, defect=BAD_DAY_DEFECT)
        self.print_steps(result)
        self.print_checks(result)
        evaluation = next(
            (e for e in result.get_asset_check_evaluations() if e.asset_key.to_user_string() == "clean_transactions"),
            None,
        )
        if result.success or evaluation is None or evaluation.passed:
            self.console.print("[red]The bad batch was not quarantined.[/]")
            return None
        from guardrails.dagster import metadata as md
        from guardrails.dagster import outcome_from_metadata

        outcome = outcome_from_metadata(evaluation.metadata)
        batch_id = evaluation.metadata[md.BATCH_ID_KEY].value
        location = evaluation.metadata.get(md.QUARANTINE_LOCATION_KEY)
        rules = Table("failed rule", "severity", "failing rows", "expected", title="Why the batch was quarantined")
        for rule in outcome.failed_rules if outcome else ():
            rules.add_row(escape(rule.rule_id), rule.severity.value, f"{rule.failing_rows:,}",
                          escape(rule.expected or rule.message))  # contract text, not markup
        self.console.print(rules)
        if outcome and outcome.sample:
            sample = outcome.sample[0]
            self.console.print(f"First failing row: [dim]{escape(repr(dict(sample)))}[/]")  # data, not markup
        state = self.store().show(str(batch_id)).state
        where = "in quarantine" if state.value == "quarantined" else f"already {state.value}"
        self.console.print(
            f"Run [bold red]{result.dagster_run.status.value}[/]: batch [bold]{batch_id}[/] "
            f"({outcome.rows if outcome else '?'} rows) is {where} at "
            f"[cyan]{location.value if location else '?'}[/]; the IO manager never received it and no downstream "
            "step ran."
        )
        return str(batch_id)

    def hold_tick(self, batch_id: str) -> bool:
        """Evaluate the model guard sensor once, as the daemon would; True if promotion is now held, `champion` did
        not move and no version was blamed.

        Not evaluated once the batch is released: its passing evaluation came later, so there is nothing to hold.
        """
        from guardrails.quarantine import QuarantineState

        sensor = self.model_guard_sensor()
        if self.store().show(batch_id).state is QuarantineState.RELEASED:
            self.console.print(f"Model guard sensor {sensor.name} not ticked: {batch_id} is released, so no failing "
                               "batch is left to hold promotion on.")
            return True
        guard = self.guard()
        before = guard.status()
        tick = self.tick(sensor)
        status = guard.status()  # read back from the MLflow store: what the guard really did
        if status.hold is None:
            self.console.print(f"[red]Model guard sensor {sensor.name}: {escape(tick.skip_message or 'no hold')}[/]")
            return False
        was_failed = {v.version for v in before.versions if v.failed}
        blamed = [v.version for v in status.versions if v.failed and v.version not in was_failed]
        self.console.print(
            f"Model guard sensor [bold]{sensor.name}[/] ticked: no model saw the quarantined batch, so no version is "
            f"blamed and [bold]@{guard.alias}[/] of {guard.name} stays on v{status.alias_version}; promotion is "
            f"[bold]held[/]."
        )
        self.console.print(f"  hold reason: {escape(_short_ids(status.hold.reason))}")
        for move in guard.history()[-1:]:
            self.console.print(f"  alias history #{move.seq}: {move.action.value} v{move.from_version} -> "
                               f"v{move.to_version} by {_short_ids(move.by)}")
        return status.alias_version == before.alias_version and not blamed

    def model_guard_sensor(self) -> Any:
        from definitions import ml

        return self.defs.resolve_sensor_def(ml.model_guard_sensor.name)

    def tick(self, sensor: Any) -> Any:
        """One evaluation of `sensor`, its observations recorded as the daemon records them; the cursor is kept
        for the next tick of the same demo (a new process starts from none, and the sensor then replays the
        history to the same state)."""
        context = self.dg.build_sensor_context(
            instance=self.instance, definitions=self.defs, resources=self.defs.resources,
            cursor=self.cursors.get(sensor.name),
        )
        with self.log.open("a") as log, contextlib.redirect_stderr(log):  # the sensor's log lines go to demo.log
            tick = sensor.evaluate_tick(context)
        for event in tick.asset_events:  # the daemon records the sensor's observations (the guard's actions) so
            self.instance.report_runless_asset_event(event)
        self.cursors[sensor.name] = tick.cursor
        return tick

    def guard(self) -> Any:
        return self.defs.resources["model_registry"].get_guard(actor="demo")

    def release(self, batch_id: str) -> bool:
        from definitions.resources import ParquetIOManager
        from guardrails.contract import load_contract
        from guardrails.dagster import release_guarded_batch
        from guardrails.quarantine import ReleaseStatus

        self.console.rule(f"[bold]3. The fix: the contract learns '{NEW_CATEGORY}', the batch is released")
        contract_path = fixed_contract(
            self.assets.TRANSACTIONS_CONTRACT, self.settings.home / "contracts" / self.assets.TRANSACTIONS_CONTRACT.name
        )
        contract = load_contract(contract_path)
        self.console.print(
            f"Contract {contract.id} v{contract.version} written to [cyan]{contract_path}[/] "
            "(in a real project: a reviewed change to expectations/)."
        )
        released = release_guarded_batch(
            self.instance,
            self.defs.resolve_assets_def("clean_transactions"),
            batch_id,
            contract,
            store=self.store(),
            io_manager=ParquetIOManager(base_dir=str(self.settings.warehouse_dir)),
        )
        if released.status is ReleaseStatus.RELEASED:
            self.console.print(
                f"Released [bold]{batch_id}[/]: re-validated against v{contract.version} "
                f"([green]{released.outcome.status.value}[/]), {released.manifest.rows_quarantined:,} rows published "
                f"exactly once to [cyan]{released.released_to}[/]."
            )
        elif released.status is ReleaseStatus.ALREADY_RELEASED:
            self.console.print(f"[bold]{batch_id}[/]: {escape(released.message)}.")
        else:
            self.console.print(f"[red]Release of {batch_id} {released.status.value}: {escape(released.message)}[/]")
            return False
        if self.guard().status().hold is not None:
            sensor = self.model_guard_sensor()
            self.tick(sensor)
            status = self.guard().status()
            if status.hold is not None:
                self.console.print(f"[red]Model guard sensor {sensor.name}: promotion still held "
                                   f"({escape(_short_ids(status.hold.reason))})[/]")
                return False
            [unhold] = [m for m in self.guard().history() if m.action.value == "unhold"][-1:]
            self.console.print(f"Model guard sensor [bold]{sensor.name}[/] ticked: the hold released itself, "
                               f"{escape(unhold.reason)}; @{self.guard().alias} on v{status.alias_version}.")
        if self.print_earlier(BAD_DAY):
            return self.earlier(BAD_DAY).get("promoted_to") == self.guard().alias  # type: ignore[union-attr]
        downstream = [self.dg.AssetKey(name) for name in DOWNSTREAM]
        result = self.execute(BAD_DAY, defect=None, assets=downstream)
        self.print_steps(result)
        model = self.metadata_of(result, "fraud_model")
        scored = self.metadata_of(result, "scored_transactions")
        self.console.print(f"{model.get('model', '?')} verdict {model.get('verdict', '?')}: "
                           f"{model.get('promotion', '?')}.")
        self.console.print(f"{BAD_DAY} scored: {scored.get('rows', 0)} transactions with {scored.get('model', '?')}.")
        self.print_ml_checks(result)
        return result.success and model.get("promoted_to") == self.guard().alias

    def summary(self) -> None:
        from guardrails.dagster import read_check_history

        self.console.rule("[bold]Where things stand")
        kept = Table("batch", "state", "rows", "reason", title="Quarantine (guardrails quarantine list)")
        for manifest in self.store().list():
            kept.add_row(manifest.batch_id, manifest.state.value, str(manifest.rows_quarantined), manifest.reason)
        self.console.print(kept)
        history = Table("when (UTC)", "partition", "check", "passed", "run", title="Contract check history (latest)")
        entries = read_check_history(self.instance, "clean_transactions", limit=12)
        for entry in [e for e in entries if e.passed is not None][:6]:  # evaluations, not planned-only records
            history.add_row(
                entry.timestamp.strftime("%H:%M:%S"),
                entry.partition or "",
                entry.check_name,
                _yes_no(entry.passed),
                f"{entry.run_id[:8]} {entry.run_status or ''}" if entry.run_id
                else "(sensor)" if entry.check_name == "freshness" else "(release)",
            )
        self.console.print(history)
        self.freshness_tick()

    def print_ml_checks(self, result: Any) -> None:
        """One line each for the run's drift and parity checks (the UI shows their tables and charts)."""
        from guardrails.dagster import outcome_from_metadata

        for evaluation in result.get_asset_check_evaluations():
            outcome = outcome_from_metadata(evaluation.metadata)
            verdict = "[green]passed[/]" if evaluation.passed else f"[red]failed[/] ({evaluation.description})"
            if evaluation.check_name == "drift" and outcome is not None:
                batches = evaluation.metadata["guardrails/reference_batches"].value
                psi = f", max PSI {outcome.metrics['max_psi']:.3f}" if "max_psi" in outcome.metrics else ""
                self.console.print(f"Drift of the {BAD_DAY} features against the reference of {batches} accepted "
                                   f"day(s): {verdict}{psi}.")
            elif evaluation.check_name == "feature_parity" and outcome is not None:
                self.console.print(f"Training/serving parity of {outcome.metrics.get('keys_matched', 0)} served rows "
                                   f"with the offline features: {verdict}.")

    def freshness_tick(self) -> None:
        """Evaluate the freshness sensor once, now, without a run: it records the check evaluation itself."""
        from definitions import ml
        from guardrails.dagster import read_check_history

        sensor = self.defs.resolve_sensor_def(ml.freshness_sensor.name)
        sensor.evaluate_tick(self.dg.build_sensor_context(instance=self.instance, definitions=self.defs))
        [entry] = read_check_history(self.instance, "clean_transactions", ml.FRESHNESS_CHECK, limit=1)
        since = entry.outcome.metrics.get("since_last_pass_seconds") if entry.outcome else None
        ago = f"; last passing materialization {since:.0f} s ago" if since is not None else ""
        self.console.print(f"Freshness sensor (no run): clean_transactions "
                           f"{'[green]fresh[/]' if entry.passed else '[red]stale[/]'}{ago}.")

    # --- what an earlier run left ------------------------------------------------------------------------

    def earlier(self, day: str) -> dict[str, Any] | None:
        """The fraud model an earlier run recorded for `day` (its metadata, and the run), if `day` was scored."""
        if self.latest_materialization("scored_transactions", day) is None:
            return None
        model = self.latest_materialization("fraud_model", day)
        if model is None:
            return None
        metadata = {k: v.value for k, v in model.asset_materialization.metadata.items()}
        return {**metadata, "run": model.run_id[:8]}

    def print_earlier(self, day: str) -> bool:
        """Say what an earlier run did for `day`, if it scored it; True when so (the day is not run again)."""
        model = self.earlier(day)
        if model is None:
            return False
        self.console.print(
            f"{day} was already run on this instance (run {model['run']}): registered "
            f"{escape(str(model.get('model', '?')))}, verdict {escape(str(model.get('verdict', '?')))}, alias "
            f"{escape(str(model.get('promoted_to', '?')))}; scored. Not run again."
        )
        return True

    def kept_bad_batch(self) -> Any:
        """The quarantine manifest of the bad day's latest batch, if the guard already kept one."""
        source = f"dagster:clean_transactions[{BAD_DAY}]"
        kept = [m for m in self.store().list() if m.source == source]
        return kept[-1] if kept else None

    def latest_materialization(self, asset: str, day: str) -> Any:
        records = self.instance.fetch_materializations(
            self.dg.AssetRecordsFilter(asset_key=self.dg.AssetKey(asset), asset_partitions=[day]), limit=1
        ).records
        return records[0] if records else None

    def store(self) -> Any:
        from guardrails.quarantine import QuarantineStore

        return QuarantineStore(self.settings.quarantine_dir)

    # --- helpers -----------------------------------------------------------------------------------------

    def execute(self, day: str, *, defect: Defect | None, assets: list[Any] | None = None) -> Any:
        run_config: dict[str, Any] = dict(QUIET_RUN_CONFIG)
        if assets is None:  # the whole job, landing included
            run_config["ops"] = {"raw_transactions": {"config": {"defect": defect.value if defect else ""}}}
        # Library chatter (MLflow's "Created version ...") goes to demo.log, not into the story.
        with self.log.open("a") as log, contextlib.redirect_stderr(log):
            return self.job.execute_in_process(
                run_config=run_config,
                instance=self.instance,
                partition_key=day,
                asset_selection=assets,
                raise_on_error=False,
                tags={"guardrails/demo": "true"},
            )

    def print_steps(self, result: Any) -> None:
        failed = {e.step_key for e in result.all_events if e.is_step_failure}
        succeeded = {e.step_key for e in result.all_events if e.is_step_success}
        selected = result.dagster_run.asset_selection
        planned = {key.to_user_string() for key in selected} if selected else set(self.steps)
        marks = []
        for step in self.steps:
            if step in succeeded:
                marks.append(f"[green]✓ {step}[/]")
            elif step in failed:
                marks.append(f"[bold red]✗ {step}[/]")
            elif step in planned:
                marks.append(f"[dim]– {step} (not run)[/]")
        status = result.dagster_run.status.value
        colour = "green" if result.success else "red"
        self.console.print(f"run {result.run_id[:8]} [{colour}]{status}[/]:  " + "  ".join(marks))

    def print_checks(self, result: Any) -> None:
        table = Table("asset", "check", "result", "severity", "details", title="Asset checks")
        for evaluation in result.get_asset_check_evaluations():
            table.add_row(
                evaluation.asset_key.to_user_string(),
                evaluation.check_name,
                "[green]passed[/]" if evaluation.passed else "[red]failed[/]",
                evaluation.severity.value,
                evaluation.description or _compact(evaluation.metadata),
            )
        self.console.print(table)

    @staticmethod
    def metadata_of(result: Any, asset: str) -> dict[str, Any]:
        for materialization in result.get_asset_materialization_events():
            if materialization.asset_key.to_user_string() == asset:
                return {k: v.value for k, v in materialization.materialization.metadata.items()}
        return {}


def _short_ids(text: str) -> str:
    """Run ids (UUIDs) cut to their first 8 characters, as Dagster's UI shows them."""
    return re.sub(r"\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", r"\1", text)


def _yes_no(passed: bool | None) -> str:
    return {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}[passed]


def _compact(metadata: Any) -> str:
    return ", ".join(
        f"{k}={v.value:.3f}" if isinstance(v.value, float) else f"{k}={v.value}" for k, v in metadata.items()
    )


if __name__ == "__main__":
    sys.exit(main())
