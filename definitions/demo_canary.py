"""The demo's canary chapter: a worse candidate is stopped, a better one promoted.

Two candidates of the fraud model are registered (from the champion's artifacts: the simulation decides how good
each one is) and each serves half of the traffic under ``@challenger``. Every look serves another
`LOOK_UNITS` transactions (`definitions.canary.canary_traffic`), the `canary` check judges the cumulative log with
anytime-valid confidence sequences, and the `canary_guard` sensor ticks (as the daemon would) and acts through
the model guard:

- the worse candidate (15% worse on every metric) fails at the first look: it is tagged failed and
  ``@challenger`` is removed from it, so no more traffic reaches it; ``@champion`` never moves;
- the better candidate (10% better) is inconclusive at the first look (nothing moves, it keeps serving) and
  passes at the second: it is promoted to ``@champion`` and ``@challenger`` is removed.

Running the demo again finds both candidates judged (the ``guardrails.demo.canary`` version tag names them) and
prints what it found: no new version, look or alias move.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

CANDIDATE_TAG = "guardrails.demo.canary"
"""Version tag naming the demo's candidates (``worse`` / ``better``), so a second run finds them."""
CANDIDATES = (("worse", -0.15), ("better", 0.10))
LOOK_UNITS = 40_000
MAX_LOOKS = 4


def canary_chapter(demo: Any) -> bool:
    """Chapter 6; True when the worse candidate was stopped and the better one promoted."""
    from definitions.canary import canary_guard_sensor
    from guardrails.models import CANARY_CHECK, DEFAULT_CHALLENGER, check_tag

    console = demo.console
    console.rule("[bold]6. A canary: a worse candidate is stopped, a better one promoted")
    guard = demo.guard()
    client = _client(demo)
    ok = True
    for label, effect in CANDIDATES:
        version = _candidate(client, guard, label)
        tags = client.get_model_version(guard.name, str(version)).tags
        judged = tags.get(check_tag(CANARY_CHECK))
        if judged in ("pass", "fail") and guard.status().aliases.get(DEFAULT_CHALLENGER) != version:
            console.print(f"The {label} candidate v{version} was already judged on this instance: canary "
                          f"[bold]{judged}[/]. Not served again.")
        else:
            _serve(demo, guard, version, label, effect)
        ok &= _expected(demo, guard, version, label)
    sensor = demo.defs.resolve_sensor_def(canary_guard_sensor.name)
    console.print(f"Alias history of {guard.name} (canary entries, {sensor.name} and the guard):")
    for move in [m for m in guard.history() if m.action.value in ("challenge", "retire")
                 or (m.check or "").endswith(CANARY_CHECK)]:
        console.print(f"  #{move.seq} {move.action.value:9} @{move.alias}: {_v(move.from_version)} -> "
                      f"{_v(move.to_version)}  [dim]{escape(_short(move.reason))}[/]")
    return ok


def _serve(demo: Any, guard: Any, version: int, label: str, effect: float) -> None:
    from definitions.canary import canary_guard_sensor

    console = demo.console
    started = guard.start_canary(version, reason=f"demo: the {label} candidate serves half of the traffic")
    console.print(f"[bold]{guard.name} v{version}[/] (the {label} candidate): {escape(started.message)}.")
    sensor = demo.defs.resolve_sensor_def(canary_guard_sensor.name)
    for look in range(1, MAX_LOOKS + 1):
        result = _look(demo, effect)
        evaluation = next((e for e in result.get_asset_check_evaluations() if e.check_name == "canary"), None)
        if evaluation is None:
            console.print("[red]The canary check did not run.[/]")
            return
        verdict = evaluation.metadata["guardrails/canary_verdict"].value
        _print_metrics(demo, look, evaluation, verdict)
        demo.tick(sensor)
        last = [m for m in guard.history() if m.check and m.check.endswith("canary")][-1:]
        status = guard.status()
        if verdict in ("pass", "fail"):
            moved = f" ({last[0].action.value} {_v(last[0].from_version)} -> {_v(last[0].to_version)})" if last else ""
            console.print(f"Sensor [bold]{sensor.name}[/] ticked: @{guard.alias} on {_v(status.alias_version)}"
                          f"{moved}; @challenger {_v(status.aliases.get('challenger'))}.")
            return
        console.print(f"Sensor [bold]{sensor.name}[/] ticked: no verdict yet, nothing moves; v{version} keeps "
                      "serving under @challenger.")


def _look(demo: Any, effect: float) -> Any:
    import contextlib

    from definitions.canary import canary_job
    from definitions.demo import QUIET_RUN_CONFIG

    job = demo.defs.resolve_job_def(canary_job.name)
    config = {"ops": {"canary_traffic": {"config": {"candidate_effect": effect, "units": LOOK_UNITS}}},
              **QUIET_RUN_CONFIG}
    with demo.log.open("a") as log, contextlib.redirect_stderr(log):
        return job.execute_in_process(run_config=config, instance=demo.instance, raise_on_error=False,
                                      tags={"guardrails/demo": "true"})


def _print_metrics(demo: Any, look: int, evaluation: Any, verdict: str) -> None:
    table = Table("metric", "verdict", "control", "candidate", "Δ (seq. interval)", "threshold", "units",
                  title=f"Canary look {look}: [bold]{verdict}[/]")
    for row in evaluation.metadata["guardrails/canary_metrics"].value.records:
        data = row.data
        colour = {"pass": "green", "fail": "red"}.get(data["verdict"], "yellow")
        table.add_row(data["metric"] + (" (critical)" if data["critical"] else ""),
                      f"[{colour}]{data['verdict']}[/]", _f(data["control"]), _f(data["candidate"]),
                      f"{_f(data['delta'])} [{_f(data['sequential_lower'])}, {_f(data['sequential_upper'])}]",
                      _f(data["threshold"]), f"{data['units']:,}")
    demo.console.print(table)


def _expected(demo: Any, guard: Any, version: int, label: str) -> bool:
    status = guard.status()
    state = status.version(version)
    serving = status.aliases.get("challenger") == version
    if label == "worse":
        ok = state is not None and state.failed and not serving and status.alias_version != version
        what = f"v{version} failed its canary and serves no traffic; @{guard.alias} is on {_v(status.alias_version)}"
    else:
        ok = status.alias_version == version and not serving
        what = f"v{version} passed its canary and is @{guard.alias}"
    demo.console.print(("[green]" if ok else "[red]unexpected: ") + what + "[/]")
    return ok


def _candidate(client: Any, guard: Any, label: str) -> int:
    """The demo's `label` candidate: found by its tag, else registered from the champion's artifacts."""
    found = client.search_model_versions(f"name='{guard.name}' and tags.`{CANDIDATE_TAG}`='{label}'")
    if found:
        return int(found[0].version)
    champion = client.get_model_version_by_alias(guard.name, guard.alias)
    created = client.create_model_version(guard.name, source=champion.source, run_id=champion.run_id,
                                          tags={CANDIDATE_TAG: label},
                                          description=f"demo: the {label} canary candidate")
    return int(created.version)


def _client(demo: Any) -> Any:
    from mlflow import MlflowClient

    uri = demo.settings.tracking_uri
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _v(version: int | None) -> str:
    return f"v{version}" if version is not None else "(none)"


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
