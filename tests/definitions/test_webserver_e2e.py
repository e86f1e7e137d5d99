"""End to end through the real Dagster webserver: launch the bad day over GraphQL, read the failed check back."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from definitions.data import Defect, defect_rows
from definitions.settings import REPOSITORY_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("webserver")]  # one webserver at a time (test_browser.py)

BAD_DAY = "2026-11-03"
ROWS = 1_000
BAD_DAY_CONFIG = {"defect": Defect.OUT_OF_RANGE_AMOUNTS.value, "rows": ROWS}
DOWNSTREAM = ("transaction_features", "fraud_model", "scored_transactions")
DEADLINE_SECONDS = 180
"""The whole test (server start, code location load, run, read back) must finish within this."""
TERMINAL_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}

WORKSPACE_QUERY = """
query { workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""
LAUNCH_RUN = """
mutation Launch($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
  }
}
"""
RUN_STATUS = """
query Run($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { status stepStats { stepKey status } } } }
"""
CHECK_EXECUTIONS = """
query Checks($assetKey: AssetKeyInput!, $checkName: String!) {
  assetCheckExecutions(assetKey: $assetKey, checkName: $checkName, limit: 10) {
    runId status
    evaluation {
      success severity description
      metadataEntries {
        label
        ... on TextMetadataEntry { text }
        ... on IntMetadataEntry { intValue }
        ... on JsonMetadataEntry { jsonString }
      }
    }
  }
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Webserver:
    """A `dagster-webserver` process group serving workspace.yaml, and a tiny GraphQL client for it."""

    def __init__(self, dagster_home: Path, demo_home: Path, log: Path) -> None:
        self.port = free_port()
        self.log = log
        env = {
            **os.environ,
            "DAGSTER_HOME": str(dagster_home),
            "GUARDRAILS_HOME": str(demo_home),
            "MLFLOW_TRACKING_URI": f"sqlite:///{demo_home / 'mlflow.db'}",
        }
        env.pop("GUARDRAILS_DEMO_DEFECT", None)
        webserver = Path(sys.executable).with_name("dagster-webserver")
        self.process = subprocess.Popen(
            [str(webserver), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(self.port)],
            cwd=REPOSITORY_ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the code server and run workers die with it
        )

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.load(response)
        assert "errors" not in payload, payload["errors"]
        return payload["data"]

    def wait_until_loaded(self, deadline: float) -> None:
        """Poll until the code location is loaded; fail with the server log if it errors or time runs out."""
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"webserver exited:\n{self.log.read_text()[-3000:]}"
            try:
                entries = self.graphql(WORKSPACE_QUERY)["workspaceOrError"]["locationEntries"]
            except (urllib.error.URLError, ConnectionError):
                time.sleep(1)
                continue
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                errors = [e["locationOrLoadError"] for e in entries]
                assert all(error["__typename"] != "PythonError" for error in errors), errors
                return
            time.sleep(1)
        pytest.fail(f"the code location did not load in time:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """Terminate the whole process group, then kill whatever is left."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


@pytest.fixture
def webserver(tmp_path: Path) -> Iterator[Webserver]:
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    # SQLite storage (the default under DAGSTER_HOME); runs start at once, no daemon needed to dequeue them.
    (dagster_home / "dagster.yaml").write_text(
        "run_coordinator:\n"
        "  module: dagster._core.run_coordinator\n"
        "  class: DefaultRunCoordinator\n"
        "telemetry:\n"
        "  enabled: false\n"
    )
    server = Webserver(dagster_home, tmp_path / "home", tmp_path / "webserver.log")
    try:
        yield server
    finally:
        server.stop()


def test_bad_day_launched_over_graphql_shows_the_failed_contract_check(webserver: Webserver) -> None:
    """A bad-day run launched through the webserver fails at the guard, and GraphQL returns the failed check."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    webserver.wait_until_loaded(deadline)

    launched = webserver.graphql(
        LAUNCH_RUN,
        {
            "executionParams": {
                "selector": {
                    "repositoryLocationName": "fraud_detection",
                    "repositoryName": "__repository__",
                    "jobName": "daily_pipeline",
                },
                "runConfigData": {"ops": {"raw_transactions": {"config": BAD_DAY_CONFIG}}},
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": BAD_DAY}]},
            }
        },
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = webserver.graphql(RUN_STATUS, {"runId": run_id})["runOrError"]
        if run.get("status") in TERMINAL_RUN_STATUSES:
            break
        time.sleep(1)
    assert run.get("status") == "FAILURE", (run, webserver.log.read_text()[-3000:])
    steps = {s["stepKey"]: s["status"] for s in run["stepStats"]}
    assert steps["raw_transactions"] == "SUCCESS" and steps["clean_transactions"] == "FAILURE"
    assert all(steps.get(key) in (None, "SKIPPED") for key in DOWNSTREAM)

    executions = webserver.graphql(
        CHECK_EXECUTIONS, {"assetKey": {"path": ["clean_transactions"]}, "checkName": "transactions_contract"}
    )["assetCheckExecutions"]
    evaluated = [e for e in executions if e["runId"] == run_id and e["evaluation"]]
    assert evaluated, executions
    evaluation = evaluated[0]["evaluation"]
    assert evaluation["success"] is False
    assert evaluation["severity"] == "ERROR"
    metadata = {m["label"]: m for m in evaluation["metadataEntries"]}
    assert metadata["guardrails/status"]["text"] == "failed"
    assert metadata["guardrails/batch_id"]["text"]
    outcome = json.loads(metadata["guardrails/outcome"]["jsonString"])
    failed = {rule["rule_id"]: rule["failing_rows"] for rule in outcome["rules"] if rule["status"] != "passed"}
    assert failed.get("amount.range") == defect_rows(ROWS, Defect.OUT_OF_RANGE_AMOUNTS)
