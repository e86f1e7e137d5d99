"""The canary of the example: a candidate fraud model serves a share of live traffic before it may take over.

    @champion ──▶ control arm ─┐
                                ├─▶ canary_traffic ──[canary]──▶ canary_guard sensor ──▶ ModelGuard.judge_canary
    @challenger ─▶ candidate arm┘   (per-unit log,                 fail: candidate failed, @challenger removed
                                     delayed outcomes)             pass: candidate promoted to @champion
                                                                   inconclusive / could not run: nothing moves

Serving routes by alias: requests go to ``@champion`` or, for the candidate's share, to ``@challenger``
(`ModelGuard.start_canary` points it at the candidate and makes its promotion wait for a canary pass). Each
materialization of `canary_traffic` is one look: it serves another `CanaryConfig.units` transactions (simulated:
the candidate's true effect is `CanaryConfig.candidate_effect`) and rewrites the canary's cumulative per-unit log,
one row per transaction: the arm (``variant``), the version that served it (``model_version``), whether the
analyst clicked the alert (``clicked``), how many transactions it flagged and how many of those were fraud
(``flagged``, ``true_positive``), the latency, and whether the outcome has matured yet (labels arrive with a
delay, so the newest units do not count until a later look). The `canary` check judges that log with
``expectations/fraud_model.canary.yaml`` and names the candidate's version; the `canary_guard` sensor acts on its
verdict through the model guard.
"""

# No `from __future__ import annotations` here: Dagster reads the annotations of asset functions.
import hashlib
from datetime import UTC, datetime, timedelta

import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from definitions.resources import ModelRegistry, ServingLog
from definitions.settings import DemoSettings
from guardrails.dagster.ml import build_canary_check
from guardrails.dagster.models import build_model_guard_sensor
from guardrails.models import DEFAULT_CHALLENGER

CANARY_SPEC = DemoSettings.from_env().contracts_dir / "fraud_model.canary.yaml"
CANARY_LOG = "canary"
"""The serving log's name for the canary's cumulative per-unit log (``$GUARDRAILS_HOME/serving/canary.parquet``)."""
CANARY_START = datetime(2026, 11, 4, tzinfo=UTC)
"""When the example's canaries start serving (simulated clock; one look per hour after it)."""
LOOK = timedelta(hours=1)
OUTCOME_DELAY = timedelta(minutes=6)
"""Mean delay before a unit's outcome (click, confirmed fraud) is known."""
CANDIDATE_SHARE = 0.5
GROUP = "canary"
"""Its own group: the daily pipeline (the ``fraud_detection`` group) never serves canary looks."""


class CanaryConfig(dg.Config):
    candidate_effect: float = Field(
        default=0.0, ge=-0.9, le=0.9,
        description="The candidate's true effect on every metric, as a share (-0.15: 15% worse CTR and precision, "
        "15% slower); the simulation of live traffic draws from it.")
    units: int = Field(default=40_000, ge=1, description="Transactions served in this look (both arms).")


def simulate_look(units: int, *, effect: float, control: int, candidate: int, look: int, seed: int) -> pl.DataFrame:
    """One look of live traffic: `units` transactions split between the arms, with outcomes and their delays.

    Example:
        >>> simulate_look(4, effect=0.0, control=1, candidate=2, look=1, seed=0).columns[:4]
        ['unit_id', 'variant', 'model_version', 'served_at']
    """
    rng = np.random.default_rng(seed)
    on_candidate = rng.random(units) < CANDIDATE_SHARE
    factor = np.where(on_candidate, 1.0 + effect, 1.0)
    flagged = rng.poisson(0.3, units)
    start = CANARY_START + (look - 1) * LOOK
    offsets = np.sort(rng.random(units)) * LOOK.total_seconds()
    frame = pl.DataFrame({
        "variant": np.where(on_candidate, "candidate", "control"),
        "model_version": np.where(on_candidate, candidate, control),
        "offset_us": (offsets * 1e6).astype(np.int64),
        "outcome_delay_s": rng.exponential(OUTCOME_DELAY.total_seconds(), units),
        "clicked": rng.random(units) < 0.05 * factor,
        "flagged": flagged,
        "true_positive": rng.binomial(flagged, np.clip(0.6 * factor, 0.0, 1.0)),
        "latency_ms": np.round(rng.gamma(4.0, 20.0, units) / factor, 1),
    })
    return frame.select(
        pl.format("l{}-{}", pl.lit(look), pl.int_range(units)).alias("unit_id"),
        "variant", "model_version",
        (pl.lit(start) + pl.duration(microseconds=pl.col("offset_us"))).alias("served_at"),
        pl.exclude("variant", "model_version", "offset_us"),
    )


