"""`make airflow-demo`, as the README shows it: the example DAG's good day, bad day and release, headless."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("airflow.sdk")

pytestmark = pytest.mark.xdist_group("airflow_demo")

ROOT = Path(__file__).resolve().parents[2]


def test_airflow_demo_tells_its_three_days_and_exits_0(tmp_path: Path) -> None:
    """The demo (what `make airflow-demo` runs) exits 0 only when every step did what it should: v1 promoted on the
    good day, the bad day quarantined with nothing written and promotion held, the release published to its
    target, and the re-run releasing the hold and promoting v2."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MLFLOW", "GUARDRAILS"))}
    env.update({"GUARDRAILS_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)})
    done = subprocess.run([sys.executable, "-m", "definitions.airflow_demo"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "not written" in done.stdout and "WRITTEN (wrong!)" not in done.stdout
    assert "held" in done.stdout
    assert (tmp_path / "home").is_dir()
