"""`guardrails models ...` against a real SQLite MLflow store: tables, JSON and exit codes."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guardrails.cli import render
from guardrails.cli.models import EXIT_ERROR, EXIT_OK, EXIT_REFUSED, app
from tests.models.conftest import free_port, register_versions

runner = CliRunner()


@pytest.fixture
def env(sqlite_uri: str, saved_model_dir: Path, model_name: str) -> dict[str, str]:
    """A model with three versions (no verdicts yet), reached through MLFLOW_TRACKING_URI."""
    register_versions(sqlite_uri, model_name, saved_model_dir, 3)
    return {"MLFLOW_TRACKING_URI": sqlite_uri}


def invoke(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_cli_walks_through_verdict_promote_pin_unpin(
    env: dict[str, str], model_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verdicts, promotion, a pin that moves the alias back (a repeat is a no-op), history, documented exit codes."""
    monkeypatch.setattr(render.console, "width", 200)  # a wide terminal, so table cells are not folded
    for version in ("1", "2", "3"):
        assert invoke(env, "verdict", model_name, version, "--status", "passed", "--check", "evaluation")[0] == EXIT_OK
    assert invoke(env, "promote", model_name, "3", "--reason", "release")[0] == EXIT_OK

    code, out = invoke(env, "pin", model_name, "--reason", "bad batch", "--check", "contract", "--json")
    assert code == EXIT_OK
    pinned = json.loads(out)
    assert (pinned["status"], pinned["failing_version"], pinned["pin"]["version"]) == ("applied", 3, 2)
    code, out = invoke(env, "pin", model_name, "--reason", "bad batch again", "--json")  # defaults to the pin's v3
    assert code == EXIT_OK
    assert (json.loads(out)["status"], json.loads(out)["failing_version"]) == ("no_op", 3)

    code, out = invoke(env, "promote", model_name, "1")
    assert code == EXIT_REFUSED and "pinned on v2" in out

    code, out = invoke(env, "status", model_name, "--json")
    status = json.loads(out)
    assert status["alias_version"] == 2 and status["pinned"]
    assert [v["verdict"]["status"] for v in status["versions"]] == ["passed", "passed", "failed"]

    code, out = invoke(env, "status", model_name)
    assert code == EXIT_OK and "pinned on v2" in out and "champion" in out

    assert invoke(env, "unpin", model_name, "--reason", "fixed", "--by", "alice")[0] == EXIT_OK
    assert invoke(env, "unpin", model_name, "--reason", "again")[0] == EXIT_OK  # no-op

    code, out = invoke(env, "history", model_name, "--json")
    entries = json.loads(out)
    assert [(e["action"], e["from_version"], e["to_version"]) for e in entries] == [
        ("promote", None, 3),
        ("pin", 3, 2),
        ("unpin", 2, 2),
    ]
    assert entries[2]["by"] == "alice" and entries[1]["by"].startswith("cli:")
    code, out = invoke(env, "history", model_name)
    assert code == EXIT_OK and "bad batch" in out


def test_cli_pin_without_good_version_exits_refused(env: dict[str, str], model_name: str) -> None:
    """A pin with no passed version to fall back to exits 1 and says the alias was left alone."""
    invoke(env, "verdict", model_name, "3", "--status", "passed")
    invoke(env, "promote", model_name, "3")
    code, out = invoke(env, "pin", model_name, "--failing-version", "3", "--reason", "bad")
    assert code == EXIT_REFUSED
    assert "left on v3" in out


def test_cli_without_a_reachable_server_exits_2() -> None:
    """No tracking URI, or nothing listening there, is a could-not-run with one clear line and exit code 2."""
    code, out = invoke({"MLFLOW_TRACKING_URI": ""}, "status", "m")
    assert code == EXIT_ERROR and "MLFLOW_TRACKING_URI" in out
    code, out = invoke({}, "status", "m", "--tracking-uri", f"http://127.0.0.1:{free_port()}", "--timeout", "1")
    assert code == EXIT_ERROR and "get_model" in out
    code, out = invoke({}, "pin", "m", "--failing-version", "1", "--reason", "x",
                       "--tracking-uri", f"http://127.0.0.1:{free_port()}", "--timeout", "1", "--json")
    assert code == EXIT_ERROR and json.loads(out)["status"] == "error"


