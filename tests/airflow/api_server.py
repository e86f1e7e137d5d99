"""A real ``airflow api-server`` on a free loopback port, reading the session's migrated metadata DB.

The server runs as its own process group against the same temporary ``AIRFLOW_HOME`` (`tests.airflow.home`) as
``dag.test()``, so a run the tests make in-process is visible through ``/api/v2`` at once. SimpleAuthManager with
one admin user whose password is written to a passwords file, so the client authenticates as a deployment would
(``POST /auth/token``). Started once per session by the one worker that owns the ``airflow`` xdist group; killed
with its process group at teardown. The startup time is printed (``-s``) and kept on `ApiServer.started_in`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from guardrails.airflow._rest import AirflowApi
from tests.airflow.home import HOME, ROOT

USERNAME = "guardrails-admin"
PASSWORD = "guardrails-admin-password"
STARTUP_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class ApiServer:
    """A running api-server: where it listens, how to log in, and how long it took to answer."""

    url: str
    username: str
    password: str
    started_in: float
    log: Path

    def client(self) -> AirflowApi:
        return AirflowApi(self.url, username=self.username, password=self.password)

    def env(self) -> dict[str, str]:
        """The ``GUARDRAILS_AIRFLOW_*`` variables that point the CLI and the tasks at this server."""
        return {"GUARDRAILS_AIRFLOW_URL": self.url, "GUARDRAILS_AIRFLOW_USERNAME": self.username,
                "GUARDRAILS_AIRFLOW_PASSWORD": self.password}


def free_port() -> int:
    """A loopback port nobody listens on now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env() -> dict[str, str]:
    """The api-server's environment: the test home, SimpleAuthManager with one admin user and a known password."""
    passwords = ROOT / "simple_auth_passwords.json"
    passwords.write_text(json.dumps({USERNAME: PASSWORD}))
    env = os.environ.copy()
    env.update({
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": "guardrails-tests-only-secret-0123456789abcdef",
        "AIRFLOW__API__EXPOSE_CONFIG": "False",
    })
    return env


@pytest.fixture(scope="session")
def api_server(airflow_db: Path) -> Iterator[ApiServer]:
    """A real api-server on the migrated test home (about 10-20 s to start on a shared machine), killed after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = ROOT / "api-server.log"
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1", "--apps", "core"],
            env=server_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"airflow api-server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() - started > STARTUP_SECONDS:
                pytest.fail(f"airflow api-server did not answer in {STARTUP_SECONDS:.0f} s:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.25)
        started_in = time.monotonic() - started
        print(f"\nairflow api-server answered after {started_in:.1f} s on {url}")
        yield ApiServer(url=url, username=USERNAME, password=PASSWORD, started_in=started_in, log=log)
    finally:
        _kill_group(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (uvicorn and its worker), SIGKILL what is left after 10 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
