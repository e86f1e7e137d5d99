"""The distribution as a user installs it: a wheel with `guardrails` only, a core that works without any extra,
and the [dagster] extra that makes a guarded asset run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest

import guardrails
from definitions.data import generate_transactions

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("packaging")]

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "expectations" / "transactions.odcs.yaml"
DAY = date(2026, 11, 20)
AS_OF = "2026-11-21T06:00:00+00:00"
EXTRA_MESSAGE = "guardrails.dagster needs the [dagster] extra: pip install 'pipeline-guardrails[dagster]'"

TINY_CONTRACT = """\
apiVersion: v3.0.2
kind: DataContract
id: tiny
version: 1.0.0
status: active
schema:
  - name: events
    properties:
      - name: id
        logicalType: integer
        required: true
"""

GUARDED_ASSET = """
import sys
import dagster as dg
import polars as pl
from guardrails.dagster import QuarantineResource, guarded_asset

@guarded_asset(contract=sys.argv[1])
def events() -> pl.DataFrame:
    return pl.DataFrame({"id": [1, 2, 3]})

result = dg.materialize([events], resources={"quarantine": QuarantineResource(location=sys.argv[2])})
[evaluation] = result.get_asset_check_evaluations()
print(result.success, evaluation.check_name, evaluation.passed)
"""


def _uv() -> str:
    """The uv next to this interpreter (`make test` installs it there), else the one on PATH."""
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    assert found, "uv is needed to build and install the wheel"
    return found


def _run(*command: str | Path, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run outside this checkout: no PYTHONPATH, so only what the wheel installed can be imported."""
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    if check:
        assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def _venv(where: Path, requirement: str) -> Path:
    """A fresh virtualenv at `where` with `requirement` installed; returns its bin directory."""
    _run(sys.executable, "-m", "venv", "--without-pip", where, cwd=where.parent)
    _run(_uv(), "pip", "install", "--quiet", "--python", where / "bin" / "python", requirement, cwd=where.parent)
    return where / "bin"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `uv build` makes from this checkout (sdist first, then the wheel from the sdist)."""
    out = tmp_path_factory.mktemp("dist")
    _run(_uv(), "build", "--quiet", "--out-dir", out, ROOT, cwd=out)
    [built] = out.glob("*.whl")
    return built


def test_wheel_ships_only_the_guardrails_package(wheel: Path) -> None:
    """The wheel's top-level names are `guardrails` and its dist-info (no `definitions`), with py.typed."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(f"pipeline_guardrails-{guardrails.__version__}.dist-info/METADATA").decode()
    assert {name.split("/")[0] for name in names} == {
        "guardrails",
        f"pipeline_guardrails-{guardrails.__version__}.dist-info",
    }
    assert "guardrails/py.typed" in names
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    core = [line for line in requires if "extra ==" not in line]
    assert core and not [line for line in core if "dagster" in line or "mlflow" in line]


def test_core_wheel_validates_without_any_extra(wheel: Path, tmp_path: Path) -> None:
    """With no extra, the CLI lints and validates a contract, and the Dagster adapter names its extra in one line."""
    bin_dir = _venv(tmp_path / "core", str(wheel))
    batch = tmp_path / "batch.parquet"
    generate_transactions(DAY, 500).write_parquet(batch)

    assert "validate" in _run(bin_dir / "guardrails", "--help", cwd=tmp_path).stdout
    version = _run(bin_dir / "guardrails", "--version", cwd=tmp_path).stdout.strip()
    assert version == f"guardrails {guardrails.__version__}"
    _run(bin_dir / "guardrails", "contract", "lint", CONTRACT, cwd=tmp_path)
    validated = _run(bin_dir / "guardrails", "validate", CONTRACT, batch, "--as-of", AS_OF, cwd=tmp_path)
    assert "passed" in validated.stdout

    for heavy in ("dagster", "mlflow", "great_expectations", "pandera", "sklearn", "pandas"):
        assert _run(bin_dir / "python", "-c", f"import {heavy}", cwd=tmp_path, check=False).returncode != 0, heavy
    adapter = _run(bin_dir / "python", "-c", "import guardrails.dagster", cwd=tmp_path, check=False)
    assert adapter.returncode != 0
    assert adapter.stderr.strip().splitlines()[-1] == f"ImportError: {EXTRA_MESSAGE}"


def test_dagster_extra_runs_a_guarded_asset(wheel: Path, tmp_path: Path) -> None:
    """With [dagster], a minimal guarded asset materializes and its contract check passes."""
    bin_dir = _venv(tmp_path / "dagster", f"pipeline-guardrails[dagster] @ {wheel.as_uri()}")
    contract = tmp_path / "tiny.odcs.yaml"
    contract.write_text(TINY_CONTRACT)
    script = tmp_path / "guarded.py"
    script.write_text(GUARDED_ASSET)

    result = _run(bin_dir / "python", script, contract, tmp_path / "quarantine", cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "True events_contract True"
