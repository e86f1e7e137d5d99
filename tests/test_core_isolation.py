"""The core stands alone: it imports with Dagster and Airflow unavailable, and exports what it promises."""

import subprocess
import sys

import pytest

CORE_MODULES = [
    "guardrails",
    "guardrails.outcome",
    "guardrails.contract",
    "guardrails.validation",
    "guardrails.quarantine",
    "guardrails.profile",
    "guardrails.checks",
    "guardrails.models",
    "guardrails.incidents",
]

BLOCK_ADAPTER_HOSTS = """
import sys
for name in ("dagster", "dagster_webserver", "dagster_postgres", "airflow"):
    sys.modules[name] = None  # any import of it now raises ImportError
import importlib
for module in {modules!r}:
    importlib.import_module(module)
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("dagster", "airflow") and sys.modules[m] is not None)
assert not leaked, leaked
"""


def test_core_imports_without_dagster_or_airflow() -> None:
    """Every core module imports in a fresh interpreter where dagster and airflow cannot be imported."""
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_ADAPTER_HOSTS.format(modules=CORE_MODULES)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("module", CORE_MODULES)
def test_public_names_exist(module: str) -> None:
    """Every name a module lists in __all__ is really importable from it (the curated API has no dangling names)."""
    imported = __import__(module, fromlist=["*"])
    missing = [name for name in getattr(imported, "__all__", ()) if not hasattr(imported, name)]
    assert not missing