def matured_as_of(log: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """The log with ``matured`` recomputed: a unit counts once its outcome delay has passed by `as_of`."""
    ready = pl.col("served_at") + pl.duration(seconds=pl.col("outcome_delay_s")) <= pl.lit(as_of)
    return log.with_columns(matured=ready)


def look_seed(candidate: int, look: int) -> int:
    return int.from_bytes(hashlib.sha256(f"canary/{candidate}/{look}".encode()).digest()[:4], "big")


@dg.asset(group_name=GROUP, kinds={"parquet"})
def canary_traffic(context: dg.AssetExecutionContext, config: CanaryConfig, model_registry: ModelRegistry,
                   serving_log: ServingLog) -> dg.MaterializeResult:
    """Serve one more look of traffic split between ``@champion`` and ``@challenger``; rewrite the canary's log.

    With no challenger set, no candidate is serving: the log is left as it is (the check judges it unchanged).
    """
    guard = model_registry.get_guard(actor=f"dagster:run/{context.run.run_id[:8]}")
    aliases = guard.status().aliases
    control, candidate = aliases.get(model_registry.alias), aliases.get(DEFAULT_CHALLENGER)
    if control is None or candidate is None:
        context.log.info("no candidate serving (no @challenger): the canary log is unchanged")
        return dg.MaterializeResult(metadata={"serving": "champion only", "look": 0})
    previous = serving_log.read(CANARY_LOG) if serving_log.path_for(CANARY_LOG).exists() else None
    if previous is not None and candidate not in previous.filter(variant="candidate")["model_version"].to_list()[:1]:
        previous = None  # a new candidate: a new canary, judged on its own units only
    look = 1 + (previous["unit_id"].str.extract(r"^l(\d+)-").cast(pl.Int64).max() if previous is not None else 0)
    new = simulate_look(config.units, effect=config.candidate_effect, control=control, candidate=candidate,
                        look=look, seed=look_seed(candidate, look))
    log = pl.concat([previous.drop("matured"), new]) if previous is not None else new
    log = matured_as_of(log, CANARY_START + look * LOOK)
    path = serving_log.write(CANARY_LOG, log)
    return dg.MaterializeResult(metadata={
        "serving": f"@champion v{control} (control), @challenger v{candidate} (candidate)",
        "look": look, "units": log.height, "units_matured": int(log["matured"].sum()),
        "path": dg.MetadataValue.path(str(path)),
    })


def read_canary_log(context: dg.AssetCheckExecutionContext) -> pl.DataFrame:
    """The canary's cumulative per-unit log, as the last look wrote it."""
    return context.resources.serving_log.read(CANARY_LOG)


canary_check = build_canary_check(
    canary_traffic, spec=CANARY_SPEC, observations=read_canary_log, required_resource_keys=["serving_log"],
    version_column="model_version", challenger_alias=DEFAULT_CHALLENGER,
)

canary_guard_sensor = build_model_guard_sensor(
    model_checks=[canary_check.check_key], model_asset=canary_traffic.key, name="canary_guard",
)
"""Acts on each canary verdict: fail -> the candidate fails and stops serving; pass -> it is promoted."""

canary_job = dg.define_asset_job("canary_look", selection=dg.AssetSelection.assets(canary_traffic),
                                 description="One look of the canary: serve more traffic, judge the candidate.")

CANARY_ASSETS = [canary_traffic]
CANARY_CHECKS = [canary_check]
CANARY_SENSORS = [canary_guard_sensor]
CANARY_JOBS = [canary_job]
