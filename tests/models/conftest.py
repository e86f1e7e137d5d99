"""Real MLflow registries for the model guard tests: a SQLite store per test, and one `mlflow server` process
on a Postgres backend per session.

Creating an MLflow SQLite schema takes seconds, so the session migrates one template database and every test
gets its own copy. The server starts in the background when the session begins (it takes tens of seconds to
import and migrate on a busy machine) and the server tests wait for it; it runs on a database of its own,
``guardrails_mlflow_<random>``, dropped at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
SERVER_START_TIMEOUT = 240


@pytest.fixture(scope="session")
def saved_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny pyfunc model (returns its first column) with a logged signature: amount double, n long, cat string."""
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    class FirstColumn(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):  # noqa: ANN001, ARG002
            return model_input.iloc[:, 0]

    example = pd.DataFrame({"amount": [1.5], "n": [1], "cat": ["a"]})
    path = tmp_path_factory.mktemp("model") / "first_column"
    mlflow.pyfunc.save_model(
        str(path),
        python_model=FirstColumn(),
        signature=infer_signature(example, example["amount"]),
        pip_requirements=[],
    )
    return path


@pytest.fixture(scope="session")
def sqlite_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One real SQLite-backed MLflow tracking and registry store for the session (tests use their own models).

    Creating the schema and the store's engine costs seconds per database, so tests share one file and stay
    apart by registered model name (`model_name`).
    """
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow_sqlite") / "mlflow.db"
    uri = f"sqlite:///{path}"
    MlflowClient(tracking_uri=uri, registry_uri=uri).search_registered_models()
    return uri


@pytest.fixture
def model_name(request: pytest.FixtureRequest) -> str:
    """A registered model name unique to this test (and to each Hypothesis example that adds a suffix)."""
    return f"{request.node.name[:80]}-{uuid.uuid4().hex[:6]}".replace("[", "_").replace("]", "_")


def register_versions(uri: str, name: str, source: Path, count: int) -> None:
    """Create registered model `name` with `count` READY versions of the saved model."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model(name)
    for _ in range(count):
        client.create_model_version(name, source=str(source))


def passed(run_id: str = "eval-run") -> "Verdict":  # noqa: F821 - imported lazily below
    from guardrails.models import Verdict, VerdictStatus

    return Verdict(status=VerdictStatus.PASSED, checks=("evaluation",), run_id=run_id,
                   at=datetime.now(UTC), reason="all checks passed")


def failed(reason: str = "evaluation failed", run_id: str = "eval-run") -> "Verdict":  # noqa: F821
    from guardrails.models import Verdict, VerdictStatus

    return Verdict(status=VerdictStatus.FAILED, checks=("evaluation",), run_id=run_id,
                   at=datetime.now(UTC), reason=reason)


# --- the real `mlflow server` on Postgres -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class MlflowServer:
    """A running `mlflow server` process group (the CLI, and the uvicorn process it spawns)."""

    process: subprocess.Popen
    url: str
    database: str
    log: Path

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout: float = SERVER_START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return
            if self.process.poll() is not None:
                pytest.fail(f"mlflow server exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.25)
        pytest.fail(f"mlflow server not healthy after {timeout}s:\n{self.log.read_text()[-3000:]}")

    def signal(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait(timeout=5)


def _admin_execute(statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE refuse to run inside one)."""
    import psycopg2

    connection = psycopg2.connect(PG_ADMIN_DSN)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def _start_server(tmp: Path) -> MlflowServer:
    database = f"guardrails_mlflow_{uuid.uuid4().hex[:10]}"
    _admin_execute(f"CREATE DATABASE {database}")
    port = free_port()
    log = tmp / "mlflow-server.log"
    env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "mlflow", "server",
                "--backend-store-uri", f"postgresql://postgres@127.0.0.1:5432/{database}",
                "--artifacts-destination", str(tmp / "artifacts"),
                "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, so stop() reaches the uvicorn child too
        )
    return MlflowServer(process=process, url=f"http://127.0.0.1:{port}", database=database, log=log)


def _drop(database: str) -> None:
    _admin_execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


_servers: list[MlflowServer] = []


def _ensure_server(config: pytest.Config) -> MlflowServer:
    if not _servers:
        tmp = Path(config._tmp_path_factory.mktemp("mlflow_server"))  # type: ignore[attr-defined]
        _servers.append(_start_server(tmp))
    return _servers[0]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the server as soon as a server test is collected, so its slow start overlaps the SQLite tests.

    Under xdist every worker collects every test, so there the server starts lazily in the worker that runs
    the (xdist-grouped) server tests instead.
    """
    here = Path(__file__).parent
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    if any(item.get_closest_marker("postgres") and here in item.path.parents for item in session.items):
        _ensure_server(session.config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the server (even when the session was interrupted) and drop its database."""
    while _servers:
        server = _servers.pop()
        server.stop()
        _drop(server.database)


@pytest.fixture(scope="session")
def mlflow_server(pytestconfig: pytest.Config) -> MlflowServer:
    """The session's `mlflow server` on its own Postgres database, healthy (stopped at session end)."""
    server = _ensure_server(pytestconfig)
    server.wait_ready()
    return server
