"""`guardrails history/incident --airflow` need only httpx: they run where Airflow is not installed, and say in one
line when the api-server does not answer, or when they are not given credentials."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

BLOCK_AIRFLOW = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name == "airflow" or name.startswith("airflow."):
            raise ImportError(f"blocked: {name}")
sys.meta_path.insert(0, _Block())
sys.argv = ["guardrails", *sys.argv[1:]]
from guardrails.cli import main
main()
"""


def _free_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _guardrails(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCK_AIRFLOW, *args], capture_output=True, text=True, timeout=120,
                          env=env)


@pytest.mark.parametrize("command", [["history", "warehouse/transactions"], ["incident"]])
def test_unreachable_airflow_without_airflow_installed(command: list[str], tmp_path) -> None:
    """With Airflow not importable, an api-server that is not there is one line naming its URL, exit 2."""
    url = _free_url()
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update({"GUARDRAILS_AIRFLOW_URL": url, "GUARDRAILS_AIRFLOW_TOKEN": "t0ken", "GUARDRAILS_STATE": str(tmp_path)})
    result = _guardrails(*command, env=env)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and url in result.stderr and "unreachable" in result.stderr
    assert "t0ken" not in result.stderr


def test_missing_credentials_are_named(tmp_path) -> None:
    """--airflow without a token or a user name and password: one line naming the variables to set, exit 2."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUARDRAILS_AIRFLOW_", "DAGSTER_HOME"))}
    result = _guardrails("history", "transactions", "--airflow", _free_url(), env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "GUARDRAILS_AIRFLOW_TOKEN" in result.stderr