def test_cli_shows_hold_and_lineage_and_unholds_and_reconciles(
    env: dict[str, str], sqlite_uri: str, model_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`status` shows the hold and lineage cleanliness, `lineage --json` the batches, `unhold` releases the hold,
    `reconcile` records a hand move and moves the alias off a condemned version."""
    from mlflow import MlflowClient

    from guardrails.models import BatchRef, Lineage, MlflowModelRegistry, ModelGuard

    monkeypatch.setattr(render.console, "width", 200)
    guard = ModelGuard(MlflowModelRegistry(sqlite_uri), model_name)
    day = BatchRef(asset="clean_transactions", partition="2026-11-02", batch_id="b2", contract_version="1.0.0")
    for version in (1, 2, 3):
        invoke(env, "verdict", model_name, str(version), "--status", "passed")
    guard.record_lineage(3, Lineage(trained_on=(day,)))
    assert invoke(env, "promote", model_name, "3")[0] == EXIT_OK
    guard.hold("contract failed", check="clean_transactions:contract", partitions=["2026-11-03"], incident="INC-7")

    code, out = invoke(env, "status", model_name)
    assert code == EXIT_OK and "held" in out and "clean_transactions:contract[2026-11-03]" in out
    assert "clean (1 batch)" in out and "not recorded" in out
    code, out = invoke(env, "promote", model_name, "2")
    assert code == EXIT_REFUSED and "held" in out
    code, out = invoke(env, "lineage", model_name, "3", "--json")
    assert code == EXIT_OK and json.loads(out)["lineage"]["trained_on"][0]["batch_id"] == "b2"
    code, out = invoke(env, "unhold", model_name, "--reason", "upstream fixed", "--json")
    assert code == EXIT_OK and json.loads(out)["released"]["incident"] == "INC-7"

    guard.condemn(day, reason="drift after publish", check="drift")  # moves the alias 3 -> 2
    MlflowClient(tracking_uri=sqlite_uri, registry_uri=sqlite_uri).set_registered_model_alias(model_name, "champion",
                                                                                              "3")
    code, out = invoke(env, "lineage", model_name, "3")
    assert code == EXIT_OK and "UNCLEAN" in out and "yes" in out
    code, out = invoke(env, "reconcile", model_name, "--json")
    result = json.loads(out)
    assert code == EXIT_OK and result["observed"]["to_version"] == 3 and result["move"]["to_version"] == 2
    code, out = invoke(env, "reconcile", model_name)
    assert code == EXIT_OK and "no_op" in out
    code, out = invoke(env, "verdict", model_name, "2", "--status", "failed", "--reason", "canary", "--json")
    assert code == EXIT_OK and json.loads(out)["move"]["to_version"] == 1


def held_for(directory: Path, model: str, seconds: float) -> threading.Thread:
    """Another guard (a thread: the lock is reentrant per thread) holds `model`'s file lock in `directory`."""
    from guardrails.models._lock import FileModelLock

    taken = threading.Event()

    def hold() -> None:
        with FileModelLock(directory).acquire(model, timeout=5):
            taken.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(5)
    return thread


def test_cli_takes_the_lock_named_by_lock_url_or_its_env_var(
    env: dict[str, str], model_name: str, tmp_path: Path
) -> None:
    """`--lock-url DIR` (or GUARDRAILS_MODEL_LOCK_URL) makes `verdict` and `promote` wait while another guard holds
    the model's lock there, then act."""
    locks = tmp_path / "locks"
    holder = held_for(locks, model_name, 1.0)
    started = time.monotonic()
    code, out = invoke(env, "verdict", model_name, "2", "--status", "passed", "--lock-url", str(locks))
    assert code == EXIT_OK, out
    assert time.monotonic() - started >= 0.8
    holder.join(5)
    holder = held_for(locks, model_name, 1.0)
    started = time.monotonic()
    code, out = invoke(dict(env, GUARDRAILS_MODEL_LOCK_URL=str(locks)), "promote", model_name, "2")
    assert code == EXIT_OK, out
    assert time.monotonic() - started >= 0.8
    holder.join(5)
