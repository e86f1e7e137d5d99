"""`guardrails history --airflow` needs only httpx: it runs where Airflow is not installed, and says in one line when
the api-server does not answer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


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


def test_unreachable_airflow_without_airflow_installed(tmp_path) -> None:
    """With Airflow not importable, an api-server that is not there is one line naming its URL, exit 2 (the incident
    command and missing credentials take the same path: tests/airflow/test_history_airflow.py)."""
    url = _free_url()
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update({"GUARDRAILS_AIRFLOW_URL": url, "GUARDRAILS_AIRFLOW_TOKEN": "t0ken", "GUARDRAILS_STATE": str(tmp_path)})
    result = _guardrails("history", "warehouse/transactions", env=env)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and url in result.stderr and "unreachable" in result.stderr
    assert "t0ken" not in result.stderr
